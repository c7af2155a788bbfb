// Upload with progress: the bytes sent (XMLHttpRequest's upload events), then the import's result per batch.
"use strict";
(function () {
  const form = document.getElementById("upload-form");
  if (!form) return;
  const T = zhuisu.text, el = zhuisu.el;
  const bar = document.getElementById("upload-progress"), percent = document.getElementById("upload-percent");
  const status = document.getElementById("upload-status");

  function fill(text, values) { return text.replace(/\{(\w+)\}/g, (_, k) => values[k]); }
  function show(done) {
    const rows = done.batches.map((b) => el("li", {}, "#" + b.batch + " " + b.source + ": " +
      (b.skipped ? T.skipped : fill(T.added, { n: b.nodes_added, e: b.edges_added }))));
    if (done.extraction) rows.push(el("li", {}, "#" + done.extraction.batch + " " + done.extraction.source + ": " +
      fill(T.added, { n: done.extraction.nodes_added, e: done.extraction.edges_added })));
    status.replaceChildren(el("p", { class: "ok", id: "upload-done", text: T.done }), el("ul", {}, ...rows));
  }

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const data = new FormData(form);
    if (!document.getElementById("nlp").checked) data.set("nlp", "false");
    if (!document.getElementById("mapping").value) data.delete("mapping");
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.responseType = "json";
    bar.value = 0; percent.textContent = "0%"; status.replaceChildren();
    xhr.upload.addEventListener("progress", (p) => {
      if (!p.lengthComputable) return;
      const v = Math.round((p.loaded / p.total) * 100);
      bar.value = v; percent.textContent = v + "%";
    });
    xhr.upload.addEventListener("load", () => {
      bar.value = 100; percent.textContent = "100%";
      status.replaceChildren(el("p", { text: T.processing }));
    });
    xhr.addEventListener("load", () => {
      const body = xhr.response || {};
      if (xhr.status >= 200 && xhr.status < 300) show(body);
      else status.replaceChildren(el("p", { class: "bad", role: "alert", id: "upload-failed",
                                            text: T.failed + ": " + (body.where ? body.where + ": " : "") + (body.detail || xhr.status) }));
    });
    xhr.addEventListener("error", () => status.replaceChildren(el("p", { class: "bad", role: "alert", text: T.failed })));
    xhr.send(data);
  });
})();

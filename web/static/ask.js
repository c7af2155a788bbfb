// The assistant's chat: questions go to /ask.json (the API's own /api/v1/ask handler); citations link to entities.
"use strict";
(function () {
  const form = document.getElementById("ask-form");
  if (!form) return;
  const T = zhuisu.text, el = zhuisu.el;
  const chat = document.getElementById("chat"), box = document.getElementById("question");
  let session = sessionStorage.getItem("zhuisu-session") || newSession();

  function newSession() {
    const id = "web-" + (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random());
    sessionStorage.setItem("zhuisu-session", id);
    return id;
  }

  function answer(a) {
    const li = el("li", { class: "bot" + (a.refused ? " refused" : "") }, a.answer);
    if (a.citations && a.citations.length) {
      li.append(el("p", { class: "muted", text: T.citations }));
      li.append(el("ol", { class: "citations" }, ...a.citations.map((c) =>
        el("li", {}, el("a", { href: zhuisu.entityUrl(c.id), text: c.id }), c.text ? " — " + c.text : ""))));
    }
    if (a.clarify && a.clarify.length) {
      li.append(el("ul", { class: "citations" }, ...a.clarify.map((c) => el("li", { text: c }))));
    }
    return li;
  }

  async function ask(question) {
    chat.append(el("li", { class: "me", text: question }));
    const waiting = el("li", { class: "bot muted", text: T.thinking });
    chat.append(waiting);
    const r = await fetch("/ask.json", { method: "POST", headers: { "Content-Type": "application/json" },
                                         body: JSON.stringify({ question: question, session: session }) });
    const body = await r.json().catch(() => ({}));
    waiting.replaceWith(r.ok ? answer(body) : el("li", { class: "bot refused", role: "alert",
                                                          text: body.detail || T.error }));
    chat.lastElementChild.scrollIntoView({ block: "nearest" });
  }

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const q = box.value.trim();
    if (!q) return;
    box.value = "";
    ask(q).finally(() => box.focus());
  });
  box.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit(); }
  });
  document.getElementById("ask-new").addEventListener("click", () => {
    session = newSession(); chat.replaceChildren(); box.focus();
  });
})();

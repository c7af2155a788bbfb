// zhuisu workbench: the search box's suggestion list (an ARIA combobox: ↑/↓ choose, Enter opens, Esc closes).
"use strict";
window.zhuisu = window.zhuisu || {};
zhuisu.text = JSON.parse(document.getElementById("i18n").textContent);
zhuisu.lang = document.body.dataset.lang;
zhuisu.entityUrl = (uid) => "/entity?uid=" + encodeURIComponent(uid);
zhuisu.el = function (tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined) continue;
    if (k === "text") node.textContent = v; else node.setAttribute(k, v);
  }
  for (const child of children) node.append(child);
  return node;
};

(function () {
  const input = document.getElementById("q");
  const list = document.getElementById("q-list");
  if (!input || !list) return;
  let items = [], active = -1, timer = null, asked = "";

  function close() {
    list.hidden = true; input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant"); active = -1;
  }
  function mark(i) {
    active = i;
    [...list.children].forEach((li, j) => li.setAttribute("aria-selected", j === i ? "true" : "false"));
    if (i >= 0 && list.children[i]) {
      input.setAttribute("aria-activedescendant", list.children[i].id);
      list.children[i].scrollIntoView({ block: "nearest" });
    } else input.removeAttribute("aria-activedescendant");
  }
  function show(found) {
    items = found; list.replaceChildren();
    if (!found.length) {
      list.append(zhuisu.el("li", { role: "option", "aria-disabled": "true", id: "q-none", text: zhuisu.text.no_match }));
    }
    found.forEach((s, i) => {
      const li = zhuisu.el("li", { role: "option", id: "q-opt-" + i, "aria-selected": "false" },
        s.name ? s.name + " " : "", zhuisu.el("small", { text: s.uid + " · " + s.kind_label }));
      li.addEventListener("mousedown", (e) => { e.preventDefault(); go(i); });
      list.append(li);
    });
    list.hidden = false; input.setAttribute("aria-expanded", "true"); mark(-1);
  }
  function go(i) { if (items[i]) location.href = zhuisu.entityUrl(items[i].uid); }
  async function fetchSuggestions() {
    const q = input.value.trim();
    if (!q) { close(); return; }
    if (q === asked) return;
    asked = q;
    const r = await fetch("/search.json?q=" + encodeURIComponent(q) + "&lang=" + zhuisu.lang);
    if (r.ok && input.value.trim() === q) show(await r.json());
  }
  input.addEventListener("input", () => { clearTimeout(timer); asked = ""; timer = setTimeout(fetchSuggestions, 180); });
  input.addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown") {
      e.preventDefault();
      if (list.hidden) { asked = ""; fetchSuggestions(); return; }
      mark(Math.min(active + 1, items.length - 1));
    } else if (e.key === "ArrowUp") {
      e.preventDefault(); mark(Math.max(active - 1, -1));
    } else if (e.key === "Enter" && active >= 0 && !list.hidden) {
      e.preventDefault(); go(active);
    } else if (e.key === "Escape") {
      close();
    }
  });
  input.addEventListener("blur", () => setTimeout(close, 150));
})();

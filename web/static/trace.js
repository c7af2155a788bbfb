// The trace graph: vis-network (shipped by pyvis) fed by /trace/graph.json; groups expand and collapse.
"use strict";
(function () {
  const box = document.getElementById("graph");
  if (!box || !window.vis) return;
  const T = zhuisu.text, el = zhuisu.el;
  let expanded = null, network = null, nodes = null;

  async function load() {
    const url = new URL(box.dataset.src, location.href);
    if (expanded !== null) url.searchParams.set("expand", [...expanded].join(","));
    box.setAttribute("aria-busy", "true");
    const r = await fetch(url);
    box.setAttribute("aria-busy", "false");
    if (!r.ok) {
      const problem = await r.json().catch(() => ({}));
      box.replaceChildren(el("p", { role: "alert", class: "error-box", text: problem.detail || T.error }));
      return;
    }
    const g = await r.json();
    expanded = new Set(g.groups.filter((x) => x.expanded).map((x) => x.id));
    nodes = new vis.DataSet(g.nodes);
    const data = { nodes: nodes, edges: new vis.DataSet(g.edges) };
    if (network === null) {
      network = new vis.Network(box, data, g.options);
      network.on("selectNode", (p) => details(nodes.get(p.nodes[0])));
      network.on("doubleClick", (p) => {
        if (!p.nodes.length) return;
        const n = nodes.get(p.nodes[0]);
        if (n.cluster) toggle(n.group_id, true);
      });
    } else {
      network.setData(data);
    }
    network.once("afterDrawing", () => { box.dataset.ready = "1"; });
    box.dataset.nodes = String(g.nodes.length);
    legend(g.legend);
    groups(g.groups);
  }

  function toggle(id, open) {
    if (open) expanded.add(id); else expanded.delete(id);
    load();
  }

  function legend(items) {
    document.getElementById("legend").replaceChildren(...items.map((k) =>
      el("li", {}, el("span", { class: "kind-dot", style: "background:" + k.colour, "aria-hidden": "true" }), k.label)));
  }

  function groups(items) {
    document.getElementById("groups").replaceChildren(...items.map((g) => {
      const b = el("button", { type: "button", class: "secondary", "aria-pressed": g.expanded ? "true" : "false",
                               "data-group": g.id },
        "L" + g.level + " · " + g.label + " (" + g.count.toLocaleString() + ") — " + (g.expanded ? T.collapse : T.expand));
      b.addEventListener("click", () => toggle(g.id, !g.expanded));
      return el("li", {}, b);
    }));
  }

  function details(n) {
    const panel = document.getElementById("node-details");
    if (!n) { panel.replaceChildren(); return; }
    if (n.cluster || n.more) {
      const b = el("button", { type: "button", text: n.cluster ? T.expand : T.collapse });
      b.addEventListener("click", () => toggle(n.group_id, !!n.cluster));
      panel.replaceChildren(el("p", { text: n.title }), b,
        n.more ? el("p", {}, el("a", { href: "#table-h", text: T.table })) : "");
      return;
    }
    const link = (direction) => { const u = new URL("/trace", location.href);
      u.searchParams.set("uid", n.uid); u.searchParams.set("direction", direction); return u.pathname + u.search; };
    panel.replaceChildren(
      el("p", {}, el("strong", { text: n.label })),
      el("p", { class: "muted", text: n.title }),
      el("ul", {},
        el("li", {}, el("a", { href: zhuisu.entityUrl(n.uid), text: T.open_entity })),
        el("li", {}, el("a", { href: link("backward"), text: T.trace_back })),
        el("li", {}, el("a", { href: link("forward"), text: T.trace_fwd })),
        el("li", {}, el("a", { href: "/contain?uid=" + encodeURIComponent(n.uid), text: T.contain_it }))));
  }

  document.getElementById("export-png").addEventListener("click", () => {
    const canvas = box.querySelector("canvas");
    if (!canvas) return;
    const out = document.createElement("canvas");
    out.width = canvas.width; out.height = canvas.height;
    const ctx = out.getContext("2d");
    ctx.fillStyle = "#ffffff"; ctx.fillRect(0, 0, out.width, out.height); ctx.drawImage(canvas, 0, 0);
    const a = el("a", { href: out.toDataURL("image/png"), download: "trace-" + box.dataset.root.replace(/[^\w.-]+/g, "_") + ".png" });
    document.body.append(a); a.click(); a.remove();
  });

  load();
})();

"""A trace as a pyvis (vis-network) graph that stays usable at 50 000 nodes.

Nodes are grouped by level and kind (the machines, operators and tools of the steps by the level of their
step). A small group is drawn node by node; a large one is drawn as one cluster node until it is expanded,
and then shows at most ``MEMBERS`` of its nodes and a "N more" node (the table has them all). Edges between
what is drawn are merged, with their count. Columns follow the trace's levels (a hierarchical layout, so
no physics simulation runs in the browser).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pyvis.network import Network

from zhuisu.errors import UnknownKind
from zhuisu.graph.results import Trace
from zhuisu.ontology.model import Ontology
from zhuisu.web import kinds

MEMBERS = 200  # nodes an expanded group draws
AUTO = 12  # groups this small start expanded…
BUDGET = 150  # …while fewer nodes than this are drawn
DRAW_MAX = 2000  # beyond this, expanding a group is refused (the browser would no longer be usable)
COLUMN = 30  # nodes stacked in one column; a level drawing more wraps into further columns, so the view stays wide
_CONTEXT = (("equipment", "performedOn"), ("operators", "performedBy"), ("tools", "usedTool"))
OPTIONS: dict[str, Any] = {
    "layout": {"hierarchical": {"enabled": True, "direction": "LR", "levelSeparation": 230, "nodeSpacing": 70,
                                "treeSpacing": 90, "sortMethod": "directed"}},
    "physics": {"enabled": False},
    "interaction": {"keyboard": {"enabled": True, "bindToWindow": False}, "hover": True, "tooltipDelay": 150},
    "edges": {"arrows": {"to": {"enabled": True, "scaleFactor": 0.5}}, "color": {"color": "#9aa0a6"},
              "smooth": {"enabled": True, "type": "cubicBezier", "forceDirection": "horizontal"},
              "font": {"size": 10, "align": "middle"}},
    "nodes": {"font": {"size": 13, "face": "Noto Sans CJK SC, Microsoft YaHei, sans-serif"}, "borderWidth": 1},
}


@dataclass(slots=True)
class Group:
    id: str
    level: int
    kind: str
    context: bool
    members: list[tuple[str, str | None]] = field(default_factory=list)  # (uid, name)


def groups(trace: Trace, onto: Ontology) -> tuple[dict[str, Group], list[tuple[str, str, str]]]:
    """The groups of a trace's nodes, and every edge to draw as (src uid, dst uid, relation)."""
    found: dict[str, Group] = {}
    for n in trace.nodes:
        gid = f"L{n.level}:{n.kind}"
        found.setdefault(gid, Group(gid, n.level, n.kind, False)).members.append((n.uid, n.name))
    links = [(e.src, e.dst, e.rel) for e in trace.edges]
    placed: dict[str, int] = {}
    names: dict[str, tuple[str, str | None]] = {}
    for step in sorted(trace.steps, key=lambda s: s.level):
        for attr, rel in _CONTEXT:
            for ref in getattr(step, attr):
                links.append((step.operation, ref.uid, rel))
                if ref.uid not in placed:
                    placed[ref.uid] = step.level
                    names[ref.uid] = (_kind(onto, ref.uid), ref.name)
    for uid, level in placed.items():
        kind, name = names[uid]
        gid = f"C{level}:{kind}"
        found.setdefault(gid, Group(gid, level, kind, True)).members.append((uid, name))
    ordered = sorted(found.values(), key=lambda g: (g.level, g.context, g.kind))
    return {g.id: g for g in ordered}, links


def _kind(onto: Ontology, uid: str) -> str:
    try:
        return onto.kind_of_uid(uid)
    except UnknownKind:
        return "Equipment"


def initially_expanded(found: dict[str, Group]) -> set[str]:
    """Small groups, level by level, while the drawing stays small; the root's group always."""
    drawn, out = 0, set()
    for g in found.values():
        if g.level == 0 or (len(g.members) <= AUTO and drawn + len(g.members) <= BUDGET):
            out.add(g.id)
            drawn += len(g.members)
        else:
            drawn += 1
    return out


def view(trace: Trace, onto: Ontology, lang: str, t: Callable[..., str],
         expanded: Iterable[str] | None) -> dict[str, Any]:
    """The nodes, edges and options for vis-network, and the groups and legend for the page."""
    found, links = groups(trace, onto)
    wanted = initially_expanded(found) if expanded is None else set(expanded) & set(found)
    net = Network(directed=True)
    shown: dict[str, str] = {}  # uid → id of what draws it
    drawn, refused = 0, []
    specs: list[tuple[str, int, dict[str, Any]]] = []  # node id, trace level, vis-network attributes
    for g in found.values():
        colour, kind_label = kinds.colour(onto, g.kind), kinds.label(onto, g.kind, lang)
        open_ = g.id in wanted and drawn + min(len(g.members), MEMBERS) <= DRAW_MAX
        if g.id in wanted and not open_:
            refused.append(g.id)
        if open_:
            for uid, name in g.members[:MEMBERS]:
                shown[uid] = uid
                specs.append((uid, g.level, dict(
                    label=_short(name or uid.partition(":")[2] or uid), title=f"{kind_label}\n{uid}"
                    + (f"\n{name}" if name else ""), color=colour, shape=kinds.shape(onto, g.kind), uid=uid,
                    group_id=g.id, kind=g.kind, size=14, borderWidth=3 if g.level == 0 and not g.context else 1)))
            drawn += min(len(g.members), MEMBERS)
            rest = g.members[MEMBERS:]
            if rest:
                more = f"{g.id}#more"
                specs.append((more, g.level, dict(label=t("more", n=f"{len(rest):,}"),
                                                  title=f"{kind_label} · {t('table')}", color="#ffffff", shape="box",
                                                  group_id=g.id, more=True)))
                shown.update((uid, more) for uid, _ in rest)
                drawn += 1
        else:
            specs.append((g.id, g.level, dict(
                label=f"{kind_label}\n×{len(g.members):,}", title=f"{kind_label} · L{g.level} · "
                f"{len(g.members):,} — {t('expand')}", color={"background": "#ffffff", "border": colour},
                shape="box", borderWidth=3, group_id=g.id, cluster=True, font={"size": 14, "bold": True},
                shapeProperties={"borderDashes": [6, 3]})))
            shown.update((uid, g.id) for uid, _ in g.members)
            drawn += 1
    for node_id, column, attributes in _columns(specs):
        net.add_node(node_id, level=column, **attributes)
    merged: dict[tuple[str, str], list[Any]] = defaultdict(lambda: [0, set()])
    for src, dst, rel in links:
        a, b = shown.get(src), shown.get(dst)
        if a is None or b is None or a == b:
            continue
        slot = merged[(a, b)]
        slot[0] += 1
        slot[1].add(rel)
    for (a, b), (count, rels) in merged.items():
        title = "、".join(_relation(onto, r, lang) for r in sorted(rels))
        net.add_edge(a, b, title=title, label=f"×{count:,}" if count > 1 else None, width=min(1 + count ** 0.5 / 3, 6))
    net.options = OPTIONS
    nodes, edges, *_, options = net.get_network_data()
    legend = sorted({(g.kind, kinds.label(onto, g.kind, lang), kinds.colour(onto, g.kind)) for g in found.values()},
                    key=lambda k: k[1])
    return {
        "nodes": nodes, "edges": [{k: v for k, v in e.items() if v is not None} for e in edges],
        "options": json.loads(options),
        "groups": [{"id": g.id, "level": g.level, "kind": g.kind, "label": kinds.label(onto, g.kind, lang),
                    "context": g.context, "count": len(g.members), "expanded": g.id in wanted and g.id not in refused}
                   for g in found.values()],
        "legend": [{"kind": k, "label": label, "colour": c} for k, label, c in legend],
        "drawn": drawn, "refused": refused,
    }


def _columns(specs: list[tuple[str, int, dict[str, Any]]]) -> Iterable[tuple[str, int, dict[str, Any]]]:
    """The layout column of each node: a trace level takes as many columns as it needs for ``COLUMN`` nodes each."""
    per_level = Counter(level for _, level, _ in specs)
    start, offset = {}, 0
    for level in sorted(per_level):
        start[level] = offset
        offset += -(-per_level[level] // COLUMN)
    placed: Counter[int] = Counter()
    for node_id, level, attributes in specs:
        yield node_id, start[level] + placed[level] // COLUMN, attributes
        placed[level] += 1


def _short(text: str, size: int = 18) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


def _relation(onto: Ontology, name: str, lang: str) -> str:
    rel = onto.relations.get(name)
    if rel is None:
        return name
    return rel.label_zh if lang == "zh" else rel.label_en

"""Evidence for a candidate: how defective items reach it (paths), what its machine logged (maintenance
orders with what the NLP read in them, alarms), and the parameter readings involved."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np

from zhuisu.graph.results import PathEdge, PathNode, Route, iso
from zhuisu.graph.store import NodeRecord
from zhuisu.ingest.records import from_epoch_ms
from zhuisu.rca.factors import Hypotheses
from zhuisu.rca.results import Evidence
from zhuisu.rca.topology import Ints, Topology

PATHS = 3
SAMPLE = 10
ORDERS = 8
ALARMS = 10
DAY = 86_400_000.0
_NOTES = {"reportsSymptom": "symptoms", "foundCause": "causes", "tookAction": "actions",
          "usedSparePart": "parts", "maintains": "components"}
_CONTEXT = {"equipment": "performedOn", "window": "performedOn", "alarm": "performedOn",
            "equipment_parameter": "performedOn", "operator": "performedBy", "operator_shift": "performedBy",
            "tool": "usedTool", "work_order": "forWorkOrder", "shift": "duringShift", "parameter": "measured"}


def gather(topo: Topology, hyps: Hypotheses, h: int, rows: Ints, targets: Ints, defective: np.ndarray,
           window: tuple[float, float] | None) -> Evidence:
    """Evidence of hypothesis ``h`` whose exposed population rows are ``rows``."""
    engine = topo.engine
    bad = rows[defective[rows]]
    sample = targets[bad[:SAMPLE]]
    goal = _goal(topo, hyps, h)
    routes = [p for p in (_path(topo, int(item), goal) for item in sample[:PATHS * 2]) if p][:PATHS]
    family, entity = hyps.family[h], hyps.entity[h]
    orders: list[int] = []
    alarms: list[int] = []
    readings: list[tuple[int, int]] = []
    if family in ("equipment", "window", "alarm", "equipment_parameter"):
        span = window or _span(topo, targets[rows])
        orders = _around(topo, entity, "maintains", span, ORDERS, before=7 * DAY)
        if family == "alarm":
            alarms = [a for a in hyps.detail[h].get("alarms", [])][:ALARMS]
        else:
            alarms = _around(topo, entity, "raisedOn", span, ALARMS, before=0.0)
    if family in ("parameter", "equipment_parameter"):
        readings = _readings(topo, hyps, h, targets[bad[:SAMPLE * 5]])
    table = topo.reading_table()
    at = np.searchsorted(table.edge, [e for _, e in readings]).astype(np.int64)
    ids = ({int(n) for r in routes for n in r} | set(orders) | set(alarms) | {i for i, _ in readings}
           | set(table.param[at].tolist()) | set(table.op[at].tolist()))
    notes = _notes(topo, orders)
    ids |= {n for linked in notes.values() for _, n in linked}
    records = _records(topo, ids)
    return Evidence(
        defective=tuple(engine.uid(int(i)) for i in sample),
        paths=tuple(_route(topo, r, records) for r in routes),
        maintenance=tuple(_order(topo, o, records, notes.get(o, [])) for o in orders),
        alarms=tuple(_alarm(topo, a, records) for a in alarms),
        readings=tuple(r for r in (_reading(topo, item, edge, records) for item, edge in readings) if r),
    )


def _goal(topo: Topology, hyps: Hypotheses, h: int) -> Callable[[int], tuple[int, str] | None]:
    """A test of a node on the way up from an item: ``(factor node, relation)`` once the factor is reached."""
    family, entity, other = hyps.family[h], hyps.entity[h], hyps.other[h]
    window = hyps.window[h]
    if family in ("lot", "supplier"):
        return lambda n: (n, "") if n == entity else None
    rel = _CONTEXT[family]
    target, code = entity, topo.rel[rel]
    shift = other if family == "operator_shift" else -1
    flags = None
    if family in ("parameter", "equipment_parameter"):
        table = topo.reading_table()
        param = entity if family == "parameter" else other
        flagged = table.variant(hyps.variant[h]) & (table.param == param)
        flags = set(table.op[flagged].tolist())

    def reached(n: int) -> tuple[int, str] | None:
        items = topo.context.items[topo.context.ptr[n]:topo.context.ptr[n + 1]]
        rels = topo.context.rel[topo.context.ptr[n]:topo.context.ptr[n + 1]]
        if not np.any((items == target) & (rels == code)):
            return None
        if shift >= 0 and not np.any((items == shift) & (rels == topo.rel["duringShift"])):
            return None
        if flags is not None and n not in flags:
            return None
        if window is not None and not (window[0] <= topo.time[n] < window[1]):
            return None
        return target, rel

    return reached


def _path(topo: Topology, item: int, goal: Callable[[int], tuple[int, str] | None]) -> list[int] | None:
    """Nodes from the item up to the factor (a breadth-first walk over material predecessors)."""
    parent: dict[int, int] = {item: -1}
    queue = deque([item])
    while queue:
        node = queue.popleft()
        found = goal(node)
        if found is not None:
            path = [node]
            while parent[path[-1]] >= 0:
                path.append(parent[path[-1]])
            path.reverse()  # item … node
            return path + ([found[0]] if found[0] != node else [])
        for up in topo.up.of(node).tolist():
            if up not in parent:
                parent[up] = node
                queue.append(up)
    return None


def _route(topo: Topology, path: list[int], records: dict[int, NodeRecord]) -> Route:
    engine = topo.engine
    nodes = tuple(PathNode(engine.uid(n), engine.kind(n), _name(records, n)) for n in path)
    edges = []
    for a, b in zip(path, path[1:], strict=False):
        rel = _between(topo, a, b)
        edges.append(PathEdge(engine.uid(rel[0]), engine.uid(rel[1]), rel[2]))
    return Route(nodes, tuple(edges))


def _between(topo: Topology, a: int, b: int) -> tuple[int, int, str]:
    """The edge joining two path neighbours, in its stored direction: material first, then context."""
    relations = topo.engine.relations
    for csr, src, dst in ((topo.up, b, a), (topo.up, a, b), (topo.context, a, b), (topo.context, b, a)):
        owner, other = (dst, src) if csr is topo.up else (src, dst)
        lo, hi = csr.ptr[owner], csr.ptr[owner + 1]
        hit = np.flatnonzero(csr.items[lo:hi] == other)
        if len(hit):
            return src, dst, relations[int(csr.rel[lo + hit[0]])]
    return a, b, ""


def _span(topo: Topology, items: Ints) -> tuple[float, float]:
    times = topo.time[items]
    times = times[~np.isnan(times)]
    return (float(times.min()), float(times.max())) if len(times) else (-np.inf, np.inf)


def _around(topo: Topology, machine: int, rel: str, span: tuple[float, float], limit: int, *,
            before: float) -> list[int]:
    """Orders or alarms on a machine within the span (from ``before`` ahead of it), latest first."""
    engine = topo.engine
    _, sources, edges = topo.sources_of(np.array([machine], dtype=np.int64), rel)
    t = engine.edge_t[edges]
    keep = (t >= span[0] - before) & (t <= span[1])
    sources, t = sources[keep], t[keep]
    order = np.argsort(t)
    if rel == "maintains" and len(order) > limit:  # the first (what started it) and the latest
        order = np.concatenate([order[:1], order[-(limit - 1):]])
    return sources[order[-limit:]].tolist()


def _notes(topo: Topology, orders: list[int]) -> dict[int, list[tuple[str, int]]]:
    """What the NLP linked to each order: symptoms, causes, actions, parts, components."""
    out: dict[int, list[tuple[str, int]]] = {}
    for o in orders:
        lo, hi = topo.context.ptr[o], topo.context.ptr[o + 1]
        for other, rel in zip(topo.context.items[lo:hi].tolist(), topo.context.rel[lo:hi].tolist(), strict=True):
            name = topo.engine.relations[rel]
            if name in _NOTES and not topo.is_kind("Equipment")[other]:
                out.setdefault(o, []).append((_NOTES[name], other))
    return out


def _readings(topo: Topology, hyps: Hypotheses, h: int, items: Ints) -> list[tuple[int, int]]:
    """(item, reading edge) of flagged readings on the way up from exposed defective items."""
    table = topo.reading_table()
    param = hyps.entity[h] if hyps.family[h] == "parameter" else hyps.other[h]
    flagged = table.variant(hyps.variant[h]) & (table.param == param)
    if hyps.family[h] == "equipment_parameter":
        flagged &= table.machine == hyps.entity[h]
    by_op = dict(zip(table.op[flagged].tolist(), table.edge[flagged].tolist(), strict=True))
    out: list[tuple[int, int]] = []
    for item in items.tolist():
        seen, todo = {item}, [item]
        while todo and len(out) < SAMPLE:
            node = todo.pop()
            if node in by_op:
                out.append((item, by_op[node]))
                break
            for up in topo.up.of(node).tolist():
                if up not in seen:
                    seen.add(up)
                    todo.append(up)
        if len(out) >= SAMPLE:
            break
    return [(item, int(edge)) for item, edge in out]


def _records(topo: Topology, nodes: set[int]) -> dict[int, NodeRecord]:
    engine = topo.engine
    ordered = sorted(nodes)
    by_id = engine.store.nodes_by_id(engine.node_ids(np.array(ordered, dtype=np.int64)).tolist())
    return {n: by_id[i] for n, i in zip(ordered, engine.node_ids(np.array(ordered, dtype=np.int64)).tolist(),
                                         strict=True) if i in by_id}


def _name(records: dict[int, NodeRecord], node: int) -> str | None:
    record = records.get(node)
    return record.name if record else None


def _order(topo: Topology, order: int, records: dict[int, NodeRecord], linked: list[tuple[str, int]],
           ) -> dict[str, Any]:
    attrs = records[order].attrs if order in records else {}
    out: dict[str, Any] = {"uid": topo.engine.uid(order), "type": attrs.get("type"),
                           "reported_at": attrs.get("reported_at"), "finished_at": attrs.get("finished_at"),
                           "technician": attrs.get("technician"), "text": attrs.get("text")}
    for role, node in linked:
        out.setdefault(role, []).append(_name(records, node) or topo.engine.uid(node).partition(":")[2])
    return out


def _alarm(topo: Topology, alarm: int, records: dict[int, NodeRecord]) -> dict[str, Any]:
    attrs = records[alarm].attrs if alarm in records else {}
    return {"uid": topo.engine.uid(alarm), "code": attrs.get("code"), "raised_at": attrs.get("raised_at"),
            "message": attrs.get("message"), "severity": attrs.get("severity")}


def _reading(topo: Topology, item: int, edge: int, records: dict[int, NodeRecord]) -> dict[str, Any] | None:
    engine, table = topo.engine, topo.reading_table()
    at = int(np.searchsorted(table.edge, edge))
    if at >= len(table.edge) or table.edge[at] != edge:
        return None
    param, op = int(table.param[at]), int(table.op[at])
    spec = records[param].attrs if param in records else {}
    value = float(table.value[at])
    t = table.time[at]
    return {"item": engine.uid(item), "operation": engine.uid(op), "parameter": engine.uid(param),
            "name": _name(records, param), "value": None if value != value else value, "unit": spec.get("unit"),
            "lsl": spec.get("lsl"), "usl": spec.get("usl"), "out_of_spec": bool(table.flag[at] == 1),
            "time": iso(from_epoch_ms(int(t))) if t == t else None}


"""Backward and forward traces over material flow, with the quantities carried."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from zhuisu.errors import BadInput
from zhuisu.graph.engine import Engine, Floats, Ints, no_cycle_collection
from zhuisu.graph.reach import DIRECTIONS, walk
from zhuisu.graph.reach import amounts as reach_amounts
from zhuisu.graph.results import Inspection, Parameter, Ref, Step, Trace, TraceEdge, TraceNode
from zhuisu.ingest.records import epoch_ms, from_epoch_ms

_ITEMS = ("MaterialLot", "SerialUnit", "LogisticUnit")  # get their material and inspections attached
_CREATES = ("produces", "supplies")  # the relations that say what a node's own amount and uom are
_STEP_ROLES = {"performedOn": "equipment", "performedBy": "operators", "duringShift": "shifts",
               "usedTool": "tools", "forWorkOrder": "work_orders"}
_ROLES = (*_STEP_ROLES.values(), "parameters")


def trace(
    engine: Engine,
    ref: str,
    *,
    direction: str = "backward",
    depth: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    kinds: Iterable[str] | None = None,
) -> Trace:
    """Trace ``ref`` (a uid or alias) upstream (backward) or downstream (forward) over material edges.

    ``depth`` bounds the material hops; an edge whose time falls outside ``since``..``until``
    (both inclusive) is not followed, an edge without a time always is; ``kinds`` (kind names, a
    superclass takes its subclasses) filters the nodes, edges and steps reported while the walk
    still passes through every kind.
    """
    started = time.perf_counter()
    if direction not in DIRECTIONS:
        raise BadInput(f"direction must be one of {', '.join(DIRECTIONS)}, not {direction!r}")
    if depth is not None and depth < 0:
        raise BadInput(f"depth must be 0 or more, not {depth}")
    forward = direction == "forward"
    shown_kinds = engine.kind_codes(kinds) if kinds is not None else None
    root = engine.index(ref)
    lo, hi = epoch_ms(since), epoch_ms(until)
    walked = walk(engine, root, forward=forward, depth=depth,
                  lo=-np.inf if lo is None else lo, hi=np.inf if hi is None else hi)
    amounts, root_total = reach_amounts(engine, walked, forward=forward)
    edges = walked.edges
    levels = dict(zip(walked.nodes.tolist(), walked.levels.tolist(), strict=True))
    order = np.argsort(walked.nodes)  # the report lists nodes by level, then by index
    nodes, amounts = walked.nodes[order], amounts[order]
    if shown_kinds is not None:
        shown = shown_kinds[engine.node_kind[nodes]]
        nodes, amounts = nodes[shown], amounts[shown]
    with no_cycle_collection():
        report = _Report(engine, root, levels, nodes, edges, forward=forward)
        reached = report.nodes(amounts, root_known=bool(np.isfinite(root_total)))
        followed, steps = report.edges(), report.steps()
    return Trace(
        root=engine.uid(root), direction=direction, depth=depth, since=from_epoch_ms(lo),
        until=from_epoch_ms(hi), nodes=reached, edges=followed, steps=steps,
        ms=(time.perf_counter() - started) * 1000,
    )


class _Groups:
    """Parallel columns grouped by owner node, so results are built per node from plain lists."""

    def __init__(self, owner: Ints, *columns: npt.NDArray[Any]) -> None:
        order = np.lexsort((*reversed(columns), owner))  # by owner, then by the columns: deterministic
        self.columns = [c[order].tolist() for c in columns]
        keys, starts = np.unique(owner[order], return_index=True)
        ends = np.append(starts[1:], len(owner))[: len(starts)]
        self.slices = dict(zip(keys.tolist(), zip(starts.tolist(), ends.tolist(), strict=True), strict=True))

    def rows(self, node: int) -> list[tuple[Any, ...]]:
        lo, hi = self.slices.get(node, (0, 0))
        return list(zip(*(c[lo:hi] for c in self.columns), strict=True))

    def first(self, node: int) -> list[Any]:
        lo, hi = self.slices.get(node, (0, 0))
        return self.columns[0][lo:hi]


class _Report:
    """Turns walked indices into typed results: context gathered in bulk, one store read each for names
    and edge details, and only for what the result shows (the engine holds no names)."""

    def __init__(self, engine: Engine, root: int, levels: dict[int, int], nodes: Ints, edges: Ints, *,
                 forward: bool) -> None:
        self.engine, self.root, self.levels, self.forward = engine, root, levels, forward
        self.nodes_ix = nodes
        self.uids, self.rel_names = engine.uids, engine.relations
        self.role = [_STEP_ROLES.get(r) or ("parameters" if r == "measured" else None) for r in engine.relations]
        self.edges_ix = edges[np.isin(engine.edge_src[edges], nodes) & np.isin(engine.edge_dst[edges], nodes)]
        kinds = engine.node_kind[nodes]
        self.ops = nodes[engine.kind_codes(["Operation"])[kinds]]
        context_edges = self._gather_context(nodes[engine.kind_codes(_ITEMS)[kinds]])
        self._gather_io()
        self._read_store(context_edges)
        self._times: dict[float, datetime | None] = {np.inf: None}
        self._refs: dict[int, Ref] = {}

    def _gather_context(self, items: Ints) -> Ints:
        """Group the context edges of the steps and items, and of the inspections found on them."""
        engine, code = self.engine, self.engine.rel_code
        src, dst = engine.edge_src, engine.edge_dst
        owner, edge = engine.context_edges_of(np.concatenate([self.ops, items]).tolist())
        # an inspection's defects are context of context: attached to it, one step further
        is_insp = (engine.edge_rel[edge] == code["inspects"]) & (dst[edge] == owner)
        by, found = engine.context_edges_of(np.unique(src[edge[is_insp]]).tolist())
        defects = (engine.edge_rel[found] == code["foundDefect"]) & (src[found] == by)
        owner, edge = np.concatenate([owner, by[defects]]), np.concatenate([edge, found[defects]])
        other = np.where(src[edge] == owner, dst[edge], src[edge])
        # columns: relation, the other node, store edge id, time, whether the other node is the source
        self.context = _Groups(owner, engine.edge_rel[edge], other, engine.edge_id[edge], engine.edge_t[edge],
                               src[edge] == other)
        return edge

    def _gather_io(self) -> None:
        """Each step's material inputs and outputs (traced or not), and its earliest time."""
        engine, ops = self.engine, self.ops
        in_owner, in_edge = engine.material_edges_of(ops.tolist(), forward=False)
        out_owner, out_edge = engine.material_edges_of(ops.tolist(), forward=True)
        self.inputs = _Groups(in_owner, engine.edge_src[in_edge])
        self.outputs = _Groups(out_owner, engine.edge_dst[out_edge])
        first = np.full(len(ops), np.inf)
        np.fmin.at(first, np.searchsorted(ops, np.concatenate([in_owner, out_owner])),
                   engine.edge_t[np.concatenate([in_edge, out_edge])])
        self.step_t = dict(zip(ops.tolist(), first.tolist(), strict=True))  # inf: no time

    def _read_store(self, context_edges: Ints) -> None:
        """Names and attributes of every node shown, and the readings of the parameters measured."""
        engine, root = self.engine, self.root
        ends = np.concatenate([engine.edge_src[context_edges], engine.edge_dst[context_edges]])
        named = np.unique(np.concatenate([self.nodes_ix, ends]))
        ids = engine.node_ids(named)
        records = engine.store.nodes_by_id(ids.tolist())
        self.records = {ix: records[i] for ix, i in zip(named.tolist(), ids.tolist(), strict=True)}
        # the root's uom: of what made it, else of any edge that left it (one is enough)
        around_root = np.concatenate([engine.material_edges([root], forward=False),
                                      engine.material_edges([root], forward=True)[:1]])
        measured = context_edges[engine.edge_rel[context_edges] == engine.rel_code["measured"]]
        self.details = engine.store.edge_details(engine.edge_id[measured].tolist())
        self.uoms = self._uoms(around_root if self.forward else np.concatenate([self.edges_ix, around_root]))

    def nodes(self, amounts: Floats, *, root_known: bool) -> tuple[TraceNode, ...]:
        """The reached nodes by level, each with what it received and, for lots and units, its context."""
        kinds, uids = self.engine.kinds, self.uids
        root_uom = self.uoms.get(self.root) if root_known else None
        out = []
        for node, kind, amount in zip(self.nodes_ix.tolist(), self.engine.node_kind[self.nodes_ix].tolist(),
                                      amounts.tolist(), strict=True):
            kind_name = kinds[kind]
            received = None if amount != amount else amount  # NaN: not determined
            if self.forward:
                uom = root_uom
            else:
                uom = self.uoms.get(node)
                received = None if kind_name == "Operation" else received
            material: Ref | None = None
            inspections: tuple[Inspection, ...] = ()
            if node in self.context.slices and kind_name != "Operation":
                rows = self.context.rows(node)
                material = next((self._ref(o) for r, o, *_ in rows if self.rel_names[r] == "instanceOf"),
                                None)
                inspections = self._inspections(node, rows)
            out.append(TraceNode(uids[node], kind_name, self.records[node].name, self.levels[node], received,
                                 uom, material, inspections))
        out.sort(key=lambda n: n.level)
        return tuple(out)

    def edges(self) -> tuple[TraceEdge, ...]:
        """The followed edges between shown nodes, by level of the end nearer the root."""
        engine, uids, rel_names, time_of = self.engine, self.uids, self.rel_names, self._time
        e = self.edges_ix
        near = (engine.edge_src if self.forward else engine.edge_dst)[e].tolist()
        level = np.array([self.levels[n] for n in near], dtype=np.int64)
        e = e[np.lexsort((engine.edge_id[e], engine.edge_dst[e], engine.edge_src[e], level))]
        columns = (engine.edge_src[e], engine.edge_dst[e], engine.edge_rel[e], engine.edge_t[e],
                   engine.edge_qty[e], engine.edge_uom[e])
        uoms = engine.uoms
        return tuple(
            TraceEdge(uids[s], uids[d], rel_names[r], time_of(t), None if q != q else q, uoms[u])
            for s, d, r, t, q, u in zip(*(c.tolist() for c in columns), strict=True)
        )

    def steps(self) -> tuple[Step, ...]:
        """A step per reached operation, by level and time, with its context attached."""
        uids, levels, step_t = self.uids, self.levels, self.step_t
        order = sorted(self.ops.tolist(), key=lambda op: (levels[op], step_t[op], uids[op]))
        return tuple(self._step(op) for op in order)

    def _step(self, op: int) -> Step:
        uids, role_of = self.uids, self.role
        roles: dict[str, list[Any]] = {role: [] for role in _ROLES}
        rows = self.context.rows(op)
        for rel, other, edge_id, *_ in rows:
            role = role_of[rel]
            if role == "parameters":
                roles[role].append(self._parameter(other, edge_id))
            elif role is not None:
                roles[role].append(self._refs.get(other) or self._ref(other))
        record = self.records[op]
        return Step(
            operation=uids[op], step=record.attrs.get("step") or record.name,
            time=self._time(self.step_t[op]), level=self.levels[op],
            inputs=tuple(sorted([uids[n] for n in self.inputs.first(op)])),
            outputs=tuple(sorted([uids[n] for n in self.outputs.first(op)])),
            equipment=tuple(roles["equipment"]), operators=tuple(roles["operators"]),
            shifts=tuple(roles["shifts"]), tools=tuple(roles["tools"]),
            work_orders=tuple(roles["work_orders"]), parameters=tuple(roles["parameters"]),
            inspections=self._inspections(op, rows),
        )

    def _inspections(self, node: int, rows: list[tuple[Any, ...]]) -> tuple[Inspection, ...]:
        uids, rel_names = self.uids, self.rel_names
        out = []
        for rel, insp, _, t, incoming in rows:
            if rel_names[rel] != "inspects" or not incoming:
                continue
            codes = sorted(self.records[d].attrs.get("code") or uids[d].partition(":")[2]
                           for r, d, *_ in self.context.rows(insp) if rel_names[r] == "foundDefect")
            out.append((t, Inspection(uids[insp], uids[node], self.records[insp].attrs.get("result"),
                                      ",".join(codes) or None, self._time(t))))
        out.sort(key=lambda pair: (pair[0] != pair[0], pair[0], pair[1].uid))
        return tuple(i for _, i in out)

    def _parameter(self, node: int, edge_id: int) -> Parameter:
        reading = json.loads(self.details[edge_id].attrs or "{}")
        spec = self.records[node].attrs
        value = reading.get("value")
        lsl, usl = reading.get("lsl", spec.get("lsl")), reading.get("usl", spec.get("usl"))
        out = reading.get("out_of_spec")
        if out is None and isinstance(value, int | float):
            out = (lsl is not None and value < lsl) or (usl is not None and value > usl)
        return Parameter(self.uids[node], self.records[node].name, value, spec.get("unit"), lsl, usl, out)

    def _ref(self, node: int) -> Ref:
        ref = self._refs.get(node)
        if ref is None:
            ref = self._refs[node] = Ref(self.uids[node], self.records[node].name)
        return ref

    def _time(self, ms: float) -> datetime | None:
        """Plant-local time of epoch ms (NaN or inf: none), remembered since many edges share a time."""
        if ms != ms:
            return None
        if ms not in self._times:
            self._times[ms] = from_epoch_ms(int(ms))
        return self._times[ms]

    def _uoms(self, edges: Ints) -> dict[int, str]:
        """Each node's uom: of what produced or supplied it, else of what left it."""
        engine = self.engine
        into: dict[int, str] = {}
        out_of: dict[int, str] = {}
        columns = (engine.edge_src, engine.edge_dst, engine.edge_rel, engine.edge_uom)
        for s, d, r, u in zip(*(c[edges].tolist() for c in columns), strict=True):
            uom = engine.uoms[u]
            if uom:
                if self.rel_names[r] in _CREATES:
                    into.setdefault(d, uom)
                out_of.setdefault(s, uom)
        return {**out_of, **into}

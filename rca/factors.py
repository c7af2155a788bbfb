"""Exposure extraction: every upstream factor a population item was exposed to, counted with whole-population
array passes (one backward closure over the material flow, then joins on the operations' context), never a
trace per item.

A *hypothesis* is one way of being exposed to a factor: a lot, a supplier, a machine over the whole period or
between two of its maintenance orders or soon after one of its alarms, a tool, an operator (on any shift or on
one), a shift at a work center, a work order, a parameter out of spec or in a tail (everywhere, or on one
machine). Its *entity* is the node it is about (the uid reported). ``extract`` counts, for every hypothesis,
the items exposed and the defective ones among them; ``Hypotheses.rows_of`` lists the exposed items of one
hypothesis when the ranking needs them, by a forward walk from the operations or lots that define it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from zhuisu.rca.arrays import codes, distinct, first_in_group, member
from zhuisu.rca.machines import machine_states, near
from zhuisu.rca.population import Population
from zhuisu.rca.topology import ITEMS, Ints, Topology

VARIANTS = ("out_of_spec", "low", "high")
_MAX_LEVELS = 64
_CONTEXT = {"equipment": "performedOn", "operator": "performedBy", "tool": "usedTool",
            "work_order": "forWorkOrder", "shift": "duringShift"}


@dataclass(slots=True)
class Hypotheses:
    """Tested ways of exposure (columns by hypothesis), their counts, and how to list their items."""

    family: list[str] = field(default_factory=list)
    entity: list[int] = field(default_factory=list)  # node the hypothesis is about
    other: list[int] = field(default_factory=list)  # second node (shift of operator×shift, parameter…), -1
    variant: list[str] = field(default_factory=list)
    window: list[tuple[float, float] | None] = field(default_factory=list)
    detail: list[dict[str, Any]] = field(default_factory=list)
    n: list[Ints] = field(default_factory=list)  # exposed items, in chunks as families are added
    k: list[Ints] = field(default_factory=list)  # exposed defective items
    source: _Source | None = None
    least: int = 1  # hypotheses with fewer exposed items are not kept
    _rows: dict[int, Ints] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.family)

    def add(self, family: str, entities: npt.ArrayLike, n: Ints, k: Ints, *, others: npt.ArrayLike | None = None,
            variant: str = "all", windows: list[tuple[float, float] | None] | None = None,
            details: list[dict[str, Any]] | None = None) -> None:
        """Hypotheses of one family, one per entity (and other), with their counts."""
        entities = np.asarray(entities, dtype=np.int64)
        n, k = np.asarray(n, dtype=np.int64), np.asarray(k, dtype=np.int64)
        keep = n >= self.least
        if not keep.all():
            at = np.flatnonzero(keep)
            entities, n, k = entities[at], n[at], k[at]
            others = None if others is None else np.asarray(others, dtype=np.int64)[at]
            windows = None if windows is None else [windows[i] for i in at.tolist()]
            details = None if details is None else [details[i] for i in at.tolist()]
        count = len(entities)
        self.family += [family] * count
        self.entity += entities.tolist()
        self.other += (np.asarray(others, dtype=np.int64).tolist() if others is not None else [-1] * count)
        self.variant += [variant] * count
        self.window += windows if windows is not None else [None] * count
        self.detail += details if details is not None else [{} for _ in range(count)]
        self.n.append(np.asarray(n, dtype=np.int64))
        self.k.append(np.asarray(k, dtype=np.int64))

    def counts(self) -> tuple[Ints, Ints]:
        """Per hypothesis: exposed items, exposed defective items."""
        if not self.n:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        return np.concatenate(self.n), np.concatenate(self.k)

    def rows_of(self, h: int) -> Ints:
        """Population rows exposed under hypothesis ``h`` (ascending)."""
        if h not in self._rows:
            assert self.source is not None
            self._rows[h] = self.source.rows(self, h)
        return self._rows[h]


def closure(topo: Topology, targets: Ints, *, with_targets: bool = False) -> tuple[Ints, Ints]:
    """``(row, node)`` for every material ancestor of every target (and the target itself ``with_targets``),
    each once, ordered by row then node."""
    n = max(topo.n, 1)
    rows = np.arange(len(targets), dtype=np.int64)
    nodes = np.asarray(targets, dtype=np.int64)
    keys: list[Ints] = [rows * n + nodes] if with_targets else []
    for level in range(_MAX_LEVELS):
        pos, index = topo.up.gather(nodes)
        if not len(index):
            break
        key = distinct(rows[pos] * n + topo.up.items[index])  # pairs come grouped by row: a cheap sort
        if level >= 8:  # deep flow may loop (rework): keep only what was not reached before
            key = key[~member(key, distinct(np.concatenate(keys[int(with_targets):])))]
        rows, nodes = key // n, key % n
        keys.append(key)
    if not keys:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    key = distinct(np.concatenate(keys))  # merges the levels' sorted runs
    return key // n, key % n


class _Source:
    """What ``extract`` learnt about the population, kept to list any hypothesis's items on demand."""

    def __init__(self, topo: Topology, pop: Population) -> None:
        self.topo, self.pop = topo, pop
        self.row_of = np.full(topo.n, -1, dtype=np.int64)
        self.row_of[pop.targets] = np.arange(pop.size, dtype=np.int64)
        self.defective = pop.defective

    def reach(self, seeds: Ints) -> Ints:
        """Population rows downstream of (or at) the seeds."""
        topo, seen = self.topo, np.zeros(self.topo.n, dtype=bool)
        frontier = distinct(seeds)
        seen[frontier] = True
        found = [frontier]
        for _ in range(_MAX_LEVELS):
            _, index = topo.down.gather(frontier)
            frontier = distinct(topo.down.items[index])
            frontier = frontier[~seen[frontier]]
            if not len(frontier):
                break
            seen[frontier] = True
            found.append(frontier)
        rows = self.row_of[np.concatenate(found)]
        return distinct(rows[rows >= 0])

    def ops_of(self, node: int, rel: str) -> Ints:
        return self.topo.sources_of(np.array([node], dtype=np.int64), rel)[1]

    def rows(self, hyps: Hypotheses, h: int) -> Ints:
        topo = self.topo
        family, entity, other = hyps.family[h], hyps.entity[h], hyps.other[h]
        if family in ("lot", "supplier"):
            return self.reach(np.array([entity], dtype=np.int64))
        if family in _CONTEXT:
            ops = self.ops_of(entity, _CONTEXT[family])
            if family == "shift":  # the shift at one work center (-1: operations on no known one)
                pos, machines, _ = topo.context_of(ops, "performedOn")
                center = np.full(len(ops), -1, dtype=np.int64)
                center[pos] = _first(topo, machines, "partOf")
                ops = distinct(ops[center == other])
            return self.reach(ops)
        if family == "operator_shift":
            ops = self.ops_of(entity, "performedBy")
            return self.reach(ops[member(ops, self.ops_of(other, "duringShift"))])
        if family in ("parameter", "equipment_parameter"):
            table = topo.reading_table()
            param = entity if family == "parameter" else other
            hit = table.variant(hyps.variant[h]) & (table.param == param)
            if family == "equipment_parameter":
                hit &= table.machine == entity
            return self.reach(table.op[hit])
        ops = self.ops_of(entity, "performedOn")
        t = topo.time[ops]
        if family == "window":
            lo, hi = hyps.window[h] or (-np.inf, np.inf)
            return self.reach(ops[(t >= lo) & (t < hi)])
        if family == "alarm":
            times = np.sort(np.asarray(hyps.detail[h]["times"], dtype=np.float64))
            return self.reach(ops[near(times, t)])
        return np.zeros(0, dtype=np.int64)


def _first(topo: Topology, nodes: Ints, rel: str) -> Ints:
    """Per node, the target of its first context edge of ``rel`` (-1 for none)."""
    return topo.first(rel)[np.asarray(nodes, dtype=np.int64)].astype(np.int64)


def extract(topo: Topology, pop: Population, *, least: int = 1) -> Hypotheses:
    """Every hypothesis of exposure over the population, with its exposed and defective counts; those with
    fewer than ``least`` items exposed (never to be tested) are left out."""
    hyps = Hypotheses(source=_Source(topo, pop), least=least)
    bad = pop.defective
    rows, nodes = closure(topo, pop.targets, with_targets=True)  # by row, each item itself included
    own = nodes == pop.targets[rows]
    kind = topo.kind[nodes]
    is_item = topo.engine.kind_codes(ITEMS)[kind] & ~own
    is_supplier = topo.engine.kind_codes(["Supplier"])[kind]
    _tally(hyps, "lot", rows[is_item], nodes[is_item], bad)
    _tally(hyps, "supplier", rows[is_supplier], nodes[is_supplier], bad)
    is_op = topo.engine.kind_codes(["Operation"])[kind]
    op_rows, op_nodes = rows[is_op], nodes[is_op]  # by row
    ops, inverse = codes(op_nodes)
    ctx = {rel: _first(topo, ops, rel) for rel in _CONTEXT.values()}
    role = {name: ctx[rel][inverse] for name, rel in _CONTEXT.items()}
    for name in ("equipment", "operator", "tool"):
        _tally(hyps, name, op_rows, role[name], bad, grouped=True)
    # work orders: of the operations, of the lots and units upstream, and of the items themselves
    wo = topo.first("forWorkOrder")[nodes]
    has = wo >= 0
    _tally(hyps, "work_order", rows[has], wo[has].astype(np.int64), bad, grouped=True)
    # shifts at a work center (the machine's parent), and operators on one shift
    center = np.full(len(ops), -1, dtype=np.int64)
    known = ctx["performedOn"] >= 0
    if known.any():
        uniq, at = codes(ctx["performedOn"][known])
        center[known] = _first(topo, uniq, "partOf")[at]
    _pairs(hyps, "shift", op_rows, role["shift"], center[inverse], bad)
    _pairs(hyps, "operator_shift", op_rows, role["operator"], role["shift"], bad, need_other=True)
    _parameters(hyps, topo, ops, op_rows, inverse, bad)
    machine_states(hyps, topo, ops, op_rows, inverse, ctx["performedOn"], bad)
    return hyps


def _tally(hyps: Hypotheses, family: str, rows: Ints, keys: Ints, bad: np.ndarray, *, grouped: bool = False,
           others: tuple[Ints, Ints] | None = None, variant: str = "all") -> None:
    """Hypotheses of one family from ``(row, key)`` pairs (key -1: none): the distinct rows per key.

    ``grouped``: pairs come grouped by row and may repeat (an item's two operations on one work order);
    otherwise each pair is distinct. ``others``: keys are pair codes ``entity * len + other`` over these
    ``(entities, others)`` lists.
    """
    keep = keys >= 0
    rows, keys = rows[keep], keys[keep]
    if not len(keys):
        return
    if grouped:
        first = first_in_group(rows, keys)
        rows, keys = rows[first], keys[first]
    uniq, at = codes(keys)
    n = np.bincount(at, minlength=len(uniq))
    k = np.bincount(at[bad[rows]], minlength=len(uniq))
    if others is None:
        hyps.add(family, uniq, n, k, variant=variant)
    else:
        entities, other = others
        hyps.add(family, entities[uniq // len(other)], n, k, others=other[uniq % len(other)], variant=variant)


def _pairs(hyps: Hypotheses, family: str, rows: Ints, entities: Ints, others: Ints, bad: np.ndarray,
           variant: str = "all", *, need_other: bool = False, grouped: bool = True) -> None:
    """Hypotheses keyed by (entity, other); other -1 (unknown) makes one for the entity alone unless
    ``need_other``."""
    keep = (entities >= 0) & ((others >= 0) if need_other else True)
    if not keep.any():
        return
    e_uniq, e_code = codes(entities[keep])
    o_uniq, o_code = codes(others[keep] + 1)
    key = e_code * len(o_uniq) + o_code
    _tally(hyps, family, rows[keep], key, bad, grouped=grouped, others=(e_uniq, o_uniq - 1), variant=variant)


def _parameters(hyps: Hypotheses, topo: Topology, ops: Ints, op_rows: Ints, inverse: Ints, bad: np.ndarray) -> None:
    """Readings out of spec, or in the low or high tail of their machine's values: everywhere and per machine."""
    table = topo.reading_table()
    if not len(table.op):
        return
    flagged = {v: table.variant(v) for v in VARIANTS}
    any_flag = np.zeros(len(table.op), dtype=bool)
    for hit in flagged.values():
        any_flag |= hit
    suspect = member(ops, table.op[any_flag])  # operations with some flagged reading
    pairs = np.flatnonzero(suspect[inverse])  # their (row, operation) pairs
    pair_ops = ops[inverse[pairs]]
    order = np.argsort(pair_ops, kind="stable")
    pair_ops, pairs = pair_ops[order], pairs[order]
    for variant, hit in flagged.items():
        r_op, r_param, r_machine = table.op[hit], table.param[hit], table.machine[hit]
        lo = np.searchsorted(pair_ops, r_op, side="left")
        hi = np.searchsorted(pair_ops, r_op, side="right")
        counts = hi - lo
        reading = np.repeat(np.arange(len(r_op)), counts)
        at = pairs[np.repeat(lo, counts) + np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts,
                                                                                      counts)]
        rows = op_rows[at]
        order = np.argsort(rows, kind="stable")
        rows, param, machine = rows[order], r_param[reading][order], r_machine[reading][order]
        _tally(hyps, "parameter", rows, param, bad, grouped=True, variant=variant)
        _pairs(hyps, "equipment_parameter", rows[machine >= 0], machine[machine >= 0], param[machine >= 0], bad,
               variant)

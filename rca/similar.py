"""Similar units: items of the same product that share lots, machines, tools, operators or a work order with a
given item (machines, tools and operators count only within a time window of its own operations), ranked by
how much they share."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from zhuisu.errors import BadInput
from zhuisu.graph.engine import Engine
from zhuisu.ingest.records import from_epoch_ms
from zhuisu.rca.arrays import distinct
from zhuisu.rca.factors import closure
from zhuisu.rca.population import defect_codes
from zhuisu.rca.results import Similar, SimilarUnit
from zhuisu.rca.topology import ITEMS, Ints, Topology, topology
from zhuisu.rca.walk import downstream, operations_of

HOUR = 3_600_000.0
WEIGHTS = {"lot": 1.0, "equipment": 1.0, "tool": 1.0, "operator": 0.5, "work_order": 0.5}
_ROLES = (("performedOn", "equipment"), ("usedTool", "tool"), ("performedBy", "operator"))


def similar(engine: Engine, ref: str, *, window_hours: float = 24.0, limit: int = 20) -> Similar:
    """Items sharing the root item's factors, most shared first (ties: nearest in time)."""
    topo = topology(engine)
    root = engine.index(ref)
    if not topo.is_kind(*ITEMS)[root]:
        raise BadInput(f"{ref!r} is a {engine.kind(root)}; give a unit or a lot")
    peers = _peers(topo, root)
    factors = _factors(topo, root, window_hours * HOUR)
    score = np.zeros(topo.n)
    shared: dict[int, list[int]] = defaultdict(list)
    for i, (_, role, _, seeds) in enumerate(factors):
        reached, _ = downstream(topo, seeds)
        reached = reached[peers[reached]]
        reached = reached[reached != root]
        score[reached] += WEIGHTS[role]
        for n in reached.tolist():
            shared[n].append(i)
    found = np.flatnonzero(score > 0)
    t0 = topo.time[root]
    distance = np.abs(topo.time[found] - t0) if t0 == t0 else np.zeros(len(found))
    order = np.lexsort((found, np.nan_to_num(distance, nan=np.inf), -score[found]))[:limit]
    best = found[order]
    codes = defect_codes(topo, best)
    units = tuple(
        SimilarUnit(engine.uid(n), float(score[n]), tuple(engine.uid(factors[i][0]) for i in shared[n]),
                    from_epoch_ms(int(topo.time[n])) if topo.time[n] == topo.time[n] else None,
                    tuple(sorted(codes.get(n, ()))))
        for n in best.tolist()
    )
    described = tuple({"uid": engine.uid(node), "kind": engine.kind(node), "role": role, "how": how}
                      for node, role, how, _ in factors)
    return Similar(engine.uid(root), described, units, window_hours)


def _peers(topo: Topology, root: int) -> np.ndarray:
    """Per node: whether it is an item of the root's own product (or material), or of its kind if it has none."""
    _, product, _ = topo.context_of(np.array([root], dtype=np.int64), "instanceOf")
    out = np.zeros(topo.n, dtype=bool)
    if len(product):
        _, members, _ = topo.sources_of(product, "instanceOf")
        out[members] = True
    else:
        out[topo.kind == topo.kind[root]] = True
    return out


def _factors(topo: Topology, root: int, window: float) -> list[tuple[int, str, str, Ints]]:
    """The root's factors: ``(node, role, how, seeds of the forward walk)``."""
    _, up = closure(topo, np.array([root], dtype=np.int64))
    out: list[tuple[int, str, str, Ints]] = []
    for lot in up[topo.is_kind(*ITEMS)[up]].tolist():
        out.append((lot, "lot", "批次 lot", np.array([lot], dtype=np.int64)))
    ops = up[topo.is_kind("Operation")[up]]
    seen: set[tuple[int, str]] = set()
    for rel, role in _ROLES:
        pos, other, _ = topo.context_of(ops, rel)
        for p, node in zip(pos.tolist(), other.tolist(), strict=True):
            t = topo.time[ops[p]]
            if (node, role) in seen or t != t:
                continue
            seen.add((node, role))
            seeds = operations_of(topo, node, rel, t - window, t + window)
            how = f"±{window / HOUR:g} h"
            out.append((node, role, how, seeds))
    items = np.concatenate([[root], up[topo.is_kind(*ITEMS)[up]]]).astype(np.int64)
    _, orders, _ = topo.context_of(np.concatenate([items, ops]), "forWorkOrder")
    for wo in distinct(orders).tolist():
        out.append((wo, "work_order", "工单 work order", operations_of(topo, wo, "forWorkOrder", -np.inf, np.inf)))
    return out

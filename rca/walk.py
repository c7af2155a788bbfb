"""Whole-frontier walks over the material flow and the operations a context node took part in."""

from __future__ import annotations

import numpy as np

from zhuisu.errors import BadInput
from zhuisu.rca.arrays import distinct
from zhuisu.rca.topology import ITEMS, Ints, Topology

MAX_LEVELS = 64


def downstream(topo: Topology, seeds: Ints, *, stop_at: tuple[str, ...] = ()) -> tuple[Ints, Ints]:
    """Every node reached forward from the seeds over material edges, with its level (seeds: 0).

    ``stop_at``: kinds not walked through (they are reached, not expanded).
    """
    level = np.full(topo.n, -1, dtype=np.int64)
    frontier = distinct(seeds)
    level[frontier] = 0
    stop = topo.is_kind(*stop_at) if stop_at else np.zeros(topo.n, dtype=bool)
    for depth in range(1, MAX_LEVELS):
        frontier = frontier[~stop[frontier]]
        _, index = topo.down.gather(frontier)
        nxt = distinct(topo.down.items[index])
        nxt = nxt[level[nxt] < 0]
        if not len(nxt):
            break
        level[nxt] = depth
        frontier = nxt
    reached = np.flatnonzero(level >= 0)
    return reached, level[reached]


def operations_of(topo: Topology, node: int, rel: str, lo: float, hi: float) -> Ints:
    """Operations linked to a context node by ``rel`` (e.g. performedOn a machine) whose time is in [lo, hi]
    (or whose time is unknown)."""
    _, ops, _ = topo.sources_of(np.array([node], dtype=np.int64), rel)
    ops = distinct(ops)
    t = topo.time[ops]
    return ops[np.isnan(t) | ((t >= lo) & (t <= hi))]


def machine_parts(topo: Topology, node: int) -> Ints:
    """A machine and everything under it in the equipment hierarchy (a line: its work centers and units)."""
    found = {node}
    frontier = np.array([node], dtype=np.int64)
    while len(frontier):
        _, children, _ = topo.sources_of(frontier, "partOf")
        frontier = np.array(sorted(set(children.tolist()) - found), dtype=np.int64)
        found |= set(frontier.tolist())
    nodes = np.array(sorted(found), dtype=np.int64)
    return nodes[topo.is_kind("Equipment")[nodes]]


def items_only(topo: Topology, nodes: Ints) -> Ints:
    return nodes[topo.is_kind(*ITEMS)[nodes]]


def require_kind(topo: Topology, node: int, allowed: tuple[str, ...], what: str) -> None:
    if not topo.is_kind(*allowed)[node]:
        raise BadInput(f"{what}: {topo.engine.uid(node)!r} is a {topo.engine.kind(node)}; "
                       f"give one of {', '.join(allowed)}")

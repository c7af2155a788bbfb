"""The traversal core of traces: which nodes a root reaches over material flow, at which level, and how
much of the root (or of each node) they carry.

``reach`` is what benchmarks time against other engines; ``trace`` builds its report on ``walk`` and
``amounts``. The walk is one compiled loop (``kernels.bfs``); quantities are array work per topological
generation, with no Python per node or edge.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

import numpy as np

from zhuisu.errors import BadInput
from zhuisu.graph.csr import Csr
from zhuisu.graph.engine import Engine, Floats, Ints
from zhuisu.ingest.records import epoch_ms

DIRECTIONS = ("backward", "forward")


class Walk(NamedTuple):
    """Reached nodes in breadth-first order (the root first) with their levels, and the edges followed."""

    nodes: Ints
    levels: Ints
    edges: Ints


class Reach(NamedTuple):
    """What a root reaches: nodes (breadth-first order), their level, and what each received.

    ``received``: forward, how much of the root reached the node (a share of the root where the
    root's quantity is unknown); backward, how much of the node went into the root. NaN on or past
    a rework loop (a cycle in the material flow).
    """

    nodes: Ints
    levels: Ints
    received: Floats


def reach(engine: Engine, root: int, direction: str = "backward", depth: int | None = None,
          since: datetime | None = None, until: datetime | None = None) -> Reach:
    """Nodes reached from node index ``root`` over material edges, with levels and quantities received."""
    forward = _forward(direction)
    lo, hi = epoch_ms(since), epoch_ms(until)
    walked = walk(engine, root, forward=forward, depth=depth,
                  lo=-np.inf if lo is None else lo, hi=np.inf if hi is None else hi)
    received, _ = amounts(engine, walked, forward=forward)
    return Reach(walked.nodes, walked.levels, received)


def _forward(direction: str) -> bool:
    if direction not in DIRECTIONS:
        raise BadInput(f"direction must be one of {', '.join(DIRECTIONS)}, not {direction!r}")
    return direction == "forward"


def walk(engine: Engine, root: int, *, forward: bool, depth: int | None = None, lo: float = -np.inf,
         hi: float = np.inf) -> Walk:
    """Breadth-first levels of the nodes reached over material edges, and the edges followed among them.

    An edge whose time falls outside ``lo``..``hi`` (epoch ms, inclusive) is not followed; one without
    a time always is. Edges are kept grouped by the node they were expanded from, in breadth-first
    order, which ``amounts`` relies on. The loop itself is compiled (``kernels.bfs``).
    """
    from zhuisu.graph import kernels  # numba loads on the first query, not with every command

    parts = engine.adjacency("mat_out" if forward else "mat_in")
    main = parts[0]
    tail = parts[1] if len(parts) > 1 else Csr(np.zeros(1, dtype=main.offsets.dtype), main.edge[:0], main.nbr[:0])  # type: ignore[index]
    scratch = engine.scratch.take(engine.num_nodes)  # not given back if the walk fails: its marks are unknown
    nodes, edges = kernels.bfs(main.offsets, main.edge, main.nbr, tail.offsets, tail.edge, tail.nbr, scratch.mark,
                               scratch.pos, root, -1 if depth is None else depth, engine.edge_id, engine.has_holes,
                               engine.edge_t, lo, hi, lo > -np.inf or hi < np.inf)
    levels = scratch.mark[nodes].astype(np.int64)
    engine.scratch.give(scratch, nodes)
    return Walk(nodes, levels, edges)


def totals(own: Floats, out: Floats, known: Ints) -> Floats:
    """Each node's own amount: what was produced or supplied into it, else what left it; NaN if unknown."""
    # more consumed than produced is a data error; the larger figure keeps every share at most 1
    return np.where(np.isnan(own), np.where(known > 0, out, np.nan), np.maximum(own, out))


def amounts(engine: Engine, walked: Walk, *, forward: bool) -> tuple[Floats, float]:
    """Per reached node: forward, how much of the root it received; backward, how much of it went into
    the root. Also returns the root's total (NaN when unknown: forward amounts are then shares)."""
    from zhuisu.graph import kernels

    nodes, edges = walked.nodes, walked.edges
    out, known, count = engine.outflow(nodes)  # per reached node once; per edge only from small arrays
    total = totals(engine.own(nodes), out, known)
    root_total = float(total[0])
    amount = root_total if forward and np.isfinite(root_total) else 1.0
    scratch = engine.scratch.take(engine.num_nodes)
    position = scratch.pos  # never cleared: only the reached nodes' entries are read
    position[nodes] = np.arange(len(nodes), dtype=np.int32)
    src, dst = position[engine.edge_src[edges]], position[engine.edge_dst[edges]]
    engine.scratch.give(scratch)
    value = kernels.amounts(src, dst, engine.edge_qty[edges], total, out, known, count, forward, amount)
    return (value if forward else value * total), root_total

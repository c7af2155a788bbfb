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
from zhuisu.graph import kernels
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


def shares(total: Floats, out: Floats, known: Ints, count: Ints, qty: Floats) -> Floats:
    """The share of its source's amount that each material edge carries, from the source's figures
    (``total``, known ``out``flow, edges with a quantity ``known``, edges ``count``) and the edge's ``qty``.

    Edges with a quantity carry it over the source's total; edges without one split the rest
    equally; a source whose total is unknown splits equally over all its edges.
    """
    rest = np.maximum(np.nan_to_num(total) - out, 0.0) / np.maximum(count - known, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(np.isnan(qty), rest, qty) / total
    return np.where(total > 0, share, 1.0 / np.maximum(count, 1))


def amounts(engine: Engine, walked: Walk, *, forward: bool) -> tuple[Floats, float]:
    """Per reached node: forward, how much of the root it received; backward, how much of it went into
    the root. Also returns the root's total (NaN when unknown: forward amounts are then shares)."""
    nodes, edges = walked.nodes, walked.edges
    n = len(nodes)
    scratch = engine.scratch.take(engine.num_nodes)
    try:
        position = scratch.pos
        position[nodes] = np.arange(n, dtype=np.int32)
        src, dst = position[engine.edge_src[edges]], position[engine.edge_dst[edges]]
    finally:
        engine.scratch.give(scratch)
    # per reached node once, then per edge from these small arrays: few gathers over the whole graph
    out, known, count = engine.outflow(nodes)
    total = totals(engine.own(nodes), out, known)
    weight = shares(total[src], out[src], known[src], count[src], engine.edge_qty[edges])
    root_total = float(total[0])
    if forward:
        amount = root_total if np.isfinite(root_total) else 1.0
        return propagate(src, dst, weight, n, amount), root_total
    return propagate(dst, src, weight, n, 1.0) * total, root_total


def propagate(parent: Ints, child: Ints, weight: Floats, n: int, amount: float) -> Floats:
    """Push ``amount`` from position 0 along parent→child edges, one topological generation at a time.

    ``parent`` must be non-decreasing (edges grouped by the node they leave, in node order), as a walk
    gives them. Nodes on a cycle (a rework loop) and below it get NaN; edges back into the start are
    dropped, since what returns to the root is not more of it. Work is O(nodes + edges) per generation
    at most, and a few array operations each.
    """
    keep = child != 0
    parent, child, weight = parent[keep], child[keep], weight[keep]
    if len(parent) > 1 and (np.diff(parent) < 0).any():
        order = np.argsort(parent, kind="stable")
        parent, child, weight = parent[order], child[order], weight[order]
    bounds = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(parent, minlength=n), out=bounds[1:])
    value = np.zeros(n)
    value[0] = amount
    pending = np.bincount(child, minlength=n)
    done = np.zeros(n, dtype=bool)
    ready = np.flatnonzero(pending == 0)
    while len(ready):
        done[ready] = True
        lo = bounds[ready]
        counts = bounds[ready + 1] - lo
        total = int(counts.sum())
        if not total:
            break
        idx = np.arange(total) + np.repeat(lo - (np.cumsum(counts) - counts), counts)
        to = child[idx]
        flow = value[parent[idx]] * weight[idx]
        if total < n // 64:  # a small generation: scattered updates
            np.add.at(value, to, flow)
            np.subtract.at(pending, to, 1)
            touched = to[pending[to] == 0]
            ready = np.unique(touched)
        else:  # a large one: whole-array passes beat scattered writes
            value += np.bincount(to, weights=flow, minlength=n)
            hits = np.bincount(to, minlength=n)
            pending -= hits
            ready = np.flatnonzero((hits > 0) & (pending == 0))
    value[~done] = np.nan
    return value

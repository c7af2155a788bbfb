"""Compiled traversal kernels (numba): loops over the engine's int32 adjacency arrays at machine speed.

A breadth-first walk visits each reached node and each of its edges once. Built from numpy calls it
pays a dozen allocations per level, most of a small backward trace's time (a few thousand nodes over
ten levels); as one loop it pays none. The kernels compile on first use, are cached on disk (numba's
``cache=True``), and release the GIL, so the API's query threads run them side by side.

Written for numba's compiler: one function, no calls to other compiled functions in the loop (each
would pass a dozen arrays by reference count), and the output grown per node, not checked per edge.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def bfs(offsets: np.ndarray, edge: np.ndarray, nbr: np.ndarray, tail_offsets: np.ndarray, tail_edge: np.ndarray,
        tail_nbr: np.ndarray, mark: np.ndarray, queue: np.ndarray, root: int, depth: int, edge_id: np.ndarray,
        holes: bool, edge_t: np.ndarray, lo: float, hi: float, windowed: bool) -> tuple[np.ndarray, np.ndarray]:
    """Breadth-first walk from ``root`` over an adjacency list and its tail (entries appended since).

    ``mark`` (-1 for unreached nodes) receives each reached node's level and ``queue`` (one entry per
    node) the reached nodes; the caller resets ``mark``. Returns the reached nodes in breadth-first order
    and the edges followed, grouped by the node they were expanded from, in that order (its main entries,
    then its tail ones). With ``depth`` >= 0, nodes at that level add only edges among reached nodes.
    An edge withdrawn (``edge_id`` < 0, checked when ``holes``) or, when ``windowed``, with a time outside
    ``lo``..``hi`` (NaN: no time, always followed) is not followed.
    """
    out = np.empty(1024, dtype=np.int64)
    queue[0] = root
    mark[root] = 0
    reached, head, k = 1, 0, 0
    main_n, tail_n = len(offsets) - 1, len(tail_offsets) - 1
    while head < reached:
        u = queue[head]
        head += 1
        level = mark[u]
        last = depth >= 0 and level >= depth
        for part in range(2):
            if part == 0:
                if u >= main_n:  # a node added after the list was built
                    continue
                at, edges, ends = offsets, edge, nbr
            else:
                if u >= tail_n:
                    continue
                at, edges, ends = tail_offsets, tail_edge, tail_nbr
            start, stop = at[u], at[u + 1]
            if k + (stop - start) > len(out):
                grown = np.empty(max(2 * len(out), k + (stop - start)), dtype=np.int64)
                grown[:k] = out[:k]
                out = grown
            for p in range(start, stop):
                e = edges[p]
                if holes and edge_id[e] < 0:
                    continue
                if windowed:
                    t = edge_t[e]
                    if not np.isnan(t) and (t < lo or t > hi):
                        continue
                v = ends[p]
                if mark[v] < 0:
                    if last:
                        continue
                    mark[v] = level + 1
                    queue[reached] = v
                    reached += 1
                out[k] = e
                k += 1
    return queue[:reached].astype(np.int64), out[:k]


@njit(cache=True, nogil=True)
def amounts(src: np.ndarray, dst: np.ndarray, qty: np.ndarray, total: np.ndarray, out: np.ndarray,
            known: np.ndarray, count: np.ndarray, forward: bool, amount: float) -> np.ndarray:
    """Push ``amount`` from the root (position 0) over a walk's edges, given by the positions of their
    ends in the walk (``src``, ``dst``) and their quantities; the per-node figures are by position.

    Each edge carries a share of its source's ``total``: its quantity over the total where known; edges
    without one split what the known ones leave (``out`` known outflow over ``known`` of ``count``
    edges); a source whose total is unknown splits equally over all its edges. Forward the root's amount
    flows src → dst; backward each node's share of the root flows dst → src (the caller multiplies by the
    node's total). Nodes are settled in topological order; those on a cycle (a rework loop) and below it
    get NaN; edges back into the root are dropped, since what returns to it is not more of it.
    """
    n, m = len(total), len(src)
    parent = src if forward else dst
    child = dst if forward else src
    start = np.zeros(n + 1, dtype=np.int64)
    pending = np.zeros(n, dtype=np.int64)
    for i in range(m):
        start[parent[i] + 1] += 1
        if child[i] != 0:
            pending[child[i]] += 1
    for u in range(n):
        start[u + 1] += start[u]
    order = np.empty(m, dtype=np.int64)  # edges by parent (a walk lists them so already: a stable pass)
    fill = start[:-1].copy()
    for i in range(m):
        order[fill[parent[i]]] = i
        fill[parent[i]] += 1
    value = np.zeros(n)
    value[0] = amount
    settled = np.zeros(n, dtype=np.bool_)
    ready = np.empty(n, dtype=np.int64)
    head, tail = 0, 0
    for u in range(n):
        if pending[u] == 0:
            ready[tail] = u
            tail += 1
    while head < tail:
        u = ready[head]
        head += 1
        settled[u] = True
        for j in range(start[u], start[u + 1]):
            i = order[j]
            c = child[i]
            if c == 0:
                continue
            s = src[i]
            t = total[s]
            if t > 0:
                q = qty[i]
                if np.isnan(q):
                    left = max(t - out[s], 0.0) / max(count[s] - known[s], 1)
                    weight = left / t
                else:
                    weight = q / t
            else:
                weight = 1.0 / max(count[s], 1)
            value[c] += value[u] * weight
            pending[c] -= 1
            if pending[c] == 0:
                ready[tail] = c
                tail += 1
    for u in range(n):
        if not settled[u]:
            value[u] = np.nan
    return value

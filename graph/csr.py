"""Compressed sparse rows over the engine's edge columns, and the scratch arrays traversals mark nodes in.

A ``Csr`` lists, per node, the edges leaving it (or entering it) as one run of int32 edge indices
(and, where a traversal needs them without a second lookup, the neighbours at the other end). A frontier
of nodes expands into all its edges with a handful of numpy calls, so a traversal does no Python work per
edge; one per breadth-first level is all.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

Ints = npt.NDArray[np.integer[Any]]


@dataclass(frozen=True, slots=True)
class Csr:
    """Per node ``i``, the edges ``edge[offsets[i]:offsets[i + 1]]`` and their far ends ``nbr[...]``."""

    offsets: Ints  # int32 (int64 past 2^31 entries), num_nodes + 1
    edge: Ints  # int32 edge index
    nbr: Ints | None  # int32 node at the other end; None where edge_src/edge_dst give it

    @property
    def num_nodes(self) -> int:
        return len(self.offsets) - 1

    def degree(self, nodes: Ints) -> Ints:
        nodes = nodes[nodes < self.num_nodes]
        return self.offsets[nodes + 1] - self.offsets[nodes]

    def positions(self, nodes: Ints) -> tuple[Ints, Ints]:
        """Positions of the entries of ``nodes`` in ``edge``/``nbr``, and how many each node has."""
        if self.num_nodes == 0 or len(nodes) == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(len(nodes), dtype=np.int64)
        inside = nodes < self.num_nodes  # nodes added after this Csr was built have no entries in it
        clipped = np.where(inside, nodes, 0)
        lo = self.offsets[clipped]
        counts = np.where(inside, self.offsets[clipped + 1] - lo, 0)
        if len(nodes) == 1:
            return np.arange(lo[0], lo[0] + counts[0]), counts
        total = int(counts.sum())
        # each node's run starts at its offset; arange + repeat shifts one global counter into the runs
        shift = np.repeat(lo - (np.cumsum(counts) - counts), counts)
        return np.arange(total, dtype=np.int64) + shift, counts


def build(keys: Ints, edges: Ints, num_nodes: int, nbrs: Ints | None = None) -> Csr:
    """A Csr of ``edges`` grouped by ``keys`` (the node each edge is listed under), stable in edge order."""
    order = np.argsort(keys, kind="stable")
    offsets = np.zeros(num_nodes + 1, dtype=np.int64)
    np.cumsum(np.bincount(keys, minlength=num_nodes), out=offsets[1:])
    if offsets[-1] < 2**31:  # int32 wherever the values fit: adjacency is most of the engine's memory
        offsets = offsets.astype(np.int32)
    return Csr(offsets, edges[order].astype(np.int32), None if nbrs is None else nbrs[order].astype(np.int32))


class Scratch:
    """Two per-node int32 arrays, kept at -1 between uses, so a traversal marks nodes without
    clearing a whole array first (it resets only what it touched); ``pos`` is never cleared."""

    __slots__ = ("mark", "aux", "pos")

    def __init__(self, size: int) -> None:
        self.mark = np.full(size, -1, dtype=np.int32)
        self.aux = np.full(size, -1, dtype=np.int32)
        self.pos = np.zeros(size, dtype=np.int32)

    def unique_new(self, nodes: Ints) -> Ints:
        """``nodes`` without repeats, first occurrences in order, in O(len) and without sorting."""
        if len(nodes) < 2:
            return nodes
        here = np.arange(len(nodes), dtype=np.int32)
        self.pos[nodes[::-1]] = here[::-1]  # the last write wins: the first occurrence
        return nodes[self.pos[nodes] == here]


class ScratchPool:
    """Scratch arrays for concurrent traversals (the API runs queries on a thread pool)."""

    def __init__(self) -> None:
        self._free: list[Scratch] = []
        self._size = 0
        self._lock = threading.Lock()

    def take(self, size: int) -> Scratch:
        with self._lock:
            if size != self._size:
                self._free, self._size = [], size
            return self._free.pop() if self._free else Scratch(size)

    def give(self, scratch: Scratch, *touched: Ints) -> None:
        for nodes in touched:
            scratch.mark[nodes] = -1
            scratch.aux[nodes] = -1
        with self._lock:
            if len(scratch.mark) == self._size and len(self._free) < 4:
                self._free.append(scratch)

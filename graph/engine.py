"""The in-memory graph: numpy columns per node and per edge, with compressed sparse rows for adjacency."""

from __future__ import annotations

import gc
import itertools
import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import rustworkx as rx

from zhuisu.errors import NotFound, StoreError
from zhuisu.graph import csr
from zhuisu.graph.csr import Csr, ScratchPool
from zhuisu.graph.uids import UidTable

if TYPE_CHECKING:
    from zhuisu.graph.store import Store

Ints = npt.NDArray[np.integer[Any]]
Floats = npt.NDArray[np.float64]

_CHUNK = 100_000  # store rows converted to arrays at a time while loading
_CREATES = ("produces", "supplies")  # relations whose quantity is the target's own amount
# numpy columns (attribute, fill for unused slots) indexed by node index, and by graph edge index
_NODE_COLUMNS = (("node_kind", 0), ("_id_of_ix", -1), ("_own", 0.0), ("_own_n", 0), ("_out", 0.0),
                 ("_out_known", 0), ("_out_n", 0))
# adjacency lists: name → (material only, listed under the source (True) or the destination)
_ADJACENCY = {"mat_out": (True, True), "mat_in": (True, False), "all_out": (False, True), "all_in": (False, False)}
_TAIL = 65_536  # edges appended since the last Csr build that may wait in a small tail Csr
_EDGE_COLUMNS = (("edge_id", -1), ("edge_src", 0), ("edge_dst", 0), ("edge_rel", 0), ("edge_t", np.nan),
                 ("edge_qty", np.nan), ("edge_uom", 0))


@dataclass(frozen=True, slots=True)
class Refresh:
    """What one ``Engine.refresh`` applied."""

    batch: int
    nodes_added: int
    nodes_changed: int
    edges_added: int
    edges_removed: int


class Engine:
    """The store's live nodes and edges in memory, kept in step with it by ``refresh``.

    Everything lives in numpy columns: per node (kind, store id, quantity sums) and per edge slot
    (store id, ends, relation, time, quantity, uom); uids are one bytes array (``UidTable``).
    Adjacency is compressed sparse rows over the edge slots (``csr.Csr``): material-flow edges
    out of and into each node, with the neighbour at the far end, and every edge out of and into
    each node. Traces walk the material lists only, so they never pass through a context hub (a
    machine, a shift). Edges appended by ``refresh`` go into a small tail list and are merged
    into the main ones once enough pile up; a withdrawn edge keeps its slot with ``edge_id`` -1.
    ``graph`` and ``flow`` build rustworkx views on demand, for callers that want rustworkx.
    """

    def __init__(self, store: Store) -> None:
        onto = store.ontology
        self.store = store
        self.kinds: tuple[str, ...] = tuple(sorted(onto.kinds))
        self.relations: tuple[str, ...] = tuple(sorted(onto.relations))
        self.kind_code = {name: i for i, name in enumerate(self.kinds)}
        self.rel_code = {name: i for i, name in enumerate(self.relations)}
        self.material = np.array([onto.relations[r].material for r in self.relations], dtype=bool)
        self._creates = np.isin(np.array(self.relations), _CREATES)
        self.batch = 0  # last store batch applied
        self._uids = UidTable()
        self._ix_of_id = np.full(0, -1, dtype=np.int32)  # store node id → node index
        self._id_of_ix = np.zeros(0, dtype=np.int32)  # node index → store node id
        self.node_kind = np.zeros(0, dtype=np.uint8)
        # per node, kept with the edges so that a trace splits quantities without reading neighbours:
        self._own = np.zeros(0, dtype=np.float64)  # sum of quantities produced or supplied into it
        self._own_n = np.zeros(0, dtype=np.int32)  # how many of those quantities were known
        self._out = np.zeros(0, dtype=np.float64)  # sum of the known quantities on its material out-edges
        self._out_known = np.zeros(0, dtype=np.int32)  # how many material out-edges have a quantity
        self._out_n = np.zeros(0, dtype=np.int32)  # how many material out-edges it has
        self.edge_id = np.zeros(0, dtype=np.int32)  # store edge id, -1 once removed
        self.edge_src = np.zeros(0, dtype=np.int32)
        self.edge_dst = np.zeros(0, dtype=np.int32)
        self.edge_rel = np.zeros(0, dtype=np.uint8)
        self.edge_t = np.zeros(0, dtype=np.float64)  # epoch ms, NaN without a time
        self.edge_qty = np.zeros(0, dtype=np.float64)  # NaN without a quantity
        self.edge_uom = np.zeros(0, dtype=np.uint16)  # index into ``uoms``; 0: none
        self.uoms: list[str | None] = [None]
        self._uom_code: dict[str | None, int] = {None: 0}
        self._num_nodes = 0
        self._slots = 0  # edge slots used, live or withdrawn
        self._live = 0
        self._max_edge_id = 0
        self._csr: dict[str, Csr] = {}  # over slots [0, _csr_upto), withdrawn ones left out
        self._csr_upto = 0
        self._tails: dict[str, Csr] = {}  # over slots [_csr_upto, _slots)
        self._holes = 0  # edges withdrawn since the Csr lists were built (still listed: filtered)
        self._version = 0  # bumped by every change, for the rustworkx views
        self._views: dict[str, Any] = {}
        self.scratch = ScratchPool()

    @classmethod
    def load(cls, store: Store, *, snapshot: bool | str | os.PathLike[str] = False) -> Engine:
        """Build the engine from everything the store holds.

        With ``snapshot`` (True: next to the SQLite file, or in the user cache for a server; or a
        folder), start from the arrays saved there when they belong to this store, apply what the
        store committed since, and save them when there were none.
        """
        if snapshot:
            from zhuisu.graph import snapshot as snap

            folder = snap.folder_for(store) if snapshot is True else Path(snapshot)
            engine = snap.read(store, folder)
            if engine is not None:
                engine.refresh()
                return engine
        engine = cls(store)
        engine.refresh()
        engine._fit()
        if snapshot:
            snap.write(engine, folder)
        return engine

    # ── lookups ────────────────────────────────────────────────────────────────
    def index(self, ref: str) -> int:
        """The node index of a uid, or of an alias the store resolves."""
        found = self._uids.get(ref)
        if found is not None:
            return found
        try:
            uid = self.store.resolve(ref)
        except NotFound:
            raise NotFound(self._not_found(ref)) from None
        found = self._uids.get(uid)
        if found is None:
            raise NotFound(f"找不到 not found: {ref!r} is in the store but not in the engine yet; refresh it")
        return found

    def uid(self, index: int) -> str:
        """The uid of a node index."""
        return self._uids[index]

    @property
    def uids(self) -> UidTable:
        """Uids by node index (read-only; ``uids.mask(prefix)`` selects nodes by uid prefix)."""
        return self._uids

    def kind(self, index: int) -> str:
        """The kind name of a node index."""
        return self.kinds[self.node_kind[index]]

    def index_of_id(self, node_id: int) -> int:
        """The node index of a store node id."""
        return int(self._ix_of_id[node_id])

    def node_id(self, index: int) -> int:
        """The store id of a node index."""
        return int(self._id_of_ix[index])

    def node_ids(self, indices: Ints) -> Ints:
        """The store ids of node indices."""
        return self._id_of_ix[indices]

    @property
    def num_nodes(self) -> int:
        return self._num_nodes

    @property
    def num_edges(self) -> int:
        """Live edges."""
        return self._live

    @property
    def num_slots(self) -> int:
        """Edge slots in use: edge indices run from 0 below this (withdrawn ones have ``edge_id`` -1)."""
        return self._slots

    def kind_codes(self, names: Iterable[str]) -> npt.NDArray[np.bool_]:
        """Per kind code, whether it is one of ``names`` or a subclass of one (unknown names raise)."""
        onto = self.store.ontology
        wanted = {onto.kind(name).name for name in names}
        return np.array([bool(wanted.intersection(onto.kinds[k].ancestors)) for k in self.kinds], dtype=bool)

    def own(self, nodes: Ints) -> Floats:
        """Quantity produced or supplied into each node, NaN where none is known."""
        return np.where(self._own_n[nodes] > 0, self._own[nodes], np.nan)

    def outflow(self, nodes: Ints) -> tuple[Floats, Ints, Ints]:
        """Per node: the known quantities on its material out-edges summed, how many have one, how many."""
        return self._out[nodes], self._out_known[nodes], self._out_n[nodes]

    def nbytes(self) -> int:
        """Bytes held in the engine's arrays (columns, adjacency, uids)."""
        arrays = [getattr(self, name) for name, _ in (*_NODE_COLUMNS, *_EDGE_COLUMNS)]
        arrays.append(self._ix_of_id)
        for c in (*self._csr.values(), *self._tails.values()):
            arrays += [c.offsets, c.edge] + ([c.nbr] if c.nbr is not None else [])
        return int(sum(a.nbytes for a in arrays)) + self._uids.nbytes

    # ── adjacency ──────────────────────────────────────────────────────────────
    def adjacency(self, name: str) -> list[Csr]:
        """The Csr lists named ``mat_out``, ``mat_in``, ``all_out`` or ``all_in``: the main one, and a
        tail for edges appended since it was built. Withdrawn edges may still be listed while
        ``has_holes``; filter them with ``edge_id >= 0``."""
        pending = self._slots - self._csr_upto
        if name not in self._csr or pending > max(_TAIL, self._csr_upto // 8):
            self._build_csr()
        elif pending and name not in self._tails:
            self._tails[name] = self._list(name, self._csr_upto, self._slots)
        return [self._csr[name], self._tails[name]] if pending else [self._csr[name]]

    @property
    def has_holes(self) -> bool:
        return self._holes > 0

    def expand(self, name: str, nodes: Ints) -> tuple[Ints, Ints, Ints | None]:
        """The edges listed under ``nodes`` in adjacency ``name``: ``(owner node, edge index, far end)``."""
        nodes = np.asarray(nodes, dtype=np.int64)
        owners, edges, nbrs = [], [], []
        for c in self.adjacency(name):
            pos, counts = c.positions(nodes)
            owners.append(np.repeat(nodes, counts))
            edges.append(c.edge[pos])
            nbrs.append(None if c.nbr is None else c.nbr[pos])
        owner, edge = np.concatenate(owners), np.concatenate(edges).astype(np.int64)
        nbr = None if nbrs[0] is None else np.concatenate(nbrs)  # type: ignore[arg-type]
        if self._holes:
            live = self.edge_id[edge] >= 0
            owner, edge = owner[live], edge[live]
            nbr = None if nbr is None else nbr[live]
        return owner, edge, nbr

    def material_edges(self, nodes: Iterable[int], *, forward: bool) -> Ints:
        """Edge indices of the material edges leaving (``forward``) or entering the nodes."""
        return self.expand("mat_out" if forward else "mat_in", _as_array(nodes))[1]

    def material_edges_of(self, nodes: Sequence[int], *, forward: bool) -> tuple[Ints, Ints]:
        """``(node, edge index)`` pairs of the material edges leaving (``forward``) or entering the nodes."""
        owner, edge, _ = self.expand("mat_out" if forward else "mat_in", _as_array(nodes))
        return owner, edge

    def context_edges_of(self, nodes: Sequence[int]) -> tuple[Ints, Ints]:
        """``(node, edge index)`` pairs of the context edges touching the nodes, in either direction."""
        nodes = _as_array(nodes)
        out_owner, out_edge, _ = self.expand("all_out", nodes)
        in_owner, in_edge, _ = self.expand("all_in", nodes)
        owner, edges = np.concatenate([out_owner, in_owner]), np.concatenate([out_edge, in_edge])
        keep = ~self.material[self.edge_rel[edges]]
        return owner[keep], edges[keep]

    def edges_between(self, u: int, v: int) -> Ints:
        """Indices of the live edges from ``u`` to ``v``."""
        if self.degree(np.array([u])) <= self.degree(np.array([v])):
            edge = self.expand("all_out", np.array([u]))[1]
            return edge[self.edge_dst[edge] == v]
        edge = self.expand("all_in", np.array([v]))[1]
        return edge[self.edge_src[edge] == u]

    def degree(self, nodes: Ints, *, material_only: bool = False) -> int:
        """Edges touching the nodes, in either direction (withdrawn ones still listed included)."""
        names = ("mat_out", "mat_in") if material_only else ("all_out", "all_in")
        return int(sum(c.degree(nodes).sum() for name in names for c in self.adjacency(name)))

    def _list(self, name: str, lo: int, hi: int) -> Csr:
        material, outgoing = _ADJACENCY[name]
        slots = np.arange(lo, hi, dtype=np.int64)
        slots = slots[self.edge_id[lo:hi] >= 0]
        if material:
            slots = slots[self.material[self.edge_rel[slots]]]
        key, far = (self.edge_src, self.edge_dst) if outgoing else (self.edge_dst, self.edge_src)
        return csr.build(key[slots], slots, self._num_nodes, far[slots] if material else None)

    def _build_csr(self) -> None:
        self._csr = {name: self._list(name, 0, self._slots) for name in _ADJACENCY}
        self._csr_upto, self._tails, self._holes = self._slots, {}, 0

    # ── rustworkx views ────────────────────────────────────────────────────────
    @property
    def graph(self) -> rx.PyDiGraph:
        """Every live edge as a rustworkx digraph (built on first use after a change): node payloads are
        store ids, edge payloads relation codes, and its edge indices are the engine's edge slots."""
        return self._view("graph")

    @property
    def flow(self) -> rx.PyDiGraph:
        """The material-flow edges as a rustworkx digraph; ``flow_edge`` maps its edge indices to slots."""
        return self._view("flow")

    @property
    def flow_edge(self) -> Ints:
        self._view("flow")
        return self._views["flow_edge"]

    def _view(self, name: str) -> rx.PyDiGraph:
        if self._views.get("version") != self._version:
            self._views = {"version": self._version}
        if name not in self._views:
            graph = rx.PyDiGraph(multigraph=True)
            graph.add_nodes_from(self._id_of_ix[: self._num_nodes].tolist())
            m = self._slots
            src, dst, rel = (c[:m].tolist() for c in (self.edge_src, self.edge_dst, self.edge_rel))
            if name == "graph":
                graph.add_edges_from(list(zip(src, dst, rel, strict=True)))
                for hole in np.flatnonzero(self.edge_id[:m] < 0).tolist():
                    graph.remove_edge_from_index(hole)
            else:
                slots = np.flatnonzero((self.edge_id[:m] >= 0) & self.material[self.edge_rel[:m]])
                graph.add_edges_from([(src[i], dst[i], rel[i]) for i in slots.tolist()])
                self._views["flow_edge"] = slots.astype(np.int32)
            self._views[name] = graph
        return self._views[name]

    # ── keeping in step with the store ─────────────────────────────────────────
    def refresh(self) -> Refresh:
        """Apply the nodes, edges and retractions the store committed since the last refresh."""
        last = self.store.last_batch()  # read first: anything committed later is applied again next time
        since = self.batch
        with no_cycle_collection():
            added, changed = self._apply_nodes(self.store.node_rows(since))
            edges_added = sum(self._add_edges(chunk) for chunk in chunks(self.store.edge_rows(since), _CHUNK))
        removed = self._remove_edges(self.store.retracted_edge_ids(since)) if since else 0
        self.batch = last
        if added or changed or edges_added or removed:
            self._version += 1
            self._tails = {}
        return Refresh(last, added, changed, edges_added, removed)

    def _apply_nodes(self, rows: Iterable[Any]) -> tuple[int, int]:
        added = changed = 0
        empty = self._num_nodes == 0  # a first load: every node is new, no lookups needed
        for chunk in chunks(rows, _CHUNK):
            if empty:
                fresh = chunk
            else:
                found = self._uids.get_many([r[1] for r in chunk]).tolist()
                fresh = []
                for (node_id, uid, kind), index in zip(chunk, found, strict=True):
                    if index < 0:
                        fresh.append((node_id, uid, kind))
                    elif self.node_kind[index] != self.kind_code[kind]:
                        self.node_kind[index] = self.kind_code[kind]
                        changed += 1
            if fresh:
                self._add_nodes(fresh, index=not empty)
                added += len(fresh)
        if empty and added:
            self._uids.sort()
        return added, changed

    def _add_nodes(self, rows: Sequence[tuple[int, str, str]], *, index: bool = True) -> None:
        start = self._num_nodes
        indices = np.arange(start, start + len(rows), dtype=np.int64)
        self._grow(_NODE_COLUMNS, start + len(rows))
        self.node_kind[indices] = [self.kind_code[r[2]] for r in rows]
        id_array = _ids(np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)), "node")
        self._grow((("_ix_of_id", -1),), int(id_array.max()) + 1)
        self._ix_of_id[id_array] = indices
        self._id_of_ix[indices] = id_array
        self._uids.append((r[1] for r in rows), index=index)
        self._num_nodes += len(rows)

    def _add_edges(self, rows: Sequence[Any]) -> int:
        if rows and rows[0][0] <= self._max_edge_id:  # rows come by id: skip those applied already
            rows = [r for r in rows if r[0] > self._max_edge_id]
        if not rows:
            return 0
        ids, src_ids, dst_ids, rels, times, qtys, uoms = zip(*rows, strict=True)
        ids_a = _ids(np.asarray(ids, dtype=np.int64), "edge")
        src = self._indices_of(np.asarray(src_ids, dtype=np.int64))
        dst = self._indices_of(np.asarray(dst_ids, dtype=np.int64))
        rel = np.fromiter(map(self.rel_code.__getitem__, rels), dtype=np.uint8, count=len(rels))
        start = self._slots
        ix = np.arange(start, start + len(rows), dtype=np.int64)
        self._grow(_EDGE_COLUMNS, start + len(rows))
        self.edge_id[ix], self.edge_src[ix], self.edge_dst[ix], self.edge_rel[ix] = ids_a, src, dst, rel
        self.edge_t[ix] = np.asarray(times, dtype=np.float64)
        self.edge_qty[ix] = np.asarray(qtys, dtype=np.float64)  # None becomes NaN
        self.edge_uom[ix] = [self._uom_code.get(u) or self._new_uom(u) for u in uoms]
        self._slots += len(rows)
        self._live += len(rows)
        self._tally(ix, +1)
        self._max_edge_id = int(ids_a.max())
        return len(rows)

    def _new_uom(self, uom: str) -> int:
        self._uom_code[uom] = len(self.uoms)
        self.uoms.append(uom)
        return self._uom_code[uom]

    def _indices_of(self, ids: Ints) -> Ints:
        """Node indices of store ids, loading nodes committed after this refresh read its nodes."""
        known = ids < len(self._ix_of_id)
        if not known.all() or (self._ix_of_id[ids[known]] < 0).any():
            missing = {i for i in ids.tolist() if i >= len(self._ix_of_id) or self._ix_of_id[i] < 0}
            records = self.store.nodes_by_id(missing).values()
            self._add_nodes([(r.id, r.uid, r.kind) for r in sorted(records, key=lambda r: r.id)])
        return self._ix_of_id[ids]

    def _tally(self, edges: Ints, sign: int) -> None:
        """Add (or, with ``sign`` -1, take back) edges in the per-node quantity sums."""
        rel, qty, src = self.edge_rel[edges], self.edge_qty[edges], self.edge_src[edges]
        known = ~np.isnan(qty)
        into = self._creates[rel] & known
        np.add.at(self._own, self.edge_dst[edges][into], sign * qty[into])
        np.add.at(self._own_n, self.edge_dst[edges][into], sign)
        material = self.material[rel]
        np.add.at(self._out_n, src[material], sign)
        np.add.at(self._out, src[material & known], sign * qty[material & known])
        np.add.at(self._out_known, src[material & known], sign)

    def _remove_edges(self, edge_ids: list[int]) -> int:
        if not edge_ids:
            return 0
        removed = 0
        for row in self.store.edge_details(edge_ids).values():
            if row.src >= len(self._ix_of_id) or row.dst >= len(self._ix_of_id):
                continue
            src, dst = int(self._ix_of_id[row.src]), int(self._ix_of_id[row.dst])
            if src < 0 or dst < 0:
                continue
            for ix in self.edges_between(src, dst).tolist():
                if self.edge_id[ix] != row.id:
                    continue
                self._tally(np.array([ix]), -1)
                self.edge_id[ix] = -1
                self._holes += 1
                self._live -= 1
                removed += 1
        return removed

    def _grow(self, columns: Sequence[tuple[str, Any]], size: int) -> None:
        """Room for ``size`` entries in each column, grown geometrically so appends stay amortised O(1)."""
        for name, fill in columns:
            array = getattr(self, name)
            if size > len(array):
                grown = np.full(max(size, 2 * len(array), 1024), fill, dtype=array.dtype)
                grown[: len(array)] = array
                setattr(self, name, grown)

    def _fit(self) -> None:
        """Drop the slack that geometric growth left, after a full load, and build the adjacency lists."""
        for columns, size in ((_NODE_COLUMNS, self._num_nodes), (_EDGE_COLUMNS, self._slots),
                              ((("_ix_of_id", -1),), int(self._id_of_ix[: self._num_nodes].max(initial=-1)) + 1)):
            for name, _ in columns:
                setattr(self, name, getattr(self, name)[:size].copy())
        self._uids.fit()
        self._build_csr()

    def _not_found(self, ref: str) -> str:
        """A message for an unknown uid that names near uids sharing its prefix, if any."""
        stem = ref[: max(len(ref) - 3, ref.find(":") + 1)]
        near = self._uids.starting_with(stem, 5) if stem else []
        hint = f"; did you mean: {', '.join(near)}" if near else "; check it: PREFIX:ID, e.g. unit:SN-1"
        return f"找不到 not found: {ref!r} is neither a uid nor an alias in the store{hint}"


def _ids(ids: Ints, what: str) -> Ints:
    """Store ids as the engine's int32 columns hold them (an engine past 2^31 rows would not fit memory)."""
    if len(ids) and int(ids.max()) >= 2**31:
        raise StoreError(f"{what} id {int(ids.max())} exceeds the engine's int32 columns; compact the store")
    return ids


def _as_array(nodes: Iterable[int]) -> Ints:
    if isinstance(nodes, np.ndarray):
        return nodes.astype(np.int64, copy=False)
    return np.fromiter(nodes, dtype=np.int64)


@contextmanager
def no_cycle_collection() -> Iterator[None]:
    """Pause the cycle collector while building many acyclic objects (store rows, result records).

    It would otherwise rescan them again and again: half the time of a load or a large trace.
    Nothing built meanwhile forms a cycle, so reference counting frees it all the same.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def chunks(rows: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """``rows`` in lists of ``size`` (the last one shorter), read lazily: any iterable, a query's rows too."""
    iterator = iter(rows)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk

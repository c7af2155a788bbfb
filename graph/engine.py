"""The in-memory graph: rustworkx digraphs over integer node indices plus numpy columns per edge."""

from __future__ import annotations

import gc
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import rustworkx as rx

from zhuisu.errors import NotFound

if TYPE_CHECKING:
    from zhuisu.graph.store import Store

Ints = npt.NDArray[np.integer[Any]]
Floats = npt.NDArray[np.float64]

_CHUNK = 100_000  # store rows converted to arrays at a time while loading
_CREATES = ("produces", "supplies")  # relations whose quantity is the target's own amount
# numpy columns (attribute, fill for unused slots) indexed by node index, and by graph edge index
_NODE_COLUMNS = (("node_kind", 0), ("_id_of_ix", -1), ("_own", 0.0), ("_own_n", 0), ("_out", 0.0),
                 ("_out_known", 0), ("_out_n", 0))
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

    ``graph`` holds every live edge and ``flow`` only the material-flow ones, over the same node
    indices, so traces walk ``flow`` and never pass through a context hub (a machine, a shift).
    Node payloads are store ids and edge payloads relation codes; everything else an edge carries
    lives in numpy columns indexed by its ``graph`` edge index (``flow_edge`` maps a ``flow`` edge
    index to it), so a plant of millions of edges holds no Python object per edge.
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
        self.graph = rx.PyDiGraph(multigraph=True)
        self.flow = rx.PyDiGraph(multigraph=True)
        self.batch = 0  # last store batch applied
        self._uids: list[str] = []
        self._index: dict[str, int] = {}
        self._ix_of_id = np.full(0, -1, dtype=np.int64)  # store node id → node index
        self._id_of_ix = np.zeros(0, dtype=np.int64)  # node index → store node id
        self.node_kind = np.zeros(0, dtype=np.uint8)
        # per node, kept with the edges so that a trace splits quantities without reading neighbours:
        self._own = np.zeros(0, dtype=np.float64)  # sum of quantities produced or supplied into it
        self._own_n = np.zeros(0, dtype=np.int32)  # how many of those quantities were known
        self._out = np.zeros(0, dtype=np.float64)  # sum of the known quantities on its material out-edges
        self._out_known = np.zeros(0, dtype=np.int32)  # how many material out-edges have a quantity
        self._out_n = np.zeros(0, dtype=np.int32)  # how many material out-edges it has
        self.edge_id = np.zeros(0, dtype=np.int64)  # store edge id, -1 once removed
        self.edge_src = np.zeros(0, dtype=np.int32)
        self.edge_dst = np.zeros(0, dtype=np.int32)
        self.edge_rel = np.zeros(0, dtype=np.uint8)
        self.edge_t = np.zeros(0, dtype=np.float64)  # epoch ms, NaN without a time
        self.edge_qty = np.zeros(0, dtype=np.float64)  # NaN without a quantity
        self.edge_uom = np.zeros(0, dtype=np.uint16)  # index into ``uoms``; 0: none
        self.uoms: list[str | None] = [None]
        self._uom_code: dict[str | None, int] = {None: 0}
        self.flow_edge = np.zeros(0, dtype=np.int32)
        self._max_edge_id = 0

    @classmethod
    def load(cls, store: Store) -> Engine:
        """Build the engine from everything the store holds."""
        engine = cls(store)
        engine.refresh()
        engine._fit()
        return engine

    # ── lookups ────────────────────────────────────────────────────────────────
    def index(self, ref: str) -> int:
        """The node index of a uid, or of an alias the store resolves."""
        found = self._index.get(ref)
        if found is not None:
            return found
        try:
            uid = self.store.resolve(ref)
        except NotFound:
            raise NotFound(self._not_found(ref)) from None
        found = self._index.get(uid)
        if found is None:
            raise NotFound(f"找不到 not found: {ref!r} is in the store but not in the engine yet; refresh it")
        return found

    def uid(self, index: int) -> str:
        """The uid of a node index."""
        return self._uids[index]

    @property
    def uids(self) -> Sequence[str]:
        """Uids by node index (read-only: queries index it directly in their inner loops)."""
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
        return len(self._uids)

    @property
    def num_edges(self) -> int:
        return int(self.graph.num_edges())

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

    # ── adjacency ──────────────────────────────────────────────────────────────
    def material_edges(self, nodes: Iterable[int], *, forward: bool) -> Ints:
        """Edge indices of the material edges leaving (``forward``) or entering the nodes."""
        get = self.flow.out_edge_indices if forward else self.flow.in_edge_indices
        flow_ix = np.fromiter(itertools.chain.from_iterable(map(get, nodes)), dtype=np.int64)
        return self.flow_edge[flow_ix].astype(np.int64)

    def material_edges_of(self, nodes: Sequence[int], *, forward: bool) -> tuple[Ints, Ints]:
        """``(node, edge index)`` pairs of the material edges leaving (``forward``) or entering the nodes."""
        get = self.flow.out_edge_indices if forward else self.flow.in_edge_indices
        owner, flow_ix = _gather(get, nodes)
        return owner, self.flow_edge[flow_ix].astype(np.int64)

    def context_edges_of(self, nodes: Sequence[int]) -> tuple[Ints, Ints]:
        """``(node, edge index)`` pairs of the context edges touching the nodes, in either direction."""
        owner, edges = _gather(lambda n: self.graph.incident_edges(n, all_edges=True), nodes)
        keep = ~self.material[self.edge_rel[edges]]
        return owner[keep], edges[keep]

    # ── keeping in step with the store ─────────────────────────────────────────
    def refresh(self) -> Refresh:
        """Apply the nodes, edges and retractions the store committed since the last refresh."""
        last = self.store.last_batch()  # read first: anything committed later is applied again next time
        since = self.batch
        with no_cycle_collection():
            added, changed = self._apply_nodes(self.store.node_rows(since))
            edges_added = sum(self._add_edges(chunk) for chunk in _chunks(self.store.edge_rows(since)))
        removed = self._remove_edges(self.store.retracted_edge_ids(since)) if since else 0
        self.batch = last
        return Refresh(last, added, changed, edges_added, removed)

    def _apply_nodes(self, rows: Iterable[Any]) -> tuple[int, int]:
        added = changed = 0
        for chunk in _chunks(rows):
            fresh = []
            for node_id, uid, kind in chunk:
                index = self._index.get(uid)
                if index is None:
                    fresh.append((node_id, uid, kind))
                elif self.node_kind[index] != self.kind_code[kind]:
                    self.node_kind[index] = self.kind_code[kind]
                    changed += 1
            if fresh:
                self._add_nodes(fresh)
                added += len(fresh)
        return added, changed

    def _add_nodes(self, rows: Sequence[tuple[int, str, str]]) -> None:
        ids = [r[0] for r in rows]
        indices = np.asarray(self.graph.add_nodes_from(ids), dtype=np.int64)
        self.flow.add_nodes_from(ids)  # same order, so both graphs share node indices
        self._grow(_NODE_COLUMNS, int(indices[-1]) + 1)
        self.node_kind[indices] = [self.kind_code[r[2]] for r in rows]
        id_array = np.asarray(ids, dtype=np.int64)
        self._grow((("_ix_of_id", -1),), int(id_array.max()) + 1)
        self._ix_of_id[id_array] = indices
        self._id_of_ix[indices] = id_array
        for (_, uid, _), index in zip(rows, indices.tolist(), strict=True):
            self._index[uid] = index
            self._uids.append(uid)

    def _add_edges(self, rows: Sequence[Any]) -> int:
        if rows and rows[0][0] <= self._max_edge_id:  # rows come by id: skip those applied already
            rows = [r for r in rows if r[0] > self._max_edge_id]
        if not rows:
            return 0
        ids, src_ids, dst_ids, rels, times, qtys, uoms = zip(*rows, strict=True)
        ids_a = np.asarray(ids, dtype=np.int64)
        src = self._indices_of(np.asarray(src_ids, dtype=np.int64))
        dst = self._indices_of(np.asarray(dst_ids, dtype=np.int64))
        rel = np.fromiter(map(self.rel_code.__getitem__, rels), dtype=np.uint8, count=len(rels))
        qty = np.asarray(qtys, dtype=np.float64)  # None becomes NaN
        rel_list, src_list, dst_list = rel.tolist(), src.tolist(), dst.tolist()
        ix = np.asarray(self.graph.add_edges_from(list(zip(src_list, dst_list, rel_list, strict=True))))
        self._grow(_EDGE_COLUMNS, int(ix.max()) + 1)
        self.edge_id[ix], self.edge_src[ix], self.edge_dst[ix], self.edge_rel[ix] = ids_a, src, dst, rel
        self.edge_t[ix] = np.asarray(times, dtype=np.float64)
        self.edge_qty[ix] = qty
        self.edge_uom[ix] = [self._uom_code.get(u) or self._new_uom(u) for u in uoms]
        mat = self.material[rel]
        if mat.any():
            pick = np.flatnonzero(mat).tolist()
            flow_ix = np.asarray(self.flow.add_edges_from([(src_list[i], dst_list[i], rel_list[i])
                                                           for i in pick]))
            self._grow((("flow_edge", -1),), int(flow_ix.max()) + 1)
            self.flow_edge[flow_ix] = ix[mat]
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
            for ix in self.graph.edge_indices_from_endpoints(src, dst):
                if self.edge_id[ix] != row.id:
                    continue
                if self.material[self.edge_rel[ix]]:
                    for flow_ix in self.flow.edge_indices_from_endpoints(src, dst):
                        if self.flow_edge[flow_ix] == ix:
                            self.flow.remove_edge_from_index(flow_ix)
                            self.flow_edge[flow_ix] = -1
                self._tally(np.array([ix]), -1)
                self.graph.remove_edge_from_index(ix)
                self.edge_id[ix] = -1
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
        """Drop the slack that geometric growth left, after a full load (the next refresh regrows)."""
        # a load adds and never removes, so edge indices run densely from 0
        for columns, size in ((_NODE_COLUMNS, self.num_nodes), (_EDGE_COLUMNS, self.num_edges),
                              ((("flow_edge", -1),), self.flow.num_edges()),
                              ((("_ix_of_id", -1),), int(self._id_of_ix[: self.num_nodes].max(initial=-1)) + 1)):
            for name, _ in columns:
                setattr(self, name, getattr(self, name)[:size].copy())

    def _not_found(self, ref: str) -> str:
        """A message for an unknown uid that names near uids sharing its prefix, if any."""
        stem = ref[: max(len(ref) - 3, ref.find(":") + 1)]
        near = sorted(itertools.islice((u for u in self._index if u.startswith(stem)), 200))[:5] if stem else []
        hint = f"; did you mean: {', '.join(near)}" if near else "; check it: PREFIX:ID, e.g. unit:SN-1"
        return f"找不到 not found: {ref!r} is neither a uid nor an alias in the store{hint}"


def _gather(get: Callable[[int], Sequence[int]], nodes: Sequence[int]) -> tuple[Ints, Ints]:
    """``get(node)`` for every node, flattened into parallel arrays of owner and item."""
    lists = list(map(get, nodes))
    counts = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
    items = np.fromiter(itertools.chain.from_iterable(lists), dtype=np.int64, count=int(counts.sum()))
    return np.repeat(np.asarray(nodes, dtype=np.int64), counts), items


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


def _chunks(rows: Iterable[Any], size: int = _CHUNK) -> Iterator[list[Any]]:
    iterator = iter(rows)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk

"""The engine's graph as flat numpy indexes for whole-plant passes: material adjacency both ways, each
operation's context, node times, parameter readings. Built once per engine state and cached."""

from __future__ import annotations

import json
import weakref
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import sqlalchemy as sa

from zhuisu.graph.engine import Engine
from zhuisu.graph.schema import edges as edge_table

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]

ITEMS = ("MaterialLot", "SerialUnit", "LogisticUnit")
# context relations of an operation that name a factor, by role
ROLES = {"performedOn": "equipment", "performedBy": "operator", "duringShift": "shift", "usedTool": "tool",
         "forWorkOrder": "work_order", "measured": "parameter"}
_RANGE = 2_000  # edge ids read per query when fetching parameter readings


@dataclass(slots=True)
class Csr:
    """Compressed rows: the items of node ``n`` are ``items[ptr[n]:ptr[n + 1]]`` (``edge``, ``rel`` parallel).

    Items, edges and relations are kept narrow (int32, uint8): a plant of millions of edges holds them twice.
    """

    ptr: Ints
    items: npt.NDArray[np.int32]
    edge: npt.NDArray[np.int32]
    rel: npt.NDArray[np.uint8]

    @classmethod
    def build(cls, owner: Ints, item: Ints, edge: Ints, rel: npt.NDArray[Any], size: int) -> Csr:
        order = np.argsort(owner, kind="stable")
        ptr = np.zeros(size + 1, dtype=np.int64)
        np.cumsum(np.bincount(owner, minlength=size), out=ptr[1:])
        return cls(ptr, np.asarray(item[order], dtype=np.int32), np.asarray(edge[order], dtype=np.int32),
                   np.asarray(rel[order], dtype=np.uint8))

    def gather(self, nodes: Ints) -> tuple[Ints, Ints]:
        """``(position in nodes, index into items)`` for every item of every node, positions ascending."""
        start, stop = self.ptr[nodes], self.ptr[nodes + 1]
        counts = stop - start
        total = int(counts.sum())
        pos = np.repeat(np.arange(len(nodes), dtype=np.int64), counts)
        offsets = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
        return pos, np.repeat(start, counts) + offsets

    def select(self, nodes: Ints, rel: int) -> tuple[Ints, Ints, Ints]:
        """``(position in nodes, other node, edge index)`` of the nodes' entries with relation ``rel``."""
        pos, index = self.gather(np.asarray(nodes, dtype=np.int64))
        keep = self.rel[index] == rel
        return pos[keep], self.items[index[keep]].astype(np.int64), self.edge[index[keep]].astype(np.int64)

    def of(self, node: int) -> Ints:
        return self.items[self.ptr[node]:self.ptr[node + 1]].astype(np.int64)


@dataclass(slots=True)
class Topology:
    """Flat indexes over one engine state (``batch``)."""

    engine: Engine
    batch: int
    n: int  # nodes
    kind: Ints  # kind code per node
    up: Csr  # material predecessors (sources of material edges into the node)
    down: Csr  # material successors
    context: Csr  # per node: the context edges leaving it (items: their targets)
    incoming: Csr  # per node: the context edges entering it (items: their sources)
    time: Floats  # per node: when it came to be (epoch ms; operations: start), NaN unknown
    purchased: Bools  # per node: supplied by a supplier (a bought lot)
    produced: Bools  # per node: made by an operation of the plant
    rel: dict[str, int] = field(default_factory=dict)
    _readings: tuple[Ints, Floats, npt.NDArray[np.int8]] | None = None
    _table: Readings | None = None
    _first: dict[str, npt.NDArray[np.int32]] = field(default_factory=dict)

    def is_kind(self, *names: str) -> Bools:
        """Per node, whether its kind is one of ``names`` or a subclass of one."""
        return self.engine.kind_codes(names)[self.kind]

    def kinds_of(self, nodes: Ints, *names: str) -> Bools:
        """For the given nodes, whether each one's kind is one of ``names`` (or a subclass of one)."""
        return self.engine.kind_codes(names)[self.kind[nodes]]

    def context_of(self, nodes: Ints, rel: str) -> tuple[Ints, Ints, Ints]:
        """``(position in nodes, target, edge index)`` of the nodes' context edges of one relation."""
        return self.context.select(nodes, self.rel[rel])

    def first(self, rel: str) -> npt.NDArray[np.int32]:
        """Per node, the target of its first context edge of ``rel`` (-1 for none): a column kept for the
        relations every operation carries (its machine, operator, shift, tool, work order)."""
        if rel not in self._first:
            column = np.full(self.n, -1, dtype=np.int32)
            hit = np.flatnonzero(self.context.rel == self.rel[rel])
            owner = np.searchsorted(self.context.ptr, hit, side="right") - 1
            column[owner[::-1]] = self.context.items[hit[::-1]]  # the first edge of each node is written last
            self._first[rel] = column
        return self._first[rel]

    def sources_of(self, nodes: Ints, rel: str) -> tuple[Ints, Ints, Ints]:
        """``(position in nodes, source, edge index)`` of the context edges of one relation into the nodes."""
        return self.incoming.select(nodes, self.rel[rel])

    def reading_table(self) -> Readings:
        """Every parameter reading with its operation, machine and time (built on first use)."""
        if self._table is None:
            edge, value, flag = self.readings()
            op = self.engine.edge_src[edge].astype(np.int64)
            param = self.engine.edge_dst[edge].astype(np.int64)
            pos, machine, _ = self.context_of(op, "performedOn")
            per = np.full(len(op), -1, dtype=np.int64)
            per[pos[::-1]] = machine[::-1]  # the first machine where an operation names several
            residual, scale = _residuals(param, per, value)
            self._table = Readings(edge, op, param, per, self.time[op], value, flag, residual, scale)
        return self._table

    def readings(self) -> tuple[Ints, Floats, npt.NDArray[np.int8]]:
        """Every parameter reading: ``(edge index, value, out of spec: 1, 0, or -1 unknown)``, by edge index."""
        if self._readings is None:
            self._readings = _read_readings(self)
        return self._readings


@dataclass(slots=True)
class Readings:
    """Parameter readings, one per ``measured`` edge, and each parameter's tail limits."""

    edge: Ints
    op: Ints
    param: Ints
    machine: Ints  # -1 where the operation names none
    time: Floats
    value: Floats
    flag: npt.NDArray[np.int8]  # out of spec: 1, in spec: 0, unknown: -1
    residual: Floats  # value minus the median of its parameter on its machine
    scale: dict[int, float]  # per parameter: robust standard deviation of the residuals

    def variant(self, name: str) -> Bools:
        """Readings that are out of spec, or in the low or high tail of their machine's usual values."""
        if name == "out_of_spec":
            return self.flag == 1
        table = np.full(int(self.param.max(initial=0)) + 1, np.inf)
        if self.scale:
            table[list(self.scale)] = list(self.scale.values())
        limit = table[self.param] * TAIL
        with np.errstate(invalid="ignore"):
            return self.residual < -limit if name == "low" else self.residual > limit


TAIL = 3.0  # robust standard deviations from its machine's median that put a reading in a tail (a drift)


def _residuals(param: Ints, machine: Ints, value: Floats) -> tuple[Floats, dict[int, float]]:
    """Each reading against the median of its parameter on its machine (machines differ a little), and
    each parameter's robust spread of those residuals (1.4826 × the median absolute residual)."""
    residual = np.full(len(value), np.nan)
    key = param * (int(machine.max(initial=0)) + 2) + (machine + 1)
    order = np.argsort(key, kind="stable")
    bounds = np.flatnonzero(np.diff(key[order])) + 1
    for part in np.split(order, bounds):
        values = value[part]
        if np.isfinite(values).any():
            residual[part] = values - np.nanmedian(values)
    scale: dict[int, float] = {}
    order = np.argsort(param, kind="stable")
    for part in np.split(order, np.flatnonzero(np.diff(param[order])) + 1):
        r = residual[part]
        r = r[~np.isnan(r)]
        if len(r) >= 20:
            spread = 1.4826 * float(np.median(np.abs(r)))
            if spread > 0:
                scale[int(param[part[0]])] = spread
    return residual, scale


_CACHE: weakref.WeakKeyDictionary[Engine, Topology] = weakref.WeakKeyDictionary()


def topology(engine: Engine) -> Topology:
    """The flat indexes of ``engine`` in its current state, built on first use and kept while it lasts."""
    cached = _CACHE.get(engine)
    if cached is not None and cached.batch == engine.batch and cached.n == engine.num_nodes:
        return cached
    built = _build(engine)
    _CACHE[engine] = built
    return built


def _build(engine: Engine) -> Topology:
    n = engine.num_nodes
    size = min(len(engine.edge_id), len(engine.edge_rel))
    live = np.flatnonzero(engine.edge_id[:size] >= 0).astype(np.int32)
    src = np.asarray(engine.edge_src[live], dtype=np.int32)  # narrow: tens of millions of edges
    dst = np.asarray(engine.edge_dst[live], dtype=np.int32)
    rel = np.asarray(engine.edge_rel[live], dtype=np.uint8)
    t = engine.edge_t[live]
    material = engine.material[rel]
    m_src, m_dst, m_edge = src[material], dst[material], live[material]
    up = Csr.build(m_dst, m_src, m_edge, rel[material], n)
    down = Csr.build(m_src, m_dst, m_edge, rel[material], n)
    c = ~material
    context = Csr.build(src[c], dst[c], live[c], rel[c], n)
    incoming = Csr.build(dst[c], src[c], live[c], rel[c], n)
    kind = engine.node_kind[:n].astype(np.int64)
    codes = engine.rel_code
    # an operation's time is its start (the time its context edges carry); an item's, when it was made
    time = np.full(n, np.nan)
    is_op = engine.kind_codes(["Operation"])[kind]
    ctx_t = t[c]
    on_op = is_op[src[c]] & ~np.isnan(ctx_t)
    np.fmin.at(time, src[c][on_op], ctx_t[on_op])
    made = ((rel == codes["produces"]) | (rel == codes["supplies"])) & ~np.isnan(t)
    into = np.full(n, np.nan)
    np.fmax.at(into, dst[made], t[made])
    time = np.where(is_op, time, into)
    # operations without context: their earliest material edge
    loose = is_op & np.isnan(time)
    if loose.any():
        first = np.full(n, np.nan)
        np.fmin.at(first, m_src, t[material])
        np.fmin.at(first, m_dst, t[material])
        time[loose] = first[loose]
    purchased = np.zeros(n, dtype=bool)
    purchased[dst[rel == codes["supplies"]]] = True
    produced = np.zeros(n, dtype=bool)
    produced[dst[rel == codes["produces"]]] = True
    return Topology(engine, engine.batch, n, kind, up, down, context, incoming, time, purchased, produced,
                    dict(codes))


def _read_readings(topo: Topology) -> tuple[Ints, Floats, npt.NDArray[np.int8]]:
    """Values and spec flags of all ``measured`` edges, read from the store in id ranges (the primary key)."""
    engine = topo.engine
    measured = np.sort(topo.context.edge[topo.context.rel == topo.rel["measured"]].astype(np.int64))
    ids = engine.edge_id[measured].astype(np.int64)
    value = np.full(len(ids), np.nan)
    flag = np.full(len(ids), -1, dtype=np.int8)
    if not len(ids):
        return measured, value, flag
    sorter = np.argsort(ids, kind="stable")  # edge ids grow with slots; do not rely on it
    store = engine.store
    sqlite = store.dialect == "sqlite"
    columns = ([edge_table.c.id, sa.func.json_extract(edge_table.c.attrs, "$.value"),
                sa.func.json_extract(edge_table.c.attrs, "$.out_of_spec")] if sqlite
               else [edge_table.c.id, edge_table.c.attrs])
    ordered = ids[sorter]
    breaks = np.flatnonzero(np.diff(ordered) > _RANGE) + 1  # runs of nearby ids, each read as one id range
    raw = ("SELECT id, json_extract(attrs, '$.value'), json_extract(attrs, '$.out_of_spec') FROM edges "
           "WHERE id BETWEEN ? AND ? AND rel = 'measured'")
    with store.engine.connect() as conn:
        cursor = conn.connection.dbapi_connection.cursor() if sqlite else None  # type: ignore[union-attr]
        for run in np.split(ordered, breaks):
            for lo in range(0, len(run), 200_000):
                part = run[lo:lo + 200_000]
                if cursor is not None:  # straight from the driver: millions of readings, no Row objects
                    rows = cursor.execute(raw, (int(part[0]), int(part[-1]))).fetchall()
                else:
                    query = sa.select(*columns).where(edge_table.c.id.between(int(part[0]), int(part[-1])),
                                                      edge_table.c.rel == "measured")
                    rows = conn.execute(query).fetchall()
                if not rows:
                    continue
                got = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
                pairs = [(r[1], r[2]) for r in rows] if sqlite else [_from_json(r[1]) for r in rows]
                at = np.minimum(np.searchsorted(ordered, got), len(ids) - 1)
                ok = ordered[at] == got
                at = sorter[at]
                v = np.array([p[0] if isinstance(p[0], int | float) else np.nan for p in pairs], dtype=np.float64)
                f = np.array([-1 if p[1] is None else 1 if p[1] else 0 for p in pairs], dtype=np.int8)
                value[at[ok]], flag[at[ok]] = v[ok], f[ok]
    _flag_from_limits(topo, measured, value, flag)
    return measured, value, flag


def _from_json(text: str | None) -> tuple[Any, Any]:
    data = json.loads(text or "{}")
    return data.get("value"), data.get("out_of_spec")


def _flag_from_limits(topo: Topology, measured: Ints, value: Floats, flag: npt.NDArray[np.int8]) -> None:
    """Readings stored without a flag are judged against the parameter's own limits, where it has them."""
    todo = (flag < 0) & ~np.isnan(value)
    if not todo.any():
        return
    engine = topo.engine
    params = engine.edge_dst[measured[todo]].astype(np.int64)
    distinct = np.unique(params)  # a few parameters
    records = engine.store.nodes_by_id(engine.node_ids(distinct).tolist())
    lsl = np.full(topo.n, np.nan)
    usl = np.full(topo.n, np.nan)
    for p, node_id in zip(distinct.tolist(), engine.node_ids(distinct).tolist(), strict=True):
        attrs = records[node_id].attrs
        lsl[p] = attrs.get("lsl", np.nan) if isinstance(attrs.get("lsl"), int | float) else np.nan
        usl[p] = attrs.get("usl", np.nan) if isinstance(attrs.get("usl"), int | float) else np.nan
    v, lo, hi = value[todo], lsl[params], usl[params]
    known = ~np.isnan(lo) | ~np.isnan(hi)
    out = (v < np.nan_to_num(lo, nan=-np.inf)) | (v > np.nan_to_num(hi, nan=np.inf))
    flag[np.flatnonzero(todo)[known]] = out[known].astype(np.int8)

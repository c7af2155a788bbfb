"""Containment: from a suspect factor, every lot and unit it reached, what state each is in, which shipments
carried them and to which customers.

A suspect may be a lot or unit, a supplier (its lots), a machine (its operations in a window; a line or work
center: all its machines), a process parameter (operations with a reading out of spec in the window), an
operator, tool, shift or work order (their operations), or a maintenance order (its machine from the order's
end to the machine's next order).
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any

import numpy as np

from zhuisu.errors import BadInput
from zhuisu.graph.engine import Engine
from zhuisu.ingest.records import epoch_ms, from_epoch_ms
from zhuisu.rca.arrays import distinct, starts
from zhuisu.rca.population import defect_codes, inspected
from zhuisu.rca.results import Affected, Containment, Shipped
from zhuisu.rca.topology import ITEMS, Ints, Topology, topology
from zhuisu.rca.walk import downstream, machine_parts, operations_of

_BY_CONTEXT = {"Operator": "performedBy", "Tool": "usedTool", "Shift": "duringShift", "WorkOrder": "forWorkOrder"}
_SHIPPING = ("containedIn", "shippedIn")


def contain(engine: Engine, ref: str, *, since: datetime | None = None, until: datetime | None = None,
            ) -> Containment:
    """The forward set of a suspect factor (a uid or alias), with status, shipments and customers."""
    started = time.perf_counter()
    topo = topology(engine)
    root = engine.index(ref)
    lo = float(epoch_ms(since)) if since is not None else -np.inf
    hi = float(epoch_ms(until)) if until is not None else np.inf
    seeds, lo, hi = _seeds(topo, root, lo, hi)
    reached, level = downstream(topo, seeds, stop_at=("Shipment", "Customer"))
    is_item = topo.is_kind(*ITEMS)[reached]
    items, levels = reached[is_item], level[is_item]
    result = _Report(topo, items, levels).build(root, seeds)
    result.since, result.until = _time(lo), _time(hi)
    result.ms = (time.perf_counter() - started) * 1000
    return result


def _seeds(topo: Topology, root: int, lo: float, hi: float) -> tuple[Ints, float, float]:
    """Where the forward walk starts from, and the window it applied."""
    engine = topo.engine
    kind = engine.kind(root)
    if topo.is_kind(*ITEMS, "Supplier")[root]:
        if kind == "Supplier" and (lo > -np.inf or hi < np.inf):  # only the lots it supplied in the window
            lots = topo.down.of(root)
            t = topo.time[lots]
            return lots[np.isnan(t) | ((t >= lo) & (t <= hi))], lo, hi
        return np.array([root], dtype=np.int64), lo, hi
    if topo.is_kind("Equipment")[root]:
        ops = [operations_of(topo, m, "performedOn", lo, hi) for m in machine_parts(topo, root).tolist()]
        return distinct(np.concatenate(ops)) if ops else np.zeros(0, dtype=np.int64), lo, hi
    if kind == "ProcessParameter":
        table = topo.reading_table()
        hit = (table.param == root) & (table.flag == 1) & (table.time >= lo) & (table.time <= hi)
        return distinct(table.op[hit]), lo, hi
    if kind in _BY_CONTEXT:  # its operations (and, for a work order, the items made for it)
        return operations_of(topo, root, _BY_CONTEXT[kind], lo, hi), lo, hi
    if kind == "MaintenanceOrder":
        return _after_order(topo, root, lo, hi)
    raise BadInput(f"无法围堵 cannot contain a {kind} ({engine.uid(root)}); give a lot, unit, supplier, machine, "
                   "parameter, operator, tool, shift, work order or maintenance order")


def _after_order(topo: Topology, order: int, lo: float, hi: float) -> tuple[Ints, float, float]:
    """A machine's operations from a maintenance order's end to the machine's next order (or ``until``)."""
    engine = topo.engine
    pos, machines, _ = topo.context_of(np.array([order], dtype=np.int64), "maintains")
    machines = machines[topo.is_kind("Equipment")[machines]]
    if not len(machines):
        raise BadInput(f"维修单 {engine.uid(order)} 没有关联设备 names no machine")
    machine = int(machines[0])
    record = engine.store.nodes_by_id([engine.node_id(order)])[engine.node_id(order)]
    start = _ms(record.attrs.get("finished_at")) or _ms(record.attrs.get("reported_at")) or lo
    if lo == -np.inf:
        lo = start
    if hi == np.inf:
        _, _, edges = topo.sources_of(np.array([machine], dtype=np.int64), "maintains")
        later = engine.edge_t[edges]
        later = later[later > lo]
        hi = float(later.min()) if len(later) else np.inf
    return operations_of(topo, machine, "performedOn", lo, hi), lo, hi


class _Report:
    """Status, quantities, shipments and customers of the affected items, read in bulk."""

    def __init__(self, topo: Topology, items: Ints, levels: Ints) -> None:
        self.topo, self.engine = topo, topo.engine
        order = np.lexsort((items, levels))
        self.items, self.levels = items[order], levels[order]

    def build(self, root: int, seeds: Ints) -> Containment:
        topo, engine, items = self.topo, self.engine, self.items
        shipped_in = self._shipments()
        ship_nodes = distinct(np.concatenate([s for s, _ in shipped_in.values()] or [np.zeros(0, dtype=np.int64)]))
        customers = self._customers(ship_nodes)
        material = self._material()
        own, uom = self._amounts()
        codes, looked_at = defect_codes(topo, items), inspected(topo, items)
        consumed = self._consumed()
        shown = distinct(np.concatenate([items, ship_nodes, np.array(list(customers.values()), dtype=np.int64)]))
        ids = engine.node_ids(shown).tolist()
        found = engine.store.nodes_by_id(ids)
        names = {n: found.get(i) for n, i in zip(shown.tolist(), ids, strict=True)}
        products = topo.is_kind("Product")
        out = []
        per_ship: dict[int, list[float]] = {}
        for node, level in zip(items.tolist(), self.levels.tolist(), strict=True):
            ships, qty = shipped_in.get(node, (np.zeros(0, dtype=np.int64), np.zeros(0)))
            mat = material.get(node, -1)
            if len(ships):
                status = "shipped"
            elif node in consumed:
                status = "consumed"
            elif topo.produced[node] and (mat < 0 or not products[mat] or node not in looked_at):
                status = "wip"
            else:
                status = "in_stock"
            for s, q in zip(ships.tolist(), qty.tolist(), strict=True):
                if engine.kind(node) == "LogisticUnit":
                    continue
                slot = per_ship.setdefault(s, [0, 0.0])
                slot[0] += 1
                slot[1] += q if q == q else (own.get(node) or 1.0)
            record = names.get(node)
            out.append(Affected(
                uid=engine.uid(node), kind=engine.kind(node), name=record.name if record else None,
                material=engine.uid(mat) if mat >= 0 else None, level=int(level), quantity=own.get(node),
                uom=uom.get(node), status=status, shipments=tuple(engine.uid(s) for s in ships.tolist()),
                customers=tuple(dict.fromkeys(engine.uid(customers[s]) for s in ships.tolist()
                                              if customers.get(s, -1) >= 0)),
                defects=tuple(sorted(codes.get(node, ()))), time=_time(topo.time[node]),
            ))
        shipments = []
        for s in sorted(per_ship, key=lambda s: (topo.time[s] if topo.time[s] == topo.time[s] else 0, s)):
            c = customers.get(s, -1)
            crecord = names.get(c) if c >= 0 else None
            srecord = names.get(s)
            when = srecord.attrs.get("shipped_at") if srecord else None
            shipments.append(Shipped(engine.uid(s), _parse(when), engine.uid(c) if c >= 0 else None,
                                     crecord.name if crecord else None, per_ship[s][0], per_ship[s][1]))
        return Containment(engine.uid(root), engine.kind(root), None, None, len(seeds), tuple(out),
                           tuple(shipments))

    def _shipments(self) -> dict[int, tuple[Ints, np.ndarray]]:
        """Per item, the shipments that carried it (itself or in a container), and the quantity shipped
        where it was shipped itself (NaN where its container was)."""
        topo, engine = self.topo, self.engine
        codes = [topo.rel[r] for r in _SHIPPING]
        owner, node = self.items.copy(), self.items.copy()
        found: dict[int, tuple[list[int], list[float]]] = {}
        for depth in range(8):
            pos, index = topo.down.gather(node)
            edge = topo.down.edge[index]
            keep = np.isin(engine.edge_rel[edge], codes)
            pos, edge, nxt = pos[keep], edge[keep], topo.down.items[index[keep]]
            if not len(pos):
                break
            ship = engine.edge_rel[edge] == topo.rel["shippedIn"]
            qty = engine.edge_qty[edge] if depth == 0 else np.full(len(edge), np.nan)
            for o, s, q in zip(owner[pos][ship].tolist(), nxt[ship].tolist(), qty[ship].tolist(), strict=True):
                slot = found.setdefault(o, ([], []))
                slot[0].append(s)
                slot[1].append(q)
            owner, node = owner[pos][~ship], nxt[~ship]
        return {o: (np.array(s, dtype=np.int64), np.array(q)) for o, (s, q) in found.items()}

    def _customers(self, shipments: Ints) -> dict[int, int]:
        pos, index = self.topo.down.gather(shipments)
        other = self.topo.down.items[index]
        is_customer = self.topo.is_kind("Customer")[other]
        return dict(zip(shipments[pos[is_customer]].tolist(), other[is_customer].tolist(), strict=True))

    def _material(self) -> dict[int, int]:
        pos, other, _ = self.topo.context_of(self.items, "instanceOf")
        return dict(zip(self.items[pos].tolist(), other.tolist(), strict=True))

    def _amounts(self) -> tuple[dict[int, float | None], dict[int, str | None]]:
        """Each item's own amount and uom, from the edge that made or supplied it."""
        topo, engine = self.topo, self.engine
        pos, index = topo.up.gather(self.items)
        edge = topo.up.edge[index]
        making = np.isin(engine.edge_rel[edge], [topo.rel["produces"], topo.rel["supplies"]])
        pos, edge = pos[making], edge[making]
        first = starts(pos)
        pos, edge = pos[first], edge[first]
        details = engine.store.edge_details(engine.edge_id[edge].tolist())
        own: dict[int, float | None] = {}
        uom: dict[int, str | None] = {}
        for p, e in zip(pos.tolist(), edge.tolist(), strict=True):
            q = engine.edge_qty[e]
            node = int(self.items[p])
            own[node] = None if q != q else float(q)
            row = details.get(int(engine.edge_id[e]))
            uom[node] = row.uom if row is not None else None
        return own, uom

    def _consumed(self) -> set[int]:
        """Items used up by operations (a lot with a known remainder counts as consumed only when none is left)."""
        topo, engine = self.topo, self.engine
        pos, index = topo.down.gather(self.items)
        edge = topo.down.edge[index]
        used = engine.edge_rel[edge] == topo.rel["consumedBy"]
        owners = self.items[distinct(pos[used])]
        own = engine.own(owners)
        out, _, _ = engine.outflow(owners)
        left = np.where(np.isnan(own), 0.0, own - out)
        return set(owners[left <= 1e-9].tolist())

def _ms(value: Any) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        ms = epoch_ms(datetime.fromisoformat(value))
    except ValueError:
        return None
    return float(ms) if ms is not None else None


def _parse(value: Any) -> datetime | None:
    ms = _ms(value)
    return from_epoch_ms(int(ms)) if ms is not None else None


def _time(ms: float) -> datetime | None:
    return from_epoch_ms(int(ms)) if ms == ms and np.isfinite(ms) else None


def dumps(result: Containment) -> str:
    return json.dumps(result.to_dict(), ensure_ascii=False, indent=2)

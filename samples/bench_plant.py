"""The benchmark plant: a process-style genealogy with deep lot mixing, as canonical records.

Supplier lots are blended, blends go into intermediate batches, intermediates into sub-assembly lots,
sub-assembly lots into serial units; units are packed on pallets, pallets shipped to customers. Every
consumer draws its inputs from lots made in a window of days before it, so a supplier lot spreads into
a large share of later production (the ≈ 44 % of the plant a forward trace reaches at 20M edges) while a
unit's backward trace stays a few thousand nodes. Each operation is a node with its context attached:
the machine it ran on, the operator, the shift and the readings of the machine's process parameters
(hubs that a trace lists but never expands through).

``plan`` draws the whole genealogy as integer arrays (seeded, vectorised); ``batches`` turns it into
canonical records (``Node``/``Edge`` in ``Batch``es of bounded size, in time order), which is what
``zhuisu bench`` ingests through the store. ``--units 760000`` gives ≈ 1.6M nodes and ≈ 20M edges.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt

from zhuisu.errors import BadInput
from zhuisu.ingest.records import Batch, Edge, Node

Ints = npt.NDArray[np.int64]

SOURCE = "bench-plant"
UNITS_PER_DAY = 5_000
MINIMUM = 200
WINDOW = 0.2  # share of the timeline a consumer draws its inputs from (the days before it)
START = datetime(2026, 1, 5, 6, 0)
SUPPLIERS, CUSTOMERS, OPERATORS, MACHINES, PARAMETERS = 60, 150, 300, 20, 8  # machines per stage, params per machine


@dataclass(frozen=True, slots=True)
class Stage:
    """Lots (or units) made by one operation each from ``fan_in`` inputs of the stage before."""

    name: str  # uid stem
    step: str  # operation name shown in traces
    per_unit: float  # lots per finished unit
    fan_in: int  # distinct inputs per operation
    kind: str  # uid prefix of what it makes: lot or unit
    uom: str
    size: float  # amount made per operation


STAGES = (
    Stage("BL", "配料混合", 1 / 100, 12, "lot", "kg", 600.0),
    Stage("IM", "中间批次", 1 / 50, 8, "lot", "kg", 300.0),
    Stage("SA", "部件装配", 1 / 40, 10, "lot", "pcs", 240.0),
    Stage("SN", "总装", 1.0, 12, "unit", "pcs", 1.0),
)
SUPPLIER_LOTS_PER_UNIT = 1 / 150
PER_PALLET, PER_SHIPMENT = 40, 10


@dataclass(frozen=True, slots=True)
class Plan:
    """The genealogy as arrays: per stage, each operation's inputs (indices into the stage before)."""

    units: int
    days: int
    supplier_lots: int
    supplier_of: Ints  # per supplier lot
    counts: tuple[int, ...]  # lots made per stage (the last: units)
    inputs: tuple[tuple[Ints, Ints], ...]  # per stage: (consumer, producer) pairs, grouped by consumer
    machine: tuple[Ints, ...]  # per stage and operation
    operator: tuple[Ints, ...]
    customer: Ints  # per shipment

    def position(self, stage: int, i: Ints | int) -> npt.NDArray[np.float64]:
        """Where lot ``i`` of ``stage`` (-1: supplier lots) lies on the timeline, in [0, 1)."""
        n = self.supplier_lots if stage < 0 else self.counts[stage]
        return (np.asarray(i, dtype=np.float64) + 0.5) / n


def plan(units: int, seed: int = 1) -> Plan:
    """Draw the plant's genealogy for ``units`` finished units."""
    if units < MINIMUM:
        raise BadInput(f"规模太小 the bench plant needs at least {MINIMUM} units, got {units}", where="units")
    rng = np.random.default_rng(seed)
    n0 = max(round(units * SUPPLIER_LOTS_PER_UNIT), 8)
    counts = tuple(max(round(units * s.per_unit), 4) for s in STAGES)
    previous = n0
    inputs, machines, operators = [], [], []
    for stage, n in zip(STAGES, counts, strict=True):
        consumer = np.repeat(np.arange(n, dtype=np.int64), stage.fan_in)
        p = (consumer + 0.5) / n  # inputs come from the window of lots made before the consumer
        hi = np.maximum(np.floor(p * previous).astype(np.int64), 1)
        lo = np.maximum(np.floor((p - WINDOW) * previous).astype(np.int64), 0)
        producer = lo + (rng.random(len(consumer)) * (hi - lo)).astype(np.int64)
        pairs = np.unique(consumer * previous + producer)  # distinct inputs, grouped by consumer
        inputs.append((pairs // previous, pairs % previous))
        machines.append(rng.integers(0, MACHINES, n))
        operators.append(rng.integers(0, OPERATORS, n))
        previous = n
    shipments = -(-counts[-1] // (PER_PALLET * PER_SHIPMENT))
    return Plan(units, max(1, -(-units // UNITS_PER_DAY)), n0, rng.integers(0, SUPPLIERS, n0), counts,
                tuple(inputs), tuple(machines), tuple(operators), rng.integers(0, CUSTOMERS, shipments))


def batches(units: int, seed: int = 1, *, edges_per_batch: int = 250_000) -> Iterator[Batch]:
    """The plant as canonical records: master data, then production in time order, in bounded batches."""
    return _Records(plan(units, seed), seed).batches(edges_per_batch)


class _Records:
    """Canonical nodes and edges of a ``Plan``, emitted in time order."""

    def __init__(self, p: Plan, seed: int) -> None:
        self.p = p
        self.rng = np.random.default_rng(seed + 1)
        self.span = timedelta(days=p.days)

    def at(self, position: float) -> datetime:
        return (START + self.span * position).replace(microsecond=0)

    def shift(self, when: datetime) -> str:
        return f"shift:{when:%Y%m%d}-{(when.hour // 8) + 1}"

    def batches(self, size: int) -> Iterator[Batch]:
        yield self.master()
        batch = Batch(SOURCE)
        for nodes, edges in self.production():
            batch.nodes += nodes
            batch.edges += edges
            if len(batch.edges) >= size:
                yield batch
                batch = Batch(SOURCE)
        if batch.edges or batch.nodes:
            yield batch

    def master(self) -> Batch:
        """Suppliers, customers, machines with their parameters, operators and shifts."""
        b = Batch(SOURCE)
        b.nodes += [Node(f"supplier:S{i:03d}", name=f"供应商{i:03d}") for i in range(SUPPLIERS)]
        b.nodes += [Node(f"customer:C{i:03d}", name=f"客户{i:03d}") for i in range(CUSTOMERS)]
        b.nodes += [Node(f"operator:OP{i:04d}", name=f"操作员{i:04d}") for i in range(OPERATORS)]
        for stage in STAGES:
            for m in range(MACHINES):
                machine = f"equipment:{stage.name}-{m:02d}"
                b.nodes.append(Node(machine, kind="Equipment", name=f"{stage.step}{m + 1}号机"))
                for k in range(PARAMETERS):
                    b.nodes.append(Node(f"param:{stage.name}-{m:02d}-P{k}", name=f"{stage.step}{m + 1}号机参数{k}",
                                        attrs={"lsl": 90.0, "usl": 110.0, "target": 100.0}))
                    b.edges.append(Edge(f"param:{stage.name}-{m:02d}-P{k}", "parameterOf", machine))
        for day in range(self.p.days):
            for s in range(3):
                when = START.replace(hour=0) + timedelta(days=day, hours=8 * s)
                b.nodes.append(Node(self.shift(when), name=f"{when:%m月%d日}{'早中夜'[s]}班"))
        return b

    def production(self) -> Iterator[tuple[list[Node], list[Edge]]]:
        """Per time slice: the supplier lots, operations, units, pallets and shipments made in it."""
        p = self.p
        slices = max(1, p.units // 50)  # ≈ 1,300 edges each: batches end close to their size
        cuts = [np.searchsorted(p.position(s, np.arange(n)), np.linspace(0, 1, slices + 1)[1:-1])
                for s, n in ((-1, p.supplier_lots), *enumerate(p.counts))]
        bounds = [np.concatenate([[0], c, [n]]) for c, n in zip(cuts, (p.supplier_lots, *p.counts), strict=True)]
        starts = [np.searchsorted(p.inputs[s][0], np.arange(p.counts[s] + 1)) for s in range(len(STAGES))]
        for k in range(slices):
            nodes: list[Node] = []
            edges: list[Edge] = []
            self.supplier_lots(range(bounds[0][k], bounds[0][k + 1]), nodes, edges)
            for s in range(len(STAGES)):
                self.operations(s, range(bounds[s + 1][k], bounds[s + 1][k + 1]), starts[s], nodes, edges)
            yield nodes, edges

    def supplier_lots(self, lots: range, nodes: list[Node], edges: list[Edge]) -> None:
        for i in lots:
            when = self.at(float(self.p.position(-1, i)))
            lot = f"lot:RM{i:07d}"
            nodes.append(Node(lot, name="原料批次", attrs={"supplier_lot": f"V{i:08d}"}))
            edges.append(Edge(f"supplier:S{int(self.p.supplier_of[i]):03d}", "supplies", lot, when, 1200.0, "kg"))

    def operations(self, s: int, made: range, start: Ints, nodes: list[Node], edges: list[Edge]) -> None:
        p, stage = self.p, STAGES[s]
        src_stage = STAGES[s - 1] if s else None
        consumer_inputs = p.inputs[s][1]
        readings = self.rng.normal(100.0, 3.0, (len(made), PARAMETERS)).round(2)
        for row, i in enumerate(made):
            when = self.at(float(p.position(s, i)))
            op = f"op:{stage.name}{i:07d}"
            out = f"{stage.kind}:{stage.name}{i:07d}"
            machine = int(p.machine[s][i])
            nodes.append(Node(op, name=stage.step))
            nodes.append(Node(out))
            picked = consumer_inputs[start[i]:start[i + 1]].tolist()
            share = stage.size / len(picked)
            for j in picked:
                src = f"lot:{src_stage.name}{j:07d}" if src_stage else f"lot:RM{j:07d}"
                edges.append(Edge(src, "consumedBy", op, when, share, stage.uom if src_stage else "kg"))
            edges.append(Edge(op, "produces", out, when, stage.size, stage.uom))
            edges.append(Edge(op, "performedOn", f"equipment:{stage.name}-{machine:02d}", when))
            edges.append(Edge(op, "performedBy", f"operator:OP{int(p.operator[s][i]):04d}", when))
            edges.append(Edge(op, "duringShift", self.shift(when), when))
            for k, value in enumerate(readings[row].tolist()):
                edges.append(Edge(op, "measured", f"param:{stage.name}-{machine:02d}-P{k}", when,
                                  attrs={"value": value}))
            if s == len(STAGES) - 1:
                self.pack(i, out, when, nodes, edges)

    def pack(self, i: int, unit: str, when: datetime, nodes: list[Node], edges: list[Edge]) -> None:
        """Units onto pallets of ``PER_PALLET``, pallets into shipments of ``PER_SHIPMENT``."""
        pallet = i // PER_PALLET
        edges.append(Edge(unit, "containedIn", f"lu:PL{pallet:07d}", when))
        if i % PER_PALLET == 0:
            nodes.append(Node(f"lu:PL{pallet:07d}", name="托盘"))
            shipment = pallet // PER_SHIPMENT
            edges.append(Edge(f"lu:PL{pallet:07d}", "shippedIn", f"shipment:SH{shipment:06d}", when))
            if pallet % PER_SHIPMENT == 0:
                nodes.append(Node(f"shipment:SH{shipment:06d}", name="发货"))
                edges.append(Edge(f"shipment:SH{shipment:06d}", "shippedTo",
                                  f"customer:C{int(self.p.customer[shipment]):03d}", when))

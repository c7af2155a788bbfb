"""Writers shared by both plants: master data, purchases with incoming inspection, and measurement rows."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from zhuisu.samples.common import DAY, HOUR, period_ids, quantity, yymmdd
from zhuisu.samples.model import Param, Plant
from zhuisu.samples.names import Company
from zhuisu.samples.roster import SHIFTS
from zhuisu.samples.tables import CsvFolder, iso


def write_master(plant: Plant, customers: Sequence[Company], out: CsvFolder) -> None:
    """Write suppliers, customers, equipment, operators, shifts and parameters."""
    out.write(
        "suppliers",
        {
            "supplier_id": np.array(plant.supplier_ids),
            "name": np.array([c.name for c in plant.suppliers]),
            "country": "中国",
            "aliases": np.array([c.aliases for c in plant.suppliers]),
        },
    )
    out.write(
        "customers",
        {
            "customer_id": np.array(customer_ids(customers)),
            "name": np.array([c.name for c in customers]),
            "region": np.array([c.region for c in customers]),
            "aliases": np.array([c.aliases for c in customers]),
        },
    )
    machines = plant.machines
    out.write(
        "equipment",
        {
            "equipment_id": np.array([m.id for m in machines]),
            "name": np.array([m.name for m in machines]),
            "level": np.array([m.level for m in machines]),
            "type": np.array([m.kind.name if m.kind else "" for m in machines]),
            "parent_id": np.array([m.parent for m in machines]),
            "aliases": np.array([m.aliases for m in machines]),
        },
    )
    crew = plant.crew
    out.write("operators", {"operator_id": crew.ids, "name": crew.names, "team": crew.teams})
    out.write(
        "shifts",
        {
            "shift_id": np.array([s[0] for s in SHIFTS[1:] + SHIFTS[:1]]),
            "name": np.array([s[1] for s in SHIFTS[1:] + SHIFTS[:1]]),
            "start_time": np.array([s[2] for s in SHIFTS[1:] + SHIFTS[:1]]),
            "end_time": np.array([s[3] for s in SHIFTS[1:] + SHIFTS[:1]]),
        },
    )
    params = list(plant.params.values())
    out.write(
        "parameters",
        {
            "parameter_id": np.array([p.id for p in params]),
            "name": np.array([p.name for p in params]),
            "unit": np.array([p.unit for p in params]),
            "lsl": np.array([p.lsl for p in params]),
            "usl": np.array([p.usl for p in params]),
            "target": np.array([p.target for p in params]),
            "equipment_id": np.array([p.workcenter for p in params]),
        },
    )


def customer_ids(customers: Sequence[Company]) -> list[str]:
    """Customer numbers ``CUS-001``… in the order given."""
    return [f"CUS-{i + 1:03d}" for i in range(len(customers))]


def name_lots(rng: np.random.Generator, plant: Plant) -> None:
    """Give purchased lots their receipt time (before first use), lot id and the supplier's own lot number."""
    for lots in plant.lots.values():
        days = rng.uniform(0.05, 0.25, len(lots.size)) if lots.daily else rng.uniform(1, 10, len(lots.size))
        received = lots.first_use - (np.asarray(days) * DAY).astype("int64")
        # Goods arrive on the day shift unless they are fresh milk, which comes round the clock.
        day_start = received // DAY * DAY
        lots.received = received if lots.daily else day_start + (rng.uniform(8.5, 15.5, len(received)) * HOUR)
        lots.received = np.minimum(lots.received.astype("int64"), lots.first_use - HOUR) // 60 * 60
    for prefix in sorted({lots.prefix for lots in plant.lots.values()}):
        group = [lots for lots in plant.lots.values() if lots.prefix == prefix]
        received = np.concatenate([lots.received for lots in group])
        ids = period_ids(prefix, received, 3 if group[0].daily else 4, daily=group[0].daily)
        cut = np.cumsum([len(lots.received) for lots in group])[:-1]
        for lots, part in zip(group, np.split(ids, cut), strict=True):
            lots.ids = part
    for lots in plant.lots.values():
        styles = rng.integers(3, size=len(plant.suppliers))[lots.supplier]
        day = yymmdd(lots.received - 2 * DAY)
        n = rng.integers(1, 30, len(lots.size))
        lots.supplier_lots = np.array(
            [
                (f"{d}{'ABCDEF'[k % 6]}{k:02d}", f"L{d // 100}-{k:03d}", f"20{d}{k:03d}")[s]
                for d, k, s in zip(day.tolist(), n.tolist(), styles.tolist(), strict=True)
            ],
            dtype=object,
        )


def write_purchases(rng: np.random.Generator, plant: Plant, out: CsvFolder) -> None:
    """Write purchase orders, purchased lots and their incoming inspections."""
    everything = list(plant.lots.values())
    received = np.concatenate([lots.received for lots in everything])
    # Buyers raise orders in office hours, one to three weeks ahead of delivery.
    ordered = (
        (
            (received - (rng.uniform(5, 25, len(received)) * DAY).astype("int64")) // DAY * DAY
            + (rng.uniform(8.5, 17.5, len(received)) * HOUR).astype("int64")
        )
        // 60
        * 60
    )
    po_ids = period_ids("PO", ordered, 4)
    supplier = np.concatenate([lots.supplier for lots in everything])
    out.write(
        "purchase_orders",
        {
            "po_id": po_ids,
            "supplier_id": np.array(plant.supplier_ids)[supplier],
            "ordered_at": iso(ordered),
        },
    )
    offset = 0
    for lots in everything:
        n = len(lots.ids)
        out.write(
            "lots",
            {
                "lot_id": lots.ids,
                "material_id": lots.material,
                "quantity": quantity(lots.size),
                "uom": lots.uom,
                "supplier_id": np.array(plant.supplier_ids)[lots.supplier],
                "po_id": po_ids[offset : offset + n],
                "supplier_lot": lots.supplier_lots,
                "created_at": iso(lots.received),
            },
        )
        kind, unit, low, high = lots.check
        value = np.round(rng.uniform(low, high, n), 2) if unit else ""
        out.write(
            "inspections",
            {
                "inspection_id": np.array([f"IQC-{i}" for i in lots.ids]),
                "target_id": lots.ids,
                "target_kind": "lot",
                "type": kind,
                "result": "pass",
                "inspected_at": iso(lots.received + (rng.uniform(0.2, 0.8, n) * HOUR)),
                "operator_id": plant.crew.ids[plant.crew.inspector(rng, n)],
                "value": value,
                "unit": unit,
            },
        )
        offset += n


def measurement_rows(param: Param, sel: slice | np.ndarray, op_ids: np.ndarray, at: np.ndarray) -> dict[str, object]:
    """Rows of ``measurements`` for the operations ``sel`` of the parameter's step."""
    return {
        "operation_id": op_ids,
        "parameter_id": param.id,
        "value": param.values[sel],
        "measured_at": iso(at),
    }


def operation_rows(
    plant: Plant,
    step: str,
    op_ids: np.ndarray,
    sel: slice | np.ndarray,
    end: np.ndarray,
    label: str,
    tools: np.ndarray | str,
    wo: np.ndarray | str,
) -> dict[str, object]:
    """Rows of ``operations`` for the operations ``sel`` of a step."""
    s = plant.steps[step]
    return {
        "operation_id": op_ids,
        "step": label,
        "started_at": iso(s.start[sel]),
        "ended_at": iso(end),
        "equipment_id": np.array([m.id for m in plant.machines], dtype=object)[s.equipment[sel]],
        "operator_id": plant.crew.ids[s.operator[sel]],
        "shift_id": plant.calendar.shift_of(s.start[sel]),
        "tool_id": tools,
        "work_order_id": wo,
    }

"""MES/QMS/ERP records of the motor plant: stator lots, per-unit operations and tests, written in chunks."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from zhuisu.samples import motor_master as mm
from zhuisu.samples.common import DAY, HOUR, Uses, ids, period_ids, quantity
from zhuisu.samples.faults import DEFECT_NAMES
from zhuisu.samples.model import Plant
from zhuisu.samples.records import measurement_rows, operation_rows
from zhuisu.samples.tables import CsvFolder, iso

if TYPE_CHECKING:
    from zhuisu.samples.motor import Stators, Units

CHUNK = 100_000
# EOL readings: a passing unit records its noise; a failing one the reading of the test it failed.
EOL_FAIL = {"E-NOISE": (66.0, 78.0, "dB(A)"), "E-VIB": (2.9, 6.5, "mm/s"), "E-INSUL": (0.2, 0.9, "MΩ")}


def write_master_tables(out: CsvFolder) -> None:
    """Write materials, products and tools."""
    out.write(
        "materials",
        {
            "material_id": np.array([m[0] for m in mm.MATERIALS]),
            "name": np.array([m[1] for m in mm.MATERIALS]),
            "category": np.array([m[2] for m in mm.MATERIALS]),
            "uom": np.array([m[3] for m in mm.MATERIALS]),
        },
    )
    out.write(
        "products",
        {
            "product_id": np.array([p[0] for p in mm.PRODUCTS] + [mm.ROTOR[0]]),
            "name": np.array([p[1] for p in mm.PRODUCTS] + [mm.ROTOR[1]]),
            "uom": "ea",
            "gtin": np.array([mm.GTINS[p[0]] for p in mm.PRODUCTS] + [""]),
        },
    )
    rows = (
        [(f"TL-YZ-{j + 1:02d}", f"压装工装{j + 1}#", "工装", f"PRESS-{j // 2 + 1:02d}") for j in range(8)]
        + [(f"TL-RX-{j + 1:02d}", f"绕线模{j + 1}#", "模具", f"WIND-{j // 2 + 1:02d}") for j in range(6)]
        + [(f"TL-NJ-{j + 1:02d}", f"电动拧紧枪{j + 1}#", "工具", f"ASSY-{j + 1:02d}") for j in range(4)]
    )
    out.write(
        "tools",
        {c: np.array([r[i] for r in rows]) for i, c in enumerate(("tool_id", "name", "type", "equipment_id"))},
    )


def serial_width(u: Units) -> int:
    """Digits of the running number in serials, the same for every chunk."""
    return max(5, len(str(int(u.serial[1].max()))), len(str(int(u.rotor[1].max()))))


def write_stators(plant: Plant, st: Stators, uses: Uses, out: CsvFolder) -> None:
    """Write the wound and varnished stator lots and the winding and varnishing operations that made them."""
    count = len(st.wound_ids)
    every = np.arange(count)
    wind_ops = np.array([f"OP-RX-{i}" for i in st.wound_ids], dtype=object)
    varn_ops = np.array([f"OP-JQ-{i}" for i in st.varnished_ids], dtype=object)
    for lot_ids, material, made in (
        (st.wound_ids, mm.STATOR_WOUND, st.wind_end),
        (st.varnished_ids, mm.STATOR_VARNISHED, st.varn_end),
    ):
        out.write(
            "lots",
            {
                "lot_id": lot_ids,
                "material_id": material[0],
                "quantity": st.size,
                "uom": "ea",
                "created_at": iso(made),
            },
        )
    out.write(
        "operations",
        operation_rows(
            plant,
            "wind",
            wind_ops,
            every,
            st.wind_end,
            "绕线",
            np.array([f"TL-RX-{2 * w + k % 2 + 1:02d}" for k, w in enumerate(st.winder)]),
            "",
        ),
    )
    out.write("operations", operation_rows(plant, "varnish", varn_ops, every, st.varn_end, "浸漆", "", ""))
    for material, op_ids in ((mm.WIRE, wind_ops), (mm.VARNISH, varn_ops)):
        consumer, lot, qty = uses[material[0]]
        out.write(
            "consumption",
            {
                "operation_id": op_ids[consumer],
                "input_id": plant.lots[material[0]].ids[lot],
                "input_kind": "lot",
                "quantity": qty,
                "uom": material[3],
            },
        )
    out.write(
        "consumption",
        {
            "operation_id": varn_ops,
            "input_id": st.wound_ids,
            "input_kind": "lot",
            "quantity": st.size,
            "uom": "ea",
        },
    )
    for op_ids, lot_ids in ((wind_ops, st.wound_ids), (varn_ops, st.varnished_ids)):
        out.write(
            "production",
            {
                "operation_id": op_ids,
                "output_id": lot_ids,
                "output_kind": "lot",
                "quantity": st.size,
                "uom": "ea",
            },
        )
    for param_id, op_ids, at in (
        ("WIND.tension", wind_ops, st.wind_end),
        ("OVEN.temp", varn_ops, st.varn_end),
        ("OVEN.time", varn_ops, st.varn_end),
    ):
        out.write("measurements", measurement_rows(plant.params[param_id], every, op_ids, at))


def write_units(
    rng: np.random.Generator,
    plant: Plant,
    u: Units,
    st: Stators,
    uses: Uses,
    codes: np.ndarray,
    caught: np.ndarray,
    out: CsvFolder,
) -> None:
    """Write work orders and, chunk by chunk, rotors, motors, operations, genealogy, readings, EOL tests."""
    n, crew, cal = plant.targets, plant.crew, plant.calendar
    first = np.full(int(u.wo.max()) + 1, np.iinfo("int64").max)
    np.minimum.at(first, u.wo, u.press_start)
    planned = first // HOUR * HOUR
    wo_ids = period_ids("WO", planned, 4)
    wo_product = np.zeros(len(first), dtype="int64")
    wo_product[u.wo] = u.product
    product_ids = np.array([p[0] for p in mm.PRODUCTS], dtype=object)
    out.write(
        "work_orders",
        {
            "work_order_id": wo_ids,
            "product_id": product_ids[wo_product],
            "quantity": np.bincount(u.wo),
            "planned_start": iso(planned),
            "line_id": "LINE-AS",
        },
    )
    gtins = np.array([mm.GTINS[p] for p in product_ids], dtype=object)
    width = serial_width(u)
    eol_ops = crew.operator("eol", u.eol_station, cal.instance(u.eol_at))
    for a in range(0, n, CHUNK):
        sel = slice(a, min(a + CHUNK, n))
        m = sel.stop - a
        serial = ids("SN-M", u.serial[0][sel], u.serial[1][sel], width)
        rotor = ids("RT-M", u.rotor[0][sel], u.rotor[1][sel], width)
        press_op = ids("OP-YZ-", u.rotor[0][sel], u.rotor[1][sel], width)
        assy_op = ids("OP-ZZ-", u.serial[0][sel], u.serial[1][sel], width)
        press_end = u.press_start[sel] + rng.integers(40, 71, m)
        assy_end = u.assy_start[sel] + rng.integers(150, 301, m)
        wo = wo_ids[u.wo[sel]]
        out.write(
            "units",
            {"serial": rotor, "product_id": mm.ROTOR[0], "work_order_id": wo, "created_at": iso(press_end)},
        )
        out.write(
            "units",
            {
                "serial": serial,
                "product_id": product_ids[u.product[sel]],
                "work_order_id": wo,
                "created_at": iso(assy_end),
                "gtin": gtins[u.product[sel]],
            },
        )
        week = (u.press_start[sel] - cal.start) // (7 * DAY)
        station = u.press_station[sel]
        fixture = np.array([f"TL-YZ-{j:02d}" for j in range(1, 9)], dtype=object)[2 * station + (week + station) % 2]
        out.write("operations", operation_rows(plant, "press", press_op, sel, press_end, "压装", fixture, wo))
        guns = np.array([f"TL-NJ-{j:02d}" for j in range(1, 5)], dtype=object)[u.assy_station[sel]]
        out.write("operations", operation_rows(plant, "assy", assy_op, sel, assy_end, "总装", guns, wo))
        for material, op_ids in ((mm.BEARING, press_op), (mm.MAGNET, press_op), (mm.HOUSING, assy_op)):
            consumer, lot, qty = uses[material[0]]
            lo, hi = np.searchsorted(consumer, [a, sel.stop])
            out.write(
                "consumption",
                {
                    "operation_id": op_ids[consumer[lo:hi] - a],
                    "input_id": plant.lots[material[0]].ids[lot[lo:hi]],
                    "input_kind": "lot",
                    "quantity": quantity(qty[lo:hi]),
                    "uom": material[3],
                },
            )
        out.write(
            "consumption",
            {"operation_id": assy_op, "input_id": rotor, "input_kind": "unit", "quantity": 1, "uom": "ea"},
        )
        out.write(
            "consumption",
            {
                "operation_id": assy_op,
                "input_id": st.varnished_ids[u.stator[sel]],
                "input_kind": "lot",
                "quantity": 1,
                "uom": "ea",
            },
        )
        out.write(
            "production",
            {"operation_id": press_op, "output_id": rotor, "output_kind": "unit", "quantity": 1, "uom": "ea"},
        )
        out.write(
            "production",
            {"operation_id": assy_op, "output_id": serial, "output_kind": "unit", "quantity": 1, "uom": "ea"},
        )
        for param_id, op_ids, at in (
            ("PRESS.force", press_op, press_end),
            ("PRESS.depth", press_op, press_end),
            ("ASSY.torque", assy_op, assy_end),
        ):
            out.write("measurements", measurement_rows(plant.params[param_id], sel, op_ids, at))
        out.write("inspections", _eol(rng, serial, sel, codes[sel], caught[sel], u, crew.ids[eol_ops[sel]]))


def _eol(
    rng: np.random.Generator,
    serial: np.ndarray,
    sel: slice,
    codes: np.ndarray,
    caught: np.ndarray,
    u: Units,
    operators: np.ndarray,
) -> dict[str, object]:
    m = len(serial)
    value = np.round(rng.normal(56.0, 2.0, m), 1)
    unit = np.full(m, "dB(A)", dtype=object)
    for code, (low, high, symbol) in EOL_FAIL.items():
        hit = caught & (codes == code)
        value[hit] = np.round(rng.uniform(low, high, int(hit.sum())), 1)
        unit[hit] = symbol
    found = np.where(caught, codes, "")
    return {
        "inspection_id": np.array([f"EOL-{s[4:]}" for s in serial], dtype=object),
        "target_id": serial,
        "target_kind": "unit",
        "type": "EOL测试",
        "result": np.where(caught, "fail", "pass"),
        "defect_code": found,
        "defect_name": np.array([DEFECT_NAMES.get(c, "") for c in found], dtype=object),
        "inspected_at": iso(u.eol_at[sel]),
        "operator_id": operators,
        "value": value,
        "unit": unit,
    }

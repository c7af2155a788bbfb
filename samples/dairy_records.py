"""MES/LIMS/ERP records of the dairy plant: in-process and finished lots, tests, distribution."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from zhuisu.samples import dairy_master as dm
from zhuisu.samples import epcis
from zhuisu.samples.common import DAY, HOUR, Uses, period_ids, quantity
from zhuisu.samples.faults import DEFECT_NAMES
from zhuisu.samples.gs1 import gln, lgtin_urn, sgln_urn
from zhuisu.samples.model import Plant
from zhuisu.samples.names import Company
from zhuisu.samples.records import customer_ids, measurement_rows, operation_rows
from zhuisu.samples.tables import CsvFolder, iso
from zhuisu.samples.texts import complaint_text

if TYPE_CHECKING:
    from zhuisu.samples.dairy import Batches, Milk

SHELF_DAYS = 15  # pasteurised milk, refrigerated
COMPLAINT_RATE = 0.35  # per distributor that received part of an escaped defective lot
MICRO_LIMIT = 100000  # CFU/mL, GB 19645 M
WAREHOUSE, DOCK = sgln_urn(30), sgln_urn(31)


def write_master_tables(out: CsvFolder) -> None:
    """Write materials (finished goods included), products and tools."""
    out.write(
        "materials",
        {
            "material_id": np.array([m[0] for m in dm.MATERIALS]),
            "name": np.array([m[1] for m in dm.MATERIALS]),
            "category": np.array([m[2] for m in dm.MATERIALS]),
            "uom": np.array([m[3] for m in dm.MATERIALS]),
            "gtin": np.array([dm.GTINS.get(m[0], "") for m in dm.MATERIALS]),
        },
    )
    out.write(
        "products",
        {
            "product_id": np.array([p[0] for p in dm.PRODUCTS]),
            "name": np.array([p[1] for p in dm.PRODUCTS]),
            "uom": "ea",
            "gtin": np.array([dm.GTINS[p[0]] for p in dm.PRODUCTS]),
        },
    )
    out.write(
        "tools",
        {
            "tool_id": np.array([f"TL-GZ-{j + 1:02d}" for j in range(8)]),
            "name": np.array([f"灌装嘴组件{j + 1}#" for j in range(8)]),
            "type": "工装",
            "equipment_id": np.array([f"FILL-{j // 2 + 1:02d}" for j in range(8)]),
        },
    )


def write_batches(
    rng: np.random.Generator,
    plant: Plant,
    b: Batches,
    milk: Milk,
    uses: Uses,
    codes: np.ndarray,
    caught: np.ndarray,
    out: CsvFolder,
) -> None:
    """Write work orders, in-process and finished lots, operations, genealogy, readings and release tests."""
    n, blends, lots = plant.targets, len(b.ids), len(milk.ids)
    planned = b.mix_start // HOUR * HOUR
    wo = period_ids("WO", planned, 3, daily=True)
    product_ids = np.array([p[0] for p in dm.PRODUCTS], dtype=object)
    finished_product = product_ids[b.product[b.blend_of]]
    out.write(
        "work_orders",
        {
            "work_order_id": wo,
            "product_id": product_ids[b.product],
            "quantity": quantity(np.bincount(b.blend_of, b.packs)),
            "planned_start": iso(planned),
            "line_id": "LINE-FILL",
        },
    )
    gtins = np.array([dm.GTINS[p] for p in finished_product], dtype=object)
    for lot_ids, material, qty, uom, made, gtin in (
        (milk.silo_ids, dm.SILO_MILK[0], milk.silo_kg, "kg", milk.rcv_end, ""),
        (milk.ids, dm.PAST_MILK[0], milk.kg, "kg", milk.past_end, ""),
        (b.ids, dm.BLEND[0], b.kg, "kg", b.mix_end, ""),
        (b.finished_ids, finished_product, b.packs, "ea", b.fill_end, gtins),
    ):
        out.write(
            "lots",
            {
                "lot_id": lot_ids,
                "material_id": material,
                "quantity": quantity(qty),
                "uom": uom,
                "created_at": iso(made),
                "gtin": gtin,
            },
        )
    ops = {
        name: np.array([f"OP-{code}-{i}" for i in lot_ids], dtype=object)
        for name, code, lot_ids in (
            ("rcv", "SN", milk.silo_ids),
            ("past", "SJ", milk.ids),
            ("mix", "PL", b.ids),
            ("fill", "GZ", b.finished_ids),
        )
    }
    week = (b.fill_start - plant.calendar.start) // (7 * DAY)
    nozzles = np.array([f"TL-GZ-{2 * f + w % 2 + 1:02d}" for f, w in zip(b.filler, week, strict=True)], dtype=object)
    for name, label, sel, end, tools, orders in (
        ("rcv", "收奶", np.arange(lots), milk.rcv_end, "", ""),
        ("past", "巴氏杀菌", np.arange(lots), milk.past_end, "", ""),
        ("mix", "配料", np.arange(blends), b.mix_end, "", wo),
        ("fill", "灌装", np.arange(n), b.fill_end, nozzles, wo[b.blend_of]),
    ):
        out.write("operations", operation_rows(plant, name, ops[name], sel, end, label, tools, orders))
    raw = plant.lots
    for step, material in (
        ("rcv", dm.RAW_MILK),
        ("mix", dm.SUGAR),
        ("mix", dm.POWDER),
        ("fill", dm.PACKAGING),
    ):
        if material[0] in uses:
            consumer, lot, qty = uses[material[0]]
            out.write(
                "consumption",
                {
                    "operation_id": ops[step][consumer],
                    "input_id": raw[material[0]].ids[lot],
                    "input_kind": "lot",
                    "quantity": quantity(qty),
                    "uom": material[3],
                },
            )
    blend, past, kg = milk.draws
    for op_ids, inputs, qty in (
        (ops["past"], milk.silo_ids, milk.silo_kg),
        (ops["mix"][blend], milk.ids[past], kg),
        (ops["fill"], b.ids[b.blend_of], b.fill_kg),
    ):
        out.write(
            "consumption",
            {
                "operation_id": op_ids,
                "input_id": inputs,
                "input_kind": "lot",
                "quantity": quantity(qty),
                "uom": "kg",
            },
        )
    for name, outputs, qty, uom in (
        ("rcv", milk.silo_ids, milk.silo_kg, "kg"),
        ("past", milk.ids, milk.kg, "kg"),
        ("mix", b.ids, b.kg, "kg"),
        ("fill", b.finished_ids, b.packs, "ea"),
    ):
        out.write(
            "production",
            {
                "operation_id": ops[name],
                "output_id": outputs,
                "output_kind": "lot",
                "quantity": quantity(qty),
                "uom": uom,
            },
        )
    for param_id, sel, at in (
        ("RCV.temp", np.arange(lots), milk.rcv_end),
        ("PAST.temp", np.arange(lots), milk.past_end),
        ("PAST.hold", np.arange(lots), milk.past_end),
        ("MIX.temp", np.arange(blends), b.mix_end),
        ("FILL.h2o2", np.arange(n), b.fill_start + 600),
    ):
        param = plant.params[param_id]
        out.write("measurements", measurement_rows(param, sel, ops[param.step], at))
    _release_tests(rng, plant, b, codes, caught, out)


def _release_tests(
    rng: np.random.Generator, plant: Plant, b: Batches, codes: np.ndarray, caught: np.ndarray, out: CsvFolder
) -> None:
    n = plant.targets
    fat_limit = np.array([p[6] for p in dm.PRODUCTS])[b.product[b.blend_of]]
    fat_typical = np.array([p[7] for p in dm.PRODUCTS])[b.product[b.blend_of]]
    micro_fail, fat_fail = caught & (codes == "D-MICRO"), caught & (codes == "D-FAT")
    cfu = np.where(micro_fail, 10 ** rng.uniform(5.05, 6.2, n), 10 ** rng.uniform(2.3, 4.3, n))
    fat = np.where(fat_fail, fat_limit - rng.uniform(0.05, 0.4, n), fat_typical + rng.normal(0, 0.06, n))
    inspectors = plant.crew.ids[plant.crew.inspector(rng, 2 * n)]
    for code, kind, fail, value, unit, at, suffix in (
        ("D-MICRO", "微生物检验", micro_fail, np.round(cfu, -1), "CFU/mL", b.micro_at, "M"),
        ("D-FAT", "理化检验", fat_fail, np.round(fat, 2), "g/100g", b.fat_at, "F"),
    ):
        out.write(
            "inspections",
            {
                "inspection_id": np.array([f"QC-{i}-{suffix}" for i in b.finished_ids], dtype=object),
                "target_id": b.finished_ids,
                "target_kind": "lot",
                "type": kind,
                "result": np.where(fail, "fail", "pass"),
                "defect_code": np.where(fail, code, ""),
                "defect_name": np.where(fail, DEFECT_NAMES[code], ""),
                "inspected_at": iso(at),
                "operator_id": inspectors[:n] if suffix == "M" else inspectors[n:],
                "value": quantity(value) if suffix == "M" else value,
                "unit": unit,
            },
        )


def write_distribution(
    rng: np.random.Generator,
    plant: Plant,
    b: Batches,
    codes: np.ndarray,
    caught: np.ndarray,
    customers: Sequence[Company],
    out: CsvFolder,
) -> None:
    """Write shipments of released lots, complaints, and EPCIS commissioning and shipping events."""
    released = np.flatnonzero(~caught)
    parts = rng.integers(1, 4, len(released))
    lot = np.repeat(released, parts)
    share = rng.uniform(0.5, 1.5, len(lot))
    share /= np.bincount(np.repeat(np.arange(len(released)), parts), share)[np.repeat(np.arange(len(released)), parts)]
    packs = np.round(b.packs[lot] * share, -1)
    first = np.cumsum(parts) - parts
    distributor = (
        rng.integers(len(customers), size=len(released))[np.repeat(np.arange(len(released)), parts)]
        + np.arange(len(lot))
        - np.repeat(first, parts)
    ) % len(customers)
    leave = b.micro_at[lot] + (rng.uniform(2, 72, len(lot)) * HOUR).astype("int64")
    key = distributor * 100000 + (leave - plant.calendar.start) // DAY
    uniq, ship_of = np.unique(key, return_inverse=True)
    ship_at = np.zeros(len(uniq), dtype="int64")
    np.maximum.at(ship_at, ship_of, leave)
    ship_at = ship_at // 60 * 60
    order = np.argsort(ship_at, kind="stable")
    rank = np.empty(len(order), dtype="int64")
    rank[order] = np.arange(len(order))
    ship_of, ship_at = rank[ship_of], ship_at[order]
    ship_customer = np.zeros(len(ship_at), dtype="int64")
    ship_customer[ship_of] = distributor
    ship_ids = period_ids("FH", ship_at, 4)
    cust_ids = np.array(customer_ids(customers), dtype=object)
    carriers = np.array(dm.CARRIERS, dtype=object)[rng.integers(len(dm.CARRIERS), size=len(ship_at))]
    out.write(
        "shipments",
        {
            "shipment_id": ship_ids,
            "customer_id": cust_ids[ship_customer],
            "shipped_at": iso(ship_at),
            "carrier": carriers,
        },
    )
    item_order = np.lexsort((lot, ship_of))
    out.write(
        "shipment_items",
        {
            "shipment_id": ship_ids[ship_of[item_order]],
            "item_id": b.finished_ids[lot[item_order]],
            "item_kind": "lot",
            "quantity": quantity(packs[item_order]),
            "uom": "ea",
        },
    )
    bad = np.flatnonzero((codes[lot] != "") & (rng.random(len(lot)) < COMPLAINT_RATE))
    received = (ship_at[ship_of[bad]] + (rng.uniform(2, 15, len(bad)) * DAY).astype("int64")) // 60 * 60
    by_time = np.argsort(received, kind="stable")
    bad, received = bad[by_time], received[by_time]
    out.write(
        "complaints",
        {
            "complaint_id": period_ids("KS", received, 4),
            "customer_id": cust_ids[distributor[bad]],
            "item_id": b.finished_ids[lot[bad]],
            "item_kind": "lot",
            "received_at": iso(received),
            "defect_code": codes[lot[bad]],
            "text": np.array([complaint_text(rng, codes[lot[i]], b.finished_ids[lot[i]]) for i in bad], dtype=object),
        },
    )
    _events(plant, b, lot, packs, ship_of, ship_at, ship_ids, out)


def _events(
    plant: Plant,
    b: Batches,
    lot: np.ndarray,
    packs: np.ndarray,
    ship_of: np.ndarray,
    ship_at: np.ndarray,
    ship_ids: np.ndarray,
    out: CsvFolder,
) -> None:
    product_ids = [p[0] for p in dm.PRODUCTS]
    classes = [
        lgtin_urn(dm.GTINS[product_ids[p]], i) for p, i in zip(b.product[b.blend_of], b.finished_ids, strict=True)
    ]
    made, best = iso(b.fill_end), iso(b.fill_end + SHELF_DAYS * DAY)
    events = [
        (
            int(b.fill_end[k]),
            0,
            epcis.commissioning(
                f"dairy/commission/{b.finished_ids[k]}/{made[k]}",
                made[k],
                [(classes[k], float(b.packs[k]))],
                sgln_urn(20 + int(b.filler[k]) + 1),
                WAREHOUSE,
                {"cbvmda:bestBeforeDate": best[k][:10]},
            ),
        )
        for k in range(plant.targets)
    ]
    contents: list[list[tuple[str, float]]] = [[] for _ in range(len(ship_at))]
    for i in np.lexsort((lot, ship_of)).tolist():
        contents[ship_of[i]].append((classes[lot[i]], float(packs[i])))
    shipped = iso(ship_at)
    events += [
        (
            int(ship_at[s]),
            1,
            epcis.shipping(
                f"dairy/ship/{ship_ids[s]}",
                shipped[s],
                [],
                contents[s],
                DOCK,
                WAREHOUSE,
                f"urn:epcglobal:cbv:bt:{gln(1)}:{ship_ids[s]}",
            ),
        )
        for s in range(len(ship_at))
    ]
    events.sort(key=lambda e: (e[0], e[1]))
    epcis.write_documents(out.out / "epcis", [e[2] for e in events])

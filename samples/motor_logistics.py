"""Packing, shipping and complaints of the motor plant: units on SSCC pallets, pallets to customers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from zhuisu.samples import epcis
from zhuisu.samples import motor_master as mm
from zhuisu.samples.common import DAY, HOUR, ids, period_ids
from zhuisu.samples.gs1 import gln, sgln_urn, sgtin_urn, sscc, sscc_urn
from zhuisu.samples.model import Plant
from zhuisu.samples.motor_records import serial_width
from zhuisu.samples.names import Company
from zhuisu.samples.records import customer_ids
from zhuisu.samples.tables import CsvFolder, iso
from zhuisu.samples.texts import complaint_text

if TYPE_CHECKING:
    from zhuisu.samples.motor import Units

COMPLAINT_RATE = 0.6  # share of escaped defective units whose customer complains
WAREHOUSE, PACKING, DOCK = sgln_urn(10), sgln_urn(11), sgln_urn(12)


def write_logistics(
    rng: np.random.Generator,
    plant: Plant,
    u: Units,
    codes: np.ndarray,
    caught: np.ndarray,
    customers: Sequence[Company],
    out: CsvFolder,
) -> None:
    """Write shipments, shipment items (pallets), complaints and the EPCIS packing and shipping events."""
    pallet_of, pack_at = _pallets(rng, u, ~caught)
    count = len(pack_at)
    codes_18 = [sscc(i + 1) for i in range(count)]
    ship_of, ship_at = _group(rng, pack_at)
    customer = rng.choice(len(customers), len(ship_at), p=_weights(len(customers)))
    carrier = np.array(mm.CARRIERS, dtype=object)[rng.integers(len(mm.CARRIERS), size=len(ship_at))]
    ship_ids = period_ids("FH", ship_at, 4)
    cust_ids = np.array(customer_ids(customers), dtype=object)
    out.write(
        "shipments",
        {
            "shipment_id": ship_ids,
            "customer_id": cust_ids[customer],
            "shipped_at": iso(ship_at),
            "carrier": carrier,
        },
    )
    units_on = np.bincount(pallet_of[pallet_of >= 0], minlength=count)
    order = np.lexsort((np.arange(count), ship_of))
    out.write(
        "shipment_items",
        {
            "shipment_id": ship_ids[ship_of[order]],
            "item_id": np.array(codes_18)[order],
            "item_kind": "lu",
            "quantity": units_on[order],
            "uom": "ea",
        },
    )
    packed = np.flatnonzero(pallet_of >= 0)
    serial = ids("SN-M", u.serial[0][packed], u.serial[1][packed], serial_width(u))
    escaped = np.flatnonzero((codes[packed] != "") & (rng.random(len(packed)) < COMPLAINT_RATE))
    received = ship_at[ship_of[pallet_of[packed[escaped]]]] + (rng.uniform(3, 90, len(escaped)) * DAY).astype("int64")
    received = received // 60 * 60
    order = np.argsort(received, kind="stable")
    out.write(
        "complaints",
        {
            "complaint_id": period_ids("KS", received[order], 4),
            "customer_id": cust_ids[customer[ship_of[pallet_of[packed[escaped[order]]]]]],
            "item_id": serial[escaped[order]],
            "item_kind": "unit",
            "received_at": iso(received[order]),
            "defect_code": codes[packed[escaped[order]]],
            "text": np.array(
                [
                    complaint_text(rng, c, s)
                    for c, s in zip(codes[packed[escaped[order]]], serial[escaped[order]], strict=True)
                ],
                dtype=object,
            ),
        },
    )
    gtins = np.array([mm.GTINS[p[0]] for p in mm.PRODUCTS], dtype=object)[u.product[packed]]
    children: list[list[str]] = [[] for _ in range(count)]
    for pallet, gtin, s in zip(pallet_of[packed].tolist(), gtins.tolist(), serial.tolist(), strict=True):
        children[pallet].append(sgtin_urn(gtin, s))
    pack_iso, ship_iso = iso(pack_at), iso(ship_at)
    events = [
        (
            int(pack_at[p]),
            0,
            epcis.packing(
                f"motor/pack/{codes_18[p]}/{pack_iso[p]}",
                pack_iso[p],
                sscc_urn(codes_18[p]),
                children[p],
                PACKING,
                WAREHOUSE,
            ),
        )
        for p in range(count)
    ]
    members: list[list[str]] = [[] for _ in range(len(ship_at))]
    for p in np.argsort(pack_at, kind="stable").tolist():
        members[ship_of[p]].append(sscc_urn(codes_18[p]))
    events += [
        (
            int(ship_at[s]),
            1,
            epcis.shipping(
                f"motor/ship/{ship_ids[s]}",
                ship_iso[s],
                members[s],
                [],
                DOCK,
                WAREHOUSE,
                f"urn:epcglobal:cbv:bt:{gln(1)}:{ship_ids[s]}",
            ),
        )
        for s in range(len(ship_at))
    ]
    events.sort(key=lambda e: (e[0], e[1]))
    epcis.write_documents(out.out / "epcis", [e[2] for e in events])


def _pallets(rng: np.random.Generator, u: Units, passed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pallet index per unit (-1: not packed) and pack time per pallet; one model per pallet."""
    pallet_of = np.full(len(passed), -1, dtype="int64")
    last: list[np.ndarray] = []
    offset = 0
    for p, product in enumerate(mm.PRODUCTS):
        idx = np.flatnonzero(passed & (u.product == p))
        idx = idx[np.argsort(u.eol_at[idx], kind="stable")]
        group = np.arange(len(idx)) // product[3]
        pallet_of[idx] = offset + group
        count = int(group.max()) + 1 if len(idx) else 0
        done = np.zeros(count, dtype="int64")
        np.maximum.at(done, group, u.eol_at[idx])
        last.append(done)
        offset += count
    pack_at = np.concatenate(last) + (rng.uniform(0.2, 1.5, offset) * HOUR).astype("int64")
    # Number pallets (and so their SSCCs) in the order they were wrapped.
    rank = np.empty(offset, dtype="int64")
    rank[np.argsort(pack_at, kind="stable")] = np.arange(offset)
    pallet_of[pallet_of >= 0] = rank[pallet_of[pallet_of >= 0]]
    return pallet_of, np.sort(pack_at)


def _group(rng: np.random.Generator, pack_at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Consecutive pallets go out together, one to six per truck: (shipment per pallet, shipment times)."""
    sizes = rng.integers(1, 7, len(pack_at))
    ship_of = np.searchsorted(np.cumsum(sizes), np.arange(len(pack_at)), side="right")
    ready = np.zeros(int(ship_of.max()) + 1 if len(ship_of) else 0, dtype="int64")
    np.maximum.at(ready, ship_of, pack_at)
    ship_at = (ready + (rng.uniform(4, 48, len(ready)) * HOUR).astype("int64")) // 60 * 60
    # Number shipments in the order the trucks left.
    order = np.argsort(ship_at, kind="stable")
    rank = np.empty(len(order), dtype="int64")
    rank[order] = np.arange(len(order))
    return rank[ship_of], ship_at[order]


def _weights(count: int) -> np.ndarray:
    # A few big accounts and a long tail, as with any OEM supplier.
    w = 1.0 / np.arange(1, count + 1) ** 0.8
    return w / w.sum()

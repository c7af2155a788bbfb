"""GS1 EPCIS 2.0 JSON-LD documents of the sample plants: packing, commissioning and shipping events."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]
OFFSET = "+08:00"  # plant local time, China Standard Time
PER_FILE = 10_000
_NAMESPACE = uuid.UUID("6f1c8c1e-7a53-4c1e-9a57-2f8f0d3c5a10")


def _event(kind: str, key: str, iso_local: str, body: dict[str, Any]) -> dict[str, Any]:
    # Event ids are name-based UUIDs, so the same plant always yields the same ids.
    return {
        "type": kind,
        "eventID": f"urn:uuid:{uuid.uuid5(_NAMESPACE, key)}",
        "eventTime": iso_local + OFFSET,
        "eventTimeZoneOffset": OFFSET,
        **body,
    }


def packing(
    key: str, iso_local: str, parent: str, children: Sequence[str], read_point: str, location: str
) -> dict[str, Any]:
    """AggregationEvent: ``children`` packed onto the logistic unit ``parent``."""
    return _event(
        "AggregationEvent",
        key,
        iso_local,
        {
            "parentID": parent,
            "childEPCs": list(children),
            "action": "ADD",
            "bizStep": "packing",
            "disposition": "in_progress",
            "readPoint": {"id": read_point},
            "bizLocation": {"id": location},
        },
    )


def commissioning(
    key: str,
    iso_local: str,
    quantities: Sequence[tuple[str, float]],
    read_point: str,
    location: str,
    ilmd: dict[str, str],
) -> dict[str, Any]:
    """ObjectEvent ADD: lots (class URN, quantity) come into being, with their master data (ILMD)."""
    return _event(
        "ObjectEvent",
        key,
        iso_local,
        {
            "quantityList": [{"epcClass": c, "quantity": q} for c, q in quantities],
            "action": "ADD",
            "bizStep": "commissioning",
            "disposition": "active",
            "readPoint": {"id": read_point},
            "bizLocation": {"id": location},
            "ilmd": ilmd,
        },
    )


def shipping(
    key: str,
    iso_local: str,
    epcs: Sequence[str],
    quantities: Sequence[tuple[str, float]],
    read_point: str,
    location: str,
    despatch: str,
) -> dict[str, Any]:
    """ObjectEvent OBSERVE: objects leave the plant under despatch advice ``despatch``."""
    body: dict[str, Any] = {}
    if epcs:
        body["epcList"] = list(epcs)
    if quantities:
        body["quantityList"] = [{"epcClass": c, "quantity": q} for c, q in quantities]
    body.update(
        {
            "action": "OBSERVE",
            "bizStep": "shipping",
            "disposition": "in_transit",
            "readPoint": {"id": read_point},
            "bizLocation": {"id": location},
            "bizTransactionList": [{"type": "desadv", "bizTransaction": despatch}],
        }
    )
    return _event("ObjectEvent", key, iso_local, body)


def write_documents(folder: Path, events: Sequence[dict[str, Any]]) -> list[Path]:
    """Write events (in time order) as EPCISDocuments of at most ``PER_FILE`` events each."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("events-*.jsonld"):
        old.unlink()
    paths = []
    for number, start in enumerate(range(0, len(events), PER_FILE), 1):
        chunk = events[start : start + PER_FILE]
        document = {
            "@context": CONTEXT,
            "type": "EPCISDocument",
            "schemaVersion": "2.0",
            # The last event's time, not the wall clock, so that a seed always yields the same bytes.
            "creationDate": chunk[-1]["eventTime"],
            "epcisBody": {"eventList": list(chunk)},
        }
        path = folder / f"events-{number:04d}.jsonld"
        path.write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        paths.append(path)
    return paths

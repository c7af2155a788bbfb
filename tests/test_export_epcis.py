"""EPCIS 2.0 export: GS1 identifiers back from uids, schema validity, and re-ingest to the same genealogy."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from jsonschema import Draft7Validator

import zhuisu
from zhuisu import ingest
from zhuisu.graph.engine import Engine
from zhuisu.graph.epcis_export import UID, VOCABULARY, rec20, write_epcis
from zhuisu.graph.schema import edges, nodes
from zhuisu.graph.store import Store
from zhuisu.graph.trace import trace
from zhuisu.ingest import gs1, registry
from zhuisu.ingest.records import Batch, Edge, Node

ROOT = Path(zhuisu.__file__).resolve().parent
SCHEMA = json.loads((ROOT / "ingest" / "schemas" / "epcis" / "EPCIS-JSON-Schema.json").read_text(encoding="utf-8"))
GS1_JSON = ROOT.parent / "shared" / "standards" / "epcis" / "JSON"
MOTOR = ROOT / "samples" / "data" / "motor"
CREATED = datetime(2024, 1, 1, tzinfo=UTC)
MATERIAL = ("consumedBy", "produces", "containedIn")
# An absolute URI (RFC 3986): the schema's "uri" format, which jsonschema checks only with optional packages.
URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+$")


# ── uid → GS1 identifier ────────────────────────────────────────────────────────
@pytest.mark.parametrize("uid", [
    "unit:06901234001020.SN-M2311-00001",
    "unit:04012345111224.25",
    "lot:04012345111118.4444",
    "lot:06901234000023.ZC/2311 #3 批",  # '/', ' ', '#' and Chinese are percent-encoded
    "material:06901234000016",
    "lu:106141412345678908",
    "location:6901234000115",
    "location:0614141003006.1",
    "unit:urn:epc:id:grai:0614141.12345.400",  # GS1 keys without a trade-item form stay as written
    "unit:https://id.gs1.org/8004/0614141ABC",
])
def test_gs1_uids_give_the_identifier_parse_reads_back(uid: str) -> None:
    identifier = gs1.epc(uid)
    assert identifier is not None and URI.match(identifier)
    found = gs1.parse(identifier)
    assert found is not None and found.uid == uid


@pytest.mark.parametrize("written", [
    "urn:epc:id:sgtin:6901234.000102.SN-M2311-00001", "urn:epc:class:lgtin:4012345.011111.4444",
    "urn:epc:id:sscc:6901234.0000000001", "urn:epc:id:sgln:6901234.00011.0",
    "https://id.gs1.org/01/04012345111118/10/4444", "urn:epc:idpat:sgtin:4012345.066666.*",
])
def test_digital_link_is_the_canonical_form_of_what_was_read(written: str) -> None:
    found = gs1.parse(written)
    assert found is not None
    assert gs1.digital_link(found.uid) == found.digital_link


@pytest.mark.parametrize("uid", ["unit:SN-M2311-00042", "lot:CG2310-0002", "op:OP-1", "unit:0690123400102.X",
                                 "lu:12345", "location:6901234000115.0", "location:WH-1"])
def test_other_uids_have_no_gs1_identifier(uid: str) -> None:
    assert gs1.epc(uid) is None and gs1.digital_link(uid) is None


# ── helpers ───────────────────────────────────────────────────────────────────
def export(store: Store, **options: Any) -> dict[str, Any]:
    out = io.StringIO()
    write_epcis(store, out, created=CREATED, **options)
    doc: dict[str, Any] = json.loads(out.getvalue())
    return doc


def schema_errors(doc: dict[str, Any]) -> list[str]:
    validator = Draft7Validator(SCHEMA, format_checker=Draft7Validator.FORMAT_CHECKER)
    errors = [f"{list(e.absolute_path)}: {e.message[:200]}" for e in validator.iter_errors(doc)]
    return errors + [f"not a URI: {u}" for u in identifiers(doc) if not URI.match(u)]


def identifiers(doc: dict[str, Any]) -> Iterator[str]:
    """Every identifier the events name: EPCs, classes, parents, transformation and event ids."""
    for event in doc["epcisBody"]["eventList"]:
        yield event["eventID"]
        for name in ("parentID", "transformationID"):
            if name in event:
                yield event[name]
        for name in ("childEPCs", "inputEPCList", "outputEPCList"):
            yield from event.get(name, ())
        for name in ("childQuantityList", "inputQuantityList", "outputQuantityList"):
            yield from (q["epcClass"] for q in event.get(name, ()))


def declared(doc: dict[str, Any]) -> dict[str, str]:
    vocabularies = doc.get("epcisHeader", {}).get("epcisMasterData", {}).get("vocabularyList", [])
    return {e["id"]: a["attribute"] for v in vocabularies if v["type"] == VOCABULARY
            for e in v["vocabularyElementList"] for a in e["attributes"] if a["id"] == UID}


def reingest(doc: dict[str, Any], tmp_path: Path, name: str = "export.jsonld") -> Store:
    path = tmp_path / name
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    copy = Store(str(tmp_path / f"{name}.db"))
    for batch in registry.plan(path):
        copy.ingest(batch)
    return copy


def material(store: Store, *, keys: bool = False) -> set[tuple[Any, ...]]:
    """``(src, rel, dst, time, quantity, Rec 20 uom[, key])`` of the live genealogy and containment edges."""
    src, dst = nodes.alias("s"), nodes.alias("d")
    q = (sa.select(src.c.uid, edges.c.rel, dst.c.uid, edges.c.t, edges.c.qty, edges.c.uom, edges.c.key)
         .join(src, src.c.id == edges.c.src).join(dst, dst.c.id == edges.c.dst)
         .where(edges.c.rel.in_(MATERIAL), edges.c.retracted.is_(None)))
    with store.engine.connect() as conn:
        return {(s, r, d, t, qty, rec20(uom), *((k,) if keys else ())) for s, r, d, t, qty, uom, k in conn.execute(q)}


@pytest.fixture(scope="module")
def motor(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    store = Store(str(tmp_path_factory.mktemp("motor") / "z.db"))
    for batch in ingest.plan(MOTOR):
        store.ingest(batch)
    yield store
    store.close()


@pytest.fixture(scope="module")
def motor_doc(motor: Store) -> dict[str, Any]:
    return export(motor)


# ── the sample plant ────────────────────────────────────────────────────────────
def test_motor_export_validates_against_the_epcis_schema(motor_doc: dict[str, Any]) -> None:
    assert schema_errors(motor_doc) == []
    events = motor_doc["epcisBody"]["eventList"]
    kinds = {e["type"] for e in events}
    assert kinds == {"TransformationEvent", "AggregationEvent"}
    assert all(e["action"] == "ADD" for e in events if e["type"] == "AggregationEvent")


def test_gs1_identifiers_where_the_plant_has_them(motor: Store, motor_doc: dict[str, Any]) -> None:
    named = declared(motor_doc)
    events = motor_doc["epcisBody"]["eventList"]
    pallet = next(e for e in events if e["type"] == "AggregationEvent"
                  and e["parentID"] == "https://id.gs1.org/00/069012340000000016")
    # The sample's EPCIS document packed these units into this SSCC: the same event comes back.
    assert pallet["eventID"] == "urn:uuid:e8016db0-35b6-524f-87f7-f6b6119b3373"
    assert pallet["bizStep"] == "packing" and pallet["readPoint"] == {"id": "urn:epc:id:sgln:6901234.00011.0"}
    unit = "https://id.gs1.org/01/06901234001020/21/SN-M2311-00001"  # the unit's SGTIN alias, from units.gtin
    assert unit in pallet["childEPCs"] and named[unit] == "unit:SN-M2311-00001"
    assert "https://id.gs1.org/00/069012340000000016" not in named  # an SSCC uid names itself
    # A plant lot has no GS1 key: its zhuisu IRI, declared; an operation is its transformationID.
    assert named["https://w3id.org/zhuisu/id/lot:CG2310-0003"] == "lot:CG2310-0003"
    winding = [e for e in events if e.get("transformationID") == "https://w3id.org/zhuisu/id/op:OP-RX-ST2310-0001"]
    assert [(e.get("inputQuantityList"), e.get("outputQuantityList")) for e in winding] == [
        ([{"epcClass": "https://w3id.org/zhuisu/id/lot:CG2310-0003", "quantity": 31.1, "uom": "KGM"}], None),
        (None, [{"epcClass": "https://w3id.org/zhuisu/id/lot:ST2310-0001", "quantity": 50.0, "uom": "EA"}]),
    ]  # inputs at the operation's start, outputs at its end: one event per time, one transformationID


def test_motor_export_reingests_to_the_same_genealogy_and_containment(
        motor: Store, motor_doc: dict[str, Any], tmp_path: Path) -> None:
    copy = reingest(motor_doc, tmp_path)
    assert material(copy) == material(motor)
    contained = {e for e in material(motor, keys=True) if e[1] == "containedIn"}
    assert contained == {e for e in material(copy, keys=True) if e[1] == "containedIn"}  # eventIDs kept
    assert copy.node("https://id.gs1.org/01/06901234001020/21/SN-M2311-00001").uid == "unit:SN-M2311-00001"


def test_export_of_the_reingested_store_is_the_same_document(motor_doc: dict[str, Any], tmp_path: Path) -> None:
    assert export(reingest(motor_doc, tmp_path)) == motor_doc


def test_trace_export_names_exactly_the_traced_genealogy(motor: Store) -> None:
    traced = trace(Engine.load(motor), "lot:CG2310-0003", direction="forward")
    doc = export(motor, uids=traced.uids)
    named = declared(doc)
    uids = {named.get(i) or (found.uid if (found := gs1.parse(i)) else i) for i in identifiers(doc)
            if not i.startswith("urn:uuid:")}
    followed = {e.src for e in traced.edges if e.rel in MATERIAL} | {e.dst for e in traced.edges if e.rel in MATERIAL}
    assert schema_errors(doc) == []
    assert uids == followed and uids <= traced.uids
    assert len(doc["epcisBody"]["eventList"]) < len(export(motor)["epcisBody"]["eventList"])


# ── EPCIS in, EPCIS out ─────────────────────────────────────────────────────────
@pytest.mark.skipif(not GS1_JSON.is_dir(), reason=f"standards folder missing: {GS1_JSON}")
def test_gs1_examples_come_back_as_the_same_events(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "gs1.db"))
    for batch in registry.plan(GS1_JSON):
        store.ingest(batch)
    doc = export(store)
    copy = reingest(doc, tmp_path)

    assert schema_errors(doc) == []
    assert declared(doc) == {}  # GS1 uids, eventIDs, transformationIDs and unnamed lots all name themselves
    assert material(copy, keys=True) == material(store, keys=True)
    one = next(e for e in doc["epcisBody"]["eventList"]
               if e["eventID"].endswith("404d95fc-9457-4a51-bd6a-0bba133845a8"))
    assert "transformationID" not in one  # op:epcis:<event> is that event again
    unnamed = next(e for e in doc["epcisBody"]["eventList"]
                   if e["eventID"].startswith("ni:///sha-256;e65c3a99") and e["type"] == "TransformationEvent")
    assert {"epcClass": "https://id.gs1.org/01/04012345666663", "quantity": 220.0} in unnamed["inputQuantityList"]


def test_a_transformation_in_several_events_keeps_its_transformation_id(tmp_path: Path) -> None:
    tid = "urn:uuid:5d1f3c3e-8a55-4f4e-9c2b-0d9e8f7a6b5c"
    events = [
        {"type": "TransformationEvent", "eventID": "urn:uuid:00000000-0000-4000-8000-000000000001",
         "eventTime": "2023-11-03T08:00:00+08:00", "eventTimeZoneOffset": "+08:00", "transformationID": tid,
         "inputQuantityList": [{"epcClass": "urn:epc:class:lgtin:6901234.000023.ZC2311-0003", "quantity": 12.5,
                                "uom": "KGM"}], "bizStep": "assembling"},
        {"type": "TransformationEvent", "eventID": "urn:uuid:00000000-0000-4000-8000-000000000002",
         "eventTime": "2023-11-03T09:30:00+08:00", "eventTimeZoneOffset": "+08:00", "transformationID": tid,
         "outputEPCList": ["urn:epc:id:sgtin:6901234.000102.SN-M2311-00042"]},
    ]
    original = {"@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
                "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2023-11-03T10:00:00+08:00",
                "epcisBody": {"eventList": events}}
    store = reingest(original, tmp_path, "original.jsonld")
    doc = export(store)
    copy = reingest(doc, tmp_path)

    assert schema_errors(doc) == [] and declared(doc) == {}
    assert [(e["eventID"], e["transformationID"]) for e in doc["epcisBody"]["eventList"]] == [
        (e["eventID"], tid) for e in events]
    # One operation holds the attributes of both events, mixed: neither event gets them back.
    assert all("bizStep" not in e for e in doc["epcisBody"]["eventList"])
    assert material(copy, keys=True) == material(store, keys=True)
    assert {e[2] for e in material(copy)} == {"op:epcis:xform:5d1f3c3e-8a55-4f4e-9c2b-0d9e8f7a6b5c",
                                              "unit:06901234001020.SN-M2311-00042"}


# ── what EPCIS cannot say ───────────────────────────────────────────────────────
T = datetime(2023, 11, 3, 8, 0, tzinfo=timezone(timedelta(hours=8)))


@pytest.fixture
def hand(tmp_path: Path) -> Store:
    store = Store(str(tmp_path / "z.db"))
    store.ingest(Batch(source="hand", nodes=[Node("lot:批-1", attrs={"quantity": 3})], edges=[
        Edge("lot:批-1", "consumedBy", "op:装配 #1", time=T, quantity=2.5, uom="箱"),  # no Rec 20 code
        Edge("lot:L-2", "consumedBy", "op:装配 #1", time=T, quantity=0.1, uom="kg", key="reading-7"),
        Edge("op:装配 #1", "produces", "unit:SN-1", time=T + timedelta(minutes=5, milliseconds=250)),
        Edge("unit:SN-1", "containedIn", "lu:106141412345678908", time=T + timedelta(hours=1)),
        Edge("unit:SN-2", "containedIn", "lu:106141412345678908"),  # no time: no event
        Edge("lot:L-2", "shippedIn", "shipment:S-1", time=T),  # not genealogy
    ]))
    return store


def test_what_epcis_cannot_carry_is_reported(hand: Store) -> None:
    out = io.StringIO()
    result = write_epcis(hand, out, created=CREATED)
    doc = json.loads(out.getvalue())
    events = doc["epcisBody"]["eventList"]

    assert schema_errors(doc) == []
    assert (result.transformations, result.aggregations, result.untimed, result.uoms) == (3, 1, 1, {"箱"})
    assert [e["eventTime"] for e in events] == [
        "2023-11-03T08:00:00+08:00", "2023-11-03T08:00:00+08:00", "2023-11-03T08:05:00.250+08:00",
        "2023-11-03T09:00:00+08:00"]
    assert events[0]["inputQuantityList"] == [{"epcClass": "https://w3id.org/zhuisu/id/lot:%E6%89%B9-1",
                                               "quantity": 2.5}]
    assert events[1]["inputQuantityList"] == [{"epcClass": "https://w3id.org/zhuisu/id/lot:L-2", "quantity": 0.1,
                                               "uom": "KGM"}]
    assert events[2]["outputEPCList"] == ["https://w3id.org/zhuisu/id/unit:SN-1"]
    assert {e["transformationID"] for e in events[:3]} == {"https://w3id.org/zhuisu/id/op:%E8%A3%85%E9%85%8D%20%231"}
    # A key that is not a URI gives a generated eventID; the same store always gives the same ones.
    assert "reading-7" not in {e["eventID"] for e in events} and export(hand) == export(hand)


def test_what_epcis_can_carry_reingests(hand: Store, tmp_path: Path) -> None:
    copy = reingest(export(hand), tmp_path)
    assert material(copy) == {e for e in material(hand) if e[3] is not None}  # without the untimed edge

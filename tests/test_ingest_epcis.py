"""EPCIS 2.0 JSON/JSON-LD and XML (and 1.2 XML) documents → canonical records → a real SQLite store."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

import zhuisu
from zhuisu.errors import BadInput, ZhuisuError
from zhuisu.graph.schema import edges
from zhuisu.graph.store import Store
from zhuisu.ingest import epcis, epcis_json, epcis_xml, registry
from zhuisu.ingest.records import Batch, Edge, Node

SHARED = Path(zhuisu.__file__).resolve().parent.parent / "shared"
EPCIS = SHARED / "standards" / "epcis"
JSON, XML = EPCIS / "JSON", EPCIS / "XML"
DATA = Path(__file__).parent / "data" / "epcis"

pytestmark = pytest.mark.skipif(not EPCIS.is_dir(), reason=f"standards folder missing: {EPCIS}")

JSON_DOCS = sorted(p for p in JSON.rglob("*") if p.suffix in {".json", ".jsonld"})
# XML/CaptureJob/* are capture-job resources of the REST binding, not EPCIS documents.
XML_DOCS = sorted(p for p in XML.rglob("*")
                  if p.suffix in {".xml", ".json"} and "CaptureJob" not in p.relative_to(XML).parts)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(str(tmp_path / "z.db"))
    yield s
    s.close()


def read(path: Path) -> Batch:
    """The one batch of a document, read by the adapter registered for its syntax."""
    (batch,) = registry.get("epcis-xml" if path.suffix == ".xml" else "epcis-json")(path)
    return batch


def ingest(store: Store, path: Path) -> Batch:
    batch = read(path)
    store.ingest(batch)
    return batch


def live_edges(store: Store) -> set[tuple[str, str, str, float | None, str]]:
    """``(src uid, rel, dst uid, quantity, key)`` of the store's live edges."""
    rows = list(store.edge_rows())
    nodes = store.nodes_by_id([r.src for r in rows] + [r.dst for r in rows])
    keys = {i: row.key for i, row in store.edge_details(r.id for r in rows).items()}
    return {(nodes[r.src].uid, r.rel, nodes[r.dst].uid, r.qty, keys[r.id]) for r in rows}


def flow(store: Store, rels: tuple[str, ...] = ("consumedBy", "produces")) -> set[tuple[object, ...]]:
    """``(src, rel, dst, quantity)`` of the live edges of those relations."""
    return {(s, r, d, q) for s, r, d, q, _k in live_edges(store) if r in rels}


def shape(batch: Batch, gtins: dict[str, str] | None = None) -> set[tuple[object, ...]]:
    """A batch's edges with event-derived names (op/obs uids, unnamed lots, keys) blanked out."""
    tokens = {n.uid.rsplit(":", 1)[-1] for n in batch.nodes if n.uid.startswith(("op:", "obs:"))}

    def plain(uid: str) -> str:
        for tok in tokens:
            uid = uid.replace(tok, "EVENT")
        for old, new in (gtins or {}).items():
            uid = uid.replace(old, new)
        return uid

    return {(plain(e.src), e.rel, plain(e.dst), e.time, e.quantity, e.uom) for e in batch.edges}


# ── every standard example ingests ───────────────────────────────────────────
def test_all_json_examples_ingest(store: Store) -> None:
    assert len(JSON_DOCS) == 47
    keys = set()
    for path in JSON_DOCS:
        batch = ingest(store, path)
        assert batch.source == f"epcis:{path.name}"
        assert batch.nodes or batch.retract, path
        keys.add(batch.idempotency_key())
    # documents whose records are identical (9.6.1 with pseudo-SBDH headers…) are one batch
    assert store.counts()["batches"] == len(keys) > 40


def test_all_xml_examples_ingest(store: Store) -> None:
    assert len(XML_DOCS) == 34  # 33 XML documents (2 of them master data) and one JSON document
    for path in XML_DOCS:
        batch = ingest(store, path)
        assert batch.nodes or batch.retract, path
    # Master data names places: CBV example 11.4 describes line 1 of plant 0614141003006.
    assert store.node("urn:epc:id:sgln:0614141.00300.1").attrs["ssd"] == "Line #1 at Manufacturing Plant 1"


def test_folder_of_json_documents_goes_through_the_registry() -> None:
    assert registry.get("epcis-json") is epcis_json.read and registry.get("epcis-xml") is epcis_xml.read
    assert len(list(registry.plan(JSON))) == 47


def test_capture_job_is_not_an_epcis_document() -> None:
    with pytest.raises(BadInput, match=r"Example-CaptureJobSuccess\.xml: .*not an EPCIS document"):
        read(XML / "CaptureJob" / "Example-CaptureJobSuccess.xml")


# ── genealogy ────────────────────────────────────────────────────────────────
OP_964 = "op:epcis:sha256-e65c3a997e77f34b58306da7a82ab0fc91c7820013287700f0b50345e5795b97"
GENEALOGY_964 = {
    ("unit:04012345111224.25", "consumedBy", OP_964, None),
    ("unit:04000001654321.99886655", "consumedBy", OP_964, None),
    ("lot:04012345111118.4444", "consumedBy", OP_964, 10.0),
    ("lot:00614141777778.987", "consumedBy", OP_964, 30.0),
    # urn:epc:idpat:sgtin:4012345.066666.* names no lot: this event's unnamed lot of that GTIN
    (f"lot:04012345666663@input.{OP_964.removeprefix('op:epcis:')}", "consumedBy", OP_964, 220.0),
    *((OP_964, "produces", f"unit:04012345778892.{serial}", None) for serial in (25, 26, 27, 28)),
}


def test_transformation_genealogy(store: Store) -> None:
    ingest(store, JSON / "Example_9.6.4-TransformationEvent.jsonld")
    assert flow(store) == GENEALOGY_964
    unnamed = f"lot:04012345666663@input.{OP_964.removeprefix('op:epcis:')}"
    assert (unnamed, "instanceOf", "material:04012345666663", None) in flow(store, ("instanceOf",))
    assert store.node("urn:epc:idpat:sgtin:4012345.066666.*").uid == "material:04012345666663"
    op = store.node(OP_964)
    assert op.kind == "Operation"
    assert op.attrs["bizStep"] == "commissioning" and op.attrs["disposition"] == "in_progress"
    assert op.attrs["readPoint"] == "urn:epc:id:sgln:4012345.00001.0"
    # ILMD is the outputs' lot master data
    output = store.node("urn:epc:id:sgtin:4012345.077889.25")
    assert output.attrs["{http://ns.example.com/epcis/}batch"] == "XYZ"
    row = next(r for r in store.edge_rows() if r.rel == "consumedBy" and r.qty == 10.0)
    assert store.edge_details([row.id])[row.id].uom == "KGM"
    assert row._mapping["t"] == int(datetime(2013, 10, 31, 14, 58, 56, 591000, tzinfo=UTC).timestamp() * 1000)


@pytest.mark.parametrize(("name", "gtins"), [
    ("Example_9.6.4-TransformationEvent", {}),
    # GS1's Digital Link twins of these examples use another GTIN for the same objects; all else is equal.
    ("Example_9.6.3-AggregationEvent", {"70614141123451": "10614141073464"}),
    ("Example_9.6.2-ObjectEvent", {"70614141123451": "04012345123456"}),
    ("Example_9.6.1-ObjectEvent", {"70614141123451": "10614141073464"}),
])
def test_digital_link_and_urn_documents_give_the_same_graph(name: str, gtins: dict[str, str]) -> None:
    urn = read(JSON / f"{name}.jsonld")
    link = read(JSON / "WithDigitalLinkID" / f"{name}WithDigitalLink.jsonld")
    assert shape(link, gtins) == shape(urn)


def test_transformation_twins_in_store(store: Store) -> None:
    ingest(store, JSON / "WithDigitalLinkID" / "Example_9.6.4-TransformationEventWithDigitalLink.jsonld")
    old = OP_964.removeprefix("op:epcis:")
    new = "sha256-4f143d1adf7b2950a34f5e82a240ce5280530b06a9f3c2b9cfe49f5ca5001815"  # the twin's own eventID
    assert flow(store) == {tuple(x.replace(old, new) if isinstance(x, str) else x for x in edge)
                           for edge in GENEALOGY_964}


def test_xml_transformation_matches_json() -> None:
    xml = read(XML / "Mimasu" / "Example4.xml")  # the same event as 9.6.4, without eventID
    assert shape(xml) == shape(read(JSON / "Example_9.6.4-TransformationEvent.jsonld"))
    full = read(XML / "WithFullCombinationOfFields" / "transformation_event_all_possible_fields.xml")
    (op,) = [n for n in full.nodes if n.uid.startswith("op:")]
    assert op.uid == "op:epcis:xform:urn:epc:id:gdti:0614141.12345.400"  # grouped by transformationID
    produced = {(e.dst, e.quantity) for e in full.edges if e.rel == "produces"}
    assert ("lot:04012345111118.4444", 10.0) in produced
    assert ("unit:04012345778892.28", None) in produced


def test_aggregation_gives_containment(store: Store) -> None:
    ingest(store, JSON / "Example_9.6.3-AggregationEvent.jsonld")
    pallet = "lu:106141412345678908"  # urn:epc:id:sscc:0614141.1234567890
    event = "sha256-87b5f18a69993f0052046d4687dfacdf48f7c988cfabda2819688c86b4066a49"
    assert flow(store, ("containedIn",)) == {
        ("unit:10614141073464.2017", "containedIn", pallet, None),
        ("unit:10614141073464.2018", "containedIn", pallet, None),
        ("lot:04012345123456.998877", "containedIn", pallet, 200.5),
        (f"lot:04012345987652@child.{event}", "containedIn", pallet, 10.0),  # 10 of a GTIN without lot
    }
    assert store.node(pallet).kind == "LogisticUnit"
    obs = {(s, d) for s, r, d, _q, _k in live_edges(store) if r == "observes"}
    assert {d for _s, d in obs} == {pallet, "unit:10614141073464.2017", "unit:10614141073464.2018",
                                    "lot:04012345123456.998877", "material:04012345987652"}


def test_epcis_1_2_xml(store: Store) -> None:
    batch = ingest(store, DATA / "plant-1.2.xml")
    op = "op:epcis:6f1c0c52-1b7e-4c51-9a55-000000000002"
    assert flow(store) == {
        ("unit:06901234543216.B-0007", "consumedBy", op, None),
        ("lot:06901234123456.ML2311-0042", "consumedBy", op, 12.5),
        (op, "produces", "unit:06901234777772.M2311-00042", None),
    }
    lot = store.node("urn:epc:class:lgtin:6901234.012345.ML2311-0042")
    assert lot.attrs["itemExpirationDate"] == "2025-11-01"  # cbvmda ILMD of the receiving ObjectEvent
    assert lot.attrs["{https://example.cn/zhuisu/epcis}供应商批号"] == "GY-231101"
    # a time without offset takes the event's eventTimeZoneOffset
    (produces,) = [e for e in batch.edges if e.rel == "produces"]
    assert produces.time == datetime(2023, 11, 3, 10, 0, tzinfo=timezone(timedelta(hours=8)))
    pallet = "lu:069012340000000016"
    contained = [e for e in batch.edges if e.rel == "containedIn"]
    assert {(e.src, e.dst, e.attrs["action"]) for e in contained} == {
        ("unit:06901234777772.M2311-00042", pallet, "ADD"),
        ("lot:06901234888881@child.6f1c0c52-1b7e-4c51-9a55-000000000003", pallet, "ADD"),
    }  # the DELETE that later takes the motor out is an Observation only: the containment stays history
    (delete,) = [e for e in batch.edges if e.rel == "observes" and e.attrs.get("role") == "parent"
                 and e.key != contained[0].key and e.dst == pallet]
    assert store.node(delete.src).attrs["action"] == "DELETE"
    assert store.node("obs:6f1c0c52-1b7e-4c51-9a55-000000000001").attrs["bizStep"] == "receiving"
    (count,) = [e for e in batch.edges if e.dst == "material:06901234777772" and e.rel == "observes"]
    assert count.quantity == 48.0  # the 1.0 QuantityEvent, an observation of 48 motors


def test_nodes_merge_with_other_sources_by_digital_link(store: Store) -> None:
    """A unit first seen elsewhere (e.g. an MES CSV) under its own uid is the one EPCIS consumes."""
    dl = "https://id.gs1.org/01/04012345111224/21/25"
    store.ingest(Batch("csv", nodes=[Node("unit:SN-25", "SerialUnit", aliases=(dl,))]))
    ingest(store, JSON / "Example_9.6.4-TransformationEvent.jsonld")
    assert ("unit:SN-25", "consumedBy", OP_964, None) in flow(store)
    assert store.resolve("urn:epc:id:sgtin:4012345.011122.25") == "unit:SN-25"


# ── error declarations ───────────────────────────────────────────────────────
def without_declaration(path: Path, tmp_path: Path) -> Path:
    """The erroneous event as first sent: the declaring document minus its errorDeclaration."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    for event in doc["epcisBody"]["eventList"]:
        event.pop("errorDeclaration", None)
    out = tmp_path / f"original-{path.name}"
    out.write_text(json.dumps(doc), encoding="utf-8")
    return out


def test_error_declaration_retracts_an_earlier_event(store: Store, tmp_path: Path) -> None:
    declaring = JSON / "WithErrorDeclaration" / "ErrorDeclarationAndCorrectiveEvent.jsonld"
    wrong = "urn:uuid:374d95fc-9457-4a51-bd6a-0bba133845a8"
    corrective = "urn:uuid:404d95fc-9457-4a51-bd6a-0bba133845a8"
    ingest(store, without_declaration(declaring, tmp_path))
    assert {k for *_x, k in live_edges(store)} >= {wrong, corrective}
    result = store.ingest(read(declaring))
    assert result.edges_retracted > 0
    keys = {k for *_x, k in live_edges(store)}
    assert wrong not in keys and corrective in keys
    op = "op:epcis:404d95fc-9457-4a51-bd6a-0bba133845a8"
    assert (op, "produces", f"lot:04012345444445@output.{op.removeprefix('op:epcis:')}", 500.0) in flow(store)
    assert store.node(op).attrs["corrects"] == [wrong]
    # the withdrawn event stays withdrawn when the original document is sent again
    store.ingest(read(without_declaration(declaring, tmp_path)))
    assert wrong not in {k for *_x, k in live_edges(store)}
    withdrawn = sa.select(sa.func.count()).where(edges.c.key == wrong, edges.c.retracted.is_not(None))
    with store.engine.connect() as conn:
        assert conn.execute(withdrawn).scalar_one() > 0


def test_error_declaration_in_xml_and_object_events(store: Store) -> None:
    batch = ingest(store, XML / "WithErrorDeclaration" / "ErrorDeclarationAndCorrectiveEvent.xml")
    assert batch.retract == ["urn:uuid:374d95fc-9457-4a51-bd6a-0bba133845a8"]
    assert {k for *_x, k in live_edges(store)} == {"", "urn:uuid:404d95fc-9457-4a51-bd6a-0bba133845a8"}
    batch = ingest(store, JSON / "WithErrorDeclaration" /
                   "Example_9.6.1-ObjectEvent-with-error-declaration.jsonld")
    declared = "ni:///sha-256;aa49daa1fe0b773e0437e546078dc87de9c864d5b9babe84488f31478887fdf3?ver=CBV2.0"
    assert batch.retract == [declared]
    assert not any(n.uid == f"obs:{epcis.token(declared)}" for n in batch.nodes)
    assert store.node("obs:sha256-00e1e6eba3a7cc6125be4793a631f0af50f8322e0ab5f2c0bab994a11cec1d79"
                      ).attrs["bizStep"] == "receiving"


# ── event identity ───────────────────────────────────────────────────────────
def test_events_without_event_id_are_identified_by_content(store: Store) -> None:
    """GS1's hash-id test set: one event in 7 spellings (time zone, order, prefixes, JSON) is one event."""
    folder = XML / "WithEventHashID"
    ids = set()
    for path in sorted(folder.iterdir()):
        batch = ingest(store, path)
        ids |= {n.uid for n in batch.nodes if n.uid.startswith("obs:")}
    assert len(ids) == 1 and ids.pop().startswith("obs:sha256-")
    with store.engine.connect() as conn:
        count = conn.execute(sa.text("SELECT count(*) FROM nodes WHERE kind = 'Observation'")).scalar_one()
    assert count == 1


def test_cbv_terms_are_canonical(tmp_path: Path) -> None:
    for value in ("shipping", "urn:epcglobal:cbv:bizstep:shipping", "https://ref.gs1.org/cbv/BizStep-shipping"):
        assert epcis.cbv_term(value, "bizstep") == "shipping"
    assert epcis.cbv_term("https://example.cn/steps/绕线", "bizstep") == "https://example.cn/steps/绕线"
    doc = json.loads((JSON / "Example_9.6.1-ObjectEvent.jsonld").read_text(encoding="utf-8"))
    event = doc["epcisBody"]["eventList"][0]
    event["bizStep"], event["disposition"] = "cbv:BizStep-shipping", "https://ref.gs1.org/cbv/Disp-in_transit"
    path = tmp_path / "curie.jsonld"
    path.write_text(json.dumps(doc), encoding="utf-8")
    obs = next(n for n in read(path).nodes if n.uid.startswith("obs:"))
    assert (obs.attrs["bizStep"], obs.attrs["disposition"]) == ("shipping", "in_transit")


def test_query_document_events(store: Store) -> None:
    batch = ingest(store, JSON / "EPCISQueryDocument.jsonld")
    doc = json.loads((JSON / "EPCISQueryDocument.jsonld").read_text(encoding="utf-8"))
    events = doc["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert len([n for n in batch.nodes if n.uid.startswith(("obs:", "op:"))]) == len(events) > 0


def test_idempotent(store: Store) -> None:
    for path in (JSON / "Example_9.6.4-TransformationEvent.jsonld", DATA / "plant-1.2.xml"):
        first = store.ingest(read(path))
        before = store.counts()
        again = store.ingest(read(path))
        assert not first.skipped and again.skipped and store.counts() == before


# ── invalid documents ────────────────────────────────────────────────────────
@pytest.mark.parametrize(("name", "expected"), [
    ("missing-action.jsonld",
     "missing-action.jsonld: event #2 (ObjectEvent urn:uuid:0b6c1e0e-0000-4000-8000-000000000002): "
     "'action' is a required property"),
    ("wrong-type.jsonld",
     "wrong-type.jsonld: event #1 (TransformationEvent): inputQuantityList[0].quantity: "
     "'十二点五' is not of type 'number'"),
    ("malformed.jsonld", "malformed.jsonld: JSON 格式错误 malformed JSON: Expecting ',' delimiter: line 7"),
    ("malformed.xml", "malformed.xml: XML 格式错误 malformed XML: Opening and ending tag mismatch"),
    ("missing-action.xml",
     "missing-action.xml: event #2 (ObjectEvent urn:uuid:0b6c1e0e-0000-4000-8000-000000000012): "
     "Element 'bizStep': This element is not expected. Expected is ( action )."),
    ("bad-quantity-1.2.xml",
     "bad-quantity-1.2.xml: event #1 (TransformationEvent urn:uuid:0b6c1e0e-0000-4000-8000-000000000021): "
     "quantity: '十二点五' is not a number"),
])
def test_invalid_documents(store: Store, name: str, expected: str) -> None:
    before = store.counts()
    with pytest.raises(BadInput) as caught:
        store.ingest(read(DATA / name))
    message = str(caught.value)
    assert message.startswith(expected) and "\n" not in message
    assert store.counts() == before


def test_missing_schema_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(epcis, "SCHEMAS", tmp_path / "absent")
    for path in (JSON / "Example_9.6.1-ObjectEvent.jsonld", XML / "Mimasu" / "Example1.xml"):
        with pytest.raises(ZhuisuError, match=r"schema file missing: .*absent.*reinstall zhuisu"):
            read(path)


def test_shipped_schemas_are_the_gs1_originals() -> None:
    shipped = Path(epcis.__file__).with_name("schemas") / "epcis"
    schema = "EPCIS-JSON-Schema.json"
    assert (shipped / schema).read_bytes() == (EPCIS / schema).read_bytes()
    xsds = sorted((EPCIS / "XSD").glob("*.xsd"))
    assert [p.name for p in xsds] == sorted(p.name for p in (shipped / "xsd").glob("*.xsd"))
    assert all((shipped / "xsd" / p.name).read_bytes() == p.read_bytes() for p in xsds)


def test_model_maps_a_hand_built_event() -> None:
    """The format-independent model on its own: an unknown event type still becomes an observation."""
    event = epcis.Event("https://example.cn/epcis/质检事件", datetime(2023, 11, 3, 8, 0, tzinfo=UTC),
                        epcs=("urn:epc:id:sgtin:6901234.077777.M2311-00042",),
                        read_point="urn:epc:id:sgln:6901234.00001.0")
    batch = epcis.to_batch("epcis:test", [event])
    (obs,) = [n for n in batch.nodes if n.uid.startswith("obs:")]
    assert obs.uid == f"obs:{epcis.token(epcis.event_id(event))}"
    assert {(e.rel, e.dst) for e in batch.edges if e.src == obs.uid} == {
        ("observes", "unit:06901234777772.M2311-00042"), ("atLocation", "location:6901234000016")}
    key = epcis.edge_key(epcis.event_id(event))
    assert all(isinstance(e, Edge) and e.key in ("", key) for e in batch.edges)


def test_declaring_an_event_without_event_id_retracts_it_by_content(store: Store) -> None:
    sent = epcis.Event(epcis.OBJECT, datetime(2023, 11, 3, 8, 0, tzinfo=UTC), action="OBSERVE",
                       epcs=("urn:epc:id:sgtin:6901234.077777.M2311-00042",))
    store.ingest(epcis.to_batch("epcis:sent", [sent]))
    declaration = epcis.ErrorDeclaration(datetime(2023, 11, 4, tzinfo=UTC), "incorrect_data")
    declared = epcis.to_batch("epcis:declared", [replace(sent, error=declaration)])
    assert declared.retract == [epcis.event_id(sent)] and not declared.edges
    store.ingest(declared)
    assert {r for _s, r, *_x in live_edges(store)} == {"instanceOf"}


def test_json_header_master_data_names_locations(store: Store, tmp_path: Path) -> None:
    doc = json.loads((JSON / "Example_9.6.1-ObjectEvent.jsonld").read_text(encoding="utf-8"))
    doc["epcisHeader"] = {"epcisMasterData": {"vocabularyList": [{
        "type": "urn:epcglobal:epcis:vtype:ReadPoint",
        "vocabularyElementList": [{"id": "urn:epc:id:sgln:0614141.07346.1234", "attributes": [
            {"id": "cbvmda:name", "attribute": "绕线车间 2号线"},
            {"id": "urn:epcglobal:cbv:mda:site", "attribute": "0614141073467"}]}],
    }]}}
    path = tmp_path / "with-master-data.jsonld"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    ingest(store, path)
    place = store.node("urn:epc:id:sgln:0614141.07346.1234")
    assert (place.uid, place.name, place.attrs["site"]) == ("location:0614141073467.1234", "绕线车间 2号线",
                                                            "0614141073467")

"""The EPCIS 2.0 REST binding: every GS1 JSON example captured and read back, invalid documents, versions, the query."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from jsonschema.validators import validator_for

from zhuisu.api.app import create_app
from zhuisu.api.auth import keys
from zhuisu.api.state import ApiSettings
from zhuisu.errors import BadInput
from zhuisu.graph.store import Store
from zhuisu.ingest import epcis, epcis_json, gs1

from .conftest import SHARED

JSON_DIR = SHARED / "standards" / "epcis" / "JSON"
EXAMPLES = sorted(p for p in JSON_DIR.rglob("*") if p.suffix in {".json", ".jsonld"})
PROBLEM = "application/problem+json"

pytestmark = pytest.mark.skipif(not EXAMPLES, reason=f"EPCIS examples missing: {JSON_DIR}")


@pytest.fixture(scope="module")
def epcis_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, str], Store]]:
    store = Store(str(tmp_path_factory.mktemp("epcis") / "z.db"))
    _, secret = keys.create(store, name="capture", scopes=["ingest"])
    with TestClient(create_app(store, settings=ApiSettings())) as client:
        yield client, {"Authorization": f"Bearer {secret}"}, store
    store.close()


@cache
def _schema_validator() -> Any:
    schema = json.loads(epcis.schema_file(epcis_json.SCHEMA).read_text(encoding="utf-8"))
    cls = validator_for(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def query(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    """The events of one page of GET /epcis/events, after checking the document against the JSON schema."""
    response = client.get("/epcis/events", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["gs1-epcis-version"] == "2.0.0"
    doc = response.json()
    errors = sorted(_schema_validator().iter_errors(doc), key=str)
    assert not errors, errors[0].message
    return doc["epcisBody"]["queryResults"]["resultsBody"]["eventList"]  # type: ignore[no-any-return]


def comparable(event: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in event.items() if k not in ("@context", "recordTime", "eventID")}


def expected_events(path: Path) -> list[tuple[str, dict[str, Any]]]:
    """(eventID as stored, the event as written with CBV URNs made bare) for each event of an example."""
    doc = json.loads(path.read_bytes())
    events, _ = epcis_json.parse(copy.deepcopy(doc), path.name)
    return [(epcis.event_id(event), raw) for raw, event in events]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: str(p.relative_to(JSON_DIR)))
def test_every_example_is_captured_and_read_back(epcis_api: tuple[TestClient, dict[str, str], Store],
                                                 path: Path) -> None:
    client, writer, _ = epcis_api
    response = client.post("/epcis/capture", content=path.read_bytes(),
                           headers={**writer, "Content-Type": "application/ld+json", "GS1-EPCIS-Version": "2.0.0"})
    assert response.status_code == 202, response.text
    assert response.headers["gs1-epcis-version"] == "2.0.0"
    job = client.get(response.headers["location"]).json()
    assert job["running"] is False and job["success"] is True, job
    assert job["captureErrorBehaviour"] == "rollback" and job["errors"] == []
    for event_id, written in expected_events(path):
        stored = query(client, EQ_eventID=event_id)
        assert stored, f"{event_id} not found"
        assert any(comparable(s) == comparable(written) for s in stored), (event_id, stored, written)
        assert all(s["eventID"] == event_id and s["recordTime"] for s in stored)


def test_examples_are_all_there_and_paging_walks_them(epcis_api: tuple[TestClient, dict[str, str], Store]) -> None:
    client, writer, _ = epcis_api
    for path in EXAMPLES:  # idempotent: capturing again adds nothing
        assert client.post("/epcis/capture", content=path.read_bytes(), headers=writer).status_code == 202
    ids = {eid for path in EXAMPLES for eid, _ in expected_events(path)}
    whole = query(client, perPage=1000)
    assert {e["eventID"] for e in whole} == ids
    # each stored once (the same event in two documents with other prefix declarations is two events)
    assert len(whole) == len({json.dumps(_without(e, "recordTime"), sort_keys=True) for e in whole})
    seen: list[str] = []
    params: dict[str, Any] = {"perPage": 7}
    while True:
        response = client.get("/epcis/events", params=params)
        seen += [json.dumps(e, sort_keys=True) for e in
                 response.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]]
        link = response.headers.get("link")
        if not link:
            break
        assert link.endswith('; rel="next"')
        token = link.split("nextPageToken=")[1].split(">")[0]
        params = {"perPage": 7, "nextPageToken": token}
    assert seen == [json.dumps(e, sort_keys=True) for e in whole]
    other = client.get("/epcis/events", params={"eventType": "ObjectEvent", "nextPageToken": token})
    assert other.json()["type"] == "epcisException:QueryParameterException"


def test_query_parameters(epcis_api: tuple[TestClient, dict[str, str], Store]) -> None:
    client, writer, _ = epcis_api
    for path in EXAMPLES:
        client.post("/epcis/capture", content=path.read_bytes(), headers=writer)
    everything = query(client, perPage=1000)

    def ids(events: list[dict[str, Any]]) -> set[str]:
        return {json.dumps(comparable(e), sort_keys=True) for e in events}

    def expect(keep: Any, **params: Any) -> None:
        found = query(client, perPage=1000, **params)
        wanted = [e for e in everything if keep(e)]
        assert wanted, params  # every filter is tried on events that it selects
        assert ids(found) == ids(wanted), params

    expect(lambda e: e["type"] == "TransformationEvent", eventType="TransformationEvent")
    expect(lambda e: e["type"] in ("AggregationEvent", "AssociationEvent"),
           eventType="AggregationEvent|AssociationEvent")
    expect(lambda e: "2013-06-08T00:00:00Z" <= _utc(e["eventTime"]) < "2013-06-09T00:00:00Z",
           GE_eventTime="2013-06-08T00:00:00Z", LT_eventTime="2013-06-09T00:00:00Z")
    for spelling in ("shipping", "urn:epcglobal:cbv:bizstep:shipping", "https://ref.gs1.org/cbv/BizStep-shipping"):
        expect(lambda e: e.get("bizStep") == "shipping", EQ_bizStep=spelling)
    epc = "urn:epc:id:sgtin:0614141.107346.2018"  # the same unit as https://id.gs1.org/01/10614141073464/21/2018
    expect(lambda e: _uid(epc) in _instances(e), MATCH_anyEPC=epc)
    expect(lambda e: _uid(epc) in _instances(e), MATCH_anyEPC="https://id.gs1.org/01/10614141073464/21/2018")
    expect(lambda e: any(x.startswith("unit:10614141073464.") for x in _instances(e)),
           MATCH_anyEPC="urn:epc:idpat:sgtin:0614141.107346.*")
    lot = "urn:epc:class:lgtin:4012345.012345.998877"
    expect(lambda e: _uid(lot) in _classes(e, "quantityList", "childQuantityList", "inputQuantityList",
                                           "outputQuantityList"), MATCH_anyEPCClass=lot)
    made = "urn:epc:class:lgtin:4012345.011111.4444"  # an input of 9.6.4, the output of another example
    expect(lambda e: _uid(made) in _classes(e, "outputQuantityList"), MATCH_outputEPCClass=made)
    expect(lambda e: _uid(made) in _classes(e, "inputQuantityList"), MATCH_inputEPCClass=made)
    assert query(client, MATCH_outputEPCClass=lot) == []
    expect(lambda e: "errorDeclaration" in e, EXISTS_errorDeclaration="")
    expect(lambda e: e["type"] == "ObjectEvent" and e.get("action") == "ADD", eventType="ObjectEvent",
           EQ_action="ADD")
    bad = client.get("/epcis/events", params={"GE_eventTime": "yesterday"})
    assert bad.status_code == 400 and bad.json()["type"] == "epcisException:QueryParameterException"


def _utc(text: str) -> str:
    from datetime import UTC, datetime

    return datetime.fromisoformat(text).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _uid(identifier: str) -> str:
    """An identifier in any spelling (EPC URN, Digital Link) as the one uid it names."""
    found = gs1.parse(identifier)
    return found.uid if found else identifier


def _instances(event: dict[str, Any]) -> set[str]:
    found = set(event.get("epcList", []) + event.get("childEPCs", []) + event.get("inputEPCList", [])
                + event.get("outputEPCList", []))
    return {_uid(x) for x in found | ({event["parentID"]} if "parentID" in event else set())}


def _classes(event: dict[str, Any], *fields: str) -> set[str]:
    return {_uid(q["epcClass"]) for f in fields for q in event.get(f, [])}


VALID_EVENT: dict[str, Any] = {
    "@context": ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"],
    "type": "ObjectEvent", "eventTime": "2023-11-20T08:15:00+08:00", "eventTimeZoneOffset": "+08:00",
    "eventID": "urn:uuid:0f4a3c1e-8f0b-4bb4-9a58-6f0c1e2d3a4b",
    "epcList": ["https://id.gs1.org/01/06901234567892/21/SN-M2311-00042"], "action": "OBSERVE",
    "bizStep": "shipping",
}


def _document(*events: dict[str, Any]) -> dict[str, Any]:
    return {"@context": ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"], "type": "EPCISDocument",
            "schemaVersion": "2.0", "creationDate": "2023-11-20T08:20:00+08:00",
            "epcisBody": {"eventList": [{k: v for k, v in e.items() if k != "@context"} for e in events]}}


def _without(event: dict[str, Any], name: str) -> dict[str, Any]:
    return {k: v for k, v in event.items() if k != name}


@pytest.mark.parametrize(("body", "keyword", "words"), [
    (b"{not json", "syntax", "malformed JSON"),
    (json.dumps([VALID_EVENT]).encode(), "type", "is not of type"),
    (json.dumps(_document(_without(VALID_EVENT, "action"))).encode(), "required", "'action' is a required property"),
    (json.dumps(_document({**VALID_EVENT, "eventTime": "20 Nov 2023"})).encode(), "format", "date-time"),
    (json.dumps(_document({**VALID_EVENT, "action": "MOVE"})).encode(), "pattern",
     "/epcisBody/eventList/0/action: 'MOVE' does not match '^OBSERVE$'"),
    (json.dumps(_without(_document(VALID_EVENT), "@context")).encode(), "required", "@context"),
    (json.dumps({**_document(VALID_EVENT), "epcisBody": {"eventList": []}}).encode(), "eventList", "no events"),
])
def test_invalid_documents_get_400_naming_the_rule(epcis_api: tuple[TestClient, dict[str, str], Store],
                                                   body: bytes, keyword: str, words: str) -> None:
    client, writer, store = epcis_api
    before = store.last_batch()
    response = client.post("/epcis/capture", content=body, headers={**writer, "Content-Type": "application/json"})
    assert response.status_code == 400 and response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["type"] == "epcisException:ValidationException" and problem["status"] == 400
    assert problem["rule"]["keyword"] == keyword and words in problem["detail"], problem
    assert store.last_batch() == before


def test_single_event_capture(epcis_api: tuple[TestClient, dict[str, str], Store]) -> None:
    client, writer, _ = epcis_api
    event = {**VALID_EVENT, "eventID": "urn:uuid:4d5e6f70-1a2b-4c3d-8e9f-0a1b2c3d4e5f"}
    created = client.post("/epcis/events", json=event, headers=writer)
    assert created.status_code == 201, created.text
    assert created.headers["location"] == "/epcis/events/urn%3Auuid%3A4d5e6f70-1a2b-4c3d-8e9f-0a1b2c3d4e5f"
    back = client.get(created.headers["location"]).json()
    (stored,) = back["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert comparable(stored) == comparable(event)
    traced = client.get("/api/v1/trace", params={"ref": "https://id.gs1.org/01/06901234567892/21/SN-M2311-00042",
                                                 "direction": "forward"})
    assert traced.status_code == 200  # the graph knows the unit at once
    assert client.post("/epcis/events", json=event, headers=writer).status_code == 201  # the same again: no-op
    clash = client.post("/epcis/events", json={**event, "bizStep": "receiving"}, headers=writer)
    assert clash.status_code == 409 and clash.json()["type"] == "epcisException:ResourceAlreadyExistsException"
    declared = {**event, "errorDeclaration": {"declarationTime": "2023-11-21T08:00:00+08:00",
                                              "reason": "incorrect_data"}}
    assert client.post("/epcis/events", json=declared, headers=writer).status_code == 201
    assert len(query(client, EQ_eventID=event["eventID"])) == 2
    document = client.post("/epcis/events", json=_document(VALID_EVENT), headers=writer)
    assert document.status_code == 400 and "one event" in document.json()["detail"]
    missing = client.get("/epcis/events/urn%3Auuid%3Anone")
    assert missing.status_code == 404 and missing.json()["type"] == "epcisException:NoSuchResourceException"


def test_version_headers(epcis_api: tuple[TestClient, dict[str, str], Store]) -> None:
    client, writer, _ = epcis_api
    ok = client.get("/epcis/events", headers={"GS1-EPCIS-Version": "2.0", "GS1-EPCIS-Min": "1.2.0"})
    assert ok.status_code == 200 and ok.headers["gs1-epcis-version"] == "2.0.0"
    assert ok.headers["gs1-cbv-version"] == "2.0.0"
    for headers in ({"GS1-EPCIS-Version": "1.2.0"}, {"GS1-EPCIS-Min": "2.1"}, {"GS1-EPCIS-Max": "1.2"}):
        refused = client.post("/epcis/capture", content=b"{}", headers={**writer, **headers})
        assert refused.status_code == 406, headers
        assert refused.json()["type"] == "epcisException:NotAcceptableException"
        assert refused.headers["gs1-epcis-version"] == "2.0.0"
    malformed = client.get("/epcis/events", headers={"GS1-EPCIS-Version": "two"})
    assert malformed.status_code == 400 and malformed.headers["content-type"] == PROBLEM
    xml = client.post("/epcis/capture", content=b"<epcis/>", headers={**writer, "Content-Type": "application/xml"})
    assert xml.status_code == 415 and xml.headers["content-type"] == PROBLEM


def test_capture_jobs_list_and_proceed(epcis_api: tuple[TestClient, dict[str, str], Store],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    client, writer, store = epcis_api
    good = {**VALID_EVENT, "eventID": "urn:uuid:11111111-2222-4333-8444-555555555555"}
    refused = {**VALID_EVENT, "eventID": "urn:uuid:66666666-7777-4888-8999-aaaaaaaaaaaa", "bizStep": "receiving"}
    ingest = store.ingest

    def picky(batch: Any) -> Any:  # the store refusing one event's records (as it refuses an alias conflict)
        if any(e.key == refused["eventID"] for e in batch.edges):
            raise BadInput("别名冲突 alias conflict")
        return ingest(batch)

    monkeypatch.setattr(store, "ingest", picky)
    body = json.dumps(_document(good, refused)).encode()
    rolled = client.post("/epcis/capture", content=body, headers=writer)
    job = client.get(rolled.headers["location"]).json()
    assert job["success"] is False and job["capturedCount"] == 0 and "alias conflict" in job["errors"][0]["detail"]
    assert query(client, EQ_eventID=good["eventID"]) == []
    proceed = client.post("/epcis/capture", content=body, headers={**writer, "GS1-Capture-Error-Behaviour": "proceed"})
    job = client.get(proceed.headers["location"]).json()
    assert job["captureErrorBehaviour"] == "proceed" and job["success"] is False and job["capturedCount"] == 1
    assert job["errors"][0]["instance"] == "#/epcisBody/eventList/1"
    assert len(query(client, EQ_eventID=good["eventID"])) == 1
    jobs = client.get("/epcis/capture", params={"perPage": 2})
    assert len(jobs.json()) == 2 and 'rel="next"' in jobs.headers["link"]
    assert client.get("/epcis/capture/cap-nope").status_code == 404

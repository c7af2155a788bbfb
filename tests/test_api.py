"""The REST API over a real SQLite store: ingest, trace, entities, auth, errors (problem+json), limits."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from zhuisu.api.app import create_app
from zhuisu.api.auth import keys
from zhuisu.api.schema import api_keys
from zhuisu.api.state import ApiSettings
from zhuisu.graph.store import Store
from zhuisu.ingest import plan
from zhuisu.samples.demo import MOTOR

PROBLEM = "application/problem+json"
CAUSE = "lot:CG2311-0020"  # the motor sample's injected bad supplier lot


def client_for(store: Store, **settings: object) -> TestClient:
    return TestClient(create_app(store, settings=ApiSettings(**settings)))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def motor(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """The motor sample plant in a SQLite store (read-only for the tests that use it)."""
    store = Store(str(tmp_path_factory.mktemp("motor") / "z.db"))
    for batch in plan(MOTOR):
        store.ingest(batch)
    yield store
    store.close()


@pytest.fixture(scope="module")
def reads(motor: Store) -> Iterator[TestClient]:
    with client_for(motor, page_rows=200) as client:
        yield client


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(str(tmp_path / "z.db"))
    yield s
    s.close()


@pytest.fixture
def api(store: Store) -> Iterator[TestClient]:
    with client_for(store) as client:
        yield client


def key(store: Store, *scopes: str) -> dict[str, str]:
    _, secret = keys.create(store, name="测试 test", scopes=list(scopes))
    return {"Authorization": f"Bearer {secret}"}


def problem(response: object, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"] == PROBLEM  # type: ignore[attr-defined]
    body: dict[str, object] = response.json()  # type: ignore[attr-defined]
    assert body["status"] == status and body["title"] and body["type"]
    return body


BATCH = {
    "source": "mes:line-2",
    "nodes": [{"uid": "lot:ML-1", "kind": "MaterialLot", "name": "磁钢 ML-1", "attrs": {"quantity": 10}},
              {"uid": "unit:SN-1", "aliases": ["urn:epc:id:sgtin:6901234.012345.SN-1"]}],
    "edges": [{"src": "lot:ML-1", "rel": "consumedBy", "dst": "op:OP-1", "time": "2023-11-03T08:15:00+08:00",
               "quantity": 2, "uom": "pcs"},
              {"src": "op:OP-1", "rel": "produces", "dst": "unit:SN-1", "time": "2023-11-03T08:20:00"},
              {"src": "op:OP-1", "rel": "performedOn", "dst": "equipment:PRESS-02"}],
}


# ── ingest ────────────────────────────────────────────────────────────────────
def test_batch_is_committed_then_traced_without_restart(api: TestClient, store: Store) -> None:
    writer = key(store, "ingest")
    first = api.get("/api/v1/trace", params={"ref": "unit:SN-1"})
    problem(first, 404)
    created = api.post("/api/v1/batches", json={**BATCH, "key": "line2-0815"}, headers=writer)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["skipped"] is False and body["nodes_added"] == 4 and body["edges_added"] == 3
    assert body["graph_batch"] == body["batch"] == store.last_batch()
    assert created.headers["location"] == f"/api/v1/batches/{body['batch']}"
    traced = api.get("/api/v1/trace", params={"ref": "urn:epc:id:sgtin:6901234.012345.SN-1"}).json()
    assert {n["uid"] for n in traced["nodes"]} == {"unit:SN-1", "op:OP-1", "lot:ML-1"}
    (step,) = traced["steps"]
    assert step["equipment"] == [{"uid": "equipment:PRESS-02", "name": None}]
    logged = api.get(created.headers["location"]).json()
    assert logged["source"] == "api:mes:line-2" and logged["key"] == "line2-0815"


def test_idempotency_key_replays_and_conflicts(api: TestClient, store: Store) -> None:
    writer = key(store, "ingest")
    first = api.post("/api/v1/batches", json=BATCH, headers={**writer, "Idempotency-Key": "k-1"})
    again = api.post("/api/v1/batches", json=BATCH, headers={**writer, "Idempotency-Key": "k-1"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["skipped"] is True and again.json()["batch"] == first.json()["batch"]
    assert store.counts()["batches"] == 1
    other = api.post("/api/v1/batches", json={"nodes": [{"uid": "lot:OTHER"}]},
                     headers={**writer, "Idempotency-Key": "k-1"})
    assert "k-1" in problem(other, 409)["detail"]  # type: ignore[operator]
    differ = api.post("/api/v1/batches", json={**BATCH, "key": "a"}, headers={**writer, "Idempotency-Key": "b"})
    problem(differ, 400)
    # without a key, the content is the key: the same records twice change nothing
    assert api.post("/api/v1/batches", json=BATCH, headers=writer).json()["skipped"] is False
    assert api.post("/api/v1/batches", json=BATCH, headers=writer).status_code == 200


def test_invalid_records_are_problems_that_point_at_the_field(api: TestClient, store: Store) -> None:
    writer = key(store, "ingest")
    bad = api.post("/api/v1/batches", headers=writer, json={
        "nodes": [{"uid": "lot:A", "colour": "red"}],
        "edges": [{"src": "lot:A", "rel": "consumedBy", "dst": "op:B", "quantity": "many"}]})
    body = problem(bad, 422)
    pointers = {e["pointer"] for e in body["errors"]}  # type: ignore[union-attr]
    assert pointers == {"#/nodes/0/colour", "#/edges/0/quantity"}
    unknown = problem(api.post("/api/v1/batches", headers=writer, json={
        "edges": [{"src": "lot:A", "rel": "madeOf", "dst": "op:B"}]}), 400)
    assert unknown["where"] == "edge #1" and "madeOf" in unknown["detail"]  # type: ignore[operator]
    wrong = problem(api.post("/api/v1/batches", headers=writer, json={
        "edges": [{"src": "customer:C", "rel": "consumedBy", "dst": "op:B"}]}), 400)
    assert "cannot link Customer" in wrong["detail"]  # type: ignore[operator]
    prefix = problem(api.post("/api/v1/batches", headers=writer, json={"nodes": [{"uid": "nokind"}]}), 400)
    assert "PREFIX:ID" in prefix["detail"]  # type: ignore[operator]
    nul = problem(api.post("/api/v1/batches", headers=writer, json={"nodes": [{"uid": "lot:\u0000"}]}), 400)
    assert "NUL" in nul["detail"]  # type: ignore[operator]
    malformed = api.post("/api/v1/batches", headers={**writer, "Content-Type": "application/json"},
                         content=b'{"nodes": [')
    problem(malformed, 422)
    assert store.counts()["batches"] == 0


def test_table_upload(api: TestClient, store: Store) -> None:
    writer = key(store, "ingest")
    files = [("files", (name, (MOTOR / name).read_bytes(), "text/csv"))
             for name in ("materials.csv", "suppliers.csv", "lots.csv")]
    done = api.post("/api/v1/uploads", headers=writer, files=files, data={"nlp": "false"})
    assert done.status_code == 201, done.text
    assert [b["source"] for b in done.json()["batches"]] == ["csv:suppliers.csv", "csv:materials.csv",
                                                               "csv:lots.csv"]
    assert api.get(f"/api/v1/entities/{CAUSE}").json()["kind"] == "MaterialLot"
    bad = api.post("/api/v1/uploads", headers=writer,
                   files=[("files", ("lots.csv", b"lot_id,material_id\nL-1,\n", "text/csv"))])
    assert problem(bad, 400)["where"] == "lots.csv:2"
    unknown = api.post("/api/v1/uploads", headers=writer, files=[("files", ("批次.csv", b"a\n1\n", "text/csv"))])
    assert "unknown table" in problem(unknown, 400)["detail"]  # type: ignore[operator]


def test_upload_through_a_mapping_file(api: TestClient, store: Store) -> None:
    writer = key(store, "ingest")
    export = "批号,物料,数量\nX-1,M-1,5\n".encode()
    mapping = ('[tables.lots]\nfile = "erp.csv"\ncolumns = { lot_id = "批号", material_id = "物料", '
               'quantity = "数量" }\n').encode()
    done = api.post("/api/v1/uploads", headers=writer, data={"nlp": "false"},
                    files=[("files", ("erp.csv", export, "text/csv")),
                           ("mapping", ("mapping.toml", mapping, "text/plain"))])
    assert done.status_code == 201, done.text
    assert api.get("/api/v1/entities/lot:X-1").json()["attrs"]["quantity"] == 5.0


def test_maintenance_notes_are_read_by_the_nlp_pipeline(api: TestClient, store: Store) -> None:
    writer = key(store, "ingest")
    note = {"order_id": "MO-1", "equipment_id": "PRESS-02", "reported_at": "2023-11-07T09:30:00",
            "text": "2号压装机压力传感器读数漂移，校准后恢复正常", "technician": "王工", "type": "corrective"}
    done = api.post("/api/v1/maintenance-notes", headers=writer, json={"notes": [note]})
    assert done.status_code == 201, done.text
    body = done.json()
    assert body["batch"]["nodes_added"] >= 1 and body["extraction"]["edges_added"] >= 1
    order = api.get("/api/v1/entities/mo:MO-1").json()
    assert order["kind"] == "MaintenanceOrder" and order["attrs"]["technician"] == "王工"
    rels = {link["rel"] for link in order["links"] if link["direction"] == "out"}
    assert "maintains" in rels and rels & {"reportsSymptom", "tookAction", "foundCause"}
    again = api.post("/api/v1/maintenance-notes", headers=writer, json={"notes": [note]}).json()
    assert again["batch"]["skipped"] is True and again["extraction"] is None
    bad = api.post("/api/v1/maintenance-notes", headers=writer, json={"notes": [{**note, "type": "repair"}]})
    assert "type" in problem(bad, 400)["detail"]  # type: ignore[operator]


# ── reading ───────────────────────────────────────────────────────────────────
def test_trace_pages_follow_their_cursor(reads: TestClient) -> None:
    whole = reads.get("/api/v1/trace", params={"ref": CAUSE, "direction": "forward", "limit": 1000})
    assert whole.status_code == 200
    assert whole.json()["page"]["rows"] == 200  # ZHUISU_API_PAGE_ROWS caps the page
    total = whole.json()["page"]["total"]
    assert total == sum(whole.json()["stats"][k] for k in ("nodes", "edges", "steps")) > 600
    rows: dict[str, list[object]] = {"nodes": [], "edges": [], "steps": []}
    params: dict[str, object] = {"ref": CAUSE, "direction": "forward", "limit": 150}
    pages = 0
    while True:
        page = reads.get("/api/v1/trace", params=params).json()
        pages += 1
        for name in rows:
            rows[name] += page[name]
        if page["page"]["next_cursor"] is None:
            break
        params = {"ref": "ignored", "cursor": page["page"]["next_cursor"], "limit": 150}
    assert pages == -(-total // 150)
    assert len(rows["nodes"]) == whole.json()["stats"]["nodes"]
    assert len({json.dumps(r, sort_keys=True) for r in rows["edges"]}) == whole.json()["stats"]["edges"]
    problem(reads.get("/api/v1/trace", params={"ref": CAUSE, "cursor": "bm90IGEgY3Vyc29y"}), 400)
    problem(reads.get("/api/v1/trace", params={"ref": CAUSE, "cursor": "eyJzIjoibm9uZSIsIm8iOjB9"}), 410)


def test_trace_streams_ndjson(reads: TestClient) -> None:
    streamed = reads.get("/api/v1/trace", params={"ref": CAUSE, "direction": "forward"},
                         headers={"Accept": "application/x-ndjson"})
    assert streamed.headers["content-type"] == "application/x-ndjson"
    lines = [json.loads(line) for line in streamed.text.splitlines()]
    head, body = lines[0], lines[1:]
    assert head["row"] == "trace" and head["root"] == CAUSE
    counts = {kind: sum(1 for r in body if r["row"] == kind) for kind in ("node", "edge", "step")}
    assert counts == {"node": head["stats"]["nodes"], "edge": head["stats"]["edges"], "step": head["stats"]["steps"]}


def test_trace_options(reads: TestClient) -> None:
    unit = "unit:SN-M2311-00801"
    back = reads.get("/api/v1/trace", params={"ref": unit, "depth": 1, "kinds": "Operation,MaterialLot"}).json()
    assert back["depth"] == 1 and {n["kind"] for n in back["nodes"]} <= {"Operation", "MaterialLot"}
    window = reads.get("/api/v1/trace", params={"ref": unit, "since": "2030-01-01T00:00:00"}).json()
    assert [n["uid"] for n in window["nodes"]] == [unit]
    assert "unknown kind" in problem(reads.get("/api/v1/trace", params={"ref": unit, "kinds": "Widget"}), 400)[
        "detail"]  # type: ignore[operator]
    assert problem(reads.get("/api/v1/trace", params={"ref": unit, "direction": "up"}), 422)["errors"][0][
        "parameter"] == "direction"  # type: ignore[index]
    assert "did you mean" in problem(reads.get("/api/v1/trace", params={"ref": "unit:SN-M2311-0080"}), 404)[
        "detail"]  # type: ignore[operator]


def test_containment(reads: TestClient) -> None:
    found = reads.get("/api/v1/containment", params={"ref": CAUSE, "limit": 50}).json()
    totals = found["totals"]
    assert totals["items"] == found["page"]["total"] - totals["containers"] > 150
    assert set(totals["by_status"]) <= {"shipped", "in_stock", "wip", "consumed"} and totals["customers"]
    assert len(found["items"]) == 50 and found["page"]["next_cursor"] and found["shipments"]
    rest = reads.get("/api/v1/containment", params={"ref": CAUSE, "cursor": found["page"]["next_cursor"],
                                                    "limit": 500}).json()
    uids = [i["uid"] for i in found["items"] + rest["items"]]
    assert len(uids) == len(set(uids)) == found["page"]["total"] and rest["page"]["next_cursor"] is None
    streamed = reads.get("/api/v1/containment", params={"ref": CAUSE, "format": "ndjson"}).text.splitlines()
    assert json.loads(streamed[0])["row"] == "containment" and len(streamed) == 1 + len(uids)


def test_rca_similar_and_ask(reads: TestClient) -> None:
    ranked = reads.get("/api/v1/rca", params={"defect_code": "E-VIB", "limit": 5})
    assert ranked.status_code == 200, ranked.text
    assert CAUSE in [c["uid"] for c in ranked.json()["candidates"][:3]]  # the sample's injected root cause
    problem(reads.get("/api/v1/rca"), 400)  # neither a defect code nor units
    alike = reads.get("/api/v1/similar", params={"ref": "unit:SN-M2311-00801", "limit": 5}).json()
    assert alike["root"] == "unit:SN-M2311-00801" and 0 < len(alike["units"]) <= 5
    problem(reads.get("/api/v1/similar", params={"ref": "equipment:PRESS-02"}), 400)
    answer = reads.post("/api/v1/ask", json={"question": "2号压装机最近有哪些故障？", "session": "t-1"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["answer"] and isinstance(answer.json()["citations"], list)
    assert reads.post("/api/v1/ask", json={"question": ""}).status_code == 422


def test_paths(reads: TestClient) -> None:
    found = reads.get("/api/v1/paths", params={"source": CAUSE, "target": "equipment:PRESS-02", "k": 2}).json()
    assert 1 <= len(found["paths"]) <= 2
    ends = found["paths"][0]["nodes"][0]["uid"], found["paths"][0]["nodes"][-1]["uid"]
    assert ends == (CAUSE, "equipment:PRESS-02")
    problem(reads.get("/api/v1/paths", params={"source": CAUSE, "target": "equipment:NOPE"}), 404)
    problem(reads.get("/api/v1/paths", params={"source": CAUSE, "target": CAUSE, "k": 0}), 422)


def test_entity_lookup_and_search(reads: TestClient) -> None:
    press = reads.get("/api/v1/entities/2号压装机").json()  # an alias resolves to its node
    assert press["uid"] == "equipment:PRESS-02" and press["kind_label"]["zh"]
    assert "#2压机" in press["aliases"] and {"rel": "performedOn", "direction": "in", "count": 497} in press["links"]
    found = reads.get("/api/v1/entities", params={"q": "press", "kind": "Equipment"}).json()
    assert {i["uid"] for i in found["items"]} >= {"equipment:PRESS-01", "equipment:PRESS-02"}
    assert all(i["uid"].startswith("equipment:") for i in found["items"])
    by_name = reads.get("/api/v1/entities", params={"q": "压装机"}).json()["items"]
    assert "equipment:PRESS-02" in {i["uid"] for i in by_name}
    prefix = reads.get("/api/v1/entities", params={"q": "unit:SN-M2311-008", "match": "prefix", "limit": 7}).json()
    seen = [i["uid"] for i in prefix["items"]]
    while prefix["next_cursor"]:
        prefix = reads.get("/api/v1/entities", params={"q": "unit:SN-M2311-008", "match": "prefix", "limit": 7,
                                                        "cursor": prefix["next_cursor"]}).json()
        seen += [i["uid"] for i in prefix["items"]]
    assert len(seen) == len(set(seen)) == 100 and seen == sorted(seen)
    exact = reads.get("/api/v1/entities", params={"q": "#2压机"}).json()["exact"]
    assert exact["uid"] == "equipment:PRESS-02"
    wild = reads.get("/api/v1/entities", params={"q": "%"}).json()  # LIKE wildcards are matched literally
    assert wild["items"] == []
    problem(reads.get("/api/v1/entities/unit:NOPE"), 404)
    vocabulary = reads.get("/api/v1/vocabulary").json()
    consumed = next(r for r in vocabulary["relations"] if r["name"] == "consumedBy")
    assert consumed["flow"] == "material" and consumed["label"]["zh"]


# ── access ────────────────────────────────────────────────────────────────────
def test_writes_need_a_key_with_the_scope(api: TestClient, store: Store) -> None:
    assert problem(api.post("/api/v1/batches", json=BATCH), 401)["code"] == "E401"
    reader, writer, admin = key(store, "read"), key(store, "ingest"), key(store, "admin")
    assert "needs ingest" in problem(api.post("/api/v1/batches", json=BATCH, headers=reader), 403)[
        "detail"]  # type: ignore[operator]
    assert api.post("/api/v1/batches", json=BATCH, headers=writer).status_code == 201
    secret = admin["Authorization"].removeprefix("Bearer ")
    assert api.post("/api/v1/batches", json=BATCH, headers={"X-API-Key": secret}).status_code == 200
    problem(api.get("/api/v1/keys", headers=writer), 403)
    made = api.post("/api/v1/keys", json={"name": "MES", "scopes": ["ingest"]}, headers=admin)
    assert made.status_code == 201 and made.json()["key"].startswith("zs_")
    assert {k["id"] for k in api.get("/api/v1/keys", headers=admin).json()} >= {made.json()["id"]}
    fresh = {"X-API-Key": made.json()["key"]}
    assert api.post("/api/v1/batches", json=BATCH, headers=fresh).status_code == 200
    assert api.delete(f"/api/v1/keys/{made.json()['id']}", headers=admin).json()["revoked_at"]
    problem(api.post("/api/v1/batches", json=BATCH, headers=fresh), 401)  # revoked: at once
    problem(api.post("/api/v1/batches", json=BATCH, headers={"X-API-Key": secret[:-2] + "xx"}), 401)
    problem(api.post("/api/v1/batches", json=BATCH, headers={"Authorization": "Bearer nonsense"}), 401)
    assert problem(api.post("/epcis/capture", content=b"{}"), 401)["type"] == "epcisException:SecurityException"


def test_reads_can_be_made_to_need_a_key(store: Store) -> None:
    with client_for(store, keys_for_reads=True) as api:
        assert api.get("/api/v1/health").status_code == 200  # health stays open for probes
        problem(api.get("/api/v1/entities", params={"q": "x"}), 401)
        problem(api.get("/epcis/events"), 401)
        assert api.get("/api/v1/entities", params={"q": "x"}, headers=key(store, "read")).status_code == 200
    with client_for(store) as api:
        assert api.get("/api/v1/entities", params={"q": "x"}).status_code == 200


def test_apikey_cli_prints_the_key_alone_on_its_last_line(store: Store) -> None:
    done = subprocess.run([sys.executable, "-m", "zhuisu.cli", "apikey", "create", "--name", "MES 2号线",
                           "--scope", "ingest", "--db", store.url], capture_output=True, text=True, check=True)
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith("zs_") and " " not in last
    (made,) = keys.list_keys(store)
    assert made.name == "MES 2号线" and made.scopes == ("ingest",) and made.id in last
    with store.engine.connect() as conn:  # stored hashed (reading the file itself would drop SQLite's locks)
        stored = " ".join(str(v) for row in conn.execute(sa.select(api_keys)) for v in row)
    assert last.rsplit("_", 1)[-1] not in stored and "scrypt$" in stored
    assert keys.KeyRing(store).verify(last) == made
    listed = subprocess.run([sys.executable, "-m", "zhuisu.cli", "apikey", "list", "--json", "--db", store.url],
                            capture_output=True, text=True, check=True)
    assert json.loads(listed.stdout)[0]["id"] == made.id and last not in listed.stdout
    subprocess.run([sys.executable, "-m", "zhuisu.cli", "apikey", "revoke", made.id, "--db", store.url], check=True,
                   capture_output=True)
    assert keys.KeyRing(store).verify(last) is None
    bad = subprocess.run([sys.executable, "-m", "zhuisu.cli", "apikey", "create", "--name", "x", "--scope", "root",
                          "--db", store.url], capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown scope root" in bad.stderr and "Traceback" not in bad.stderr


# ── errors and limits ─────────────────────────────────────────────────────────
def test_every_error_is_problem_json(api: TestClient) -> None:
    assert "no such endpoint" in problem(api.get("/api/v1/nowhere"), 404)["detail"]  # type: ignore[operator]
    gone = api.delete("/api/v1/trace")
    assert problem(gone, 405) and gone.headers["allow"] == "GET"
    missing = problem(api.get("/api/v1/trace"), 422)
    assert missing["errors"][0]["parameter"] == "ref"  # type: ignore[index]
    problem(api.get("/api/v1/batches/999"), 404)


def test_unexpected_errors_are_problems_without_a_traceback(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    from zhuisu.api.entities import service

    def broken(**_: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(service, "search", broken)
    with TestClient(create_app(store, settings=ApiSettings()), raise_server_exceptions=False) as api:
        body = problem(api.get("/api/v1/entities", params={"q": "x"}), 500)
    assert "secret internals" not in json.dumps(body) and "Traceback" not in json.dumps(body)
    assert body["incident"]


def test_body_limit(store: Store) -> None:
    with client_for(store, max_body=1000) as api:
        big = {"nodes": [{"uid": f"lot:L-{i}"} for i in range(200)]}
        body = problem(api.post("/api/v1/batches", json=big, headers=key(store, "ingest")), 413)
        assert "ZHUISU_API_MAX_BODY_MB" in body["detail"]  # type: ignore[operator]


def test_cors(store: Store) -> None:
    with client_for(store, cors_origins=("https://mes.example.com",)) as api:
        pre = api.options("/api/v1/batches", headers={"Origin": "https://mes.example.com",
                                                        "Access-Control-Request-Method": "POST",
                                                        "Access-Control-Request-Headers": "x-api-key"})
        assert pre.headers["access-control-allow-origin"] == "https://mes.example.com"
        other = api.get("/api/v1/health", headers={"Origin": "https://evil.example.com"})
        assert "access-control-allow-origin" not in other.headers
    with client_for(store) as api:
        assert "access-control-allow-origin" not in api.get("/api/v1/health", headers={
            "Origin": "https://mes.example.com"}).headers


def test_openapi_is_bilingual_with_examples(api: TestClient) -> None:
    spec = api.get("/openapi.json").json()
    assert "追溯" in spec["info"]["title"] and "EPCIS" in spec["info"]["description"]
    for path, item in spec["paths"].items():
        for method, op in item.items():
            text = op["summary"] + op.get("description", "")
            assert any("\u4e00" <= ch <= "\u9fff" for ch in text), (method, path)
            assert any(ch.isascii() and ch.isalpha() for ch in text), (method, path)
    assert spec["components"]["schemas"]["BatchCreate"]["examples"]
    assert set(spec["components"]["securitySchemes"]) == {"bearer", "apiKey"}
    assert api.get("/docs").status_code == 200

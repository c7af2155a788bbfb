"""Sync into Neo4j: rows built from a real SQLite store, incremental, resumable after a crash.

No Neo4j server can run here. ``GraphSink`` is a faithful stand-in for what the generated statements do
to a graph: it reads the labels, relationship type and MERGE keys out of each statement's text (so a wrong
label in the text shows up here) and applies MERGE/SET/REMOVE/DELETE to dictionaries. The statements
themselves are checked by Neo4j's linter (test_neo4j_cypher.py) and run on a real server by
test_neo4j_live.py when ZHUISU_NEO4J_URI is set.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from zhuisu.graph.neo4j import cypher
from zhuisu.graph.neo4j.connect import Neo4jUnavailable, Target
from zhuisu.graph.neo4j.rows import flatten, unflatten
from zhuisu.graph.neo4j.sync import PHASES, Progress, load_progress, sync
from zhuisu.graph.schema import meta
from zhuisu.graph.store import Store
from zhuisu.ingest.records import Batch, Edge, Node

TARGET = "bolt://neo4j.plant.example:7687/neo4j"


class GraphSink:
    """What the statements do to a Neo4j graph, kept in dictionaries."""

    def __init__(self, fail_after: int | None = None) -> None:
        self.nodes: dict[str, dict[str, Any]] = {}  # uid → {"labels": set, "props": dict}
        self.rels: dict[tuple[str, str, str, str], dict[str, Any]] = {}  # (src, TYPE, dst, key) → props
        self.schema_run: list[str] = []
        self.writes: list[list[tuple[str, int]]] = []  # per transaction: (statement name, rows)
        self.fail_after = fail_after

    def schema(self, statements: list[cypher.Statement]) -> None:
        self.schema_run += [s.text for s in statements]

    def write(self, work: list[tuple[cypher.Statement, list[dict[str, Any]]]]) -> list[int | None]:
        if self.fail_after is not None and len(self.writes) >= self.fail_after:
            raise Neo4jUnavailable("connection lost (simulated)")
        self.writes.append([(s.name, len(rows)) for s, rows in work])
        return [self._run(statement, rows) for statement, rows in work]

    def _run(self, statement: cypher.Statement, rows: list[dict[str, Any]]) -> int | None:
        text, params = statement.bind(rows=rows)
        if merge := re.search(r"MERGE \(n:(\w+) \{uid: row\.uid\}\)", text):
            removed = re.search(r"REMOVE n:([\w:]+)", text)
            labels = set(re.search(r"SET n:([\w:]+),", text).group(1).split(":"))  # type: ignore[union-attr]
            for row in params["rows"]:
                node = self.nodes.setdefault(row["uid"], {"labels": {merge.group(1)}, "props": {}})
                assert merge.group(1) in node["labels"], "MERGE by a label the node lacks would duplicate it"
                node["labels"] -= set(removed.group(1).split(":")) if removed else set()
                node["labels"] |= labels
                props = node["props"]
                props.update({k: row[k] for k in ("uid", "sid", "kind", "name", "attrs")}, **row["props"])
                node["props"] = {k: v for k, v in props.items() if v is not None}
            return None
        ends = re.findall(r"\((?:a|b)?:(\w+) \{uid: row\.(src|dst)\}\)", text)
        rtype = re.search(r"\[r:(\w+) \{key: row\.key\}\]", text).group(1)  # type: ignore[union-attr]
        written = 0
        for row in params["rows"]:
            if not all(label in self.nodes.get(row[end], {"labels": ()})["labels"] for label, end in ends):
                continue  # MATCH found no node: the row writes nothing
            key = (row["src"], rtype, row["dst"], row["key"])
            if "DELETE r" in text:
                self.rels.pop(key, None)
                continue
            props = {**{k: row[k] for k in ("key", "sid", "t", "qty", "uom", "attrs")}, **row["props"]}
            self.rels[key] = {k: v for k, v in {**self.rels.get(key, {}), **props}.items() if v is not None}
            written += 1
        return written if "RETURN count(r) AS written" in text else None

    def rows_sent(self) -> int:
        return sum(n for tx in self.writes for _, n in tx)


def expected_graph(store: Store) -> tuple[dict[str, Any], dict[tuple[str, str, str, str], dict[str, Any]]]:
    """The graph Neo4j should hold for the store, read straight from its tables."""
    from zhuisu.graph.schema import edges, nodes

    onto = store.ontology
    with store.engine.connect() as conn:
        node_rows = conn.execute(sa.select(nodes)).all()
        edge_rows = conn.execute(sa.select(edges).where(edges.c.retracted.is_(None))).mappings().all()
    uid = {r.id: r.uid for r in node_rows}
    graph_nodes = {r.uid: {"labels": set(onto.kind(r.kind).ancestors), "uid": r.uid, "kind": r.kind,
                           "name": r.name, "attrs": json.loads(r.attrs)} for r in node_rows}
    graph_rels = {(uid[e["src"]], cypher.rel_type(e["rel"]), uid[e["dst"]], e["key"]): {
        "t": e["t"], "qty": e["qty"], "uom": e["uom"], "attrs": json.loads(e["attrs"])} for e in edge_rows}
    return graph_nodes, graph_rels


def assert_mirrors(sink: GraphSink, store: Store) -> None:
    want_nodes, want_rels = expected_graph(store)
    got_nodes = {u: {"labels": n["labels"], "uid": u, "kind": n["props"]["kind"],
                     "name": n["props"].get("name"), "attrs": unflatten(n["props"], cypher.NODE_FIELDS)}
                 for u, n in sink.nodes.items()}
    got_rels = {k: {"t": p.get("t"), "qty": p.get("qty"), "uom": p.get("uom"),
                    "attrs": unflatten(p, cypher.EDGE_FIELDS)} for k, p in sink.rels.items()}
    assert got_nodes == want_nodes
    assert got_rels == want_rels


def t(day: int) -> datetime:
    return datetime(2024, 3, day, 8, 30)


def first_batch() -> Batch:
    return Batch(source="test:mes", nodes=[
        Node("supplier:SUP-03", name="宁波恒磁磁业有限公司",
             attrs={"城市": "宁波", "rating": 4, "audited": True}),
        Node("lot:CG2403-07", name="磁钢 \"N42SH\", 批次 07", attrs={"qty": 1000.0, "dims": [10, 5.5],
                                                                "备注": "来料检验合格\n第二行"}),
        Node("equipment:PRESS-02", name="2号压装机"),
        Node("op:PF-0042", name="压装", attrs={"step": "压装", "uid": "clash", "name": "clash too"}),
    ], edges=[
        Edge("supplier:SUP-03", "supplies", "lot:CG2403-07", time=t(1), quantity=1000, uom="片"),
        Edge("lot:CG2403-07", "consumedBy", "op:PF-0042", time=t(2), quantity=2, uom="片", key="ev-1"),
        Edge("op:PF-0042", "produces", "unit:SN-0042", time=t(2), quantity=1, uom="台",
             attrs={"班组": "甲", "nested": {"a": 1}, "t": "clash"}),
        Edge("op:PF-0042", "performedOn", "equipment:PRESS-02", time=t(2)),
        Edge("unit:SN-0042", "shippedIn", "shipment:SH-9", time=t(5), key="urn:uuid:ship-1"),
    ])


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(str(tmp_path / "z.db"))
    s.ingest(first_batch())
    return s


def test_attributes_split_into_properties_and_json() -> None:
    attrs = {"城市": "宁波", "n": 3, "x": 1.5, "ok": False, "dims": [1, 2], "none": None, "nan": float("nan"),
             "uid": "clash", "": "empty key", "big": 2**70}
    props, rest = flatten(attrs, cypher.NODE_FIELDS)
    assert props == {"城市": "宁波", "n": 3, "x": 1.5, "ok": False, "dims": None, "none": None, "nan": None,
                     "big": None}
    assert rest is not None and set(json.loads(rest)) == {"dims", "none", "nan", "uid", "", "big"}
    back = unflatten({**{k: v for k, v in props.items() if v is not None}, "attrs": rest, "uid": "lot:X"},
                     cypher.NODE_FIELDS)
    assert back.keys() == attrs.keys() and back["dims"] == [1, 2] and back["big"] == 2**70


def test_first_sync_writes_everything_with_labels_from_the_ontology(store: Store) -> None:
    sink = GraphSink()
    result = sync(store, sink, TARGET)
    assert (result.nodes, result.edges, result.retracted, result.synced) == (6, 5, 0, 1)
    assert_mirrors(sink, store)
    assert sink.nodes["equipment:PRESS-02"]["labels"] == {"Equipment"}
    assert sink.nodes["supplier:SUP-03"]["labels"] == {"Supplier", "Party"}
    assert sink.nodes["lot:CG2403-07"]["props"]["备注"] == "来料检验合格\n第二行"
    assert sink.rels[("op:PF-0042", "PRODUCES", "unit:SN-0042", "")]["t"] == 1709339400000  # epoch ms
    assert any("REQUIRE n.uid IS UNIQUE" in s for s in sink.schema_run)
    assert result.statements["edges:CONSUMED_BY:MaterialLot>Operation"] == 1


def test_second_sync_sends_only_what_changed(store: Store) -> None:
    sink = GraphSink()
    sync(store, sink, TARGET)
    sent = sink.rows_sent()
    assert sync(store, sink, TARGET).chunks == 0 and sink.rows_sent() == sent  # nothing new: nothing sent
    store.ingest(Batch(source="test:more", nodes=[
        Node("equipment:PRESS-02", kind="Line", name="2号压装线"),  # kind changes within its prefix
        Node("lot:CG2403-07", attrs={"dims": "10x5.5"}),  # a JSON attribute becomes a scalar
    ], edges=[Edge("unit:SN-0042", "containedIn", "lu:PAL-1", time=t(4), quantity=1)],
        retract=["urn:uuid:ship-1"]))
    result = sync(store, sink, TARGET)
    assert (result.nodes, result.edges, result.retracted) == (3, 1, 1)  # the two changed, the new pallet
    assert_mirrors(sink, store)
    assert sink.nodes["equipment:PRESS-02"]["labels"] == {"Line", "Equipment"}
    assert sink.nodes["lot:CG2403-07"]["props"]["dims"] == "10x5.5"
    assert ("unit:SN-0042", "SHIPPED_IN", "shipment:SH-9", "urn:uuid:ship-1") not in sink.rels
    store.ingest(Batch(source="test:kind-again", nodes=[Node("equipment:PRESS-02", kind="EquipmentUnit")]))
    sync(store, sink, TARGET)
    assert sink.nodes["equipment:PRESS-02"]["labels"] == {"EquipmentUnit", "Equipment"}


def test_a_crashed_sync_resumes_where_it_stopped(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "z.db"))
    store.ingest(Batch(source="test:big", edges=[
        Edge(f"lot:L{i:03d}", "consumedBy", f"op:O{i % 7}", time=t(1), quantity=1.0, key=str(i))
        for i in range(60)]))
    broken = GraphSink(fail_after=5)
    with pytest.raises(Neo4jUnavailable):
        sync(store, broken, TARGET, size=10)
    progress = load_progress(store, TARGET)
    assert progress.upto == 1 and progress.synced == 0 and progress.phase in PHASES and progress.after > 0
    # the retry goes to the same graph (the sink kept what its committed transactions wrote)
    broken.fail_after = None
    result = sync(store, broken, TARGET, size=10)
    assert result.resumed and load_progress(store, TARGET) == Progress(synced=1)
    assert_mirrors(broken, store)
    assert broken.rows_sent() == 67 + 60  # every row once: 67 nodes, 60 edges; none sent twice
    with store.engine.connect() as conn:  # watermark rows are named by a hash: meta names hold 40 characters
        names = conn.execute(sa.select(meta.c.name)).scalars().all()
    assert Progress.key(TARGET) in names and all(len(n) <= 40 for n in names)


def test_full_and_since_batch(store: Store) -> None:
    sink = GraphSink()
    sync(store, sink, TARGET)
    assert sync(store, sink, TARGET, full=True).nodes == 6  # rewrites everything, changing nothing
    assert_mirrors(sink, store)
    imported = copy.deepcopy(sink)  # as another database after neo4j-admin imported files made at batch 1
    imported.writes.clear()
    store.ingest(Batch(source="test:new", edges=[Edge("lot:N-1", "consumedBy", "op:PF-0042", key="n")]))
    result = sync(store, imported, "bolt://other:7687/neo4j", since=1)
    assert (result.nodes, result.edges, imported.rows_sent()) == (1, 1, 2)  # only the new lot and its edge
    assert_mirrors(imported, store)


def test_missing_end_nodes_are_an_error(store: Store) -> None:
    sink = GraphSink()
    sync(store, sink, TARGET)
    del sink.nodes["op:PF-0042"]  # someone deleted it in Neo4j
    store.ingest(Batch(source="test:more", edges=[Edge("lot:X-1", "consumedBy", "op:PF-0042", key="x")]))
    with pytest.raises(Neo4jUnavailable, match="--full"):
        sync(store, sink, TARGET)


def test_target_label_hides_the_login() -> None:
    target = Target("neo4j://admin:secret@db.plant.example:7687/", "neo4j", "pw", "zhuisu")
    assert target.label == "neo4j://db.plant.example:7687/zhuisu"


def test_cli_without_uri_is_a_one_line_error(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    from zhuisu.graph.neo4j.cli import app

    monkeypatch.delenv("ZHUISU_NEO4J_URI", raising=False)
    result = CliRunner().invoke(app, ["sync", "--db", store.url])
    assert result.exit_code == 2 and "ZHUISU_NEO4J_URI" in result.output and "Traceback" not in result.output
    down = CliRunner().invoke(app, ["sync", "--uri", "bolt://127.0.0.1:9", "--db", store.url])
    assert down.exit_code == 1 and "127.0.0.1:9" in down.output and "Traceback" not in down.output

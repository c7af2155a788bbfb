"""Against a real Neo4j 5 server (``ZHUISU_NEO4J_URI``): sync, then the Cypher backend equals the engine.

Skipped, saying why, when ``ZHUISU_NEO4J_URI`` is not set (no Neo4j server can be installed on the CI
machines). Point it at a throw-away server (docs/neo4j.md); the tests delete only the nodes they wrote.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from zhuisu import config
from zhuisu.graph.engine import Engine
from zhuisu.graph.neo4j.backend import CypherGraph
from zhuisu.graph.neo4j.connect import Target, driver
from zhuisu.graph.neo4j.sync import sync_to
from zhuisu.graph.paths import k_paths
from zhuisu.graph.store import Store
from zhuisu.graph.trace import trace
from zhuisu.ingest.records import Batch, Edge, Node

from .test_neo4j_backend import at, plant, random_plant, same
from .test_neo4j_cypher import all_statements


@pytest.fixture(scope="module")
def target() -> Target:
    if not config.get("neo4j_uri"):
        pytest.skip("ZHUISU_NEO4J_URI is not set: no Neo4j server to test against (docs/neo4j.md: "
                    "docker run -p7687:7687 -e NEO4J_AUTH=neo4j/zhuisu-test neo4j:5)")
    return Target.from_settings()


@pytest.fixture(scope="module")
def neo4j(target: Target) -> Iterator[Any]:
    with driver(target) as drv:
        yield drv


@pytest.fixture
def store(tmp_path: Path, neo4j: Any, target: Target) -> Iterator[Store]:
    s = Store(str(tmp_path / "z.db"))
    s.ingest(plant())
    s.ingest(random_plant(7))
    uids = [r.uid for r in s.nodes_by_id(range(1, s.counts()["nodes"] + 1)).values()]
    forget = "UNWIND $uids AS uid MATCH (n {uid: uid}) DETACH DELETE n"  # test clean-up only, never emitted
    neo4j.execute_query(forget, uids=uids, database_=target.database)
    yield s
    uids = [r.uid for r in s.nodes_by_id(range(1, s.counts()["nodes"] + 1)).values()]
    neo4j.execute_query(forget, uids=uids, database_=target.database)


def test_every_read_and_write_statement_is_planned_by_the_server(neo4j: Any, target: Target) -> None:
    for statement in all_statements():
        if statement.name.startswith(("constraint:", "index:")):
            continue  # schema commands cannot be explained; sync runs them in every other test
        neo4j.execute_query("EXPLAIN " + statement.text, dict(statement.params), database_=target.database)


def test_backend_equals_the_engine_after_sync(store: Store, neo4j: Any, target: Target) -> None:
    result = sync_to(store, target)
    assert result.nodes == store.counts()["nodes"] and result.edges == store.counts()["edges"]
    engine, graph = Engine.load(store), CypherGraph(store, neo4j, target.database)
    for ref, options in [
        ("unit:SN-0001", {}), ("lot:CG2403-01", {"direction": "forward"}),
        ("customer:C-GAC", {"until": at(3, 2)}),
        ("lot:CG2403-01", {"direction": "forward", "depth": 2, "since": at(2, 2)}), ("lot:Q3", {}),
        ("lot:Q5", {"direction": "forward"}), ("unit:SN-0002", {"kinds": ["Supplier", "MaterialLot"]}),
    ]:
        same(graph.trace(ref, **options), trace(engine, ref, **options))
    for a, b, material_only in [("unit:SN-0001", "supplier:SUP-CG", True),
                                ("unit:SN-0001", "equipment:PRESS-02", False), ("lot:Q1", "lot:Q9", False)]:
        got, want = graph.k_paths(a, b, 3, material_only=material_only), k_paths(engine, a, b, 3,
                                                                                material_only=material_only)
        assert [p.length for p in got.paths] == [p.length for p in want.paths]


def test_incremental_sync_applies_changes_and_retractions(store: Store, neo4j: Any, target: Target) -> None:
    sync_to(store, target)
    press = Node("equipment:PRESS-02", kind="Line", name="2号压装线")
    store.ingest(Batch(source="test:live-more", nodes=[press], retract=["ev-1"],
                       edges=[Edge("unit:SN-0003", "shippedIn", "shipment:SH-9", time=at(8), key="ev-9")]))
    result = sync_to(store, target)
    assert (result.edges, result.retracted) == (1, 1)
    records, _, _ = neo4j.execute_query(
        "MATCH (n:Equipment {uid: $uid}) RETURN labels(n) AS labels", uid="equipment:PRESS-02",
        database_=target.database)
    assert sorted(records[0]["labels"]) == ["Equipment", "Line"]
    engine, graph = Engine.load(store), CypherGraph(store, neo4j, target.database)
    for ref in ("unit:SN-0001", "unit:SN-0003", "lot:CG2403-01"):
        same(graph.trace(ref, direction="forward"), trace(engine, ref, direction="forward"))

"""Every Cypher statement zhuisu can emit passes Neo4j's own linter, and is built from the ontology only."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest

from zhuisu.graph.neo4j import cypher
from zhuisu.graph.neo4j.backend import read_statements
from zhuisu.ontology import load

from .conftest import REPO, service_missing

LINT = REPO / "tests" / "cypher"


def all_statements() -> list[cypher.Statement]:
    """Schema, sync writes and backend reads, for every label set and relationship type of the ontology."""
    onto = load()
    return [*cypher.schema_statements(onto), *cypher.write_statements(onto), *read_statements(onto)]


def property_keys(statements: list[cypher.Statement]) -> list[str]:
    """Properties zhuisu writes, plus the fields of the parameter rows.

    The linter cannot tell ``row.src`` (a map key of an UNWIND row) from a node property, so the row
    fields are declared too; any other name read from a node, relationship or row is reported.
    """
    keys = set(cypher.NODE_FIELDS) | set(cypher.EDGE_FIELDS)
    for s in statements:
        for value in s.params.values():
            if isinstance(value, list) and value and isinstance(value[0], dict):
                keys.update(value[0])
    return sorted(keys)


def lint(statements: list[cypher.Statement]) -> dict[str, Any]:
    """Run ``tests/cypher/lint.mjs`` (``lintCypherQuery`` of @neo4j-cypher/language-support) on statements."""
    node = shutil.which("node")
    if node is None:
        service_missing("Node.js is not installed: the Cypher check needs `node` (v20+)")
    if not (LINT / "node_modules" / "@neo4j-cypher" / "language-support").is_dir():
        service_missing("Cypher linter not installed: run `npm ci --prefix tests/cypher`")
    onto = load()
    payload = {
        "schema": {"labels": sorted(onto.kinds), "relationshipTypes": sorted(cypher.rel_type(r) for r in
                                                                            onto.relations),
                   "propertyKeys": property_keys(statements)},
        "statements": [{"name": s.name, "text": s.text, "params": s.params} for s in statements],
    }
    done = subprocess.run([str(node), str(LINT / "lint.mjs")], input=json.dumps(payload, ensure_ascii=False),
                          capture_output=True, text=True, timeout=300, check=False)
    if not done.stdout.strip():
        pytest.fail(f"lint.mjs failed: {done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_every_statement_passes_the_neo4j_linter() -> None:
    statements = all_statements()
    result = lint(statements)
    assert result["checked"] == len(statements)
    problems = [f"{d['statement']}:{d['line']}:{d['column']} {d['severity']}: {d['message']} ({d['text']!r})"
                for d in result["diagnostics"]]
    assert problems == [], "\n".join(problems)
    print(f"Cypher lint: {len(statements)} statements, no diagnostics")


def test_the_linter_catches_mistakes() -> None:
    bad = [
        cypher.Statement("undefined-variable", "MATCH (n:Operation) RETURN m", {}),
        cypher.Statement("undeclared-parameter", "MATCH (n:Operation {uid: $uid}) RETURN n", {}),
        cypher.Statement("syntax", "UNWIND $rows AS row MERG (n:Operation {uid: row.uid})", {"rows": []}),
        cypher.Statement("apoc", "RETURN apoc.coll.sum([1, 2]) AS s", {}),
        cypher.Statement("unknown-label", "MATCH (n:Widget) RETURN n.uid", {}),
        cypher.Statement("unknown-property", "MATCH (n:Operation) RETURN n.colour", {}),
    ]
    found = {d["statement"] for d in lint(bad)["diagnostics"]}
    assert found == {s.name for s in bad}


def test_statements_are_enumerated_from_the_ontology() -> None:
    onto = load()
    statements = all_statements()
    names = {s.name for s in statements}
    assert len(names) == len(statements)
    assert {f"nodes:{k}" for k in cypher.node_kinds(onto)} <= names
    for relation in onto.relations:
        for src, dst in cypher.endpoint_roots(relation, onto):
            assert f"edges:{cypher.rel_type(relation)}:{src}>{dst}" in names
            assert f"retract:{cypher.rel_type(relation)}:{src}>{dst}" in names
    # every relationship type and every node label of the ontology appears in some statement
    text = "\n".join(s.text for s in statements)
    assert all(f":{cypher.rel_type(r)}" in text for r in onto.relations)
    assert all(f":{k}" in text or f":{k}:" in text for k in cypher.node_kinds(onto))


def test_names_come_from_the_ontology() -> None:
    onto = load()
    assert cypher.rel_type("consumedBy") == "CONSUMED_BY"
    assert cypher.rel_type("usedSparePart") == "USED_SPARE_PART"
    assert cypher.labels("Line") == ("Line", "Equipment") and cypher.root("Line") == "Equipment"
    assert cypher.root("SerialUnit") == "SerialUnit" and "TraceableItem" in cypher.labels("SerialUnit")
    material = {cypher.rel_type(r.name) for r in onto.relations.values() if r.material}
    assert material == {"SUPPLIES", "CONSUMED_BY", "PRODUCES", "CONTAINED_IN", "SHIPPED_IN", "SHIPPED_TO"}
    with pytest.raises(Exception, match="unknown relation"):
        cypher.rel_type("consumedBy]->() DETACH DELETE n //")
    with pytest.raises(Exception, match="unknown kind"):
        cypher.labels("Unit`) DETACH DELETE n //")
    with pytest.raises(ValueError, match="plain identifier"):
        cypher.uid_constraint("Equipment {x: 1}")


def test_a_kind_change_removes_the_old_labels() -> None:
    line = cypher.merge_nodes("Line").text
    assert "MERGE (n:Equipment {uid: row.uid})" in line
    assert "REMOVE n:Area:EquipmentUnit:Site:WorkCenter" in line and "SET n:Line:Equipment," in line
    assert "REMOVE" not in cypher.merge_nodes("Operation").text


def test_bind_refuses_undeclared_parameters() -> None:
    statement = cypher.merge_nodes("Operation")
    assert statement.bind(rows=[]) == (statement.text, {"rows": []})
    with pytest.raises(ValueError, match="declared"):
        statement.bind(rows=[], uid="x")

"""``export-csv``: files that ``neo4j-admin database import full`` accepts, holding exactly the store's graph.

``check_import_files`` applies the rules of Neo4j's "CSV header format" for the import tool: one ``:ID``
column per node file (its id space named in parentheses), at most one ``:LABEL``; ``:START_ID``, ``:END_ID``
and ``:TYPE`` in relationship files, referring to id spaces that node files define; property types from the
documented set (optionally ``[]`` arrays); every row as many fields as its header; booleans ``true``/
``false``; ids unique within their space and every relationship end among them.
"""

from __future__ import annotations

import csv
import io
import re
import shlex
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from zhuisu.graph.neo4j import cypher
from zhuisu.graph.neo4j.bulk import cell, export_csv
from zhuisu.graph.neo4j.rows import unflatten
from zhuisu.graph.store import Store
from zhuisu.ingest import plan
from zhuisu.ingest.records import Batch, Node
from zhuisu.samples import generate

from .test_neo4j_sync import expected_graph, first_batch

PROPERTY_TYPES = {"int", "long", "float", "double", "boolean", "byte", "short", "char", "string", "point",
                  "date", "localtime", "time", "localdatetime", "datetime", "duration"}
SPECIAL = re.compile(r"(ID|START_ID|END_ID)(\((?P<group>[^()]+)\))?|LABEL|TYPE|IGNORE")
IDENT = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")


def parse_header(fields: list[str], path: Path) -> list[tuple[str, str, str | None]]:
    """Each header field as (name, field type, id space); raises on anything the import tool rejects."""
    out = []
    for field in fields:
        name, sep, kind = field.partition(":")
        kind = kind if sep else "string"  # no type: a string property
        special = SPECIAL.fullmatch(kind)
        if special:
            group = special.group("group") if special.lastindex else None
            out.append((name, special.group(1) or kind, group))
            continue
        base = kind.removesuffix("[]").split("{", 1)[0]
        assert base in PROPERTY_TYPES, f"{path.name}: {field!r} has an unknown type"
        assert name, f"{path.name}: property field {field!r} has no name"
        out.append((name, base + ("[]" if kind.endswith("[]") else ""), None))
    names = [n for n, k, _ in out if k not in ("LABEL", "TYPE", "IGNORE", "START_ID", "END_ID") and n]
    assert len(names) == len(set(names)), f"{path.name}: repeated property {names}"
    return out


def split_fields(text: str) -> list[list[tuple[str, bool]]]:
    """RFC 4180 records as (value, was quoted) pairs: the import tool tells ``""`` from an empty field."""
    records: list[list[tuple[str, bool]]] = []
    row: list[tuple[str, bool]] = []
    i = 0
    while i < len(text):
        if text[i] == '"':
            end = i + 1
            while True:
                end = text.index('"', end)
                if text[end + 1:end + 2] != '"':
                    break
                end += 2
            value, quoted, i = text[i + 1:end].replace('""', '"'), True, end + 1
        else:
            stop = min((j for j in (text.find(",", i), text.find("\n", i)) if j >= 0), default=len(text))
            value, quoted, i = text[i:stop], False, stop
        assert '"' not in value or quoted, f"a quote inside an unquoted field: {value!r}"
        row.append((value, quoted))
        if i >= len(text) or text[i] == "\n":
            records.append(row)
            row = []
        i += 1
    return records


def check_value(kind: str, value: str, quoted: bool, where: str) -> None:
    """A field's text is readable as its column type (an unquoted empty field: no property)."""
    if value == "" and not quoted:
        return
    if kind in ("long", "int", "short", "byte"):
        int(value)
    elif kind in ("double", "float"):
        assert value in ("NaN", "Infinity", "-Infinity") or float(value) == float(value), where
    elif kind == "boolean":
        assert value in ("true", "false"), f"{where}: boolean {value!r}"


def check_import_files(command: str) -> dict[str, Any]:
    """Check the files a ``neo4j-admin database import full`` command names; return what they hold."""
    args = shlex.split(command)
    assert args[:4] == ["neo4j-admin", "database", "import", "full"] and not args[-1].startswith("-")
    options = args[4:-1]
    assert all(a.startswith("--") for a in options) and "--overwrite-destination=true" in options
    multiline = "--multiline-fields=true" in options
    node_files = [Path(a.split("=", 1)[1]) for a in options if a.startswith("--nodes=")]
    rel_files = [Path(a.split("=", 1)[1]) for a in options if a.startswith("--relationships=")]
    ids: dict[str, set[str]] = {}
    nodes: dict[str, dict[str, Any]] = {}
    rels: list[dict[str, Any]] = []
    for path, is_node in [*((p, True) for p in node_files), *((p, False) for p in rel_files)]:
        text = path.read_text(encoding="utf-8")
        if not multiline:
            assert all(line.count('"') % 2 == 0 for line in text.splitlines()), f"{path.name}: line break"
        fields = split_fields(text)
        rows = list(csv.reader(io.StringIO(text, newline="")))
        assert rows == [[value for value, _ in row] for row in fields], f"{path.name}: Python csv disagrees"
        header = parse_header(rows[0], path)
        kinds = Counter(k for _, k, _ in header)
        if is_node:
            assert kinds["ID"] == 1 and kinds["LABEL"] <= 1, f"{path.name}: needs one :ID"
            assert not kinds["START_ID"] and not kinds["END_ID"] and not kinds["TYPE"]
        else:
            assert kinds["START_ID"] == kinds["END_ID"] == kinds["TYPE"] == 1, f"{path.name}: ends, type"
            assert not kinds["ID"] and not kinds["LABEL"]
        for number, row in enumerate(fields[1:], start=2):
            assert len(row) == len(header), f"{path.name}:{number}: {len(row)} fields, header {len(header)}"
            record: dict[str, Any] = {}
            for (name, kind, group), (value, was_quoted) in zip(header, row, strict=True):
                where = f"{path.name}:{number}:{name or kind}"
                if kind == "ID":
                    assert value and value not in ids.setdefault(group or "", set()), f"{where}: id {value!r}"
                    ids[group or ""].add(value)
                    record["uid"] = value
                elif kind in ("START_ID", "END_ID"):
                    record[kind] = (group or "", value)
                elif kind in ("LABEL", "TYPE"):
                    parts = value.split(";")
                    assert all(IDENT.match(p) for p in parts), f"{where}: {value!r}"
                    record[kind] = parts
                else:
                    check_value(kind, value, was_quoted, where)
                    if value != "" or was_quoted:  # an unquoted empty field sets no property
                        record[name] = _typed(kind, value)
            (nodes.__setitem__(record["uid"], record) if is_node else rels.append(record))
    for rel in rels:
        for end in ("START_ID", "END_ID"):
            group, value = rel[end]
            assert group in ids, f"relationship id space {group!r} is not defined by any node file"
            assert value in ids[group], f"relationship end {value!r} is not a node id"
    return {"nodes": nodes, "relationships": rels, "multiline": multiline}


def _typed(kind: str, value: str) -> Any:
    if kind == "long":
        return int(value)
    if kind == "double":
        return float(value)
    if kind == "boolean":
        return value == "true"
    return value


def graph_from_files(found: dict[str, Any]) -> tuple[dict[str, Any], dict[tuple[str, str, str, str], Any]]:
    """What Neo4j would hold after the import, in the shape of ``expected_graph``."""
    nodes = {uid: {"labels": set(r["LABEL"]), "uid": uid, "kind": r["kind"], "name": r.get("name"),
                   "attrs": unflatten({k: v for k, v in r.items() if k != "LABEL"}, cypher.NODE_FIELDS)}
             for uid, r in found["nodes"].items()}
    rels = {}
    for r in found["relationships"]:
        props = {k: v for k, v in r.items() if k not in ("START_ID", "END_ID", "TYPE")}
        key = (r["START_ID"][1], r["TYPE"][0], r["END_ID"][1], props.get("key", ""))
        rels[key] = {"t": props.get("t"), "qty": props.get("qty"), "uom": props.get("uom"),
                     "attrs": unflatten(props, cypher.EDGE_FIELDS)}
    return nodes, rels


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """The motor sample plant (200 units), ingested into a SQLite store."""
    base = tmp_path_factory.mktemp("plant")
    generate("motor", units=200, seed=3, out=base / "files")
    store = Store(str(base / "z.db"))
    for batch in plan(base / "files"):
        store.ingest(batch)
    return store


def test_sample_plant_files_follow_the_import_rules(sample_store: Store, tmp_path: Path) -> None:
    export = export_csv(sample_store, tmp_path / "csv")
    found = check_import_files(export.command())
    assert len(found["nodes"]) == export.nodes == sample_store.counts()["nodes"]
    assert len(found["relationships"]) == export.relationships == sample_store.counts()["edges"]
    want_nodes, want_rels = expected_graph(sample_store)
    got_nodes, got_rels = graph_from_files(found)
    assert got_nodes == want_nodes
    assert got_rels == want_rels
    headers = {p.name: p.read_text(encoding="utf-8").split("\n", 1)[0] for p in export.node_files}
    assert headers["nodes_SerialUnit.csv"].startswith('uid:ID(Node),:LABEL,sid:long,kind:string,name:string')
    rel_header = export.relationship_files[0].read_text(encoding="utf-8").split("\n", 1)[0]
    assert rel_header.startswith(":START_ID(Node),:END_ID(Node),:TYPE,sid:long,key:string,t:long,qty:double")


def test_awkward_text_and_mixed_attribute_types(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "z.db"))
    store.ingest(first_batch())  # quotes, commas, a line break, Chinese keys, lists, nested maps, clashes
    other = Node("supplier:SUP-04", name="", attrs={"rating": "A", "城市": "苏州"})
    store.ingest(Batch(source="test:more", nodes=[other]))
    export = export_csv(store, tmp_path / "csv")
    assert export.multiline and "--multiline-fields=true" in export.command()
    found = check_import_files(export.command("zhuisu"))
    assert shlex.split(export.command("zhuisu"))[-1] == "zhuisu"
    want_nodes, want_rels = expected_graph(store)
    got_nodes, got_rels = graph_from_files(found)
    assert got_rels == want_rels
    # the supplier's rating is a long once and a string once: the column would lie, so it goes to JSON
    header = (tmp_path / "csv" / "nodes_Supplier.csv").read_text(encoding="utf-8").split("\n", 1)[0]
    assert "rating" not in header and "城市:string" in header
    assert got_nodes == want_nodes
    assert got_nodes["supplier:SUP-04"]["name"] == ""  # quoted: an empty name, not a missing one


def test_cells() -> None:
    assert cell('磁钢 "N42SH", 批次') == '"磁钢 ""N42SH"", 批次"'
    assert [cell(None), cell(True), cell(3), cell(0.1), cell(float("nan"))] == ["", "true", "3", "0.1", "NaN"]


def test_cli_prints_the_import_command(sample_store: Store, tmp_path: Path) -> None:
    from zhuisu.graph.neo4j.cli import app

    result = CliRunner().invoke(app, ["export-csv", str(tmp_path / "out"), "--db", sample_store.url])
    assert result.exit_code == 0, result.output
    command = next(line for line in result.output.splitlines() if line.startswith("neo4j-admin "))
    check_import_files(command)
    assert f"--since-batch {sample_store.last_batch()}" in result.output
    print(command)

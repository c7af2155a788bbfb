"""Turtle and JSON-LD exports: the RDF view written as it is read, valid against the shapes, exact both ways."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from rdflib import Graph, Literal
from rdflib.compare import isomorphic

import zhuisu
from zhuisu import ingest
from zhuisu.graph.engine import Engine
from zhuisu.graph.rdf import from_rdf, to_rdf
from zhuisu.graph.rdf_export import RdfExport, write_jsonld, write_turtle
from zhuisu.graph.store import Store
from zhuisu.graph.trace import trace
from zhuisu.ingest.records import Batch, Edge, Node
from zhuisu.ontology import ZS
from zhuisu.ontology.shacl import validate

from .test_ontology import awkward, plant, snapshot

ROOT = Path(zhuisu.__file__).resolve().parent
MOTOR = ROOT / "samples" / "data" / "motor"
WRITERS: dict[str, tuple[str, Callable[..., RdfExport]]] = {
    "turtle": ("turtle", write_turtle), "jsonld": ("json-ld", write_jsonld)}


def export(store: Store, fmt: str, **options: Any) -> Graph:
    """The graph that an export of ``store`` parses back into."""
    syntax, writer = WRITERS[fmt]
    out = io.StringIO()
    writer(store, out, **options)
    return Graph().parse(data=out.getvalue(), format=syntax)


def copy_of(graph: Graph, path: Path) -> Store:
    copy = Store(str(path))
    copy.ingest(from_rdf(graph))
    return copy


@pytest.fixture
def awkward_store(tmp_path: Path) -> Store:
    store = Store(str(tmp_path / "z.db"))
    store.ingest(plant())
    store.ingest(awkward())
    store.ingest(Batch(source="error declaration", retract=["to-retract"]))
    store.ingest(Batch(source="big", nodes=[Node("lot:BIG", attrs={"code": 2**60, "neg": -7, "ok": False})]))
    return store


@pytest.fixture(scope="module")
def motor(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    store = Store(str(tmp_path_factory.mktemp("motor") / "z.db"))
    for batch in ingest.plan(MOTOR):
        store.ingest(batch)
    yield store
    store.close()


@pytest.fixture(scope="module")
def small_plant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """A generated 200-unit motor plant: every table and EPCIS file, small enough for SHACL in seconds."""
    from zhuisu.samples import generate

    folder = tmp_path_factory.mktemp("plant")
    generate("motor", units=200, seed=3, out=folder)
    store = Store(str(folder / "z.db"))
    for batch in ingest.plan(folder):
        store.ingest(batch)
    yield store
    store.close()


# ── small graphs: exact, valid ──────────────────────────────────────────────────
@pytest.mark.parametrize("fmt", WRITERS)
def test_export_is_the_rdf_view_and_round_trips_exactly(awkward_store: Store, tmp_path: Path, fmt: str) -> None:
    graph = export(awkward_store, fmt)

    assert isomorphic(graph, to_rdf(awkward_store))  # the very triples of graph/rdf.py, blank nodes and all
    report = validate(graph)
    assert report.conforms, str(report)
    assert snapshot(copy_of(graph, tmp_path / "copy.db")) == snapshot(awkward_store)


@pytest.mark.parametrize("fmt", WRITERS)
def test_trace_export_holds_exactly_the_traced_nodes(motor: Store, tmp_path: Path, fmt: str) -> None:
    traced = trace(Engine.load(motor), "unit:SN-M2311-00042")
    graph = export(motor, fmt, uids=traced.uids)

    assert {str(u) for u in graph.objects(None, ZS.uid)} == traced.uids
    assert isomorphic(graph, to_rdf(motor, uids=traced.uids))
    report = validate(graph)
    assert report.conforms, str(report)
    copy = copy_of(graph, tmp_path / "copy.db")
    assert copy.counts()["nodes"] == len(traced.uids)
    assert {(e.src, e.rel, e.dst) for e in traced.edges} <= {(e[0], e[1], e[2]) for e in snapshot(copy)[1]}


def test_counts_are_reported(awkward_store: Store) -> None:
    turtle, jsonld = (writer(awkward_store, io.StringIO()) for _, writer in WRITERS.values())
    assert turtle.triples == jsonld.triples == len(to_rdf(awkward_store))
    assert turtle.nodes == jsonld.nodes == awkward_store.counts()["nodes"]


def test_json_ld_keeps_numbers_javascript_cannot_read_as_typed_literals(awkward_store: Store) -> None:
    out = io.StringIO()
    write_jsonld(awkward_store, out, uids=["lot:BIG"])
    text = out.getvalue()
    assert '"@value": "1152921504606846976", "@type": "xsd:integer"' in text
    graph = Graph().parse(data=text, format="json-ld")
    assert from_rdf(graph).nodes[0].attrs == {"code": 2**60, "neg": -7, "ok": False}


# ── streaming ─────────────────────────────────────────────────────────────────
class Recorder(io.StringIO):
    """A stream that logs its writes in one list with the store's queries."""

    def __init__(self, log: list[str]) -> None:
        super().__init__()
        self.log = log

    def write(self, text: str) -> int:
        self.log.append("write")
        return super().write(text)


@pytest.mark.parametrize("fmt", WRITERS)
def test_export_writes_as_it_reads(tmp_path: Path, fmt: str) -> None:
    store = Store(str(tmp_path / "big.db"))
    n = 1234  # more than two pages of nodes
    store.ingest(Batch(source="big", nodes=[Node(f"lot:L{i:05d}", name=f"批次{i}") for i in range(n)],
                       edges=[Edge(f"lot:L{i:05d}", "containedIn", f"lot:L{i + 1:05d}", key=f"k{i}")
                              for i in range(n - 1)]))
    log: list[str] = []
    sa.event.listen(store.engine, "before_cursor_execute",
                    lambda _c, _cur, sql, *_: log.append("page") if "FROM nodes" in sql and "LIMIT" in sql else None)
    WRITERS[fmt][1](store, Recorder(log))

    pages = [i for i, what in enumerate(log) if what == "page"]
    assert len(pages) == 4  # three pages of nodes and the empty one that ends the keyset paging
    # Every page's subjects are written before the next page is read: never the whole graph in memory.
    assert all("write" in log[a:b] for a, b in zip(pages, pages[1:], strict=False))


# ── the docs' SPARQL example ──────────────────────────────────────────────────
def test_sparql_example_of_the_docs_runs(motor: Store) -> None:
    page = (ROOT / "docs" / "export.md").read_text(encoding="utf-8")
    query = re.search(r"```sparql\n(.*?)```", page, re.S)
    table = re.findall(r"^\| (lot:\S+) \| ([\d.]+) \| (\S+) \| (.*?) ?\|$", page, re.M)
    assert query and table
    graph = export(motor, "turtle", uids=trace(Engine.load(motor), "unit:SN-M2311-00042").uids)

    rows = [tuple("" if v is None else str(v.toPython() if isinstance(v, Literal) else v) for v in row)
            for row in graph.query(query.group(1))]
    assert rows == [(lot, qty, uom, supplier) for lot, qty, uom, supplier in table]


# ── the whole sample plant ──────────────────────────────────────────────────────
@pytest.mark.parametrize("fmt", WRITERS)
def test_whole_plant_validates_and_round_trips(small_plant: Store, tmp_path: Path, fmt: str) -> None:
    graph = export(small_plant, fmt)
    report = validate(graph)
    assert report.conforms, str(report)
    assert snapshot(copy_of(graph, tmp_path / "copy.db")) == snapshot(small_plant)

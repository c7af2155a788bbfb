"""The ontology, its SHACL shapes, and the RDF view of the store (exact round trip via Turtle and JSON-LD)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from rdflib import OWL, RDF, RDFS, Graph, Literal, URIRef
from rdflib.namespace import SH, SKOS
from rdflib.term import Node as Term

from zhuisu import ingest
from zhuisu.errors import NotFound, UnknownKind
from zhuisu.graph.rdf import from_rdf, iri, to_rdf
from zhuisu.graph.schema import aliases, edges, nodes
from zhuisu.graph.store import Store
from zhuisu.ingest.records import Batch, Edge, Node
from zhuisu.ontology import MATERIAL, ZS, load
from zhuisu.ontology.shacl import SHAPES, ZSH, Report, shapes_graph, validate

T0 = datetime(2023, 11, 3, 8, 15, 0, 123000)
DL = "https://id.gs1.org/01/06901234000017/21/SN-M2311-00042"


# ── the ontology ────────────────────────────────────────────────────────────────
def zs_terms(graph: Graph, kind: URIRef) -> set[URIRef]:
    return {s for s in graph.subjects(RDF.type, kind) if isinstance(s, URIRef) and s.startswith(str(ZS))}


def test_every_class_and_property_has_chinese_and_english_labels() -> None:
    graph = load().graph
    kinds = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty)
    for term in set().union(*(zs_terms(graph, kind) for kind in kinds)):
        langs = {lit.language for lit in graph.objects(term, RDFS.label) if isinstance(lit, Literal)}
        assert {"zh", "en"} <= langs, term


def test_relations_name_a_flow_and_existing_classes() -> None:
    graph = load().graph
    classes = zs_terms(graph, OWL.Class)
    for prop in zs_terms(graph, OWL.ObjectProperty):
        assert {str(f) for f in graph.objects(prop, ZS.flow)} in ({"material"}, {"context"}), prop
        for end in (ZS["from"], ZS.to):
            named = set(graph.objects(prop, end))
            assert named and named <= classes, (prop, end, named - classes)


def test_uid_prefixes_are_unique_lowercase_words() -> None:
    graph = load().graph
    prefixes = [str(p) for p in graph.objects(None, ZS.uidPrefix)]
    assert len(prefixes) == len(set(prefixes))
    assert all(p.isascii() and p.isalpha() and p.islower() for p in prefixes)  # what the uid shape expects


def test_model_is_derived_from_the_turtle() -> None:
    onto = load()
    graph = onto.graph
    classes = zs_terms(graph, OWL.Class)
    assert {k.iri for k in onto.kinds.values()} == classes
    for kind in onto.kinds.values():
        assert set(kind.synonyms) == {str(s) for s in graph.objects(kind.iri, SKOS.altLabel)}
    assert len(onto.by_prefix) == sum(1 for c in classes if graph.value(c, ZS.uidPrefix) is not None)
    assert {r.iri for r in onto.relations.values()} == zs_terms(graph, OWL.ObjectProperty)
    for rel in onto.relations.values():
        assert rel.sources == {str(c).removeprefix(str(ZS)) for c in graph.objects(rel.iri, ZS["from"])}
        assert rel.targets == {str(c).removeprefix(str(ZS)) for c in graph.objects(rel.iri, ZS.to)}
    assert onto.kinds["Line"].prefix == "equipment" and onto.is_a("Line", "Equipment")
    assert {r.name for r in onto.relations.values() if r.flow == MATERIAL} == {
        "supplies", "consumedBy", "produces", "containedIn", "shippedIn", "shippedTo"}


def test_every_label_and_synonym_names_one_kind_or_relation() -> None:
    onto = load()
    for item in [*onto.kinds.values(), *onto.relations.values()]:
        for label in (item.name, item.label_zh, item.label_en, *item.synonyms):
            assert onto.canonical(label) == item.name, (label, item.name)


@pytest.mark.parametrize(("said", "meant"), [
    ("根因", "Cause"), ("纠正措施", "Action"), ("故障现象", "Symptom"), ("异常现象", "Symptom"),
    ("不良", "Defect"), ("失效模式", "Defect"), ("报修单", "MaintenanceOrder"), ("易损件", "SparePart"),
    ("客诉", "Complaint"), ("IQC", "Inspection"), (" Batch ", "MaterialLot"), ("投料", "consumedBy"),
    ("表现为", "reportsSymptom"),
])
def test_synonyms_used_on_the_shop_floor_resolve(said: str, meant: str) -> None:
    assert load().canonical(said) == meant


# ── SHACL shapes ────────────────────────────────────────────────────────────────
def test_shapes_file_only_uses_declared_properties() -> None:
    declared = zs_terms(load().graph, OWL.DatatypeProperty) | zs_terms(load().graph, OWL.ObjectProperty)
    used = {p for p in Graph().parse(SHAPES).objects(None, SH.path) if str(p).startswith(str(ZS))}
    assert used <= declared, used - declared


def classes(shapes: Graph, shape: Term) -> set[str]:
    """The classes that a generated shape's sh:class or sh:or of sh:class allows."""
    either = shapes.value(shape, SH["or"])
    members = [shape] if either is None else list(shapes.items(either))
    return {str(shapes.value(m, SH["class"])).removeprefix(str(ZS)) for m in members}


def test_relation_shapes_are_generated_from_from_and_to() -> None:
    onto, shapes = load(), shapes_graph()
    for rel in onto.relations.values():
        shape = shapes.value(predicate=SH.targetSubjectsOf, object=rel.iri)
        assert shape is not None, rel.name
        assert classes(shapes, shape) == rel.sources
        objects = next(p for p in shapes.objects(shape, SH.property) if (p, SH.path, rel.iri) in shapes)
        assert classes(shapes, objects) == rel.targets
    targeted = set(shapes.objects(ZSH.Node, SH.targetClass))
    assert targeted == {k.iri for k in onto.kinds.values()}


# ── a hand-built plant ──────────────────────────────────────────────────────────
def plant() -> Batch:
    t = T0
    return Batch(
        source="test",
        nodes=[
            Node("supplier:SUP-03", name="宁波恒磁磁业有限公司", attrs={"country": "中国"}),
            Node("customer:C-07", name="华东汽车主机厂"),
            Node("material:M-MAG", name="磁钢", attrs={"category": "raw", "uom": "ea"}),
            Node("lot:CG2311-0007", name="磁钢 CG2311-0007",
                 attrs={"quantity": 1000.0, "uom": "ea", "supplier_lot": "HC-231101"}),
            Node("unit:SN-M2311-00042", name="电机 SN-M2311-00042", aliases=(DL,)),
            Node("equipment:LINE-1", kind="Line", name="一号总装线"),
            Node("equipment:PRESS-02", kind="EquipmentUnit", name="2号压装机",
                 aliases=("2号压装机", "#2压机")),
            Node("op:PF-00042", name="压装", attrs={"step": "压装", "started_at": "2023-11-03T08:15:00"}),
            Node("param:PF-FORCE", name="压装力", attrs={"lsl": 1.5, "usl": 2.5, "target": 2, "unit": "kN"}),
            Node("inspection:EOL-00042", name="EOL测试", attrs={"result": "fail", "value": 0.35}),
            Node("defect:D-NOISE", name="异响"),
            Node("mo:MO-2311-015",
                 attrs={"text": "2号压装机压力传感器读数漂移，校准后恢复正常", "downtime_h": 1.5}),
            Node("symptom:读数漂移", name="读数漂移"),
            Node("shipment:SH-1103", name="发货 SH-1103"),
        ],
        edges=[
            Edge("supplier:SUP-03", "supplies", "lot:CG2311-0007", quantity=1000, uom="ea"),
            Edge("lot:CG2311-0007", "instanceOf", "material:M-MAG"),
            Edge("lot:CG2311-0007", "consumedBy", "op:PF-00042", time=t, quantity=2, uom="ea"),
            Edge("op:PF-00042", "produces", "unit:SN-M2311-00042", time=t, quantity=1, uom="ea"),
            Edge("op:PF-00042", "performedOn", "equipment:PRESS-02", time=t),
            Edge("op:PF-00042", "performedBy", "operator:OP017"),  # stub: kind from the uid prefix
            Edge("equipment:PRESS-02", "partOf", "equipment:LINE-1"),
            Edge("op:PF-00042", "measured", "param:PF-FORCE", time=t, key="PF-00042#1",
                 attrs={"value": 2.1, "out_of_spec": False}),
            Edge("op:PF-00042", "measured", "param:PF-FORCE", time=t + timedelta(seconds=1), key="PF-00042#2",
                 attrs={"value": 2.6, "out_of_spec": True}),
            Edge("inspection:EOL-00042", "inspects", "unit:SN-M2311-00042", time=t + timedelta(minutes=40)),
            Edge("inspection:EOL-00042", "foundDefect", "defect:D-NOISE"),
            Edge("mo:MO-2311-015", "maintains", "equipment:PRESS-02", time=t - timedelta(days=1)),
            Edge("mo:MO-2311-015", "reportsSymptom", "symptom:读数漂移"),
            Edge("unit:SN-M2311-00042", "shippedIn", "shipment:SH-1103", time=t + timedelta(days=2),
                 key="EV-9"),
            Edge("shipment:SH-1103", "shippedTo", "customer:C-07", time=t + timedelta(days=2)),
        ],
    )


@pytest.fixture
def plant_store(tmp_path: Path) -> Store:
    store = Store(str(tmp_path / "z.db"))
    store.ingest(plant())
    return store


def test_hand_built_plant_conforms(plant_store: Store) -> None:
    report = validate(to_rdf(plant_store))
    assert report.conforms, str(report)
    assert report.violations == ()


def find(report: Report, focus: str, path: str | None) -> list[str]:
    return [v.message for v in report.violations if v.focus == focus and v.path == path]


def test_wrong_data_is_reported_by_node_and_path(plant_store: Store) -> None:
    graph = to_rdf(plant_store)
    customer, lot, op = iri("customer:C-07"), iri("lot:CG2311-0007"), iri("op:PF-00042")
    graph.add((customer, ZS.consumedBy, op))  # a customer is not material
    graph.add((lot, ZS.consumedBy, iri("supplier:SUP-03")))  # nor is a supplier an operation
    graph.set((iri("inspection:EOL-00042"), ZS.result, Literal("maybe")))
    graph.add((iri("defect:D-NOISE"), ZS.uid, Literal("defect:D-NOISE-2")))
    graph.set((lot, ZS.quantity, Literal(-5)))
    graph.remove((iri("mo:MO-2311-015"), ZS.text, None))
    graph.add((iri("equipment:LINE-1"), ZS.uid, Literal("lot:LINE-1")))
    graph.set((iri("param:PF-FORCE"), ZS.lsl, Literal(3)))

    report = validate(graph)

    assert not report.conforms
    assert any("起点" in m and "MaterialLot" in m for m in find(report, "customer:C-07", "zs:consumedBy"))
    assert any("终点" in m and "Operation" in m for m in find(report, "lot:CG2311-0007", "zs:consumedBy"))
    assert [v.value for v in report.violations if v.focus == "inspection:EOL-00042"] == ["maybe"]
    assert find(report, "defect:D-NOISE", "zs:uid")
    assert find(report, "lot:CG2311-0007", "zs:quantity")
    assert find(report, "mo:MO-2311-015", "zs:text")
    assert any("equipment:" in m for m in find(report, "equipment:LINE-1", "zs:uid"))
    assert find(report, "param:PF-FORCE", "zs:lsl")
    assert "customer:C-07 zs:consumedBy" in str(report)


def test_edge_statements_are_checked(plant_store: Store) -> None:
    graph = to_rdf(plant_store)
    reading = next(s for s in graph.subjects(ZS.key, Literal("PF-00042#1")))
    graph.set((reading, ZS.value, Literal("2,1")))  # a reading that is not a number
    shipping = next(s for s in graph.subjects(ZS.key, Literal("EV-9")))
    graph.set((shipping, RDF.predicate, ZS.name))  # not a relation

    report = validate(graph)

    assert [(v.focus, v.path, v.value) for v in report.violations] == [
        ("op:PF-00042 zs:measured param:PF-FORCE", "zs:value", "2,1"),
        ("unit:SN-M2311-00042 zs:name shipment:SH-1103", "rdf:predicate", "zs:name"),
    ]


def test_unknown_terms_are_refused(plant_store: Store) -> None:
    graph = to_rdf(plant_store)
    graph.add((iri("op:PF-00042"), ZS.madeBy, iri("operator:OP017")))
    with pytest.raises(UnknownKind, match="madeBy"):
        from_rdf(graph)


# ── the round trip ──────────────────────────────────────────────────────────────
def snapshot(store: Store) -> tuple[set[Any], set[Any]]:
    """Every node (uid, kind, name, attrs, aliases) and live edge (src, rel, dst, key, t, qty, uom, attrs)."""
    src, dst = nodes.alias("s"), nodes.alias("d")
    with store.engine.connect() as conn:
        names: dict[int, list[str]] = {}
        for node_id, alias in conn.execute(sa.select(aliases.c.node, aliases.c.alias)):
            names.setdefault(node_id, []).append(alias)
        node_set = {
            (r.uid, r.kind, r.name, canonical(r.attrs), tuple(sorted(names.get(r.id, []))))
            for r in conn.execute(sa.select(nodes))
        }
        q = (sa.select(src.c.uid, edges.c.rel, dst.c.uid.label("dst"), edges.c.key, edges.c.t, edges.c.qty,
                       edges.c.uom, edges.c.attrs)
             .join(src, src.c.id == edges.c.src).join(dst, dst.c.id == edges.c.dst)
             .where(edges.c.retracted.is_(None)))
        edge_set = {(*row[:7], canonical(row[7])) for row in conn.execute(q)}
    return node_set, edge_set


def canonical(attrs: str) -> str:
    return json.dumps(json.loads(attrs), sort_keys=True)


def awkward() -> Batch:
    """Records that a lossy scheme would get wrong: shared triples, odd uids, ms times, exact floats."""
    t = T0 + timedelta(milliseconds=877)
    return Batch(
        source="awkward",
        nodes=[
            Node("unit:88.1000.2/电机 #7%20/A", name="", attrs={
                "nested": {"a": [1, 2.5, None]}, "flag": True, "big": 2**53 + 1, "third": 1 / 3}),
            Node("lot:L-1", attrs={"quantity": 0.1, "uom": "kg", "text": "批注", "code": 7, "severity": True,
                                   "empty": {}}),
            Node("lot:L-2", name="二批", attrs={"quantity": 12, "value": "n/a"}),
        ],
        edges=[
            Edge("lot:L-1", "containedIn", "lot:L-2"),  # bare
            Edge("lot:L-1", "consumedBy", "op:X"),  # bare, shares its triple with a keyed one
            Edge("lot:L-1", "consumedBy", "op:X", key="EV-1", time=t, quantity=1e-7, uom="kg"),
            Edge("lot:L-2", "consumedBy", "op:X", attrs={"quantity": "3箱", "note": "返工"}),
            Edge("op:X", "produces", "unit:88.1000.2/电机 #7%20/A", quantity=123456789.123456789),
            Edge("op:X", "measured", "param:P", key="r", attrs={"value": -0.0}),
            Edge("lot:L-2", "shippedIn", "shipment:S", key="to-retract"),
        ],
    )


@pytest.mark.parametrize("fmt", ["turtle", "json-ld", "nt"])
def test_round_trip_through_rdf_is_exact(store: Store, tmp_path: Path, fmt: str) -> None:
    store.ingest(plant())
    store.ingest(awkward())
    store.ingest(Batch(source="error declaration", retract=["to-retract"]))
    text = to_rdf(store).serialize(format=fmt)

    batch = from_rdf(Graph().parse(data=text, format=fmt))
    copy = Store(str(tmp_path / "copy.db"))
    copy.ingest(batch)

    assert snapshot(copy) == snapshot(store)
    assert ("lot:L-2", "shippedIn", "shipment:S") not in {e[:3] for e in snapshot(copy)[1]}
    assert validate(Graph().parse(data=text, format=fmt)).conforms
    assert copy.ingest(from_rdf(Graph().parse(data=text, format=fmt))).skipped  # same graph, same batch


def test_selected_nodes_and_the_edges_among_them(plant_store: Store) -> None:
    graph = to_rdf(plant_store, uids=["lot:CG2311-0007", "op:PF-00042", "equipment:PRESS-02"])
    assert set(graph.objects(None, ZS.uid)) == {Literal(u) for u in ("lot:CG2311-0007", "op:PF-00042",
                                                                         "equipment:PRESS-02")}
    batch = from_rdf(graph)
    assert {(e.src, e.rel, e.dst) for e in batch.edges} == {
        ("lot:CG2311-0007", "consumedBy", "op:PF-00042"),
        ("op:PF-00042", "performedOn", "equipment:PRESS-02"),
    }
    with pytest.raises(NotFound, match="lot:NOPE"):
        to_rdf(plant_store, uids=["lot:NOPE"])


def test_large_store_is_read_page_by_page(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "big.db"))
    n = 1234  # more than two pages
    store.ingest(Batch(
        source="big",
        nodes=[Node(f"lot:L{i:05d}", name=f"批次{i}") for i in range(n)],
        edges=[Edge(f"lot:L{i:05d}", "containedIn", f"lot:L{i + 1:05d}", key=f"k{i}") for i in range(n - 1)],
    ))
    graph = to_rdf(store)
    assert len(set(graph.subjects(ZS.uid, None))) == n
    assert len(list(graph.subject_objects(ZS.containedIn))) == n - 1
    assert len(from_rdf(graph).edges) == n - 1


# ── the generated sample plant ──────────────────────────────────────────────────
@pytest.mark.slow
def test_generated_sample_plant_validates_and_round_trips(tmp_path: Path) -> None:
    from zhuisu.samples import generate  # here, so that the ontology tests never depend on the generator

    folder = tmp_path / "m"
    generate("motor", units=200, seed=3, out=folder)
    store = Store(str(tmp_path / "z.db"))
    for batch in ingest.plan(folder):
        store.ingest(batch)

    graph = to_rdf(store)
    report = validate(graph)
    copy = Store(str(tmp_path / "copy.db"))
    copy.ingest(from_rdf(graph))

    assert report.conforms, str(report)
    assert snapshot(copy) == snapshot(store)

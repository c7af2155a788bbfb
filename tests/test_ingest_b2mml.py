"""ISA-95 B2MML V0401 (Courbon examples) and V0700 documents → records in a real SQLite store."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from lxml import etree

from zhuisu.errors import BadInput
from zhuisu.graph.schema import edges, nodes
from zhuisu.graph.store import Store
from zhuisu.ingest import b2mml

from .conftest import REPO, SHARED

COURBON = SHARED / "standards" / "b2mml" / "courbon-v0401-examples"
DATA = REPO / "tests" / "data" / "b2mml"
V0700_DOC = DATA / "v0700-operations-performance.xml"
V0401_NESTED = DATA / "v0401-nested-segments.xml"
V0700_MATERIAL = DATA / "v0700-material-information.xml"
FLOW = {"consumedBy", "produces", "containedIn"}
CST = timezone(timedelta(hours=8))

PRESS = "op:b2mml:WO2311-007-R1/SR 10 压装"  # the ID "  SR 10   压装 " with its whitespace collapsed
ASSY = "op:b2mml:WO2311-007-R1/SR-20"
GREASE = "lot:b2mml:WO2311-007-R1/SR 10 压装/MA-3"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(str(tmp_path / "z.db"))
    yield s
    s.close()


def ingest(store: Store, *paths: Path) -> None:
    for path in paths:
        for batch in b2mml.read(path):
            store.ingest(batch)


def edge_set(store: Store, rels: set[str]) -> set[tuple[Any, ...]]:
    """``(src uid, rel, dst uid, quantity, uom)`` of the stored edges with these relations."""
    src, dst = nodes.alias("s"), nodes.alias("d")
    q = (
        sa.select(src.c.uid, edges.c.rel, dst.c.uid, edges.c.qty, edges.c.uom)
        .join(src, src.c.id == edges.c.src)
        .join(dst, dst.c.id == edges.c.dst)
        .where(edges.c.rel.in_(sorted(rels)))
    )
    with store.engine.connect() as conn:
        return {tuple(row) for row in conn.execute(q)}


def forward(store: Store, start: str) -> set[str]:
    """Every uid a forward trace reaches from ``start`` along material-flow edges, in their direction."""
    uid = {row.id: row.uid for row in store.node_rows()}
    out: dict[int, list[int]] = {}
    for row in store.edge_rows():
        if store.ontology.relations[row.rel].material:
            out.setdefault(row.src, []).append(row.dst)
    seen: set[int] = set()
    todo = [store.node(start).id]
    while todo:
        for nxt in out.get(todo.pop(), []):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return {uid[i] for i in seen}


# ── V0401: the Courbon example set ───────────────────────────────────────────
@pytest.mark.parametrize("path", sorted(COURBON.glob("*.xml")), ids=lambda p: p.name[:3])
def test_every_courbon_document_ingests(store: Store, path: Path) -> None:
    (batch,) = b2mml.read(path)
    assert batch.source == f"b2mml:{path.name}"
    result = store.ingest(batch)
    assert not result.skipped and result.nodes_added > 0


def test_courbon_production_performance_genealogy(store: Store) -> None:
    ingest(store, *COURBON.glob("PES-*.xml"))
    op = "op:b2mml:53107/Weighing"
    assert edge_set(store, FLOW) == {
        ("unit:430147330000056734", "consumedBy", op, 0.41, "KG"),
        ("lot:CRBN0001_LOT01", "containedIn", "unit:430147330000056734", None, None),
    }
    assert edge_set(store, {"instanceOf"}) == {
        ("lot:CRBN0001_LOT01", "instanceOf", "material:CRBN0001", None, None),
        ("unit:430147330000056734", "instanceOf", "material:CRBN0001", None, None),
    }
    weighing = store.node(op)
    assert (weighing.kind, weighing.name) == ("Operation", "Weighing")
    assert weighing.attrs == {"response": "53107", "step": "Weighing"}
    with store.engine.connect() as conn:
        (attrs,) = conn.execute(sa.select(edges.c.attrs).where(edges.c.rel == "consumedBy")).scalars()
    assert json.loads(attrs) == {"use": "Consumed", "EmptyFlag": "0", "Indice": "0010", "CompleteFlag": "0"}
    assert store.node("unit:430147330000056734").kind == "SerialUnit"


def test_courbon_material_documents(store: Store) -> None:
    ingest(store, *sorted(COURBON.glob("*.xml")))
    material = store.node("material:CRBN0001")
    assert (material.kind, material.name) == ("Material", "Product Courbon0001")
    assert material.attrs == {"BaseUnitOfMeasure": "KG", "HazardousMaterialWarning": ["C", "XN"]}
    lot = store.node("lot:CRBN0001_LOT01")
    assert lot.kind == "MaterialLot"
    assert lot.attrs == {"status": "Valid", "ExpiryDate": "2013-12-08T00:00:00.0Z"}
    sublot = store.node("unit:CRBN0001_LOT01_01")
    assert sublot.attrs == {"status": "NotValid", "quantity": 24.91, "uom": "KG"}
    order = store.node("wo:258456")
    assert (order.kind, order.attrs) == ("WorkOrder", {"product": "SO1215", "quantity": 1.0, "uom": "KG"})
    # A schedule is a plan: its planned lots and sublots draw no genealogy.
    assert "unit:412345670000003212" not in {row.uid for row in store.node_rows()}


def test_forward_trace_from_a_lot_reaches_its_sublots(store: Store) -> None:
    ingest(store, *sorted(COURBON.glob("*.xml")))
    assert forward(store, "lot:CRBN0001_LOT01") == {
        "unit:CRBN0001_LOT01_01",
        "unit:430147330000056734",
        "op:b2mml:53107/Weighing",
    }


# ── V0700 ─────────────────────────────────────────────────────────────────────
def test_fixtures_are_valid_against_their_xsd() -> None:
    for version, path in [("V0700", V0700_DOC), ("V0700", V0700_MATERIAL), ("V0401", V0401_NESTED)]:
        xsd = b2mml.schema(version)
        assert xsd.validate(etree.parse(str(path))), xsd.error_log


def test_v0700_operations_performance_genealogy(store: Store) -> None:
    ingest(store, V0700_DOC)
    assert edge_set(store, FLOW) == {
        ("lot:ML2311-0042", "consumedBy", PRESS, 120.0, "EA"),
        ("lot:ML2311-0107", "containedIn", "unit:ML2311-0107-03", None, None),
        ("unit:ML2311-0107-03", "consumedBy", PRESS, 60.0, "EA"),
        (GREASE, "consumedBy", PRESS, 0.35, "KG"),
        (PRESS, "produces", "lot:RA2311-0003", 60.0, "EA"),
        ("lot:RA2311-0003", "consumedBy", ASSY, 2.0, "EA"),
        ("lot:ML2311-0201", "consumedBy", ASSY, 2.0, "EA"),
        ("lot:MO2311-0001", "containedIn", "unit:SN-M2311-00041", None, None),
        ("lot:MO2311-0001", "containedIn", "unit:SN-M2311-00042", None, None),
        (ASSY, "produces", "unit:SN-M2311-00041", 1.0, "EA"),
        (ASSY, "produces", "unit:SN-M2311-00042", 1.0, "EA"),
        ("lot:ST2311-0009", "consumedBy", ASSY, 1.0, "EA"),  # an AssemblyActual of SN-M2311-00041
    }
    assert forward(store, "lot:ML2311-0042") == {PRESS, "lot:RA2311-0003", ASSY,
                                                   "unit:SN-M2311-00041", "unit:SN-M2311-00042"}


def test_v0700_operation_context(store: Store) -> None:
    ingest(store, V0700_DOC)
    press = store.node(PRESS)
    assert press.name == "转子轴承压装"
    assert press.attrs == {
        "operations_type": "Production", "response": "WO2311-007-R1", "step": "压装", "state": "Completed",
        "location": "LINE-02", "personnel_class": ["压装工"],
        "started_at": "2023-11-03T08:15:00+08:00", "ended_at": "2023-11-03T09:40:00+08:00",
    }
    context = edge_set(store, {"performedOn", "performedBy", "usedTool", "forWorkOrder", "measured"})
    assert {(s, r, d) for s, r, d, _, _ in context} == {
        (PRESS, "performedOn", "equipment:PRESS-02"), (PRESS, "performedBy", "operator:OP-0815"),
        (PRESS, "usedTool", "tool:FIX-17"), (PRESS, "forWorkOrder", "wo:WO2311-007"),
        (PRESS, "measured", "param:压装力"), (PRESS, "measured", "param:保压时间"),
        (ASSY, "performedOn", "equipment:ASSY-L2-01"), (ASSY, "performedBy", "operator:OP-0932"),
        (ASSY, "forWorkOrder", "wo:WO2311-007"),
    }
    (batch,) = b2mml.read(V0700_DOC)
    force = next(e for e in batch.edges if e.dst == "param:压装力")
    assert (force.attrs, force.uom) == ({"value": 12.6}, "kN")
    assert force.time == datetime(2023, 11, 3, 9, 40, tzinfo=CST)
    assert store.node("param:压装力").attrs == {"unit": "kN"}
    consumed = next(e for e in batch.edges if e.rel == "consumedBy" and e.src == "lot:ML2311-0042")
    assert consumed.time == datetime(2023, 11, 3, 8, 15, tzinfo=CST)
    assert consumed.key == "b2mml:WO2311-007-R1/SR 10 压装/MA-1"
    stator = next(e for e in batch.edges if e.rel == "consumedBy" and e.src == "lot:ST2311-0009")
    assert stator.key == "b2mml:WO2311-007-R1/SR-20/MA-3/ASM-1"
    grease = store.node(GREASE)
    assert (grease.kind, grease.name, grease.attrs) == ("MaterialLot", "GREASE-2 未命名批次 unnamed lot",
                                                        {"unnamed": True})
    kinds = edge_set(store, {"instanceOf"})
    assert ("unit:ML2311-0107-03", "instanceOf", "material:SHAFT-A", None, None) in kinds


def test_v0700_material_information(store: Store) -> None:
    ingest(store, V0700_MATERIAL, V0700_DOC)
    bearing = store.node("material:BRG-6204")
    assert bearing.name == "深沟球轴承 6204"  # the Chinese description is preferred
    assert bearing.attrs == {"尺寸/内径": 20, "尺寸/内径.uom": "mm", "material_class": ["轴承"]}
    lot = store.node("lot:ML2311-0042")
    assert lot.attrs == {"供应商批号": "HX-231028-7", "status": "已检验", "disposition": "UnRestricted",
                         "quantity": 1000.0, "uom": "EA"}
    assert store.node("unit:ML2311-0042-01-A").attrs == {"quantity": 250.0, "uom": "EA"}
    assert forward(store, "lot:ML2311-0042") >= {"unit:ML2311-0042-01", "unit:ML2311-0042-01-A", PRESS,
                                                  "unit:SN-M2311-00042"}


def test_v0401_nested_segments_and_element_variants(store: Store) -> None:
    ingest(store, V0401_NESTED)
    past, fill = "op:b2mml:WO2311-011 R1/S1", "op:b2mml:WO2311-011 R1/S1/#1"
    packaging = "lot:b2mml:WO2311-011 R1/S1/#1/4"
    assert edge_set(store, FLOW) == {
        ("lot:RM231104-01", "consumedBy", past, 5000.0, "KG"),
        (past, "produces", "lot:PB231104-01", 4950.0, "KG"),
        ("lot:PB231104-01", "consumedBy", fill, 4950.0, "KG"),
        (fill, "produces", "lot:FG231104-A", 19800.0, "EA"),
        (packaging, "consumedBy", fill, 20000.0, "EA"),  # ConsumableActual without a lot
    }  # the MaterialUse "Other" actual moves no material
    filling = store.node(fill)
    assert filling.name == "灌装"
    assert filling.attrs["parent"] == "WO2311-011 R1/S1" and filling.attrs["equipment_class"] == ["灌装机"]
    measured = {(d, q) for _, _, d, q, _ in edge_set(store, {"measured"})}
    assert measured == {("param:杀菌温度", None), ("param:杀菌温度/保温时间", None)}
    kinds = edge_set(store, {"instanceOf"})
    assert ("lot:FG231104-A", "instanceOf", "material:MILK-250", None, None) in kinds


# ── errors and idempotency ───────────────────────────────────────────────────
def _broken(tmp_path: Path, old: str, new: str, source: Path = V0700_DOC) -> Path:
    path = tmp_path / "broken.xml"
    path.write_text(source.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")
    return path


def _line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if text in line)


def test_invalid_document_names_file_line_and_element(store: Store, tmp_path: Path) -> None:
    path = _broken(tmp_path, "<MaterialUse>Produced</MaterialUse>", "<MaterialUse>Eaten</MaterialUse>")
    with pytest.raises(BadInput) as info:
        ingest(store, path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}:{_line_of(path, 'Eaten')}: ")
    assert "<MaterialUse>" in message and "'Eaten'" in message and "V0700" in message
    assert store.counts() == {"batches": 0, "nodes": 0, "aliases": 0, "edges": 0}


@pytest.mark.parametrize(
    ("old", "new", "expect", "marker"),
    [
        ("<QuantityString>0.35</QuantityString>", "<QuantityString>约0.35</QuantityString>",
         "<QuantityString>", "约0.35"),
        ("</MaterialUse>\n", "</MaterialUse>\n<Bogus/>\n", "<Bogus>", "<Bogus/>"),
        ("<Sync/>", "<Sync/", "malformed XML", None),
    ],
    ids=["not-a-number", "unknown-element", "malformed"],
)
def test_bad_content_is_one_line_with_its_line(store: Store, tmp_path: Path, old: str, new: str,
                                               expect: str, marker: str | None) -> None:
    path = _broken(tmp_path, old, new)
    with pytest.raises(BadInput) as info:
        ingest(store, path)
    where, _, message = str(info.value).partition(": ")
    assert where.startswith(f"{path}:") and where.rsplit(":", 1)[1].isdigit()
    assert "\n" not in message and expect in message
    if marker:
        assert where == f"{path}:{_line_of(path, marker)}"
    assert store.counts()["nodes"] == 0


def test_unsupported_documents_are_refused(tmp_path: Path) -> None:
    other = tmp_path / "v0600.xml"
    other.write_text('<SyncMaterialInformation xmlns="http://www.mesa.org/xml/B2MML-V0600" releaseID="1"/>')
    with pytest.raises(BadInput, match="unsupported namespace"):
        list(b2mml.read(other))
    get = _broken(tmp_path, "<Sync/>", "<Get/>")
    with pytest.raises(BadInput, match="<Get>"):
        list(b2mml.read(get))
    equipment = tmp_path / "equipment.xml"
    equipment.write_text(
        '<SyncEquipmentInformation xmlns="http://www.mesa.org/xml/B2MML" releaseID="7.0">\n'
        "<ApplicationArea><CreationDateTime>2023-11-01T09:00:00+08:00</CreationDateTime></ApplicationArea>\n"
        "<DataArea><Sync/>\n<!-- 设备主数据 -->\n<EquipmentInformation><ID>L2</ID></EquipmentInformation>\n"
        "</DataArea></SyncEquipmentInformation>\n",
        encoding="utf-8",
    )
    with pytest.raises(BadInput, match=r"equipment.xml:5: .*unsupported noun <EquipmentInformation>"):
        list(b2mml.read(equipment))


def test_reingest_changes_nothing(store: Store) -> None:
    paths = [*sorted(COURBON.glob("*.xml")), V0700_DOC, V0700_MATERIAL, V0401_NESTED]
    ingest(store, *paths)
    before = store.counts()
    ingest(store, *paths)
    assert store.counts() == before and before["batches"] == len(paths)


def test_shipped_schemas_are_unchanged_copies() -> None:
    """The XSDs shipped in the package are byte-identical to the standards in shared/."""
    from zhuisu.ingest.b2mml import SCHEMAS

    shared = SHARED / "standards" / "b2mml"
    shipped = sorted(SCHEMAS.glob("*/*.xsd"))
    assert len(shipped) > 40
    for xsd in shipped:
        assert xsd.read_bytes() == (shared / xsd.parent.name / xsd.name).read_bytes(), xsd.name

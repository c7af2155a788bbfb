"""ISA-95 B2MML (V0401 and V0700) documents → canonical records, one batch per document.

The mapping (docs/formats.md, "B2MML"):

- MaterialDefinition → ``material:ID`` (Material) with its properties and material classes as attributes;
  the lots it lists are ``instanceOf`` it.
- MaterialLot → ``lot:ID`` (MaterialLot), ``instanceOf`` its MaterialDefinitionID, with status, quantity, uom
  and properties. MaterialSubLot → ``unit:ID`` (SerialUnit, the ontology's ISA-95 MaterialSubLot) and
  ``lot containedIn unit``: a sublot holds a portion of its lot, the way an EPCIS aggregation puts a
  quantity of a lot into a container, so material flows from the lot into the sublot and a forward
  trace from the lot reaches every sublot and what consumed it.
- SegmentResponse → ``op:b2mml:<response ID>/<segment ID>`` (Operation) with its times; EquipmentActual →
  ``performedOn``, PersonnelActual → ``performedBy``, PhysicalAssetActual → ``usedTool``, the request it
  answers → ``forWorkOrder``; ProductionData / SegmentData → ``measured`` op → ``param:ID`` (value on the
  edge, the unit on the parameter too); MaterialActual consumed → ``consumedBy`` item → op, produced →
  ``produces`` op → item, with its quantity. The item is the sublot when one is named, else the lot,
  else an unnamed lot of the material.
- ProductionRequest / OperationsRequest → ``wo:ID`` (WorkOrder) with its planned product and times.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from lxml import etree

from zhuisu.errors import BadInput, ZhuisuError
from zhuisu.ingest.b2mml_model import (
    CONSUMED,
    PRODUCED,
    Document,
    Lot,
    MaterialActual,
    Segment,
    SubLot,
    read_document,
)
from zhuisu.ingest.records import Batch, Edge, Node

V0401 = "http://www.wbf.org/xml/B2MML-V0401"
V0700 = "http://www.mesa.org/xml/B2MML"
VERSIONS = {V0401: "V0401", V0700: "V0700"}
SCHEMAS = Path(__file__).with_name("schemas") / "b2mml"  # shipped copies: see schemas/b2mml/NOTICE.md
_XSD = "http://www.w3.org/2001/XMLSchema"


def read(path: Path, **_: Any) -> Iterator[Batch]:
    """The canonical records of one B2MML document, as one batch."""
    yield to_batch(load(path), source=f"b2mml:{path.name}")


def load(path: Path) -> Document:
    """Parse, validate and read one B2MML document."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True, remove_pis=True)
    try:
        tree = etree.parse(str(path), parser)
    except etree.XMLSyntaxError as exc:
        raise BadInput(f"XML 格式错误 malformed XML: {exc.msg}", where=f"{path}:{exc.lineno}") from None
    except OSError as exc:
        raise BadInput(f"无法读取 cannot read: {exc}", where=str(path)) from None
    root = tree.getroot()
    namespace = etree.QName(root).namespace or ""
    version = VERSIONS.get(namespace)
    if version is None:
        known = ", ".join(f"{v} ({ns})" for ns, v in VERSIONS.items())
        raise BadInput(f"不支持的 B2MML 版本 unsupported namespace {namespace!r}; supported: {known}",
                       where=f"{path}:{root.sourceline}")
    _validate(path, tree, version)
    return read_document(path, root, version)


# ── validation ────────────────────────────────────────────────────────────────
@cache
def schema(version: str) -> etree.XMLSchema:
    """The compiled XSD of a B2MML version, from the shared standards folder."""
    if version == "V0700":
        top = SCHEMAS / "V0700-Schema" / "AllSchemas.xsd"
        if not top.is_file():
            raise _missing(top)
        return etree.XMLSchema(etree.parse(str(top)))
    folder = SCHEMAS / "V0401-Schema"
    # V0401 ships no all-in-one schema: include every B2MML noun schema into one. The extension
    # schemas live in their own namespace and are imported by the nouns themselves.
    files = sorted(p.name for p in folder.glob("B2MML-V0401-*.xsd") if "Extensions" not in p.name)
    if not files:
        raise _missing(folder)
    top = etree.Element(f"{{{_XSD}}}schema", targetNamespace=V0401, elementFormDefault="qualified",
                        nsmap={"xsd": _XSD})
    etree.SubElement(top, f"{{{_XSD}}}import", namespace=f"{V0401}-AllExtensions",
                     schemaLocation="B2MML-V0401-AllExtensions.xsd")
    for name in files:
        etree.SubElement(top, f"{{{_XSD}}}include", schemaLocation=name)
    return etree.XMLSchema(etree.fromstring(etree.tostring(top), base_url=(folder / "all.xsd").as_uri()))


def _missing(where: Path) -> ZhuisuError:
    return ZhuisuError(f"B2MML 模式文件缺失 schema files not found at {where}; the b2mml adapter validates "
                       "against the XSDs in zhuisu/ingest/schemas/b2mml; reinstall zhuisu")


def _validate(path: Path, tree: etree._ElementTree, version: str) -> None:
    xsd = schema(version)
    if xsd.validate(tree):
        return
    root_line = tree.getroot().sourceline
    # The envelope's releaseID names the BOD release and carries no data; the Courbon V0401 example
    # set omits it on its ProductionPerformance, so its absence alone does not reject a document.
    errors = [e for e in xsd.error_log
              if not (e.line == root_line and "'releaseID' is required but missing" in e.message)]
    if not errors:
        return
    first = errors[0]
    message = re.sub(r"\{[^}'\s]+\}", "", first.message)  # namespaces, not the enumeration sets
    match = re.match(r"Element '([^']+)'(?:, attribute '[^']+')?: (.*)", message)
    element, detail = (match.group(1), match.group(2)) if match else ("?", message)
    more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
    raise BadInput(f"B2MML {version} 校验失败 invalid at element <{element}>: {detail}{more}",
                   where=f"{path}:{first.line}")


# ── mapping ───────────────────────────────────────────────────────────────────
def to_batch(doc: Document, source: str) -> Batch:
    """Map a read document onto canonical records."""
    batch = Batch(source=source)
    for definition in doc.definitions:
        uid = f"material:{definition.id}"
        attrs = dict(definition.properties)
        if definition.classes:
            attrs["material_class"] = definition.classes
        batch.nodes.append(Node(uid, "Material", definition.name, attrs))
        batch.edges += [Edge(f"lot:{lot}", "instanceOf", uid) for lot in definition.lots]
    for lot in doc.lots:
        _lot(batch, lot)
    for sublot in doc.sublots:
        _sublot(batch, sublot, f"lot:{sublot.lot}" if sublot.lot else None, None)
    for segment in doc.segments:
        _segment(batch, segment)
    for request in doc.requests:
        batch.nodes.append(Node(f"wo:{request.id}", "WorkOrder", request.name, request.attrs))
    # A lot named by several MaterialActuals is linked to its material and sublots once.
    unique: dict[tuple[str, str, str, str], Edge] = {}
    for edge in batch.edges:
        unique.setdefault((edge.src, edge.rel, edge.dst, edge.key), edge)
    batch.edges = list(unique.values())
    return batch


def _lot(batch: Batch, lot: Lot) -> None:
    uid = f"lot:{lot.id}"
    batch.nodes.append(Node(uid, "MaterialLot", lot.name, lot.attrs))
    if lot.definition:
        batch.edges.append(Edge(uid, "instanceOf", f"material:{lot.definition}"))
    for sublot in lot.sublots:
        _sublot(batch, sublot, uid, lot.definition)


def _sublot(batch: Batch, sublot: SubLot, holder: str | None, definition: str | None) -> None:
    uid = f"unit:{sublot.id}"
    batch.nodes.append(Node(uid, "SerialUnit", sublot.name, sublot.attrs))
    if holder:
        batch.edges.append(Edge(holder, "containedIn", uid))
    if definition:
        batch.edges.append(Edge(uid, "instanceOf", f"material:{definition}"))
    for child in sublot.children:
        _sublot(batch, child, uid, definition)


def _segment(batch: Batch, seg: Segment) -> None:
    local = "/".join(seg.path)
    op = f"op:b2mml:{local}"
    attrs = dict(seg.attrs)
    if seg.start:
        attrs["started_at"] = seg.start.isoformat()
    if seg.end:
        attrs["ended_at"] = seg.end.isoformat()
    batch.nodes.append(Node(op, "Operation", seg.name, attrs))
    batch.edges += [Edge(op, "forWorkOrder", f"wo:{wo}") for wo in seg.work_orders]
    batch.edges += [Edge(op, "performedOn", f"equipment:{eq}", time=seg.start) for eq in seg.equipment]
    batch.edges += [Edge(op, "performedBy", f"operator:{person}", time=seg.start) for person in seg.persons]
    batch.edges += [Edge(op, "usedTool", f"tool:{asset}", time=seg.start) for asset in seg.assets]
    for n, data in enumerate(seg.data, 1):
        param = f"param:{data.id}"
        if data.uom:  # traces show a reading in its parameter's unit
            batch.nodes.append(Node(param, "ProcessParameter", attrs={"unit": data.uom}))
        batch.edges.append(Edge(op, "measured", param, time=seg.end or seg.start, uom=data.uom,
                                key=f"b2mml:{local}/data/{n}", attrs={"value": data.value}))
    for actual in seg.materials:
        _material(batch, seg, op, actual)


def _material(batch: Batch, seg: Segment, op: str, actual: MaterialActual) -> None:
    """Flow edges of one MaterialActual, plus the lot/sublot links and material it names."""
    local = "/".join(seg.path)
    items = [f"unit:{s}" for s in actual.sublots]
    lots = [f"lot:{lot}" for lot in actual.lots]
    if len(lots) == 1 and items:
        batch.edges += [Edge(lots[0], "containedIn", unit) for unit in items]
    else:
        # Several lots beside several sublots cannot be paired, so each is an item in its own right.
        items += lots
    if not items:
        # Material used without a lot or sublot ID (bulk, consumables) still flowed: record it as an
        # unnamed lot of its material, named after the segment and the MaterialActual.
        unnamed = f"lot:b2mml:{local}/{actual.key}"
        what = actual.definitions[0] if actual.definitions else "/".join(actual.classes) or "?"
        attrs: dict[str, Any] = {"unnamed": True}
        if actual.classes:
            attrs["material_class"] = actual.classes
        batch.nodes.append(Node(unnamed, "MaterialLot", f"{what} 未命名批次 unnamed lot", attrs))
        items = [unnamed]
    for item in dict.fromkeys([*items, *lots]):
        batch.edges += [Edge(item, "instanceOf", f"material:{d}") for d in actual.definitions]
    quantity = actual.quantity if len(items) == 1 else None
    common: dict[str, Any] = {
        "quantity": quantity.value if quantity else None,
        "uom": quantity.uom if quantity else None,
        "key": f"b2mml:{local}/{actual.key}",
        "attrs": {"use": actual.use, **actual.properties},
    }
    if actual.use in CONSUMED:
        batch.edges += [Edge(item, "consumedBy", op, time=seg.start or seg.end, **common) for item in items]
    elif actual.use in PRODUCED:
        batch.edges += [Edge(op, "produces", item, time=seg.end or seg.start, **common) for item in items]
    # Any other use (returned or retained samples, inventoried, none given) moves no material through
    # the operation, so the lots are known but no flow edge is drawn.

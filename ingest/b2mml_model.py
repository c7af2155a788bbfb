"""B2MML V0401 and V0700 documents read into one version-neutral model.

Elements are matched by local name (``{*}Name``), so the mapping to records is written once for both
namespaces; the few names V0700 changed (``OperationsResponse``, ``SegmentResponseChild``,
``SegmentData``…) are listed side by side below.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from lxml import etree

from zhuisu.errors import BadInput

CONSUMED = frozenset({"Consumed", "Material Consumed", "Consumable", "Destructive Sample"})
PRODUCED = frozenset({
    "Produced", "By-product Produced", "Co-product Produced", "Yield Produced", "Material Produced",
})
NOUNS = (
    "MaterialInformation", "MaterialClass", "MaterialDefinition", "MaterialLot", "MaterialSubLot",
    "ProductionPerformance", "OperationsPerformance", "ProductionResponse", "OperationsResponse",
    "ProductionSchedule", "OperationsSchedule", "ProductionRequest", "OperationsRequest",
)
_NUMBER_TYPES = {"decimal", "double", "float", "integer", "int", "long", "short", "byte", "number", "real"}


@dataclass(frozen=True, slots=True)
class Quantity:
    """A numeric quantity with its unit of measure."""

    value: float
    uom: str | None


@dataclass(slots=True)
class MaterialDefinition:
    """An ISA-95 material definition (what a lot is a lot of)."""

    id: str
    name: str | None = None
    classes: list[str] = field(default_factory=list)
    properties: dict[str, Any] = field(default_factory=dict)
    lots: list[str] = field(default_factory=list)


@dataclass(slots=True)
class SubLot:
    """A material sublot: a separately identified part of a lot (a container, a serial unit)."""

    id: str
    lot: str | None = None
    name: str | None = None
    attrs: dict[str, Any] = field(default_factory=dict)
    children: list[SubLot] = field(default_factory=list)


@dataclass(slots=True)
class Lot:
    """A material lot with its own sublots."""

    id: str
    definition: str | None = None
    name: str | None = None
    attrs: dict[str, Any] = field(default_factory=dict)
    sublots: list[SubLot] = field(default_factory=list)


@dataclass(slots=True)
class MaterialActual:
    """Material that one segment response used; ``key`` is its ID, or its position where it has none."""

    key: str
    use: str | None
    definitions: list[str]
    classes: list[str]
    lots: list[str]
    sublots: list[str]
    quantity: Quantity | None
    properties: dict[str, Any]


@dataclass(frozen=True, slots=True)
class DataValue:
    """One recorded process value of a segment (V0401 ProductionData, V0700 SegmentData)."""

    id: str
    value: Any
    uom: str | None


@dataclass(slots=True)
class Segment:
    """A performed segment response; ``path`` is the response ID then the segment IDs down to it."""

    path: tuple[str, ...]
    name: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    attrs: dict[str, Any] = field(default_factory=dict)
    work_orders: list[str] = field(default_factory=list)
    equipment: list[str] = field(default_factory=list)
    persons: list[str] = field(default_factory=list)
    assets: list[str] = field(default_factory=list)
    materials: list[MaterialActual] = field(default_factory=list)
    data: list[DataValue] = field(default_factory=list)


@dataclass(slots=True)
class Request:
    """A production / operations request: the order the plant was asked to run."""

    id: str
    name: str | None = None
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Document:
    """Everything this adapter reads from one B2MML document."""

    version: str
    definitions: list[MaterialDefinition] = field(default_factory=list)
    lots: list[Lot] = field(default_factory=list)
    sublots: list[SubLot] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)


def read_document(path: Path, root: etree._Element, version: str) -> Document:
    """Read a validated document's nouns into the model."""
    reader = _Reader(path, Document(version))
    for noun in _nouns(path, root):
        reader.noun(noun)
    return reader.doc


def _nouns(path: Path, root: etree._Element) -> list[etree._Element]:
    """The data elements of a document: the DataArea's nouns, or the root itself when it is a noun."""
    if etree.QName(root).localname in NOUNS:
        return [root]
    area = root.find("{*}DataArea")
    if area is None or len(area) == 0:
        raise BadInput("B2MML 文档缺少 DataArea: no DataArea", where=f"{path}:{root.sourceline}")
    verb, nouns = area[0], list(area)[1:]
    # Get asks for data and Cancel or a Delete action withdraws it: neither states facts to record.
    if _local(verb) in {"Get", "Cancel"} or any(
        x.get("actionCode") == "Delete" for x in verb.iter("{*}ActionExpression")
    ):
        raise BadInput(f"不支持的 B2MML 动词 verb <{_local(verb)}> carries no facts to ingest; "
                       "send Sync, Process or Show documents", where=f"{path}:{verb.sourceline}")
    for noun in nouns:
        if _local(noun) not in NOUNS:
            raise BadInput(f"不支持的 B2MML 内容 unsupported noun <{_local(noun)}>; this adapter reads "
                           f"{', '.join(NOUNS)}", where=f"{path}:{noun.sourceline}")
    return nouns


# ── reading ───────────────────────────────────────────────────────────────────
class _Reader:
    """Walks the nouns of one document into a :class:`Document`."""

    def __init__(self, path: Path, doc: Document) -> None:
        self.path = path
        self.doc = doc

    def noun(self, el: etree._Element) -> None:
        name = _local(el)
        if name == "MaterialInformation":
            # Its test specifications describe how to test, not what happened to material: not read.
            for child in el:
                if _local(child) in NOUNS:
                    self.noun(child)
        elif name == "MaterialClass":
            # Material classes have no node kind of their own; they become an attribute of the
            # definitions they list.
            self.doc.definitions += [
                MaterialDefinition(d, classes=[_id(el)]) for d in _ids(el, "MaterialDefinitionID")
            ]
        elif name == "MaterialDefinition":
            self.doc.definitions.append(MaterialDefinition(
                _id(el), _description(el), _ids(el, "MaterialClassID"),
                self.properties(el, "MaterialDefinitionProperty"), _ids(el, "MaterialLotID"),
            ))
        elif name == "MaterialLot":
            self.doc.lots.append(Lot(_id(el), _first_id(el, "MaterialDefinitionID"), _description(el),
                                     self.stock(el, "MaterialLotProperty"),
                                     [self.sublot(s) for s in _kids(el, "MaterialSubLot")]))
        elif name == "MaterialSubLot":
            self.doc.sublots.append(self.sublot(el))
        elif name in {"ProductionPerformance", "OperationsPerformance"}:
            inherited = {"operations_type": _text(el, "OperationsType")}
            for n, response in enumerate(_kids(el, "ProductionResponse", "OperationsResponse"), 1):
                self.response(response, n, inherited)
        elif name in {"ProductionResponse", "OperationsResponse"}:
            self.response(el, 1, {})
        elif name in {"ProductionSchedule", "OperationsSchedule"}:
            for request in _kids(el, "ProductionRequest", "OperationsRequest"):
                self.noun(request)
        else:
            self.request(el)

    def sublot(self, el: etree._Element) -> SubLot:
        children = [self.sublot(s) for s in _kids(el, "MaterialSubLot", "MaterialSubLotChild")]
        props = "MaterialSublotProperty" if self.doc.version == "V0401" else "MaterialLotProperty"
        lot = _first_id(el, "MaterialLotID")
        return SubLot(_id(el), lot, _description(el), self.stock(el, props), children)

    def stock(self, el: etree._Element, props: str) -> dict[str, Any]:
        """Attributes of a lot or sublot: its properties, then status, disposition and quantity."""
        attrs = self.properties(el, props)
        quantity = self.quantity(el)
        attrs.update(_clean({
            "status": _text(el, "Status"),
            "disposition": _text(el, "Disposition"),
            "quantity": quantity.value if quantity else None,
            "uom": quantity.uom if quantity else None,
        }))
        return attrs

    def response(self, el: etree._Element, n: int, inherited: dict[str, Any]) -> None:
        response_id = _id(el) or f"{self.path.name}#{n}"
        attrs = {**inherited, "response": response_id}
        if _text(el, "OperationsType"):
            attrs["operations_type"] = _text(el, "OperationsType")
        orders = _ids(el, "ProductionRequestID") + _ids(el, "OperationsRequestID")
        span = (self.time(el, "StartTime"), self.time(el, "EndTime"))
        for i, segment in enumerate(_kids(el, "SegmentResponse"), 1):
            self.segment(segment, (response_id,), i, attrs, orders, span)

    def segment(self, el: etree._Element, parent: tuple[str, ...], n: int, inherited: dict[str, Any],
                orders: list[str], span: tuple[datetime | None, datetime | None]) -> None:
        path = (*parent, _id(el) or f"#{n}")
        step = _first_id(el, "ProcessSegmentID") or path[-1]
        location = el.find("{*}Location/{*}EquipmentID")
        if location is None:
            location = el.find("{*}HierarchyScope/{*}EquipmentID")
        seg = Segment(path, _description(el) or step,
                      self.time(el, "ActualStartTime") or span[0], self.time(el, "ActualEndTime") or span[1])
        seg.attrs = _clean({
            **inherited,
            "step": step,
            "state": _text(el, "SegmentState"),
            "location": _ident(location.text) if location is not None else None,
            "parent": "/".join(parent) if len(parent) > 1 else None,
        })
        if _text(el, "OperationsType"):
            seg.attrs["operations_type"] = _text(el, "OperationsType")
        seg.work_orders = _ids(el, "OperationsRequestID") or orders
        for actual in _tree(el, "EquipmentActual", "EquipmentActualChild"):
            seg.equipment += _ids(actual, "EquipmentID")
            _collect(seg.attrs, "equipment_class", _ids(actual, "EquipmentClassID"))
        for actual in _tree(el, "PersonnelActual", "PersonnelActualChild"):
            seg.persons += _ids(actual, "PersonID")
            _collect(seg.attrs, "personnel_class", _ids(actual, "PersonnelClassID"))
        for actual in _tree(el, "PhysicalAssetActual", "PhysicalAssetActualChild"):
            seg.assets += _ids(actual, "PhysicalAssetID")
        for i, actual in enumerate(_kids(el, "MaterialActual", "MaterialConsumedActual",
                                         "MaterialProducedActual", "ConsumableActual"), 1):
            self.material(actual, _id(actual) or str(i), seg.materials)
        for data in _kids(el, "ProductionData", "SegmentData"):
            self.data(data, "", seg.data)
        self.doc.segments.append(seg)
        # V0401 nests SegmentResponse in itself; V0700 renamed the nested one SegmentResponseChild.
        for i, child in enumerate(_kids(el, "SegmentResponse", "SegmentResponseChild"), 1):
            self.segment(child, path, i, inherited, seg.work_orders, (seg.start, seg.end))

    def material(self, el: etree._Element, key: str, out: list[MaterialActual]) -> None:
        name = _local(el)
        # V0401's MaterialConsumedActual / MaterialProducedActual / ConsumableActual say their use by name.
        use = {"MaterialConsumedActual": "Consumed", "MaterialProducedActual": "Produced",
               "ConsumableActual": "Consumable"}.get(name) or _text(el, "MaterialUse")
        props = "MaterialActualProperty" if name == "AssemblyActual" else f"{name}Property"
        out.append(MaterialActual(
            key, use, _ids(el, "MaterialDefinitionID"), _ids(el, "MaterialClassID"),
            _ids(el, "MaterialLotID"), _ids(el, "MaterialSubLotID"),
            self.quantity(el), self.properties(el, props),
        ))
        # A V0700 AssemblyActual is material that went into this one, with its own use and quantity.
        for i, part in enumerate(_kids(el, "AssemblyActual"), 1):
            self.material(part, f"{key}/{_id(part) or i}", out)

    def data(self, el: etree._Element, prefix: str, out: list[DataValue]) -> None:
        name = f"{prefix}{_id(el)}"
        values = [self.value(v) for v in _kids(el, "Value")]
        if values:
            uoms = {u for _, u in values if u}
            out.append(DataValue(name, values[0][0] if len(values) == 1 else [v for v, _ in values],
                                 uoms.pop() if len(uoms) == 1 else None))
        for child in _kids(el, "ProductionData", "SegmentDataChild"):
            self.data(child, f"{name}/", out)

    def request(self, el: etree._Element) -> None:
        # A request is a plan: its produced material names the product; its planned lots and
        # segments state nothing that happened, so no genealogy is drawn from them. A V0401 request
        # may lack an ID, and then nothing can refer to it: it is left out.
        if not _id(el):
            return
        produced = [r for r in el.iter("{*}MaterialRequirement", "{*}MaterialProducedRequirement")
                    if _local(r) == "MaterialProducedRequirement" or _text(r, "MaterialUse") in PRODUCED]
        products = list(dict.fromkeys(d for r in produced for d in _ids(r, "MaterialDefinitionID")))
        quantity = self.quantity(produced[0]) if len(produced) == 1 else None
        start, end = self.time(el, "StartTime"), self.time(el, "EndTime")
        self.doc.requests.append(Request(_id(el), _description(el), _clean({
            "product": products[0] if len(products) == 1 else products or None,
            "quantity": quantity.value if quantity else None,
            "uom": quantity.uom if quantity else None,
            "planned_start": start.isoformat() if start else None,
            "planned_end": end.isoformat() if end else None,
            "priority": _text(el, "Priority"),
        })))

    # ── values ────────────────────────────────────────────────────────────────
    def properties(self, el: etree._Element, name: str, prefix: str = "") -> dict[str, Any]:
        """Properties as flat attributes: ``ID → value`` (a list for several), ``ID.uom`` for a unit."""
        out: dict[str, Any] = {}
        for prop in _kids(el, name):
            key = f"{prefix}{_id(prop)}"
            values = [self.value(v) for v in _kids(prop, "Value")]
            if values:
                out[key] = values[0][0] if len(values) == 1 else [v for v, _ in values]
                uoms = [u for _, u in values if u]
                if uoms:
                    out[f"{key}.uom"] = uoms[0]
            out.update(self.properties(prop, f"{name}Child", f"{key}/"))
        return out

    def value(self, el: etree._Element) -> tuple[Any, str | None]:
        text = (_text(el, "ValueString") or "").strip()
        kind = (_text(el, "DataType") or "").lower()
        typed: Any = text
        if kind in _NUMBER_TYPES:
            try:
                typed = int(text) if kind in {"integer", "int", "long", "short", "byte"} else float(text)
            except ValueError:
                typed = text  # a property's value is descriptive: keep what was sent rather than reject it
        elif kind == "boolean":
            typed = text.lower() in {"true", "1"}
        return typed, _text(el, "UnitOfMeasure") or None

    def quantity(self, el: etree._Element) -> Quantity | None:
        """The first quantity of an element; a quantity that is not a number rejects the document."""
        q = el.find("{*}Quantity")
        if q is None:
            return None
        string = q.find("{*}QuantityString")  # required by both schemas
        text = (string.text or "").strip()
        if not text:
            return None  # sent empty: the quantity is unknown, not wrong
        try:
            value = float(text)
        except ValueError:
            raise BadInput(f"数量不是数字 <QuantityString> {text!r} of <{_local(el)}> is not a number",
                           where=f"{self.path}:{string.sourceline}") from None
        return Quantity(value, _text(q, "UnitOfMeasure") or None)

    def time(self, el: etree._Element, name: str) -> datetime | None:
        child = el.find(f"{{*}}{name}")
        if child is None or not (child.text or "").strip():
            return None
        try:
            return datetime.fromisoformat(child.text.strip())
        except ValueError:
            raise BadInput(f"时间格式错误 <{name}> {child.text.strip()!r} is not an ISO 8601 date-time",
                           where=f"{self.path}:{child.sourceline}") from None


def _local(el: etree._Element) -> str:
    return str(etree.QName(el).localname)


def _kids(el: etree._Element, *names: str) -> list[etree._Element]:
    return [c for c in el if isinstance(c.tag, str) and _local(c) in names]


def _tree(el: etree._Element, name: str, child: str) -> list[etree._Element]:
    """Elements called ``name`` under ``el`` and, recursively, their ``child`` elements."""
    out = _kids(el, name)
    for item in list(out):
        out += _tree(item, child, child)
    return out


def _text(el: etree._Element, name: str) -> str | None:
    child = el.find(f"{{*}}{name}")
    if child is None or child.text is None:
        return None
    return child.text.strip() or None


def _ident(text: str | None) -> str:
    """A B2MML ID made safe for a uid: stripped, inner whitespace collapsed to one space."""
    return " ".join((text or "").split())


def _id(el: etree._Element) -> str:
    return _first_id(el, "ID")


def _first_id(el: etree._Element, name: str) -> str:
    ids = _ids(el, name)
    return ids[0] if ids else ""


def _ids(el: etree._Element, name: str) -> list[str]:
    return [i for i in (_ident(c.text) for c in _kids(el, name)) if i]


def _description(el: etree._Element) -> str | None:
    """The Chinese description when there is one, else the first."""
    texts = [(d.get("languageID") or "", (d.text or "").strip()) for d in _kids(el, "Description")]
    texts = [(lang, text) for lang, text in texts if text]
    chinese = [text for lang, text in texts if lang.lower().startswith("zh")]
    return chinese[0] if chinese else texts[0][1] if texts else None


def _collect(attrs: dict[str, Any], key: str, values: list[str]) -> None:
    if values:
        attrs[key] = list(dict.fromkeys([*attrs.get(key, []), *values]))


def _clean(attrs: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in attrs.items() if v is not None and v != []}

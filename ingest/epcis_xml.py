"""GS1 EPCIS XML documents (2.0, and 1.x with its ``extension`` wrappers) → canonical records.

Documents are parsed into :class:`zhuisu.ingest.epcis.Event` values; the mapping to records lives in
:mod:`zhuisu.ingest.epcis`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from lxml import etree

from zhuisu.errors import BadInput
from zhuisu.ingest import epcis
from zhuisu.ingest.records import Batch

_XSI = "{http://www.w3.org/2001/XMLSchema-instance}"
_EVENT_TAGS = (*epcis.EVENT_TYPES, "QuantityEvent")  # QuantityEvent: EPCIS 1.0, removed in 1.1

# Root element → the XSD that validates it. The 1.x XSDs are not part of the GS1 2.0 release we ship, so
# 1.x documents get structural checks only (required fields, numbers and times) while they are read.
_ROOTS: dict[tuple[str, str], str | None] = {
    ("urn:epcglobal:epcis:xsd:2", "EPCISDocument"): "EPCglobal-epcis-2_0.xsd",
    ("urn:epcglobal:epcis-query:xsd:2", "EPCISQueryDocument"): "EPCglobal-epcis-query-2_0.xsd",
    ("urn:epcglobal:epcis-masterdata:xsd:2", "EPCISMasterDataDocument"): "EPCglobal-epcis-masterdata-2_0.xsd",
    ("urn:epcglobal:epcis:xsd:1", "EPCISDocument"): None,
    ("urn:epcglobal:epcis-query:xsd:1", "EPCISQueryDocument"): None,
    ("urn:epcglobal:epcis-masterdata:xsd:1", "EPCISMasterDataDocument"): None,
}

_REQUIRED = ("eventTime", "eventTimeZoneOffset")
_ACTION_TYPES = (epcis.OBJECT, epcis.AGGREGATION, epcis.TRANSACTION, epcis.ASSOCIATION)
_NUMBERS = frozenset({"value", "minValue", "maxValue", "meanValue", "sDev", "percRank", "percValue"})


def read(path: Path, **options: Any) -> Iterator[Batch]:
    """One batch per EPCIS XML document: EPCISDocument, EPCISQueryDocument or EPCISMasterDataDocument."""
    name = path.name
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    try:
        tree = etree.parse(str(path), parser)
    except OSError as exc:
        raise BadInput(f"无法读取 cannot read the file: {exc}", where=name) from None
    except etree.XMLSyntaxError as exc:
        raise BadInput(f"XML 格式错误 malformed XML: {exc}", where=name) from None
    root = tree.getroot()
    qname = etree.QName(root)
    if (qname.namespace, qname.localname) not in _ROOTS:
        raise BadInput(f"不是 EPCIS 文档 not an EPCIS document: root element {qname.localname!r} "
                       f"({qname.namespace}); expected EPCISDocument, EPCISQueryDocument or "
                       "EPCISMasterDataDocument", where=name)
    elements = _event_elements(root)
    xsd = _ROOTS[(qname.namespace or "", qname.localname)]
    if xsd is not None:
        _validate(tree, elements, xsd, name)
    events = []
    for i, element in enumerate(elements):
        try:
            events.append(_event(element))
        except ValueError as exc:
            raise BadInput(f"{_label(elements, i)}: {exc}", where=name) from None
    yield epcis.to_batch(f"epcis:{name}", events, _master(root))


def _event_elements(root: etree._Element) -> list[etree._Element]:
    """Event elements in document order, also those that 1.x wraps in the event list's ``extension``."""
    out: list[etree._Element] = []

    def collect(parent: etree._Element) -> None:
        for child in parent:
            if child.tag == "extension":
                collect(child)
            elif child.tag in _EVENT_TAGS:
                out.append(child)

    for event_list in root.iter("EventList"):
        collect(event_list)
    return out


@cache
def _schema(path: Path) -> etree.XMLSchema:
    # The XSD imports (EPCglobal.xsd, the SBDH schemas) are resolved next to it, never over the network.
    return etree.XMLSchema(etree.parse(str(path), etree.XMLParser(no_network=True)))


def _validate(tree: etree._ElementTree, events: list[etree._Element], xsd: str, name: str) -> None:
    """Check the document against its XSD; the first violation, in one line, names the event it is in."""
    schema = _schema(epcis.schema_file("xsd", xsd))
    if schema.validate(tree):
        return
    error = schema.error_log[0]
    index = _event_at(tree.getroot(), events, error.line)
    prefix = f"{_label(events, index)}: " if index is not None else f"line {error.line}: "
    raise BadInput(prefix + " ".join(error.message.split()), where=name)


def _event_at(root: etree._Element, events: list[etree._Element], line: int) -> int | None:
    """The index of the event that holds the last element starting at or before ``line``."""
    last = None
    for element in root.iter():
        if element.sourceline is not None and element.sourceline > line:
            break
        last = element
    positions = {e: i for i, e in enumerate(events)}  # lxml elements hash by identity
    for element in [last, *last.iterancestors()] if last is not None else []:
        if element in positions:
            return positions[element]
    return None


def _label(events: list[etree._Element], index: int) -> str:
    element = events[index]
    eid = element.findtext("eventID") or element.findtext("baseExtension/eventID")
    return f"event #{index + 1} ({element.tag}{' ' + eid.strip() if eid else ''})"


def _fields(element: etree._Element) -> Iterator[etree._Element]:
    """Child elements, with the 1.x ``extension``/``baseExtension`` wrappers flattened away."""
    for child in element:
        if not isinstance(child.tag, str):
            continue  # comments, processing instructions
        if child.tag in ("extension", "baseExtension"):
            yield from _fields(child)
        else:
            yield child


def _event(element: etree._Element) -> epcis.Event:
    kind = element.tag
    fields: dict[str, etree._Element] = {}
    extensions: dict[str, Any] = {}
    certification: list[str] = []
    for child in _fields(element):
        if child.tag.startswith("{"):
            _add(extensions, child.tag, _value(child))
        elif child.tag == "certificationInfo":
            certification.append(_text(child))
        else:
            fields.setdefault(child.tag, child)
    missing = [f for f in _REQUIRED if f not in fields]
    if kind in _ACTION_TYPES and "action" not in fields:
        missing.append("action")
    if missing:
        raise ValueError(f"{missing[0]!r} is a required property")
    offset = _text(fields["eventTimeZoneOffset"])
    quantities = _quantities(_either(fields, "quantityList", "childQuantityList"))
    if kind == "QuantityEvent" and "epcClass" in fields:
        quantity = fields.get("quantity")
        quantities = (epcis.Quantity(_text(fields["epcClass"]), _number(quantity, "quantity")),)
    return epcis.Event(
        type=kind,
        event_time=_time(fields["eventTime"], offset),
        time_zone_offset=offset,
        event_id=_optional(fields.get("eventID")),
        action=_optional(fields.get("action")),
        parent_id=_optional(fields.get("parentID")),
        epcs=_epcs(_either(fields, "epcList", "childEPCs")),
        quantities=quantities,
        inputs=_epcs(fields.get("inputEPCList")),
        input_quantities=_quantities(fields.get("inputQuantityList")),
        outputs=_epcs(fields.get("outputEPCList")),
        output_quantities=_quantities(fields.get("outputQuantityList")),
        transformation_id=_optional(fields.get("transformationID")),
        biz_step=_optional(fields.get("bizStep")),
        disposition=_optional(fields.get("disposition")),
        persistent_disposition=_persistent(fields.get("persistentDisposition")),
        read_point=_id(fields.get("readPoint")),
        biz_location=_id(fields.get("bizLocation")),
        biz_transactions=_typed(fields.get("bizTransactionList"), "bizTransaction"),
        sources=_typed(fields.get("sourceList"), "source"),
        destinations=_typed(fields.get("destinationList"), "destination"),
        sensors=tuple(_sensor(s) for s in _children(fields.get("sensorElementList"), "sensorElement")),
        ilmd=_object(fields.get("ilmd")),
        certification=tuple(certification),
        extensions=extensions,
        error=_error(fields.get("errorDeclaration")),
    )


def _either(fields: dict[str, etree._Element], first: str, second: str) -> etree._Element | None:
    return fields[first] if first in fields else fields.get(second)


def _text(element: etree._Element) -> str:
    return (element.text or "").strip()


def _optional(element: etree._Element | None) -> str | None:
    return (_text(element) or None) if element is not None else None


def _children(element: etree._Element | None, tag: str) -> list[etree._Element]:
    return [] if element is None else [c for c in _fields(element) if c.tag == tag]


def _epcs(element: etree._Element | None) -> tuple[str, ...]:
    return tuple(_text(epc) for epc in _children(element, "epc"))


def _id(element: etree._Element | None) -> str | None:
    return _optional(element.find("id")) if element is not None else None


def _time(element: etree._Element, offset: str | None = None) -> datetime:
    try:
        return epcis.parse_time(_text(element), offset)
    except ValueError as exc:
        raise ValueError(f"{element.tag}: {exc}") from None


def _number(element: etree._Element | None, name: str) -> float | None:
    text = _text(element) if element is not None else ""
    if not text:
        return None  # absent, empty, or xsi:nil="true"
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{name}: {text!r} is not a number") from None


def _quantities(element: etree._Element | None) -> tuple[epcis.Quantity, ...]:
    out = []
    for q in _children(element, "quantityElement"):
        epc_class = q.find("epcClass")
        if epc_class is None or not _text(epc_class):
            raise ValueError("quantityElement: 'epcClass' is a required property")
        out.append(epcis.Quantity(_text(epc_class), _number(q.find("quantity"), "quantity"),
                                  _optional(q.find("uom"))))
    return tuple(out)


def _typed(element: etree._Element | None, tag: str) -> tuple[tuple[str, str], ...]:
    return tuple((c.get("type", "").strip(), _text(c)) for c in _children(element, tag))


def _persistent(element: etree._Element | None) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for child in _fields(element) if element is not None else ():
        out[child.tag] = (*out.get(child.tag, ()), _text(child))
    return out


def _sensor(element: etree._Element) -> dict[str, Any]:
    """A sensorElement in the JSON shape: sensorMetadata and sensorReport attributes as objects."""
    out: dict[str, Any] = {"sensorReport": []}
    for child in _fields(element):
        if child.tag == "sensorMetadata":
            out["sensorMetadata"] = dict(child.attrib)
        elif child.tag == "sensorReport":
            report: dict[str, Any] = dict(child.attrib)
            for key in _NUMBERS & report.keys():
                report[key] = _float(report[key], key)
            if "booleanValue" in report:
                report["booleanValue"] = report["booleanValue"].strip() in ("true", "1")
            out["sensorReport"].append(report)
        elif child.tag.startswith("{"):
            _add(out, child.tag, _value(child))
    return out


def _float(text: str, name: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"sensorReport/@{name}: {text!r} is not a number") from None


def _error(element: etree._Element | None) -> epcis.ErrorDeclaration | None:
    if element is None:
        return None
    fields = {c.tag: c for c in _fields(element)}
    when = _time(fields["declarationTime"]) if "declarationTime" in fields else None
    ids = tuple(_text(c) for c in _children(fields.get("correctiveEventIDs"), "correctiveEventID"))
    return epcis.ErrorDeclaration(when, _optional(fields.get("reason")), ids)


def _object(element: etree._Element | None) -> dict[str, Any]:
    value = _value(element) if element is not None else {}
    return value if isinstance(value, dict) else {}


def _value(element: etree._Element, attributes: bool = True) -> Any:
    """Extension content as JSON-like data: children → object (repeats → list), text typed by ``xsi:type``."""
    out: dict[str, Any] = {}
    if attributes:
        out.update((k, v) for k, v in element.attrib.items() if not k.startswith(_XSI))
    for child in element:
        if isinstance(child.tag, str):
            _add(out, child.tag, _value(child))
    text = _text(element)
    if not out:
        return _scalar(text, element.get(f"{_XSI}type", ""))
    if text:
        out["@value"] = _scalar(text, element.get(f"{_XSI}type", ""))
    return out


def _scalar(text: str, xsi_type: str) -> Any:
    """Typed as in the JSON binding: ``xsd:integer`` → int, ``xsd:double`` → float, ``xsd:boolean`` → bool."""
    kind = xsi_type.rpartition(":")[2]
    try:
        if kind in ("integer", "int", "long", "short", "nonNegativeInteger", "positiveInteger"):
            return int(text)
        if kind in ("double", "float", "decimal"):
            return float(text)
    except ValueError:
        return text  # lax: a wrongly typed extension value is kept as written
    if kind == "boolean":
        return text in ("true", "1")
    return text


def _add(out: dict[str, Any], key: str, value: Any) -> None:
    """Set a key; a repeated key collects its values in a list."""
    if key not in out:
        out[key] = value
    elif isinstance(out[key], list):
        out[key].append(value)
    else:
        out[key] = [out[key], value]


def _master(root: etree._Element) -> list[epcis.MasterData]:
    """Vocabulary elements of a master-data document, a document header or a master-data query result."""
    out = []
    for vocabulary in root.iter("Vocabulary"):
        for element in vocabulary.iter("VocabularyElement"):
            attrs: dict[str, Any] = {}
            for attribute in element.findall("attribute"):
                _add(attrs, attribute.get("id", ""), _value(attribute, attributes=False))
            if element.get("id"):
                out.append(epcis.MasterData(vocabulary.get("type", ""), element.get("id", ""), attrs))
    return out

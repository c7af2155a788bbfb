"""GS1 EPCIS events in one format-independent model, and their mapping to canonical records.

The JSON and XML adapters only turn their syntax into :class:`Event` values; everything that gives an
event meaning (CBV terms, GS1 identifiers, event ids, the nodes and edges it becomes) is decided here,
once. The mapping is documented in docs/formats.md ("EPCIS").
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from zhuisu.errors import ZhuisuError
from zhuisu.ingest import gs1
from zhuisu.ingest.records import Batch, Edge, Node

SCHEMAS = Path(__file__).with_name("schemas") / "epcis"

OBJECT, AGGREGATION, TRANSFORMATION = "ObjectEvent", "AggregationEvent", "TransformationEvent"
TRANSACTION, ASSOCIATION = "TransactionEvent", "AssociationEvent"
EVENT_TYPES = (OBJECT, AGGREGATION, TRANSFORMATION, TRANSACTION, ASSOCIATION)

_EMPTY: Mapping[str, Any] = {}
_FLOW = ("unit:", "lot:", "lu:")  # uid prefixes of things that can be consumed, produced and contained
_KEY_LIMIT = 200  # edges.key is VARCHAR(200)
_CBV_WEB = {"bizstep": "BizStep", "disp": "Disp", "btt": "BTT", "sdt": "SDT", "er": "ER"}
_MDA = re.compile(r"^\{?urn:epcglobal:cbv:mda[:#]?\}?(.+)$")
_GTIN = re.compile(r"/01/(\d{14})/(?:21|10)/")
_NI = re.compile(r"^ni:///sha-256;([0-9a-fA-F]{64})")
# Master-data attribute naming the zhuisu uid an identifier stands for (written by graph/epcis_export.py).
ZS_UID = "https://w3id.org/zhuisu/ontology#uid"


@dataclass(frozen=True, slots=True)
class Quantity:
    """An amount of an EPC class: a lot (LGTIN) or a trade item without lot."""

    epc_class: str
    quantity: float | None = None
    uom: str | None = None


@dataclass(frozen=True, slots=True)
class ErrorDeclaration:
    """The statement that the event carrying it (same eventID, or same content) was erroneous."""

    declaration_time: datetime | None = None
    reason: str | None = None
    corrective_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Event:
    """One EPCIS event, whatever syntax it came in; JSON-like values keep extension keys in Clark form."""

    type: str
    event_time: datetime
    time_zone_offset: str | None = None
    event_id: str | None = None
    action: str | None = None
    parent_id: str | None = None
    epcs: tuple[str, ...] = ()  # epcList, or childEPCs
    quantities: tuple[Quantity, ...] = ()  # quantityList, or childQuantityList
    inputs: tuple[str, ...] = ()
    input_quantities: tuple[Quantity, ...] = ()
    outputs: tuple[str, ...] = ()
    output_quantities: tuple[Quantity, ...] = ()
    transformation_id: str | None = None
    biz_step: str | None = None
    disposition: str | None = None
    persistent_disposition: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: _EMPTY)
    read_point: str | None = None
    biz_location: str | None = None
    biz_transactions: tuple[tuple[str, str], ...] = ()  # (type or "", id)
    sources: tuple[tuple[str, str], ...] = ()
    destinations: tuple[tuple[str, str], ...] = ()
    sensors: tuple[Mapping[str, Any], ...] = ()  # JSON shape: sensorMetadata {}, sensorReport []
    ilmd: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    certification: tuple[str, ...] = ()
    extensions: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    error: ErrorDeclaration | None = None


@dataclass(frozen=True, slots=True)
class MasterData:
    """One vocabulary element of EPCIS master data (a read point, a business location, an EPC class…)."""

    type: str
    id: str
    attrs: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)


def schema_file(*parts: str) -> Path:
    """A schema shipped in ``ingest/schemas/epcis``, or a clear error when the installation lacks it."""
    path = SCHEMAS.joinpath(*parts)
    if not path.is_file():
        raise ZhuisuError(f"EPCIS 校验模式缺失 schema file missing: {path}; reinstall zhuisu "
                          "(its package ships ingest/schemas/epcis)")
    return path


def parse_time(text: str, offset: str | None = None) -> datetime:
    """An ISO 8601 time; one without offset takes ``offset`` (eventTimeZoneOffset), else stays plant-local."""
    try:
        value = datetime.fromisoformat(text.strip())
        if value.tzinfo is None and offset:
            zone = datetime.fromisoformat(f"2000-01-01T00:00:00{offset.strip()}").tzinfo
            value = value.replace(tzinfo=zone)
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO 8601 date-time") from None
    return value


def cbv_term(value: str, vocabulary: str) -> str:
    """The bare CBV term (``shipping``) for its URN, Web URI or bare form; any other URI unchanged."""
    value = value.strip()
    for prefix in (f"urn:epcglobal:cbv:{vocabulary}:", f"https://ref.gs1.org/cbv/{_CBV_WEB[vocabulary]}-"):
        if value.startswith(prefix):
            return value[len(prefix):]
    return value


def event_id(event: Event) -> str:
    """The event's own eventID, or a sha-256 named-information URI over its canonical content."""
    if event.event_id:
        return event.event_id
    body = json.dumps(_content(event), sort_keys=True, ensure_ascii=False, default=str, separators=(",", ":"))
    return f"ni:///sha-256;{hashlib.sha256(body.encode()).hexdigest()}?ver=zhuisu"


def edge_key(eid: str) -> str:
    """The key of the edges an event creates: its eventID, hashed only where too long to store."""
    return eid if len(eid) <= _KEY_LIMIT else "sha256:" + hashlib.sha256(eid.encode()).hexdigest()


def token(eid: str) -> str:
    """A readable uid fragment for an eventID (``sha256-<hex>`` or the bare UUID)."""
    match = _NI.match(eid)
    local = "sha256-" + match.group(1).lower() if match else eid.removeprefix("urn:uuid:")
    return local if len(local) <= _KEY_LIMIT else "sha256-" + hashlib.sha256(local.encode()).hexdigest()


def canonical(event: Event) -> Event:
    """The event with CBV terms bare, sensor types prefixed and CBV master-data keys short."""
    pd = {k: tuple(cbv_term(v, "disp") for v in vs) for k, vs in event.persistent_disposition.items()}
    error = event.error
    if error is not None and error.reason:
        error = replace(error, reason=cbv_term(error.reason, "er"))
    return replace(
        event,
        epcs=_present(event.epcs),
        inputs=_present(event.inputs),
        outputs=_present(event.outputs),
        biz_step=cbv_term(event.biz_step, "bizstep") if event.biz_step else None,
        disposition=cbv_term(event.disposition, "disp") if event.disposition else None,
        persistent_disposition=pd,
        biz_transactions=tuple((cbv_term(t, "btt"), i) for t, i in event.biz_transactions),
        sources=tuple((cbv_term(t, "sdt"), i) for t, i in event.sources),
        destinations=tuple((cbv_term(t, "sdt"), i) for t, i in event.destinations),
        sensors=tuple(_sensor(s) for s in event.sensors),
        ilmd=_short_keys(event.ilmd),
        extensions=_short_keys(event.extensions),
        error=error,
    )


def to_batch(source: str, events: Iterable[Event], master: Iterable[MasterData] = ()) -> Batch:
    """The records of one EPCIS document, as one batch; declared-erroneous events go to ``retract``."""
    out = _Builder(source)
    for element in master:
        out.master(element)
    ready = [canonical(e) for e in events]
    ids = [event_id(e) for e in ready]
    corrects: dict[str, list[str]] = {}
    for event, eid in zip(ready, ids, strict=True):
        for corrective in event.error.corrective_ids if event.error else ():
            corrects.setdefault(corrective, []).append(eid)
    for event, eid in zip(ready, ids, strict=True):
        if event.error is not None:
            # The declaration repeats the erroneous event; it withdraws that event's edges and adds nothing.
            out.retract(edge_key(eid))
        else:
            _map(out, event, eid, corrects.get(eid, []))
    return out.batch()


# ── mapping ────────────────────────────────────────────────────────────────────
def _map(out: _Builder, e: Event, eid: str, corrects: list[str]) -> None:
    key, tok, t = edge_key(eid), token(eid), e.event_time
    attrs = _attrs(e, eid, corrects)
    if e.type == TRANSFORMATION:
        op = out.declared.get(e.transformation_id or "") or (
            f"op:epcis:xform:{token(e.transformation_id)}" if e.transformation_id else f"op:epcis:{tok}")
        out.node(Node(op, "Operation", attrs=attrs))
        for item, qty, uom in out.flow(e.inputs, e.input_quantities, "input", tok, key):
            out.edge(Edge(item, "consumedBy", op, t, qty, uom, key))
        for item, qty, uom in out.flow(e.outputs, e.output_quantities, "output", tok, key):
            out.edge(Edge(op, "produces", item, t, qty, uom, key))
            out.node(Node(item, attrs=dict(e.ilmd)))  # ILMD is the outputs' instance/lot master data
        out.locate(op, e, key)
        return
    obs = f"obs:{tok}"
    out.node(Node(obs, "Observation", attrs=attrs))
    parent = out.item(e.parent_id) if e.parent_id else None
    if parent:
        out.observe(obs, parent, t, key, None, {"role": "parent"})
    for epc in e.epcs:
        out.observe(obs, out.item(epc), t, key)
    for q in e.quantities:
        out.observe(obs, out.klass(q.epc_class), t, key, q)
    out.locate(obs, e, key)
    # A DELETE (disaggregation) is kept as its Observation only: the earlier containment stays part of the
    # history a trace must see, and a trace that over-includes a suspect is safer than one that misses it.
    if e.type == AGGREGATION and parent and parent.startswith(_FLOW) and e.action != "DELETE":
        for item, qty, uom in out.flow(e.epcs, e.quantities, "child", tok, key):
            out.edge(Edge(item, "containedIn", parent, t, qty, uom, key, {"action": e.action}))
    if e.type == OBJECT and e.ilmd:
        for item in [out.item(x) for x in e.epcs] + [out.klass(q.epc_class) for q in e.quantities]:
            if item.startswith(_FLOW):
                out.node(Node(item, attrs=dict(e.ilmd)))


def _attrs(e: Event, eid: str, corrects: list[str]) -> dict[str, Any]:
    attrs = {
        "eventType": e.type,
        "eventID": eid,
        "eventTime": e.event_time.isoformat(),
        "eventTimeZoneOffset": e.time_zone_offset,
        "action": e.action,
        "bizStep": e.biz_step,
        "disposition": e.disposition,
        "persistentDisposition": {k: list(v) for k, v in e.persistent_disposition.items()},
        "readPoint": e.read_point,
        "bizLocation": e.biz_location,
        "parentID": e.parent_id,
        "transformationID": e.transformation_id,
        "bizTransactionList": [{"type": k, "id": v} if k else {"id": v} for k, v in e.biz_transactions],
        "sourceList": [{"type": k, "id": v} for k, v in e.sources],
        "destinationList": [{"type": k, "id": v} for k, v in e.destinations],
        "sensors": _sensor_summary(e.sensors),
        "ilmd": dict(e.ilmd),
        "certificationInfo": list(e.certification),
        "extensions": dict(e.extensions),
        "corrects": corrects,
    }
    return {k: v for k, v in attrs.items() if v not in (None, "", [], {})}


_REPORT_KEYS = ("type", "exception", "value", "minValue", "maxValue", "meanValue", "sDev", "uom",
                "stringValue", "booleanValue", "component", "time", "deviceID")
_META_KEYS = ("time", "startTime", "endTime", "deviceID")


def _sensor_summary(sensors: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One flat record per sensor report: what was measured, the values, when and by which device."""
    out = []
    for element in sensors:
        meta = element.get("sensorMetadata") or {}
        for report in element.get("sensorReport") or ():
            item = {k: report[k] for k in _REPORT_KEYS if k in report}
            item.update({k: meta[k] for k in _META_KEYS if k in meta and k not in item})
            out.append(item)
    return out


class _Builder:
    """Collects one document's nodes (merged by uid) and edges (deduplicated by identity)."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.nodes: dict[str, Node] = {}
        self.edges: dict[tuple[str, str, str, str], Edge] = {}
        self.retracted: list[str] = []
        self.seen: dict[tuple[str, str], str] = {}  # (role, identifier as written) → uid, its nodes added
        self.declared: dict[str, str] = {}  # identifier → uid, as master data declares (ZS_UID)

    def batch(self) -> Batch:
        return Batch(self.source, list(self.nodes.values()), list(self.edges.values()), self.retracted)

    def retract(self, key: str) -> None:
        if key not in self.retracted:
            self.retracted.append(key)

    def node(self, node: Node) -> None:
        prev = self.nodes.get(node.uid)
        if prev is not None:
            node = Node(node.uid, node.kind or prev.kind, node.name or prev.name,
                        {**prev.attrs, **node.attrs}, tuple(dict.fromkeys(prev.aliases + node.aliases)))
        self.nodes[node.uid] = node

    def edge(self, edge: Edge) -> None:
        self.edges.setdefault((edge.src, edge.rel, edge.dst, edge.key), edge)

    def item(self, raw: str) -> str:
        """The uid of an instance identifier (EPC, parentID), adding its node and trade-item class."""
        return self._uid(raw, "unit", "SerialUnit", None)

    def klass(self, raw: str) -> str:
        """The uid of an EPC class: a MaterialLot (LGTIN) or a Material (GTIN without lot)."""
        return self._uid(raw, "material", None, None)

    def location(self, raw: str) -> str:
        """The uid of a read point or business location (an SGLN, or any other identifier)."""
        return self._uid(raw, "location", "Location", "Location")

    def _uid(self, raw: str, prefix: str, kind: str | None, only: str | None) -> str:
        # Documents name the same objects in event after event: parse each identifier once.
        uid = self.seen.get((prefix, raw))
        if uid is None:
            gid = gs1.parse(raw)
            uid = self.declared.get(raw.strip())
            if uid is not None:  # a zhuisu export's identifier: the node it names, GS1 key kept as alias
                self.node(Node(uid, aliases=(gid.digital_link,) if gid and gid.digital_link else ()))
            elif gid is None or (only is not None and gid.kind != only):
                uid = f"{prefix}:{raw.strip()}"
                self.node(Node(uid, kind))
            else:
                uid = self._gs1(gid, raw)
            self.seen[(prefix, raw)] = uid
        return uid

    def _gs1(self, gid: gs1.Gs1Id, raw: str) -> str:
        aliases = tuple(dict.fromkeys(a for a in (gid.digital_link, raw.strip()) if a and a != gid.uid))
        # Material nodes carry no kind, so that an existing Product with the same GTIN alias keeps its kind.
        self.node(Node(gid.uid, None if gid.kind == "Material" else gid.kind, aliases=aliases))
        match = _GTIN.search(gid.digital_link or "")
        if match and gid.uid.startswith(("unit:", "lot:")):
            cls = gs1.gtin_class(match.group(1))
            self.node(Node(cls.uid, aliases=(cls.digital_link,) if cls.digital_link else ()))
            self.edge(Edge(gid.uid, "instanceOf", cls.uid))  # a fact of the identifier, not of the event
        return gid.uid

    def flow(self, epcs: Iterable[str], quantities: Iterable[Quantity], role: str, tok: str,
             key: str) -> Iterator[tuple[str, float | None, str | None]]:
        """Items in material flow; a class without lot becomes this event's unnamed lot of that class."""
        refs = [(self.item(x), None) for x in epcs] + [(self.klass(q.epc_class), q) for q in quantities]
        for uid, q in refs:
            if uid.startswith(_FLOW):
                yield uid, q.quantity if q else None, q.uom if q else None
            elif uid.startswith("material:"):
                lot = f"lot:{uid.removeprefix('material:')}@{role}.{tok}"
                attrs = {"unnamed": True, "epcClass": q.epc_class if q else uid}
                self.node(Node(lot, "MaterialLot", attrs=attrs))
                self.edge(Edge(lot, "instanceOf", uid, key=key))
                yield lot, q.quantity if q else None, q.uom if q else None

    def observe(self, obs: str, uid: str, t: datetime, key: str, q: Quantity | None = None,
                attrs: Mapping[str, Any] = _EMPTY) -> None:
        rel = "atLocation" if uid.startswith("location:") else "observes"
        self.edge(Edge(obs, rel, uid, t, q.quantity if q else None, q.uom if q else None, key, attrs))

    def locate(self, src: str, e: Event, key: str) -> None:
        roles: dict[str, list[str]] = {}
        for role, raw in (("readPoint", e.read_point), ("bizLocation", e.biz_location)):
            if raw:
                roles.setdefault(self.location(raw), []).append(role)
        for uid, names in roles.items():
            self.edge(Edge(src, "atLocation", uid, e.event_time, key=key, attrs={"roles": names}))

    def master(self, element: MasterData) -> None:
        attrs = _short_keys(element.attrs)
        if isinstance(attrs.get(ZS_UID), str):
            self.declared[element.id.strip()] = attrs[ZS_UID]
            return
        name = attrs.pop("name", None)
        if element.type.endswith(("ReadPoint", "BusinessLocation")):
            uid = self.location(element.id)
        elif element.type.endswith("EPCClass"):
            uid = self.klass(element.id)
        else:
            return  # other vocabularies (dispositions, business transactions…) are not graph nodes
        self.node(Node(uid, name=name if isinstance(name, str) else None, attrs=attrs))


# ── canonical content ──────────────────────────────────────────────────────────
def _ident(raw: str) -> str:
    gid = gs1.parse(raw)
    return gid.uid if gid else raw.strip()


def _content(e: Event) -> dict[str, Any]:
    """What identifies an event without eventID: all but its id, record time, time zone and declaration."""
    return {
        "type": e.type,
        # A time without offset is plant-local: hashed as written, never through this machine's zone.
        "eventTime": (e.event_time.astimezone(UTC) if e.event_time.tzinfo else e.event_time).isoformat(
            timespec="milliseconds"),
        "action": e.action,
        "parentID": _ident(e.parent_id) if e.parent_id else None,
        "epcs": _idents(e.epcs), "quantities": _amounts(e.quantities),
        "inputs": _idents(e.inputs), "inputQuantities": _amounts(e.input_quantities),
        "outputs": _idents(e.outputs), "outputQuantities": _amounts(e.output_quantities),
        "transformationID": e.transformation_id,
        "bizStep": e.biz_step, "disposition": e.disposition,
        "persistentDisposition": {k: sorted(v) for k, v in e.persistent_disposition.items()},
        "readPoint": _ident(e.read_point) if e.read_point else None,
        "bizLocation": _ident(e.biz_location) if e.biz_location else None,
        "bizTransactions": sorted(e.biz_transactions), "sources": sorted(e.sources),
        "destinations": sorted(e.destinations),
        "sensors": list(e.sensors), "ilmd": e.ilmd, "certification": sorted(e.certification),
        "extensions": e.extensions,
    }


def _idents(raws: Iterable[str]) -> list[str]:
    return sorted(_ident(x) for x in raws)


def _amounts(quantities: Iterable[Quantity]) -> list[tuple[str, bool, float, str]]:
    # Order and spelling (URN, Digital Link; 200 or 200.0) do not change what an event says.
    return sorted((_ident(q.epc_class), q.quantity is not None, q.quantity or 0.0, q.uom or "")
                  for q in quantities)


def _present(raws: Iterable[str]) -> tuple[str, ...]:
    return tuple(x.strip() for x in raws if x.strip())


def _short_keys(value: Any) -> Any:
    """CBV master-data keys (``cbvmda:lotNumber`` in any spelling) as their bare names, recursively."""
    if isinstance(value, Mapping):
        return {(m.group(1) if (m := _MDA.match(k)) else k): _short_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_short_keys(v) for v in value]
    return value


def _sensor(element: Mapping[str, Any]) -> dict[str, Any]:
    reports = [{**r, **{k: _measure(r[k]) for k in ("type", "exception") if isinstance(r.get(k), str)}}
               for r in element.get("sensorReport") or ()]
    return {**_short_keys(element), "sensorReport": _short_keys(reports)}


def _measure(value: str) -> str:
    """GS1 measurement and alert types in the XML spelling ``gs1:Temperature``, whatever the JSON spelling."""
    if value.startswith("https://gs1.org/voc/"):
        return "gs1:" + value.removeprefix("https://gs1.org/voc/")
    return value if ":" in value else "gs1:" + value

"""The store's genealogy and containment as a GS1 EPCIS 2.0 JSON-LD document, the inverse of ingest/epcis.py.

- Genealogy: the ``consumedBy`` and ``produces`` edges of each operation become TransformationEvents, one per
  (time, edge key), so that every edge keeps its time; all events of one operation share a transformationID,
  which the reader turns back into one operation.
- Containment: ``containedIn`` edges become AggregationEvents (action ``ADD``), one per (parent, time, key).
- Identifiers: a node is written as its GS1 Digital Link where it has one (its uid is a GS1 key's, or it carries
  a GS1 identifier as alias), else as its zhuisu IRI ``https://w3id.org/zhuisu/id/<uid>`` (the IRI of the RDF
  export; EPCIS 2.0 takes any URI as an EPC). Each identifier that does not name its node by itself is declared
  in the header's master data with its ``zs:uid``, so that re-ingesting the document gives the same uids.
- An edge's key becomes its event's eventID when it is a URI (the eventIDs of ingested EPCIS events come back
  unchanged), else a UUID derived from the operation or parent, the key and the time.

The document is written as the events are read, a page of operations or parents at a time; the header (whose
master data is known only at the end) is written after the body, which JSON's unordered objects allow.
The mapping, and what EPCIS cannot carry, is in docs/formats.md ("EPCIS", "Export").
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from itertools import groupby
from typing import Any, TextIO, TypeAlias

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zhuisu.errors import NotFound
from zhuisu.graph.engine import chunks
from zhuisu.graph.rdf import iri
from zhuisu.graph.schema import aliases, edges, nodes
from zhuisu.graph.store import Store
from zhuisu.ingest import gs1
from zhuisu.ingest.epcis import token
from zhuisu.ingest.records import from_epoch_ms
from zhuisu.ontology import ZS, Ontology

CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
VOCABULARY = "https://w3id.org/zhuisu/vtype/Node"  # master data: identifier → the uid it names
UID = str(ZS.uid)
_NAMESPACE = uuid.UUID("6f1c2a9e-5d1b-5b7e-9a43-7a6875697375")  # of the eventIDs made for edges without one

_Row: TypeAlias = "sa.Row[*tuple[Any, ...]]"
_PAGE = 500  # operations or parents per page, and bound parameters per IN (...) lookup
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]+$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
_SHA = re.compile(r"^sha256-([0-9a-f]{64})$")
_UNNAMED = re.compile(r"^lot:(.+)@(input|output|child)\.(.+)$")  # ingest/epcis.py's lot of a class without lot
_COPIED = ("bizStep", "disposition")  # fields of an ingested event, kept on its node, written back

# UN/CEFACT Recommendation 20 codes, which EPCIS requires for ``uom``, for the spellings plant tables use.
REC20 = {
    "ea": "EA", "each": "EA", "个": "EA", "件": "EA", "台": "EA", "只": "EA", "pcs": "H87", "pc": "H87",
    "piece": "H87", "kg": "KGM", "千克": "KGM", "公斤": "KGM", "g": "GRM", "克": "GRM", "mg": "MGM",
    "t": "TNE", "吨": "TNE", "l": "LTR", "升": "LTR", "ml": "MLT", "毫升": "MLT", "m": "MTR", "米": "MTR",
    "mm": "MMT", "cm": "CMT", "m2": "MTK", "m3": "MTQ",
}
_CODE = re.compile(r"^[A-Z0-9]{2,3}$")


def rec20(uom: str | None) -> str | None:
    """The UN/CEFACT Rec 20 code of a unit of measure (``kg`` → ``KGM``), the code itself, or None."""
    if uom is None:
        return None
    if _CODE.match(uom):
        return uom
    return REC20.get(uom.strip().lower())


@dataclass(slots=True)
class EpcisExport:
    """What an EPCIS export wrote, and what EPCIS could not carry."""

    transformations: int = 0
    aggregations: int = 0
    declared: int = 0  # identifiers declared in master data, for a re-ingest to map back to their uids
    untimed: int = 0  # material edges without a time: an EPCIS event needs one
    uoms: set[str] = field(default_factory=set)  # units without a Rec 20 code: their quantities lost the unit

    @property
    def events(self) -> int:
        return self.transformations + self.aggregations


def write_epcis(store: Store, out: TextIO, *, uids: Iterable[str] | None = None,
                created: datetime | None = None) -> EpcisExport:
    """Write the genealogy and containment of the store (or among the nodes ``uids``) as an EPCISDocument."""
    result = EpcisExport()
    created = created or datetime.now(UTC)
    head = {"@context": [CONTEXT], "type": "EPCISDocument", "schemaVersion": "2.0",
            "creationDate": created.isoformat(timespec="seconds")}
    out.write(json.dumps(head, ensure_ascii=False)[:-1] + ', "epcisBody": {"eventList": [')  # left open: streamed
    with store.engine.connect() as conn:
        writer = _Writer(conn, store.ontology, out, result, None if uids is None else _ids(conn, uids))
        writer.transformations()
        writer.aggregations()
        declared = writer.ids.declared
    out.write("\n]}")
    if declared:
        elements = [{"id": ident, "attributes": [{"id": UID, "attribute": uid}]}
                    for ident, uid in declared.items()]
        master = {"epcisMasterData": {"vocabularyList": [{"type": VOCABULARY, "vocabularyElementList": elements}]}}
        out.write(', "epcisHeader": ' + json.dumps(master, ensure_ascii=False))
    out.write("}\n")
    result.declared = len(declared)
    return result


class _Writer:
    """Reads the material edges a page at a time and writes their events."""

    def __init__(self, conn: Connection, onto: Ontology, out: TextIO, result: EpcisExport,
                 wanted: set[int] | None) -> None:
        self.conn = conn
        self.onto = onto
        self.out = out
        self.result = result
        self.wanted = wanted
        self.ids = _Identifiers(conn, onto)
        self.event_ids: set[str] = set()

    # ── genealogy ─────────────────────────────────────────────────────────────
    def transformations(self) -> None:
        for page in self._pages("Operation", (nodes.c.id, nodes.c.uid, nodes.c.attrs)):
            ops = {row.id: row for row in page}
            rows = self._edges(
                (edges.c.rel == "consumedBy") & edges.c.dst.in_(list(ops)),
                (edges.c.rel == "produces") & edges.c.src.in_(list(ops)),
            )
            self.ids.prepare(r.src_uid if r.rel == "consumedBy" else r.dst_uid for r in rows)
            for op_id, group in groupby(rows, key=lambda r: r.dst if r.rel == "consumedBy" else r.src):
                self._operation(ops[op_id], list(group))

    def _operation(self, op: _Row, rows: list[_Row]) -> None:
        timed = [r for r in rows if r.ms is not None]
        self.result.untimed += len(rows) - len(timed)
        groups = [list(g) for _, g in groupby(timed, key=lambda r: (r.ms, r.key))]
        if not groups:
            return
        # The attributes of an operation that several events share mix those events: none is written back.
        attrs = {} if op.uid.startswith("op:epcis:xform:") else json.loads(op.attrs or "{}")
        tid = self._transformation_id(op.uid, groups)
        for group in groups:
            inputs = [(r.src_uid, r) for r in group if r.rel == "consumedBy"]
            outputs = [(r.dst_uid, r) for r in group if r.rel == "produces"]
            eid = self._event_id(group[0].key, op.uid, group[0].ms)
            event = self._event("TransformationEvent", eid, group[0].ms, attrs)
            event.update(self._items("input", eid, inputs))
            event.update(self._items("output", eid, outputs))
            if tid is not None:
                event["transformationID"] = tid
            self._write(event)
            self.result.transformations += 1

    def _transformation_id(self, op: str, groups: list[list[_Row]]) -> str | None:
        """The reader's own transformationID or eventID where it names ``op`` again, else op's declared IRI."""
        if op.startswith("op:epcis:xform:"):
            tid = _untoken(op.removeprefix("op:epcis:xform:"))
            if tid is not None:
                return tid
        elif op.startswith("op:epcis:") and len(groups) == 1:
            group = groups[0]
            rels = {r.rel for r in group}
            if group[0].key and token(group[0].key) == op.removeprefix("op:epcis:") and len(rels) == 2 \
                    and _URI.match(group[0].key) and group[0].key not in self.event_ids:
                return None  # an event of its own: its eventID makes the same operation
        return self.ids.declare(str(iri(op)), op)

    # ── containment ───────────────────────────────────────────────────────────
    def aggregations(self) -> None:
        for page in self._pages("TraceableItem", (nodes.c.id, nodes.c.uid)):
            parents = {row.id: row for row in page}
            rows = self._edges((edges.c.rel == "containedIn") & edges.c.dst.in_(list(parents)))
            self.ids.prepare([r.src_uid for r in rows] + [p.uid for p in page])
            observations = self._observations({r.key for r in rows if r.key})
            for (parent, ms, key), group in groupby(rows, key=lambda r: (r.dst, r.ms, r.key)):
                children = list(group)
                if ms is None:
                    self.result.untimed += len(children)
                    continue
                parent_uid = parents[parent].uid
                eid = self._event_id(key, parent_uid, ms)
                event = self._event("AggregationEvent", eid, ms, observations.get(key, {}))
                event["parentID"] = self.ids[parent_uid]
                event.update(self._items("child", eid, [(r.src_uid, r) for r in children]))
                event["action"] = "ADD"
                self._write(event)
                self.result.aggregations += 1

    def _observations(self, keys: set[str]) -> dict[str, dict[str, Any]]:
        """The attributes of the Observations that ingested EPCIS events with these eventIDs made."""
        by_uid = {f"obs:{token(k)}": k for k in keys}
        found: dict[str, dict[str, Any]] = {}
        for chunk in chunks(sorted(by_uid), _PAGE):
            for uid, attrs in self.conn.execute(sa.select(nodes.c.uid, nodes.c.attrs).where(nodes.c.uid.in_(chunk))):
                found[by_uid[uid]] = json.loads(attrs or "{}")
        return found

    # ── events ────────────────────────────────────────────────────────────────
    def _event(self, kind: str, eid: str, ms: int, attrs: dict[str, Any]) -> dict[str, Any]:
        """An event's common fields; those of the ingested event it came from where this is that event."""
        ingested = attrs if attrs.get("eventID") == eid and attrs.get("eventType") == kind else {}
        when = from_epoch_ms(ms)
        assert when is not None
        offset = ingested.get("eventTimeZoneOffset")
        zone = _zone(offset) if isinstance(offset, str) else None
        if zone is not None:
            when = when.astimezone(zone)
        event: dict[str, Any] = {
            "type": kind,
            "eventID": eid,
            "eventTime": when.isoformat(timespec="milliseconds" if when.microsecond else "seconds"),
            "eventTimeZoneOffset": offset if zone is not None else _offset(when),
        }
        event.update((name, ingested[name]) for name in _COPIED if isinstance(ingested.get(name), str))
        for name in ("readPoint", "bizLocation"):
            if isinstance(ingested.get(name), str):
                event[name] = {"id": ingested[name]}
        return event

    def _items(self, role: str, eid: str, items: list[tuple[str, _Row]]) -> dict[str, list[Any]]:
        """EPCs for instances, quantity elements for lots and for anything whose edge has a quantity."""
        epcs: list[str] = []
        quantities: list[dict[str, Any]] = []
        for uid, row in items:
            ident = self.ids.unnamed(uid, role, eid) or self.ids[uid]
            if row.qty is None and not self.ids.is_lot(uid):
                epcs.append(ident)
                continue
            element: dict[str, Any] = {"epcClass": ident}
            if row.qty is not None:
                element["quantity"] = row.qty
            if row.uom is not None:
                code = rec20(row.uom)
                if code is None:
                    self.result.uoms.add(row.uom)
                else:
                    element["uom"] = code
            quantities.append(element)
        epc_name, quantity_name = ("childEPCs", "childQuantityList") if role == "child" else \
            (f"{role}EPCList", f"{role}QuantityList")
        out: dict[str, list[Any]] = {}
        if epcs:
            out[epc_name] = epcs
        if quantities:
            out[quantity_name] = quantities
        return out

    def _event_id(self, key: str, owner: str, ms: int) -> str:
        """The edge key where it is a URI not used yet, else a UUID made from what the event is."""
        eid = key if key and _URI.match(key) and key not in self.event_ids else \
            f"urn:uuid:{uuid.uuid5(_NAMESPACE, f'{owner} {key} {ms}')}"
        self.event_ids.add(eid)
        return eid

    def _write(self, event: dict[str, Any]) -> None:
        self.out.write(("\n" if self.result.events == 0 else ",\n") + json.dumps(event, ensure_ascii=False))

    # ── reading ───────────────────────────────────────────────────────────────
    def _pages(self, ancestor: str, columns: tuple[Any, ...]) -> Iterator[list[_Row]]:
        """Nodes of ``ancestor`` or its subclasses (among the wanted ones), a page at a time by id."""
        kinds = sorted(k for k in self.onto.kinds if self.onto.is_a(k, ancestor))
        if self.wanted is not None:
            for chunk in chunks(sorted(self.wanted), _PAGE):
                q = sa.select(*columns).where(nodes.c.id.in_(chunk), nodes.c.kind.in_(kinds)).order_by(nodes.c.id)
                page = list(self.conn.execute(q))
                if page:
                    yield page
            return
        last = 0
        while True:  # keyset paging keeps memory flat however large the store is
            q = (sa.select(*columns).where(nodes.c.id > last, nodes.c.kind.in_(kinds))
                 .order_by(nodes.c.id).limit(_PAGE))
            page = list(self.conn.execute(q))
            if not page:
                return
            yield page
            last = page[-1].id

    def _edges(self, *where: Any) -> list[_Row]:
        """Live edges matching any of ``where``, both ends wanted, ordered by owner, time and key."""
        src, dst = nodes.alias("s"), nodes.alias("d")
        owner = sa.case((edges.c.rel == "consumedBy", edges.c.dst), (edges.c.rel == "containedIn", edges.c.dst),
                        else_=edges.c.src)
        q = (
            sa.select(edges.c.src, edges.c.dst, edges.c.rel, edges.c.key, edges.c.t.label("ms"), edges.c.qty,
                      edges.c.uom, src.c.uid.label("src_uid"), dst.c.uid.label("dst_uid"))
            .join(src, src.c.id == edges.c.src).join(dst, dst.c.id == edges.c.dst)
            .where(sa.or_(*where), edges.c.retracted.is_(None))
            .order_by(owner, edges.c.t, edges.c.key, edges.c.rel, edges.c.id)
        )
        rows = self.conn.execute(q)
        if self.wanted is None:
            return list(rows)
        return [r for r in rows if r.src in self.wanted and r.dst in self.wanted]


class _Identifiers:
    """The identifier each exported node is written as, and the master data that maps it back."""

    def __init__(self, conn: Connection, onto: Ontology) -> None:
        self.conn = conn
        self.onto = onto
        self.of: dict[str, tuple[str, bool]] = {}  # uid → identifier, and whether it needs declaring
        self.lots: set[str] = set()  # uids of lots (classes in EPCIS: always a quantity element)
        self.owner: dict[str, str] = {}  # identifier → uid
        self.declared: dict[str, str] = {}  # identifier → uid, for the master data

    def __getitem__(self, uid: str) -> str:
        """The identifier of ``uid``, declared in the master data once it is written where it must be."""
        ident, declare = self.of[uid]
        if declare:
            self.declared[ident] = uid
        return ident

    def is_lot(self, uid: str) -> bool:
        return uid in self.lots

    def declare(self, ident: str, uid: str) -> str:
        self.owner[ident] = uid
        self.declared[ident] = uid
        return ident

    def unnamed(self, uid: str, role: str, eid: str) -> str | None:
        """The class an ingested event named for its unnamed lot ``uid``, when this is that event and role."""
        match = _UNNAMED.match(uid)
        if match is None or match.group(2) != role or match.group(3) != token(eid):
            return None
        local = match.group(1)
        cls = gs1.digital_link(f"material:{local}") or local
        found = gs1.parse(cls)
        named = found.uid if found is not None else f"material:{cls}"
        return cls if _URI.match(cls) and named == f"material:{local}" else None

    def prepare(self, uids: Iterable[str]) -> None:
        """Choose the identifiers of the nodes not met yet: a GS1 key's own, a GS1 alias's, or the zhuisu IRI."""
        new = sorted(set(uids) - self.of.keys())
        for chunk in chunks(new, _PAGE):
            kinds: dict[str, str] = {}
            names: dict[str, list[str]] = {}
            q = (sa.select(nodes.c.uid, nodes.c.kind, aliases.c.alias)
                 .outerjoin(aliases, aliases.c.node == nodes.c.id).where(nodes.c.uid.in_(chunk)))
            for uid, kind, alias in self.conn.execute(q):
                kinds[uid] = kind
                if alias is not None:
                    names.setdefault(uid, []).append(alias)
            candidates = {uid: self._gs1_alias(kinds[uid], sorted(names.get(uid, ()))) for uid in chunk
                          if gs1.epc(uid) is None}
            taken = self._existing({c for c in candidates.values() if c is not None})
            for uid in chunk:
                if self.onto.is_a(kinds[uid], "MaterialLot"):
                    self.lots.add(uid)
                self._choose(uid, candidates.get(uid), taken)

    def _choose(self, uid: str, alias_uid: str | None, taken: set[str]) -> None:
        own = gs1.epc(uid)
        if own is not None and self.owner.get(own, uid) == uid:
            self.owner[own] = uid
            self.of[uid] = own, False
            return
        ident = gs1.epc(alias_uid) if alias_uid is not None and alias_uid not in taken else None
        if ident is None or ident in self.owner:
            ident = str(iri(uid))
        self.owner[ident] = uid
        self.of[uid] = ident, True

    def _gs1_alias(self, kind: str, names: list[str]) -> str | None:
        """The uid of a GS1 identifier among a node's aliases, of the node's kind."""
        for alias in names:
            found = gs1.parse(alias)
            if found is not None and self.onto.is_a(kind, found.kind) and gs1.epc(found.uid) is not None:
                return found.uid
        return None

    def _existing(self, uids: set[str]) -> set[str]:
        """The uids that are nodes of their own: their GS1 identifier names them, not another node."""
        out: set[str] = set()
        for chunk in chunks(sorted(uids), _PAGE):
            out.update(self.conn.execute(sa.select(nodes.c.uid).where(nodes.c.uid.in_(chunk))).scalars())
        return out


def _ids(conn: Connection, uids: Iterable[str]) -> set[int]:
    wanted = sorted(set(uids))
    found: dict[str, int] = {}
    for chunk in chunks(wanted, _PAGE):
        found.update((uid, node_id) for uid, node_id in
                     conn.execute(sa.select(nodes.c.uid, nodes.c.id).where(nodes.c.uid.in_(chunk))))
    missing = [u for u in wanted if u not in found]
    if missing:
        raise NotFound(f"找不到 not found: {len(missing)} uid(s) not in the store, e.g. {missing[:3]}")
    return set(found.values())


def _untoken(local: str) -> str | None:
    """The transformationID whose readable form (ingest/epcis.py ``token``) is ``local``, where one is."""
    match = _SHA.match(local)
    for candidate in (f"urn:uuid:{local}" if _UUID.match(local) else None,
                      f"ni:///sha-256;{match.group(1)}" if match else None, local):
        if candidate is not None and _URI.match(candidate) and token(candidate) == local:
            return candidate
    return None


def _zone(offset: str) -> timezone | None:
    match = re.match(r"^([+-])(\d\d):(\d\d)$", offset)
    if match is None:
        return None
    delta = timedelta(hours=int(match.group(2)), minutes=int(match.group(3)))
    return timezone(-delta if match.group(1) == "-" else delta)


def _offset(when: datetime) -> str:
    text = when.strftime("%z")
    return f"{text[:3]}:{text[3:]}"

"""Captured EPCIS events as stored for the query interface: one row per event plus its identifiers by role.

The graph keeps what an event means; this keeps the event itself, so ``GET /epcis/events`` returns it as it
was captured (with the eventID the server gave it where it had none, and its recordTime).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zhuisu.api.schema import epcis_event_ids, epcis_events
from zhuisu.ingest import epcis, gs1
from zhuisu.ingest.records import epoch_ms

STANDARD_CONTEXT = "https://ref.gs1.org/standards/epcis/epcis-context.jsonld"
INSTANCE_ROLES = ("epc", "parent", "input", "output")
CLASS_ROLES = ("class", "input_class", "output_class")


@dataclass(slots=True)
class StoredEvent:
    """An event ready to store: its body, the indexed fields, and the identifiers it names."""

    event_id: str
    event_type: str
    event_time: int
    body: dict[str, Any]
    action: str | None = None
    biz_step: str | None = None
    disposition: str | None = None
    read_point: str | None = None
    biz_location: str | None = None
    error_declared: bool = False
    ids: list[tuple[str, str]] = field(default_factory=list)  # (role, normalised identifier)

    @property
    def digest(self) -> str:
        """What identifies the stored event: its body without the record time the server gives it."""
        content = {k: v for k, v in self.body.items() if k != "recordTime"}
        text = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


def prepare(raw: dict[str, Any], event: epcis.Event, doc_context: Any, record_time: datetime) -> StoredEvent:
    """The stored form of a captured event: eventID filled in where missing, recordTime set, and the prefixes
    its document declared carried on the event itself so it reads the same outside that document."""
    eid = epcis.event_id(event)
    body = dict(raw)
    body.setdefault("eventID", eid)
    body["recordTime"] = record_time.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    context = _declarations(doc_context) + _declarations(raw.get("@context"))
    if context:
        body["@context"] = context
    else:
        body.pop("@context", None)
    ready = epcis.canonical(event)
    ids = [("parent", _norm(event.parent_id))] if event.parent_id else []
    ids += [("epc", _norm(x)) for x in event.epcs]
    ids += [("input", _norm(x)) for x in event.inputs]
    ids += [("output", _norm(x)) for x in event.outputs]
    ids += [("class", _norm(q.epc_class)) for q in event.quantities]
    ids += [("input_class", _norm(q.epc_class)) for q in event.input_quantities]
    ids += [("output_class", _norm(q.epc_class)) for q in event.output_quantities]
    return StoredEvent(
        event_id=eid, event_type=event.type, event_time=int(epoch_ms(event.event_time) or 0), body=body,
        action=event.action, biz_step=ready.biz_step, disposition=ready.disposition,
        read_point=_norm(event.read_point) if event.read_point else None,
        biz_location=_norm(event.biz_location) if event.biz_location else None,
        error_declared=event.error is not None, ids=sorted({(r, v) for r, v in ids if v}),
    )


def _declarations(context: Any) -> list[Any]:
    """The prefix declarations (objects) of a JSON-LD ``@context``; the standard context is implied."""
    items = context if isinstance(context, list) else [context]
    return [item for item in items if isinstance(item, dict) and item]


def _norm(identifier: str | None) -> str:
    """An identifier as matched: the uid a GS1 URN or Digital Link names, or the text itself."""
    if not identifier:
        return ""
    found = gs1.parse(identifier)
    return found.uid if found else identifier.strip()


def save(conn: Connection, events: Iterable[StoredEvent], *, capture_id: str, batch: int | None,
         record_time: int) -> int:
    """Insert events not stored before (by digest); returns how many were new."""
    added = 0
    for item in events:
        digest = item.digest
        if conn.execute(sa.select(epcis_events.c.id).where(epcis_events.c.digest == digest)).first():
            continue
        row_id = conn.execute(epcis_events.insert().values(
            event_id=item.event_id, digest=digest, event_type=item.event_type, event_time=item.event_time,
            record_time=record_time, action=item.action, biz_step=item.biz_step, disposition=item.disposition,
            read_point=item.read_point, biz_location=item.biz_location, error_declared=int(item.error_declared),
            capture_id=capture_id, batch=batch,
            body=json.dumps(item.body, ensure_ascii=False, separators=(",", ":")).encode(),
        )).inserted_primary_key[0]  # type: ignore[index]
        if item.ids:
            conn.execute(epcis_event_ids.insert(), [{"event": row_id, "role": r, "value": v} for r, v in item.ids])
        added += 1
    return added


def find(conn: Connection, event_id: str) -> list[dict[str, Any]]:
    """The stored events with this eventID (an event and its error declarations), oldest first."""
    q = sa.select(epcis_events.c.body).where(epcis_events.c.event_id == event_id).order_by(epcis_events.c.id)
    return [json.loads(body) for (body,) in conn.execute(q)]


# ── the query ──────────────────────────────────────────────────────────────────
@dataclass(slots=True)
class EventQuery:
    """The EPCIS query parameters this repository answers (the ones left empty do not filter)."""

    event_types: list[str] = field(default_factory=list)
    ge_event_time: int | None = None
    lt_event_time: int | None = None
    ge_record_time: int | None = None
    lt_record_time: int | None = None
    actions: list[str] = field(default_factory=list)
    biz_steps: list[str] = field(default_factory=list)
    dispositions: list[str] = field(default_factory=list)
    read_points: list[str] = field(default_factory=list)
    biz_locations: list[str] = field(default_factory=list)
    event_ids: list[str] = field(default_factory=list)
    error_declared: bool | None = None
    match: dict[tuple[str, ...], list[str]] = field(default_factory=dict)  # roles → identifiers or patterns

    def conditions(self) -> list[Any]:
        e = epcis_events.c
        out: list[Any] = []
        if self.event_types:
            out.append(e.event_type.in_(self.event_types))
        for column, lo, hi in ((e.event_time, self.ge_event_time, self.lt_event_time),
                               (e.record_time, self.ge_record_time, self.lt_record_time)):
            if lo is not None:
                out.append(column >= lo)
            if hi is not None:
                out.append(column < hi)
        if self.actions:
            out.append(e.action.in_(self.actions))
        if self.biz_steps:
            out.append(e.biz_step.in_([epcis.cbv_term(v, "bizstep") for v in self.biz_steps]))
        if self.dispositions:
            out.append(e.disposition.in_([epcis.cbv_term(v, "disp") for v in self.dispositions]))
        if self.read_points:
            out.append(e.read_point.in_([_norm(v) for v in self.read_points]))
        if self.biz_locations:
            out.append(e.biz_location.in_([_norm(v) for v in self.biz_locations]))
        if self.event_ids:
            out.append(e.event_id.in_(self.event_ids))
        if self.error_declared is not None:
            out.append(e.error_declared == int(self.error_declared))
        for roles, values in self.match.items():
            i = epcis_event_ids.c
            named = sa.select(i.event).where(i.role.in_(roles), sa.or_(*(_matches(i.value, v) for v in values)))
            out.append(e.id.in_(named))
        return out


def _matches(column: Any, value: str) -> Any:
    """EPCIS 'matches' (8.2.7.1.1): the same identifier in any spelling, or an ``idpat`` pattern / a trailing
    ``*``, which names every instance and lot of a trade item."""
    text = value.strip()
    pattern = text.startswith("urn:epc:idpat:") or text.endswith("*")
    found = gs1.parse(text)
    if pattern and found is not None and found.uid.startswith("material:"):
        gtin = found.uid.removeprefix("material:")
        return sa.or_(column == found.uid, column.like(f"unit:{gtin}.%"), column.like(f"lot:{gtin}.%"))
    return column == (found.uid if found else text)


def select(conn: Connection, query: EventQuery, *, after: int, limit: int) -> tuple[list[dict[str, Any]], int | None]:
    """Up to ``limit`` matching events after row ``after``, in capture order, and the last row's id if more
    follow."""
    q = (sa.select(epcis_events.c.id, epcis_events.c.body)
         .where(epcis_events.c.id > after, *query.conditions()).order_by(epcis_events.c.id).limit(limit + 1))
    rows = conn.execute(q).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return [json.loads(body) for _, body in rows], (rows[-1][0] if more and rows else None)


def query_document(events: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """An EPCISQueryDocument holding ``events``."""
    return {
        "@context": [STANDARD_CONTEXT],
        "type": "EPCISQueryDocument",
        "schemaVersion": "2.0",
        "creationDate": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "epcisBody": {"queryResults": {"queryName": "SimpleEventQuery", "resultsBody": {"eventList": list(events)}}},
    }


def bare(event: dict[str, Any]) -> dict[str, Any]:
    """An event as a document of its own: with the standard context first, as a bare event must have."""
    own = event.get("@context")
    items = own if isinstance(own, list) else ([own] if own else [])
    return {**event, "@context": [STANDARD_CONTEXT, *items]}


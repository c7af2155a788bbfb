"""Capturing EPCIS documents: checked when received, then committed by a capture job.

A document is read and checked against the EPCIS 2.0 JSON schema before the request is answered, so an
invalid one gets its 400 at once; the commit (graph batch, then the stored events) runs as the capture job
that ``GET /epcis/capture/{id}`` reports. Both writes are idempotent, so a job cut short by a stopped server
is marked failed and the document can simply be sent again.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

import sqlalchemy as sa
from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for

from zhuisu.api import schema
from zhuisu.api.epcis import repository
from zhuisu.api.epcis.repository import StoredEvent
from zhuisu.api.schema import capture_jobs
from zhuisu.errors import BadInput, ZhuisuError
from zhuisu.graph.store import Store
from zhuisu.ingest import epcis, epcis_json
from zhuisu.ingest.records import Batch

log = logging.getLogger("zhuisu.api.epcis")
BEHAVIOURS = ("rollback", "proceed")
_DOCUMENTS = ("EPCISDocument", "EPCISQueryDocument")


class InvalidDocument(BadInput):
    """A document or event that the EPCIS 2.0 JSON schema (or JSON itself) rejects; ``extra`` names the rule."""

    problem_type = "epcisException:ValidationException"

    def __init__(self, message: str, *, where: str | None = None, rule: dict[str, Any] | None = None) -> None:
        super().__init__(message, where=where)
        self.extra = {"rule": rule} if rule else {}


@dataclass(slots=True)
class Received:
    """A checked document: its events ready to store, and the batch of what they mean."""

    name: str
    events: list[StoredEvent]
    parsed: list[epcis.Event]
    master: list[epcis.MasterData]
    batch: Batch
    received: datetime


def receive(body: bytes, *, name: str, single: bool = False) -> Received:
    """Read and check a capture body (a document, or with ``single`` one bare event); 400 names the rule."""
    try:
        doc = json.loads(body)
    except ValueError as exc:
        raise InvalidDocument(f"JSON 格式错误 malformed JSON: {exc}", where=name,
                              rule={"standard": "RFC 8259 (JSON)", "keyword": "syntax"}) from None
    if single and isinstance(doc, dict) and doc.get("type") in _DOCUMENTS:
        raise InvalidDocument("POST /epcis/events takes one event, not a document; send documents to /epcis/capture",
                              where=name,
                              rule={"standard": "EPCIS 2.0 REST binding", "keyword": "EPCIS-Document-Event"})
    try:
        events, master = epcis_json.parse(doc, name)
    except BadInput as exc:
        rule, detail = _rule(doc)
        raise InvalidDocument(detail or exc.message, where=exc.where, rule=rule) from None
    if not events:
        raise InvalidDocument("文档中没有事件 the document holds no events", where=name,
                              rule={"standard": "EPCIS 2.0", "keyword": "eventList"})
    now = datetime.now(UTC)
    context = doc.get("@context") if isinstance(doc, dict) and doc.get("type") in _DOCUMENTS else None
    stored = [repository.prepare(raw, event, context, now) for raw, event in events]
    parsed = [event for _raw, event in events]
    return Received(name, stored, parsed, master, epcis.to_batch(f"epcis:{name}", parsed, master), now)


@cache
def _validator() -> Any:
    document = json.loads(epcis.schema_file(epcis_json.SCHEMA).read_text(encoding="utf-8"))
    cls = validator_for(document)
    return cls(document, format_checker=cls.FORMAT_CHECKER)


def _rule(doc: Any) -> tuple[dict[str, Any], str | None]:
    """The schema rule a document breaks (keyword, where in the schema, where in the document) and, where the
    broken rule is a choice (``anyOf``), a message naming what each allowed form wanted."""
    error = best_match(_validator().iter_errors(doc))
    if error is None:
        return {"standard": "EPCIS 2.0", "keyword": "event"}, None
    detail = None
    while error.context:  # a choice of forms, none of which fits: name the field the forms disagree on
        depth = max(len(c.absolute_path) for c in error.context)
        deepest = [c for c in error.context if len(c.absolute_path) == depth]
        chosen = best_match(deepest)
        if chosen is None or depth <= len(error.absolute_path):
            break
        same = [c for c in deepest if list(c.absolute_path) == list(chosen.absolute_path)]
        where = "/" + "/".join(str(p) for p in chosen.absolute_path)
        detail = f"{where}: " + ("; ".join(dict.fromkeys(" ".join(c.message.split())[:160] for c in same))
                                 if len(same) > 1 else " ".join(chosen.message.split())[:240])
        error = chosen
    shown = repr(error.instance)
    if detail is None and len(shown) > 80 and error.message.startswith(shown):  # a message quoting a whole object
        detail = f"/{'/'.join(str(p) for p in error.absolute_path)}: the value{error.message[len(shown):]}"
    rule = {"standard": "EPCIS 2.0 JSON Schema", "keyword": str(error.validator),
            "schemaPath": "#/" + "/".join(str(p) for p in error.absolute_schema_path),
            "instancePath": "/" + "/".join(str(p) for p in error.absolute_path)}
    return rule, detail


@dataclass(frozen=True, slots=True)
class Job:
    """A capture job as the REST binding shows it."""

    id: str
    created_at: int
    finished_at: int | None
    running: bool
    success: bool
    behaviour: str
    events: int
    captured: int
    errors: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"captureID": self.id, "createdAt": _iso(self.created_at), "running": self.running,
                               "success": self.success, "captureErrorBehaviour": self.behaviour,
                               "errors": self.errors, "eventCount": self.events, "capturedCount": self.captured}
        if self.finished_at is not None:
            out["finishedAt"] = _iso(self.finished_at)
        return out


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def open_job(store: Store, *, behaviour: str, events: int) -> str:
    """Record a new running job; returns its id."""
    job_id = "cap-" + secrets.token_hex(8)
    with schema.writing(store) as conn:
        conn.execute(capture_jobs.insert().values(id=job_id, created_at=schema.now_ms(), running=1, success=1,
                                                  behaviour=behaviour, events=events, captured=0, errors="[]"))
    return job_id


def run(store: Store, job_id: str, received: Received, *, behaviour: str,
        on_commit: Callable[[], Any] = lambda: None) -> Job:
    """Commit a received document as job ``job_id``: all or nothing (``rollback``), or event by event
    (``proceed``) when the whole cannot be committed."""
    errors: list[dict[str, Any]] = []
    captured = 0
    batch_id = None
    try:
        batch_id, captured = _commit(store, job_id, received, received.events, received.batch)
    except ZhuisuError as exc:
        errors.append(_problem(exc, None))
        if behaviour == "proceed" and exc.status < 500:
            errors.clear()
            for i, (item, event) in enumerate(zip(received.events, received.parsed, strict=True)):
                one = epcis.to_batch(f"epcis:{received.name}#{i + 1}", [event], received.master)
                try:
                    batch_id, added = _commit(store, job_id, received, [item], one)
                    captured += added
                except ZhuisuError as event_error:
                    errors.append(_problem(event_error, i))
    except Exception as exc:  # the job must end with a status whatever went wrong; the log has the rest
        log.exception("capture job %s failed", job_id)
        errors.append({"type": "epcisException:ImplementationException", "title": "内部错误 Internal error",
                       "status": 500, "detail": f"{type(exc).__name__}: the server log has the details"})
    if captured:
        on_commit()
    with schema.writing(store) as conn:
        conn.execute(capture_jobs.update().where(capture_jobs.c.id == job_id).values(
            running=0, success=int(not errors), finished_at=schema.now_ms(), captured=captured, batch=batch_id,
            errors=json.dumps(errors, ensure_ascii=False)))
    found = get(store, job_id)
    assert found is not None
    return found


def _commit(store: Store, job_id: str, received: Received, events: list[StoredEvent],
            batch: Batch) -> tuple[int, int]:
    result = store.ingest(batch)
    with schema.writing(store) as conn:
        added = repository.save(conn, events, capture_id=job_id, batch=result.batch,
                                record_time=int(received.received.timestamp() * 1000))
    return result.batch, added


def _problem(exc: ZhuisuError, index: int | None) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "epcisException:ValidationException" if exc.status < 500
                           else "epcisException:ImplementationException",
                           "title": "事件未能保存 Event not captured",
                           "status": exc.status if exc.status < 500 else 500,
                           "detail": str(exc)}
    if index is not None:
        out["instance"] = f"#/epcisBody/eventList/{index}"
    return out


def get(store: Store, job_id: str) -> Job | None:
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(capture_jobs).where(capture_jobs.c.id == job_id)).first()
    return _job(row) if row is not None else None


def jobs(store: Store, *, after: int, limit: int) -> tuple[list[Job], int | None]:
    """Jobs in creation order after position ``after``, and the last one's position if more follow."""
    q = sa.select(capture_jobs).where(capture_jobs.c.seq > after).order_by(capture_jobs.c.seq).limit(limit + 1)
    with store.engine.connect() as conn:
        rows = conn.execute(q).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return [_job(r) for r in rows], (rows[-1].seq if more and rows else None)


def recover(store: Store, *, older_than_s: float = 600) -> int:
    """Mark jobs that a stopped server left running (started over ``older_than_s`` ago) as failed; their
    documents may be sent again."""
    problem = {"type": "epcisException:ImplementationException", "title": "任务中断 Job interrupted", "status": 500,
               "detail": "the server stopped before this job finished; capture the document again (it is idempotent)"}
    with schema.writing(store) as conn:
        stale = schema.now_ms() - int(older_than_s * 1000)
        return int(conn.execute(capture_jobs.update().where(capture_jobs.c.running == 1,
                                                            capture_jobs.c.created_at < stale).values(
            running=0, success=0, finished_at=schema.now_ms(), errors=json.dumps([problem]))).rowcount)


def _job(row: Any) -> Job:
    return Job(id=row.id, created_at=row.created_at, finished_at=row.finished_at, running=bool(row.running),
               success=bool(row.success), behaviour=row.behaviour, events=row.events, captured=row.captured,
               errors=json.loads(row.errors or "[]"))

"""Committing batches for the API: idempotency keys, then a refresh so queries see the batch at once."""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import DataError, IntegrityError

from zhuisu.api.errors import Conflict, TooLarge
from zhuisu.api.ingest.models import BatchCreate, BatchLog, BatchRead, MaintenanceNote
from zhuisu.api.live import LiveGraph
from zhuisu.errors import BadInput, ZhuisuError
from zhuisu.graph.schema import ingest_log
from zhuisu.graph.store import IngestResult, Store
from zhuisu.ingest.connectors import rows
from zhuisu.ingest.records import Batch, Edge, Node

log = logging.getLogger("zhuisu.api")
_FILE_NAME = re.compile(r"^[^/\\\x00-\x1f]{1,200}$")


def to_batch(body: BatchCreate, *, key: str | None) -> Batch:
    """The canonical batch of a request body; a client's idempotency key is kept apart from content hashes."""
    return Batch(
        source=f"api:{body.source}" if body.source else "api",
        nodes=[Node(n.uid, n.kind, n.name, n.attrs, tuple(n.aliases)) for n in body.nodes],
        edges=[Edge(e.src, e.rel, e.dst, e.time, e.quantity, e.uom, e.key, e.attrs) for e in body.edges],
        retract=list(body.retract),
        key=f"api:{key}" if key else None,
    )


def commit(*, store: Store, graph: LiveGraph, batch: Batch) -> BatchRead:
    """Commit a batch (atomic, idempotent), then bring the graph up to date; re-using a key for other content
    is a conflict."""
    body = batch.to_json()
    if b"\\u0000" in body:
        raise BadInput("文本含 NUL 字符 a value holds the NUL character (\\u0000), which the store cannot keep")
    key = batch.idempotency_key(body)
    if batch.key:
        with store.engine.connect() as conn:
            stored = conn.execute(sa.select(ingest_log.c.payload).where(ingest_log.c.key == key)).scalar()
        if stored is not None and bytes(stored) != batch.payload(body):
            raise Conflict(f"幂等键已用于不同内容 idempotency key {key.removeprefix('api:')!r} was already used for "
                           "other records; use a new key for new content")
    try:
        result = store.ingest(batch)
    except (IntegrityError, DataError) as exc:  # a value the database refuses (length, type)
        raise BadInput(f"存储拒绝了这批记录 the store refused the batch: {exc.orig}") from None
    graph.refresh(only_if_stale=True)
    return read(result, batch.source, graph)


def read(result: IngestResult, source: str, graph: LiveGraph) -> BatchRead:
    return BatchRead(batch=result.batch, key=result.key.removeprefix("api:"), source=source,
                     skipped=result.skipped, nodes_added=result.nodes_added, nodes_updated=result.nodes_updated,
                     edges_added=result.edges_added, edges_retracted=result.edges_retracted,
                     graph_batch=graph.batch)


def batches(*, store: Store, after: int = 0, limit: int = 100) -> tuple[list[BatchLog], int | None]:
    """Entries of the ingest log after batch ``after``, oldest first, and the last one's number if more follow."""
    q = (sa.select(ingest_log.c.id, ingest_log.c.source, ingest_log.c.key, ingest_log.c.received_at,
                   ingest_log.c.nodes, ingest_log.c.edges, ingest_log.c.retracted)
         .where(ingest_log.c.id > after).order_by(ingest_log.c.id).limit(limit + 1))
    with store.engine.connect() as conn:
        found = [_log(row) for row in conn.execute(q)]
    more = len(found) > limit
    return found[:limit], found[limit - 1].batch if more else None


def batch(*, store: Store, number: int) -> BatchLog | None:
    q = (sa.select(ingest_log.c.id, ingest_log.c.source, ingest_log.c.key, ingest_log.c.received_at,
                   ingest_log.c.nodes, ingest_log.c.edges, ingest_log.c.retracted).where(ingest_log.c.id == number))
    with store.engine.connect() as conn:
        row = conn.execute(q).first()
    return _log(row) if row is not None else None


def _log(row: Any) -> BatchLog:
    return BatchLog(batch=row.id, source=row.source, key=row.key.removeprefix("api:"),
                    received_at=datetime.fromtimestamp(row.received_at / 1000, tz=UTC), nodes=row.nodes,
                    edges=row.edges, retracted=row.retracted)


def notes_batch(notes: Iterable[MaintenanceNote], *, key: str | None) -> Batch:
    """The MaintenanceOrder records of notes, built as the ``maintenance`` table builds them from a file."""
    items = [n.model_dump() for n in notes]
    nodes, edges = rows.records("maintenance", items, source="maintenance-notes")
    return Batch(source="api:maintenance-notes", nodes=nodes, edges=edges, key=f"api:{key}" if key else None)


def extract(*, store: Store, graph: LiveGraph, since_batch: int) -> BatchRead | None:
    """Read the maintenance notes committed after ``since_batch`` with the NLP pipeline and commit what they say."""
    from zhuisu.nlp.enrich import enrich

    batch = enrich(store, since_batch=since_batch)
    if not batch.nodes and not batch.edges:
        return None
    return commit(store=store, graph=graph, batch=batch)


class Upload:
    """Uploaded table files in a private temporary folder, written in chunks within a size limit."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.size = 0
        self.folder = Path(tempfile.mkdtemp(prefix="zhuisu-upload-"))
        self.names: list[str] = []

    def add(self, name: str | None, chunks: Iterable[bytes]) -> Path:
        base = Path((name or "").replace("\\", "/")).name
        if not base or base in {".", ".."} or not _FILE_NAME.match(base):
            raise BadInput(f"文件名无效 unusable file name {name!r}; name each file after its table, e.g. lots.csv",
                           where="files")
        if base in self.names:
            raise BadInput(f"文件重复 {base} is uploaded twice", where="files")
        path = self.folder / base
        with path.open("wb") as out:
            for chunk in chunks:
                self.size += len(chunk)
                if self.size > self.limit:
                    raise TooLarge(f"上传过大 the upload is over {self.limit >> 20} MiB (ZHUISU_API_MAX_BODY_MB); "
                                   "split it into several uploads")
                out.write(chunk)
        self.names.append(base)
        return path

    def batches(self, mapping: Path | None) -> Iterable[Batch]:
        from zhuisu.ingest.registry import get

        return get("csv")(self.folder, mapping=mapping) if mapping else get("csv")(self.folder)

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def commit_all(*, store: Store, graph: LiveGraph, batches: Iterable[Batch]) -> list[BatchRead]:
    """Commit batches in order, each atomically; an error says how many were kept before it."""
    done: list[BatchRead] = []
    try:
        for item in batches:
            done.append(commit(store=store, graph=graph, batch=item))
    except ZhuisuError as exc:
        if done:
            exc.message += f" — 此前已提交 {len(done)} 批 the {len(done)} batches committed before it are kept"
        raise
    return done

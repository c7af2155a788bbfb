"""Incremental, resumable sync of the store into Neo4j with batched ``UNWIND … MERGE`` statements.

A sync covers the batches after the last one synced (the watermark) up to the newest one when it starts:
nodes changed since the watermark first, then edges added, then edges retracted, each in chunks of about
10,000 rows, one Neo4j transaction per chunk. After each chunk commits in Neo4j its position is saved in
the store's ``meta`` table, so a sync that crashes resumes where it stopped; redoing a chunk whose commit
was not yet recorded changes nothing, since every statement merges on identity or deletes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import sqlalchemy as sa

from zhuisu.graph.neo4j import cypher
from zhuisu.graph.neo4j.connect import Neo4jUnavailable, Target, failure
from zhuisu.graph.neo4j.rows import CHUNK, Chunk, edge_chunks, node_chunks, retraction_chunks
from zhuisu.graph.schema import meta
from zhuisu.graph.store import Store

PHASES = ("nodes", "edges", "retractions")
Work = list[tuple[cypher.Statement, list[dict[str, Any]]]]


class Sink(Protocol):
    """Where statements go: a Neo4j database (``Neo4jSink``) or, in tests, a stand-in."""

    def schema(self, statements: list[cypher.Statement]) -> None:
        """Run schema statements, each on its own (Neo4j runs schema changes outside data transactions)."""

    def write(self, work: Work) -> list[int | None]:
        """Run each statement on its rows in one transaction; return their ``written`` counts (or None)."""


@dataclass(slots=True)
class Progress:
    """The sync watermark of one Neo4j database, and the position of a run in progress."""

    synced: int = 0  # every batch up to this one is in Neo4j
    upto: int | None = None  # the newest batch of the run in progress (None: no run in progress)
    phase: str = PHASES[0]
    after: int = 0  # store id of the last row of ``phase`` written

    @staticmethod
    def key(target: str) -> str:
        """The ``meta`` row name for a target (hashed: names are at most 40 characters)."""
        return "neo4j:" + hashlib.sha256(target.encode()).hexdigest()[:32]


@dataclass(slots=True)
class SyncResult:
    """What a sync wrote."""

    target: str
    synced: int
    resumed: bool
    nodes: int = 0
    edges: int = 0
    retracted: int = 0
    chunks: int = 0
    statements: dict[str, int] = field(default_factory=dict)  # rows sent per statement name


def load_progress(store: Store, target: str) -> Progress:
    """The saved progress for ``target`` (a fresh one if it was never synced)."""
    with store.engine.connect() as conn:
        value = conn.execute(sa.select(meta.c.value).where(meta.c.name == Progress.key(target))).scalar()
    if value is None:
        return Progress()
    doc = json.loads(value)
    return Progress(**{k: doc[k] for k in ("synced", "upto", "phase", "after")})


def save_progress(store: Store, target: str, progress: Progress) -> None:
    """Record ``progress`` for ``target`` in the store's ``meta`` table (committed on return)."""
    name = Progress.key(target)
    value = json.dumps({"target": target, **asdict(progress)}, ensure_ascii=False)
    with store.engine.begin() as conn:
        if conn.execute(meta.update().where(meta.c.name == name).values(value=value)).rowcount == 0:
            conn.execute(meta.insert().values(name=name, value=value))


def sync(store: Store, sink: Sink, target: str, *, full: bool = False, since: int | None = None,
         size: int = CHUNK, on_chunk: Callable[[SyncResult], None] | None = None) -> SyncResult:
    """Bring ``sink`` up to date with the store: what changed since the last sync, resuming a broken one.

    ``full`` rewrites everything; ``since`` declares batches up to that one already there (imported files).
    """
    onto = store.ontology
    if full or since is not None:
        progress = Progress(synced=since or 0)
    else:
        progress = load_progress(store, target)
    result = SyncResult(target=target, synced=progress.synced, resumed=progress.upto is not None)
    sink.schema(cypher.schema_statements(onto))
    if progress.upto is None:
        progress.upto, progress.phase, progress.after = store.last_batch(), PHASES[0], 0
        save_progress(store, target, progress)
    for phase in PHASES[PHASES.index(progress.phase):]:
        progress.phase = phase
        for chunk in _chunks(store, phase, progress, size):
            _write(sink, store, phase, chunk, result)
            progress.after = chunk.last_id
            save_progress(store, target, progress)
            if on_chunk is not None:
                on_chunk(result)
        progress.after = 0
    result.synced = progress.upto
    save_progress(store, target, Progress(synced=progress.upto))
    return result


def _chunks(store: Store, phase: str, progress: Progress, size: int) -> Iterator[Chunk]:
    assert progress.upto is not None
    if phase == "nodes":
        # Not bounded by ``upto``: an edge of this run may join a node changed again since it started, and the
        # node must exist before the edge; writing the newer node now is harmless.
        return node_chunks(store, since=progress.synced, after=progress.after, size=size)
    chunks = edge_chunks if phase == "edges" else retraction_chunks
    return chunks(store, since=progress.synced, upto=progress.upto, after=progress.after, size=size)


def _write(sink: Sink, store: Store, phase: str, chunk: Chunk, result: SyncResult) -> None:
    onto = store.ontology
    groups: dict[str, tuple[cypher.Statement, list[dict[str, Any]]]] = {}
    for row in chunk.rows:
        if phase == "nodes":
            statement = cypher.node_statement(row["kind"], onto)
        else:
            rel, src_kind, dst_kind = row.pop("rel"), row.pop("src_kind"), row.pop("dst_kind")
            statement = cypher.edge_statement(rel, src_kind, dst_kind, onto, delete=phase == "retractions")
        groups.setdefault(statement.name, (statement, []))[1].append(row)
    work = sorted(groups.values(), key=lambda item: item[0].name)
    written = sink.write(work)
    for (statement, rows), count in zip(work, written, strict=True):
        if count is not None and count != len(rows):
            raise Neo4jUnavailable(
                f"{len(rows) - count} 条关系未写入 relationships not written by {statement.name}: their end "
                "nodes are missing in Neo4j (deleted there?); run `zhuisu neo4j sync --full` to rewrite all"
            )
        result.statements[statement.name] = result.statements.get(statement.name, 0) + len(rows)
    result.chunks += 1
    count = len(chunk.rows)
    if phase == "nodes":
        result.nodes += count
    elif phase == "edges":
        result.edges += count
    else:
        result.retracted += count


class Neo4jSink:
    """Statements run on a Neo4j database through the official driver."""

    def __init__(self, driver: Any, database: str) -> None:
        self.driver = driver
        self.database = database

    def schema(self, statements: list[cypher.Statement]) -> None:
        """Run each schema statement in its own auto-commit transaction."""
        from neo4j.exceptions import DriverError, Neo4jError

        try:
            with self.driver.session(database=self.database) as session:
                for statement in statements:
                    text, params = statement.bind()
                    session.run(text, params).consume()
        except (Neo4jError, DriverError) as exc:
            raise Neo4jUnavailable(f"Neo4j 建约束失败 schema statement failed: {failure(exc)}") from None

    def write(self, work: Work) -> list[int | None]:
        """Run the statements in one managed write transaction (retried by the driver on transient errors)."""
        from neo4j.exceptions import DriverError, Neo4jError

        def run(tx: Any) -> list[int | None]:
            out: list[int | None] = []
            for statement, rows in work:
                text, params = statement.bind(rows=rows)
                record = tx.run(text, params).single()
                out.append(None if record is None else int(record["written"]))
            return out

        try:
            with self.driver.session(database=self.database) as session:
                return session.execute_write(run)
        except (Neo4jError, DriverError) as exc:
            raise Neo4jUnavailable(f"Neo4j 写入失败 write failed: {failure(exc)}") from None


def sync_to(store: Store, target: Target, *, full: bool = False, since: int | None = None,
            on_chunk: Callable[[SyncResult], None] | None = None) -> SyncResult:
    """Sync the store into the Neo4j database ``target`` with the official driver."""
    from zhuisu.graph.neo4j.connect import driver

    with driver(target) as drv:
        return sync(store, Neo4jSink(drv, target.database), target.label, full=full, since=since,
                    on_chunk=on_chunk)

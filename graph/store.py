"""The durable store: an append-only ingest log plus materialised nodes, aliases and edges."""

from __future__ import annotations

import itertools
import json
import os
import re
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from zhuisu import config
from zhuisu.errors import BadInput, NotFound, StoreError
from zhuisu.graph import schema
from zhuisu.graph.engine import chunks, no_cycle_collection
from zhuisu.graph.schema import aliases, edges, ingest_log, nodes, retractions
from zhuisu.ingest.records import Batch, Edge, EdgeColumns, Node, json_encoder
from zhuisu.ontology import Ontology, load

_CHUNK = 500  # bound parameters per IN (...) lookup
_ROWS_PER_INSERT = 500  # rows per INSERT statement on SQLite, as many as its bound-parameter limit allows
_PG_LOCK = 0x7A6875  # advisory lock that serialises writers on PostgreSQL


@dataclass(frozen=True, slots=True)
class IngestResult:
    """What one committed (or skipped) batch did."""

    batch: int
    key: str
    skipped: bool
    nodes_added: int = 0
    nodes_updated: int = 0
    edges_added: int = 0
    edges_retracted: int = 0


@dataclass(frozen=True, slots=True)
class NodeRecord:
    """A node as stored."""

    id: int
    uid: str
    kind: str
    name: str | None
    attrs: dict[str, Any] = field(default_factory=dict)


def normalise_url(url: str | os.PathLike[str]) -> str:
    """Accept plain paths and ``postgresql://`` URLs as well as SQLAlchemy URLs."""
    url = str(url)
    if "://" not in url:
        return f"sqlite:///{url}"
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


class Store:
    """The system of record; ``Store()`` opens the database named by ``ZHUISU_DB_URL``."""

    def __init__(self, url: str | os.PathLike[str] | None = None, *, ontology: Ontology | None = None) -> None:
        self.url = normalise_url(url or config.db_url())
        self.ontology = ontology or load()
        try:
            self.engine = sa.create_engine(self.url, future=True)
        except (SQLAlchemyError, ImportError) as exc:
            raise StoreError(f"无法打开存储 cannot open store {self.url!r}: {exc}") from None
        self.dialect = self.engine.dialect.name
        if self.dialect == "sqlite":
            _sqlite_setup(self.engine)
        try:
            schema.metadata.create_all(self.engine)
        except OperationalError as exc:
            raise StoreError(f"无法打开存储 cannot open store {self.url!r}: {exc.orig}") from None

    def close(self) -> None:
        self.engine.dispose()

    # ── writing ────────────────────────────────────────────────────────────────
    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """The batch writer's transaction. On SQLite it runs without per-row foreign-key checks: the writer
        takes every edge end from ``nodes`` (looked up, or inserted in the same transaction) and never
        deletes a node, so the checks could not fail, and they cost a fifth of a bulk insert."""
        with self.engine.connect() as conn:
            try:
                with conn.execution_options(immediate=True, trusted=True).begin():
                    if self.dialect == "postgresql":
                        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK})
                    yield conn
            finally:
                if self.dialect == "sqlite":  # outside any transaction, where the pragma takes effect
                    conn.connection.dbapi_connection.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]

    def ingest(self, batch: Batch) -> IngestResult:
        """Commit a batch atomically; a batch whose key was already committed changes nothing."""
        with no_cycle_collection():  # every object built here is acyclic: reference counting frees it
            return self._ingest(_Prepared(batch))

    def _ingest(self, ready: _Prepared) -> IngestResult:
        batch, key = ready.batch, ready.key
        try:
            with self._write() as conn:
                done = conn.execute(sa.select(ingest_log.c.id).where(ingest_log.c.key == key)).scalar()
                if done is not None:
                    return IngestResult(batch=done, key=key, skipped=True)
                batch_id = _next_id(conn, ingest_log)
                counts = _Writer(conn, self, batch_id).write(ready).counts()
                conn.execute(
                    ingest_log.insert().values(
                        id=batch_id,
                        source=batch.source,
                        key=key,
                        payload=ready.payload,
                        received_at=int(time.time() * 1000),
                        nodes=counts["nodes_added"],
                        edges=counts["edges_added"],
                        retracted=counts["edges_retracted"],
                    )
                )
                return IngestResult(batch=batch_id, key=key, skipped=False, **counts)
        except OperationalError as exc:
            raise StoreError(f"写入存储失败 store write failed: {exc.orig}") from None

    def insert_ignore(self, table: sa.Table) -> Any:
        """An INSERT that skips rows whose key already exists, in this database's dialect."""
        module = postgresql if self.dialect == "postgresql" else sqlite
        return module.insert(table).on_conflict_do_nothing()

    # ── reading ────────────────────────────────────────────────────────────────
    def resolve(self, ref: str) -> str:
        """The uid that a uid or an alias (GS1 URN, Digital Link, Handle) names."""
        with self.engine.connect() as conn:
            uid = conn.execute(sa.select(nodes.c.uid).where(nodes.c.uid == ref)).scalar()
            if uid is None:
                uid = conn.execute(
                    sa.select(nodes.c.uid).join(aliases, aliases.c.node == nodes.c.id).where(aliases.c.alias == ref)
                ).scalar()
        if uid is None:
            raise NotFound(f"找不到 not found: {ref!r} is neither a uid nor an alias in the store")
        return uid

    def node(self, ref: str) -> NodeRecord:
        """The stored node for a uid or alias."""
        uid = self.resolve(ref)
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(nodes).where(nodes.c.uid == uid)).one()
        return _record(row)

    def nodes_by_id(self, ids: Iterable[int]) -> dict[int, NodeRecord]:
        """Stored nodes by integer id."""
        out: dict[int, NodeRecord] = {}
        with self.engine.connect() as conn:
            for chunk in chunks(sorted(set(ids)), _CHUNK):
                for row in conn.execute(sa.select(nodes).where(nodes.c.id.in_(chunk))):
                    out[row.id] = _record(row)
        return out

    def aliases_of(self, uid: str) -> list[str]:
        with self.engine.connect() as conn:
            q = sa.select(aliases.c.alias).join(nodes, aliases.c.node == nodes.c.id).where(nodes.c.uid == uid)
            return sorted(conn.execute(q).scalars())

    def last_batch(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.coalesce(sa.func.max(ingest_log.c.id), 0))).scalar_one()

    def counts(self) -> dict[str, int]:
        """Rows per table (live edges only)."""
        with self.engine.connect() as conn:
            return {
                "batches": conn.execute(sa.select(sa.func.count()).select_from(ingest_log)).scalar_one(),
                "nodes": conn.execute(sa.select(sa.func.count()).select_from(nodes)).scalar_one(),
                "aliases": conn.execute(sa.select(sa.func.count()).select_from(aliases)).scalar_one(),
                "edges": conn.execute(
                    sa.select(sa.func.count()).select_from(edges).where(edges.c.retracted.is_(None))
                ).scalar_one(),
            }

    def node_rows(self, since: int = 0) -> Iterator[sa.Row[Any]]:
        """``(id, uid, kind)`` of nodes created or changed after batch ``since``, streamed."""
        q = sa.select(nodes.c.id, nodes.c.uid, nodes.c.kind).where(nodes.c.updated > since).order_by(nodes.c.id)
        yield from self._stream(q)

    def edge_rows(self, since: int = 0) -> Iterator[sa.Row[Any]]:
        """``(id, src, dst, rel, t, qty, uom)`` of live edges added after batch ``since``, streamed."""
        q = (
            sa.select(edges.c.id, edges.c.src, edges.c.dst, edges.c.rel, edges.c.t, edges.c.qty, edges.c.uom)
            .where(edges.c.batch > since, edges.c.retracted.is_(None))
            .order_by(edges.c.id)
        )
        yield from self._stream(q)

    def retracted_edge_ids(self, since: int = 0) -> list[int]:
        """Ids of edges withdrawn after batch ``since``."""
        with self.engine.connect() as conn:
            return list(conn.execute(sa.select(edges.c.id).where(edges.c.retracted > since)).scalars())

    def edge_details(self, ids: Iterable[int]) -> dict[int, sa.Row[Any]]:
        """Full edge rows (key, uom, attrs…) by id."""
        out: dict[int, sa.Row[Any]] = {}
        with self.engine.connect() as conn:
            for chunk in chunks(sorted(set(ids)), _CHUNK):
                for row in conn.execute(sa.select(edges).where(edges.c.id.in_(chunk))):
                    out[row.id] = row
        return out

    def _stream(self, query: sa.Select[Any]) -> Iterator[sa.Row[Any]]:
        with self.engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=50_000).execute(query)
            try:
                yield from result
            finally:  # a consumer that stops early must not leave a server-side cursor behind
                result.close()


class _Writer:
    """Materialises one batch inside the caller's transaction."""

    def __init__(self, conn: Connection, store: Store, batch_id: int) -> None:
        self.conn = conn
        self.store = store
        self.onto = store.ontology
        self.batch_id = batch_id
        self.ids: dict[str, int] = {}  # uid or alias → node id
        self.kinds: dict[int, str] = {}
        self.added = self.updated = self.edges_added = self.retracted = 0

    def counts(self) -> dict[str, int]:
        return {
            "nodes_added": self.added,
            "nodes_updated": self.updated,
            "edges_added": self.edges_added,
            "edges_retracted": self.retracted,
        }

    def write(self, ready: _Prepared) -> _Writer:
        batch, cols = ready.batch, ready.cols
        incoming = _merge_nodes(batch.nodes)
        for i, node in enumerate(incoming.values()):
            self._check_node(node, i)
        unknown = set(cols.rel).difference(self.onto.relations)
        if unknown:
            i = next(i for i, rel in enumerate(cols.rel) if rel in unknown)
            self._bad_relation(batch.edges[i], i)
        ends = set(cols.src)
        ends.update(cols.dst)
        existing = self._lookup(ends | incoming.keys() | {a for n in incoming.values() for a in n.aliases})
        self._write_nodes(incoming, existing, ends)
        self._write_edges(batch.edges, cols, ready.attrs)
        if batch.retract:
            self._retract(batch.retract)
        return self

    def _check_node(self, node: Node, index: int) -> None:
        prefix_kind = self.onto.kind_of_uid(node.uid)
        if node.kind is not None and not self.onto.is_a(node.kind, prefix_kind):
            raise BadInput(
                f"node {node.uid!r}: kind {node.kind!r} does not match its uid prefix (which names {prefix_kind})",
                where=f"node #{index + 1}",
            )

    def _bad_relation(self, edge: Edge, index: int) -> None:
        known = ", ".join(sorted(self.onto.relations))
        raise BadInput(f"未知的关系 unknown relation {edge.rel!r}; known: {known}", where=f"edge #{index + 1}")

    def _lookup(self, refs: set[str]) -> dict[str, _Known]:
        found: dict[str, _Known] = {}
        for row in self._select("SELECT id, uid, kind, name, attrs FROM nodes WHERE uid IN ({})", sorted(refs)):
            found[row[1]] = _Known(*row)
        by_alias: dict[int, list[str]] = {}
        for alias, node_id in self._select("SELECT alias, node FROM aliases WHERE alias IN ({})",
                                           sorted(refs - found.keys())):
            by_alias.setdefault(node_id, []).append(alias)
        if by_alias:
            for row in self._select("SELECT id, uid, kind, name, attrs FROM nodes WHERE id IN ({})", sorted(by_alias)):
                record = _Known(*row)
                found.setdefault(record.uid, record)
                for alias in by_alias[record.id]:
                    found[alias] = record
        for ref, record in found.items():
            self.ids[ref] = record.id
            self.kinds[record.id] = record.kind
        return found

    def _select(self, sql: str, values: list[Any]) -> Iterator[tuple[Any, ...]]:
        """Rows of ``sql`` with its ``IN ({})`` filled by ``values``, in bounded chunks."""
        mark = "?" if self.store.dialect == "sqlite" else "%s"
        for chunk in chunks(values, _CHUNK):
            yield from self.conn.exec_driver_sql(sql.format(", ".join([mark] * len(chunk))), tuple(chunk))

    def _insert(self, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]], *, ignore: bool) -> None:
        """Insert many rows through the driver: the hot path of bulk ingest, without per-row SQL compilation.
        On SQLite, many rows per statement (``VALUES (…), (…), …``): one statement run per row would reopen
        the table's and every index's cursor each time, and release and retake the GIL each time. The rows
        go in in order, so of two rows with one identity the first wins, as it would one by one."""
        if not rows:
            return
        names = ", ".join(columns)
        if self.store.dialect != "sqlite":
            marks = ", ".join(["%s"] * len(columns))
            sql = f"INSERT INTO {table} ({names}) VALUES ({marks})" + (" ON CONFLICT DO NOTHING" if ignore else "")
            self.conn.exec_driver_sql(sql, rows)
            return
        head = f"INSERT {'OR IGNORE ' if ignore else ''}INTO {table} ({names}) VALUES "
        row = "(" + ", ".join("?" * len(columns)) + ")"
        per = max(1, min(_ROWS_PER_INSERT, _sqlite_variables(self.conn) // len(columns)))
        full = len(rows) - len(rows) % per
        if full:
            values = iter(list(itertools.chain.from_iterable(itertools.islice(rows, full))))
            statements = list(zip(*[values] * (per * len(columns)), strict=True))  # `per` rows each
            self.conn.exec_driver_sql(head + ", ".join([row] * per), statements)
        if full < len(rows):
            rest = rows[full:]
            self.conn.exec_driver_sql(head + ", ".join([row] * len(rest)),
                                      tuple(itertools.chain.from_iterable(rest)))

    def _write_nodes(self, incoming: dict[str, Node], existing: dict[str, _Known], refs: set[str]) -> None:
        next_id = _next_id(self.conn, nodes)
        new_rows: list[tuple[Any, ...]] = []
        updates: list[dict[str, Any]] = []
        new_aliases: dict[str, int] = {}
        for node in incoming.values():
            kind = node.kind or self.onto.kind_of_uid(node.uid)
            record = existing.get(node.uid) or next(
                (existing[a] for a in node.aliases if a in existing and _is_identifier(a)), None
            )
            if record is None:
                node_id, next_id = next_id, next_id + 1
                new_rows.append(self._row(node_id, node.uid, kind, node.name, node.attrs))
            else:
                node_id = record.id
                if record.uid != node.uid and node.uid not in existing:  # first seen under another uid: alias it
                    new_aliases.setdefault(node.uid, node_id)
                change = _changes(record, kind, node)
                if change:
                    updates.append({"b_id": node_id, **change, "updated": self.batch_id})
                    if "kind" in change:
                        self.kinds[node_id] = kind
            self.ids[node.uid] = node_id
            for alias in node.aliases:
                owner = existing.get(alias)
                if owner is not None and owner.id != node_id:
                    raise BadInput(f"别名冲突 alias {alias!r} already names {owner.uid!r}, not {node.uid!r}",
                                   where=f"node {node.uid!r}")
                if owner is None and alias != node.uid:
                    new_aliases.setdefault(alias, node_id)
                self.ids[alias] = node_id
        for ref in sorted(refs - self.ids.keys()):
            kind = self.onto.kind_of_uid(ref)  # an unknown ref must at least name its kind
            new_rows.append(self._row(next_id, ref, kind, None, {}))
            self.ids[ref] = next_id
            next_id += 1
        self._insert("nodes", ("id", "uid", "kind", "name", "attrs", "batch", "updated"), new_rows, ignore=False)
        self.added = len(new_rows)
        for row in updates:
            values = {k: v for k, v in row.items() if k != "b_id"}
            self.conn.execute(nodes.update().where(nodes.c.id == row["b_id"]).values(**values))
        self.updated = len(updates)
        self._insert("aliases", ("alias", "node"), list(new_aliases.items()), ignore=False)

    def _row(self, node_id: int, uid: str, kind: str, name: str | None, attrs: Mapping[str, Any]) -> tuple[Any, ...]:
        self.kinds[node_id] = kind
        return (node_id, uid, kind, name, _dumps(attrs), self.batch_id, self.batch_id)

    def _write_edges(self, batch_edges: list[Edge], cols: EdgeColumns, attrs: list[str]) -> None:
        """Column by column, each pass a C-level map or zip: no Python statement runs per edge. Ids follow
        the records' order, which exports keep. ``attrs`` are the edges' attributes as stored."""
        if not batch_edges:
            return
        keys = sorted(set(cols.key) - {""})
        numbers: list[int] | range = range(len(batch_edges))
        withdrawn = {k for (k,) in self._select("SELECT key FROM retractions WHERE key IN ({})", keys)}
        if withdrawn:  # an error declaration withdrew these keys for good: never re-materialise them
            kept = [i for i, k in enumerate(cols.key) if k not in withdrawn]
            if not kept:
                return
            cols = cols.take(kept)
            attrs = [attrs[i] for i in kept]
            batch_edges = [batch_edges[i] for i in kept]
            numbers = kept  # errors name an edge by its place in the batch as sent
        src = list(map(self.ids.__getitem__, cols.src))
        dst = list(map(self.ids.__getitem__, cols.dst))
        kind = self.kinds.__getitem__
        for signature in set(zip(cols.rel, map(kind, src), map(kind, dst), strict=True)):
            if not self.onto.allows(*signature):
                i = next(i for i, found in enumerate(zip(cols.rel, map(kind, src), map(kind, dst), strict=True))
                         if found == signature)
                self._bad_signature(batch_edges[i], numbers[i], signature)
        first = _next_id(self.conn, edges)
        rows = list(zip(range(first, first + len(src)), src, dst, cols.rel, cols.key, cols.t, cols.qty, cols.uom,
                        attrs, itertools.repeat(self.batch_id)))
        self._insert("edges", ("id", "src", "dst", "rel", "key", "t", "qty", "uom", "attrs", "batch"), rows,
                     ignore=True)
        self.edges_added = self.conn.execute(  # duplicates of stored edges were ignored: count what went in
            sa.select(sa.func.count()).select_from(edges).where(edges.c.id >= first)
        ).scalar_one()

    def _bad_signature(self, e: Edge, index: int, signature: tuple[str, str, str]) -> None:
        rel, src_kind, dst_kind = signature
        known = self.onto.relation(rel)
        raise BadInput(
            f"relation {rel} cannot link {src_kind} {e.src!r} to {dst_kind} {e.dst!r}; "
            f"it links {'/'.join(sorted(known.sources))} → {'/'.join(sorted(known.targets))}",
            where=f"edge #{index + 1}",
        )

    def _retract(self, keys: list[str]) -> None:
        self.conn.execute(self.store.insert_ignore(retractions), [{"key": k, "batch": self.batch_id} for k in keys])
        for chunk in chunks(sorted(set(keys)), _CHUNK):
            result = self.conn.execute(
                edges.update()
                .where(edges.c.key.in_(chunk), edges.c.key != "", edges.c.retracted.is_(None))  # uses the partial index
                .values(retracted=self.batch_id)
            )
            self.retracted += result.rowcount


class _Prepared:
    """A batch ready to be written, all of it computed without the database: its edges read into columns
    once (the canonical JSON and the writer both take them), the canonical JSON's key and compressed
    payload, the edges' attributes as stored."""

    __slots__ = ("batch", "cols", "key", "payload", "attrs")

    def __init__(self, batch: Batch) -> None:
        self.batch = batch
        self.cols = EdgeColumns(batch.edges)
        body = batch.to_json(self.cols)
        self.key = batch.idempotency_key(body)
        self.payload = batch.payload(body)
        self.attrs = _dumps_all(self.cols.attrs)


_IDENTIFIER = re.compile(r"^(urn:|https?://|\d+(\.\d+)*/)")


def _is_identifier(alias: str) -> bool:
    """GS1 URNs, Digital Links and Handles name one object wherever they appear, so two records
    carrying the same one are the same node; a name-like alias (``#2压机``) only points at a node."""
    return bool(_IDENTIFIER.match(alias))


def _merge_nodes(items: list[Node]) -> dict[str, Node]:
    """One node per uid; later records add attributes and aliases to earlier ones."""
    merged: dict[str, Node] = {}
    for node in items:
        prev = merged.get(node.uid)
        if prev is None:
            merged[node.uid] = node
        else:
            merged[node.uid] = Node(
                uid=node.uid,
                kind=node.kind or prev.kind,
                name=node.name or prev.name,
                attrs={**prev.attrs, **node.attrs},
                aliases=tuple(dict.fromkeys(prev.aliases + node.aliases)),
            )
    return merged


@dataclass(frozen=True, slots=True)
class _Known:
    """A stored node as the writer needs it; attrs stay JSON until a change must be detected."""

    id: int
    uid: str
    kind: str
    name: str | None
    attrs: str


def _changes(record: _Known, kind: str, node: Node) -> dict[str, Any]:
    change: dict[str, Any] = {}
    if node.kind is not None and kind != record.kind:
        change["kind"] = kind
    if node.name is not None and node.name != record.name:
        change["name"] = node.name
    if node.attrs:
        before = json.loads(record.attrs or "{}")
        attrs = {**before, **node.attrs}
        if attrs != before:
            change["attrs"] = _dumps(attrs)
    return change


def _record(row: sa.Row[Any]) -> NodeRecord:
    attrs = json.loads(row.attrs) if row.attrs and row.attrs != "{}" else {}
    return NodeRecord(id=row.id, uid=row.uid, kind=row.kind, name=row.name, attrs=attrs)


_ENCODE = json_encoder()


def _dumps(attrs: Mapping[str, Any]) -> str:
    """Attributes as stored: JSON, sorted keys, non-ASCII kept."""
    return _ENCODE(attrs if isinstance(attrs, dict) else dict(attrs)) if attrs else "{}"


def _dumps_all(column: list[dict[str, Any]]) -> list[str]:
    """``_dumps`` of each, calling it only for the attributes that are not empty (most edges carry none)."""
    out = ["{}"] * len(column)
    for i in itertools.compress(range(len(column)), column):
        out[i] = _dumps(column[i])
    return out


def _sqlite_variables(conn: Connection) -> int:
    """How many parameters one SQLite statement may bind (32,766 since SQLite 3.32, 999 before)."""
    dbapi: Any = conn.connection.dbapi_connection
    return int(dbapi.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))


def _next_id(conn: Connection, table: sa.Table) -> int:
    return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0))).scalar_one()) + 1


def _sqlite_setup(engine: sa.Engine) -> None:
    """WAL for concurrent readers, full sync so an acknowledged batch survives a crash, and
    ``BEGIN IMMEDIATE`` so that a writer holds the write lock from its first statement."""

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA cache_size=-131072")  # up to 128 MiB: a large store's index pages stay in cache
        cur.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        options = conn.get_execution_options()
        if options.get("trusted"):  # Store._write: see there
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if options.get("immediate") else "BEGIN")

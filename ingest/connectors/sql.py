"""SQL pull from MES/ERP databases: new rows by a watermark column, mapped onto the canonical tables.

A mapping file (TOML) names the source database and, for each pull, a table or query, its watermark column
(increasing: an update time or an id), a unique key column that orders rows sharing a watermark, and how its
columns map onto a canonical table (the ``columns``/``values`` of docs/formats.md's mapping files)::

    name = "mes"
    url = "postgresql+psycopg://reader@mes-db/mes"   # or --url / the connector's url argument
    interval = 5                                      # seconds between polls

    [[pull]]
    table = "operations"                  # canonical table
    from = "mes.op_log"                   # a table or view …
    # query = "SELECT … FROM … JOIN …"    # … or a query
    watermark = "updated_at"
    key = "id"
    columns = { operation_id = "op_no", step = "step_name", started_at = "start_ts", equipment_id = "machine" }

Each poll reads at most ``batch`` rows past the saved position, in watermark order, commits them as one
batch, then saves the new position in the store's database: a restarted connector resumes from there, and
rows read twice after a crash between the two writes change nothing (the batch is idempotent). A row the
mapping cannot read is logged, counted and skipped; a database that does not answer is retried.
"""

from __future__ import annotations

import logging
import threading
import time
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from zhuisu.errors import BadInput, ZhuisuError
from zhuisu.graph.store import IngestResult, Store
from zhuisu.ingest.connectors import rows, state
from zhuisu.ingest.connectors.state import Position
from zhuisu.ingest.mapping import TableMap, closest, column, toml_table
from zhuisu.ingest.records import Batch, Edge, Node

log = logging.getLogger("zhuisu.connectors.sql")
_TOP_KEYS = ("name", "url", "interval", "pull")
_PULL_KEYS = ("name", "table", "from", "query", "watermark", "key", "batch", "columns", "values")


@dataclass(frozen=True, slots=True)
class Pull:
    """One source of rows for one canonical table."""

    name: str
    table: str
    source: str  # a table/view name or a SELECT
    is_query: bool
    watermark: str
    key: str | None
    batch: int
    view: TableMap | None  # how the source's columns become the canonical ones; None: they already are


@dataclass(frozen=True, slots=True)
class PullMapping:
    """A mapping file: the connector's name, source URL, poll interval and pulls, in order."""

    name: str
    url: str | None
    interval: float
    pulls: tuple[Pull, ...]


def load_mapping(path: Path) -> PullMapping:
    """Read and check a SQL pull mapping file."""
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise BadInput(f"无法读取映射文件 cannot read the mapping file: {exc.strerror}", where=str(path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise BadInput(f"映射文件格式错误 malformed TOML: {exc}", where=path.name) from None
    return parse_mapping(doc, where=path.name, default_name=path.stem)


def parse_mapping(doc: Mapping[str, Any], *, where: str = "mapping", default_name: str = "sql") -> PullMapping:
    for key in doc:
        if key not in _TOP_KEYS:
            raise BadInput(f"未知的键 unknown key {key!r}{closest(key, _TOP_KEYS)}; known: {', '.join(_TOP_KEYS)}",
                           where=where)
    pulls = doc.get("pull")
    if not isinstance(pulls, list) or not pulls or not all(isinstance(p, dict) for p in pulls):
        raise BadInput('缺少 [[pull]] the mapping needs at least one [[pull]] section (table, from or query, '
                       'watermark)', where=where)
    interval = doc.get("interval", 5)
    if not isinstance(interval, int | float) or interval <= 0:
        raise BadInput(f"interval 应为正数 interval is seconds between polls, not {interval!r}", where=where)
    url = doc.get("url")
    if url is not None and not isinstance(url, str):
        raise BadInput("url 应为字符串 url is a SQLAlchemy database URL", where=where)
    out = [_pull(p, f"{where} [[pull]] #{i + 1}") for i, p in enumerate(pulls)]
    names = [p.name for p in out]
    if len(set(names)) != len(names):
        raise BadInput("拉取名称重复 two pulls share a name; give each a `name`", where=where)
    return PullMapping(str(doc.get("name", default_name)), url, float(interval), tuple(out))


def _pull(spec: dict[str, Any], where: str) -> Pull:
    for name in spec:
        if name not in _PULL_KEYS:
            raise BadInput(f"未知的键 unknown key {name!r}{closest(name, _PULL_KEYS)}; known: {', '.join(_PULL_KEYS)}",
                           where=where)
    table = rows.table(str(spec.get("table", "")))
    source, query = spec.get("from"), spec.get("query")
    if (source is None) == (query is None) or not isinstance(source or query, str):
        raise BadInput('给出 from 或 query 之一 give either from = "schema.table" or query = "SELECT …"', where=where)
    watermark = spec.get("watermark")
    if not isinstance(watermark, str) or not watermark:
        raise BadInput('缺少 watermark: name the increasing column, e.g. watermark = "updated_at"', where=where)
    key = spec.get("key")
    if key is not None and (not isinstance(key, str) or not key):
        raise BadInput('key 应为列名 key is the unique column that orders rows sharing a watermark', where=where)
    size = spec.get("batch", 1000)
    if not isinstance(size, int) or not 1 <= size <= 100_000:
        raise BadInput(f"batch 应为 1–100000 batch is rows per commit, not {size!r}", where=where)
    view = None
    if "columns" in spec:
        columns = {c: column(c, s, table.columns, where) for c, s in toml_table(spec["columns"], where).items()}
        missing = [c for c in table.required if c not in columns]
        if missing:
            raise BadInput(f"缺少必填列 the mapping gives no source for required column {', '.join(missing)}",
                           where=f"{where}.columns")
        values = {c: {str(k): str(v) for k, v in toml_table(t, where).items()}
                  for c, t in toml_table(spec.get("values", {}), where).items()}
        view = TableMap(table=table.name, file=Path(str(source or "query")), name=str(spec.get("name", table.name)),
                        columns=columns, values=values)
    return Pull(name=str(spec.get("name", table.name)), table=table.name, source=str(source or query),
                is_query=query is not None, watermark=watermark, key=key, batch=size, view=view)


@dataclass
class Stats:
    rows: int = 0  # rows read and committed (or skipped as unreadable)
    rejected: int = 0  # rows the mapping could not read
    batches: int = 0
    errors: int = 0  # polls that failed (database unreachable…)
    last_poll: float | None = None
    last_error: str | None = None
    positions: dict[str, Any] = field(default_factory=dict)


class SqlConnector:
    """Polls a source database and commits new rows into the store; ``start()`` runs it in a thread."""

    def __init__(self, store: Store, mapping: PullMapping | Path, *, url: str | None = None,
                 interval: float | None = None, on_commit: Callable[[IngestResult], Any] | None = None) -> None:
        self.store = store
        self.mapping = load_mapping(mapping) if isinstance(mapping, Path) else mapping
        source_url = url or self.mapping.url
        if not source_url:
            raise BadInput("缺少源数据库 give the source database URL (url = … in the mapping, or --url)")
        from zhuisu.graph.store import normalise_url

        self.source = sa.create_engine(normalise_url(source_url), pool_pre_ping=True)
        self.interval = interval or self.mapping.interval
        self.on_commit = on_commit
        self.stats = Stats()
        self._seen = rows.Seen()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def name(self) -> str:
        return f"sql:{self.mapping.name}"

    def state_name(self, pull: Pull) -> str:
        return f"sql:{self.mapping.name}:{pull.name}"

    # ── one poll ───────────────────────────────────────────────────────────────
    def poll(self) -> int:
        """Read and commit every pull's new rows, a batch at a time, until none is left; returns rows read."""
        total = 0
        for pull in self.mapping.pulls:
            while not self._stop.is_set():
                got = self._step(pull)
                total += got
                if got < pull.batch:
                    break
        self.stats.last_poll = time.time()
        return total

    def _step(self, pull: Pull) -> int:
        at = state.load(self.store, self.state_name(pull))
        found = self._fetch(pull, at)
        if not found:
            return 0
        columns = list(found[0]._fields)
        data = pd.DataFrame([[rows.text(v) for v in row] for row in found], columns=columns, dtype=str)
        positions = [f"{pull.watermark}={rows.text(getattr(r, pull.watermark))}" for r in found]
        nodes, edges = self._records(pull, data, positions)
        batch = Batch(source=f"{self.name}:{pull.name}", nodes=nodes, edges=edges)
        if nodes or edges:
            result = self.store.ingest(batch)
            self.stats.batches += 1
            if self.on_commit is not None:
                self.on_commit(result)
        last = found[-1]
        position = Position(getattr(last, pull.watermark), getattr(last, pull.key) if pull.key else None,
                            at.rows + len(found))
        state.save(self.store, self.state_name(pull), position)
        self.stats.rows += len(found)
        self.stats.positions[pull.name] = rows.text(position.watermark)
        return len(found)

    def _fetch(self, pull: Pull, at: Position) -> list[Any]:
        quote = self.source.dialect.identifier_preparer.quote
        wm = quote(pull.watermark)
        source = (f"({pull.source}) AS zhuisu_src" if pull.is_query
                  else ".".join(quote(part) for part in pull.source.split(".")))
        order = f"{wm}, {quote(pull.key)}" if pull.key else wm
        params: dict[str, Any] = {"n": pull.batch}
        if at.watermark is not None:
            params["w"] = at.watermark
            if pull.key and at.key is not None:
                where = f"WHERE {wm} > :w OR ({wm} = :w AND {quote(pull.key)} > :k)"
                params["k"] = at.key
            else:
                where = f"WHERE {wm} > :w"
        else:
            where = f"WHERE {wm} IS NOT NULL"
        sql = sa.text(f"SELECT * FROM {source} {where} ORDER BY {order} LIMIT :n")
        with self.source.connect() as conn:
            found = list(conn.execute(sql, params).all())
        if found and (pull.watermark not in found[0]._fields or (pull.key and pull.key not in found[0]._fields)):
            raise BadInput(f"源中没有水位列 the source has no column {pull.watermark!r} or {pull.key!r}; it has "
                           f"{', '.join(found[0]._fields)}", where=f"{self.mapping.name} [[pull]] {pull.name}")
        return found

    def _records(self, pull: Pull, data: pd.DataFrame, positions: list[str]) -> tuple[list[Node], list[Edge]]:
        where = f"{self.name}:{pull.name}"
        try:
            return self._convert(pull, data, positions, where)
        except BadInput:
            pass
        nodes: list[Node] = []
        edges: list[Edge] = []
        for i in range(len(data)):  # find the unreadable rows, keep the rest
            try:
                n, e = self._convert(pull, data.iloc[i:i + 1], positions[i:i + 1], where)
            except BadInput as exc:
                self.stats.rejected += 1
                log.warning("%s: row skipped: %s", where, exc)
                continue
            nodes += n
            edges += e
        return nodes, edges

    def _convert(self, pull: Pull, data: pd.DataFrame, positions: list[str],
                 where: str) -> tuple[list[Node], list[Edge]]:
        lines = np.asarray(positions, dtype=object)
        if pull.view is not None:
            canonical = pull.view.apply(data, lines)
        else:
            known = [c for c in rows.table(pull.table).columns if c in data.columns]
            canonical = data[known]
        return rows.frame_records(pull.table, canonical.reset_index(drop=True), source=where, lines=positions,
                                  seen=self._seen)

    # ── running ────────────────────────────────────────────────────────────────
    def run(self) -> None:
        """Poll every ``interval`` seconds until ``stop()``; errors are logged and retried, never raised."""
        delay = self.interval
        while not self._stop.is_set():
            try:
                self.poll()
                delay = self.interval
            except (SQLAlchemyError, ZhuisuError) as exc:
                self._failed(exc)
                delay = min(max(delay * 2, self.interval), 60.0)
            except Exception as exc:  # a connector thread must outlive whatever one poll ran into
                log.exception("%s: poll failed", self.name)
                self._failed(exc)
                delay = min(max(delay * 2, self.interval), 60.0)
            self._stop.wait(delay)

    def _failed(self, exc: Exception) -> None:
        self.stats.errors += 1
        self.stats.last_error = f"{type(exc).__name__}: {exc}"[:500]
        log.warning("%s: poll failed, retrying: %s", self.name, self.stats.last_error)

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self.run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self.source.dispose()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def status(self) -> dict[str, Any]:
        s = self.stats
        return {"name": self.name, "kind": "sql", "running": self.running,
                "stats": {"rows": s.rows, "rejected": s.rejected, "batches": s.batches, "errors": s.errors,
                          "last_poll": s.last_poll, "last_error": s.last_error, "positions": dict(s.positions)}}

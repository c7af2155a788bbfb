"""The graph the API queries, kept in step with the store while it serves.

Queries hold a read lock and a refresh holds the write lock, so a trace never sees the engine half-way
through applying a batch. Before each query the store's last batch is compared with the engine's: whoever
committed it (this API, a connector, ``zhuisu ingest`` in another process), the query sees it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from zhuisu.graph.backend import Graph, open_backend
from zhuisu.graph.engine import Refresh
from zhuisu.graph.store import Store


class RWLock:
    """Many readers or one writer; a waiting writer goes before readers that arrive after it."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writer = False
        self._waiting = 0

    @contextmanager
    def read(self) -> Iterator[None]:
        with self._cond:
            while self._writer or self._waiting:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                if not self._readers:
                    self._cond.notify_all()

    @contextmanager
    def write(self) -> Iterator[None]:
        with self._cond:
            self._waiting += 1
            while self._writer or self._readers:
                self._cond.wait()
            self._waiting -= 1
            self._writer = True
        try:
            yield
        finally:
            with self._cond:
                self._writer = False
                self._cond.notify_all()


class LiveGraph:
    """The configured query backend over the store, opened on first use and refreshed as batches land."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._lock = RWLock()
        self._open = threading.Lock()
        self._stack = ExitStack()
        self._graph: Graph | None = None

    def _backend(self) -> Graph:
        if self._graph is None:
            with self._open:
                if self._graph is None:
                    self._graph = self._stack.enter_context(open_backend(self.store))
        return self._graph

    @property
    def engine(self) -> Any:
        """The in-memory engine, or None when queries run on Neo4j."""
        return getattr(self._backend(), "engine", None)

    @contextmanager
    def reading(self) -> Iterator[Graph]:
        """The graph, current as of this call, held still while the caller reads it."""
        graph = self._backend()
        self.refresh(only_if_stale=True)
        with self._lock.read():
            yield graph

    def refresh(self, *, only_if_stale: bool = False) -> Refresh | None:
        """Apply the batches committed since the last refresh (None with Neo4j, or when nothing was new)."""
        engine = self.engine
        if engine is None:
            return None
        if only_if_stale and self.store.last_batch() <= engine.batch:
            return None
        with self._lock.write():
            # another request may have refreshed while this one waited for the lock
            if self.store.last_batch() <= engine.batch:
                return None
            return engine.refresh()  # type: ignore[no-any-return]

    @contextmanager
    def engine_reading(self) -> Iterator[Any]:
        """The in-memory engine, current and held still, for analyses that run on it (RCA, similar, ask)."""
        from zhuisu.api.errors import NotImplementedHere

        if self.engine is None:
            raise NotImplementedHere("此分析需要内存图引擎 this analysis runs on the in-memory engine; serve with "
                                     "ZHUISU_GRAPH_BACKEND=rustworkx")
        with self.reading():
            yield self.engine

    @property
    def batch(self) -> int:
        """The last store batch the engine has applied (the store's own with Neo4j)."""
        engine = self.engine
        return int(engine.batch) if engine is not None else self.store.last_batch()

    def close(self) -> None:
        self._stack.close()
        self._graph = None

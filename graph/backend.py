"""The query backend that ``ZHUISU_GRAPH_BACKEND`` selects: the in-memory engine or Neo4j, one interface."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from zhuisu.graph.engine import Engine
from zhuisu.graph.paths import k_paths
from zhuisu.graph.results import Path, Trace
from zhuisu.graph.store import Store
from zhuisu.graph.trace import trace


class Graph(Protocol):
    def trace(self, ref: str, **options: Any) -> Trace: ...

    def k_paths(self, a: str, b: str, k: int = 3, *, material_only: bool = False) -> Path: ...


class LocalGraph:
    """Queries on the in-process rustworkx engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def trace(self, ref: str, **options: Any) -> Trace:
        return trace(self.engine, ref, **options)

    def k_paths(self, a: str, b: str, k: int = 3, *, material_only: bool = False) -> Path:
        return k_paths(self.engine, a, b, k, material_only=material_only)


@contextmanager
def open_backend(store: Store) -> Iterator[Graph]:
    """The configured backend over ``store``."""
    from zhuisu.graph.neo4j.backend import open_graph, use_neo4j

    if use_neo4j():
        with open_graph(store) as graph:
            yield graph
    else:
        yield LocalGraph(Engine.load(store))

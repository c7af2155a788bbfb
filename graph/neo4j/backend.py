"""Trace, containment and paths answered from Neo4j, equal to the in-memory engine's answers.

Cypher finds the part of a graph too large for one machine's memory that a query can touch: the
material flow around the root level by level (plain Cypher 5, no APOC), with everything the trace reads
about the reached nodes (all their material edges, their context and the context of their inspections).
That subgraph, ids included, is loaded into a small engine and the very same ``trace``/``k_paths`` code
runs on it, so quantities, levels, steps and ordering come out exactly as the engine computes them over
the whole graph: the subgraph holds, for every node the walk reaches, every edge the walk could follow.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path as FsPath
from typing import Any, Protocol, TypeVar

from zhuisu import config
from zhuisu.errors import BadInput, NotFound, UnknownKind
from zhuisu.graph import schema
from zhuisu.graph.engine import _CREATES, Engine
from zhuisu.graph.neo4j import cypher
from zhuisu.graph.neo4j.connect import Neo4jUnavailable, Target, driver, failure
from zhuisu.graph.neo4j.rows import unflatten
from zhuisu.graph.paths import k_paths
from zhuisu.graph.results import Path, Trace
from zhuisu.graph.store import Store
from zhuisu.graph.trace import DIRECTIONS, trace
from zhuisu.ingest.records import epoch_ms
from zhuisu.ontology import Ontology

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class NodeRow:
    """A node as Neo4j holds it; ``handle`` is its element id (valid within one transaction)."""

    handle: str
    sid: int
    uid: str
    kind: str
    name: str | None
    attrs: dict[str, Any]


@dataclass(frozen=True, slots=True)
class EdgeRow:
    """A relationship as Neo4j holds it, between two node handles."""

    sid: int
    rel: str
    src: str
    dst: str
    key: str
    t: int | None
    qty: float | None
    uom: str | None
    attrs: dict[str, Any]


def roles(onto: Ontology) -> dict[str, tuple[list[str], str]]:
    """Each kind of expansion a query makes: the relations it follows and in which direction."""
    material = sorted(r.name for r in onto.relations.values() if r.material)
    context = sorted(r.name for r in onto.relations.values() if not r.material)
    return {
        "material:out": (material, "out"),
        "material:in": (material, "in"),
        "creates:in": (sorted(_CREATES), "in"),  # what sets a node's own quantity (the engine's ``own``)
        "context:both": (context, "both"),
        "material:both": (material, "both"),
        "all:both": (sorted(onto.relations), "both"),
    }


def read_statements(onto: Ontology) -> list[cypher.Statement]:
    """Every statement the query backend can emit."""
    roots = sorted({cypher.root(k, onto) for k in cypher.node_kinds(onto)})
    finds = [cypher.find_node(r) for r in roots]
    return finds + [cypher.expand(role, rels, way, onto) for role, (rels, way) in roles(onto).items()]


class Source(Protocol):
    """Where a query reads the graph: Neo4j (``CypherSource``), or in tests a stand-in over the store."""

    def find(self, uid: str) -> NodeRow | None:
        """The node with this uid, if any."""

    def expand(self, role: str, handles: list[str]) -> tuple[list[EdgeRow], list[NodeRow]]:
        """The relationships of ``role`` around these nodes, and the nodes at their other ends."""


class CypherSource:
    """A ``Source`` running the backend's statements inside one Neo4j read transaction."""

    def __init__(self, tx: Any, onto: Ontology) -> None:
        self.tx = tx
        self.onto = onto
        self.types = {cypher.rel_type(r, onto): r for r in onto.relations}
        self.statements = {s.name: s for s in read_statements(onto)}

    def find(self, uid: str) -> NodeRow | None:
        """Look ``uid`` up by the label of the kind its prefix names."""
        label = cypher.root(self.onto.kind_of_uid(uid), self.onto)
        text, params = self.statements[f"find:{label}"].bind(uid=uid)
        record = self.tx.run(text, params).single()
        return None if record is None else self._node(record["id"], record["props"])

    def expand(self, role: str, handles: list[str]) -> tuple[list[EdgeRow], list[NodeRow]]:
        """Run ``expand:ROLE`` for these nodes."""
        text, params = self.statements[f"expand:{role}"].bind(ids=handles)
        edges, nodes = [], []
        for record in self.tx.run(text, params):
            props = record["props"]
            edges.append(EdgeRow(
                sid=props["sid"], rel=self.types[record["type"]], src=record["src"], dst=record["dst"],
                key=props.get("key", ""), t=props.get("t"), qty=props.get("qty"), uom=props.get("uom"),
                attrs=unflatten(props, cypher.EDGE_FIELDS),
            ))
            nodes.append(self._node(record["other"], record["other_props"]))
        return edges, nodes

    @staticmethod
    def _node(handle: str, props: dict[str, Any]) -> NodeRow:
        return NodeRow(handle, props["sid"], props["uid"], props["kind"], props.get("name"),
                       unflatten(props, cypher.NODE_FIELDS))


@dataclass
class Subgraph:
    """Nodes and edges read for one query, loadable as a small engine with the store's own ids."""

    onto: Ontology
    nodes: dict[str, NodeRow] = field(default_factory=dict)
    edges: dict[int, EdgeRow] = field(default_factory=dict)

    def add(self, found: tuple[list[EdgeRow], list[NodeRow]]) -> list[EdgeRow]:
        """Keep what an expansion found; return its edges."""
        edges, nodes = found
        self.nodes.update((n.handle, n) for n in nodes)
        self.edges.update((e.sid, e) for e in edges)
        return edges

    @contextmanager
    def engine(self) -> Iterator[Engine]:
        """An engine over just this subgraph, in a throw-away SQLite store keeping the original ids."""
        with tempfile.TemporaryDirectory(prefix="zhuisu-neo4j-") as tmp:
            store = Store(f"sqlite:///{FsPath(tmp) / 'subgraph.db'}", ontology=self.onto)
            try:
                self._fill(store)
                yield Engine.load(store)
            finally:
                store.close()

    def _fill(self, store: Store) -> None:
        sid = {n.handle: n.sid for n in self.nodes.values()}
        with store.engine.begin() as conn:
            conn.execute(schema.ingest_log.insert().values(
                id=1, source="neo4j", key="neo4j", payload=b"", received_at=0, nodes=len(self.nodes),
                edges=len(self.edges), retracted=0))
            if self.nodes:
                conn.execute(schema.nodes.insert(), [
                    {"id": n.sid, "uid": n.uid, "kind": n.kind, "name": n.name, "attrs": _dumps(n.attrs),
                     "batch": 1, "updated": 1} for n in self.nodes.values()])
            if self.edges:
                conn.execute(schema.edges.insert(), [
                    {"id": e.sid, "src": sid[e.src], "dst": sid[e.dst], "rel": e.rel, "key": e.key, "t": e.t,
                     "qty": e.qty, "uom": e.uom, "attrs": _dumps(e.attrs), "batch": 1}
                    for e in self.edges.values()])


def _dumps(attrs: dict[str, Any]) -> str:
    """Attributes as the store writes them."""
    return json.dumps(attrs, ensure_ascii=False, sort_keys=True, default=str) if attrs else "{}"


def _root(source: Source, ref: str, store: Store | None) -> NodeRow:
    """The node a uid, or an alias the store resolves, names."""
    try:
        found = source.find(ref)
    except UnknownKind:  # not shaped like a uid: an alias (GS1 URN, Digital Link, Handle, a name)
        found = None
    if found is None and store is not None:
        uid = store.resolve(ref)
        found = source.find(uid)
    if found is None:
        raise NotFound(f"找不到 not found: {ref!r} is not in Neo4j (if the store has it: zhuisu neo4j sync)")
    return found


def trace_on(source: Source, onto: Ontology, ref: str, *, direction: str = "backward",
             depth: int | None = None, since: datetime | None = None, until: datetime | None = None,
             kinds: Iterable[str] | None = None, store: Store | None = None) -> Trace:
    """``trace.trace`` over what ``source`` holds: the same arguments and the same result."""
    if direction not in DIRECTIONS:
        raise BadInput(f"direction must be one of {', '.join(DIRECTIONS)}, not {direction!r}")
    if depth is not None and depth < 0:
        raise BadInput(f"depth must be 0 or more, not {depth}")
    forward = direction == "forward"
    lo, hi = epoch_ms(since), epoch_ms(until)
    root = _root(source, ref, store)
    sub = Subgraph(onto, {root.handle: root})
    levels = {root.handle: 0}
    frontier = [root.handle]
    while frontier:
        # Everything the engine reads about a reached node: its outgoing material edges (shares), what
        # created it (its own quantity) and, where the walk or a step needs them, all its incoming ones.
        outs = sub.add(source.expand("material:out", frontier))
        full = [h for h in frontier if not forward or h == root.handle or sub.nodes[h].kind == "Operation"]
        ins = sub.add(source.expand("material:in", full)) if full else []
        if rest := sorted(set(frontier) - set(full)):
            sub.add(source.expand("creates:in", rest))
        if depth is not None and levels[frontier[0]] >= depth:
            break
        level = levels[frontier[0]] + 1
        walked = outs if forward else ins
        ends = [e.dst if forward else e.src for e in walked if _within(e.t, lo, hi)]
        frontier = [h for h in dict.fromkeys(ends) if h not in levels]
        levels.update(dict.fromkeys(frontier, level))
    context = sub.add(source.expand("context:both", list(levels)))
    inspections = {e.src for e in context if e.rel == "inspects"} - levels.keys()
    if inspections:
        sub.add(source.expand("context:both", sorted(inspections)))
    with sub.engine() as engine:
        return trace(engine, root.uid, direction=direction, depth=depth, since=since, until=until,
                     kinds=kinds)


def _within(t: int | None, lo: int | None, hi: int | None) -> bool:
    """The engine's time window: an edge without a time is always followed, bounds are inclusive."""
    return t is None or ((lo is None or t >= lo) and (hi is None or t <= hi))


def paths_on(source: Source, onto: Ontology, a: str, b: str, k: int = 3, *, material_only: bool = False,
             store: Store | None = None) -> Path:
    """``paths.k_paths`` over what ``source`` holds.

    Two balls grow around the ends until they hold every path as short as the k-th one found: a path of
    length L has each node within ceil(L/2) of one end, so its edges are among those of the nodes nearer
    than that. Equal-length alternatives may be chosen differently from the engine's; lengths are equal.
    """
    if k < 1:
        raise BadInput(f"k must be 1 or more, not {k}")
    role = "material:both" if material_only else "all:both"
    ends = [_root(source, a, store), _root(source, b, store)]
    sub = Subgraph(onto, {n.handle: n for n in ends})
    balls = [_Ball(ends[0].handle), _Ball(ends[1].handle)]
    # A ball whose frontier is empty holds its whole connected component, and with it every path.
    while not (met := balls[0].dist.keys() & balls[1].dist.keys()) and all(b.frontier for b in balls):
        min(balls, key=lambda b: len(b.frontier)).grow(sub, source, role)
    bound = min((balls[0].dist[n] + balls[1].dist[n] for n in met), default=0)  # the shortest length
    while True:
        for ball in balls:
            while ball.frontier and ball.radius < -(-bound // 2):
                ball.grow(sub, source, role)
        with sub.engine() as engine:
            found = k_paths(engine, ends[0].uid, ends[1].uid, k=k, material_only=material_only)
        longest = max((p.length for p in found.paths), default=0)
        if (ends[0].handle == ends[1].handle or not all(b.frontier for b in balls)
                or (len(found.paths) == k and longest <= bound)):
            return found
        bound = longest if len(found.paths) == k else bound + 1


@dataclass
class _Ball:
    """Nodes within some distance of one end of a path query; its frontier is not expanded yet."""

    start: str
    dist: dict[str, int] = field(default_factory=dict)
    frontier: list[str] = field(default_factory=list)
    radius: int = 0  # nodes nearer than this have all their edges in the subgraph

    def __post_init__(self) -> None:
        self.dist[self.start] = 0
        self.frontier = [self.start]

    def grow(self, sub: Subgraph, source: Source, role: str) -> None:
        edges = sub.add(source.expand(role, self.frontier))
        here = set(self.frontier)
        nxt = [end for e in edges for end in (e.src, e.dst) if end not in self.dist and end not in here]
        self.radius += 1
        self.frontier = list(dict.fromkeys(nxt))
        self.dist.update(dict.fromkeys(self.frontier, self.radius))


class CypherGraph:
    """The query backend over a Neo4j database: each query runs in one read transaction."""

    def __init__(self, store: Store, drv: Any, database: str) -> None:
        self.store = store
        self.driver = drv
        self.database = database

    def _read(self, work: Callable[[Source], T]) -> T:
        from neo4j.exceptions import DriverError, Neo4jError

        try:
            with self.driver.session(database=self.database) as session:
                return session.execute_read(lambda tx: work(CypherSource(tx, self.store.ontology)))
        except (Neo4jError, DriverError) as exc:
            raise Neo4jUnavailable(f"Neo4j 查询失败 query failed: {failure(exc)}") from None

    def trace(self, ref: str, **options: Any) -> Trace:
        """A backward or forward trace (containment), as ``zhuisu.graph.trace.trace`` takes it."""
        onto = self.store.ontology
        return self._read(lambda source: trace_on(source, onto, ref, store=self.store, **options))

    def k_paths(self, a: str, b: str, k: int = 3, *, material_only: bool = False) -> Path:
        """Up to ``k`` shortest paths, as ``zhuisu.graph.paths.k_paths`` takes them."""
        return self._read(lambda source: paths_on(source, self.store.ontology, a, b, k,
                                                  material_only=material_only, store=self.store))


BACKENDS = ("rustworkx", "neo4j")


def use_neo4j() -> bool:
    """Whether ``ZHUISU_GRAPH_BACKEND`` selects this backend over the in-memory engine."""
    backend = config.get("graph_backend")
    if backend not in BACKENDS:
        raise BadInput(f"未知的图后端 unknown graph backend {backend!r}; ZHUISU_GRAPH_BACKEND must be one of "
                       f"{', '.join(BACKENDS)}")
    return backend == "neo4j"


@contextmanager
def open_graph(store: Store, target: Target | None = None) -> Iterator[CypherGraph]:
    """The Neo4j query backend for ``store`` (``ZHUISU_NEO4J_*`` settings unless ``target`` is given)."""
    target = target or Target.from_settings()
    with driver(target) as drv:
        yield CypherGraph(store, drv, target.database)

"""The RDF view of the store, and back: store → ``rdflib.Graph`` → :class:`Batch` → store is exact.

Scheme (the data properties are declared in ``ontology/zhuisu.ttl``):

- a node is ``<https://w3id.org/zhuisu/id/{quoted uid}> a zs:Kind ; zs:uid ; zs:name ; zs:alias …``; an
  attribute named like an ontology data property (``quantity``, ``result``, ``text``…) becomes that property
  when its value is a scalar, and the other attributes go, as one JSON object, into ``zs:attrs``;
- an edge is the triple ``src zs:relation dst``; where it has a key, time, quantity, unit or attributes, or
  shares its triple with another edge, an ``rdf:Statement`` reifying that triple carries them (``zs:key``,
  ``zs:time`` as ``xsd:dateTime``, ``zs:quantity``, ``zs:uom``, attributes as for nodes). Plain RDF
  reification is used because every RDF syntax and tool reads it, which RDF-star is not yet;
- numbers are ``xsd:decimal`` written from the float's shortest exact form, since rdflib's Turtle writer
  rounds ``xsd:double`` to seven digits; ``xsd:integer`` and ``xsd:boolean`` keep ints and booleans;
- only live edges are exported: a retracted edge is gone from the view, as from every query.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache
from itertools import groupby
from typing import Any, TypeAlias
from urllib.parse import quote, unquote

import sqlalchemy as sa
from rdflib import OWL, RDF, BNode, Graph, Literal, Namespace, URIRef
from rdflib.term import Node as Term
from sqlalchemy.engine import Connection

from zhuisu.errors import BadInput, NotFound, UnknownKind
from zhuisu.graph.engine import chunks
from zhuisu.graph.schema import aliases, edges, nodes
from zhuisu.graph.store import Store
from zhuisu.ingest.records import Batch, Edge, Node, from_epoch_ms
from zhuisu.ontology import ZS, Ontology, load

ID = Namespace("https://w3id.org/zhuisu/id/")
Triple = tuple[Term, Term, Term]
_Row: TypeAlias = "sa.Row[*tuple[Any, ...]]"  # a result row of any width

_PAGE = 500  # nodes per page, and bound parameters per IN (...) lookup
# Data properties the scheme itself writes, so never attribute names; an edge has its own quantity and uom.
_STRUCTURAL = frozenset({"uid", "name", "alias", "attrs", "key", "time"})
_EDGE_COLUMNS = frozenset({"quantity", "uom"})


def iri(uid: str) -> URIRef:
    """The IRI of the node with ``uid``."""
    return ID[quote(uid, safe=":")]


def uid_of_iri(node: URIRef) -> str | None:
    """The uid that a node IRI names, or None for an IRI outside ``ID``."""
    text = str(node)
    return unquote(text[len(ID) :]) if text.startswith(ID) else None


@dataclass(frozen=True, slots=True)
class _Vocabulary:
    """The ontology terms the RDF view writes and reads."""

    node_attrs: frozenset[str]  # attribute names written as zs:<name> on a node
    edge_attrs: frozenset[str]  # … on an edge statement
    properties: frozenset[URIRef]  # every property the ontology declares
    relations: Mapping[URIRef, str]


@cache
def _vocabulary(onto: Ontology) -> _Vocabulary:
    graph = onto.graph
    data = {str(p).removeprefix(str(ZS)) for p in graph.subjects(RDF.type, OWL.DatatypeProperty)}
    props = {p for kind in (OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)
             for p in graph.subjects(RDF.type, kind) if isinstance(p, URIRef)}
    return _Vocabulary(
        node_attrs=frozenset(data - _STRUCTURAL),
        edge_attrs=frozenset(data - _STRUCTURAL - _EDGE_COLUMNS),
        properties=frozenset(props),
        relations={rel.iri: rel.name for rel in onto.relations.values()},
    )


# ── store → RDF ──────────────────────────────────────────────────────────────────
def to_rdf(store: Store, *, uids: Iterable[str] | None = None) -> Graph:
    """The store (or the nodes ``uids`` and the edges among them) as an rdflib graph."""
    graph = Graph()
    graph.bind("zs", ZS)
    for triple in triples(store, uids=uids):
        graph.add(triple)
    return graph


def triples(store: Store, *, uids: Iterable[str] | None = None) -> Iterator[Triple]:
    """The triples of :func:`to_rdf`, read from the store a page of nodes at a time."""
    vocab = _vocabulary(store.ontology)
    with store.engine.connect() as conn:
        wanted = None if uids is None else _ids(conn, uids)
        for page in _pages(conn, wanted):
            names = {row.id: row.uid for row in page}
            known = _aliases(conn, list(names))
            for row in page:
                yield from _node_triples(row, known.get(row.id, []), vocab)
            yield from _edge_triples(conn, names, wanted, vocab)


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


def _pages(conn: Connection, wanted: set[int] | None) -> Iterator[list[_Row]]:
    columns = (nodes.c.id, nodes.c.uid, nodes.c.kind, nodes.c.name, nodes.c.attrs)
    if wanted is not None:
        for chunk in chunks(sorted(wanted), _PAGE):
            yield list(conn.execute(sa.select(*columns).where(nodes.c.id.in_(chunk)).order_by(nodes.c.id)))
        return
    last = 0
    while True:  # keyset paging keeps memory flat however large the store is
        q = sa.select(*columns).where(nodes.c.id > last).order_by(nodes.c.id).limit(_PAGE)
        page = list(conn.execute(q))
        if not page:
            return
        yield page
        last = page[-1].id


def _aliases(conn: Connection, ids: list[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    q = sa.select(aliases.c.node, aliases.c.alias).where(aliases.c.node.in_(ids)).order_by(aliases.c.alias)
    for node_id, alias in conn.execute(q):
        out.setdefault(node_id, []).append(alias)
    return out


def _node_triples(row: _Row, names: list[str], vocab: _Vocabulary) -> Iterator[Triple]:
    subject = iri(row.uid)
    yield subject, RDF.type, ZS[row.kind]
    yield subject, ZS.uid, Literal(row.uid)
    if row.name is not None:
        yield subject, ZS.name, Literal(row.name)
    for alias in names:
        yield subject, ZS.alias, Literal(alias)
    yield from _attr_triples(subject, json.loads(row.attrs or "{}"), vocab.node_attrs)


def _edge_triples(
    conn: Connection, names: dict[int, str], wanted: set[int] | None, vocab: _Vocabulary
) -> Iterator[Triple]:
    dst = nodes.alias("dst")
    q = (
        sa.select(edges.c.src, edges.c.dst, edges.c.rel, edges.c.key, edges.c.t.label("ms"), edges.c.qty,
                  edges.c.uom, edges.c.attrs, dst.c.uid.label("dst_uid"))
        .join(dst, dst.c.id == edges.c.dst)
        .where(edges.c.src.in_(list(names)), edges.c.retracted.is_(None))
        .order_by(edges.c.src, edges.c.dst, edges.c.rel, edges.c.key)
    )
    rows = (row for row in conn.execute(q) if wanted is None or row.dst in wanted)
    for _, group in groupby(rows, key=lambda r: (r.src, r.dst, r.rel)):
        same = list(group)
        triple = (iri(names[same[0].src]), ZS[same[0].rel], iri(same[0].dst_uid))
        yield triple
        for row in same:
            # A lone edge without qualifiers is the bare triple; any other needs its own statement so
            # that from_rdf can tell apart edges sharing a triple.
            if len(same) > 1 or row.key or row.ms is not None or row.qty is not None or row.uom is not None \
                    or row.attrs not in (None, "", "{}"):
                yield from _statement(triple, row, vocab)


def _statement(triple: Triple, row: _Row, vocab: _Vocabulary) -> Iterator[Triple]:
    node = BNode()
    yield node, RDF.type, RDF.Statement
    yield node, RDF.subject, triple[0]
    yield node, RDF.predicate, triple[1]
    yield node, RDF.object, triple[2]
    if row.key:
        yield node, ZS.key, Literal(row.key)
    if row.ms is not None:
        yield node, ZS.time, Literal(from_epoch_ms(row.ms))
    if row.qty is not None:
        yield node, ZS.quantity, _number(row.qty)
    if row.uom is not None:
        yield node, ZS.uom, Literal(row.uom)
    yield from _attr_triples(node, json.loads(row.attrs or "{}"), vocab.edge_attrs)


def _attr_triples(subject: Term, attrs: dict[str, Any], typed: frozenset[str]) -> Iterator[Triple]:
    rest: dict[str, Any] = {}
    for name, value in attrs.items():
        literal = _scalar(value) if name in typed else None
        if literal is None:
            rest[name] = value
        else:
            yield subject, ZS[name], literal
    if rest:
        yield subject, ZS.attrs, Literal(json.dumps(rest, ensure_ascii=False, sort_keys=True))


def _scalar(value: Any) -> Literal | None:
    """A typed literal that gives ``value`` back exactly, or None where only JSON keeps it."""
    if isinstance(value, bool | int | str):
        return Literal(value)
    if isinstance(value, float) and math.isfinite(value):
        return _number(value)
    return None


def _number(value: float) -> Literal:
    return Literal(Decimal(repr(value))) if math.isfinite(value) else Literal(value)


# ── RDF → Batch ─────────────────────────────────────────────────────────────────
def from_rdf(graph: Graph, *, source: str = "rdf", ontology: Ontology | None = None) -> Batch:
    """The nodes and edges of an RDF graph in the scheme of :func:`to_rdf`, as one batch (sorted, so that
    the same graph always gives the same batch and re-ingesting it changes nothing)."""
    onto = ontology or load()
    reader = _Reader(graph, onto, _vocabulary(onto))
    reader.check_terms()
    return Batch(source=source, nodes=reader.nodes(), edges=reader.edges())


class _Reader:
    """Reads the nodes and edges of one graph."""

    def __init__(self, graph: Graph, onto: Ontology, vocab: _Vocabulary) -> None:
        self.graph = graph
        self.onto = onto
        self.vocab = vocab
        self.uids: dict[Term, str] = {}

    def check_terms(self) -> None:
        """Refuse ontology terms the ontology does not define, rather than silently drop their triples."""
        for prop in set(self.graph.predicates()):
            if str(prop).startswith(str(ZS)) and prop not in self.vocab.properties:
                raise UnknownKind(f"未知的关系 unknown property {prop}; known relations: "
                                  f"{', '.join(sorted(self.onto.relations))}")
        for cls in set(self.graph.objects(None, RDF.type)):
            if str(cls).startswith(str(ZS)):
                self.onto.kind(str(cls).removeprefix(str(ZS)))

    def nodes(self) -> list[Node]:
        return [self._node(s) for s in sorted(set(self.graph.subjects(ZS.uid, None)), key=str)]

    def _node(self, subject: Term) -> Node:
        name = self._one(subject, ZS.name)
        return Node(
            uid=self.uid(subject),
            kind=self._kind(subject),
            name=None if name is None else str(name),
            attrs=self._attrs(subject, self.vocab.node_attrs),
            aliases=tuple(sorted(str(a) for a in self.graph.objects(subject, ZS.alias))),
        )

    def _kind(self, subject: Term) -> str | None:
        """The most specific ontology class of ``subject`` (an inferred graph also has its superclasses)."""
        kinds = {str(t).removeprefix(str(ZS)) for t in self.graph.objects(subject, RDF.type)
                 if str(t).startswith(str(ZS))}
        specific = [k for k in kinds if kinds <= set(self.onto.kind(k).ancestors)]
        if len(specific) == 1:
            return specific[0]
        if kinds:
            raise BadInput(f"classes {sorted(kinds)} are not one kind and its superclasses",
                           where=str(subject))
        return None

    def edges(self) -> list[Edge]:
        out: list[Edge] = []
        reified: set[Triple] = set()
        for st in self.graph.subjects(RDF.type, RDF.Statement):
            predicate = self._one(st, RDF.predicate)
            rel = self.vocab.relations.get(predicate) if isinstance(predicate, URIRef) else None
            if rel is None:
                continue  # a statement about something else than an edge
            s, o = self._one(st, RDF.subject), self._one(st, RDF.object)
            if s is None or o is None:
                raise BadInput("an edge statement needs rdf:subject and rdf:object", where=str(st))
            reified.add((s, ZS[rel], o))
            out.append(self._edge(st, s, rel, o))
        for prop, rel in self.vocab.relations.items():
            for s, o in self.graph.subject_objects(prop):
                if (s, prop, o) not in reified:
                    out.append(Edge(self.uid(s), rel, self.uid(o)))
        return sorted(out, key=lambda e: (e.src, e.rel, e.dst, e.key))

    def _edge(self, st: Term, s: Term, rel: str, o: Term) -> Edge:
        time = self._one(st, ZS.time)
        when = time.toPython() if isinstance(time, Literal) else time
        if time is not None and not isinstance(when, datetime):
            raise BadInput(f"zs:time {time!s} is not an xsd:dateTime", where=str(st))
        qty = self._one(st, ZS.quantity)
        uom, key = self._one(st, ZS.uom), self._one(st, ZS.key)
        return Edge(
            src=self.uid(s),
            rel=rel,
            dst=self.uid(o),
            time=when,
            quantity=None if qty is None else _quantity(qty, st),
            uom=None if uom is None else str(uom),
            key="" if key is None else str(key),
            attrs=self._attrs(st, self.vocab.edge_attrs),
        )

    def uid(self, term: Term) -> str:
        """The uid of a node: its ``zs:uid``, else the one its IRI names."""
        if term not in self.uids:
            lit = self._one(term, ZS.uid)
            uid = str(lit) if lit is not None else uid_of_iri(term) if isinstance(term, URIRef) else None
            if uid is None:
                raise BadInput("an edge end has no zs:uid and is not a zhuisu node IRI", where=str(term))
            self.uids[term] = uid
        return self.uids[term]

    def _one(self, subject: Term, prop: Term) -> Term | None:
        """The one value of ``prop``; more than one is an error, never a silent pick."""
        values = list(self.graph.objects(subject, prop))  # type: ignore[arg-type]
        if len(values) > 1:
            raise BadInput(f"{len(values)} values of {prop}, expected one", where=str(subject))
        return values[0] if values else None

    def _attrs(self, subject: Term, typed: frozenset[str]) -> dict[str, Any]:
        """The JSON of ``zs:attrs`` plus the attributes written as data properties."""
        text = self._one(subject, ZS.attrs)
        try:
            attrs = {} if text is None else json.loads(str(text))
        except ValueError as exc:
            raise BadInput(f"zs:attrs is not JSON: {exc}", where=str(subject)) from None
        if not isinstance(attrs, dict):
            raise BadInput("zs:attrs is not a JSON object", where=str(subject))
        for name in typed:
            value = self._one(subject, ZS[name])
            if value is not None:
                attrs[name] = _python(value)
        return attrs


def _python(term: Term | None) -> Any:
    """The JSON-able value of a literal: ints, booleans and strings as they are, other numbers as floats."""
    value = term.toPython() if isinstance(term, Literal) else term
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal | float):
        return float(value)
    return str(term)


def _quantity(term: Term, where: Term) -> float:
    value = _python(term)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadInput(f"zs:quantity {term!s} is not a number", where=str(where))
    return float(value)

"""Turtle and JSON-LD files of the RDF view (graph/rdf.py), written as the triples are read from the store.

rdflib serialises a graph it holds in memory, which for a whole plant means millions of triples at once. These
writers take :func:`zhuisu.graph.rdf.triples` as it pages through the store and write each subject's triples
as they come: Turtle one subject block after another, JSON-LD one node object after another in ``@graph``.
Both read back with any RDF parser into the graph :func:`~zhuisu.graph.rdf.to_rdf` builds, so
:func:`~zhuisu.graph.rdf.from_rdf` turns them into the same store, and SHACL validates them the same way.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import groupby
from typing import Any, TextIO

from rdflib import RDF, XSD, BNode, Graph, Literal, URIRef
from rdflib.term import Node as Term

from zhuisu.graph.rdf import Triple, triples
from zhuisu.graph.store import Store
from zhuisu.ontology import ZS

PREFIXES = {"zs": str(ZS), "rdf": str(RDF), "xsd": str(XSD)}
_SAFE_INT = 2**53  # JSON numbers beyond this lose digits in JavaScript JSON-LD processors
_LOCAL = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")  # a local name every Turtle parser reads as prefix:local


@dataclass(frozen=True, slots=True)
class RdfExport:
    """What an RDF export wrote."""

    format: str
    nodes: int
    triples: int


def write_turtle(store: Store, out: TextIO, *, uids: Iterable[str] | None = None) -> RdfExport:
    """Write the store (or the nodes ``uids`` and the edges among them) as Turtle."""
    names = Graph(bind_namespaces="none")
    for prefix, ns in PREFIXES.items():
        names.bind(prefix, ns)
    manager = names.namespace_manager
    for prefix, ns in PREFIXES.items():
        out.write(f"@prefix {prefix}: <{ns}> .\n")
    count = _Count()
    for subject, group in _subjects(triples(store, uids=uids), count):
        out.write("\n" + _turtle(subject, manager))
        by_predicate = [(p, [o for _, _, o in same]) for p, same in groupby(group, key=lambda t: t[1])]
        for i, (predicate, objects) in enumerate(by_predicate):
            values = " , ".join(_turtle(o, manager) for o in objects)
            out.write(f"{' ;' if i else ''}\n    {_turtle(predicate, manager)} {values}")
        out.write(" .\n")
    return RdfExport("turtle", count.nodes, count.triples)


def write_jsonld(store: Store, out: TextIO, *, uids: Iterable[str] | None = None) -> RdfExport:
    """Write the store (or the nodes ``uids`` and the edges among them) as JSON-LD, one node object each."""
    out.write('{"@context": ' + json.dumps(PREFIXES) + ',\n "@graph": [')
    count = _Count()
    for i, (subject, group) in enumerate(_subjects(triples(store, uids=uids), count)):
        node: dict[str, Any] = {"@id": _id(subject)}
        for predicate, same in groupby(group, key=lambda t: t[1]):
            objects = [o for _, _, o in same]
            if predicate == RDF.type:
                values = [_compact(o) for o in objects]
                node["@type"] = values[0] if len(values) == 1 else values
            else:
                values = [_json(o) for o in objects]
                node[_compact(predicate)] = values[0] if len(values) == 1 else values
        out.write(("\n  " if i == 0 else ",\n  ") + json.dumps(node, ensure_ascii=False))
    out.write("\n]}\n")
    return RdfExport("json-ld", count.nodes, count.triples)


WRITERS: dict[str, Callable[..., RdfExport]] = {"turtle": write_turtle, "jsonld": write_jsonld}


# ── helpers ────────────────────────────────────────────────────────────────────
class _Count:
    def __init__(self) -> None:
        self.nodes = self.triples = 0


def _subjects(source: Iterable[Triple], count: _Count) -> Iterator[tuple[Term, list[Triple]]]:
    """Runs of triples with one subject, each sorted by predicate (a subject may come back in a later run)."""
    for subject, run in groupby(source, key=lambda t: t[0]):
        group = sorted(run, key=lambda t: (t[1] != RDF.type, str(t[1])))
        count.triples += len(group)
        count.nodes += sum(1 for t in group if t[1] == ZS.uid)
        yield subject, group


def _turtle(term: Term, manager: Any) -> str:
    if term == RDF.type:
        return "a"
    if isinstance(term, URIRef):
        short = _compact(term)
        return short if short != str(term) else term.n3()  # node IRIs are percent-encoded: a valid IRIREF
    if isinstance(term, Literal):
        return term.n3(manager)
    return term.n3()  # a blank node: _:label, the same label wherever it appears in the file


def _id(term: Term) -> str:
    return f"_:{term}" if isinstance(term, BNode) else str(term)


def _compact(term: Term) -> str:
    text = str(term)
    for prefix, ns in PREFIXES.items():
        if text.startswith(ns) and _LOCAL.match(text[len(ns):]):
            return f"{prefix}:{text[len(ns):]}"
    return text


def _json(term: Term) -> Any:
    """A JSON-LD value: plain strings, integers and booleans as JSON, other literals with their datatype."""
    if isinstance(term, URIRef | BNode):
        return {"@id": _id(term)}
    assert isinstance(term, Literal)
    if term.language:
        return {"@value": str(term), "@language": term.language}
    if term.datatype is None or term.datatype == XSD.string:
        return str(term)
    value = term.toPython()
    if term.datatype in (XSD.integer, XSD.boolean) and isinstance(value, int) and abs(value) < _SAFE_INT:
        return value  # JSON-LD reads a JSON integer as xsd:integer and true/false as xsd:boolean
    return {"@value": str(term), "@type": _compact(term.datatype)}

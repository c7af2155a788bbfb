"""SHACL validation of instance data: ``shapes.ttl`` plus the shapes generated from ``zhuisu.ttl``.

The hand-written file holds only what the ontology cannot say (cardinalities, datatypes, patterns). The
targets of the node shape, the uid prefix of each class and the subject/object classes of each relation
(``zs:from``/``zs:to``) are generated here from the ontology, so the shapes never drift from it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import unquote

import pyshacl
from rdflib import RDF, BNode, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.namespace import SH
from rdflib.term import Node as Term

from zhuisu.ontology.model import ZS, Ontology, Relation, load

SHAPES = Path(__file__).with_name("shapes.ttl")
ZSH = Namespace("https://w3id.org/zhuisu/shapes#")
_ID = "https://w3id.org/zhuisu/id/"  # node IRIs of graph/rdf.py (which imports the ontology, not vice versa)
_SHOWN = 20  # violations listed by str(report)


@dataclass(frozen=True, slots=True)
class Violation:
    """One failed constraint: the node (its uid, or ``src rel dst`` of an edge), the property, the message."""

    focus: str
    path: str | None
    message: str
    value: str | None = None

    def __str__(self) -> str:
        where = f"{self.focus} {self.path}" if self.path else self.focus
        return f"{where}: {self.message}" + (f" ({self.value})" if self.value is not None else "")


@dataclass(frozen=True, slots=True)
class Report:
    """The outcome of a validation: whether the data conforms, and each violation found."""

    conforms: bool
    violations: tuple[Violation, ...]

    def __str__(self) -> str:
        if self.conforms:
            return "符合本体约束 / conforms"
        lines = [f"{len(self.violations)} 处违反约束 / violations:"]
        lines += [f"  {v}" for v in self.violations[:_SHOWN]]
        if len(self.violations) > _SHOWN:
            lines.append(f"  … {len(self.violations) - _SHOWN} more")
        return "\n".join(lines)


def shapes_graph(ontology: Ontology | None = None) -> Graph:
    """The shapes file plus the target, uid-prefix and relation shapes generated from the ontology."""
    out = Graph()
    out += _shapes(ontology or load())
    return out


def validate(data: Graph, *, ontology: Ontology | None = None) -> Report:
    """Validate instance data against the shapes, with the ontology supplying the class hierarchy."""
    onto = ontology or load()
    shapes = _shapes(onto)
    # No RDFS inference: pyshacl mixes the ontology into (a copy of) the data graph, and SHACL's sh:class
    # and sh:targetClass already follow rdfs:subClassOf there; inference only made validation slower.
    conforms, results, _text = pyshacl.validate(
        data, shacl_graph=shapes, ont_graph=onto.graph, inference="none", allow_warnings=True
    )
    assert isinstance(results, Graph)
    # Only the report's own results: nested ones (sh:detail) explain them and would repeat them.
    violations = sorted(
        (_violation(results, r, data, shapes) for r in results.objects(None, SH.result)),
        key=lambda v: (v.focus, v.path or "", v.message, v.value or ""),
    )
    return Report(conforms=bool(conforms), violations=tuple(violations))


@cache
def _shapes(onto: Ontology) -> Graph:
    graph = Graph()
    graph.parse(SHAPES, format="turtle")
    graph.bind("zs", ZS)
    graph.bind("zsh", ZSH)
    for kind in onto.kinds.values():
        graph.add((ZSH.Node, SH.targetClass, kind.iri))
    _uid_prefix_shapes(graph, onto)
    for rel in onto.relations.values():
        _relation_shape(graph, onto, rel)
    return graph


def _uid_prefix_shapes(graph: Graph, onto: Ontology) -> None:
    """A uid's prefix names its node's kind or one of its superclasses, as the store requires."""
    for prefix, name in onto.by_prefix.items():
        kind = onto.kinds[name]
        # Instances of a subclass are targeted too, so their own prefixes must also be allowed here.
        allowed = sorted(p for p, other in onto.by_prefix.items()
                         if other in kind.ancestors or name in onto.kinds[other].ancestors)
        shape, prop = ZSH[f"{name}Uid"], BNode()
        _add(graph, shape, {RDF.type: SH.NodeShape, SH.targetClass: kind.iri, SH.property: prop})
        _add(graph, prop, {
            SH.path: ZS.uid,
            SH.pattern: Literal(f"^({'|'.join(map(re.escape, allowed))}):"),
            SH.message: Literal(f"{kind.label_zh}的 uid 须以 {prefix}: 开头 / "
                                f"a {name} uid starts with {prefix}:"),
        })


def _relation_shape(graph: Graph, onto: Ontology, rel: Relation) -> None:
    """The subject of ``rel`` is of one of its ``zs:from`` classes, each object of one of its ``zs:to``."""
    shape, objects = ZSH[f"{rel.name}Ends"], BNode()
    sources, targets = sorted(rel.sources), sorted(rel.targets)
    _add(graph, shape, {
        RDF.type: SH.NodeShape,
        SH.targetSubjectsOf: rel.iri,
        **_any_class(graph, sources),
        SH.message: Literal(f"{rel.label_zh}（{rel.name}）的起点须为 {'、'.join(_zh(onto, sources))} / "
                            f"the subject of {rel.name} must be a {' or '.join(sources)}"),
        SH.property: objects,
    })
    _add(graph, objects, {
        SH.path: rel.iri,
        **_any_class(graph, targets),
        SH.message: Literal(f"{rel.label_zh}（{rel.name}）的终点须为 {'、'.join(_zh(onto, targets))} / "
                            f"the object of {rel.name} must be a {' or '.join(targets)}"),
    })


def _zh(onto: Ontology, names: list[str]) -> list[str]:
    return [onto.kinds[n].label_zh or n for n in names]


def _any_class(graph: Graph, classes: list[str]) -> dict[URIRef, Term]:
    """``sh:class`` for one class, else ``sh:or`` of one ``sh:class`` each (pyshacl runs sh:or slowly)."""
    if len(classes) == 1:
        return {SH["class"]: ZS[classes[0]]}
    members: list[Term] = []
    for name in classes:
        member = BNode()
        graph.add((member, SH["class"], ZS[name]))
        members.append(member)
    head = BNode()
    Collection(graph, head, members)
    return {SH["or"]: head}


def _add(graph: Graph, subject: Term, values: dict[URIRef, Term]) -> None:
    for prop, value in values.items():
        graph.add((subject, prop, value))


# ── reading pyshacl's results ───────────────────────────────────────────────────
def _violation(results: Graph, result: Term, data: Graph, shapes: Graph) -> Violation:
    focus = results.value(result, SH.focusNode)
    path = results.value(result, SH.resultPath)
    if path is None:
        # A node-level failure of a shape that targets the subjects of a relation is about that relation.
        path = shapes.value(results.value(result, SH.sourceShape), SH.targetSubjectsOf)
    messages = sorted(str(m) for m in results.objects(result, SH.resultMessage))
    value = results.value(result, SH.value)
    return Violation(
        focus=_describe(focus, data),
        path=None if path is None else _short(path),
        message=messages[0] if messages else str(results.value(result, SH.sourceConstraintComponent)),
        value=None if value is None else str(value) if isinstance(value, Literal) else _describe(value, data),
    )


def _describe(node: Term | None, data: Graph) -> str:
    """A node's uid, an edge statement as ``src rel dst``, or the term in short."""
    if isinstance(node, URIRef) and str(node).startswith(_ID):
        return unquote(str(node)[len(_ID) :])
    if isinstance(node, BNode) and (node, RDF.type, RDF.Statement) in data:
        parts = (data.value(node, RDF.subject), data.value(node, RDF.predicate), data.value(node, RDF.object))
        return " ".join(_describe(p, data) for p in parts)
    return _short(node)


def _short(term: Term | None) -> str:
    for prefix, ns in (("zs", ZS), ("rdf", RDF)):
        if isinstance(term, URIRef) and str(term).startswith(str(ns)):
            return f"{prefix}:{str(term)[len(str(ns)) :]}"
    return str(term)

"""The Python view of the production ontology, derived from ``zhuisu.ttl`` (the single source of truth)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from rdflib import OWL, RDF, RDFS, Graph, Literal, Namespace, URIRef
from rdflib.namespace import SKOS

from zhuisu.errors import UnknownKind

ZS = Namespace("https://w3id.org/zhuisu/ontology#")
TTL = Path(__file__).with_name("zhuisu.ttl")
VOCABULARY = Path(__file__).with_name("vocabulary.ttl")  # SKOS concepts of the maintenance kinds (the NLP dictionary)

MATERIAL = "material"
CONTEXT = "context"


@dataclass(frozen=True, slots=True)
class Kind:
    """A node kind: an ontology class with its uid prefix, labels and synonyms."""

    name: str
    prefix: str
    label_zh: str
    label_en: str
    synonyms: tuple[str, ...]
    ancestors: tuple[str, ...]  # this kind first, then its superclasses

    @property
    def iri(self) -> URIRef:
        return ZS[self.name]


@dataclass(frozen=True, slots=True)
class Relation:
    """A relation between kinds; material relations are traversed by traces, context ones are not."""

    name: str
    flow: str
    sources: frozenset[str]
    targets: frozenset[str]
    label_zh: str
    label_en: str
    synonyms: tuple[str, ...]

    @property
    def material(self) -> bool:
        return self.flow == MATERIAL

    @property
    def iri(self) -> URIRef:
        return ZS[self.name]


@dataclass(frozen=True, eq=False)
class Ontology:
    """Kinds and relations read once from the Turtle file."""

    graph: Graph
    kinds: dict[str, Kind]
    relations: dict[str, Relation]
    by_prefix: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)  # lower-cased label or synonym → kind/relation name

    def kind(self, name: str) -> Kind:
        """Return the kind called ``name`` or raise a clear error listing the known ones."""
        try:
            return self.kinds[name]
        except KeyError:
            raise UnknownKind(f"未知的本体类型 unknown kind {name!r}; known: {', '.join(sorted(self.kinds))}") from None

    def relation(self, name: str) -> Relation:
        """Return the relation called ``name`` or raise a clear error listing the known ones."""
        try:
            return self.relations[name]
        except KeyError:
            known = ", ".join(sorted(self.relations))
            raise UnknownKind(f"未知的关系 unknown relation {name!r}; known: {known}") from None

    def kind_of_uid(self, uid: str) -> str:
        """The kind that a uid's prefix names (``lot:X`` → ``MaterialLot``)."""
        prefix, sep, local = uid.partition(":")
        if not sep or not local:
            raise UnknownKind(f"uid {uid!r} has no kind prefix; expected PREFIX:ID with PREFIX one of "
                              f"{', '.join(sorted(self.by_prefix))}")
        try:
            return self.by_prefix[prefix]
        except KeyError:
            raise UnknownKind(f"uid {uid!r}: unknown prefix {prefix!r}; known: "
                              f"{', '.join(sorted(self.by_prefix))}") from None

    def is_a(self, kind: str, ancestor: str) -> bool:
        """Whether ``kind`` is ``ancestor`` or one of its subclasses."""
        return ancestor in self.kind(kind).ancestors

    def allows(self, relation: str, source_kind: str, target_kind: str) -> bool:
        """Whether ``relation`` may connect a node of ``source_kind`` to one of ``target_kind``."""
        rel = self.relation(relation)
        return bool(rel.sources.intersection(self.kind(source_kind).ancestors)) and bool(
            rel.targets.intersection(self.kind(target_kind).ancestors)
        )

    def canonical(self, label: str) -> str | None:
        """The kind or relation whose label or synonym is ``label`` (any language), if any."""
        return self.labels.get(label.strip().lower())


def _literal(graph: Graph, subject: URIRef, prop: URIRef, lang: str) -> str:
    for obj in graph.objects(subject, prop):
        if isinstance(obj, Literal) and obj.language == lang:
            return str(obj)
    return ""


def _ancestors(graph: Graph, cls: URIRef) -> tuple[str, ...]:
    out: list[str] = []
    todo = [cls]
    while todo:
        c = todo.pop(0)
        name = str(c).removeprefix(str(ZS))
        if name not in out:
            out.append(name)
            todo.extend(o for o in graph.objects(c, RDFS.subClassOf) if isinstance(o, URIRef))
    return tuple(out)


def _prefix(graph: Graph, ancestors: tuple[str, ...]) -> str:
    for name in ancestors:
        value = graph.value(ZS[name], ZS.uidPrefix)
        if value is not None:
            return str(value)
    return ""


@cache
def load(path: Path = TTL) -> Ontology:
    """Parse the ontology once and build its kinds and relations."""
    graph = Graph()
    graph.parse(path, format="turtle")
    kinds: dict[str, Kind] = {}
    by_prefix: dict[str, str] = {}
    for cls in sorted(graph.subjects(RDF.type, OWL.Class)):
        if not isinstance(cls, URIRef) or not str(cls).startswith(str(ZS)):
            continue
        ancestors = _ancestors(graph, cls)
        prefix = _prefix(graph, ancestors)
        name = ancestors[0]
        kinds[name] = Kind(
            name=name,
            prefix=prefix,
            label_zh=_literal(graph, cls, RDFS.label, "zh"),
            label_en=_literal(graph, cls, RDFS.label, "en"),
            synonyms=tuple(sorted(str(s) for s in graph.objects(cls, SKOS.altLabel))),
            ancestors=ancestors,
        )
        if graph.value(cls, ZS.uidPrefix) is not None:
            by_prefix[prefix] = name
    relations: dict[str, Relation] = {}
    for prop in sorted(graph.subjects(RDF.type, OWL.ObjectProperty)):
        name = str(prop).removeprefix(str(ZS))
        relations[name] = Relation(
            name=name,
            flow=str(graph.value(prop, ZS.flow)),
            sources=frozenset(str(o).removeprefix(str(ZS)) for o in graph.objects(prop, ZS["from"])),
            targets=frozenset(str(o).removeprefix(str(ZS)) for o in graph.objects(prop, ZS.to)),
            label_zh=_literal(graph, prop, RDFS.label, "zh"),
            label_en=_literal(graph, prop, RDFS.label, "en"),
            synonyms=tuple(sorted(str(s) for s in graph.objects(prop, SKOS.altLabel))),
        )
    labels: dict[str, str] = {}
    for item in [*kinds.values(), *relations.values()]:
        for label in (item.name, item.label_zh, item.label_en, *item.synonyms):
            if label:
                labels.setdefault(label.lower(), item.name)
    return Ontology(graph=graph, kinds=kinds, relations=relations, by_prefix=by_prefix, labels=labels)

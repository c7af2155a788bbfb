"""The domain dictionary: surface forms → (label, concept), built from the ontology and a store.

The ontology's maintenance vocabulary (``ontology/vocabulary.ttl``: SKOS concepts typed with the kinds
EquipmentType, Component, Symptom, Characteristic, Cause, Action, Tool, SparePart, with their
``skos:prefLabel`` and ``skos:altLabel`` forms) and master data in a store (equipment names, codes, aliases,
spare parts) are the sources. The same entries feed jieba's user dictionary, the entity ruler and concept
normalisation, so a synonym added in one place (an ``skos:altLabel``, an equipment alias in the store) is
segmented, recognised and normalised alike. ``nlp/lexicon`` holds what is no concept: the words that are never
entities and the modifiers that compose attributes (排气 + 温度).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from zhuisu.nlp.normalize import fold

if TYPE_CHECKING:
    from zhuisu.graph.store import Store

LEXICON_DIR = Path(__file__).parent / "lexicon"

# ontology kind → (entity label, uid prefix) of the vocabulary's concepts (equipment types are no store nodes:
# their prefix is the dictionary's own)
KINDS = {"EquipmentType": ("Equipment", "equipment-type"), "Component": ("Component", "component"),
         "Symptom": ("Symptom", "symptom"), "Characteristic": ("Attribute", "attribute"),
         "Cause": ("Cause", "cause"), "Action": ("Action", "action"), "Tool": ("Tool", "tool"),
         "SparePart": ("SparePart", "part")}
# short state words ("高", "低", "大") are symptoms only right after an attribute or component; short actions
# ("换", "调") are actions only right before what they work on or a particle (换了, 调到), never inside a word (换刀)
CONTEXTUAL_MAX = 1
_PRIORITY = {"Equipment": 6, "SparePart": 5, "Tool": 4, "Component": 3, "Cause": 3, "Symptom": 2,
             "Attribute": 2, "Action": 1}


@dataclass(frozen=True, slots=True)
class Entry:
    """One surface form of a concept."""

    surface: str
    label: str
    concept: str  # uid of the canonical concept, e.g. ``symptom:异响`` or ``equipment:PRESS-02``
    contextual: bool = False
    linked: bool = False  # the concept is a node in the store


@dataclass
class Lexicon:
    """Surface forms (folded, lower-cased) with their label and concept, and a longest-match lookup."""

    entries: dict[str, Entry] = field(default_factory=dict)
    max_len: int = 1
    _lengths: dict[str, tuple[int, ...]] = field(default_factory=dict, repr=False)  # first char → lengths
    _pairs: dict[str, tuple[int, ...]] = field(default_factory=dict, repr=False)  # first two chars → lengths

    def add(self, surface: str, label: str, concept: str, *, linked: bool = False) -> None:
        key = fold(surface).strip().lower()
        if not key:
            return
        old = self.entries.get(key)
        if old is not None and not linked and (old.linked or _PRIORITY[old.label] >= _PRIORITY[label]):
            return
        contextual = label in ("Symptom", "Action") and len(key) <= CONTEXTUAL_MAX
        self.entries[key] = Entry(key, label, concept, contextual, linked)
        self._lengths[key[0]] = tuple(sorted({*self._lengths.get(key[0], ()), len(key)}, reverse=True))
        if len(key) >= 2:
            self._pairs[key[:2]] = tuple(sorted({*self._pairs.get(key[:2], ()), len(key)}, reverse=True))
        self.max_len = max(self.max_len, len(key))

    def lookup(self, surface: str) -> Entry | None:
        """The entry for a surface form (any width, script or case)."""
        return self.entries.get(fold(surface).strip().lower())

    def longest(self, text: str, start: int) -> Entry | None:
        """The longest entry that ``text`` (folded, lower-cased) has at ``start``."""
        lengths = self._lengths.get(text[start])
        if lengths is None:
            return None
        entries = self.entries
        for n in lengths:
            hit = entries.get(text[start : start + n])
            if hit is not None:
                return hit
        return None

    def terms(self, text: str) -> list[tuple[int, Entry]]:
        """Every ``(start, entry)`` that ``text`` (folded, lower-cased) holds, by start, longest first."""
        pairs, entries = self._pairs, self.entries
        out = []
        for i in range(len(text)):
            lengths = pairs.get(text[i : i + 2])
            if lengths is not None:
                for n in lengths:
                    hit = entries.get(text[i : i + n])
                    if hit is not None:
                        out.append((i, hit))
            hit = entries.get(text[i])
            if hit is not None:
                out.append((i, hit))
        return out

    def jieba_userdict(self) -> str:
        """The entries in jieba's user-dictionary format (``word freq tag``)."""
        lines = []
        for key, entry in sorted(self.entries.items()):
            if " " not in key and not entry.contextual:
                lines.append(f"{key} {2000 + 200 * len(key)} {entry.label[:2].lower()}")
        return "\n".join(lines) + "\n"

    def concept(self, label: str, surface: str) -> str:
        """The canonical concept uid of a mention (its lexicon concept, or one made from its folded text)."""
        entry = self.lookup(surface)
        if entry is not None and entry.label == label:
            return entry.concept
        prefix = {"Component": "component", "Symptom": "symptom", "Attribute": "attribute", "Cause": "cause",
                  "Action": "action", "Tool": "tool", "SparePart": "part", "Equipment": "equipment-type",
                  "FaultCode": "fault-code", "Parameter": "parameter"}.get(label, label.lower())
        return f"{prefix}:{fold(surface).strip()}"


@dataclass(frozen=True, slots=True)
class Concept:
    """A vocabulary concept: its entity label, uid (``symptom:异响``) and surface forms, the name first."""

    label: str
    uid: str
    surfaces: tuple[str, ...]


@cache
def concepts() -> tuple[Concept, ...]:
    """The concepts of the ontology's maintenance vocabulary (and any instance of a maintenance kind in the core
    ontology), by kind and uid."""
    from rdflib import RDF, RDFS, Graph, Literal
    from rdflib.namespace import SKOS

    from zhuisu.ontology import load
    from zhuisu.ontology.model import VOCABULARY, ZS

    vocabulary = Graph()
    vocabulary.parse(VOCABULARY, format="turtle")
    out = []
    for graph in (vocabulary, load().graph):
        for kind, (label, prefix) in KINDS.items():
            found = []
            for subject in graph.subjects(RDF.type, ZS[kind]):
                pref, alt, plain = ([str(o) for o in sorted(graph.objects(subject, p))
                                     if isinstance(o, Literal) and o.language in ("zh", None)]
                                    for p in (SKOS.prefLabel, SKOS.altLabel, RDFS.label))
                forms = list(dict.fromkeys([*pref, *plain, *alt]))
                if forms:
                    found.append(Concept(label, f"{prefix}:{forms[0]}", tuple(forms)))
            out.extend(sorted(found, key=lambda c: c.uid))
    return tuple(out)


@cache
def not_entities() -> frozenset[str]:
    """Words that are never entities on their own (``not_entities.txt``: diagnostic steps, outcomes, fillers)."""
    path = LEXICON_DIR / "not_entities.txt"
    return frozenset(w for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("#")
                     for w in line.split())


@cache
def base() -> Lexicon:
    """The lexicon from the ontology's maintenance vocabulary (no store)."""
    lex = Lexicon()
    for concept in concepts():
        for surface in concept.surfaces:
            lex.add(surface, concept.label, concept.uid)
    _compound_attributes(lex)
    return lex


def _compound_attributes(lex: Lexicon) -> None:
    """Modifier + measured quantity (排气温度, 锁模力, 输出电流) as attributes of their own, unless listed already."""
    fields: dict[str, list[str]] = {}
    for line in (LEXICON_DIR / "attribute_modifiers.txt").read_text(encoding="utf-8").splitlines():
        name, sep, words = line.partition(":")
        if sep and not line.startswith("#"):
            fields[name.strip()] = words.split()
    for modifier in fields.get("modifiers", []):
        for head in fields.get("heads", []):
            word = modifier + head
            if fold(word).lower() not in lex.entries:
                lex.add(word, "Attribute", f"attribute:{word}")
    # a device named after what it measures or switches is a component: 压力 + 开关, 液位 + 控制器
    for quantity in (c.surfaces[0] for c in concepts() if c.label == "Attribute"):
        for device in fields.get("devices", []):
            if fold(quantity + device).lower() not in lex.entries:
                lex.add(quantity + device, "Component", f"component:{quantity}{device}")


def for_store(store: Store | None) -> Lexicon:
    """The base lexicon plus master data from ``store``: equipment names, codes and aliases, spare parts, tools."""
    if store is None:
        return base()
    import sqlalchemy as sa

    from zhuisu.graph.schema import aliases, nodes

    root = base()
    lex = Lexicon(dict(root.entries), root.max_len, dict(root._lengths), dict(root._pairs))
    onto = store.ontology
    equipment_kinds = [k for k in onto.kinds if onto.is_a(k, "Equipment")]
    wanted = {**{k: "Equipment" for k in equipment_kinds}, "Component": "Component", "SparePart": "SparePart",
              "Tool": "Tool"}
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(nodes.c.id, nodes.c.uid, nodes.c.kind, nodes.c.name, nodes.c.attrs)
                            .where(nodes.c.kind.in_(list(wanted)))).all()
        ids = {r.id: r for r in rows}
        alias_rows = conn.execute(sa.select(aliases.c.alias, aliases.c.node)
                                  .where(aliases.c.node.in_(list(ids)))).all() if ids else []
    for row in rows:
        label = wanted[row.kind]
        local = row.uid.partition(":")[2]
        for surface in (row.name, local):
            if surface and len(fold(surface).strip()) >= 2:
                lex.add(surface, label, row.uid, linked=True)
        attrs = json.loads(row.attrs or "{}")
        for extra in re.split(r"[;；,，]", str(attrs.get("aliases", ""))):
            if len(extra.strip()) >= 2:
                lex.add(extra, label, row.uid, linked=True)
    for alias, node in alias_rows:
        row = ids[node]
        if len(alias) <= 40 and ":" not in alias:
            lex.add(alias, wanted[row.kind], row.uid, linked=True)
    return lex

"""Entity linking of equipment mentions ("2号压装机", "#2压机", "二号压装机", "PRESS-02") to store uids."""

from __future__ import annotations

import re

from zhuisu.nlp.lexicon import Lexicon
from zhuisu.nlp.normalize import fold, zh_number

_NUMBERED = [
    re.compile(r"^(?P<n>\d{1,3}|[零一二两三四五六七八九十]{1,3})\s*[号#]\s*(?P<w>.+)$"),
    re.compile(r"^(?:#|no\.?)\s*(?P<n>\d{1,3})\s*(?P<w>.+)$"),
    re.compile(r"^(?P<w>.+?)\s*[-_#]?\s*(?P<n>\d{1,3})$"),
]


def key(surface: str, lex: Lexicon) -> tuple[str, int] | None:
    """``(equipment type concept, number)`` of a numbered mention: "#2压机" and "2号压装机" give the same key."""
    s = fold(surface).strip().lower()
    for pattern in _NUMBERED:
        m = pattern.match(s)
        if not m:
            continue
        number = zh_number(m.group("n"))
        entry = lex.entries.get(m.group("w").strip())
        if number is not None and entry is not None and entry.label == "Equipment":
            concept = entry.concept if not entry.linked else entry.surface
            return concept, number
    return None


class EquipmentLinker:
    """Resolves equipment mentions to store uids by exact name/code/alias, then by (type, number)."""

    def __init__(self, lex: Lexicon) -> None:
        self.lex = lex
        self.by_key: dict[tuple[str, int], set[str]] = {}
        self.by_type: dict[str, set[str]] = {}
        for entry in lex.entries.values():
            if entry.label != "Equipment" or not entry.linked:
                continue
            k = key(entry.surface, lex)
            if k is not None:
                self.by_key.setdefault(k, set()).add(entry.concept)
                self.by_type.setdefault(k[0], set()).add(entry.concept)
            else:
                generic = lex.entries.get(entry.surface)
                base_entry = _type_of(entry.surface, lex)
                if base_entry and generic is not None:
                    self.by_type.setdefault(base_entry, set()).add(entry.concept)

    def link(self, surface: str) -> str | None:
        """The uid of the one store node the mention names, or None when unknown or ambiguous."""
        entry = self.lex.lookup(surface)
        if entry is not None and entry.linked and entry.label == "Equipment":
            return entry.concept
        k = key(surface, self.lex)
        if k is not None:
            hits = self.by_key.get(k, set())
            return next(iter(hits)) if len(hits) == 1 else None
        if entry is not None and entry.label == "Equipment":
            hits = self.by_type.get(entry.concept, set())
            return next(iter(hits)) if len(hits) == 1 else None
        return None


def _type_of(surface: str, lex: Lexicon) -> str | None:
    for n in range(len(surface), 1, -1):
        entry = lex.entries.get(surface[-n:])
        if entry is not None and entry.label == "Equipment" and not entry.linked:
            return entry.concept
    return None

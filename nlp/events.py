"""Maintenance-event assembly: ``extract(text)`` → a typed ``MaintenanceEvent`` with every mention's offsets."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from zhuisu.nlp import timex
from zhuisu.nlp.normalize import fold
from zhuisu.nlp.patterns import CLAUSE_BREAK, NUMBER, OTHER_END

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

    from zhuisu.graph.store import Store

MAX_CHARS = 200_000
_NO_INFO = ("", "", False, False)  # longer notes are cut (and say so); keeps time and memory bounded
# a value, a range's or tolerance's other end (18~25MPa, 23±0.1℃: the first value counts) and its unit
_VALUE = re.compile(rf"({NUMBER}){OTHER_END}\s*(.*)$")


class Mention(NamedTuple):
    """One entity mention with its character offsets in the original text (a named tuple: thousands are made
    per second, and a frozen dataclass costs five times as much to build)."""

    label: str
    text: str
    start: int
    end: int
    concept: str = ""  # canonical concept uid (``symptom:异响``) or the linked store uid
    negated: bool = False
    uncertain: bool = False
    source: str = ""  # lexicon, store, regex or model


class Relation(NamedTuple):
    """A typed relation between two mentions (indexes into ``MaintenanceEvent.mentions``)."""

    head: int
    tail: int
    label: str


class Quantity(NamedTuple):
    """A value with its unit, and the attribute it measures when the note says so."""

    mention: int
    value: float
    unit: str
    attribute: str | None = None


@dataclass(frozen=True, slots=True)
class TimeRef:
    """A time expression resolved against the note's date."""

    mention: int
    start: datetime | None
    end: datetime | None


@dataclass
class MaintenanceEvent:
    """What a maintenance note says: equipment, components, symptoms, causes, actions, parts, values, times."""

    text: str
    mentions: list[Mention] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)
    parameters: list[Quantity] = field(default_factory=list)
    times: list[TimeRef] = field(default_factory=list)
    downtime_h: float | None = None
    truncated: bool = False

    def of(self, label: str) -> list[Mention]:
        return [m for m in self.mentions if m.label == label]

    @property
    def equipment(self) -> list[Mention]:
        return self.of("Equipment")

    @property
    def components(self) -> list[Mention]:
        return self.of("Component")

    @property
    def symptoms(self) -> list[Mention]:
        return self.of("Symptom")

    @property
    def causes(self) -> list[Mention]:
        return self.of("Cause")

    @property
    def actions(self) -> list[Mention]:
        return self.of("Action")

    @property
    def spare_parts(self) -> list[Mention]:
        return self.of("SparePart")

    @property
    def fault_codes(self) -> list[Mention]:
        return self.of("FaultCode")

    def to_record(self, id: Any = None) -> dict[str, Any]:
        """The note in the project's JSONL schema (as in tests/data/nlp/gold.jsonl)."""
        out: dict[str, Any] = {"id": id} if id is not None else {}
        out["text"] = self.text
        out["entities"] = [{"id": i, **m._asdict()} for i, m in enumerate(self.mentions)]
        out["relations"] = [r._asdict() for r in self.relations]
        out["parameters"] = [q._asdict() for q in self.parameters]
        out["times"] = [{"mention": t.mention, "start": t.start.isoformat() if t.start else None,
                         "end": t.end.isoformat() if t.end else None} for t in self.times]
        out["downtime_h"] = self.downtime_h
        if self.truncated:
            out["truncated"] = True
        return out


PIECE = 1000  # long notes are read in pieces of about this many characters, cut at sentence ends


def extract(text: str, *, note_date: date | datetime | None = None, store: Store | None = None,
            nlp: Language | None = None) -> MaintenanceEvent:
    """Read one maintenance note into a ``MaintenanceEvent`` (offsets refer to ``text``)."""
    return extract_many([text], note_dates=[note_date], store=store, nlp=nlp)[0]


def extract_many(texts: list[str], *, note_dates: list[Any] | None = None, store: Store | None = None,
                 nlp: Language | None = None, batch_size: int = 256) -> list[MaintenanceEvent]:
    """``extract`` over many notes with ``nlp.pipe``; long notes are read piece by piece (bounded time)."""
    from zhuisu.nlp.pipeline import build_pipeline

    nlp = nlp or build_pipeline(store)
    dates = note_dates or [None] * len(texts)
    texts = [t if isinstance(t, str) else str(t or "") for t in texts]
    jobs = [(n, offset, piece) for n, t in enumerate(texts) for piece, offset in pieces(t[:MAX_CHARS])]
    events = [MaintenanceEvent(text=t, truncated=len(t) > MAX_CHARS) for t in texts]
    docs = nlp.pipe((piece for _, _, piece in jobs), batch_size=batch_size)
    for (n, offset, piece), doc in zip(jobs, docs, strict=True):
        part = from_doc(doc, note_date=dates[n], nlp=nlp)
        if offset == 0 and len(piece) == len(texts[n]):
            part.text = texts[n]
            events[n] = part
        else:
            _append(events[n], part, offset)
    return events


def pieces(text: str, size: int = PIECE) -> list[tuple[str, int]]:
    """``(piece, offset)``: the text cut at sentence ends into pieces of at most about ``size`` characters."""
    if len(text) <= size:
        return [(text, 0)]
    out, start = [], 0
    while start < len(text):
        end = min(len(text), start + size)
        if end < len(text):
            cut = max(text.rfind(c, start, end) for c in "。；;！!？?\n")
            end = cut + 1 if cut > start + size // 4 else end
        out.append((text[start:end], start))
        start = end
    return out


def _append(event: MaintenanceEvent, part: MaintenanceEvent, offset: int) -> None:
    base = len(event.mentions)
    event.mentions.extend(Mention(m.label, m.text, m.start + offset, m.end + offset, m.concept, m.negated,
                                  m.uncertain, m.source) for m in part.mentions)
    event.relations.extend(Relation(r.head + base, r.tail + base, r.label) for r in part.relations)
    event.parameters.extend(Quantity(q.mention + base, q.value, q.unit, q.attribute) for q in part.parameters)
    event.times.extend(TimeRef(t.mention + base, t.start, t.end) for t in part.times)
    if part.downtime_h is not None:
        event.downtime_h = (event.downtime_h or 0.0) + part.downtime_h


def from_doc(doc: Doc, *, note_date: Any = None, nlp: Language | None = None, full_text: str | None = None,
             truncated: bool = False) -> MaintenanceEvent:
    """Assemble the event from a processed Doc."""
    from zhuisu.nlp import lexicon as lexmod
    from zhuisu.nlp.components import INFO, entities
    from zhuisu.nlp.tokenizer import doc_text

    lex = getattr(getattr(nlp, "tokenizer", None), "lexicon", None) or lexmod.base()
    linker = _linker(lex)
    text = doc_text(doc)
    event = MaintenanceEvent(text=full_text if full_text is not None else text, truncated=truncated)
    info = doc.user_data.get(INFO, {})
    mentions = event.mentions
    for _s, _e, label, start, end in entities(doc):
        concept, source, negated, uncertain = info.get((start, end), _NO_INFO)
        surface = text[start:end]
        if label == "Equipment":
            concept = linker.link(surface) or concept or _equipment_type(surface, lex)
        elif label in ("Component", "Symptom", "Attribute", "Cause", "Action", "Tool"):
            concept = concept or lex.concept(label, surface)
        elif label in ("SparePart", "FaultCode"):
            concept = concept or lex.concept(label, fold(surface).replace(" ", "").upper())
        mentions.append(Mention(label, surface, start, end, concept, negated, uncertain, source))
    event.relations.extend(Relation(h, t, label) for h, t, label in doc._.relations)
    _attribute_states(event, lex)
    _quantities(event, note_date)
    return event


_linkers: dict[int, Any] = {}


def _equipment_type(surface: str, lex: Any) -> str:
    """An unlinked equipment mention's concept: its type and number (``equipment-type:压装机#2``)."""
    from zhuisu.nlp.linking import key

    k = key(surface, lex)
    return f"{k[0]}#{k[1]}" if k else lex.concept("Equipment", surface)


def _linker(lex: Any) -> Any:
    from zhuisu.nlp.linking import EquipmentLinker

    linker = _linkers.get(id(lex))
    if linker is None:
        _linkers.clear()
        linker = _linkers[id(lex)] = EquipmentLinker(lex)
    return linker


def _attribute_states(event: MaintenanceEvent, lex: Any) -> None:
    """A state of an attribute ("油温" + "偏高") normalises to one symptom concept (``symptom:油温偏高``)."""
    for rel in event.relations:
        if rel.label != "has-fault":
            continue
        head, tail = event.mentions[rel.head], event.mentions[rel.tail]
        if head.label == "Attribute" and tail.concept.startswith("symptom:"):
            state = tail.concept.partition(":")[2]
            attribute = head.concept.partition(":")[2] or fold(head.text)
            event.mentions[rel.tail] = Mention(tail.label, tail.text, tail.start, tail.end,
                                               f"symptom:{attribute}{state}", tail.negated, tail.uncertain,
                                               tail.source)


def _quantities(event: MaintenanceEvent, note_date: Any) -> None:
    for i, m in enumerate(event.mentions):
        if m.label == "Parameter":
            match = _VALUE.match(fold(m.text).strip())
            if not match:
                continue
            try:
                value = float(match.group(1))
            except ValueError:
                continue
            attribute = next((event.mentions[j].concept for j in range(i - 1, max(i - 3, -1), -1)
                              if event.mentions[j].label == "Attribute"
                              and not CLAUSE_BREAK.search(event.text, event.mentions[j].end, m.start)), None)
            event.parameters.append(Quantity(i, value, match.group(2).strip(), attribute))
            hours = timex.hours(m.text)
            before = event.text[max(0, m.start - 6) : m.start]
            if hours is not None and any(w in before for w in ("停机", "停线", "停产", "耗时", "用时", "宕机")):
                event.downtime_h = (event.downtime_h or 0.0) + hours
        elif m.label == "Time":
            start, end = timex.resolve(fold(m.text), note_date)
            event.times.append(TimeRef(i, start, end))

"""Entity and relation precision, recall and F1 against a gold file in the project's schema."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zhuisu.errors import BadInput

SCORED = ("Equipment", "Component", "Symptom", "Attribute", "Cause", "Action", "SparePart", "FaultCode",
          "Parameter", "Tool")


@dataclass
class PRF:
    """True positives, predicted and gold counts."""

    tp: int = 0
    pred: int = 0
    gold: int = 0

    @property
    def p(self) -> float:
        return self.tp / self.pred if self.pred else 0.0

    @property
    def r(self) -> float:
        return self.tp / self.gold if self.gold else 0.0

    @property
    def f1(self) -> float:
        return 2 * self.p * self.r / (self.p + self.r) if self.p + self.r else 0.0

    def add(self, pred: set[Any], gold: set[Any]) -> None:
        self.tp += len(pred & gold)
        self.pred += len(pred)
        self.gold += len(gold)

    def as_dict(self) -> dict[str, float | int]:
        return {"p": round(self.p, 4), "r": round(self.r, 4), "f1": round(self.f1, 4), "tp": self.tp,
                "pred": self.pred, "gold": self.gold}


@dataclass
class Report:
    """Scores overall and per label."""

    entities: PRF = field(default_factory=PRF)
    relations: PRF = field(default_factory=PRF)
    by_label: dict[str, PRF] = field(default_factory=dict)
    by_relation: dict[str, PRF] = field(default_factory=dict)
    qualifiers: Counter[str] = field(default_factory=Counter)
    notes: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"notes": self.notes, "entities": self.entities.as_dict(), "relations": self.relations.as_dict(),
                "by_label": {k: v.as_dict() for k, v in sorted(self.by_label.items())},
                "by_relation": {k: v.as_dict() for k, v in sorted(self.by_relation.items())},
                "qualifiers": dict(self.qualifiers)}


def read_gold(path: Path) -> list[dict[str, Any]]:
    """Gold records, each checked: entity offsets must cut out the entity text. A ``.txt`` file is read as
    annotation markup (``zhuisu.nlp.markup``: the gold set's source, the annotated training notes)."""
    if path.suffix == ".txt":
        from zhuisu.nlp.markup import MarkupError, read

        try:
            return read(path)
        except (OSError, UnicodeDecodeError) as exc:
            raise BadInput(f"cannot read gold file: {exc}", where=str(path)) from None
        except MarkupError as exc:
            raise BadInput(exc.reason, where=exc.where) from None
    out = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"cannot read gold file: {exc}", where=str(path)) from None
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            text = rec["text"]
            for e in rec.get("entities", []):
                if text[e["start"] : e["end"]] != e.get("text", text[e["start"] : e["end"]]):
                    raise ValueError(f"entity {e!r} does not match its offsets")
        except (ValueError, KeyError, TypeError) as exc:
            raise BadInput(f"bad gold record: {exc}", where=f"{path}:{n}") from None
        out.append(rec)
    return out


def score(gold: Iterable[dict[str, Any]], predicted: Iterable[dict[str, Any]]) -> Report:
    """Exact-span entity scores and relation scores (a relation counts when both spans, labels and type match)."""
    report = Report()
    for g, p in zip(gold, predicted, strict=True):
        report.notes += 1
        gents = {(e["start"], e["end"], e["label"]) for e in g["entities"] if e["label"] in SCORED}
        pents = {(e["start"], e["end"], e["label"]) for e in p["entities"] if e["label"] in SCORED}
        report.entities.add(pents, gents)
        for label in SCORED:
            report.by_label.setdefault(label, PRF()).add({x for x in pents if x[2] == label},
                                                         {x for x in gents if x[2] == label})
        grels, prels = _rels(g), _rels(p)
        report.relations.add(prels, grels)
        for label in {r[2] for r in grels | prels}:
            report.by_relation.setdefault(label, PRF()).add({x for x in prels if x[2] == label},
                                                            {x for x in grels if x[2] == label})
        pflags = {(e["start"], e["end"]): e for e in p["entities"]}
        for e in g["entities"]:
            q = pflags.get((e["start"], e["end"]))
            if q is None:
                continue
            for flag in ("negated", "uncertain"):
                if e.get(flag) or q.get(flag):
                    report.qualifiers[f"{flag}_{'ok' if bool(e.get(flag)) == bool(q.get(flag)) else 'wrong'}"] += 1
    return report


def _rels(rec: dict[str, Any]) -> set[tuple[tuple[int, int], tuple[int, int], str]]:
    ents = rec["entities"]
    out = set()
    for r in rec.get("relations", []):
        h, t = ents[r["head"]], ents[r["tail"]]
        out.add(((h["start"], h["end"]), (t["start"], t["end"]), r["label"]))
    return out

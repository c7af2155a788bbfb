"""The annotation markup of hand-written notes (the gold set and the annotated training notes).

One note per line, ``markup || relations``: ``[surface|LABEL]`` with LABEL one of EQ CO SY AT CA AC SP FC PA TO
(a trailing ``!`` marks a negated mention, ``?`` an uncertain one); relations ``head>tail:rel`` separated by
``;`` (rel: hf has-fault, po part-of, cb caused-by, ao action-on, rp replaced-part, dw detected-with);
``surface@2`` names the second mention with that surface. Lines starting with ``#`` are comments.

``python -m zhuisu.nlp.markup FILE…`` checks files and prints what they hold; an error names ``file:line``.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

LABELS = {"EQ": "Equipment", "CO": "Component", "SY": "Symptom", "AT": "Attribute", "CA": "Cause",
          "AC": "Action", "SP": "SparePart", "FC": "FaultCode", "PA": "Parameter", "TO": "Tool"}
RELS = {"hf": "has-fault", "po": "part-of", "cb": "caused-by", "ao": "action-on", "rp": "replaced-part",
        "dw": "detected-with"}
ALLOWED = {
    "has-fault": ({"Component", "Equipment", "Attribute"}, {"Symptom"}),
    "part-of": ({"Component", "Equipment"}, {"Equipment", "Component"}),
    "caused-by": ({"Symptom"}, {"Cause", "Symptom"}),
    "action-on": ({"Action"}, {"Component", "Equipment"}),
    "replaced-part": ({"Action"}, {"SparePart"}),
    "detected-with": ({"Component", "Attribute", "Symptom", "Equipment"}, {"Tool"}),
}
_MARK = re.compile(r"\[([^\[\]|]+)\|([A-Z]{2})([!?]?)\]")
_REL = re.compile(r"(.+?)>(.+?):([a-z]{2})")


class MarkupError(ValueError):
    """A line that does not parse: ``where`` (``file:line``) and what is wrong (``reason``)."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: {reason}")
        self.where, self.reason = where, reason


def parse(line: str, where: str = "") -> dict[str, Any]:
    """One markup line → ``{"text", "entities", "relations"}`` (entities with character offsets)."""
    markup, _, rels = line.partition("||")
    markup = markup.strip()
    text, ents, pos = "", [], 0
    for m in _MARK.finditer(markup):
        text += markup[pos:m.start()]
        surface, code, flag = m.groups()
        if code not in LABELS:
            raise MarkupError(where, f"unknown label {code} (one of {' '.join(LABELS)})")
        ents.append({"id": len(ents), "label": LABELS[code], "start": len(text), "end": len(text) + len(surface),
                     "text": surface, "negated": flag == "!", "uncertain": flag == "?"})
        text += surface
        pos = m.end()
    text += markup[pos:]
    if "[" in text or "|" in text:
        raise MarkupError(where, f"unparsed markup in {text!r}: write mentions as [surface|LABEL]")
    relations = []
    for item in filter(None, (r.strip() for r in rels.split(";"))):
        m = _REL.fullmatch(item)
        if not m or m.group(3) not in RELS:
            raise MarkupError(where, f"bad relation {item!r}: write head>tail:rel with rel one of {' '.join(RELS)}")
        head, tail = (_find(ents, ref, where) for ref in m.group(1, 2))
        label = RELS[m.group(3)]
        heads, tails = ALLOWED[label]
        if ents[head]["label"] not in heads or ents[tail]["label"] not in tails:
            raise MarkupError(where, f"{label} cannot join {ents[head]['label']} → {ents[tail]['label']}: {item}")
        relations.append({"head": head, "tail": tail, "label": label})
    return {"text": text, "entities": ents, "relations": relations}


def _find(ents: list[dict[str, Any]], ref: str, where: str) -> int:
    surface, _, nth = ref.partition("@")
    hits = [e["id"] for e in ents if e["text"] == surface]
    k = int(nth or 1)
    if len(hits) < k:
        raise MarkupError(where, f"relation names {ref!r}, which is not a mention of the note")
    return hits[k - 1]


def read(path: Path) -> list[dict[str, Any]]:
    """Every note of a markup file, in order."""
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip() and not line.startswith("#"):
            out.append(parse(line, f"{path}:{n}"))
    return out


def main(argv: list[str] | None = None) -> int:
    paths = [Path(p) for p in (sys.argv[1:] if argv is None else argv)]
    if not paths:
        print("usage: python -m zhuisu.nlp.markup FILE…", file=sys.stderr)
        return 2
    for path in paths:
        try:
            notes = read(path)
        except (MarkupError, OSError) as exc:
            print(f"错误: {exc}", file=sys.stderr)
            return 1
        labels = Counter(e["label"] for r in notes for e in r["entities"])
        rels = Counter(x["label"] for r in notes for x in r["relations"])
        print(f"{path}: {len(notes)} notes, {sum(labels.values())} mentions ({dict(labels.most_common())}), "
              f"{sum(rels.values())} relations ({dict(rels.most_common())})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Turn the hand-written gold markup (gold.src.txt) into gold.jsonl and check every offset and relation.

Run: python tests/data/nlp/make_gold.py   (deterministic; rewrites gold.jsonl next to this file)
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).parent
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
MARK = re.compile(r"\[([^\[\]|]+)\|([A-Z]{2})([!?]?)\]")


def parse(line: str, n: int) -> dict:
    markup, _, rels = line.partition("||")
    markup = markup.strip()
    text, ents, pos = "", [], 0
    for m in MARK.finditer(markup):
        text += markup[pos:m.start()]
        surface, code, flag = m.groups()
        if code not in LABELS:
            raise ValueError(f"line {n}: unknown label {code}")
        ents.append({"id": len(ents), "label": LABELS[code], "start": len(text), "end": len(text) + len(surface),
                     "text": surface, "negated": flag == "!", "uncertain": flag == "?"})
        text += surface
        pos = m.end()
    text += markup[pos:]
    if "[" in text or "|" in text:
        raise ValueError(f"line {n}: unparsed markup in {text!r}")
    relations = []
    for item in filter(None, (r.strip() for r in rels.split(";"))):
        m = re.fullmatch(r"(.+?)>(.+?):([a-z]{2})", item)
        if not m:
            raise ValueError(f"line {n}: bad relation {item!r}")
        head, tail = (_find(ents, ref, n) for ref in m.group(1, 2))
        label = RELS[m.group(3)]
        heads, tails = ALLOWED[label]
        if ents[head]["label"] not in heads or ents[tail]["label"] not in tails:
            raise ValueError(f"line {n}: {label} cannot join {ents[head]['label']} → {ents[tail]['label']}: {item}")
        relations.append({"head": head, "tail": tail, "label": label})
    for e in ents:
        assert text[e["start"]:e["end"]] == e["text"], (n, e)
    return {"text": text, "entities": ents, "relations": relations}


def _find(ents: list[dict], ref: str, n: int) -> int:
    surface, _, nth = ref.partition("@")
    hits = [e["id"] for e in ents if e["text"] == surface]
    k = int(nth or 1)
    if len(hits) < k:
        raise ValueError(f"line {n}: relation names {ref!r}, which is not an entity")
    return hits[k - 1]


def main() -> int:
    out = []
    for n, line in enumerate((HERE / "gold.src.txt").read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        rec = parse(line, n)
        out.append({"id": f"g{len(out) + 1:03d}", **rec})
    with (HERE / "gold.jsonl").open("w", encoding="utf-8") as f:
        for rec in out:
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    print(f"{len(out)} notes, {sum(len(r['entities']) for r in out)} entities, "
          f"{sum(len(r['relations']) for r in out)} relations")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Turn the hand-written gold markup (gold.src.txt) into gold.jsonl and check every offset and relation.

Run: python tests/data/nlp/make_gold.py   (deterministic; rewrites gold.jsonl next to this file)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from zhuisu.nlp.markup import read

HERE = Path(__file__).parent


def main() -> int:
    out = [{"id": f"g{i:03d}", **rec} for i, rec in enumerate(read(HERE / "gold.src.txt"), 1)]
    with (HERE / "gold.jsonl").open("w", encoding="utf-8") as f:
        for rec in out:
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    print(f"{len(out)} notes, {sum(len(r['entities']) for r in out)} entities, "
          f"{sum(len(r['relations']) for r in out)} relations")
    return 0


if __name__ == "__main__":
    sys.exit(main())

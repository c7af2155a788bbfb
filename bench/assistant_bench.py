"""Answer latency of ``zhuisu.assistant.ask`` on a sample plant (docs/assistant.md).

    python bench/assistant_bench.py [--plant motor|dairy] [--rounds 3] [--json]

motor: the committed sample (2,000 units); dairy: the default generated plant (``zhuisu samples make dairy``,
2,000 finished lots, seed 1). Builds the store in a temporary folder (ingest + maintenance-note enrichment),
warms the assistant with one untimed pass (jieba's dictionary, the record cache, BM25, the graph engine), then
asks every question of the plant's evaluation set ``rounds`` times and reports p50/p95/max per-question latency,
overall and per intent.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections import defaultdict
from datetime import date
from pathlib import Path

import zhuisu
from zhuisu.assistant import ask
from zhuisu.graph.engine import Engine
from zhuisu.graph.store import Store
from zhuisu.ingest import plan
from zhuisu.nlp.enrich import enrich

ROOT = Path(zhuisu.__file__).parent
DATA = ROOT / "tests" / "data" / "assistant"
# plant → (evaluation set, the day its questions are asked on, a warm-up question)
PLANTS = {"motor": (DATA / "questions.jsonl", date(2023, 12, 1), "3号压装机最近有哪些故障？"),
          "dairy": (DATA / "dairy_questions.jsonl", date(2024, 4, 16), "1号配料罐最近有哪些故障？")}


def _folder(plant: str, tmp: Path) -> Path:
    if plant == "motor":
        return ROOT / "samples" / "data" / "motor"
    from zhuisu.samples import generate

    generate("dairy", 2000, 1, tmp / "dairy")
    return tmp / "dairy"


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plant", choices=sorted(PLANTS), default="motor")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    path, today, warm_up = PLANTS[args.plant]
    questions = [json.loads(x)["q"] for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        folder = _folder(args.plant, Path(tmp))
        store = Store(Path(tmp) / f"{args.plant}.db")
        t0 = time.perf_counter()
        for batch in plan(folder):
            store.ingest(batch)
        store.ingest(enrich(store))
        engine = Engine.load(store)
        built = time.perf_counter() - t0
        t0 = time.perf_counter()
        for q in [warm_up, *questions]:  # one untimed pass: jieba, the record view, BM25, the engine
            ask(q, store=store, engine=engine, today=today)
        warm = time.perf_counter() - t0
        all_ms: list[float] = []
        per_intent: dict[str, list[float]] = defaultdict(list)
        for _ in range(args.rounds):
            for q in questions:
                started = time.perf_counter()
                answer = ask(q, store=store, engine=engine, today=today)
                ms = (time.perf_counter() - started) * 1000
                all_ms.append(ms)
                per_intent[answer.intent or "refused"].append(ms)
        store.close()
    report = {
        "plant": args.plant, "questions": len(questions), "rounds": args.rounds, "asked": len(all_ms),
        "build_s": round(built, 2), "warmup_s": round(warm, 2),
        "p50_ms": round(statistics.median(all_ms), 2), "p95_ms": round(_pct(all_ms, 95), 2),
        "max_ms": round(max(all_ms), 2),
        "per_intent_p95_ms": {k: round(_pct(v, 95), 2) for k, v in sorted(per_intent.items())},
    }
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    else:
        for key, value in report.items():
            print(f"{key:>18}: {value}")


if __name__ == "__main__":
    main()

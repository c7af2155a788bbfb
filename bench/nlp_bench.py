"""Throughput of the full NLP pipeline on 50-character notes, one process, one thread.

    python bench/nlp_bench.py [--notes 5000] [--rules-only | --model DIR] [--compare] [--stages]

Notes are the gold notes cut or padded to 50 characters; the pipeline (model included) is warmed up first.
``--compare`` also times, on the same notes and core, what a user would reach for instead: jieba's
segmentation (``jieba.lcut``) and its part-of-speech tagger (``jieba.posseg.lcut``, the usual quick way to
pull nouns out of Chinese text); they find words, not typed mentions or relations, so the ratio is the price
of zhuisu's extraction over plain segmentation. ``--stages`` prints the CPU time of each stage (tokenizer, each
pipe, event assembly), best of 4, in µs per note; ``--model DIR`` times another trained model (an architecture
experiment: ``python -m zhuisu.nlp.train --width 32 --out DIR``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

GOLD = Path(__file__).resolve().parents[1] / "tests" / "data" / "nlp" / "gold.jsonl"


def notes(n: int) -> list[str]:
    texts = [json.loads(line)["text"] for line in GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]
    out = []
    i = 0
    while len(out) < n:
        t = texts[i % len(texts)]
        while len(t) < 50:
            t += "，" + texts[(i + 7) % len(texts)]
        out.append(t[:50])
        i += 1
    return out


def stages(nlp: object, texts: list[str]) -> dict[str, float]:
    """CPU µs per note of the tokenizer, of each pipe (batches of 256, as ``extract_many``) and of assembly."""
    from zhuisu.nlp.events import from_doc

    best: dict[str, float] = {}
    for _ in range(4):
        times = {}
        start = time.process_time()
        docs = [nlp.make_doc(t) for t in texts]  # type: ignore[attr-defined]
        times["tokenizer"] = time.process_time() - start
        for name, proc in nlp.pipeline:  # type: ignore[attr-defined]
            start = time.process_time()
            docs = list(proc.pipe(docs, batch_size=256)) if hasattr(proc, "pipe") else [proc(d) for d in docs]
            times[name] = time.process_time() - start
        start = time.process_time()
        for doc in docs:
            from_doc(doc, nlp=nlp)  # type: ignore[arg-type]
        times["assembly"] = time.process_time() - start
        for name, t in times.items():
            best[name] = min(best.get(name, t), t)
    return {name: t * 1e6 / len(texts) for name, t in best.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description="zhuisu NLP throughput")
    parser.add_argument("--notes", type=int, default=5000)
    parser.add_argument("--rules-only", action="store_true")
    parser.add_argument("--model", type=Path, help="a trained model directory instead of the shipped one")
    parser.add_argument("--compare", action="store_true", help="also time jieba.lcut and jieba.posseg.lcut")
    parser.add_argument("--stages", action="store_true", help="also the CPU time of each stage, µs per note")
    args = parser.parse_args()
    from zhuisu.nlp.events import extract_many
    from zhuisu.nlp.pipeline import build_pipeline

    nlp = build_pipeline(model=False if args.rules_only else (args.model or True))
    texts = notes(args.notes)
    extract_many(texts[:200], nlp=nlp)  # warm-up: jieba dictionary, model
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    events = extract_many(texts, nlp=nlp)
    wall = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    mentions = sum(len(e.mentions) for e in events)
    print(f"pipeline: {' → '.join(nlp.pipe_names)}")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}")
    print(f"{len(texts)} notes × 50 chars: {wall:.2f}s wall, {cpu:.2f}s CPU → "
          f"{len(texts) / wall:,.0f} notes/s (wall), {len(texts) / cpu:,.0f} notes/s per CPU-second; "
          f"{mentions / len(texts):.1f} mentions/note")
    if args.stages:
        print("µs per note, best of 4: " + ", ".join(f"{k} {v:.0f}" for k, v in stages(nlp, texts).items()))
    if args.compare:
        import jieba
        import jieba.posseg

        for name, cut in (("jieba.lcut", jieba.lcut), ("jieba.posseg.lcut", jieba.posseg.lcut)):
            for text in texts[:200]:  # warm-up: jieba loads its dictionary on the first call
                cut(text)
            start = time.process_time()
            for text in texts:
                cut(text)
            rate = len(texts) / (time.process_time() - start)
            print(f"{name}: {rate:,.0f} notes per CPU-second; zhuisu's full extraction runs at "
                  f"{len(texts) / cpu / rate:.2f}× its speed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Measure RCA on generated plants with known injected causes: how often the truth ranks first and in the top
three, and how often a plant without a cause reports anything significant.

    python -m zhuisu.rca.evaluate --seeds 20 [--plants motor,dairy] [--workers 2] [--json]

Each plant is generated, its canonical tables ingested into a fresh SQLite store, the engine loaded and
``rca`` run on the truth's defect code. The truth's cause counts as found at a rank when it is the
candidate's uid or one of its ``members`` (a group of factors the data cannot tell apart); ``named``
counts the uid alone.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

SIZES = {"motor": 2000, "dairy": 600}  # the smallest plants whose injected causes show clearly
SCENARIOS = ("bad_supplier_lot", "drift_after_maintenance", "param_window", "operator_shift", "null")


@dataclass(frozen=True, slots=True)
class Outcome:
    """RCA on one generated plant."""

    plant: str
    scenario: str
    seed: int
    truth: tuple[str, ...]
    rank: int | None  # first rank whose uid or members hold a true cause
    named: bool  # the first candidate's uid is a true cause
    significant: int  # candidates with q below alpha
    top: tuple[tuple[str, str, float], ...]  # (uid, verdict, q) of the first three
    items: int
    defects: int
    seconds: float  # generate + ingest + load + rca


def run_plant(plant: str, scenario: str, seed: int, folder: Path, units: int | None = None) -> Outcome:
    """Generate, ingest (canonical tables only), load and analyse one plant in ``folder``."""
    from zhuisu.graph.engine import Engine
    from zhuisu.graph.store import Store
    from zhuisu.ingest import get
    from zhuisu.rca.analysis import rca
    from zhuisu.samples import generate

    started = time.perf_counter()
    null = scenario == "null"
    truth = generate(plant, units or SIZES[plant], seed, folder, fault=not null, scenario=None if null else scenario)
    store = Store(str(folder / "zhuisu.db"))
    try:
        for batch in get("csv")(folder):
            store.ingest(batch)
        result = rca(Engine.load(store), defect_code=str(truth["defect_code"]), evidence=False)
    finally:
        store.close()
    causes = {c["uid"] for c in truth["causes"]}  # type: ignore[attr-defined]
    rank = next((c.rank for c in result.candidates if c.uid in causes or causes & set(c.members)), None)
    first = result.candidates[0].uid if result.candidates else None
    return Outcome(plant, scenario, seed, tuple(sorted(causes)), rank, first in causes,
                   sum(c.q_value < result.alpha for c in result.candidates),
                   tuple((c.uid, c.verdict, c.q_value) for c in result.candidates[:3]), result.scope.items,
                   result.scope.defects, time.perf_counter() - started)


def _job(args: tuple[str, str, int, str, int | None]) -> Outcome:
    plant, scenario, seed, root, units = args
    folder = Path(tempfile.mkdtemp(prefix=f"{plant}-{scenario}-{seed}-", dir=root))
    try:
        return run_plant(plant, scenario, seed, folder, units)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def evaluate(plants: Sequence[str] = ("motor", "dairy"), scenarios: Sequence[str] = SCENARIOS,
             seeds: Iterable[int] = range(1, 21), *, workers: int | None = None, root: Path | None = None,
             units: int | None = None) -> list[Outcome]:
    """Outcomes of every (plant, scenario, seed), run in worker processes."""
    jobs = [(p, s, seed, str(root or tempfile.gettempdir()), units) for p in plants for s in scenarios
            for seed in seeds]
    workers = workers or min(2, os.cpu_count() or 1)
    if workers <= 1:
        return [_job(j) for j in jobs]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(_job, jobs, chunksize=1))


def summarise(outcomes: Iterable[Outcome]) -> dict[str, dict[str, Any]]:
    """Per plant and scenario: first / top-3 / named counts, or (null plants) the false-positive count."""
    out: dict[str, dict[str, Any]] = {}
    for o in outcomes:
        slot = out.setdefault(f"{o.plant}/{o.scenario}", {"plants": 0, "first": 0, "top3": 0, "named": 0,
                                                          "false_positive": 0, "seconds": 0.0})
        slot["plants"] += 1
        slot["seconds"] += o.seconds
        if o.scenario == "null":
            slot["false_positive"] += o.significant > 0
        else:
            slot["first"] += o.rank == 1
            slot["top3"] += o.rank is not None and o.rank <= 3
            slot["named"] += o.named
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--plants", default="motor,dairy")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--units", type=int, default=None, help="plant size (default: motor 2000, dairy 600)")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--root", type=Path, default=None, help="where plants are built (e.g. /dev/shm)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    outcomes = evaluate(args.plants.split(","), args.scenarios.split(","),
                        range(args.first_seed, args.first_seed + args.seeds), workers=args.workers, units=args.units,
                        root=args.root)
    summary = summarise(outcomes)
    if args.json:
        print(json.dumps({"summary": summary, "outcomes": [asdict(o) for o in outcomes]}, ensure_ascii=False))
        return
    for key, s in summary.items():
        if key.endswith("/null"):
            print(f"{key:34s} false positives {s['false_positive']}/{s['plants']}")
        else:
            print(f"{key:34s} first {s['first']}/{s['plants']}  top-3 {s['top3']}/{s['plants']}  "
                  f"named {s['named']}/{s['plants']}")
    for o in outcomes:
        if (o.scenario == "null" and o.significant) or (o.scenario != "null" and o.rank != 1):
            print(f"  miss {o.plant}/{o.scenario}/{o.seed}: rank {o.rank} truth {', '.join(o.truth)} top {o.top}")
    print(f"{len(outcomes)} plants in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()

"""RCA over 1,000 defective units and containment from a supplier lot, on a generated motor plant.

    python bench/rca_bench.py --units 1000000 [--seed 1] [--dir DIR] [--defects 1000] [--repeat 3] [--snapshot]

Generates the plant (a bad supplier lot injected) and ingests its canonical tables into a SQLite store in
``DIR`` (kept, so that a second run reuses them), loads the engine, then times:

* ``index``: the flat indexes RCA and containment share (built once per engine state, like the engine);
* ``rca``: ``rca(units=…)`` over ``--defects`` defective units (cold: first call after the index; warm: again);
* ``contain``: containment from the injected supplier lot and from a random one.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from zhuisu.graph.engine import Engine
from zhuisu.graph.store import Store
from zhuisu.ingest import get
from zhuisu.rca import contain, rca
from zhuisu.rca.population import defect_items
from zhuisu.rca.topology import topology
from zhuisu.samples import generate


def timed(func: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = func()
    return time.perf_counter() - start, result


def build(folder: Path, units: int, seed: int) -> dict[str, Any]:
    """Generate and ingest the plant unless ``folder`` already holds it."""
    db = folder / "zhuisu.db"
    truth_file = folder / "truth.json"
    if db.exists() and truth_file.exists() and (folder / "ingested").exists():
        return {"truth": json.loads(truth_file.read_text(encoding="utf-8")), "reused": True}
    db.unlink(missing_ok=True)
    generate_s, truth = timed(lambda: generate("motor", units, seed, folder, scenario="bad_supplier_lot"))
    store = Store(str(db))
    ingest_s, _ = timed(lambda: [store.ingest(b) for b in get("csv")(folder)])
    (folder / "ingested").write_text("ok", encoding="utf-8")
    return {"truth": truth, "reused": False, "generate_s": round(generate_s, 1), "ingest_s": round(ingest_s, 1),
            "counts": store.counts()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dir", type=Path, default=None, help="plant folder (default: bench/out/motor-UNITS)")
    parser.add_argument("--defects", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--snapshot", action="store_true", help="load the engine from its snapshot (made once)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    folder = args.dir or Path(__file__).with_name("out") / f"motor-{args.units}"
    folder.mkdir(parents=True, exist_ok=True)
    built = build(folder, args.units, args.seed)
    truth = built.pop("truth")
    store = Store(str(folder / "zhuisu.db"))
    load_s, engine = timed(lambda: Engine.load(store, snapshot=args.snapshot))
    index_s, _ = timed(lambda: topology(engine))
    readings_s, _ = timed(lambda: topology(engine).reading_table())
    code = str(truth["defect_code"])
    found = defect_items(engine, code)
    rng = random.Random(args.seed)
    picked = sorted(rng.sample(found.tolist(), min(args.defects, len(found))))
    listed = [engine.uid(n) for n in picked]
    cold_s, result = timed(lambda: rca(engine, units=listed))
    warm = [timed(lambda: rca(engine, units=listed))[0] for _ in range(args.repeat)]
    by_code_s, by_code = timed(lambda: rca(engine, defect_code=code, evidence=False))
    cause = truth["causes"][0]["uid"]
    starting = getattr(engine.uids, "starting_with", None)
    lots = starting("lot:CG") if starting else [u for u in engine.uids if u.startswith("lot:CG")]
    other = rng.choice(lots)
    contain_cold_s, contained = timed(lambda: contain(engine, cause))
    contain_warm = [timed(lambda: contain(engine, cause))[0] for _ in range(args.repeat)]
    contain_other = [timed(lambda: contain(engine, other))[0] for _ in range(args.repeat)]
    report = {
        "date": date.today().isoformat(), "machine": f"{platform.processor() or platform.machine()}, "
                                                    f"{platform.python_implementation()} {platform.python_version()}",
        "units": args.units, **built, "nodes": engine.num_nodes, "edges": engine.num_edges,
        "load_s": round(load_s, 2), "index_s": round(index_s, 2), "readings_s": round(readings_s, 2),
        "rca": {"defective_units": len(listed), "population": result.scope.items, "tested": result.tested,
                "cold_s": round(cold_s, 3), "warm_s": round(statistics.median(warm), 3),
                "top": result.candidates[0].uid if result.candidates else None, "truth": cause,
                "by_code_s": round(by_code_s, 3), "by_code_defects": by_code.scope.defects},
        "contain": {"lot": cause, "items": contained.totals()["items"], "cold_s": round(contain_cold_s, 3),
                    "warm_s": round(statistics.median(contain_warm), 3), "other_lot": other,
                    "other_s": round(statistics.median(contain_other), 3)},
    }
    print(json.dumps(report, ensure_ascii=False, indent=None if args.json else 2))


if __name__ == "__main__":
    main()

"""Ingest rate and trace latency on a generated motor plant, side by side with SQLite WITH RECURSIVE and networkx.

    python bench/ingest_trace.py --units 100000 [--seed 1] [--json]

Generates the plant, ingests it into a fresh SQLite store (timed: adapters + store, edges/s), loads the
engine, then times backward traces of random units and forward traces of random supplier lots with
zhuisu's engine and with the peers on the same start nodes, after checking that all return the same nodes.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import networkx as nx
import sqlalchemy as sa

from zhuisu.graph.engine import Engine
from zhuisu.graph.store import Store
from zhuisu.graph.trace import trace
from zhuisu.ingest import plan
from zhuisu.ontology import load
from zhuisu.samples import generate

MATERIAL = sorted(r.name for r in load().relations.values() if r.material)


def timed(func: Callable[[], object], runs: int = 1) -> tuple[float, object]:
    start = time.perf_counter()
    for _ in range(runs):
        result = func()
    return (time.perf_counter() - start) / runs * 1000, result


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"p50": round(statistics.median(ordered), 3), "p95": round(ordered[int(0.95 * (len(ordered) - 1))], 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        folder, db = Path(tmp) / "plant", Path(tmp) / "zhuisu.db"
        t0 = time.perf_counter()
        generate("motor", units=args.units, seed=args.seed, out=folder)
        generate_s = time.perf_counter() - t0

        store = Store(f"sqlite:///{db}")
        t0 = time.perf_counter()
        for batch in plan(folder):
            store.ingest(batch)
        ingest_s = time.perf_counter() - t0
        counts = store.counts()

        t0 = time.perf_counter()
        engine = Engine.load(store)
        load_s = time.perf_counter() - t0

        uids = engine.uids
        units = [u for u in uids if u.startswith("unit:SN-")]
        lots = [u for u in uids if u.startswith("lot:CG")]
        backward_roots = rng.sample(units, min(args.queries, len(units)))
        forward_roots = rng.sample(lots, min(args.queries // 10, len(lots)))

        conn = sa.create_engine(f"sqlite:///{db}").connect()
        ids = {r.uid: r.id for r in conn.execute(sa.text("SELECT id, uid FROM nodes"))}
        uid_of = {v: k for k, v in ids.items()}
        rels = ", ".join(f"'{r}'" for r in MATERIAL)
        cte = {
            "backward": f"""WITH RECURSIVE t(id) AS (SELECT :root UNION SELECT e.src FROM edges e JOIN t ON e.dst = t.id
                            WHERE e.rel IN ({rels}) AND e.retracted IS NULL) SELECT id FROM t""",
            "forward": f"""WITH RECURSIVE t(id) AS (SELECT :root UNION SELECT e.dst FROM edges e JOIN t ON e.src = t.id
                           WHERE e.rel IN ({rels}) AND e.retracted IS NULL) SELECT id FROM t""",
        }
        graph = nx.DiGraph()
        graph.add_edges_from(conn.execute(sa.text(f"SELECT src, dst FROM edges WHERE rel IN ({rels}) "
                                                  "AND retracted IS NULL")).tuples())

        def peers(direction: str, root: str) -> dict[str, Callable[[], set[str]]]:
            rid = ids[root]
            walk = nx.ancestors if direction == "backward" else nx.descendants
            return {
                "sqlite_recursive": lambda: {uid_of[i] for (i,) in conn.execute(sa.text(cte[direction]), {"root": rid})},
                "networkx": lambda: {uid_of[i] for i in walk(graph, rid)} | {root},
            }

        results: dict[str, dict[str, list[float]]] = {}
        for direction, roots in (("backward", backward_roots), ("forward", forward_roots)):
            for root in roots:
                ms, got = timed(lambda r=root, d=direction: trace(engine, r, direction=d))
                mine = got.uids  # type: ignore[attr-defined]
                results.setdefault("zhuisu", {}).setdefault(direction, []).append(ms)
                for name, run in peers(direction, root).items():
                    ms, theirs = timed(run)
                    assert theirs == mine, f"{name} disagrees on {direction} trace of {root}"
                    results.setdefault(name, {}).setdefault(direction, []).append(ms)
        conn.close()

    report = {
        "date": date.today().isoformat(), "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}",
        "units": args.units, "nodes": counts["nodes"], "edges": counts["edges"],
        "generate_s": round(generate_s, 1), "ingest_s": round(ingest_s, 1),
        "ingest_edges_per_s": round(counts["edges"] / ingest_s), "load_s": round(load_s, 2),
        "traces": {name: {d: percentiles(v) for d, v in per.items()} for name, per in results.items()},
    }
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return
    print(f"{args.units} units: {counts['nodes']} nodes, {counts['edges']} edges; ingest {ingest_s:.1f} s "
          f"({report['ingest_edges_per_s']:,} edges/s), engine load {load_s:.2f} s")
    print(f"{'engine':18} {'backward p50':>13} {'p95':>8} {'forward p50':>12} {'p95':>8}  (ms)")
    for name, per in report["traces"].items():
        b, f = per["backward"], per["forward"]
        print(f"{name:18} {b['p50']:13.2f} {b['p95']:8.2f} {f['p50']:12.2f} {f['p95']:8.2f}")


if __name__ == "__main__":
    main()

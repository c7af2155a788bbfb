"""``zhuisu bench``: zhuisu side by side with the engines a user would pick instead, on one generated plant.

Generates the bench plant (``zhuisu.samples.bench_plant``) or reuses a store, times bulk ingest, engine
start-up and memory, then times backward traces of units, forward containment from supplier lots and
shortest paths with zhuisu's traversal core (``walk``; ``reach`` adds quantities; ``route``), RCA, and,
on the same start nodes, SQLite and PostgreSQL ``WITH RECURSIVE``, networkx and LadybugDB. Every peer's
answer is checked equal to zhuisu's before it is timed. Peers get the material-flow edges, which is what
a trace traverses (see docs/benchmarks.md)."""

from __future__ import annotations

import gc
import json
import os
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from zhuisu.graph.engine import Engine
from zhuisu.graph.paths import route
from zhuisu.graph.reach import reach, walk
from zhuisu.graph.store import Store

PEERS = ("sqlite", "postgresql", "networkx", "ladybug")
PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
Log = Callable[[str], None]


class Disagreement(AssertionError):
    """A peer's answer differs from zhuisu's: the benchmark stops rather than time different work."""


def run(units: int, *, seed: int = 1, queries: int = 200, forward_queries: int = 10, path_queries: int = 100,
        peers: tuple[str, ...] = PEERS, pg_url: str = PG_URL, db: str | os.PathLike[str] | None = None,
        workdir: str | os.PathLike[str] | None = None, rca_units: int = 200,
        log: Log = lambda _: None) -> dict[str, Any]:
    """Run the benchmark and return every figure (``summary`` picks the issue's JSON object from it)."""
    with ExitStack() as stack:
        work = Path(workdir) if workdir else Path(stack.enter_context(tempfile.TemporaryDirectory()))
        work.mkdir(parents=True, exist_ok=True)
        report: dict[str, Any] = {"units": units}
        store_path = Path(db) if db else work / "zhuisu.db"
        store_path.parent.mkdir(parents=True, exist_ok=True)
        if not db or not store_path.exists():
            report.update(_build(units, seed, work, store_path, log))
        elif (store_path.parent / "ingest.json").exists():  # written by an earlier ingest of this store
            done = json.loads((store_path.parent / "ingest.json").read_text())
            report.update({k: v for k, v in done.items() if k != "edges_per_s"})
        store = Store(f"sqlite:///{store_path}")
        counts = store.counts()
        report.update(nodes=counts["nodes"], edges=counts["edges"])
        engine = _start(store, work, report, log)
        rng = random.Random(seed)
        roots = _roots(engine, rng, queries, forward_queries, path_queries)
        report["roots"] = {k: len(v) for k, v in roots.items()}
        mine = _time_zhuisu(engine, roots, report, log)
        if rca_units:
            _time_rca(engine, roots["forward"], rca_units, rng, report, log)
        report["peers"] = {}
        for name in peers:
            log(f"peer {name}…")
            try:
                with _PEER_SETUP[name](store_path, engine, pg_url, work, report) as peer:
                    report["peers"][name] = _time_peer(name, peer, engine, roots, mine, log)
            except (ImportError, ConnectionError) as exc:
                report["peers"][name] = {"skipped": str(exc)}
            gc.collect()
        store.close()
        return report


def summary(report: dict[str, Any]) -> dict[str, Any]:
    """The issue's JSON object: exactly these keys."""
    keys = ("units", "nodes", "edges", "ingest_edges_per_s", "load_s", "bytes_per_edge", "backward_p50_ms",
            "backward_p95_ms", "forward_p50_ms", "forward_p95_ms", "paths_p50_ms", "rca_ms")
    out = {k: report.get(k) for k in keys}
    out["peers"] = {name: {k: p.get(k) for k in ("backward_p50_ms", "forward_p50_ms", "paths_p50_ms")}
                    for name, p in report.get("peers", {}).items()}
    return out


# ── zhuisu ────────────────────────────────────────────────────────────────────
def _build(units: int, seed: int, work: Path, store_path: Path, log: Log) -> dict[str, Any]:
    """Generate the bench plant's canonical records batch by batch and ingest each into a fresh SQLite store,
    timing the two apart: ``ingest_edges_per_s`` is the store alone (``Store.ingest``), ``records_edges_per_s``
    what producing the records costs (the part an adapter plays)."""
    from zhuisu.samples import bench_plant

    log(f"generating and ingesting a {units}-unit bench plant…")
    store = Store(f"sqlite:///{store_path}")
    generate_s = ingest_s = ingest_cpu_s = 0.0
    records = 0
    batches = bench_plant.batches(units, seed)
    while True:
        t0 = time.perf_counter()
        batch = next(batches, None)
        generate_s += time.perf_counter() - t0
        if batch is None:
            break
        records += len(batch.edges)
        t0, c0 = time.perf_counter(), time.process_time()
        store.ingest(batch)
        ingest_s += time.perf_counter() - t0
        ingest_cpu_s += time.process_time() - c0  # this process alone: tells the code's cost from a busy machine
        del batch
    edges = store.counts()["edges"]
    store.close()
    done = {"generate_s": round(generate_s, 1), "ingest_s": round(ingest_s, 1), "ingest_cpu_s": round(ingest_cpu_s, 1),
            "records_edges_per_s": round(records / generate_s), "ingest_edges_per_s": round(edges / ingest_s)}
    (store_path.parent / "ingest.json").write_text(json.dumps({**done, "edges_per_s": edges / ingest_s}))
    log(f"ingest: {done['ingest_edges_per_s']} edges/s into the store ({done['ingest_s']} s, "
        f"{done['ingest_cpu_s']} s of CPU), records "
        f"{done['records_edges_per_s']} edges/s ({done['generate_s']} s)")
    return done


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _start(store: Store, work: Path, report: dict[str, Any], log: Log) -> Engine:
    """Engine start-up from the store, then from a snapshot (the figure reported as ``load_s``)."""
    log("loading the engine from the store…")
    t0 = time.perf_counter()
    engine = Engine.load(store)
    report["load_store_s"] = round(time.perf_counter() - t0, 2)
    folder = work / "snapshot"
    from zhuisu.graph import snapshot

    t0 = time.perf_counter()
    snapshot.write(engine, folder)
    report["snapshot_write_s"] = round(time.perf_counter() - t0, 2)
    report["engine_nbytes_per_edge"] = round(engine.nbytes() / max(engine.num_edges, 1), 1)
    del engine
    gc.collect()
    before = _rss()
    t0 = time.perf_counter()
    engine = Engine.load(store, snapshot=folder)
    report["load_s"] = round(time.perf_counter() - t0, 2)
    for direction in ("backward", "forward"):  # touch the adjacency lists as queries would
        reach(engine, 0, direction)
    engine.adjacency("all_out"), engine.adjacency("all_in")
    gc.collect()
    # steady memory: every array resident (RSS right after a mapped start-up undercounts untouched pages)
    report["rss_bytes_per_edge"] = round((_rss() - before) / max(engine.num_edges, 1), 1)
    report["bytes_per_edge"] = report["engine_nbytes_per_edge"]
    log(f"start-up {report['load_s']} s from a snapshot ({report['load_store_s']} s from the store), "
        f"{report['bytes_per_edge']} B/edge")
    return engine


def _roots(engine: Engine, rng: random.Random, queries: int, forward_queries: int,
           path_queries: int) -> dict[str, list[int]]:
    """Start nodes: random serial units (backward), random supplier lots (forward), unit–lot pairs (paths)."""
    units = np.flatnonzero(engine.node_kind == engine.kind_code["SerialUnit"]).tolist()
    supplies = engine.rel_code["supplies"]
    m = engine.num_slots
    lots = np.unique(engine.edge_dst[:m][(engine.edge_rel[:m] == supplies) & (engine.edge_id[:m] >= 0)]).tolist()
    backward = rng.sample(units, min(queries, len(units)))
    forward = rng.sample(lots, min(forward_queries, len(lots)))
    pairs = []
    for unit in rng.sample(units, min(path_queries, len(units))):
        up = reach(engine, unit, "backward").nodes
        up_lots = [int(n) for n in up if engine.kind(int(n)) == "MaterialLot"]
        if up_lots:
            pairs.append((unit, rng.choice(up_lots)))
    return {"backward": backward, "forward": forward, "paths": pairs}  # type: ignore[dict-item]


def _percentiles(ms: list[float]) -> tuple[float, float]:
    ordered = sorted(ms)
    return round(statistics.median(ordered), 3), round(ordered[int(0.95 * (len(ordered) - 1))], 3)


def _clock(func: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = func()
    return (time.perf_counter() - t0) * 1000, out


def _time_zhuisu(engine: Engine, roots: dict[str, list[Any]], report: dict[str, Any], log: Log,
                 ) -> dict[str, Any]:
    answers: dict[str, Any] = {"backward": {}, "forward": {}, "paths": {}}
    sizes: dict[str, list[int]] = {"backward": [], "forward": []}
    for direction in ("backward", "forward"):
        forward = direction == "forward"
        times, with_amounts = [], []
        for root in roots[direction]:
            walk(engine, root, forward=forward)  # warm: the first touch of mapped pages is not a query
            ms, got = min((_clock(lambda r=root, f=forward: walk(engine, r, forward=f)) for _ in range(3)),
                          key=lambda pair: pair[0])
            times.append(ms)
            with_amounts.append(min(_clock(lambda r=root, d=direction: reach(engine, r, d))[0] for _ in range(2)))
            answers[direction][root] = set(engine.node_ids(got.nodes).tolist())
            sizes[direction].append(len(got.nodes))
        report[f"{direction}_p50_ms"], report[f"{direction}_p95_ms"] = _percentiles(times)
        report[f"{direction}_reach_p50_ms"], report[f"{direction}_reach_p95_ms"] = _percentiles(with_amounts)
        report[f"{direction}_nodes_p50"] = int(statistics.median(sizes[direction]))
    times = []
    for a, b in roots["paths"]:
        ms, got = min((_clock(lambda a=a, b=b: route(engine, a, b, material_only=True)) for _ in range(3)),
                      key=lambda pair: pair[0])
        times.append(ms)
        answers["paths"][(a, b)] = len(got) - 1
    report["paths_p50_ms"], report["paths_p95_ms"] = _percentiles(times)
    log(f"zhuisu: backward p50 {report['backward_p50_ms']} ms ({report['backward_nodes_p50']} nodes; "
        f"{report['backward_reach_p50_ms']} ms with quantities), forward p50 {report['forward_p50_ms']} ms "
        f"({report['forward_nodes_p50']} nodes; {report['forward_reach_p50_ms']} ms with quantities), "
        f"paths p50 {report['paths_p50_ms']} ms")
    return answers


def _time_rca(engine: Engine, lots: list[int], count: int, rng: random.Random, report: dict[str, Any],
              log: Log) -> None:
    """RCA (``zhuisu.rca.rca``) over ``count`` units downstream of a supplier lot, as if they had failed:
    cold (its indexes built by the first call) and warm; the lot's rank among the candidates is kept."""
    from zhuisu.rca import rca

    m = engine.num_slots
    first = int(engine.edge_dst[:m][engine.edge_rel[:m] == engine.rel_code["supplies"]][0])
    for lot in [*lots, first]:  # the first timed lot that reached units (a late lot may not have yet)
        reached = walk(engine, lot, forward=True).nodes
        units = reached[engine.node_kind[reached] == engine.kind_code["SerialUnit"]].tolist()
        if units:
            break
    else:
        return
    picked = [engine.uid(u) for u in rng.sample(units, min(count, len(units)))]
    cold, _ = _clock(lambda: rca(engine, units=picked))
    warm, result = _clock(lambda: rca(engine, units=picked))
    ranked = [c.uid for c in result.candidates]
    report.update(rca_ms=round(warm, 1), rca_cold_ms=round(cold, 1), rca_units=len(picked),
                  rca_lot_rank=ranked.index(engine.uid(lot)) + 1 if engine.uid(lot) in ranked else None)
    log(f"rca over {len(picked)} units: {report['rca_ms']} ms warm, {report['rca_cold_ms']} ms cold; "
        f"the lot ranks {report['rca_lot_rank']}")


def _time_peer(name: str, peer: Any, engine: Engine, roots: dict[str, list[Any]], mine: dict[str, Any],
               log: Log) -> dict[str, Any]:
    out: dict[str, Any] = {}
    ids = engine.node_ids
    for direction in ("backward", "forward"):
        times = []
        for root in roots[direction]:
            root_id = int(ids(np.array([root]))[0])
            ms, got = _clock(lambda r=root_id, d=direction: peer.trace(r, d))
            if set(got) != mine[direction][root]:
                raise Disagreement(f"{name} disagrees on the {direction} trace of {engine.uid(root)}: "
                                   f"{len(set(got))} nodes, zhuisu {len(mine[direction][root])}")
            again = [_clock(lambda r=root_id, d=direction: peer.trace(r, d))[0]
                     for _ in range(2 if direction == "backward" else 0)]
            times.append(min([ms, *again]))
        out[f"{direction}_p50_ms"], out[f"{direction}_p95_ms"] = _percentiles(times)
    if hasattr(peer, "path"):
        times = []
        for a, b in roots["paths"]:
            a_id, b_id = (int(x) for x in ids(np.array([a, b])))
            ms, hops = min((_clock(lambda a=a_id, b=b_id: peer.path(a, b)) for _ in range(3)),
                           key=lambda pair: pair[0])
            if hops != mine["paths"][(a, b)]:
                raise Disagreement(f"{name} finds a path of {hops} hops from {engine.uid(a)} to "
                                   f"{engine.uid(b)}, zhuisu {mine['paths'][(a, b)]}")
            times.append(ms)
        out["paths_p50_ms"] = _percentiles(times)[0]
    log(f"{name}: backward p50 {out['backward_p50_ms']} ms, forward p50 {out['forward_p50_ms']} ms"
        + (f", paths p50 {out['paths_p50_ms']} ms" if "paths_p50_ms" in out else ""))
    return out


# ── peers ─────────────────────────────────────────────────────────────────────
def _material(engine: Engine) -> tuple[np.ndarray, np.ndarray]:
    """Store ids of the ends of every live material edge: what each peer is given."""
    m = engine.num_slots
    live = (engine.edge_id[:m] >= 0) & engine.material[engine.edge_rel[:m]]
    return engine.node_ids(engine.edge_src[:m][live]), engine.node_ids(engine.edge_dst[:m][live])


class _Sql:
    """A recursive CTE over an edge table, the way a user would write a trace in SQL."""

    def __init__(self, execute: Callable[[str, Any], list[tuple[int]]], table: str, mark: str, where: str) -> None:
        self.execute = execute
        self.sql = {
            "backward": f"WITH RECURSIVE t(id) AS (SELECT {mark} UNION SELECT e.src FROM {table} e JOIN t "
                        f"ON e.dst = t.id{where}) SELECT id FROM t",
            "forward": f"WITH RECURSIVE t(id) AS (SELECT {mark} UNION SELECT e.dst FROM {table} e JOIN t "
                       f"ON e.src = t.id{where}) SELECT id FROM t",
        }

    def trace(self, root: int, direction: str) -> list[int]:
        return [r[0] for r in self.execute(self.sql[direction], (root,))]


@contextmanager
def _sqlite(store_path: Path, engine: Engine, pg_url: str, work: Path, report: dict[str, Any]) -> Iterator[_Sql]:
    """The store's own edges table: indexed on (src, dst, rel, key) and on dst."""
    conn = sqlite3.connect(f"file:{store_path}?mode=ro", uri=True)
    rels = ", ".join(f"'{r}'" for r, m in zip(engine.relations, engine.material, strict=True) if m)
    try:
        yield _Sql(lambda sql, args: conn.execute(sql, args).fetchall(), "edges", "?",
                   f" WHERE e.rel IN ({rels}) AND e.retracted IS NULL")
    finally:
        conn.close()


@contextmanager
def _postgresql(store_path: Path, engine: Engine, pg_url: str, work: Path, report: dict[str, Any],
                ) -> Iterator[_Sql]:
    """A material edge table in its own database, indexed on (src, dst) and (dst, src)."""
    try:
        import psycopg
    except ImportError as exc:
        raise ImportError(f"psycopg is not installed: {exc}") from None
    try:
        pg_url = pg_url.replace("postgresql+psycopg://", "postgresql://")
        admin = psycopg.connect(pg_url, autocommit=True)
    except psycopg.OperationalError as exc:
        raise ConnectionError(f"no PostgreSQL at {pg_url}: {exc}") from None
    name = f"zhuisu_bench_{os.getpid()}"
    admin.execute(f"DROP DATABASE IF EXISTS {name}")
    admin.execute(f"CREATE DATABASE {name}")
    url = pg_url.rsplit("/", 1)[0] + "/" + name
    conn = psycopg.connect(url, autocommit=True)
    try:
        t0 = time.perf_counter()
        conn.execute("CREATE TABLE edges (src bigint NOT NULL, dst bigint NOT NULL)")
        src, dst = _material(engine)
        with conn.cursor().copy("COPY edges (src, dst) FROM STDIN") as copy:
            for lo in range(0, len(src), 1_000_000):
                block = np.column_stack([src[lo : lo + 1_000_000], dst[lo : lo + 1_000_000]])
                copy.write("\n".join(f"{s}\t{d}" for s, d in block.tolist()) + "\n")
        conn.execute("CREATE INDEX ON edges (src, dst)")
        conn.execute("CREATE INDEX ON edges (dst, src)")
        conn.execute("VACUUM ANALYZE edges")
        report["postgresql_load_s"] = round(time.perf_counter() - t0, 1)
        yield _Sql(lambda sql, args: conn.execute(sql, args).fetchall(), "edges", "%s::bigint", "")
    finally:
        conn.close()
        admin.execute(f"DROP DATABASE IF EXISTS {name}")
        admin.close()


class _NetworkX:
    def __init__(self, engine: Engine) -> None:
        import networkx as nx

        self.nx = nx
        src, dst = _material(engine)
        self.graph = nx.DiGraph()
        self.graph.add_edges_from(zip(src.tolist(), dst.tolist(), strict=True))
        self.undirected = self.graph.to_undirected(as_view=True)

    def trace(self, root: int, direction: str) -> set[int]:
        if root not in self.graph:
            return {root}
        walk = self.nx.ancestors if direction == "backward" else self.nx.descendants
        return walk(self.graph, root) | {root}

    def path(self, a: int, b: int) -> int:
        return len(self.nx.bidirectional_shortest_path(self.undirected, a, b)) - 1


@contextmanager
def _networkx(store_path: Path, engine: Engine, pg_url: str, work: Path, report: dict[str, Any],
              ) -> Iterator[_NetworkX]:
    t0 = time.perf_counter()
    peer = _NetworkX(engine)
    report["networkx_load_s"] = round(time.perf_counter() - t0, 1)
    try:
        yield peer
    finally:
        del peer


class _Ladybug:
    """Cypher over LadybugDB (the Kùzu fork): a node table keyed by id, one rel table of material edges."""

    def __init__(self, conn: Any, hops: int) -> None:
        self.conn = conn
        self.sql = {
            "forward": f"MATCH (a:N {{id: $id}})-[:E* SHORTEST 1..{hops}]->(b:N) RETURN b.id",
            "backward": f"MATCH (b:N)-[:E* SHORTEST 1..{hops}]->(a:N {{id: $id}}) RETURN b.id",
        }

    def trace(self, root: int, direction: str) -> list[int]:
        result = self.conn.execute(self.sql[direction], {"id": root})
        out = [root]
        while result.has_next():
            out.append(result.get_next()[0])
        return out


@contextmanager
def _ladybug(store_path: Path, engine: Engine, pg_url: str, work: Path, report: dict[str, Any],
             ) -> Iterator[_Ladybug]:
    try:
        import ladybug
    except ImportError as exc:
        raise ImportError(f"ladybug is not installed (pip install ladybug): {exc}") from None
    folder = Path(tempfile.mkdtemp(dir=work))
    t0 = time.perf_counter()
    src, dst = _material(engine)
    np.savetxt(folder / "n.csv", engine.node_ids(np.arange(engine.num_nodes)), fmt="%d")
    np.savetxt(folder / "e.csv", np.column_stack([src, dst]), fmt="%d", delimiter=",")
    db = ladybug.Database(str(folder / "db"), buffer_pool_size=2 << 30)
    conn = ladybug.Connection(db)
    conn.execute("CREATE NODE TABLE N(id INT64, PRIMARY KEY(id))")
    conn.execute("CREATE REL TABLE E(FROM N TO N)")
    conn.execute(f"COPY N FROM '{folder / 'n.csv'}' (header=false)")
    conn.execute(f"COPY E FROM '{folder / 'e.csv'}' (header=false)")
    report["ladybug_load_s"] = round(time.perf_counter() - t0, 1)
    try:
        yield _Ladybug(conn, 30)  # its bound on variable-length hops; the plant's flow is shallower
    finally:
        conn.close()
        db.close()


_PEER_SETUP: dict[str, Callable[..., Any]] = {"sqlite": _sqlite, "postgresql": _postgresql,
                                              "networkx": _networkx, "ladybug": _ladybug}

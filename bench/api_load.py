"""A bounded local load test of the REST API: N concurrent clients for S seconds, mixed ingest and trace.

    python bench/api_load.py [--clients 50] [--seconds 60] [--ingest-share 0.2] [--json]

It builds a store from the motor sample plant in a temporary folder, starts ``zhuisu serve`` on a free
loopback port (127.0.0.1 only: this never sends traffic anywhere else), runs the clients, stops the server,
and reports throughput, latency percentiles (p50/p95/p99) and the error count, overall and per kind of
request. Requests: backward traces of units, forward traces of supplier lots (one page of at most 1,000
rows), and small canonical batches (a new unit, its operation and its inputs) with idempotency keys.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from zhuisu.api.auth import keys
from zhuisu.graph.schema import nodes
from zhuisu.graph.store import Store
from zhuisu.ingest import plan
from zhuisu.samples.demo import MOTOR

HOST = "127.0.0.1"  # loopback only, by design
MAX_SECONDS, MAX_CLIENTS = 600, 500


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def prepare(folder: Path) -> tuple[Store, str, list[str], list[str]]:
    """The sample plant in a SQLite store, an ingest key, and the units and supplier lots to trace."""
    store = Store(str(folder / "load.db"))
    for batch in plan(MOTOR):
        store.ingest(batch)
    _, secret = keys.create(store, name="api-load", scopes=["ingest"])
    with store.engine.connect() as conn:
        units = list(conn.execute(sa.select(nodes.c.uid).where(nodes.c.kind == "SerialUnit")).scalars())
        lots = list(conn.execute(sa.select(nodes.c.uid).where(nodes.c.kind == "MaterialLot",
                                                              nodes.c.uid.like("lot:CG%"))).scalars())
    return store, secret, units, lots


def start_server(db: str, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "ZHUISU_DB_URL": db}
    server = subprocess.Popen([sys.executable, "-m", "zhuisu.cli", "serve", "--host", HOST, "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://{HOST}:{port}/api/v1/health", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        if server.poll() is not None:
            raise SystemExit("zhuisu serve exited before it answered")
        time.sleep(0.2)
    server.terminate()
    raise SystemExit("zhuisu serve did not answer within 60 s")


class Load:
    """The clients' shared plan and results."""

    def __init__(self, secret: str, units: list[str], lots: list[str], ingest_share: float, seconds: float) -> None:
        self.headers = {"Authorization": f"Bearer {secret}"}
        self.units, self.lots, self.ingest_share = units, lots, ingest_share
        self.end = time.monotonic() + seconds
        self.latency: dict[str, list[float]] = {"trace_backward": [], "trace_forward": [], "ingest": []}
        self.errors: dict[str, int] = {k: 0 for k in self.latency}
        self.statuses: dict[int, int] = {}
        self.failures: dict[str, int] = {}  # requests that got no response, by exception
        self.sequence = 0

    def request(self, rng: random.Random) -> tuple[str, str, str, dict[str, Any]]:
        """(kind, method, path, httpx keyword arguments) of the next request."""
        roll = rng.random()
        if roll < self.ingest_share:
            self.sequence += 1
            n = self.sequence
            unit, op = f"unit:LOAD-{n:07d}", f"op:LOAD-{n:07d}"
            lot = rng.choice(self.lots)
            body = {"source": "api-load", "key": f"load-{n}", "nodes": [{"uid": unit, "name": f"负载测试 {n}"}],
                    "edges": [{"src": lot, "rel": "consumedBy", "dst": op, "time": "2023-11-25T08:00:00",
                               "quantity": 1, "uom": "ea"},
                              {"src": op, "rel": "produces", "dst": unit, "time": "2023-11-25T08:05:00"},
                              {"src": op, "rel": "performedOn", "dst": "equipment:ASSY-01"}]}
            return "ingest", "POST", "/api/v1/batches", {"json": body, "headers": self.headers}
        if roll < self.ingest_share + (1 - self.ingest_share) * 0.25:
            params = {"ref": rng.choice(self.lots), "direction": "forward", "limit": 1000}
            return "trace_forward", "GET", "/api/v1/trace", {"params": params}
        return "trace_backward", "GET", "/api/v1/trace", {"params": {"ref": rng.choice(self.units)}}

    async def client(self, http: httpx.AsyncClient, seed: int) -> None:
        rng = random.Random(seed)
        while time.monotonic() < self.end:
            kind, method, path, options = self.request(rng)
            started = time.perf_counter()
            try:
                response = await http.request(method, path, **options)
                await response.aread()
                ok = response.status_code < 400
                self.statuses[response.status_code] = self.statuses.get(response.status_code, 0) + 1
            except httpx.HTTPError as exc:
                ok = False
                name = type(exc).__name__
                self.failures[name] = self.failures.get(name, 0) + 1
            self.latency[kind].append((time.perf_counter() - started) * 1000)
            if not ok:
                self.errors[kind] += 1


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))], 1)


def summary(values: list[float], errors: int, seconds: float) -> dict[str, Any]:
    return {"requests": len(values), "per_second": round(len(values) / seconds, 1), "errors": errors,
            "p50_ms": percentile(values, 50), "p95_ms": percentile(values, 95), "p99_ms": percentile(values, 99)}


async def run(port: int, load: Load, clients: int) -> float:
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=f"http://{HOST}:{port}", timeout=60, limits=limits) as http:
        started = time.monotonic()
        await asyncio.gather(*(load.client(http, seed) for seed in range(clients)))
        return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--ingest-share", type=float, default=0.2)
    parser.add_argument("--json", action="store_true", help="print the result as JSON only")
    args = parser.parse_args()
    if not (1 <= args.clients <= MAX_CLIENTS and 1 <= args.seconds <= MAX_SECONDS and 0 <= args.ingest_share <= 1):
        raise SystemExit(f"bounded: 1–{MAX_CLIENTS} clients, 1–{MAX_SECONDS} s, an ingest share in 0–1")
    with tempfile.TemporaryDirectory(prefix="zhuisu-load-") as tmp:
        store, secret, units, lots = prepare(Path(tmp))
        port = free_port()
        server = start_server(store.url, port)
        try:
            load = Load(secret, units, lots, args.ingest_share, args.seconds)
            elapsed = asyncio.run(run(port, load, args.clients))
        finally:
            server.terminate()
            server.wait(30)
        counts = store.counts()
        store.close()
    everything = [v for values in load.latency.values() for v in values]
    result = {
        "command": " ".join(["python bench/api_load.py", *sys.argv[1:]]),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.node()} · {platform.machine()} · {os.cpu_count()} CPUs · Python "
                   f"{platform.python_version()} · {platform.platform(terse=True)}",
        "clients": args.clients, "seconds": round(elapsed, 1), "ingest_share": args.ingest_share,
        "total": summary(everything, sum(load.errors.values()), elapsed),
        "by_kind": {k: summary(v, load.errors[k], elapsed) for k, v in load.latency.items()},
        "statuses": {str(k): v for k, v in sorted(load.statuses.items())},
        "failures": load.failures,
        "store_after": counts,
    }
    out = Path(__file__).with_name("out")
    out.mkdir(exist_ok=True)
    (out / "api_load.json").write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return
    total = result["total"]
    print(f"{args.clients} clients × {result['seconds']} s on {result['machine']}")
    print(f"total: {total['requests']} requests, {total['per_second']} req/s, p50 {total['p50_ms']} ms, "
          f"p95 {total['p95_ms']} ms, p99 {total['p99_ms']} ms, {total['errors']} errors")
    print(f"statuses {result['statuses']}, no response {result['failures'] or 0}")
    for kind, s in result["by_kind"].items():
        print(f"  {kind:<15} {s['requests']:>6} req  {s['per_second']:>7} req/s  p50 {s['p50_ms']} ms  "
              f"p95 {s['p95_ms']} ms  p99 {s['p99_ms']} ms  errors {s['errors']}")


if __name__ == "__main__":
    main()

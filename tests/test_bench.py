"""A small ``zhuisu bench`` run: it runs, every peer agrees with zhuisu, and --json prints the issue's object."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from zhuisu.cli import app
from zhuisu.graph import benchmark
from zhuisu.samples import bench_plant


def test_bench_runs_and_peers_agree(tmp_path: Path) -> None:
    report = benchmark.run(300, queries=5, forward_queries=2, path_queries=3,
                           peers=("sqlite", "networkx", "ladybug"), workdir=tmp_path)
    assert report["edges"] > 0 and report["backward_p50_ms"] > 0 and report["rca_ms"] > 0
    assert report["ingest_edges_per_s"] > 0 and report["records_edges_per_s"] > 0
    for name in ("sqlite", "networkx", "ladybug"):
        assert "backward_p50_ms" in report["peers"][name]  # agreed, then timed (a disagreement raises)


def test_bench_postgresql_agrees(tmp_path: Path, pg_admin_url: str) -> None:
    report = benchmark.run(300, queries=3, forward_queries=1, path_queries=1, peers=("postgresql",),
                           workdir=tmp_path, pg_url=pg_admin_url)
    assert "forward_p50_ms" in report["peers"]["postgresql"]


def test_bench_json_prints_the_issue_object(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["bench", "--units", "300", "--queries", "3", "--forward", "1",
                                      "--paths", "2", "--peer", "networkx", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"units", "nodes", "edges", "ingest_edges_per_s", "load_s", "bytes_per_edge",
                         "backward_p50_ms", "backward_p95_ms", "forward_p50_ms", "forward_p95_ms",
                         "paths_p50_ms", "rca_ms", "peers"}
    assert set(data["peers"]["networkx"]) == {"backward_p50_ms", "forward_p50_ms", "paths_p50_ms"}


def test_bench_plant_is_deep_mixing_and_deterministic() -> None:
    first = list(bench_plant.batches(400, seed=3, edges_per_batch=2_000))
    again = list(bench_plant.batches(400, seed=3, edges_per_batch=2_000))
    assert [b.to_json() for b in first] == [b.to_json() for b in again]
    assert len(first) > 3 and all(len(b.edges) < 2_000 + 1_500 for b in first)
    consumed = {e.src for b in first for e in b.edges if e.rel == "consumedBy"}
    supplied = {e.dst for b in first for e in b.edges if e.rel == "supplies"}
    assert len(supplied - consumed) <= len(supplied) // 4  # all but the latest lots are used downstream
    made = [e.dst for b in first for e in b.edges if e.rel == "produces"]
    assert len(made) == len(set(made)) and sum(u.startswith("unit:") for u in made) == 400

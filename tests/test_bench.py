"""A small ``zhuisu bench`` run: it runs, every peer agrees with zhuisu, and --json prints the issue's object."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from zhuisu.cli import app
from zhuisu.graph import benchmark


def test_bench_runs_and_peers_agree(tmp_path: Path) -> None:
    report = benchmark.run(300, queries=5, forward_queries=2, path_queries=3,
                           peers=("sqlite", "networkx", "ladybug"), workdir=tmp_path)
    assert report["edges"] > 0 and report["backward_p50_ms"] > 0
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
                         "paths_p50_ms", "peers"}
    assert set(data["peers"]["networkx"]) == {"backward_p50_ms", "forward_p50_ms", "paths_p50_ms"}

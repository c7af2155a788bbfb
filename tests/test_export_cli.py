"""``zhuisu export``: files in each format, traces, validation, and errors in one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rdflib import Graph
from typer.testing import CliRunner

from zhuisu.cli import app
from zhuisu.graph.rdf import from_rdf
from zhuisu.graph.store import Store
from zhuisu.ingest.records import Batch, Edge

from .test_ontology import plant

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'z.db'}"
    Store(url).ingest(plant())
    return url


def test_turtle_of_the_whole_graph(db: str, tmp_path: Path) -> None:
    code, out, err = run("export", "turtle", "--out", str(tmp_path / "f.ttl"), "--db", db)

    assert code == 0, err
    assert out.startswith("已导出 exported 15 节点 nodes") and "f.ttl" in out
    batch = from_rdf(Graph().parse(tmp_path / "f.ttl", format="turtle"))
    assert {n.uid for n in batch.nodes} >= {"unit:SN-M2311-00042", "lot:CG2311-0007", "customer:C-07"}
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no partial file left


def test_jsonld_of_a_trace_validated(db: str, tmp_path: Path) -> None:
    path = tmp_path / "sn42.jsonld"
    code, out, err = run("export", "jsonld", "--trace", "unit:SN-M2311-00042", "--out", str(path),
                         "--validate", "--db", db)

    assert code == 0, err
    assert "符合本体约束 / conforms" in out
    uids = {n.uid for n in from_rdf(Graph().parse(path, format="json-ld")).nodes}
    assert uids == {"unit:SN-M2311-00042", "op:PF-00042", "lot:CG2311-0007", "supplier:SUP-03"}


def test_epcis_of_a_forward_trace(db: str, tmp_path: Path) -> None:
    path = tmp_path / "lot.jsonld"
    code, out, err = run("export", "epcis", "--trace", "lot:CG2311-0007", "--forward", "--out", str(path),
                         "--validate", "--db", db)

    assert code == 0, err
    assert "1 事件 events (1 TransformationEvent, 0 AggregationEvent)" in out and "EPCIS 2.0" in out
    (event,) = json.loads(path.read_text(encoding="utf-8"))["epcisBody"]["eventList"]
    assert event["inputQuantityList"] == [{"epcClass": "https://w3id.org/zhuisu/id/lot:CG2311-0007",
                                          "quantity": 2.0, "uom": "EA"}]


@pytest.mark.parametrize(("args", "message", "status"), [
    (["export", "xml", "--out", "{tmp}/f"], "unknown export format 'xml'; choose turtle, jsonld, epcis", 2),
    (["export", "turtle", "--out", "{tmp}/nowhere/f.ttl"], "no such folder", 2),
    (["export", "turtle", "--forward", "--out", "{tmp}/f.ttl"], "--forward needs --trace UID", 2),
    (["export", "epcis", "--trace", "unit:NOPE", "--out", "{tmp}/f.jsonld"], "unit:NOPE", 1),
    (["export", "turtle", "--out", "{tmp}"], "is a folder", 2),
])
def test_errors_are_one_line(db: str, tmp_path: Path, args: list[str], message: str, status: int) -> None:
    code, out, err = run(*[a.format(tmp=tmp_path) for a in args], "--db", db)

    assert code == status
    assert len(err.strip().splitlines()) == 1 and message in err and "Traceback" not in err + out
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith("z.db")] == []  # nothing written


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc: a folder nobody can write in")
def test_a_file_that_cannot_be_written_is_one_line(db: str) -> None:
    code, out, err = run("export", "turtle", "--out", "/proc/zhuisu-export.ttl", "--db", db)
    assert code == 1 and len(err.strip().splitlines()) == 1 and "cannot write" in err and "Traceback" not in err


def test_validate_reports_a_graph_that_does_not_conform(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'z.db'}"
    Store(url).ingest(Batch(source="stub", edges=[Edge("mo:MO-1", "maintains", "equipment:PRESS-02")]))
    code, out, err = run("export", "turtle", "--out", str(tmp_path / "f.ttl"), "--validate", "--db", url)

    assert code == 1 and "已导出" in out  # the file is written; the check says what is wrong with it
    assert len(err.strip().splitlines()) == 1 and "does not conform: 1 violations" in err and "mo:MO-1 zs:text" in err

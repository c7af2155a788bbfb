"""The command line end to end: the demo, ingest with a bad file, trace and paths JSON, sample plants."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from zhuisu.cli import app

from .conftest import REPO

PLANT = REPO / "tests" / "data" / "tables" / "plant"
runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    db = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'zhuisu.db'}"
    code, out, err = run("demo", "--db", db)
    assert code == 0, err
    return db, out


def test_demo_finds_the_injected_cause_and_names_real_lots_machines_operators(demo_db: tuple[str, str]) -> None:
    _db, out = demo_db
    truth = json.loads((REPO / "samples" / "data" / "motor" / "truth.json").read_text(encoding="utf-8"))
    cause = truth["causes"][0]["uid"]
    assert f"最常见的缺陷 {truth['defect_code']}" in out  # chosen from the data, not from truth.json
    assert f"contain the top cause {cause}" in out  # RCA ranked the injected cause first
    for expected in ("根因分析", "反向追溯", "围堵", "lot:", "设备", "操作员", "班次", "参数", "供应商", "客户"):
        assert expected in out, expected
    assert "Traceback" not in out


def test_trace_json_is_stable(demo_db: tuple[str, str]) -> None:
    db, _ = demo_db
    truth = json.loads((REPO / "samples" / "data" / "motor" / "truth.json").read_text(encoding="utf-8"))
    code, out, _ = run("trace", truth["causes"][0]["uid"], "--forward", "--json", "--db", db)
    assert code == 0
    doc = json.loads(out)
    assert set(doc) == {"root", "direction", "depth", "since", "until", "nodes", "edges", "steps", "stats"}
    assert set(doc["nodes"][0]) == {"uid", "kind", "name", "level", "received", "uom", "material", "inspections"}
    assert {"operation", "step", "time", "level", "inputs", "outputs", "equipment", "operators", "shifts", "tools",
            "work_orders", "parameters", "inspections"} == set(doc["steps"][0])
    assert any(n["kind"] == "Customer" for n in doc["nodes"])


def test_paths_json(demo_db: tuple[str, str]) -> None:
    db, _ = demo_db
    code, out, _ = run("trace", "unit:SN-M2311-00804", "--json", "--db", db)
    supplier = next(n["uid"] for n in json.loads(out)["nodes"] if n["kind"] == "Supplier")
    code, out, _ = run("paths", "unit:SN-M2311-00804", supplier, "--k", "2", "--json", "--db", db)
    assert code == 0
    doc = json.loads(out)
    assert doc["paths"] and doc["paths"][0]["nodes"][0]["uid"] == "unit:SN-M2311-00804"
    assert doc["paths"][0]["nodes"][-1]["uid"] == supplier


def test_unknown_uid_is_one_line(demo_db: tuple[str, str]) -> None:
    db, _ = demo_db
    code, out, err = run("trace", "unit:NO-SUCH", "--db", db)
    assert code == 1
    assert len(err.strip().splitlines()) == 1 and "unit:NO-SUCH" in err


def test_bad_file_fails_alone_and_earlier_batches_stay(tmp_path: Path) -> None:
    folder = tmp_path / "plant"
    shutil.copytree(PLANT, folder)
    ops = folder / "operations.csv"
    lines = ops.read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2].replace("2023-11", "2023/13", 1)  # a bad date on line 3
    ops.write_text("\n".join(lines) + "\n", encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'z.db'}"
    code, out, err = run("ingest", str(folder), "--db", db)
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert "operations.csv:3" in err and "started_at" in err
    from zhuisu.graph.store import Store

    store = Store(db)
    assert store.node("lot:CG2311-0007")  # lots.csv came before operations.csv and stays
    assert not any(r.uid.startswith("op:") for r in store.node_rows())


def test_samples_make_and_ingest(tmp_path: Path) -> None:
    out_dir = tmp_path / "dairy"
    code, out, err = run("samples", "make", "dairy", "--units", "60", "--seed", "3", "--out", str(out_dir))
    assert code == 0, err
    truth = json.loads((out_dir / "truth.json").read_text(encoding="utf-8"))
    assert truth["plant"] == "dairy" and truth["seed"] == 3
    code, out, err = run("ingest", str(out_dir), "--no-nlp", "--db", f"sqlite:///{tmp_path / 'd.db'}")
    assert code == 0, err
    assert "已导入" in out


def test_bad_plant_name_is_one_line() -> None:
    code, _out, err = run("samples", "make", "bakery", "--out", "x")
    assert code == 2 and "bakery" in err and len(err.strip().splitlines()) == 1

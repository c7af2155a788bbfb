"""The repository root is the package ``zhuisu``: every subpackage and data file reaches the wheel."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

from .conftest import REPO

SKIP = {"tests", "bench", "docs", "build", ".venv", ".git"}


def declared_packages() -> set[str]:
    with (REPO / "pyproject.toml").open("rb") as f:
        return set(tomllib.load(f)["tool"]["setuptools"]["packages"])


def test_every_subpackage_is_declared() -> None:
    found = {"zhuisu"}
    for init in REPO.rglob("__init__.py"):
        rel = init.parent.relative_to(REPO)
        if rel.parts and rel.parts[0] in SKIP | {p for p in rel.parts if p.startswith(".")}:
            continue
        if any(part in SKIP or part == "node_modules" for part in rel.parts):
            continue
        if rel.parts:
            found.add("zhuisu." + ".".join(rel.parts))
    assert found == declared_packages()


def test_wheel_holds_code_and_data(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path),
         str(REPO)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("zhuisu-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in ["zhuisu/cli.py", "zhuisu/ontology/zhuisu.ttl", "zhuisu/graph/store.py",
                     "zhuisu/samples/data/motor/truth.json", "zhuisu/samples/data/motor/lots.csv",
                     "zhuisu/ingest/schemas/epcis/EPCIS-JSON-Schema.json",
                     "zhuisu/ingest/schemas/b2mml/V0700-Schema/AllSchemas.xsd",
                     "zhuisu/ingest/schemas/b2mml/V0401-Schema/B2MML-V0401-Material.xsd",
                     "zhuisu/nlp/model/config.cfg", "zhuisu/rca/templates/report.html.j2",
                     "zhuisu/ontology/vocabulary.ttl", "zhuisu/nlp/lexicon/not_entities.txt",
                     "zhuisu/nlp/data/notes/food.txt"]:
        assert required in names, required
    assert not any(n.startswith("zhuisu/tests/") for n in names)

"""The 8D report and containment on a generated dairy plant (tables and EPCIS ingested): self-contained
HTML with charts, a workbook that reads back, and customers reached by the guilty lot."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest

from zhuisu.graph.engine import Engine
from zhuisu.graph.store import Store
from zhuisu.ingest import plan
from zhuisu.rca import contain, rca, report, similar
from zhuisu.rca.factors import extract
from zhuisu.rca.population import defect_items, population
from zhuisu.rca.topology import topology
from zhuisu.samples import generate


@pytest.fixture(scope="module")
def dairy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, dict[str, object]]]:
    folder = tmp_path_factory.mktemp("dairy")
    truth = generate("dairy", 600, 3, folder, scenario="bad_supplier_lot")
    store = Store(str(folder / "zhuisu.db"))
    for batch in plan(folder):
        store.ingest(batch)
    yield Engine.load(store), truth
    store.close()


def test_the_guilty_lot_and_where_it_went(dairy: tuple[Engine, dict[str, object]]) -> None:
    engine, truth = dairy
    cause = truth["causes"][0]["uid"]  # type: ignore[index]
    result = rca(engine, defect_code=str(truth["defect_code"]))
    assert result.candidates[0].uid == cause and result.candidates[0].evidence is not None
    contained = contain(engine, cause)
    totals = contained.totals()
    assert totals["customers"] and totals["shipments"] == len(contained.shipments)
    assert {"shipped", "consumed"} <= set(totals["by_status"])
    shipped = [i for i in contained.items if i.status == "shipped"]
    assert all(i.customers and i.shipments for i in shipped)
    assert contained.ms < 1000


def test_similar_lots_of_a_defective_lot(dairy: tuple[Engine, dict[str, object]]) -> None:
    engine, truth = dairy
    first = rca(engine, defect_code=str(truth["defect_code"])).candidates[0]
    assert first.evidence is not None
    result = similar(engine, first.evidence.defective[0], limit=10)
    assert result.units and all(u.score > 0 for u in result.units)
    assert any(first.uid in u.shared for u in result.units)


def test_the_8d_report_is_self_contained(dairy: tuple[Engine, dict[str, object]], tmp_path: Path) -> None:
    engine, truth = dairy
    files = report(engine, tmp_path / "8d", defect_code=str(truth["defect_code"]))
    html = files.html.read_text(encoding="utf-8")
    # offline: no script, stylesheet, image or font to fetch, no address at all
    assert not re.search(r"https?://|<script|<link|<img|src=|@import|url\(", html)
    assert html.count("<svg") == 2  # defect rate by factor, and over time
    for heading in ("D1 团队", "D2 问题描述", "D3 围堵", "D4 根本原因", "D5", "D6", "D7", "D8"):
        assert heading in html
    cause = truth["causes"][0]["uid"]  # type: ignore[index]
    assert cause in html and "客户 Customers" in html and files.containment is not None
    assert files.containment.shipments[0].customer_name in html
    book = openpyxl.load_workbook(files.xlsx, read_only=True)
    assert book.sheetnames == ["问题 Problem", "根因 Causes", "证据 Evidence", "追溯 Trace", "围堵 Containment",
                               "客户 Customers"]
    causes = list(book["根因 Causes"].iter_rows(values_only=True))
    assert causes[0][:2] == ("rank", "uid") and causes[1][1] == cause
    json.dumps(files.result.to_dict(), ensure_ascii=False, allow_nan=False)


def test_counts_agree_with_the_items_listed(dairy: tuple[Engine, dict[str, object]]) -> None:
    """Counting by array passes (closure joins, machine windows by prefix sums, repeated reaches through one
    pasteurizer counted once) gives exactly the items a forward walk lists, for every hypothesis."""
    engine, truth = dairy
    pop = population(engine, defect_items(engine, str(truth["defect_code"])))
    hyps = extract(topology(engine), pop)
    n, k = hyps.counts()
    families = set(hyps.family)
    assert {"lot", "supplier", "equipment", "window", "alarm", "operator_shift", "shift", "parameter",
            "equipment_parameter", "work_order", "tool"} <= families
    wrong = [(hyps.family[h], hyps.entity[h]) for h in range(len(hyps))
             if len(hyps.rows_of(h)) != n[h] or pop.defective[hyps.rows_of(h)].sum() != k[h]]
    assert not wrong

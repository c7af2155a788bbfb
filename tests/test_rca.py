"""RCA on a small hand-built assembly line in a real SQLite store: ranking, grouping of factors that go
together, guards, verdicts and evidence; similar units; containment, its status and exports; the CLI.

The line: unit ``i`` (``unit:U-{i:03d}``) is assembled by ``op:A-{i:03d}`` ten minutes after unit ``i - 1``,
on machine ``M-{i % 2}`` with its tool ``T-{i % 2}`` (the tool never leaves the machine), by operator
``O-{i % 3}`` in shift ``S-{i // 8 % 3}``, for work order ``WO-{i // 50}``. It consumes one bearing
(``lot:A1`` for units 0–59 and ``A2`` 60–119 from supplier ``S-1``, ``A3`` 120–199 from ``S-4``) and one housing
(``lot:B1`` 0–99 from ``S-2``; ``lot:B2`` 100–199 from ``S-3``). Each operation measures a torque.
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import typer
from scipy.stats import fisher_exact
from typer.testing import CliRunner

from zhuisu.cli import friendly
from zhuisu.errors import BadInput, NotFound
from zhuisu.graph.engine import Engine
from zhuisu.graph.store import Store
from zhuisu.ingest.records import Batch, Edge, Node
from zhuisu.rca import Guards, RcaResult, contain, rca, similar, write_containment
from zhuisu.rca.cli import register

START = datetime(2023, 11, 1, 8)
UNITS = 200


def when(i: int) -> datetime:
    return START + timedelta(minutes=10 * i)


def bearing(i: int) -> str:
    return "lot:A1" if i < 60 else "lot:A2" if i < 120 else "lot:A3"


def housing(i: int) -> str:
    return "lot:B1" if i < 100 else "lot:B2"


def line(defective: Iterable[int], *, torque_out: Iterable[int] = (), order_at: int | None = None,
         tiny_lot: Iterable[int] = ()) -> Batch:
    """The line's records; ``defective`` units fail their EOL test with ``D-VIB``, ``torque_out`` units read
    a torque below spec, ``order_at`` puts a maintenance order on ``M-1`` just before that unit, and
    ``tiny_lot`` units also consume ``lot:C1`` (a small lot)."""
    bad, low, tiny = set(defective), set(torque_out), set(tiny_lot)
    nodes = [Node("product:P-1", name="电机"), Node("material:BRG", name="轴承"), Node("material:HSG", name="机壳"),
             Node("param:TQ", name="扭矩", attrs={"unit": "N·m", "lsl": 7.2, "usl": 8.8}),
             Node("defect:D-VIB", name="振动超标", attrs={"code": "D-VIB"}),
             Node("supplier:S-1", name="甲轴承厂"), Node("supplier:S-2", name="乙压铸厂"),
             Node("supplier:S-3", name="丙压铸厂"),
             Node("equipment:M-0", kind="EquipmentUnit", name="0号拧紧机"),
             Node("equipment:M-1", kind="EquipmentUnit", name="1号拧紧机")]
    edges = [Edge("supplier:S-1", "supplies", lot, time=START - timedelta(days=2), quantity=60, uom="ea")
             for lot in ("lot:A1", "lot:A2")]
    edges += [Edge("supplier:S-4", "supplies", "lot:A3", time=START - timedelta(days=2), quantity=80, uom="ea"),
              Edge("supplier:S-2", "supplies", "lot:B1", time=START - timedelta(days=2), quantity=100, uom="ea"),
              Edge("supplier:S-3", "supplies", "lot:B2", time=START - timedelta(days=2), quantity=100, uom="ea"),
              Edge("supplier:S-3", "supplies", "lot:C1", time=START - timedelta(days=2), quantity=10, uom="ea")]
    edges += [Edge(lot, "instanceOf", "material:BRG") for lot in ("lot:A1", "lot:A2", "lot:A3")]
    edges += [Edge(lot, "instanceOf", "material:HSG") for lot in ("lot:B1", "lot:B2", "lot:C1")]
    edges += [Edge("tool:T-0", "partOf", "equipment:M-0"), Edge("tool:T-1", "partOf", "equipment:M-1")]
    for i in range(UNITS):
        op, unit, t = f"op:A-{i:03d}", f"unit:U-{i:03d}", when(i)
        nodes += [Node(op, name="总装", attrs={"step": "总装"}), Node(unit, name=f"电机 U-{i:03d}")]
        value = 6.9 if i in low else 8.0 + 0.05 * ((i * 7) % 5 - 2)
        edges += [
            Edge(op, "performedOn", f"equipment:M-{i % 2}", time=t), Edge(op, "usedTool", f"tool:T-{i % 2}", time=t),
            Edge(op, "performedBy", f"operator:O-{i % 3}", time=t), Edge(op, "duringShift", f"shift:S-{i // 8 % 3}",
                                                                         time=t),
            Edge(op, "forWorkOrder", f"wo:WO-{i // 50}", time=t),
            Edge(bearing(i), "consumedBy", op, time=t, quantity=1, uom="ea"),
            Edge(housing(i), "consumedBy", op, time=t, quantity=1, uom="ea"),
            Edge(op, "produces", unit, time=t + timedelta(minutes=5), quantity=1, uom="ea"),
            Edge(unit, "instanceOf", "product:P-1"),
            Edge(op, "measured", "param:TQ", time=t, key="param:TQ",
                 attrs={"value": value, "lsl": 7.2, "usl": 8.8, "out_of_spec": value < 7.2}),
            Edge(f"inspection:EOL-{i:03d}", "inspects", unit, time=t + timedelta(hours=1)),
        ]
        if i in tiny:
            edges.append(Edge("lot:C1", "consumedBy", op, time=t, quantity=1, uom="ea"))
        result = "fail" if i in bad else "pass"
        nodes.append(Node(f"inspection:EOL-{i:03d}", name="EOL测试", attrs={"result": result}))
        if i in bad:
            edges.append(Edge(f"inspection:EOL-{i:03d}", "foundDefect", "defect:D-VIB"))
    if order_at is not None:
        t = when(order_at) - timedelta(minutes=30)
        nodes.append(Node("mo:MO-1", attrs={"text": "1号拧紧机扭矩传感器更换后未标定", "type": "corrective",
                                             "reported_at": (t - timedelta(hours=2)).isoformat(),
                                             "finished_at": t.isoformat()}))
        edges.append(Edge("mo:MO-1", "maintains", "equipment:M-1", time=t - timedelta(hours=2)))
    return Batch(source="test:rca-line", nodes=nodes, edges=edges)


def engine_of(tmp: Path, batch: Batch) -> Engine:
    store = Store(str(tmp / "rca.db"))
    store.ingest(batch)
    return Engine.load(store)


def ranked(result: RcaResult) -> list[tuple[str, str]]:
    return [(c.uid, c.verdict) for c in result.candidates]


SCATTERED = (5, 33, 150, 181, 197)  # base-rate defects outside any cause


def some(items: Iterable[int], count: int, seed: int = 7) -> list[int]:
    """A fixed sample, so that defects follow no operator, machine or shift pattern."""
    return sorted(random.Random(seed).sample(list(items), count))


IN_A2 = some(range(60, 120), 20)


@pytest.fixture
def tmp_engine(tmp_path: Path) -> Callable[..., Engine]:
    return lambda **kwargs: engine_of(tmp_path, line(**kwargs))


def test_the_guilty_lot_ranks_first_and_explains_its_supplier(tmp_engine: Callable[..., Engine]) -> None:
    engine = tmp_engine(defective=[*IN_A2, *SCATTERED])
    result = rca(engine, defect_code="D-VIB")
    first = result.candidates[0]
    assert (first.uid, first.verdict, first.factor) == ("lot:A2", "significant", "lot")
    assert first.exposed == 60 and first.defective == 20 and first.q_value < 1e-4
    table = [[20, 40], [5, 135]]  # exposed: defective / good; the rest: defective / good
    assert first.p_value == pytest.approx(fisher_exact(table, alternative="greater").pvalue, rel=1e-6)
    assert first.rate_with == pytest.approx(20 / 60) and first.share == pytest.approx(20 / 25)
    assert first.description.startswith("外购批次 A2（轴承 · 甲轴承厂）")
    # the supplier holds the guilty lot and a clean one: never ranked above it as a cause of its own
    supplier = next(c for c in result.candidates if "supplier:S-1" in c.members)
    assert supplier is first or supplier.verdict == "explained"
    assert [c.verdict for c in result.candidates].count("significant") == 1
    assert result.scope.items == UNITS and result.scope.defects == 25 and result.tested > 20


def test_factors_that_always_go_together_are_one_candidate(tmp_engine: Callable[..., Engine]) -> None:
    # lot B2 is its supplier S-3's only lot: the data cannot tell them apart
    engine = tmp_engine(defective=[*some(range(100, 200), 25), 5, 33])
    first = rca(engine, defect_code="D-VIB").candidates[0]
    assert first.uid == "lot:B2" and "supplier:S-3" in first.members and first.members[0] == "lot:B2"


def test_a_drift_after_maintenance_names_the_machine_with_its_order(tmp_engine: Callable[..., Engine]) -> None:
    after = [i for i in range(121, 200, 2)]  # machine M-1 after its repair reads low torque
    engine = tmp_engine(defective=[*some(after, 20), 4, 50], torque_out=after, order_at=121)
    first = rca(engine, defect_code="D-VIB").candidates[0]
    assert first.uid == "equipment:M-1" and first.kind == "EquipmentUnit" and first.factor == "equipment"
    assert "param:TQ" in first.members  # the excursion is how the drift shows
    assert first.evidence is not None
    assert [m["uid"] for m in first.evidence.maintenance][:1] == ["mo:MO-1"]
    assert "未标定" in first.evidence.maintenance[0]["text"]
    assert first.evidence.paths and first.evidence.paths[0].nodes[-1].uid == "equipment:M-1"
    assert first.evidence.paths[0].edges[-1].rel == "performedOn"


def test_an_excursion_on_every_machine_names_the_parameter(tmp_engine: Callable[..., Engine]) -> None:
    window = list(range(80, 110))
    engine = tmp_engine(defective=[*some(window, 15), 5, 180], torque_out=window)
    first = rca(engine, defect_code="D-VIB").candidates[0]
    assert (first.uid, first.factor) == ("param:TQ", "parameter")
    assert first.window is not None and first.window[0].replace(tzinfo=None) == when(80)
    assert first.evidence is not None and all(r["out_of_spec"] for r in first.evidence.readings)


def test_nothing_is_significant_without_a_cause(tmp_engine: Callable[..., Engine]) -> None:
    result = rca(tmp_engine(defective=[5, 33, 71, 150, 181, 197]), defect_code="D-VIB")
    assert not result.significant and all(c.q_value >= 0.05 for c in result.candidates)


def test_guards_keep_tiny_factors_out_and_weak_ones_inconclusive(tmp_engine: Callable[..., Engine]) -> None:
    engine = tmp_engine(defective=[10, 11, 12, *IN_A2], tiny_lot=[10, 11, 12])
    result = rca(engine, defect_code="D-VIB")
    assert "lot:C1" not in {c.uid for c in result.candidates}  # 3 items exposed: never tested
    strict = rca(engine, defect_code="D-VIB", guards=Guards(min_defects=50))
    assert not strict.significant
    assert strict.candidates[0].verdict == "inconclusive" and strict.candidates[0].q_value < 0.05


def test_defect_sets_from_units_and_inspections(tmp_engine: Callable[..., Engine]) -> None:
    engine = tmp_engine(defective=[*IN_A2, *SCATTERED])
    by_code = rca(engine, defect_code="D-VIB", evidence=False)
    listed = [f"unit:U-{i:03d}" for i in IN_A2] + [f"inspection:EOL-{i:03d}" for i in SCATTERED]
    by_list = rca(engine, units=listed, evidence=False)
    assert ranked(by_list)[:3] == ranked(by_code)[:3] and by_list.scope.defects == 25
    narrow = rca(engine, defect_code="D-VIB", since=when(50), until=when(130), evidence=False)
    assert narrow.scope.items == 80 and narrow.candidates[0].uid == "lot:A2"  # units made in the window
    with pytest.raises(NotFound, match="D-VIB"):
        rca(engine, defect_code="D-NOPE")
    with pytest.raises(BadInput):
        rca(engine, defect_code="D-VIB", units=listed)


def test_result_json_is_in_rank_order_with_members(tmp_engine: Callable[..., Engine]) -> None:
    data = rca(tmp_engine(defective=[*some(range(100, 200), 25), 5, 33]), defect_code="D-VIB").to_dict()
    json.dumps(data, ensure_ascii=False, allow_nan=False)  # strict JSON: no NaN or infinity
    ranks = [c["rank"] for c in data["candidates"]]
    assert ranks == list(range(1, len(ranks) + 1))
    first = data["candidates"][0]
    assert {"rank", "uid", "kind", "q_value", "members", "p_value", "lift", "verdict"} <= set(first)
    assert data["significant"] == 1 and data["population"]["defects"] == 27


def test_similar_units_share_the_most_factors_first(tmp_engine: Callable[..., Engine]) -> None:
    engine = tmp_engine(defective=[63])
    result = similar(engine, "unit:U-061", window_hours=6)
    assert {f["uid"] for f in result.factors} >= {"lot:A2", "lot:B1", "equipment:M-1", "tool:T-1", "wo:WO-1"}
    top = result.units[0]  # nearest units with the same lots, machine, tool, operator and work order
    assert top.uid in {"unit:U-055", "unit:U-067"} and top.score == 5.0
    assert set(top.shared) == {"lot:A2", "lot:B1", "equipment:M-1", "tool:T-1", "operator:O-1", "wo:WO-1"}
    scores = [u.score for u in result.units]
    assert scores == sorted(scores, reverse=True) and "unit:U-061" not in {u.uid for u in result.units}
    assert next(u for u in result.units if u.uid == "unit:U-063").defects == ("D-VIB",)
    far = {u.uid: u.score for u in similar(engine, "unit:U-061", window_hours=6, limit=200).units}
    assert far.get("unit:U-001", 0) < top.score


# ── containment ───────────────────────────────────────────────────────────────
def flow() -> Batch:
    """Lot L (100 kg) → op-1 (60 kg) → 10 ea of semi-finished M1 → op-2 (5 ea) → units U1, U2; op-3 takes the
    other 40 kg → unit U3, packed on pallet LU-1. U1 ships to C-1, LU-1 to C-2; U2 waits in stock."""
    t = START
    nodes = [Node("supplier:S", name="供应商"), Node("customer:C-1", name="一号客户"),
             Node("customer:C-2", name="二号客户"), Node("product:P-1", name="电机"),
             Node("material:SEMI", name="半成品"),
             Node("equipment:EQ", kind="EquipmentUnit", name="装配机"),
             Node("shipment:SH-1", attrs={"shipped_at": (t + timedelta(days=2)).isoformat()}),
             Node("shipment:SH-2", attrs={"shipped_at": (t + timedelta(days=3)).isoformat()}),
             Node("param:TQ", attrs={"lsl": 7.2, "usl": 8.8}), Node("inspection:I-2", attrs={"result": "pass"}),
             Node("mo:MO-9", attrs={"finished_at": (t + timedelta(hours=5)).isoformat(), "text": "更换夹具"})]
    edges = [
        Edge("supplier:S", "supplies", "lot:L", time=t - timedelta(days=1), quantity=100, uom="kg"),
        Edge("lot:L", "consumedBy", "op:1", time=t, quantity=60, uom="kg"),
        Edge("op:1", "produces", "lot:M1", time=t + timedelta(hours=1), quantity=10, uom="ea"),
        Edge("lot:M1", "instanceOf", "material:SEMI"),
        Edge("lot:M1", "consumedBy", "op:2", time=t + timedelta(hours=2), quantity=5, uom="ea"),
        Edge("op:2", "performedOn", "equipment:EQ", time=t + timedelta(hours=2)),
        Edge("op:2", "produces", "unit:U1", time=t + timedelta(hours=3), quantity=1, uom="ea"),
        Edge("op:2", "produces", "unit:U2", time=t + timedelta(hours=3), quantity=1, uom="ea"),
        Edge("lot:L", "consumedBy", "op:3", time=t + timedelta(hours=6), quantity=40, uom="kg"),
        Edge("op:3", "performedOn", "equipment:EQ", time=t + timedelta(hours=6)),
        Edge("op:3", "measured", "param:TQ", time=t + timedelta(hours=6), key="param:TQ",
             attrs={"value": 6.5, "out_of_spec": True}),
        Edge("op:3", "produces", "unit:U3", time=t + timedelta(hours=7), quantity=1, uom="ea"),
        Edge("mo:MO-9", "maintains", "equipment:EQ", time=t + timedelta(hours=4)),
        *[Edge(f"unit:U{i}", "instanceOf", "product:P-1") for i in (1, 2, 3)],
        Edge("inspection:I-2", "inspects", "unit:U2", time=t + timedelta(hours=4)),
        Edge("unit:U1", "shippedIn", "shipment:SH-1", time=t + timedelta(days=2), quantity=1, uom="ea"),
        Edge("unit:U3", "containedIn", "lu:LU-1", time=t + timedelta(days=1)),
        Edge("lu:LU-1", "shippedIn", "shipment:SH-2", time=t + timedelta(days=3), quantity=1, uom="ea"),
        Edge("shipment:SH-1", "shippedTo", "customer:C-1", time=t + timedelta(days=2)),
        Edge("shipment:SH-2", "shippedTo", "customer:C-2", time=t + timedelta(days=3)),
    ]
    return Batch(source="test:rca-flow", nodes=nodes, edges=edges)


@pytest.fixture
def flow_engine(tmp_path: Path) -> Engine:
    return engine_of(tmp_path, flow())


def test_containment_of_a_lot_with_status_quantities_and_customers(flow_engine: Engine) -> None:
    result = contain(flow_engine, "lot:L")
    by = {i.uid: i for i in result.items}
    assert set(by) == {"lot:L", "lot:M1", "unit:U1", "unit:U2", "unit:U3", "lu:LU-1"}
    assert (by["lot:L"].status, by["lot:L"].quantity, by["lot:L"].uom, by["lot:L"].level) == ("consumed", 100, "kg", 0)
    assert (by["lot:M1"].status, by["lot:M1"].quantity, by["lot:M1"].material) == ("wip", 10, "material:SEMI")
    assert (by["unit:U1"].status, by["unit:U1"].customers) == ("shipped", ("customer:C-1",))
    assert (by["unit:U2"].status, by["unit:U2"].shipments) == ("in_stock", ())
    assert (by["unit:U3"].status, by["unit:U3"].shipments, by["unit:U3"].customers) == (
        "shipped", ("shipment:SH-2",), ("customer:C-2",))
    totals = result.totals()
    assert totals["items"] == 5 and totals["containers"] == 1 and totals["shipments"] == 2
    assert totals["customers"] == ["customer:C-1", "customer:C-2"]
    assert totals["by_status"]["shipped"] == {"items": 2, "quantity": {"ea": 2.0}}
    assert [(s.uid, s.customer_name, s.items, s.quantity) for s in result.shipments] == [
        ("shipment:SH-1", "一号客户", 1, 1.0), ("shipment:SH-2", "二号客户", 1, 1.0)]
    assert {i.uid for i in contain(flow_engine, "supplier:S").items} == set(by) | {"supplier:S"} - {"supplier:S"}


def test_containment_of_a_machine_window_a_parameter_and_a_maintenance_order(flow_engine: Engine) -> None:
    window = contain(flow_engine, "equipment:EQ", since=START, until=START + timedelta(hours=3))
    assert {i.uid for i in window.items} == {"unit:U1", "unit:U2"} and window.seeds == 1
    assert {i.uid for i in contain(flow_engine, "equipment:EQ").items} == {"unit:U1", "unit:U2", "unit:U3",
                                                                          "lu:LU-1"}
    assert {i.uid for i in contain(flow_engine, "param:TQ").items} == {"unit:U3", "lu:LU-1"}
    after = contain(flow_engine, "mo:MO-9")
    assert {i.uid for i in after.items} == {"unit:U3", "lu:LU-1"} and after.since is not None
    with pytest.raises(BadInput, match="cannot contain"):
        contain(flow_engine, "customer:C-1")


def test_containment_exports_read_back(flow_engine: Engine, tmp_path: Path) -> None:
    result = contain(flow_engine, "lot:L")
    csv_path = write_containment(result, tmp_path / "contain.csv")
    rows = list(csv.DictReader(csv_path.read_text(encoding="utf-8-sig").splitlines()))
    assert len(rows) == 6 and rows[0]["uid"] == "lot:L" and {r["status"] for r in rows} >= {"shipped", "wip"}
    book = openpyxl.load_workbook(write_containment(result, tmp_path / "contain.xlsx"), read_only=True)
    assert book.sheetnames == ["摘要 Summary", "受影响 Items", "发货 Shipments", "客户 Customers"]
    items = list(book["受影响 Items"].iter_rows(values_only=True))
    assert items[0][:3] == ("uid", "kind", "name") and len(items) == 7
    customers = list(book["客户 Customers"].iter_rows(values_only=True))
    assert {r[0] for r in customers[1:]} == {"customer:C-1", "customer:C-2"}
    with pytest.raises(BadInput, match="csv or .xlsx"):
        write_containment(result, tmp_path / "contain.pdf")


# ── command line ──────────────────────────────────────────────────────────────
@pytest.fixture
def cli(tmp_path: Path) -> Callable[..., Any]:
    store = Store(str(tmp_path / "cli.db"))
    store.ingest(line(defective=[*IN_A2, *SCATTERED]))
    store.close()
    app = typer.Typer()
    register(app, friendly=friendly)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, [*args, "--db", str(tmp_path / "cli.db")])


def test_cli_rca_json_and_one_line_errors(cli: Callable[..., Any], tmp_path: Path) -> None:
    done = cli("rca", "--defect-code", "D-VIB", "--json", "--no-evidence")
    assert done.exit_code == 0, done.output
    data = json.loads(done.stdout)
    assert data["candidates"][0]["uid"] == "lot:A2" and data["candidates"][0]["rank"] == 1
    units = tmp_path / "units.txt"
    units.write_text("# 客户投诉的电机\nunit:U-060\nunit:U-063\nunit:U-066\nunit:U-069\nunit:U-072\n", encoding="utf-8")
    assert cli("rca", "--units", str(units), "--json").exit_code == 0
    human = cli("rca", "-c", "D-VIB", "--to", "2023-11-01")
    assert human.exit_code == 0 and "根因分析" in human.output
    wrong = cli("rca", "--defect-code", "D-NOPE")
    assert wrong.exit_code == 1 and "E404" in wrong.output and "Traceback" not in wrong.output
    assert cli("rca", "--defect-code", "D-VIB", "--from", "yesterday").exit_code == 2


def test_cli_similar_contain_and_report(cli: Callable[..., Any], tmp_path: Path) -> None:
    assert "unit:U-" in cli("similar", "unit:U-061", "--json").stdout
    out = tmp_path / "a2.xlsx"
    done = cli("contain", "lot:A2", "--out", str(out))
    assert done.exit_code == 0 and out.exists() and "围堵" in done.output
    report_dir = tmp_path / "8d"
    done = cli("report", "--defect-code", "D-VIB", "--out", str(report_dir))
    assert done.exit_code == 0, done.output
    assert (report_dir / "report.html").exists() and (report_dir / "report.xlsx").exists()


def test_a_deep_population_is_compared_through_a_seeded_case_control_sample(
        tmp_engine: Callable[..., Engine], monkeypatch: pytest.MonkeyPatch) -> None:
    """Where every item has thousands of upstream nodes, RCA keeps every defective item and samples the others
    (the budget is lowered here so that this small line needs it): the guilty lot still comes first, the result
    says it was sampled, and the sample, hence the answer, is the same on every run."""
    from zhuisu.rca import population as pop_module

    monkeypatch.setattr(pop_module, "PAIRS", 300)
    monkeypatch.setattr(pop_module, "CONTROLS_PER_DEFECT", 2)
    engine = tmp_engine(defective=[*IN_A2, *SCATTERED])
    result = rca(engine, defect_code="D-VIB")
    assert result.scope.sampled_from == UNITS and result.scope.defects == 25
    assert result.scope.items == 25 + 50 and result.to_dict()["population"]["sampled_from"] == UNITS
    first = result.candidates[0]
    assert (first.uid, first.verdict) == ("lot:A2", "significant") and first.defective == 20
    again = rca(engine, defect_code="D-VIB")
    assert [(c.uid, c.exposed) for c in again.candidates] == [(c.uid, c.exposed) for c in result.candidates]
    monkeypatch.setattr(pop_module, "PAIRS", 10**9)
    assert rca(engine, defect_code="D-VIB").scope.sampled_from is None

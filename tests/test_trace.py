"""Traces and paths over a real SQLite store: what is reached, what is attached, the quantities carried."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from pathlib import Path

import networkx as nx
import pytest

from zhuisu.errors import BadInput, NotFound, UnknownKind
from zhuisu.graph.engine import Engine
from zhuisu.graph.paths import k_paths, shortest_path
from zhuisu.graph.results import Trace
from zhuisu.graph.store import Store
from zhuisu.graph.trace import trace
from zhuisu.ingest.records import Batch, Edge, Node, epoch_ms, plant_zone
from zhuisu.ontology import load

from .test_engine import SGTIN, at, dairy, motor


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    store = Store(str(tmp_path / "z.db"))
    store.ingest(motor())
    store.ingest(dairy())
    return Engine.load(store)


def received(result: Trace) -> dict[str, float | None]:
    return {n.uid: n.received for n in result.nodes}


def test_backward_trace_of_a_unit(engine: Engine) -> None:
    result = trace(engine, "unit:SN-001")
    levels = {n.uid: n.level for n in result.nodes}
    assert levels == {"unit:SN-001": 0, "op:AS-1": 1, "unit:RT-1": 2, "lot:ZC-001": 2, "op:RT-1": 3,
                      "supplier:S-ZC": 3, "lot:CG-001": 4, "supplier:S-CG": 5}
    # the press made 49 other units: none of them, nor the press, is reached
    assert not any(u.startswith(("unit:X-", "equipment:", "shift:")) for u in levels)
    assert {(e.src, e.rel, e.dst) for e in result.edges} == {
        ("op:AS-1", "produces", "unit:SN-001"), ("unit:RT-1", "consumedBy", "op:AS-1"),
        ("lot:ZC-001", "consumedBy", "op:AS-1"), ("op:RT-1", "produces", "unit:RT-1"),
        ("supplier:S-ZC", "supplies", "lot:ZC-001"), ("lot:CG-001", "consumedBy", "op:RT-1"),
        ("supplier:S-CG", "supplies", "lot:CG-001"),
    }
    assert [s.operation for s in result.steps] == ["op:AS-1", "op:RT-1"]
    assembly = result.step("op:AS-1")
    assert assembly.step == "总装" and assembly.level == 1
    assert assembly.time == at(2).replace(tzinfo=plant_zone())
    assert assembly.inputs == ("lot:ZC-001", "unit:RT-1") and assembly.outputs == ("unit:SN-001",)
    assert [(r.uid, r.name) for r in assembly.equipment] == [("equipment:PRESS-02", "2号压装机")]
    assert [r.name for r in assembly.operators] == ["张三"]
    assert [r.name for r in assembly.shifts] == ["白班"]
    assert [r.uid for r in assembly.tools] == ["tool:T-07"]
    assert [r.uid for r in assembly.work_orders] == ["wo:WO-2311"]
    (force,) = assembly.parameters
    assert (force.name, force.value, force.unit, force.lsl, force.usl, force.out_of_spec) == (
        "压装力", 12.8, "kN", 10.0, 12.0, True)
    assert [(i.uid, i.result, i.target) for i in assembly.inspections] == [
        ("inspection:FAI-1", "pass", "op:AS-1")]
    rotor = result.step("op:RT-1")
    assert [r.name for r in rotor.operators] == ["李四"] and rotor.parameters == () and rotor.shifts == ()
    unit = result.node("unit:SN-001")
    assert unit.name == "电机 SN-001" and unit.kind == "SerialUnit"
    assert unit.material is not None and unit.material.name == "YE3 电机"
    (eol,) = unit.inspections
    assert (eol.uid, eol.result, eol.defect_code) == ("inspection:EOL-1", "fail", "D-NOISE")
    assert [i.uid for i in result.node("lot:CG-001").inspections] == ["inspection:IQC-1"]


def test_backward_quantities_consumed_toward_the_root(engine: Engine) -> None:
    result = trace(engine, "unit:SN-001")
    assert received(result) == {"unit:SN-001": 1, "op:AS-1": None, "unit:RT-1": 1, "lot:ZC-001": 2,
                                "op:RT-1": None, "supplier:S-ZC": 2, "lot:CG-001": 2, "supplier:S-CG": 2}
    assert result.node("lot:CG-001").uom == "ea"
    dairy_lot = trace(engine, "lot:FG-1")
    amounts = {u: round(v, 6) if v is not None else None for u, v in received(dairy_lot).items()}
    assert amounts == {"lot:FG-1": 2000, "op:FL-1": None, "lot:BT-1": 2000, "op:BL-1": None,
                       "lot:RM-A": 1200, "lot:RM-B": 800, "supplier:F-1": 1200, "supplier:F-2": 800}
    assert dairy_lot.node("lot:FG-1").uom == "瓶" and dairy_lot.node("lot:RM-A").uom == "kg"


def test_forward_trace_through_a_split(engine: Engine) -> None:
    result = trace(engine, "lot:CG-001", direction="forward")
    assert received(result) == {
        "lot:CG-001": 1000, "op:RT-1": 2, "op:RT-2": 2, "op:RT-3": 2, "unit:RT-1": 2, "unit:RT-2": 2,
        "unit:RT-3": 2, "op:AS-1": 2, "op:AS-2": 2, "op:AS-3": 2, "unit:SN-001": 2, "unit:SN-002": 2,
        "unit:SN-003": 2, "shipment:SH-1": 4, "shipment:SH-2": 2, "customer:C-1": 4, "customer:C-2": 2,
    }
    assert {n.uom for n in result.nodes} == {"ea"}
    assert result.node("customer:C-1").level == 6
    assert len(result.steps) == 6 and "lot:ZC-001" in result.step("op:AS-2").inputs  # inputs beyond the trace


def test_forward_trace_through_a_merge(engine: Engine) -> None:
    result = trace(engine, "lot:RM-A", direction="forward")
    amounts = {u: round(v, 6) for u, v in received(result).items() if v is not None}
    assert amounts == {"lot:RM-A": 3000, "op:BL-1": 3000, "lot:BT-1": 3000, "op:FL-1": 3000, "lot:FG-1": 1200,
                       "lot:FG-2": 1200, "lot:FG-3": 600, "shipment:DS-1": 1800, "shipment:DS-2": 1200,
                       "customer:D-1": 1800, "customer:D-2": 1200}
    assert len(amounts) == len(result.nodes) and {n.uom for n in result.nodes} == {"kg"}
    assert "lot:RM-B" not in result.uids  # merged in, but upstream of the blend


def test_edges_without_quantity_split_the_remainder(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "z.db"))
    store.ingest(Batch(source="test:split", edges=[
        Edge("supplier:S", "supplies", "lot:L", quantity=10, uom="kg"),
        Edge("lot:L", "consumedBy", "op:A", quantity=4, uom="kg"),
        Edge("lot:L", "consumedBy", "op:B"), Edge("lot:L", "consumedBy", "op:C"),
        Edge("op:A", "produces", "lot:A1"), Edge("op:A", "produces", "lot:A2"),
        Edge("lot:Q", "consumedBy", "op:Q"), Edge("lot:Q", "consumedBy", "op:R"),
    ]))
    engine = Engine.load(store)
    result = trace(engine, "lot:L", direction="forward")
    assert received(result) == {"lot:L": 10, "op:A": 4, "op:B": 3, "op:C": 3, "lot:A1": 2, "lot:A2": 2}
    unknown = trace(engine, "lot:Q", direction="forward")  # no quantity anywhere: shares of the root
    assert received(unknown) == {"lot:Q": 1, "op:Q": 0.5, "op:R": 0.5}
    assert {n.uom for n in unknown.nodes} == {None}


def test_rework_loop_is_traced_but_leaves_amounts_undetermined(engine: Engine) -> None:
    store = engine.store
    store.ingest(Batch(source="test:rework", nodes=[Node("op:RW-1", attrs={"step": "返工"})], edges=[
        Edge("unit:SN-003", "consumedBy", "op:RW-1", time=at(3), quantity=1, uom="ea"),
        Edge("op:RW-1", "produces", "unit:SN-003", time=at(3), quantity=1, uom="ea"),
    ]))
    engine.refresh()
    forward = trace(engine, "lot:CG-001", direction="forward")
    assert {"op:RW-1", "customer:C-2"} <= forward.uids
    assert forward.node("unit:RT-3").received == 2  # upstream of the loop
    assert forward.node("unit:SN-003").received is None and forward.node("customer:C-2").received is None
    assert forward.node("customer:C-1").received == 4  # other branches keep their amounts
    backward = trace(engine, "unit:SN-003")
    assert "op:RW-1" in backward.uids and backward.node("lot:CG-001").level == 4


def test_depth_limit(engine: Engine) -> None:
    result = trace(engine, "unit:SN-001", depth=2)
    assert result.uids == {"unit:SN-001", "op:AS-1", "unit:RT-1", "lot:ZC-001"}
    assert {(e.src, e.dst) for e in result.edges} == {
        ("op:AS-1", "unit:SN-001"), ("unit:RT-1", "op:AS-1"), ("lot:ZC-001", "op:AS-1")}
    assert [s.operation for s in result.steps] == ["op:AS-1"]
    assert trace(engine, "unit:SN-001", depth=0).uids == {"unit:SN-001"}
    forward = trace(engine, "lot:CG-001", direction="forward", depth=3)
    assert max(n.level for n in forward.nodes) == 3 and "unit:SN-001" not in forward.uids
    assert forward.node("op:AS-1").received == 2
    with pytest.raises(BadInput):
        trace(engine, "unit:SN-001", depth=-1)


def test_time_window(engine: Engine) -> None:
    # the rotor was made on the 1st: outside the window; the bearing lot's supply has no time, so it passes
    result = trace(engine, "unit:SN-001", since=datetime(2023, 11, 2))
    assert result.uids == {"unit:SN-001", "op:AS-1", "unit:RT-1", "lot:ZC-001", "supplier:S-ZC"}
    assert result.since is not None and result.since.utcoffset() == timedelta(hours=8)
    early = trace(engine, "lot:CG-001", direction="forward", until=datetime(2023, 11, 1, 23, 59))
    assert early.uids == {"lot:CG-001", "op:RT-1", "op:RT-2", "op:RT-3", "unit:RT-1", "unit:RT-2",
                          "unit:RT-3"}
    inclusive = trace(engine, "lot:CG-001", direction="forward", since=at(1), until=at(2))
    assert "unit:SN-003" in inclusive.uids and "shipment:SH-1" not in inclusive.uids


def test_kinds_filter_reports_only_those_kinds(engine: Engine) -> None:
    result = trace(engine, "lot:CG-001", direction="forward", kinds=["Customer"])
    assert result.uids == {"customer:C-1", "customer:C-2"}
    assert result.edges == () and result.steps == ()
    assert received(result) == {"customer:C-1": 4, "customer:C-2": 2}
    # a superclass takes its subclasses
    items = trace(engine, "unit:SN-001", kinds=["TraceableItem", "Operation"])
    assert items.uids == {"unit:SN-001", "op:AS-1", "unit:RT-1", "lot:ZC-001", "op:RT-1", "lot:CG-001"}
    assert len(items.steps) == 2 and len(items.edges) == 5
    with pytest.raises(UnknownKind):
        trace(engine, "unit:SN-001", kinds=["Widget"])


def test_alias_and_unknown_uid(engine: Engine) -> None:
    assert trace(engine, SGTIN).root == "unit:SN-001"
    with pytest.raises(NotFound, match="unit:SN-00"):
        trace(engine, "unit:SN-009")
    with pytest.raises(BadInput):
        trace(engine, "unit:SN-001", direction="sideways")


def test_json_form(engine: Engine) -> None:
    data = json.loads(json.dumps(trace(engine, "unit:SN-001", until=at(30)).to_dict(), ensure_ascii=False))
    assert set(data) == {"root", "direction", "depth", "since", "until", "nodes", "edges", "steps", "stats"}
    assert data["until"] == "2023-11-30T08:00:00+08:00" and data["since"] is None
    assert set(data["nodes"][0]) >= {"uid", "kind", "name", "level", "received", "uom"}
    assert set(data["edges"][0]) == {"src", "dst", "rel", "time", "quantity", "uom"}
    step = next(s for s in data["steps"] if s["operation"] == "op:AS-1")
    assert step["time"] == "2023-11-02T08:00:00+08:00"
    assert set(step) == {"operation", "step", "time", "level", "inputs", "outputs", "equipment", "operators",
                         "shifts", "tools", "work_orders", "parameters", "inspections"}
    assert step["parameters"][0] == {"uid": "param:P-FORCE", "name": "压装力", "value": 12.8, "unit": "kN",
                                     "lsl": 10.0, "usl": 12.0, "out_of_spec": True}
    assert step["inspections"][0]["time"] == "2023-11-02T09:00:00+08:00"
    assert data["stats"]["nodes"] == 8 and data["stats"]["steps"] == 2 and data["stats"]["ms"] >= 0


def test_trace_after_refresh_matches_a_fresh_load(engine: Engine) -> None:
    store = engine.store
    store.ingest(Batch(source="test:more", edges=[
        Edge("lot:ZC-001", "consumedBy", "op:AS-4", time=at(6), quantity=2, uom="ea"),
        Edge("op:AS-4", "produces", "unit:SN-004", time=at(6), quantity=1, uom="ea"),
        Edge("unit:SN-004", "shippedIn", "shipment:SH-2", time=at(7), quantity=1, uom="ea"),
    ]))
    store.ingest(Batch(source="test:error-declaration", retract=["EV-SHIP-2"]))
    engine.refresh()
    fresh = Engine.load(store)
    for ref, direction in [("lot:ZC-001", "forward"), ("customer:C-2", "backward"),
                           ("unit:SN-002", "forward")]:
        a = trace(engine, ref, direction=direction).to_dict()
        b = trace(fresh, ref, direction=direction).to_dict()
        a["stats"].pop("ms"), b["stats"].pop("ms")
        assert a == b
    assert "customer:C-1" not in trace(engine, "unit:SN-002", direction="forward").uids
    assert "unit:SN-004" in trace(engine, "customer:C-2").uids


def test_paths_between_a_unit_and_its_supplier_and_its_machine(engine: Engine) -> None:
    path = shortest_path(engine, "unit:SN-001", "supplier:S-CG", material_only=True)
    (route,) = path.paths
    assert [n.uid for n in route.nodes] == ["unit:SN-001", "op:AS-1", "unit:RT-1", "op:RT-1", "lot:CG-001",
                                           "supplier:S-CG"]
    assert route.edges[0].src == "op:AS-1" and route.edges[0].rel == "produces"  # stored direction kept
    assert route.nodes[-1].name == "宁波磁钢有限公司" and route.length == 5
    machine = shortest_path(engine, "unit:SN-001", "equipment:PRESS-02")
    assert [(e.src, e.rel, e.dst) for e in machine.paths[0].edges] == [
        ("op:AS-1", "produces", "unit:SN-001"), ("op:AS-1", "performedOn", "equipment:PRESS-02")]
    three = k_paths(engine, "unit:SN-001", "supplier:S-CG", k=3, material_only=True)
    assert [r.length for r in three.paths] == [5, 7, 7]
    assert three.paths[0] == route
    for r in three.paths:
        uids = [n.uid for n in r.nodes]
        assert len(set(uids)) == len(uids) and uids[0] == "unit:SN-001" and uids[-1] == "supplier:S-CG"
    data = k_paths(engine, "unit:SN-001", "equipment:PRESS-02", k=3).to_dict()
    assert data["source"] == "unit:SN-001" and [p["length"] for p in data["paths"]] == [2, 4, 4]
    assert data["paths"][0]["nodes"][2] == {"uid": "equipment:PRESS-02", "kind": "Equipment",
                                            "name": "2号压装机"}


def test_paths_edge_cases(engine: Engine) -> None:
    assert shortest_path(engine, "lot:RM-A", "unit:SN-001", material_only=True).paths == ()
    assert shortest_path(engine, "lot:RM-A", "lot:RM-A").paths[0].length == 0
    with pytest.raises(NotFound):
        k_paths(engine, "unit:SN-001", "supplier:NOPE")
    with pytest.raises(BadInput):
        k_paths(engine, "unit:SN-001", "lot:CG-001", k=0)


def test_k_paths_agree_with_networkx(engine: Engine) -> None:
    g = nx.Graph()
    for e in engine.graph.edge_indices():
        g.add_edge(int(engine.edge_src[e]), int(engine.edge_dst[e]))
    a, b = engine.index("unit:SN-002"), engine.index("lot:CG-001")
    expected = [len(p) - 1 for _, p in zip(range(4), nx.shortest_simple_paths(g, a, b), strict=False)]
    assert [r.length for r in k_paths(engine, "unit:SN-002", "lot:CG-001", k=4).paths] == expected


def random_plant(seed: int, lots: int = 60, ops: int = 40) -> Batch:
    """A seeded random material DAG (suppliers → lots ⇄ operations → shipments) with a context hub."""
    rng = random.Random(seed)
    items = [f"lot:R{i}" for i in range(lots)]
    steps = [f"op:R{i}" for i in range(ops)]
    order = items + steps
    rng.shuffle(order)
    rank = {n: i for i, n in enumerate(order)}
    edges: list[Edge] = [Edge(f"supplier:V{i % 4}", "supplies", lot, quantity=rng.choice([None, 100.0])) for i, lot in
             enumerate(items[: lots // 3])]
    for a in order:  # edges only run to a later rank, between a lot and an operation: a DAG
        later = [b for b in order[rank[a] + 1 : rank[a] + 12] if a.startswith("lot") != b.startswith("lot")]
        for b in rng.sample(later, min(len(later), rng.randint(1, 3))):
            rel = "consumedBy" if a.startswith("lot") else "produces"
            edges.append(Edge(a, rel, b, time=at(1) + timedelta(hours=rank[a]),
                              quantity=rng.choice([None, 1.0, 5.0])))
    edges += [Edge(op, "performedOn", "equipment:HUB") for op in steps]
    edges += [Edge(lot, "shippedIn", "shipment:OUT") for lot in rng.sample(items, 5)]
    edges += [Edge("shipment:OUT", "shippedTo", "customer:END")]
    return Batch(source=f"test:random-{seed}", edges=edges)


def reference_received(g: nx.MultiDiGraph, root: str) -> dict[str, float]:
    """Forward amounts computed the slow, obvious way: node by node in topological order."""
    def total(n: str) -> float | None:
        made = [q for _, _, d in g.in_edges(n, data=True) if d["rel"] in ("produces", "supplies")
                for q in [d["qty"]] if q is not None]
        out = [d["qty"] for _, _, d in g.out_edges(n, data=True) if d["qty"] is not None]
        if made:
            return max(sum(made), sum(out))
        return sum(out) if out else None

    def share(n: str, qty: float | None) -> float:
        edges = list(g.out_edges(n, data=True))
        base, known = total(n), [d["qty"] for _, _, d in edges if d["qty"] is not None]
        if not base:
            return 1 / len(edges)
        if qty is not None:
            return qty / base
        return max(base - sum(known), 0) / (len(edges) - len(known)) / base

    reach = nx.descendants(g, root) | {root}
    got = dict.fromkeys(reach, 0.0)
    got[root] = total(root) or 1.0
    for n in nx.topological_sort(g.subgraph(reach)):
        for _, m, d in g.out_edges(n, data=True):
            got[m] += got[n] * share(n, d["qty"])
    return got


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_dag_matches_networkx(tmp_path: Path, seed: int) -> None:
    store = Store(str(tmp_path / "z.db"))
    store.ingest(random_plant(seed))
    engine = Engine.load(store)
    onto = load()
    g = nx.MultiDiGraph()
    g.add_nodes_from(engine.uid(i) for i in range(engine.num_nodes))
    for _, src, dst, rel, t, qty, _ in store.edge_rows():
        if onto.relations[rel].material:
            g.add_edge(engine.uid(engine.index_of_id(src)), engine.uid(engine.index_of_id(dst)), t=t, qty=qty,
                       rel=rel)
    rng = random.Random(seed)
    window = (at(1) + timedelta(hours=20), at(1) + timedelta(hours=70))
    lo, hi = (epoch_ms(w) for w in window)
    windowed = nx.MultiDiGraph()
    windowed.add_nodes_from(g)
    windowed.add_edges_from((u, v) for u, v, t in g.edges(data="t") if t is None or lo <= t <= hi)
    for root in rng.sample([n for n in g if n.startswith(("lot:", "op:"))], 12):
        back, fwd = trace(engine, root), trace(engine, root, direction="forward")
        assert back.uids == nx.ancestors(g, root) | {root}
        assert fwd.uids == nx.descendants(g, root) | {root}
        assert {n.uid: n.level for n in fwd.nodes} == nx.single_source_shortest_path_length(g, root)
        assert received(fwd) == pytest.approx(reference_received(g, root))
        assert trace(engine, root, direction="forward", depth=2).uids == set(
            nx.single_source_shortest_path_length(g, root, cutoff=2))
        within = trace(engine, root, since=window[0], until=window[1])
        assert within.uids == nx.ancestors(windowed, root) | {root}
        assert not any(n.kind == "Equipment" for n in fwd.nodes)
        # each followed edge runs between reached nodes and exists in the material graph
        assert all(g.has_edge(e.src, e.dst) for e in fwd.edges)
        assert len(fwd.edges) == g.subgraph(fwd.uids).number_of_edges()

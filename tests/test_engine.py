"""The in-memory engine: loading from a real SQLite store, lookups, and incremental refresh."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from zhuisu.errors import NotFound
from zhuisu.graph.engine import Engine
from zhuisu.graph.store import Store
from zhuisu.ingest.records import Batch, Edge, Node

SGTIN = "urn:epc:id:sgtin:0614141.107346.2017"
OTHER_OPS = 47  # with the three assembly steps, 50 operations share the press


def at(day: int, hour: int = 8) -> datetime:
    """A plant-local time in November 2023."""
    return datetime(2023, 11, day, hour)


def motor() -> Batch:
    """A small motor line: a magnet lot split over three rotors, a bearing lot, three motors, two customers.

    Every assembly runs on one press, which 47 other operations (making other units) share too.
    """
    nodes = [
        Node("supplier:S-CG", name="宁波磁钢有限公司"), Node("supplier:S-ZC", name="洛阳轴承厂"),
        Node("material:M-CG", name="钕铁硼磁钢"), Node("material:M-ZC", name="深沟球轴承"),
        Node("material:M-RT", name="转子组件"), Node("product:P-M1", name="YE3 电机"),
        Node("lot:CG-001", name="磁钢批次 CG-001"), Node("lot:ZC-001", name="轴承批次 ZC-001"),
        Node("equipment:PRESS-02", name="2号压装机"), Node("equipment:RT-LINE", name="转子线"),
        Node("operator:OP-ZS", name="张三"), Node("operator:OP-LS", name="李四"),
        Node("shift:A", name="白班"), Node("tool:T-07", name="压装工装 7号"),
        Node("wo:WO-2311", name="工单 2311"),
        Node("param:P-FORCE", name="压装力", attrs={"unit": "kN", "lsl": 10.0, "usl": 12.0}),
        Node("inspection:IQC-1", name="来料检验", attrs={"result": "pass"}),
        Node("inspection:EOL-1", name="EOL测试", attrs={"result": "fail"}),
        Node("inspection:FAI-1", name="首件检验", attrs={"result": "pass"}),
        Node("defect:D-NOISE", name="异响", attrs={"code": "D-NOISE"}),
        Node("shipment:SH-1", name="发货单 1"), Node("shipment:SH-2", name="发货单 2"),
        Node("customer:C-1", name="上汽"), Node("customer:C-2", name="广汽"),
        Node("unit:SN-001", name="电机 SN-001", aliases=(SGTIN,)),
    ]
    edges = [
        Edge("supplier:S-CG", "supplies", "lot:CG-001", quantity=1000, uom="ea"),
        Edge("supplier:S-ZC", "supplies", "lot:ZC-001", quantity=500, uom="ea"),
        Edge("lot:CG-001", "instanceOf", "material:M-CG"), Edge("lot:ZC-001", "instanceOf", "material:M-ZC"),
        Edge("inspection:IQC-1", "inspects", "lot:CG-001", time=at(1, 7)),
        Edge("inspection:EOL-1", "inspects", "unit:SN-001", time=at(3)),
        Edge("inspection:EOL-1", "foundDefect", "defect:D-NOISE"),
        Edge("inspection:FAI-1", "inspects", "op:AS-1", time=at(2, 9)),
        Edge("shipment:SH-1", "shippedTo", "customer:C-1", time=at(5)),
        Edge("shipment:SH-2", "shippedTo", "customer:C-2", time=at(5)),
    ]
    for i in (1, 2, 3):
        rotor, op_rt, op_as, sn = f"unit:RT-{i}", f"op:RT-{i}", f"op:AS-{i}", f"unit:SN-00{i}"
        nodes += [Node(op_rt, attrs={"step": "转子装配"}), Node(op_as, attrs={"step": "总装"})]
        edges += [
            Edge("lot:CG-001", "consumedBy", op_rt, time=at(1), quantity=2, uom="ea"),
            Edge(op_rt, "produces", rotor, time=at(1), quantity=1, uom="ea"),
            Edge(rotor, "instanceOf", "material:M-RT"),
            Edge(op_rt, "performedOn", "equipment:RT-LINE"), Edge(op_rt, "performedBy", "operator:OP-LS"),
            Edge(rotor, "consumedBy", op_as, time=at(2), quantity=1, uom="ea"),
            Edge("lot:ZC-001", "consumedBy", op_as, time=at(2), quantity=2, uom="ea"),
            Edge(op_as, "produces", sn, time=at(2), quantity=1, uom="ea"),
            Edge(sn, "instanceOf", "product:P-M1"),
            Edge(op_as, "performedOn", "equipment:PRESS-02"), Edge(op_as, "performedBy", "operator:OP-ZS"),
            Edge(op_as, "duringShift", "shift:A"), Edge(op_as, "usedTool", "tool:T-07"),
            Edge(op_as, "forWorkOrder", "wo:WO-2311"),
            Edge(op_as, "measured", "param:P-FORCE", time=at(2),
                 attrs={"value": 12.8 if i == 1 else 11.0, "out_of_spec": i == 1, "lsl": 10.0, "usl": 12.0}),
            Edge(sn, "shippedIn", "shipment:SH-1" if i < 3 else "shipment:SH-2", time=at(5), quantity=1,
                 uom="ea", key=f"EV-SHIP-{i}"),
        ]
    for k in range(OTHER_OPS):  # the press is a hub: other units made on it must never join a trace
        op = f"op:X-{k:02d}"
        edges += [Edge(op, "produces", f"unit:X-{k:02d}", time=at(4), quantity=1, uom="ea"),
                  Edge(op, "performedOn", "equipment:PRESS-02"), Edge(op, "duringShift", "shift:A")]
    return Batch(source="test:motor", nodes=nodes, edges=edges)


def dairy() -> Batch:
    """Two raw-milk lots blended into one batch, filled into three product lots shipped to two dealers."""
    nodes = [Node("supplier:F-1", name="牧场A"), Node("supplier:F-2", name="牧场B"),
             Node("lot:RM-A", name="生乳 A"), Node("lot:RM-B", name="生乳 B"),
             Node("lot:BT-1", name="配料批 1"),
             Node("op:BL-1", attrs={"step": "配料"}), Node("op:FL-1", attrs={"step": "灌装"}),
             Node("customer:D-1", name="华东经销商"), Node("customer:D-2", name="华南经销商")]
    edges = [
        Edge("supplier:F-1", "supplies", "lot:RM-A", time=at(10, 5), quantity=3000, uom="kg"),
        Edge("supplier:F-2", "supplies", "lot:RM-B", time=at(10, 6), quantity=2000, uom="kg"),
        Edge("lot:RM-A", "consumedBy", "op:BL-1", time=at(10, 9), quantity=3000, uom="kg"),
        Edge("lot:RM-B", "consumedBy", "op:BL-1", time=at(10, 9), quantity=2000, uom="kg"),
        Edge("op:BL-1", "produces", "lot:BT-1", time=at(10, 10), quantity=5000, uom="kg"),
        Edge("lot:BT-1", "consumedBy", "op:FL-1", time=at(10, 12), quantity=5000, uom="kg"),
        Edge("op:FL-1", "produces", "lot:FG-1", time=at(10, 14), quantity=2000, uom="瓶"),
        Edge("op:FL-1", "produces", "lot:FG-2", time=at(10, 14), quantity=2000, uom="瓶"),
        Edge("op:FL-1", "produces", "lot:FG-3", time=at(10, 14), quantity=1000, uom="瓶"),
        Edge("lot:FG-1", "shippedIn", "shipment:DS-1", time=at(11), quantity=2000, uom="瓶"),
        Edge("lot:FG-2", "shippedIn", "shipment:DS-1", time=at(11), quantity=1000, uom="瓶"),
        Edge("lot:FG-2", "shippedIn", "shipment:DS-2", time=at(11), quantity=1000, uom="瓶"),
        Edge("lot:FG-3", "shippedIn", "shipment:DS-2", time=at(11), quantity=1000, uom="瓶"),
        Edge("shipment:DS-1", "shippedTo", "customer:D-1"),
        Edge("shipment:DS-2", "shippedTo", "customer:D-2"),
    ]
    return Batch(source="test:dairy", nodes=nodes, edges=edges)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(str(tmp_path / "z.db"))
    s.ingest(motor())
    s.ingest(dairy())
    return s


def snapshot(engine: Engine) -> dict[str, Any]:
    """Everything the engine holds, keyed by uids and store ids so that index order does not matter."""
    live = [int(e) for e in engine.graph.edge_indices()]
    flow = [int(engine.flow_edge[f]) for f in engine.flow.edge_indices()]

    def edge(e: int) -> tuple[Any, ...]:
        t, q = engine.edge_t[e], engine.edge_qty[e]
        return (int(engine.edge_id[e]), engine.uid(int(engine.edge_src[e])),
                engine.uid(int(engine.edge_dst[e])), engine.relations[engine.edge_rel[e]],
                engine.graph.get_edge_data_by_index(e), None if np.isnan(t) else t, None if np.isnan(q) else q)

    nodes = range(engine.num_nodes)
    return {
        "nodes": {(engine.uid(i), engine.kind(i), engine.node_id(i)) for i in nodes},
        "edges": {edge(e) for e in live},
        "flow": {edge(e) for e in flow},
        "own": {engine.uid(i): v for i, v in zip(nodes, engine.own(np.arange(engine.num_nodes)).tolist(),
                                                  strict=True) if v == v},
        "batch": engine.batch,
    }


def test_load_mirrors_the_store(store: Store) -> None:
    engine = Engine.load(store)
    counts = store.counts()
    assert engine.num_nodes == counts["nodes"]
    assert engine.num_edges == counts["edges"]
    assert engine.batch == store.last_batch() == 2
    material = sum(1 for row in store.edge_rows() if store.ontology.relations[row.rel].material)
    assert engine.flow.num_edges() == material
    assert engine.flow.num_nodes() == engine.graph.num_nodes()
    # payloads are integers: the store node id and a small relation code
    unit = engine.index("unit:SN-001")
    assert engine.graph[unit] == store.node("unit:SN-001").id
    assert {type(w) for w in engine.graph.edges()} == {int}
    assert all(engine.material[r] for r in engine.flow.edges())


def test_lookups(store: Store) -> None:
    engine = Engine.load(store)
    i = engine.index("lot:CG-001")
    assert engine.uid(i) == "lot:CG-001"
    assert engine.kind(i) == "MaterialLot"
    assert engine.index(SGTIN) == engine.index("unit:SN-001")  # an alias resolves through the store
    assert engine.kind(engine.index("equipment:PRESS-02")) == "Equipment"
    assert float(engine.own(np.array([i]))[0]) == 1000.0  # supplied quantity


def test_unknown_uid_is_not_found_with_suggestions(store: Store) -> None:
    engine = Engine.load(store)
    with pytest.raises(NotFound) as err:
        engine.index("unit:SN-0019")
    assert err.value.status == 404
    assert "unit:SN-001" in str(err.value)
    with pytest.raises(NotFound):
        engine.index("nothing-like-a-uid")


def test_context_hub_is_not_in_the_material_graph(store: Store) -> None:
    engine = Engine.load(store)
    press = engine.index("equipment:PRESS-02")
    assert engine.flow.in_degree(press) == 0 and engine.flow.out_degree(press) == 0
    assert engine.graph.in_degree(press) == 3 + OTHER_OPS
    assert len(engine.context_edges_of([press])[1]) == 3 + OTHER_OPS


def test_refresh_applies_new_nodes_edges_and_retractions(store: Store) -> None:
    engine = Engine.load(store)
    assert engine.refresh().edges_added == 0  # nothing new
    store.ingest(Batch(source="test:more", nodes=[Node("op:AS-4", attrs={"step": "总装"})], edges=[
        Edge("lot:ZC-001", "consumedBy", "op:AS-4", time=at(6), quantity=2, uom="ea"),
        Edge("op:AS-4", "produces", "unit:SN-004", time=at(6), quantity=1, uom="ea"),
        Edge("op:AS-4", "performedOn", "equipment:PRESS-02"),
        Edge("unit:SN-004", "shippedIn", "shipment:SH-2", time=at(7), quantity=1, uom="ea", key="EV-SHIP-4"),
    ]))
    store.ingest(Batch(source="test:error-declaration", retract=["EV-SHIP-2"]))
    done = engine.refresh()
    assert (done.nodes_added, done.edges_added, done.edges_removed) == (2, 4, 1)
    assert engine.batch == store.last_batch()
    sn2, sh1 = engine.index("unit:SN-002"), engine.index("shipment:SH-1")
    assert not engine.graph.has_edge(sn2, sh1) and not engine.flow.has_edge(sn2, sh1)
    assert engine.flow.has_edge(engine.index("unit:SN-004"), engine.index("shipment:SH-2"))
    assert snapshot(engine) == snapshot(Engine.load(store))


def test_refresh_reuses_freed_edge_slots_and_keeps_totals(store: Store) -> None:
    engine = Engine.load(store)
    store.ingest(Batch(source="test:wrong-lot", edges=[
        Edge("supplier:S-ZC", "supplies", "lot:CG-002", quantity=300, uom="ea", key="EV-WRONG"),
        Edge("lot:CG-002", "consumedBy", "op:RT-1", time=at(1), quantity=2, uom="ea", key="EV-WRONG"),
    ]))
    engine.refresh()
    assert float(engine.own(np.array([engine.index("lot:CG-002")]))[0]) == 300.0
    store.ingest(Batch(source="test:fix", retract=["EV-WRONG"]))
    store.ingest(Batch(source="test:right-lot", edges=[
        Edge("supplier:S-CG", "supplies", "lot:CG-002", quantity=800, uom="ea"),
        Edge("lot:CG-002", "consumedBy", "op:RT-2", time=at(1), quantity=2, uom="ea"),
    ]))
    engine.refresh()
    assert float(engine.own(np.array([engine.index("lot:CG-002")]))[0]) == 800.0
    assert snapshot(engine) == snapshot(Engine.load(store))
    assert engine.refresh().edges_added == 0


def test_refresh_from_an_empty_store(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "z.db"))
    engine = Engine.load(store)
    assert engine.num_nodes == 0
    store.ingest(dairy())
    store.ingest(Batch(source="test:recall", edges=[
        Edge("lot:FG-3", "shippedIn", "shipment:DS-3", quantity=10, uom="瓶", key="EV-X")]))
    store.ingest(Batch(source="test:undo", retract=["EV-X"]))
    engine.refresh()
    assert snapshot(engine) == snapshot(Engine.load(store))


def _plain_bfs(engine: Engine, root: int, forward: bool, depth: int | None, lo: float, hi: float) -> tuple[
        dict[int, int], set[int]]:
    """The walk's contract in plain Python over the engine's edge columns: levels reached, edges followed."""
    near, far = (engine.edge_src, engine.edge_dst) if forward else (engine.edge_dst, engine.edge_src)
    listed: dict[int, list[int]] = {}
    for e in range(engine.num_slots):
        t = engine.edge_t[e]
        if engine.edge_id[e] >= 0 and engine.material[engine.edge_rel[e]] and (t != t or lo <= t <= hi):
            listed.setdefault(int(near[e]), []).append(e)
    level, followed, frontier = {root: 0}, set(), [root]
    while frontier:
        last = depth is not None and level[frontier[0]] >= depth
        nxt = []
        for u in frontier:
            for e in listed.get(u, []):
                v = int(far[e])
                if last and v not in level:
                    continue
                followed.add(e)
                if v not in level:
                    level[v] = level[u] + 1
                    nxt.append(v)
        frontier = [] if last else nxt
    return level, followed


def test_walk_matches_a_plain_breadth_first_search_with_tails_holes_windows_and_depth(tmp_path: Path) -> None:
    """The compiled walk against a plain Python search, on a store with edges appended since the
    adjacency lists were built (a tail), withdrawn edges (holes), time windows and depth limits."""
    from samples import bench_plant
    from zhuisu.graph.reach import walk

    store = Store(str(tmp_path / "z.db"))
    batches = list(bench_plant.batches(300, seed=3, edges_per_batch=2_000))
    for batch in batches[:-1]:
        store.ingest(batch)
    lot = batches[1].edges[0].dst  # a supplier lot
    store.ingest(Batch("test:late", edges=[Edge(lot, "consumedBy", "op:LATE", key="EV-LATE"),
                                           Edge("op:LATE", "produces", "unit:LATE", key="EV-LATE")]))
    engine = Engine.load(store)
    store.ingest(batches[-1])
    store.ingest(Batch("test:undo", retract=["EV-LATE"]))
    engine.refresh()
    assert len(engine.adjacency("mat_in")) == 2 and engine.has_holes  # a tail list and withdrawn slots in play
    rng = np.random.default_rng(0)
    times = engine.edge_t[~np.isnan(engine.edge_t)]
    window = (float(np.quantile(times, 0.3)), float(np.quantile(times, 0.7)))
    for root in rng.choice(engine.num_nodes, 60, replace=False).tolist() + [engine.index(lot)]:
        for forward in (False, True):
            for depth, (lo, hi) in ((None, (-np.inf, np.inf)), (2, (-np.inf, np.inf)), (None, window)):
                got = walk(engine, root, forward=forward, depth=depth, lo=lo, hi=hi)
                level, followed = _plain_bfs(engine, root, forward, depth, lo, hi)
                assert dict(zip(got.nodes.tolist(), got.levels.tolist(), strict=True)) == level
                assert len(got.nodes) == len(level) and got.nodes[0] == root
                assert (np.diff(got.levels) >= 0).all()
                assert sorted(got.edges.tolist()) == sorted(followed)
                near = (engine.edge_src if forward else engine.edge_dst)[got.edges]
                rank = {n: i for i, n in enumerate(got.nodes.tolist())}
                assert (np.diff([rank[int(n)] for n in near]) >= 0).all()  # grouped by expanded node, in order
    assert (engine.scratch.take(engine.num_nodes).mark == -1).all()  # every mark reset after use

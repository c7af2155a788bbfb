"""The Neo4j query backend's algorithm gives exactly the engine's traces and paths.

No Neo4j server can run here, so ``StoreSource`` stands in for the Cypher expansions: it answers the same
``find``/``expand`` calls from the real SQLite store, edge for edge what the ``expand:*`` statements return
(their text is checked by Neo4j's linter in test_neo4j_cypher.py, and against a live server in
test_neo4j_live.py). Everything after the expansions — the level-by-level walk, the subgraph and the
engine run on it — is the backend's real code.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from zhuisu.errors import BadInput, NotFound
from zhuisu.graph.engine import Engine
from zhuisu.graph.neo4j.backend import EdgeRow, NodeRow, paths_on, roles, trace_on, use_neo4j
from zhuisu.graph.paths import k_paths
from zhuisu.graph.schema import edges, nodes
from zhuisu.graph.store import Store
from zhuisu.graph.trace import trace
from zhuisu.ingest.records import Batch, Edge, Node
from zhuisu.ontology import load

GTIN = "urn:epc:id:sgtin:6901234.000017.SN-0001"


def at(day: int, hour: int = 8) -> datetime:
    """A plant-local time in March 2024."""
    return datetime(2024, 3, day, hour)


def plant() -> Batch:
    """A motor line with a split magnet lot, a shared press, rework, inspections and shipments."""
    ns = [
        Node("supplier:SUP-CG", name="宁波恒磁磁业有限公司"),
        Node("supplier:SUP-ZC", name="洛阳LYC轴承有限公司"),
        Node("material:M-CG", name="钕铁硼磁钢 N42SH"), Node("product:P-YE3", name="YE3-132M 三相异步电机"),
        Node("lot:CG2403-01", name="磁钢批 CG2403-01", attrs={"炉号": "L-77", "quantity": 1000.0}),
        Node("lot:ZC2403-01", name="轴承批 ZC2403-01"),
        Node("equipment:PRESS-02", kind="EquipmentUnit", name="2号压装机"),
        Node("operator:OP-017", name="王建国"), Node("shift:NIGHT", name="夜班"),
        Node("wo:WO-2403", name="工单 2403"),
        Node("param:P-FORCE", name="压装力", attrs={"unit": "kN", "lsl": 10.0, "usl": 12.0}),
        Node("inspection:EOL-1", name="EOL测试", attrs={"result": "fail"}),
        Node("defect:D-ABN", name="异响", attrs={"code": "D-ABN"}),
        Node("unit:SN-0001", name="电机 SN-0001", aliases=(GTIN,)),
        Node("customer:C-SAIC", name="上汽集团"), Node("customer:C-GAC", name="广汽集团"),
    ]
    es = [
        Edge("supplier:SUP-CG", "supplies", "lot:CG2403-01", time=at(1), quantity=1000, uom="片"),
        Edge("supplier:SUP-ZC", "supplies", "lot:ZC2403-01", quantity=400, uom="套"),
        Edge("lot:CG2403-01", "instanceOf", "material:M-CG"),
        Edge("inspection:EOL-1", "inspects", "unit:SN-0001", time=at(4)),
        Edge("inspection:EOL-1", "foundDefect", "defect:D-ABN"),
        Edge("inspection:EOL-1", "performedBy", "operator:OP-017"),
    ]
    for i in range(1, 5):
        op_rt, rotor, op_as, sn = f"op:RT-{i}", f"unit:RT-{i}", f"op:AS-{i}", f"unit:SN-000{i}"
        ns += [Node(op_rt, attrs={"step": "转子装配"}), Node(op_as, attrs={"step": "总装"})]
        es += [
            Edge("lot:CG2403-01", "consumedBy", op_rt, time=at(2, i), quantity=4, uom="片"),
            Edge(op_rt, "produces", rotor, time=at(2, i), quantity=1, uom="件"),
            Edge(rotor, "consumedBy", op_as, time=at(3, i), quantity=1),
            Edge("lot:ZC2403-01", "consumedBy", op_as, time=at(3, i), quantity=2, uom="套"),
            Edge(op_as, "produces", sn, time=at(3, i), quantity=1, uom="台"),
            Edge(sn, "instanceOf", "product:P-YE3"),
            Edge(op_as, "performedOn", "equipment:PRESS-02"), Edge(op_as, "performedBy", "operator:OP-017"),
            Edge(op_as, "duringShift", "shift:NIGHT"), Edge(op_as, "forWorkOrder", "wo:WO-2403"),
            Edge(op_as, "measured", "param:P-FORCE", time=at(3, i), attrs={"value": 11.0 + i * 0.5}),
            Edge(sn, "shippedIn", f"shipment:SH-{1 + i // 3}", time=at(5), quantity=1, uom="台",
                 key=f"ev-{i}"),
        ]
    # rework: unit 4 goes back through a repair operation into a new unit, twice over the same pair
    es += [Edge("unit:SN-0004", "consumedBy", "op:RW-1", time=at(4)),
           Edge("unit:SN-0004", "consumedBy", "op:RW-1", time=at(4, 9), key="second"),
           Edge("op:RW-1", "produces", "unit:SN-0004R", time=at(4, 10)),
           Edge("shipment:SH-1", "shippedTo", "customer:C-SAIC", time=at(6)),
           Edge("shipment:SH-2", "shippedTo", "customer:C-GAC", time=at(6))]
    for k in range(30):  # the press is a context hub: other units made on it never join a trace
        es += [Edge(f"op:X-{k}", "produces", f"unit:X-{k}", time=at(7), quantity=1),
               Edge(f"op:X-{k}", "performedOn", "equipment:PRESS-02")]
    return Batch(source="test:neo4j-plant", nodes=ns, edges=es)


def random_plant(seed: int, items: int = 70, ops: int = 45) -> Batch:
    """A seeded random material graph with cycles, parallel edges, unknown quantities and context."""
    rng = random.Random(seed)
    lots = [f"lot:Q{i}" for i in range(items)]
    steps = [f"op:Q{i}" for i in range(ops)]
    es = [Edge(f"supplier:V{i % 5}", "supplies", lot, quantity=rng.choice([None, 50.0, 80.0]), uom="kg",
               time=rng.choice([None, at(1)])) for i, lot in enumerate(lots[: items // 3])]
    for n, a in enumerate(lots + steps):
        for b in rng.sample(lots + steps, 3):
            if a.startswith("lot") != b.startswith("lot"):
                rel = "consumedBy" if a.startswith("lot") else "produces"
                when = rng.choice([None, at(1) + timedelta(hours=rng.randint(0, 90))])
                es.append(Edge(a, rel, b, time=when, quantity=rng.choice([None, 1.0, 2.5, 10.0]),
                               uom=rng.choice([None, "kg"]), key=str(n % 2)))
    es += [Edge(op, "performedOn", f"equipment:E{rng.randint(0, 2)}") for op in steps]
    es += [Edge(op, "measured", "param:T", attrs={"value": rng.random()}) for op in rng.sample(steps, 10)]
    es += [Edge(f"inspection:I{i}", "inspects", lot, time=at(2)) for i, lot in enumerate(rng.sample(lots, 8))]
    es += [Edge(lot, "shippedIn", f"shipment:S{i % 3}", quantity=1.0)
           for i, lot in enumerate(rng.sample(lots, 9))]
    es += [Edge(f"shipment:S{i}", "shippedTo", f"customer:K{i % 2}") for i in range(3)]
    ns = [Node(f"inspection:I{i}", name=f"检验 {i}", attrs={"result": rng.choice(["pass", "fail"])})
          for i in range(8)]
    return Batch(source=f"test:neo4j-random-{seed}", nodes=ns, edges=es)


class StoreSource:
    """The backend's ``Source`` answered from the store, as the ``expand:*`` Cypher statements answer it.

    Handles are opaque (``h`` + store id), as element ids are, so the backend cannot mistake them for uids.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self.roles = roles(store.ontology)
        self.calls: list[tuple[str, list[str]]] = []

    def _node(self, row: Any) -> NodeRow:
        return NodeRow(f"h{row.id}", row.id, row.uid, row.kind, row.name, json.loads(row.attrs))

    def find(self, uid: str) -> NodeRow | None:
        self.store.ontology.kind_of_uid(uid)  # as the Cypher source: a uid must name its kind's label
        with self.store.engine.connect() as conn:
            row = conn.execute(sa.select(nodes).where(nodes.c.uid == uid)).first()
        return None if row is None else self._node(row)

    def expand(self, role: str, handles: list[str]) -> tuple[list[EdgeRow], list[NodeRow]]:
        self.calls.append((role, handles))
        relations, direction = self.roles[role]
        found_edges, found_nodes = [], []
        with self.store.engine.connect() as conn:
            for handle in handles:
                me = int(handle[1:])
                sides = {"out": [edges.c.src == me], "in": [edges.c.dst == me],
                         "both": [edges.c.src == me, edges.c.dst == me]}[direction]
                q = sa.select(edges).where(sa.or_(*sides), edges.c.rel.in_(relations),
                                           edges.c.retracted.is_(None))
                for e in conn.execute(q).mappings():
                    other = e["dst"] if e["src"] == me else e["src"]
                    found_edges.append(EdgeRow(e["id"], e["rel"], f"h{e['src']}", f"h{e['dst']}", e["key"],
                                               e["t"], e["qty"], e["uom"], json.loads(e["attrs"])))
                    row = conn.execute(sa.select(nodes).where(nodes.c.id == other)).one()
                    found_nodes.append(self._node(row))
        return found_edges, found_nodes


def same(a: Any, b: Any) -> None:
    """Equal JSON forms, the timing aside."""
    da, db = a.to_dict(), b.to_dict()
    da.get("stats", {}).pop("ms", None), db.get("stats", {}).pop("ms", None)
    assert da == db


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(str(tmp_path / "z.db"))
    s.ingest(plant())
    return s


def test_traces_equal_the_engine(store: Store) -> None:
    engine, source, onto = Engine.load(store), StoreSource(store), store.ontology
    cases: list[tuple[str, dict[str, Any]]] = [
        ("unit:SN-0001", {}), ("unit:SN-0004R", {}), ("lot:CG2403-01", {"direction": "forward"}),
        ("supplier:SUP-ZC", {"direction": "forward"}), ("customer:C-SAIC", {}),
        ("lot:CG2403-01", {"direction": "forward", "depth": 2}), ("unit:SN-0003", {"depth": 0}),
        ("lot:CG2403-01", {"direction": "forward", "since": at(2, 2), "until": at(5)}),
        ("customer:C-GAC", {"until": at(3, 2)}), ("unit:SN-0002", {"kinds": ["Supplier", "MaterialLot"]}),
    ]
    for ref, options in cases:
        expected = trace(engine, ref, **options)
        assert expected.nodes, (ref, options)
        same(trace_on(source, onto, ref, store=store, **options), expected)
    full = trace_on(source, onto, "unit:SN-0001", store=store)
    assert full.node("lot:CG2403-01").received == 4 and full.node("lot:CG2403-01").uom == "片"
    step = full.step("op:AS-1")
    assert [r.name for r in step.equipment] == ["2号压装机"] and step.parameters[0].value == 11.5
    assert full.node("unit:SN-0001").inspections[0].defect_code == "D-ABN"


def test_hub_and_customers_are_not_expanded(store: Store) -> None:
    source = StoreSource(store)
    result = trace_on(source, store.ontology, "lot:CG2403-01", direction="forward", store=store)
    uid = {f"h{store.node(u).id}": u for u in result.uids}
    # forward, all incoming edges are read only for the root and the operations (their inputs); a customer,
    # which every shipment points at, is asked only what created it
    full_in = sorted(uid[h] for role, handles in source.calls if role == "material:in" for h in handles)
    assert full_in == sorted(u for u in result.uids if u.startswith("op:") or u == "lot:CG2403-01")
    assert "customer:C-SAIC" in {uid.get(h) for role, hs in source.calls if role == "creates:in" for h in hs}
    assert not any(role == "all:both" for role, _ in source.calls)
    assert not any(u.startswith("unit:X-") for u in trace_on(source, store.ontology, "unit:SN-0001").uids)


def test_alias_and_errors(store: Store) -> None:
    source, onto = StoreSource(store), store.ontology
    assert trace_on(source, onto, GTIN, store=store).root == "unit:SN-0001"
    with pytest.raises(NotFound):
        trace_on(source, onto, "unit:SN-9999", store=store)
    with pytest.raises(BadInput):
        trace_on(source, onto, "unit:SN-0001", direction="sideways")
    with pytest.raises(BadInput):
        trace_on(source, onto, "unit:SN-0001", depth=-1)
    with pytest.raises(BadInput):
        paths_on(source, onto, "unit:SN-0001", "lot:ZC2403-01", k=0)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_random_plants_equal_the_engine(tmp_path: Path, seed: int) -> None:
    store = Store(str(tmp_path / "z.db"))
    store.ingest(random_plant(seed))
    store.ingest(Batch(source="test:retract", retract=["1"]))  # half the flow edges are withdrawn
    engine, source, onto = Engine.load(store), StoreSource(store), store.ontology
    rng = random.Random(seed)
    uids = sorted(engine.uid(i) for i in range(engine.num_nodes))
    for ref in rng.sample([u for u in uids if u.startswith(("lot:", "op:"))], 8):
        for options in ({}, {"direction": "forward"}, {"depth": rng.randint(0, 3)},
                        {"direction": "forward", "since": at(1, 20), "until": at(3, 10)}):
            same(trace_on(source, onto, ref, **options), trace(engine, ref, **options))


def test_paths_equal_the_engine(store: Store) -> None:
    engine, source, onto = Engine.load(store), StoreSource(store), store.ontology
    for a, b, k, material_only in [
        ("unit:SN-0001", "supplier:SUP-CG", 1, True), ("unit:SN-0001", "equipment:PRESS-02", 1, False),
        ("unit:SN-0002", "customer:C-SAIC", 3, True), ("lot:ZC2403-01", "lot:ZC2403-01", 2, False),
        ("unit:SN-0001", "material:M-CG", 2, True),  # not joined by material flow: no path
    ]:
        expected = k_paths(engine, a, b, k=k, material_only=material_only)
        got = paths_on(source, onto, a, b, k, material_only=material_only, store=store)
        assert [p.length for p in got.paths] == [p.length for p in expected.paths], (a, b)
        if len(expected.paths) <= 1:
            same(got, expected)
    assert paths_on(source, onto, GTIN, "supplier:SUP-CG", 1, store=store).source == "unit:SN-0001"


@pytest.mark.parametrize("seed", [5, 6])
def test_random_paths_have_the_engines_lengths(tmp_path: Path, seed: int) -> None:
    store = Store(str(tmp_path / "z.db"))
    store.ingest(random_plant(seed, items=40, ops=25))
    engine, source, onto = Engine.load(store), StoreSource(store), store.ontology
    rng = random.Random(seed)
    uids = sorted(engine.uid(i) for i in range(engine.num_nodes))
    for _ in range(6):
        a, b = rng.sample(uids, 2)
        for material_only in (True, False):
            expected = k_paths(engine, a, b, k=3, material_only=material_only)
            got = paths_on(source, onto, a, b, 3, material_only=material_only)
            assert [p.length for p in got.paths] == [p.length for p in expected.paths], (a, b, material_only)
            for route in got.paths:
                walk = [n.uid for n in route.nodes]
                assert walk[0] == a and walk[-1] == b and len(set(walk)) == len(walk)


def test_ontology_roles_cover_every_relation() -> None:
    onto = load()
    covered = {r for rels, _ in roles(onto).values() for r in rels}
    assert covered == set(onto.relations)


def test_backend_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ZHUISU_GRAPH_BACKEND", raising=False)
    assert not use_neo4j()
    monkeypatch.setenv("ZHUISU_GRAPH_BACKEND", "neo4j")
    assert use_neo4j()
    monkeypatch.setenv("ZHUISU_GRAPH_BACKEND", "networkx")
    with pytest.raises(BadInput, match="rustworkx, neo4j"):
        use_neo4j()

"""The store on SQLite and PostgreSQL: atomic, idempotent batches, aliases, retractions, clear errors."""

from __future__ import annotations

from datetime import datetime

import pytest

from zhuisu.errors import BadInput, NotFound, UnknownKind
from zhuisu.graph.store import Store
from zhuisu.ingest.records import Batch, Edge, Node

DL = "https://id.gs1.org/01/06901234000017/21/SN-M2311-00042"


def plant_batch() -> Batch:
    t = datetime(2023, 11, 3, 8, 15)
    return Batch(
        source="test",
        nodes=[
            Node("supplier:SUP-03", name="宁波恒磁磁业有限公司"),
            Node("lot:CG2311-0007", name="磁钢 CG2311-0007", attrs={"quantity": 1000.0, "uom": "ea"}),
            Node("unit:SN-M2311-00042", name="电机 SN-M2311-00042", aliases=(DL,)),
            Node("equipment:PRESS-02", kind="EquipmentUnit", name="2号压装机", aliases=("2号压装机", "#2压机")),
            Node("op:PF-00042", name="压装", attrs={"step": "压装"}),
        ],
        edges=[
            Edge("supplier:SUP-03", "supplies", "lot:CG2311-0007", quantity=1000, uom="ea"),
            Edge("lot:CG2311-0007", "consumedBy", "op:PF-00042", time=t, quantity=2, uom="ea"),
            Edge("op:PF-00042", "produces", "unit:SN-M2311-00042", time=t, quantity=1, uom="ea"),
            Edge("op:PF-00042", "performedOn", "equipment:PRESS-02", time=t),
            Edge("op:PF-00042", "performedBy", "operator:OP017"),  # stub: kind from the uid prefix
        ],
    )


def test_batch_materialises_nodes_edges_and_stubs(store: Store) -> None:
    result = store.ingest(plant_batch())
    assert not result.skipped
    assert (result.nodes_added, result.edges_added) == (6, 5)
    assert store.counts() == {"batches": 1, "nodes": 6, "aliases": 3, "edges": 5}
    assert store.node("operator:OP017").kind == "Operator"
    press = store.node("#2压机")
    assert (press.uid, press.kind, press.name) == ("equipment:PRESS-02", "EquipmentUnit", "2号压装机")
    assert store.node(DL).uid == "unit:SN-M2311-00042"
    lot = store.node("lot:CG2311-0007")
    assert lot.attrs == {"quantity": 1000.0, "uom": "ea"}


def test_same_batch_twice_changes_nothing(store: Store) -> None:
    first = store.ingest(plant_batch())
    again = store.ingest(plant_batch())
    assert again.skipped and again.batch == first.batch
    assert store.counts()["batches"] == 1


def test_same_data_in_other_batches_changes_nothing(store: Store) -> None:
    store.ingest(plant_batch())
    before = store.counts()
    b = plant_batch()
    halves = [Batch("a", nodes=b.nodes[:2], edges=b.edges[:3]), Batch("b", nodes=b.nodes[2:], edges=b.edges[2:])]
    results = [store.ingest(h) for h in halves]
    assert all(r.edges_added == 0 and r.nodes_added == 0 for r in results)
    after = store.counts()
    assert after["nodes"] == before["nodes"] and after["edges"] == before["edges"]


def test_alias_merges_records_from_two_sources(store: Store) -> None:
    store.ingest(plant_batch())
    epcis_view = Batch(
        "epcis",
        nodes=[Node("unit:06901234000017.SN-M2311-00042", kind="SerialUnit", aliases=(DL,))],
        edges=[Edge("unit:06901234000017.SN-M2311-00042", "containedIn", "lu:069012340000000123", key="ev1")],
    )
    store.ingest(epcis_view)
    assert store.node("unit:06901234000017.SN-M2311-00042").uid == "unit:SN-M2311-00042"
    unit_id = store.node("unit:SN-M2311-00042").id
    assert any(r.src == unit_id and r.rel == "containedIn" for r in store.edge_rows())


def test_a_merged_record_sent_again_in_another_batch_changes_nothing(store: Store) -> None:
    """The second EPCIS file naming a unit under its GS1 uid finds that uid as an alias, not a new one."""
    store.ingest(plant_batch())
    for key in ("aggregation", "shipping"):
        view = Node("unit:06901234000017.SN-M2311-00042", kind="SerialUnit", aliases=(DL,))
        store.ingest(Batch(key, nodes=[view], edges=[Edge(view.uid, "containedIn", "lu:069012340000000123", key=key)]))
    assert store.node("unit:06901234000017.SN-M2311-00042").uid == "unit:SN-M2311-00042"
    assert store.counts()["aliases"] == 4


def test_changed_master_data_updates_the_node(store: Store) -> None:
    store.ingest(plant_batch())
    result = store.ingest(Batch("fix", nodes=[Node("supplier:SUP-03", name="宁波恒磁磁业股份有限公司")]))
    assert result.nodes_updated == 1
    assert store.node("supplier:SUP-03").name == "宁波恒磁磁业股份有限公司"
    assert [r.uid for r in store.node_rows(since=result.batch - 1)] == ["supplier:SUP-03"]


@pytest.mark.parametrize(
    ("batch", "error", "words"),
    [
        (Batch("x", edges=[Edge("lot:A", "madeOf", "op:1")]), BadInput, ["edge #1", "madeOf", "consumedBy"]),
        (Batch("x", edges=[Edge("lot:A", "produces", "op:1")]), BadInput, ["edge #1", "produces", "MaterialLot"]),
        (Batch("x", nodes=[Node("gadget:1")]), UnknownKind, ["gadget", "lot"]),
        (Batch("x", nodes=[Node("lot:1", kind="Customer")]), BadInput, ["node #1", "Customer", "MaterialLot"]),
        (Batch("x", nodes=[Node("lot:1", kind="Widget")]), UnknownKind, ["Widget"]),
    ],
)
def test_bad_batch_is_rejected_whole(store: Store, batch: Batch, error: type[Exception], words: list[str]) -> None:
    store.ingest(plant_batch())
    before = store.counts()
    batch.nodes.append(Node("customer:C1", name="先被接受的节点"))  # would be valid on its own
    with pytest.raises(error) as info:
        store.ingest(batch)
    message = str(info.value)
    assert "\n" not in message
    for word in words:
        assert word in message
    assert store.counts() == before
    with pytest.raises(NotFound):
        store.node("customer:C1")


def test_alias_conflict_is_an_error(store: Store) -> None:
    store.ingest(plant_batch())
    with pytest.raises(BadInput, match="#2压机"):
        store.ingest(Batch("x", nodes=[Node("equipment:PRESS-03", aliases=("#2压机",))]))


def test_retraction_withdraws_and_stays_withdrawn(store: Store) -> None:
    event = Batch("ev", edges=[Edge("unit:SN-1", "containedIn", "lu:1", key="urn:uuid:e1")])
    store.ingest(event)
    result = store.ingest(Batch("err", retract=["urn:uuid:e1"]))
    assert result.edges_retracted == 1
    assert store.counts()["edges"] == 0
    assert [r.id for r in store.edge_rows()] == []
    assert len(store.retracted_edge_ids(since=result.batch - 1)) == 1
    replay = Batch("ev-again", edges=[Edge("unit:SN-1", "containedIn", "lu:1", key="urn:uuid:e1")], key="other")
    assert store.ingest(replay).edges_added == 0
    assert store.counts()["edges"] == 0


def test_ingest_log_keeps_every_acknowledged_payload(store: Store) -> None:
    import zlib

    import sqlalchemy as sa

    from zhuisu.graph.schema import ingest_log

    batch = plant_batch()
    result = store.ingest(batch)
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(ingest_log).where(ingest_log.c.id == result.batch)).one()
    assert row.source == "test" and row.key == result.key and row.received_at > 0
    assert zlib.decompress(row.payload) == batch.to_json()


def test_unknown_reference_without_prefix_is_an_error(store: Store) -> None:
    with pytest.raises(UnknownKind, match="SN-9"):
        store.ingest(Batch("x", edges=[Edge("SN-9", "consumedBy", "op:1")]))


def test_bad_url_gives_a_clear_error(tmp_path) -> None:
    from zhuisu.errors import StoreError

    with pytest.raises(StoreError, match="cannot open store"):
        Store(f"sqlite:///{tmp_path}/missing-dir/z.db")


def test_bulk_batch_keeps_references_whole_and_foreign_keys_on(store: Store) -> None:
    """The writer skips SQLite's per-row foreign-key checks; every edge end must still name a stored node,
    and other connections must find the checks on."""
    from zhuisu.samples import bench_plant

    for batch in bench_plant.batches(250, seed=2, edges_per_batch=3_000):
        store.ingest(batch)
    with store.engine.connect() as conn:
        orphans = conn.exec_driver_sql(
            "SELECT count(*) FROM edges e LEFT JOIN nodes a ON a.id = e.src LEFT JOIN nodes b ON b.id = e.dst "
            "WHERE a.id IS NULL OR b.id IS NULL").scalar()
        assert orphans == 0
        if store.dialect == "sqlite":
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    assert store.counts()["edges"] == sum(len(b.edges) for b in bench_plant.batches(250, seed=2))


def test_canonical_records_and_their_key_are_pinned() -> None:
    """The idempotency key hashes the canonical JSON: a change to its form would make every batch sent again
    after an upgrade look new (and an API retry under the same key a conflict), so it changes only on purpose."""
    from datetime import timedelta, timezone

    t = datetime(2023, 11, 3, 8, 15, tzinfo=timezone(timedelta(hours=8)))
    later = datetime(2023, 11, 3, 9, tzinfo=timezone(timedelta(hours=1)))
    batch = Batch(
        "test",
        nodes=[Node("lot:CG-7", name="磁钢", attrs={"uom": "ea", "quantity": 1000.0}, aliases=("#7",))],
        edges=[
            Edge("lot:CG-7", "consumedBy", "op:PF-42", time=t, quantity=2.5, uom="ea", attrs={"温度": 81.5, "at": t}),
            Edge("op:PF-42", "produces", "unit:SN-42", time=later),
            Edge("op:PF-42", "measured", "param:P1", key="r1"),
        ],
        retract=["urn:uuid:e1"],
    )
    assert batch.to_json().decode() == (
        '{"edges":[["lot:CG-7","consumedBy","op:PF-42",1698970500000,2.5,"ea","",'
        '{"at":"2023-11-03 08:15:00+08:00","温度":81.5}],["op:PF-42","produces","unit:SN-42",1698998400000,'
        'null,null,"",{}],["op:PF-42","measured","param:P1",null,null,null,"r1",{}]],'
        '"nodes":[["lot:CG-7",null,"磁钢",{"quantity":1000.0,"uom":"ea"},["#7"]]],"retract":["urn:uuid:e1"]}'
    )
    assert batch.idempotency_key() == "sha256:200857866ceddce08dae52f426debc9f5cfc68ade8b4c1cddf718290e163408e"


def test_an_edge_repeated_in_one_batch_is_stored_once_as_first_sent(store: Store) -> None:
    """The writer works column by column; the first of two edges with one identity still wins, counted once."""
    import json

    edges = [
        Edge("op:9", "produces", "lot:9", quantity=1.0),
        Edge("lot:2", "consumedBy", "op:9", quantity=5.0, attrs={"批注": "先", "at": datetime(2024, 1, 2)}),
        Edge("lot:1", "consumedBy", "op:9", quantity=3.0),
        Edge("lot:2", "consumedBy", "op:9", quantity=7.0, attrs={"批注": "后"}),
    ]
    result = store.ingest(Batch("x", edges=edges))
    assert result.edges_added == 3 and store.counts()["edges"] == 3
    rows = store.edge_details(r.id for r in store.edge_rows())
    by_src = {store.nodes_by_id([r.src])[r.src].uid: r for r in rows.values()}
    assert by_src["lot:2"].qty == 5.0
    assert json.loads(by_src["lot:2"].attrs) == {"at": "2024-01-02 00:00:00", "批注": "先"}
    assert store.ingest(Batch("y", edges=edges[::-1])).edges_added == 0


def test_an_error_names_the_edge_as_sent_when_withdrawn_edges_come_first(store: Store) -> None:
    store.ingest(Batch("err", retract=["urn:uuid:gone"]))
    batch = Batch("x", edges=[Edge("unit:SN-1", "containedIn", "lu:1", key="urn:uuid:gone"),
                              Edge("lot:A", "consumedBy", "op:1"), Edge("lot:A", "produces", "op:1")])
    with pytest.raises(BadInput, match="edge #3"):
        store.ingest(batch)


def test_many_rows_per_statement_keep_the_first_of_a_repeated_edge(store: Store) -> None:
    """On SQLite rows go in 500 to a statement; a repeat of an edge in a later statement, or in the short last
    one, is ignored as it would be one by one."""
    import sqlalchemy as sa

    from zhuisu.graph.schema import edges

    def edge(i: int, quantity: float) -> Edge:
        return Edge(f"lot:L{i:04d}", "consumedBy", "op:OP-1", quantity=quantity)

    sent = [edge(i, i) for i in range(600)] + [edge(5, -1)] + [edge(i, i) for i in range(600, 1200)]
    sent += [edge(700, -1), edge(5, -1)]
    result = store.ingest(Batch("rows", edges=sent))
    assert result.edges_added == 1200 and result.nodes_added == 1201
    with store.engine.connect() as conn:
        stored = list(conn.execute(sa.select(edges.c.qty).order_by(edges.c.id)).scalars())
    assert stored == [float(i) for i in range(1200)]


def test_canonical_records_of_any_mapping_are_those_of_the_dict() -> None:
    from types import MappingProxyType

    attrs = {"温度": 81.5, "at": datetime(2024, 1, 2)}
    as_dict = Batch("m", edges=[Edge("lot:1", "consumedBy", "op:1", attrs=attrs), Edge("lot:2", "consumedBy", "op:1")])
    as_proxy = Batch("m", edges=[Edge("lot:1", "consumedBy", "op:1", attrs=MappingProxyType(attrs)),
                                 Edge("lot:2", "consumedBy", "op:1")])
    assert as_proxy.to_json() == as_dict.to_json()
    assert as_proxy.idempotency_key() == as_dict.idempotency_key()

"""SQL pull against the real PostgreSQL server: a test MES schema, rows inserted while the poller runs, each row
committed exactly once, and a restarted poller resuming from its saved watermark."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from zhuisu.errors import BadInput
from zhuisu.graph.schema import edges, nodes
from zhuisu.graph.store import Store
from zhuisu.ingest.connectors import state
from zhuisu.ingest.connectors.sql import SqlConnector, load_mapping, parse_mapping

pytestmark = pytest.mark.postgres

MAPPING = """\
name = "mes"
interval = 0.05

[[pull]]
table = "operations"
from = "{schema}.op_log"
watermark = "updated_at"
key = "id"
batch = 40
columns = {{ operation_id = "op_no", step = "step", started_at = "start_ts", equipment_id = "machine" }}
values = {{ step = {{ "10" = "绕线", "20" = "压装" }} }}
"""


@pytest.fixture
def mes(pg_database: str) -> Iterator[tuple[sa.Engine, str]]:
    """A test MES schema on the PostgreSQL server, with an operation log table."""
    schema = f"mes_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(pg_database)
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
        conn.execute(sa.text(f"""CREATE TABLE {schema}.op_log (
            id SERIAL PRIMARY KEY, op_no TEXT NOT NULL, step TEXT, start_ts TIMESTAMP, machine TEXT,
            updated_at TIMESTAMP NOT NULL DEFAULT clock_timestamp())"""))
    yield engine, schema
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    engine.dispose()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(str(tmp_path / "z.db"))
    yield s
    s.close()


def insert(engine: sa.Engine, schema: str, first: int, count: int, *, tie: bool = False) -> None:
    """``count`` operations numbered from ``first``, in one statement; ``tie`` gives them one updated_at."""
    rows = [{"op": f"OP-{n:05d}", "step": "10" if n % 2 else "20", "start": datetime(2023, 11, 3, 8, n % 60),
             "machine": f"PRESS-0{n % 4 + 1}"} for n in range(first, first + count)]
    stamp = "now()" if tie else "clock_timestamp()"  # now() is one time per transaction
    with engine.begin() as conn:
        conn.execute(sa.text(f"INSERT INTO {schema}.op_log (op_no, step, start_ts, machine, updated_at) "
                             f"VALUES (:op, :step, :start, :machine, {stamp})"), rows)


def operations(store: Store) -> dict[str, str]:
    with store.engine.connect() as conn:
        return dict(conn.execute(sa.select(nodes.c.uid, nodes.c.name).where(nodes.c.kind == "Operation")).all())


def wait_for(check: object, timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_rows_inserted_while_polling_land_exactly_once_and_a_restart_resumes(
        mes: tuple[sa.Engine, str], store: Store, pg_database: str, tmp_path: Path) -> None:
    engine, schema = mes
    mapping = tmp_path / "mes.toml"
    mapping.write_text(MAPPING.format(schema=schema), encoding="utf-8")
    insert(engine, schema, 0, 25)
    poller = SqlConnector(store, mapping, url=pg_database)
    poller.start()

    def producer() -> None:  # rows keep arriving while the poller runs, some sharing a watermark
        n = 25
        for i in range(60):
            size = 1 + i % 7
            insert(engine, schema, n, size, tie=i % 3 == 0)
            n += size
            time.sleep(0.01)

    thread = threading.Thread(target=producer)
    thread.start()
    thread.join()
    with engine.connect() as conn:
        total = conn.execute(sa.text(f"SELECT count(*) FROM {schema}.op_log")).scalar_one()
    wait_for(lambda: poller.stats.rows >= total)
    time.sleep(0.3)  # a few more polls: nothing may be read twice
    poller.stop()
    assert poller.stats.rows == total and poller.stats.rejected == 0 and poller.stats.errors == 0
    found = operations(store)
    assert len(found) == total == len({f"op:OP-{n:05d}" for n in range(total)} & set(found))
    assert {found["op:OP-00001"], found["op:OP-00002"]} == {"绕线", "压装"}  # values translated
    with store.engine.connect() as conn:
        performed = conn.execute(sa.select(sa.func.count()).select_from(edges).where(edges.c.rel == "performedOn"))
        assert performed.scalar_one() == total
    saved = state.load(store, "sql:mes:operations")
    assert saved.rows == total and isinstance(saved.watermark, datetime)

    # a new poller (as after a restart) reads only what came after the saved watermark
    insert(engine, schema, total, 30)
    insert(engine, schema, total + 30, 5, tie=True)
    restarted = SqlConnector(store, mapping, url=pg_database)
    assert restarted.poll() == 35
    assert restarted.poll() == 0
    assert len(operations(store)) == total + 35
    assert state.load(store, "sql:mes:operations").rows == total + 35
    restarted.stop()


def test_unreadable_rows_are_skipped_and_counted(mes: tuple[sa.Engine, str], store: Store, pg_database: str) -> None:
    engine, schema = mes
    insert(engine, schema, 0, 3)
    with engine.begin() as conn:  # a row without its required started_at
        conn.execute(sa.text(f"INSERT INTO {schema}.op_log (op_no, step, machine) VALUES ('OP-BAD', '10', 'X')"))
    insert(engine, schema, 3, 2)
    mapping = parse_mapping({"name": "mes", "pull": [{
        "table": "operations", "from": f"{schema}.op_log", "watermark": "id",
        "columns": {"operation_id": "op_no", "step": "step", "started_at": "start_ts", "equipment_id": "machine"}}]})
    poller = SqlConnector(store, mapping, url=pg_database)
    assert poller.poll() == 6
    assert poller.stats.rejected == 1 and len(operations(store)) == 5
    assert state.load(store, "sql:mes:operations").watermark == 6  # past the bad row: it does not block the rest
    poller.stop()


def test_a_source_that_does_not_answer_is_retried_without_crashing(store: Store) -> None:
    mapping = parse_mapping({"interval": 0.05, "pull": [{"table": "operations", "from": "op_log",
                                                         "watermark": "id"}]})
    poller = SqlConnector(store, mapping, url="postgresql+psycopg://nobody@127.0.0.1:1/none")
    poller.start()
    wait_for(lambda: poller.stats.errors >= 2)
    assert poller.running and "OperationalError" in (poller.stats.last_error or "")
    poller.stop()


def test_mapping_errors_say_what_to_fix(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="watermark"):
        parse_mapping({"pull": [{"table": "operations", "from": "t"}]})
    with pytest.raises(BadInput, match="did you mean 'operations'"):
        parse_mapping({"pull": [{"table": "operation", "from": "t", "watermark": "w"}]})
    with pytest.raises(BadInput, match="required column"):
        parse_mapping({"pull": [{"table": "operations", "from": "t", "watermark": "w",
                                 "columns": {"operation_id": "a"}}]})
    with pytest.raises(BadInput, match="either from"):
        parse_mapping({"pull": [{"table": "operations", "watermark": "w"}]})
    bad = tmp_path / "bad.toml"
    bad.write_text("[[pull]\n", encoding="utf-8")
    with pytest.raises(BadInput, match="malformed TOML"):
        load_mapping(bad)

"""The API's own tables (keys, EPCIS events, capture jobs), kept in the store's database beside its graph.

They have their own ``MetaData`` so that the graph schema stays the store's alone; ``create(store)`` makes
them on first use, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, LargeBinary, MetaData, String, Table, Text
from sqlalchemy.engine import Connection

from zhuisu.graph.store import Store

metadata = MetaData()

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(16), primary_key=True),  # the public part of the key, shown in lists and logs
    Column("name", Text, nullable=False),
    Column("scopes", String(40), nullable=False),  # comma-separated: read, ingest, admin
    Column("hash", Text, nullable=False),  # scrypt$n$r$p$salt$digest of the secret part
    Column("created_at", BigInteger, nullable=False),  # epoch ms
    Column("revoked_at", BigInteger),
)

# One row per captured EPCIS event, as stored and as it is queried back; the graph holds what it means.
epcis_events = Table(
    "epcis_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(400), nullable=False),
    Column("digest", String(64), nullable=False, unique=True),  # sha-256 of the stored event: re-capture is a no-op
    Column("event_type", String(60), nullable=False),
    Column("event_time", BigInteger, nullable=False),  # epoch ms
    Column("record_time", BigInteger, nullable=False),
    Column("action", String(10)),
    Column("biz_step", String(300)),
    Column("disposition", String(300)),
    Column("read_point", String(400)),
    Column("biz_location", String(400)),
    Column("error_declared", Integer, nullable=False, default=0),
    Column("capture_id", String(40), nullable=False),
    Column("batch", Integer),  # the store batch that materialised it
    Column("body", LargeBinary, nullable=False),  # the event as JSON (UTF-8)
    Index("ix_epcis_events_time", "event_time"),
    Index("ix_epcis_events_type_time", "event_type", "event_time"),
    Index("ix_epcis_events_biz_step", "biz_step"),
    Index("ix_epcis_events_event_id", "event_id"),
)

# Identifiers an event names, by role, normalised (a GS1 URN and its Digital Link give the same value).
epcis_event_ids = Table(
    "epcis_event_ids",
    metadata,
    Column("event", Integer, ForeignKey("epcis_events.id"), nullable=False),
    Column("role", String(12), nullable=False),  # epc, parent, input, output, class, input_class, output_class
    Column("value", String(400), nullable=False),
    Index("ix_epcis_event_ids_value", "value", "role"),
    Index("ix_epcis_event_ids_event", "event"),
)

capture_jobs = Table(
    "epcis_capture_jobs",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),  # creation order, for paging
    Column("id", String(40), nullable=False, unique=True),
    Column("created_at", BigInteger, nullable=False),
    Column("finished_at", BigInteger),
    Column("running", Integer, nullable=False),
    Column("success", Integer, nullable=False),
    Column("behaviour", String(10), nullable=False),
    Column("events", Integer, nullable=False, default=0),
    Column("captured", Integer, nullable=False, default=0),
    Column("batch", Integer),
    Column("errors", Text, nullable=False, default="[]"),  # JSON list of problem objects
)


def create(store: Store) -> None:
    """Make the API's tables in the store's database where they are missing."""
    metadata.create_all(store.engine)


def now_ms() -> int:
    """The time now in epoch milliseconds."""
    return int(time.time() * 1000)


@contextmanager
def writing(store: Store) -> Iterator[Connection]:
    """A write transaction; on SQLite it takes the write lock at once (``BEGIN IMMEDIATE``), as the store does,
    so that two writers queue instead of failing."""
    with store.engine.connect() as conn, conn.execution_options(immediate=True).begin():
        yield conn

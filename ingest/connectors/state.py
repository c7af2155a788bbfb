"""Where each connector got to, kept in the store's database so that a restarted connector resumes there."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import BigInteger, Column, MetaData, String, Table, Text

from zhuisu.graph.store import Store

metadata = MetaData()

connector_state = Table(
    "connector_state",
    metadata,
    Column("name", String(200), primary_key=True),  # connector:pull
    Column("watermark", Text),  # JSON, typed (see encode)
    Column("key", Text),
    Column("rows", BigInteger, nullable=False, default=0),
    Column("updated_at", BigInteger, nullable=False),
)


@dataclass(frozen=True, slots=True)
class Position:
    """The last row a pull committed: its watermark and tie-breaking key values, and how many rows so far."""

    watermark: Any = None
    key: Any = None
    rows: int = 0


def encode(value: Any) -> str | None:
    """A watermark value as typed JSON, so that it binds back as the same type (a timestamp, not text)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return json.dumps({"datetime": value.isoformat()})
    if isinstance(value, date):
        return json.dumps({"date": value.isoformat()})
    if isinstance(value, Decimal):
        return json.dumps({"decimal": str(value)})
    if isinstance(value, bool | int | float | str):
        return json.dumps({"value": value})
    return json.dumps({"value": str(value)})


def decode(text: str | None) -> Any:
    if text is None:
        return None
    item = json.loads(text)
    if "datetime" in item:
        return datetime.fromisoformat(item["datetime"])
    if "date" in item:
        return date.fromisoformat(item["date"])
    if "decimal" in item:
        return Decimal(item["decimal"])
    return item["value"]


def load(store: Store, name: str) -> Position:
    metadata.create_all(store.engine)
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(connector_state).where(connector_state.c.name == name)).first()
    if row is None:
        return Position()
    return Position(decode(row.watermark), decode(row.key), int(row.rows))


def save(store: Store, name: str, position: Position) -> None:
    import time

    values = {"watermark": encode(position.watermark), "key": encode(position.key), "rows": position.rows,
              "updated_at": int(time.time() * 1000)}
    with store.engine.connect() as conn, conn.execution_options(immediate=True).begin():
        done = conn.execute(connector_state.update().where(connector_state.c.name == name).values(**values))
        if not done.rowcount:
            conn.execute(connector_state.insert().values(name=name, **values))

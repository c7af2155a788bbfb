"""Tables of the store (SQLAlchemy Core), the same on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

SCHEMA_VERSION = "1"

metadata = MetaData()

# Append-only: one row per acknowledged batch, written in the batch's own transaction.
ingest_log = Table(
    "ingest_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("source", Text, nullable=False),
    Column("key", String(200), nullable=False, unique=True),
    Column("payload", LargeBinary, nullable=False),
    Column("received_at", BigInteger, nullable=False),
    Column("nodes", Integer, nullable=False),
    Column("edges", Integer, nullable=False),
    Column("retracted", Integer, nullable=False),
)

nodes = Table(
    "nodes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("uid", String(400), nullable=False, unique=True),
    Column("kind", String(40), nullable=False),
    Column("name", Text),
    Column("attrs", Text, nullable=False, default="{}"),
    Column("batch", Integer, nullable=False),  # batch that created the node
    Column("updated", Integer, nullable=False),  # batch that last changed it
    Index("ix_nodes_updated", "updated"),
    Index("ix_nodes_kind", "kind"),
)

aliases = Table(
    "aliases",
    metadata,
    Column("alias", String(400), primary_key=True),
    Column("node", Integer, ForeignKey("nodes.id"), nullable=False),
    Index("ix_aliases_node", "node"),
)

edges = Table(
    "edges",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("src", Integer, ForeignKey("nodes.id"), nullable=False),
    Column("dst", Integer, ForeignKey("nodes.id"), nullable=False),
    Column("rel", String(40), nullable=False),
    Column("key", String(200), nullable=False, default=""),
    Column("t", BigInteger),  # epoch milliseconds
    Column("qty", Float),
    Column("uom", String(20)),
    Column("attrs", Text, nullable=False, default="{}"),
    Column("batch", Integer, nullable=False),
    Column("retracted", Integer),  # batch whose error declaration withdrew the edge
    UniqueConstraint("src", "dst", "rel", "key", name="uq_edges_identity"),
    Index("ix_edges_dst", "dst"),
    Index("ix_edges_batch", "batch"),
    # Partial indexes: most edges have no key and are never retracted, and bulk ingest should not pay for them.
    Index("ix_edges_key", "key", sqlite_where=sa.text("key <> ''"), postgresql_where=sa.text("key <> ''")),
    Index("ix_edges_retracted", "retracted", sqlite_where=sa.text("retracted IS NOT NULL"),
          postgresql_where=sa.text("retracted IS NOT NULL")),
)

# Edge keys withdrawn by an error declaration; an edge with such a key is never re-materialised.
retractions = Table(
    "retractions",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("batch", Integer, nullable=False),
)

meta = Table(
    "meta",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("value", Text, nullable=False),
)

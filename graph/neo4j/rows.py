"""Rows for Neo4j read from the store: nodes, live edges and retracted edges, in id order and in chunks.

Attributes become properties where Neo4j can hold them exactly (strings, integers, floats, booleans);
the rest, and any attribute named like a built-in field, go into one JSON string property ``attrs``,
so ``unflatten`` gives back exactly the stored attributes.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from zhuisu.graph.neo4j.cypher import EDGE_FIELDS, NODE_FIELDS
from zhuisu.graph.schema import edges, nodes
from zhuisu.graph.store import Store

CHUNK = 10_000  # rows per Neo4j transaction, as the Neo4j docs advise for UNWIND batches
_INT64 = 2**63


@dataclass(frozen=True, slots=True)
class Chunk:
    """Rows of one kind of change, and the store id of the last one (the resume cursor)."""

    rows: list[dict[str, Any]]
    last_id: int


def scalar(value: Any) -> bool:
    """Whether Neo4j stores ``value`` as a property exactly as it is."""
    if isinstance(value, float):
        return math.isfinite(value)  # NaN would make two equal graphs compare unequal
    if isinstance(value, bool | str):
        return True
    return isinstance(value, int) and -_INT64 <= value < _INT64


def flatten(attrs: Mapping[str, Any], reserved: Collection[str]) -> tuple[dict[str, Any], str | None]:
    """Split attributes into properties and the JSON of the rest (``None`` when nothing is left)."""
    props: dict[str, Any] = {}
    rest: dict[str, Any] = {}
    for key, value in attrs.items():
        if key and key not in reserved and scalar(value):
            props[key] = value
        else:
            rest[key] = value
            if key and key not in reserved:
                props[key] = None  # an attribute that was scalar before and is not now: drop the old property
    return props, (json.dumps(rest, ensure_ascii=False, sort_keys=True) if rest else None)


def unflatten(properties: Mapping[str, Any], reserved: Collection[str]) -> dict[str, Any]:
    """The attributes that ``flatten`` split into ``properties`` (a node's or relationship's)."""
    attrs = {k: v for k, v in properties.items() if k not in reserved}
    if properties.get("attrs"):
        attrs.update(json.loads(properties["attrs"]))
    return attrs


def node_row(sid: int, uid: str, kind: str, name: str | None, attrs_json: str | None) -> dict[str, Any]:
    """The parameters of one node for ``cypher.merge_nodes``."""
    props, rest = flatten(json.loads(attrs_json or "{}"), NODE_FIELDS)
    return {"sid": sid, "uid": uid, "kind": kind, "name": name, "props": props, "attrs": rest}


def edge_row(sid: int, src: str, dst: str, key: str, t: int | None, qty: float | None, uom: str | None,
             attrs_json: str | None) -> dict[str, Any]:
    """The parameters of one relationship for ``cypher.merge_edges``."""
    props, rest = flatten(json.loads(attrs_json or "{}"), EDGE_FIELDS)
    return {"sid": sid, "src": src, "dst": dst, "key": key, "t": t, "qty": qty, "uom": uom, "props": props,
            "attrs": rest}


def node_chunks(store: Store, *, since: int, after: int = 0, size: int = CHUNK) -> Iterator[Chunk]:
    """Nodes created or changed after batch ``since``, with store id above ``after``; rows carry ``kind``."""
    while True:
        q = (
            sa.select(nodes.c.id, nodes.c.uid, nodes.c.kind, nodes.c.name, nodes.c.attrs)
            .where(nodes.c.updated > since, nodes.c.id > after)
            .order_by(nodes.c.id)
            .limit(size)
        )
        with store.engine.connect() as conn:
            found = conn.execute(q).all()
        if not found:
            return
        after = found[-1].id
        yield Chunk([node_row(r.id, r.uid, r.kind, r.name, r.attrs) for r in found], after)


def _edge_query(columns: list[Any]) -> sa.Select[Any]:
    a, b = nodes.alias("a"), nodes.alias("b")
    return (
        sa.select(edges.c.id, edges.c.rel, a.c.uid.label("src"), a.c.kind.label("src_kind"),
                  b.c.uid.label("dst"), b.c.kind.label("dst_kind"), edges.c.key, *columns)
        .join(a, a.c.id == edges.c.src)
        .join(b, b.c.id == edges.c.dst)
    )


def edge_chunks(store: Store, *, since: int, upto: int, after: int = 0,
                size: int = CHUNK) -> Iterator[Chunk]:
    """Live edges added in batches ``since < batch <= upto``, with ``rel``, ``src_kind`` and ``dst_kind``."""
    while True:
        q = (
            _edge_query([edges.c.t.label("time"), edges.c.qty, edges.c.uom, edges.c.attrs])
            .where(edges.c.batch > since, edges.c.batch <= upto, edges.c.retracted.is_(None))
            .where(edges.c.id > after)
            .order_by(edges.c.id)
            .limit(size)
        )
        with store.engine.connect() as conn:
            found = conn.execute(q).all()
        if not found:
            return
        after = found[-1].id
        rows = [{"rel": r.rel, "src_kind": r.src_kind, "dst_kind": r.dst_kind,
                 **edge_row(r.id, r.src, r.dst, r.key, r.time, r.qty, r.uom, r.attrs)} for r in found]
        yield Chunk(rows, after)


def retraction_chunks(store: Store, *, since: int, upto: int, after: int = 0,
                      size: int = CHUNK) -> Iterator[Chunk]:
    """Edges withdrawn in batches ``since < retracted <= upto``: rel, kinds, src, dst and key."""
    while True:
        q = (
            _edge_query([])
            .where(edges.c.retracted > since, edges.c.retracted <= upto, edges.c.id > after)
            .order_by(edges.c.id)
            .limit(size)
        )
        with store.engine.connect() as conn:
            found = conn.execute(q).all()
        if not found:
            return
        after = found[-1].id
        yield Chunk([{"rel": r.rel, "src_kind": r.src_kind, "dst_kind": r.dst_kind, "src": r.src,
                      "dst": r.dst, "key": r.key} for r in found], after)

"""Canonical records: the only thing ingest adapters produce, and the only thing the store accepts."""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache, lru_cache
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from typing import Any
from zoneinfo import ZoneInfo

from zhuisu import config

_EMPTY: Mapping[str, Any] = {}


@dataclass(frozen=True, slots=True)
class Node:
    """A typed node; ``kind`` defaults to the kind its uid prefix names."""

    uid: str
    kind: str | None = None
    name: str | None = None
    attrs: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Edge:
    """A typed, optionally timed and quantified relation between two uids (or aliases).

    ``key`` tells apart repeated edges between the same two nodes (an event id, a reading
    number); an edge is identified by ``(src, rel, dst, key)``, so re-sending it changes nothing.
    """

    src: str
    rel: str
    dst: str
    time: datetime | None = None
    quantity: float | None = None
    uom: str | None = None
    key: str = ""
    attrs: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)


@dataclass(slots=True)
class Batch:
    """Records committed together: all of them or none, acknowledged after commit.

    ``retract`` lists edge keys (e.g. EPCIS event ids) whose edges an error declaration withdraws.
    """

    source: str
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    retract: list[str] = field(default_factory=list)
    key: str | None = None  # idempotency key; the content hash when not given

    def to_json(self, columns: EdgeColumns | None = None) -> bytes:
        """Canonical JSON of the records (sorted keys, UTF-8): the bytes the idempotency hash is taken of.

        ``columns`` are this batch's edges already read into columns (the store's writer reads them once for
        both); the bytes are the same either way (a tuple encodes as the list it stands for)."""
        cols = columns if columns is not None else EdgeColumns(self.edges)
        doc = {
            "nodes": [[n.uid, n.kind, n.name, _plain(n.attrs), list(n.aliases)] for n in self.nodes],
            "edges": list(zip(cols.src, cols.rel, cols.dst, cols.t, cols.qty, cols.uom, cols.key, cols.attrs,
                               strict=True)),
            "retract": self.retract,
        }
        return _canonical(doc).encode()

    def idempotency_key(self, body: bytes | None = None) -> str:
        """The caller's key, or ``sha256:`` of the canonical records."""
        if self.key:
            return self.key
        return "sha256:" + hashlib.sha256(body if body is not None else self.to_json()).hexdigest()

    def payload(self, body: bytes | None = None) -> bytes:
        """The compressed canonical records, as kept in the ingest log."""
        return zlib.compress(body if body is not None else self.to_json(), 1)


class EdgeColumns:
    """Edges read into columns once, each a C-level pass over the records: what the canonical JSON and the
    store's writer both take. ``t`` is epoch milliseconds; ``attrs`` are plain dicts."""

    __slots__ = ("src", "rel", "dst", "t", "qty", "uom", "key", "attrs")

    def __init__(self, items: list[Edge]) -> None:
        self.src = [e.src for e in items]
        self.rel = [e.rel for e in items]
        self.dst = [e.dst for e in items]
        self.t = list(map(epoch_ms, [e.time for e in items]))
        self.qty = [e.quantity for e in items]
        self.uom = [e.uom for e in items]
        self.key = [e.key for e in items]
        attrs = [e.attrs for e in items]
        if set(map(type, attrs)) - {dict}:  # any other mapping, as the JSON encoder takes it
            attrs = list(map(_plain, attrs))
        self.attrs: list[dict[str, Any]] = attrs

    def take(self, index: list[int]) -> EdgeColumns:
        """The rows at ``index``."""
        out = object.__new__(EdgeColumns)
        for name in self.__slots__:
            column = getattr(self, name)
            setattr(out, name, [column[i] for i in index])
        return out


def json_encoder(**options: Any) -> Callable[[Any], str]:
    """``json.JSONEncoder(ensure_ascii=False, sort_keys=True, default=str, **options).encode``, with its C encoder
    built once. ``JSONEncoder.encode`` builds a new one, with a cycle check, on every call, four fifths of its
    cost on a small dict; this one has no cycle check (records hold no cycles; one would end in RecursionError)
    and gives the same text."""
    encoder = json.JSONEncoder(ensure_ascii=False, sort_keys=True, default=str, **options)
    if c_make_encoder is None:
        return encoder.encode
    fast = c_make_encoder(None, encoder.default, encode_basestring, None, encoder.key_separator,
                          encoder.item_separator, True, False, True)

    def encode(value: Any) -> str:
        return "".join(fast(value, 0)) if isinstance(value, dict | list | tuple) else encoder.encode(value)

    return encode


_canonical = json_encoder(separators=(",", ":"))


def _plain(attrs: Mapping[str, Any]) -> dict[str, Any]:
    """The attributes as the JSON encoder takes them, without copying a dict."""
    return attrs if type(attrs) is dict else dict(attrs)


@cache
def plant_zone() -> ZoneInfo:
    """The plant's time zone, in which times without an offset are read and shown."""
    return ZoneInfo(config.get("timezone"))


@lru_cache(maxsize=1 << 16)  # plant records repeat their times (an operation's start on every input)
def epoch_ms(value: datetime | None) -> int | None:
    """Milliseconds since the epoch; a naive time is taken as plant local time."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=plant_zone())
    return round(value.timestamp() * 1000)


def from_epoch_ms(value: int | None) -> datetime | None:
    """The plant-local time of an epoch-milliseconds value."""
    if value is None:
        return None
    return datetime.fromtimestamp(value / 1000, tz=UTC).astimezone(plant_zone())

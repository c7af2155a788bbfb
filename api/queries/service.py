"""Pages and streams of query results: a result is computed once, then read in slices or line by line."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from zhuisu.api import paging
from zhuisu.api.paging import Snapshots
from zhuisu.errors import BadInput
from zhuisu.graph.results import Trace, iso


def slices(sections: Sequence[Sequence[Any]], offset: int, limit: int) -> list[Sequence[Any]]:
    """The part of each section that rows ``offset`` to ``offset + limit`` of their concatenation cover."""
    out: list[Sequence[Any]] = []
    start, left = offset, limit
    for section in sections:
        if start >= len(section):
            start -= len(section)
            out.append(section[:0])
            continue
        part = section[start:start + left]
        out.append(part)
        left -= len(part)
        start = 0
    return out


def page(snapshots: Snapshots, value: Any, sections: Sequence[Sequence[Any]], *, offset: int, limit: int,
         key: str | None) -> tuple[list[Sequence[Any]], dict[str, Any]]:
    """A page of ``value``'s rows, with a cursor to the next one (which holds ``value`` for later pages)."""
    total = sum(len(s) for s in sections)
    parts = slices(sections, offset, limit)
    rows = sum(len(p) for p in parts)
    following = None
    if offset + rows < total:
        key = key or snapshots.put(value)
        following = paging.encode({"s": key, "o": offset + rows})
    return parts, {"offset": offset, "rows": rows, "total": total, "next_cursor": following}


def resume(snapshots: Snapshots, cursor: str, kind: str) -> tuple[Any, int, str]:
    """The held result, offset and snapshot key a cursor continues."""
    state = paging.decode(cursor)
    key, offset = state.get("s"), state.get("o")
    if not isinstance(key, str) or not isinstance(offset, int) or offset < 0:
        raise BadInput("无效的分页令牌 invalid cursor; pass the value the previous page returned", where="cursor")
    value = snapshots.get(key)
    if value[0] != kind:
        raise BadInput(f"分页令牌不属于此查询 this cursor continues a {value[0]}, not a {kind}", where="cursor")
    return value[1], offset, key


def trace_head(trace: Trace) -> dict[str, Any]:
    return {"root": trace.root, "direction": trace.direction, "depth": trace.depth, "since": iso(trace.since),
            "until": iso(trace.until), "stats": {"nodes": len(trace.nodes), "edges": len(trace.edges),
                                                 "steps": len(trace.steps), "ms": round(trace.ms, 3)}}


def trace_page(snapshots: Snapshots, trace: Trace, *, offset: int, limit: int, key: str | None) -> dict[str, Any]:
    (nodes, edges, steps), where = page(snapshots, ("trace", trace), (trace.nodes, trace.edges, trace.steps),
                                        offset=offset, limit=limit, key=key)
    return {**trace_head(trace), "nodes": [n.to_dict() for n in nodes], "edges": [e.to_dict() for e in edges],
            "steps": [s.to_dict() for s in steps], "page": where}


def trace_lines(trace: Trace) -> Iterator[bytes]:
    """The trace as NDJSON: a head line, then one line per node, edge and step (``row`` says which)."""
    yield line({"row": "trace", **trace_head(trace)})
    for name, items in (("node", trace.nodes), ("edge", trace.edges), ("step", trace.steps)):
        for start in range(0, len(items), 1000):
            yield b"".join(line({"row": name, **item.to_dict()}) for item in items[start:start + 1000])


def line(item: dict[str, Any]) -> bytes:
    return (json.dumps(item, ensure_ascii=False, default=str) + "\n").encode()

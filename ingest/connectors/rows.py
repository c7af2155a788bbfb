"""Rows of a canonical table (docs/formats.md), from anywhere but a file, → canonical records.

The SQL connector and the API's maintenance notes hand rows to the same code that reads table files, so a
row means the same whichever way it arrives.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from zhuisu.errors import BadInput
from zhuisu.ingest import tables
from zhuisu.ingest.mapping import closest
from zhuisu.ingest.records import Edge, Node
from zhuisu.ingest.tables import Seen, frame_records


def table(name: str) -> tables.Table:
    """The canonical table called ``name``."""
    try:
        return tables.BY_NAME[name]
    except KeyError:
        raise BadInput(f"未知的表 unknown table {name!r}{closest(name, tables.BY_NAME)}; known: "
                       f"{', '.join(tables.BY_NAME)}") from None


def text(value: Any) -> str:
    """A cell as the table readers see it: stripped text, ISO 8601 times, empty for NULL."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    if isinstance(value, float) and value.is_integer():
        return str(int(value)) if abs(value) < 1e15 else repr(value)
    return str(value).strip()


def records(name: str, rows: Sequence[Mapping[str, Any]], *, source: str, lines: Sequence[Any] | None = None,
            seen: Seen | None = None) -> tuple[list[Node], list[Edge]]:
    """The nodes and edges of rows of canonical table ``name``; errors name ``source`` and the row's line."""
    spec = table(name)
    columns = list(spec.columns)
    extra = sorted({k for row in rows for k in row} - set(columns))
    if extra:
        raise BadInput(f"未知的列 unknown column {extra[0]!r}{closest(extra[0], columns)}; {name} has "
                       f"{', '.join(columns)}", where=source)
    data = pd.DataFrame([[text(row.get(c)) for c in columns] for row in rows], columns=columns, dtype=str)
    return frame_records(name, data, source=source, lines=lines, seen=seen)

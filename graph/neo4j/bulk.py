"""CSV files for ``neo4j-admin database import full``: one node file per kind, one relationship file per type.

Every file starts with its header: nodes have ``uid:ID(Node)`` (one id space for the whole graph) and
``:LABEL`` (the kind and its superclasses), relationships ``:START_ID(Node)``, ``:END_ID(Node)`` and
``:TYPE``; properties carry their type (``t:long`` is epoch milliseconds, ``qty:double``). Strings are
always quoted, with quotes doubled, so Chinese text, commas and newlines survive; an empty unquoted field
means "no property". The files hold the graph as of one batch, which ``sync --since-batch`` continues from.
"""

from __future__ import annotations

import json
import math
import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zhuisu.graph.neo4j import cypher
from zhuisu.graph.neo4j.rows import edge_chunks, node_chunks, scalar
from zhuisu.graph.store import Store

ID_SPACE = "Node"
NODE_HEADER = (f"uid:ID({ID_SPACE})", ":LABEL", "sid:long", "kind:string", "name:string", "attrs:string")
RELATIONSHIP_HEADER = (f":START_ID({ID_SPACE})", f":END_ID({ID_SPACE})", ":TYPE", "sid:long", "key:string",
                       "t:long", "qty:double", "uom:string", "attrs:string")
_TYPES = {bool: "boolean", int: "long", float: "double", str: "string"}
# A property becomes a column only if its name survives the header unchanged: no type separator,
# delimiter, array delimiter, quote or line break.
_COLUMN_NAME = re.compile(r'[^:,;"\r\n]+\Z')


@dataclass(slots=True)
class Export:
    """Files written by ``export_csv`` and how to import them."""

    directory: Path
    batch: int
    node_files: list[Path] = field(default_factory=list)
    relationship_files: list[Path] = field(default_factory=list)
    nodes: int = 0
    relationships: int = 0
    multiline: bool = False

    def command(self, database: str = "neo4j") -> str:
        """The exact ``neo4j-admin`` command that imports these files into a new database."""
        args = ["neo4j-admin", "database", "import", "full"]
        args += [f"--nodes={p}" for p in self.node_files]
        args += [f"--relationships={p}" for p in self.relationship_files]
        if self.multiline:  # quoted line breaks are only read with this flag (and then more slowly)
            args.append("--multiline-fields=true")
        args += ["--overwrite-destination=true", database]
        return shlex.join(args)


def cell(value: Any) -> str:
    """One CSV field: strings quoted (inner quotes doubled), ``None`` empty, booleans ``true``/``false``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")  # Java's spelling
    if isinstance(value, int | float):
        return repr(value)
    text = str(value)
    return '"' + text.replace('"', '""') + '"'


def _line(fields: Iterable[str]) -> str:
    return ",".join(fields) + "\n"


def _value_type(value: Any) -> str | None:
    """The column type of an attribute value, ``None`` for one that must go into the JSON ``attrs``."""
    return _TYPES[type(value)] if scalar(value) and type(value) in _TYPES else None


class _Columns:
    """Property columns of one file: attributes whose values all have one type and a header-safe name."""

    def __init__(self, reserved: tuple[str, ...]) -> None:
        self.reserved = reserved
        self.types: dict[str, str | None] = {}

    def see(self, attrs: Mapping[str, Any]) -> None:
        for key, value in attrs.items():
            kind = _value_type(value) if key not in self.reserved and _COLUMN_NAME.match(key) else None
            if key in self.types and self.types[key] != kind:
                kind = None
            self.types[key] = kind

    def columns(self) -> list[tuple[str, str]]:
        return sorted((k, t) for k, t in self.types.items() if t is not None)

    def split(self, attrs: Mapping[str, Any]) -> tuple[list[str], str | None]:
        """The column cells and the JSON of the rest; a value that changed type since it was seen goes to JSON."""
        columns = self.columns()
        fits = {k for k, t in columns if k in attrs and _value_type(attrs[k]) == t}
        cells = [cell(attrs[k]) if k in fits else "" for k, _ in columns]
        rest = {k: v for k, v in attrs.items() if k not in fits}
        return cells, (json.dumps(rest, ensure_ascii=False, sort_keys=True) if rest else None)


class _Files:
    """One file per kind or relationship type: columns learnt in a first pass, rows written in a second."""

    def __init__(self, directory: Path, prefix: str, header: tuple[str, ...], reserved: tuple[str, ...]) -> None:
        self.directory, self.prefix, self.header, self.reserved = directory, prefix, header, reserved
        self.columns: dict[str, _Columns] = {}
        self.handles: dict[str, Any] = {}
        self.paths: list[Path] = []
        self.rows = 0
        self.multiline = False

    def see(self, name: str, attrs: Mapping[str, Any]) -> None:
        self.columns.setdefault(name, _Columns(self.reserved)).see(attrs)

    def write(self, name: str, fixed: list[str], attrs: Mapping[str, Any]) -> None:
        # a kind first met in the second pass (ingested meanwhile) gets a file with no attribute columns
        columns = self.columns.setdefault(name, _Columns(self.reserved))
        if name not in self.handles:
            path = self.directory / f"{self.prefix}_{name}.csv"
            self.handles[name] = path.open("w", encoding="utf-8", newline="")
            self.handles[name].write(_line([*self.header, *(f"{k}:{t}" for k, t in columns.columns())]))
            self.paths.append(path)
        cells, rest = columns.split(attrs)
        line = _line([*fixed, cell(rest), *cells])
        self.handles[name].write(line)
        self.multiline |= "\n" in line[:-1] or "\r" in line
        self.rows += 1

    def close(self) -> None:
        for handle in self.handles.values():
            handle.close()


def _attrs(row: Mapping[str, Any]) -> dict[str, Any]:
    """The attributes of a sync row, back in one dict (drops properties that only mark removals)."""
    out = {k: v for k, v in row["props"].items() if v is not None}
    if row["attrs"]:
        out.update(json.loads(row["attrs"]))
    return out


def export_csv(store: Store, directory: Path) -> Export:
    """Write the store's graph as ``neo4j-admin`` import files into ``directory``."""
    onto = store.ontology
    directory.mkdir(parents=True, exist_ok=True)
    export = Export(directory=directory, batch=store.last_batch())
    nodes = _Files(directory, "nodes", NODE_HEADER, cypher.NODE_FIELDS)
    rels = _Files(directory, "relationships", RELATIONSHIP_HEADER, cypher.EDGE_FIELDS)
    # Two passes: a column's type is known only after every value of the file has been seen. Nodes are
    # not bounded by the batch: an edge up to it may join a node changed since, and the node must be there.
    for chunk in node_chunks(store, since=-1):
        for row in chunk.rows:
            nodes.see(row["kind"], _attrs(row))
    for chunk in edge_chunks(store, since=-1, upto=export.batch):
        for row in chunk.rows:
            rels.see(cypher.rel_type(row["rel"], onto), _attrs(row))
    try:
        for chunk in node_chunks(store, since=-1):
            for row in chunk.rows:
                label = ";".join(cypher.labels(row["kind"], onto))
                fixed = [cell(row["uid"]), label, cell(row["sid"]), cell(row["kind"]), cell(row["name"])]
                nodes.write(row["kind"], fixed, _attrs(row))
        for chunk in edge_chunks(store, since=-1, upto=export.batch):
            for row in chunk.rows:
                rtype = cypher.rel_type(row["rel"], onto)
                fixed = [cell(row["src"]), cell(row["dst"]), rtype, cell(row["sid"]), cell(row["key"]),
                         cell(row["t"]), cell(row["qty"]), cell(row["uom"])]
                rels.write(rtype, fixed, _attrs(row))
    finally:
        nodes.close()
        rels.close()
    export.node_files, export.relationship_files = sorted(nodes.paths), sorted(rels.paths)
    export.nodes, export.relationships = nodes.rows, rels.rows
    export.multiline = nodes.multiline or rels.multiline
    return export

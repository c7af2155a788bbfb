"""Folders of canonical tables (CSV or Excel, docs/formats.md) → canonical records, one batch per file
(or per chunk of a very long CSV). Each table is read into typed columns with pandas; records are built
from whole columns, never by looking at one row's fields in Python where a column operation does."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from zhuisu.errors import BadInput
from zhuisu.ingest import gs1
from zhuisu.ingest.mapping import Source, chunks, sources
from zhuisu.ingest.records import Batch, Edge, Node
from zhuisu.ontology import load as load_ontology


@dataclass(frozen=True, slots=True)
class Link:
    """The edge a row makes from the node named in one column to the node named in another."""

    rel: str
    src: str
    dst: str
    quantity: bool = False  # the edge carries the row's quantity and uom


@dataclass(frozen=True, slots=True)
class Table:
    """A canonical table: its columns, the node each row describes and the edges each row makes."""

    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    node: str | None = None  # the id column of the node a row describes
    title: str | None = None  # the column naming that node
    attrs: tuple[str, ...] = ()  # columns kept as the node's attributes
    links: tuple[Link, ...] = ()
    time: str | None = None  # the column (or derived value) timing the edges
    # column → accepted values; an empty level or *_kind cell takes the first
    choices: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column the table knows, required ones first."""
        return self.required + self.optional


def _table(name: str, columns: str, *, attrs: str = "", **spec: Any) -> Table:
    """A table from its documented column list (``*`` marks required columns)."""
    words = columns.split()
    return Table(name, tuple(w[:-1] for w in words if w.endswith("*")),
                 tuple(w for w in words if not w.endswith("*")), attrs=tuple(attrs.split()), **spec)


# A column name means the same thing in every table: the uid prefix of the ids it holds…
PREFIX = {
    "supplier_id": "supplier", "customer_id": "customer", "material_id": "material", "product_id": "product",
    "equipment_id": "equipment", "parent_id": "equipment", "tool_id": "tool", "operator_id": "operator",
    "shift_id": "shift", "parameter_id": "param", "po_id": "po", "lot_id": "lot", "work_order_id": "wo",
    "serial": "unit", "operation_id": "op", "inspection_id": "inspection", "shipment_id": "shipment",
    "complaint_id": "complaint", "alarm_id": "alarm", "order_id": "mo", "defect_code": "defect",
}
# … or the column that names their kind (whose values map to uid prefixes) …
KIND_COLUMN = {
    "input_id": "input_kind", "output_id": "output_kind", "target_id": "target_kind", "item_id": "item_kind",
}
KIND_PREFIX = {"lot": "lot", "unit": "unit", "lu": "lu", "operation": "op", "shipment": "shipment"}
# … or its type; any other column is text.
TIMES = frozenset({"ordered_at", "created_at", "planned_start", "started_at", "ended_at", "measured_at",
                   "inspected_at", "shipped_at", "received_at", "raised_at", "cleared_at", "reported_at",
                   "finished_at"})
NUMBERS = frozenset({"quantity", "lsl", "usl", "target", "value", "downtime_h"})
_TIME = "_time"  # derived: the time of the operation or shipment a row refers to
_DEFECT = "_defect"  # derived: the defect an inspection or complaint found


def _from(column: str, *rels_and_targets: str) -> tuple[Link, ...]:
    """Links from the node in ``column``: ``rel, target, rel, target, …``."""
    pairs = zip(rels_and_targets[::2], rels_and_targets[1::2], strict=True)
    return tuple(Link(rel, column, target) for rel, target in pairs)


TABLES: tuple[Table, ...] = (
    _table("suppliers", "supplier_id* name* country aliases", node="supplier_id", title="name",
           attrs="country"),
    _table("customers", "customer_id* name* region aliases", node="customer_id", title="name",
           attrs="region"),
    _table("materials", "material_id* name* category uom gtin", node="material_id", title="name",
           attrs="category uom gtin", choices={"category": ("raw", "semi", "packaging")}),
    _table("products", "product_id* name* uom gtin", node="product_id", title="name", attrs="uom gtin"),
    _table("equipment", "equipment_id* name* level type parent_id aliases", node="equipment_id",
           title="name", attrs="type", links=_from("equipment_id", "partOf", "parent_id"),
           choices={"level": ("EquipmentUnit", "Site", "Area", "Line", "WorkCenter")}),
    _table("tools", "tool_id* name* type equipment_id", node="tool_id", title="name", attrs="type",
           links=_from("tool_id", "partOf", "equipment_id")),
    _table("operators", "operator_id* name* team", node="operator_id", title="name", attrs="team"),
    _table("shifts", "shift_id* name* start_time end_time", node="shift_id", title="name",
           attrs="start_time end_time"),
    _table("parameters", "parameter_id* name* unit lsl usl target equipment_id", node="parameter_id",
           title="name", attrs="unit lsl usl target",
           links=_from("parameter_id", "parameterOf", "equipment_id")),
    _table("purchase_orders", "po_id* supplier_id* ordered_at", node="po_id", attrs="ordered_at",
           time="ordered_at", links=_from("po_id", "orderedFrom", "supplier_id")),
    _table("lots", "lot_id* material_id* quantity uom supplier_id po_id supplier_lot created_at gtin",
           node="lot_id", attrs="quantity uom supplier_lot created_at gtin", time="created_at",
           links=(*_from("lot_id", "instanceOf", "material_id", "purchasedOn", "po_id"),
                  Link("supplies", "supplier_id", "lot_id", quantity=True))),
    _table("work_orders", "work_order_id* product_id* quantity planned_start line_id", node="work_order_id",
           attrs="quantity planned_start line_id", time="planned_start",
           links=_from("work_order_id", "forProduct", "product_id")),
    _table("units", "serial* product_id* work_order_id created_at gtin", node="serial",
           attrs="created_at gtin", time="created_at",
           links=_from("serial", "instanceOf", "product_id", "forWorkOrder", "work_order_id")),
    _table("operations", "operation_id* step* started_at* ended_at equipment_id operator_id shift_id tool_id "
           "work_order_id", node="operation_id", title="step", attrs="step started_at ended_at",
           time="started_at",
           links=_from("operation_id", "performedOn", "equipment_id", "performedBy", "operator_id",
                       "duringShift", "shift_id", "usedTool", "tool_id", "forWorkOrder", "work_order_id")),
    _table("consumption", "operation_id* input_id* input_kind quantity uom", time=_TIME,
           links=(Link("consumedBy", "input_id", "operation_id", quantity=True),),
           choices={"input_kind": ("lot", "unit")}),
    _table("production", "operation_id* output_id* output_kind quantity uom", time=_TIME,
           links=(Link("produces", "operation_id", "output_id", quantity=True),),
           choices={"output_kind": ("unit", "lot")}),
    _table("measurements", "operation_id* parameter_id* value* measured_at", time=_TIME,
           links=_from("operation_id", "measured", "parameter_id")),
    _table("inspections", "inspection_id* target_id* target_kind type result* defect_code defect_name "
           "inspected_at* operator_id value unit", node="inspection_id",
           attrs="type result value unit inspected_at defect_code", time="inspected_at",
           links=_from("inspection_id", "inspects", "target_id", "foundDefect", _DEFECT,
                       "performedBy", "operator_id"),
           choices={"target_kind": ("unit", "lot", "operation"), "result": ("pass", "fail")}),
    _table("shipments", "shipment_id* customer_id* shipped_at* carrier", node="shipment_id",
           attrs="shipped_at carrier", time="shipped_at",
           links=_from("shipment_id", "shippedTo", "customer_id")),
    _table("shipment_items", "shipment_id* item_id* item_kind quantity uom", time=_TIME,
           links=(Link("shippedIn", "item_id", "shipment_id", quantity=True),),
           choices={"item_kind": ("unit", "lot", "lu")}),
    _table("complaints", "complaint_id* customer_id* item_id* item_kind received_at* defect_code text",
           node="complaint_id", attrs="received_at defect_code text", time="received_at",
           links=_from("complaint_id", "complaintFrom", "customer_id", "complaintAbout", "item_id",
                       "foundDefect", _DEFECT),
           choices={"item_kind": ("unit", "lot", "lu", "shipment")}),
    _table("alarms", "alarm_id* equipment_id* code* raised_at* cleared_at message severity", node="alarm_id",
           attrs="code raised_at cleared_at message severity", time="raised_at",
           links=_from("alarm_id", "raisedOn", "equipment_id")),
    _table("maintenance", "order_id* equipment_id* reported_at* text* finished_at technician downtime_h type",
           node="order_id", attrs="text technician downtime_h type reported_at finished_at",
           time="reported_at", links=_from("order_id", "maintains", "equipment_id"),
           choices={"type": ("corrective", "preventive", "calibration")}),
)
BY_NAME = {t.name: t for t in TABLES}
_DEFAULTED = frozenset({"level", *KIND_COLUMN.values()})  # choice columns whose empty cell takes the first
_GTIN = re.compile(r"\d{8}|\d{12,14}")
_ALIAS_SPLIT = re.compile(r"[;；]")


def read(path: Path, *, mapping: Path | None = None, **_: Any) -> Iterator[Batch]:
    """Batches of a folder of canonical tables (or of exports through a mapping), one per file, in the
    documented table order."""
    seen = Seen()
    for source in sources(path, BY_NAME, mapping):
        for data, lines in chunks(source):
            nodes, edges = _records(_Frame(source, data, lines), seen)
            if nodes or edges:
                yield Batch(source=f"csv:{source.name}", nodes=nodes, edges=edges)


# ── rows → records ────────────────────────────────────────────────────────────
class _Frame:
    """One chunk of one table: its string columns, each row's line in the file, and typed views of them."""

    def __init__(self, source: Source, data: pd.DataFrame, lines: np.ndarray) -> None:
        self.source = source
        self.table: Table = source.table
        self.data = data
        self.lines = lines
        self.size = len(data)
        self.derived: dict[str, np.ndarray] = {}  # values computed from several columns or earlier tables
        self.extra: list[Node] = []  # nodes that carry the aliases of GS1 identifiers
        self._cache: dict[tuple[str, str], np.ndarray] = {}

    def fail(self, position: int, message: str) -> BadInput:
        return BadInput(message, where=f"{self.source.name}:{self.lines[position]}")

    def strings(self, column: str) -> pd.Series:
        if column in self.data:
            return self.data[column]
        return pd.Series("", index=self.data.index, dtype=str)

    def text(self, column: str) -> np.ndarray:
        values = self.strings(column).to_numpy(dtype=object, copy=True)
        values[values == ""] = None
        return values

    def require(self) -> None:
        """Raise at the first empty cell of a required column."""
        for column in self.table.required:
            empty = (self.strings(column) == "").to_numpy()
            if empty.any():
                raise self.fail(int(np.argmax(empty)), f"缺少必填值 empty required value in column "
                                f"{self.source.label(column)}; fill it in or delete the row")

    def uids(self, column: str) -> np.ndarray:
        """The uid each row names in an id column (None where empty)."""
        if column in self.derived:
            return self.derived[column]
        if ("uid", column) not in self._cache:
            values = self.strings(column)
            kind_column = KIND_COLUMN.get(column)
            prefix: Any = PREFIX.get(column)
            if kind_column:
                prefix = pd.Series(self.choice(kind_column)).map(KIND_PREFIX).to_numpy(dtype=object)
            raw = values.to_numpy(dtype=object)
            uids = prefix + ":" + raw
            uids[raw == ""] = None
            for position in np.flatnonzero(values.str.contains(":", regex=False).to_numpy()):
                expected = prefix if isinstance(prefix, str) else prefix[position]
                uids[position] = self._qualified(column, int(position), raw[position], expected)
            self._cache["uid", column] = uids
        return self._cache["uid", column]

    def _qualified(self, column: str, position: int, value: str, expected: str) -> str:
        """The uid of an id holding a colon: a GS1 URN or Digital Link, a full uid, or a local id."""
        by_prefix = load_ontology().by_prefix
        found = gs1.parse(value) if value.startswith(("urn:epc:", "http://", "https://")) else None
        if found is not None:
            uid = found.uid
            if found.kind == "Material" and expected == "product":  # a GTIN names products as well
                uid = f"product:{uid.partition(':')[2]}"
            if found.digital_link:
                self.extra.append(Node(uid, aliases=(found.digital_link,)))
        elif value.partition(":")[0] in by_prefix:
            uid = value
        else:
            return f"{expected}:{value}"  # a local id that happens to hold a colon
        prefix = uid.partition(":")[0]
        kind_column = KIND_COLUMN.get(column)
        if prefix == expected or (
            # where the kind column is left empty, a full uid names its own kind
            kind_column and self.strings(kind_column).iat[position] == ""
            and prefix in {KIND_PREFIX[c] for c in self.table.choices[kind_column]}
        ):
            return uid
        raise self.fail(position, f"标识类型不符 {value!r} in column {self.source.label(column)} names a "
                        f"{by_prefix[prefix]}, not a {by_prefix[expected]}; give the local id or a uid "
                        f"starting {expected}:")

    def choice(self, column: str) -> np.ndarray:
        """The accepted value each row gives (any letter case), or the default of a level or kind column."""
        allowed = self.table.choices[column]
        lookup = {a.lower(): a for a in allowed}
        return self._each("choice", column, lambda v: lookup[v.lower()], "取值无效 unknown value",
                          f"use one of {', '.join(allowed)}", allowed[0] if column in _DEFAULTED else None)

    def times(self, column: str) -> np.ndarray:
        """Each row's time (naive: plant local time), or None."""
        if column in self.derived:
            return self.derived[column]
        return self._each("time", column, datetime.fromisoformat, _BAD_TIME, _TIME_FORMS)

    def floats(self, column: str) -> np.ndarray:
        """Each row's number as a float, or None."""
        return self._each("number", column, _number, "数值格式错误 bad number",
                          "use a plain decimal number such as 12.5, without units or thousands separators")

    def attr(self, column: str) -> np.ndarray:
        """Each row's value as a node attribute: times in ISO 8601, numbers as floats, choices normalised."""
        if column in self.table.choices:
            return self.choice(column)
        if column in TIMES:
            return np.asarray([t and t.isoformat() for t in self.times(column)], dtype=object)
        if column in NUMBERS:
            return self.floats(column)
        return self.text(column)

    def _each(self, name: str, column: str, convert: Callable[[str], Any], problem: str, advice: str,
              empty: Any = None) -> np.ndarray:
        """``convert`` applied once per distinct value of a column, raising at the first line of a bad one."""
        if (name, column) not in self._cache:
            codes, distinct = pd.factorize(self.strings(column))
            out = np.empty(len(distinct), dtype=object)
            for i, value in enumerate(distinct):
                try:
                    out[i] = convert(value) if value else empty
                except (ValueError, KeyError):
                    raise self.fail(int(np.argmax(codes == i)), f"{problem} in column "
                                    f"{self.source.label(column)}: {value!r}; {advice}") from None
            self._cache[name, column] = out[codes]
        return self._cache[name, column]


_BAD_TIME = "日期格式错误 bad date"
_TIME_FORMS = "use ISO 8601 such as 2023-11-03T08:15:00, 2023-11-03 08:15 or 2023-11-03 (+08:00 optional)"


def _number(text: str) -> float:
    value = float(text)
    if value != value or abs(value) == float("inf") or "_" in text:  # float() takes nan, inf and 1_000
        raise ValueError(text)
    return value


@dataclass(slots=True)
class Seen:
    """What earlier tables of the folder said that later ones need (operation and shipment times, limits)."""

    started: dict[str, datetime] = field(default_factory=dict)
    ended: dict[str, datetime] = field(default_factory=dict)
    shipped: dict[str, datetime] = field(default_factory=dict)
    limits: dict[str, tuple[float, float]] = field(default_factory=dict)  # NaN where a limit is not given
    readings: dict[tuple[str, str], int] = field(default_factory=dict)  # (operation, parameter) → readings


def _records(frame: _Frame, seen: Seen) -> tuple[list[Node], list[Edge]]:
    frame.require()
    hook = _HOOKS.get(frame.table.name)
    if hook is not None:
        hook(frame, seen)
    nodes = _nodes(frame) if frame.table.node else []
    edges = [edge for link in frame.table.links for edge in _edges(frame, link)]
    return nodes + frame.extra, edges


def _nodes(frame: _Frame) -> list[Node]:
    table, n = frame.table, frame.size
    assert table.node is not None
    uids = frame.uids(table.node)
    kinds = (frame.choice("level") if table.name == "equipment"  # the level names the Equipment subclass
             else [load_ontology().by_prefix[PREFIX[table.node]]] * n)
    names = frame.text(table.title) if table.title else [None] * n
    columns = [c for c in table.attrs if c in frame.data]
    values = [frame.attr(c) for c in columns]
    attrs = ([{c: v for c, v in zip(columns, row, strict=True) if v is not None}
              for row in zip(*values, strict=True)] if columns else [{}] * n)
    return [Node(*fields) for fields in zip(uids, kinds, names, attrs, _aliases(frame, uids), strict=True)]


def _aliases(frame: _Frame, uids: np.ndarray) -> list[tuple[str, ...]]:
    """Each row's aliases: the ``;``-separated ``aliases`` column and the Digital Link of a ``gtin``."""
    out: list[tuple[str, ...]] = [()] * frame.size
    for position, text in enumerate(frame.text("aliases")):
        if text:
            out[position] = tuple(a.strip() for a in _ALIAS_SPLIT.split(text) if a.strip())
    link = {"units": gs1.sgtin, "lots": gs1.lgtin}.get(frame.table.name, lambda gtin, _: gs1.gtin_class(gtin))
    ids = frame.strings(frame.table.node or "")
    for position, gtin in enumerate(frame.text("gtin")):
        if gtin is None or ids.iat[position].startswith(("urn:", "http")):
            continue  # an id that is itself a GS1 identifier carries its own Digital Link
        if not _GTIN.fullmatch(gtin):
            raise frame.fail(position, f"GTIN 格式错误 bad GTIN in column {frame.source.label('gtin')}: "
                             f"{gtin!r}; a GTIN has 8, 12, 13 or 14 digits")
        out[position] += (link(gtin, uids[position].partition(":")[2]).digital_link,)
    return out


def _edges(frame: _Frame, link: Link) -> list[Edge]:
    n = frame.size
    src, dst = frame.uids(link.src), frame.uids(link.dst)
    times = frame.times(frame.table.time) if frame.table.time else [None] * n
    quantity = frame.floats("quantity") if link.quantity else [None] * n
    uom = frame.text("uom") if link.quantity else [None] * n
    keys: Any = frame.derived.get("_key", [""] * n)
    attrs: Any = frame.derived.get("_attrs", [{}] * n)
    keep = pd.notna(src) & pd.notna(dst)
    columns = (src, dst, times, quantity, uom, keys, attrs, keep)
    # plain lists: iterating numpy object arrays element by element is several times slower
    rows = zip(*(c if isinstance(c, list) else c.tolist() for c in columns), strict=True)
    return [Edge(s, link.rel, d, t, q, u, k, a) for s, d, t, q, u, k, a, ok in rows if ok]


# ── what some tables add: times and limits that later tables need, derived values ──
def _lookup(values: dict[str, Any], keys: np.ndarray) -> np.ndarray:
    return np.asarray([values.get(k) for k in keys], dtype=object)


def _parameters(frame: _Frame, seen: Seen) -> None:
    lsl, usl = (np.asarray(frame.floats(c), dtype=float) for c in ("lsl", "usl"))  # None → NaN
    seen.limits.update(zip(frame.uids("parameter_id"), zip(lsl, usl, strict=True), strict=True))


def _operations(frame: _Frame, seen: Seen) -> None:
    uids, started, ended = frame.uids("operation_id"), frame.times("started_at"), frame.times("ended_at")
    seen.started.update(zip(uids, started, strict=True))
    seen.ended.update(zip(uids, np.where(pd.notna(ended), ended, started), strict=True))


def _shipments(frame: _Frame, seen: Seen) -> None:
    seen.shipped.update(zip(frame.uids("shipment_id"), frame.times("shipped_at"), strict=True))


def _consumption(frame: _Frame, seen: Seen) -> None:
    frame.derived[_TIME] = _lookup(seen.started, frame.uids("operation_id"))


def _production(frame: _Frame, seen: Seen) -> None:
    frame.derived[_TIME] = _lookup(seen.ended, frame.uids("operation_id"))


def _shipment_items(frame: _Frame, seen: Seen) -> None:
    frame.derived[_TIME] = _lookup(seen.shipped, frame.uids("shipment_id"))


def _measurements(frame: _Frame, seen: Seen) -> None:
    """Readings keyed by parameter (and reading number when repeated), flagged against known limits."""
    operations, parameters = frame.uids("operation_id"), frame.uids("parameter_id")
    measured = frame.times("measured_at")
    frame.derived[_TIME] = np.where(pd.notna(measured), measured, _lookup(seen.started, operations))
    value = np.asarray(frame.floats("value"), dtype=float)
    unknown = (float("nan"), float("nan"))
    lsl, usl = np.asarray([seen.limits.get(p, unknown) for p in parameters], dtype=float).reshape(-1, 2).T
    out = (value < lsl) | (value > usl)  # False against a NaN limit, so a missing limit never flags
    keys = np.empty(frame.size, dtype=object)
    for position, pair in enumerate(zip(operations.tolist(), parameters.tolist(), strict=True)):
        # counted across the whole file, so that a chunk boundary never repeats a key
        number = seen.readings[pair] = seen.readings.get(pair, 0) + 1
        keys[position] = pair[1] if number == 1 else f"{pair[1]}#{number}"
    frame.derived["_key"] = keys
    attrs: list[dict[str, Any]] = []
    for v, lo, hi, flag in zip(value.tolist(), lsl.tolist(), usl.tolist(), out.tolist(), strict=True):
        reading_attrs: dict[str, Any] = {"value": v}
        if lo == lo:
            reading_attrs["lsl"] = lo
        if hi == hi:
            reading_attrs["usl"] = hi
        if lo == lo or hi == hi:
            reading_attrs["out_of_spec"] = flag
        attrs.append(reading_attrs)
    frame.derived["_attrs"] = np.asarray(attrs, dtype=object)


def _inspections(frame: _Frame, seen: Seen) -> None:
    """A failed inspection with a defect code found that Defect, named by ``defect_name``."""
    codes = frame.uids("defect_code")
    found = codes.copy()
    found[frame.choice("result") != "fail"] = None
    frame.derived[_DEFECT] = found
    names = frame.text("defect_name")
    frame.extra += [Node(c, "Defect", name) for c, name in zip(codes, names, strict=True) if c and name]


def _complaints(frame: _Frame, seen: Seen) -> None:
    frame.derived[_DEFECT] = frame.uids("defect_code")


_HOOKS: dict[str, Callable[[_Frame, Seen], None]] = {
    "parameters": _parameters, "operations": _operations, "shipments": _shipments,
    "consumption": _consumption, "production": _production, "shipment_items": _shipment_items,
    "measurements": _measurements, "inspections": _inspections, "complaints": _complaints,
}


def frame_records(name: str, data: pd.DataFrame, *, source: str, lines: Sequence[Any] | None = None,
                  seen: Seen | None = None) -> tuple[list[Node], list[Edge]]:
    """The nodes and edges of a frame of canonical columns (stripped strings, empty for none) that did not come
    from a file (SQL rows, API notes); errors name ``source`` and the row's line."""
    numbers = np.asarray(list(lines) if lines is not None else range(1, len(data) + 1), dtype=object)
    frame = _Frame(Source(BY_NAME[name], Path(source), source), data, numbers)
    return _records(frame, seen if seen is not None else Seen())

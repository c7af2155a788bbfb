"""The canonical tables of docs/formats.md and a chunked, byte-deterministic CSV writer for them."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

# Column order follows docs/formats.md; a generated table always carries every column so that readers
# see the whole contract, with optional values left empty.
COLUMNS: dict[str, tuple[str, ...]] = {
    "suppliers": ("supplier_id", "name", "country", "aliases"),
    "customers": ("customer_id", "name", "region", "aliases"),
    "materials": ("material_id", "name", "category", "uom", "gtin"),
    "products": ("product_id", "name", "uom", "gtin"),
    "equipment": ("equipment_id", "name", "level", "type", "parent_id", "aliases"),
    "tools": ("tool_id", "name", "type", "equipment_id"),
    "operators": ("operator_id", "name", "team"),
    "shifts": ("shift_id", "name", "start_time", "end_time"),
    "parameters": ("parameter_id", "name", "unit", "lsl", "usl", "target", "equipment_id"),
    "purchase_orders": ("po_id", "supplier_id", "ordered_at"),
    "lots": (
        "lot_id",
        "material_id",
        "quantity",
        "uom",
        "supplier_id",
        "po_id",
        "supplier_lot",
        "created_at",
        "gtin",
    ),
    "work_orders": ("work_order_id", "product_id", "quantity", "planned_start", "line_id"),
    "units": ("serial", "product_id", "work_order_id", "created_at", "gtin"),
    "operations": (
        "operation_id",
        "step",
        "started_at",
        "ended_at",
        "equipment_id",
        "operator_id",
        "shift_id",
        "tool_id",
        "work_order_id",
    ),
    "consumption": ("operation_id", "input_id", "input_kind", "quantity", "uom"),
    "production": ("operation_id", "output_id", "output_kind", "quantity", "uom"),
    "measurements": ("operation_id", "parameter_id", "value", "measured_at"),
    "inspections": (
        "inspection_id",
        "target_id",
        "target_kind",
        "type",
        "result",
        "defect_code",
        "defect_name",
        "inspected_at",
        "operator_id",
        "value",
        "unit",
    ),
    "shipments": ("shipment_id", "customer_id", "shipped_at", "carrier"),
    "shipment_items": ("shipment_id", "item_id", "item_kind", "quantity", "uom"),
    "complaints": (
        "complaint_id",
        "customer_id",
        "item_id",
        "item_kind",
        "received_at",
        "defect_code",
        "text",
    ),
    "alarms": ("alarm_id", "equipment_id", "code", "raised_at", "cleared_at", "message", "severity"),
    "maintenance": (
        "order_id",
        "equipment_id",
        "reported_at",
        "text",
        "finished_at",
        "technician",
        "downtime_h",
        "type",
    ),
}


def iso(seconds: np.ndarray) -> np.ndarray:
    """ISO 8601 plant-local times (``2023-11-03T08:15:00``) from epoch seconds."""
    return np.datetime_as_string(np.asarray(seconds, dtype="int64").astype("datetime64[s]"), unit="s")


class CsvFolder:
    """Appends rows to the canonical CSV tables of one output folder, one call per chunk."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self._started: set[str] = set()
        out.mkdir(parents=True, exist_ok=True)
        # A table left by an earlier plant in this folder (units.csv under a dairy) would corrupt this one.
        for table in COLUMNS:
            (out / f"{table}.csv").unlink(missing_ok=True)

    def write(self, table: str, rows: Mapping[str, Any]) -> None:
        """Append rows given as column → array (or scalar); columns not given are left empty."""
        columns = COLUMNS[table]
        unknown = set(rows) - set(columns)
        if unknown:
            raise ValueError(f"table {table!r} has no columns {sorted(unknown)}; known: {', '.join(columns)}")
        length = max((len(v) for v in rows.values() if isinstance(v, np.ndarray | list | pd.Series)), default=1)
        frame = pd.DataFrame({c: _column(rows.get(c, ""), length) for c in columns}, columns=list(columns))
        started = table in self._started
        frame.to_csv(
            self.out / f"{table}.csv",
            mode="a" if started else "w",
            header=not started,
            index=False,
            lineterminator="\n",
            encoding="utf-8",
        )
        self._started.add(table)


def _column(value: Any, length: int) -> Any:
    if isinstance(value, np.ndarray | list | pd.Series):
        return np.asarray(value)
    return np.full(length, value, dtype=object)

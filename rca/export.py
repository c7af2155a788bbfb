"""Files for people: containment as CSV or Excel, and the workbook of an 8D report (openpyxl)."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from zhuisu.errors import BadInput
from zhuisu.rca.results import Containment

ITEM_COLUMNS = ("uid", "kind", "name", "material", "level", "quantity", "uom", "status", "shipments", "customers",
                "defects", "time")
SHIPMENT_COLUMNS = ("uid", "time", "customer", "customer_name", "items", "quantity")
STATUS = {"shipped": "已发货 shipped", "in_stock": "在库 in stock", "wip": "在制 WIP", "consumed": "已投料 consumed"}
_HEAD = Font(bold=True)
_FILL = PatternFill("solid", fgColor="F4F4F4")


def item_rows(result: Containment) -> list[list[Any]]:
    """Affected items as rows of ``ITEM_COLUMNS`` (lists joined with ``;``)."""
    rows = []
    for item in result.items:
        data = item.to_dict()
        rows.append([";".join(v) if isinstance(v, list) else v for v in (data[c] for c in ITEM_COLUMNS)])
    return rows


def customer_rows(result: Containment) -> list[list[Any]]:
    """Per customer: name, shipments, affected items and quantity."""
    by: dict[str, list[Any]] = {}
    for s in result.shipments:
        key = s.customer or ""
        row = by.setdefault(key, [key, s.customer_name or "", [], 0, 0.0])
        row[2].append(s.uid)
        row[3] += s.items
        row[4] += s.quantity or 0.0
    return [[c, n, ";".join(ships), items, qty] for c, n, ships, items, qty in by.values()]


def write_containment(result: Containment, path: Path) -> Path:
    """Write a containment as ``.csv`` (affected items) or ``.xlsx`` (summary, items, shipments, customers)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open("w", encoding="utf-8-sig", newline="") as stream:  # BOM: Excel opens the Chinese right
            writer = csv.writer(stream)
            writer.writerow(ITEM_COLUMNS)
            writer.writerows(item_rows(result))
        return path
    if suffix != ".xlsx":
        raise BadInput(f"不支持的导出格式 cannot export to {path.name!r}; use a .csv or .xlsx file name")
    book = Workbook()
    summary = book.active
    summary.title = "摘要 Summary"
    totals = result.totals()
    lines: list[list[Any]] = [
        ["可疑因素 Suspect", result.root], ["类型 Kind", result.kind],
        ["起 From", result.since.isoformat() if result.since else ""],
        ["止 To", result.until.isoformat() if result.until else ""],
        ["受影响件数 Affected items", totals["items"]], ["托盘 Containers", totals["containers"]],
        ["发货单 Shipments", totals["shipments"]], ["客户 Customers", ";".join(totals["customers"])], [],
        ["状态 Status", "件数 Items", "数量 Quantity"],
    ]
    for status, slot in totals["by_status"].items():
        quantity = "; ".join(f"{q:g} {u}".strip() for u, q in slot["quantity"].items())
        lines.append([STATUS.get(status, status), slot["items"], quantity])
    _fill(summary, None, lines)
    _fill(book.create_sheet("受影响 Items"), ITEM_COLUMNS, item_rows(result))
    _fill(book.create_sheet("发货 Shipments"), SHIPMENT_COLUMNS,
          [[s.to_dict()[c] for c in SHIPMENT_COLUMNS] for s in result.shipments])
    _fill(book.create_sheet("客户 Customers"), ("customer", "name", "shipments", "items", "quantity"),
          customer_rows(result))
    book.save(path)
    return path


def write_workbook(path: Path, sheets: Iterable[tuple[str, Sequence[str] | None, list[list[Any]]]]) -> Path:
    """A workbook of ``(title, header, rows)`` sheets."""
    book = Workbook()
    book.remove(book.active)
    for title, header, rows in sheets:
        _fill(book.create_sheet(title[:31]), header, rows)
    book.save(path)
    return path


def _fill(sheet: Any, header: Sequence[str] | None, rows: list[list[Any]]) -> None:
    if header:
        sheet.append(list(header))
        for cell in sheet[1]:
            cell.font, cell.fill = _HEAD, _FILL
        sheet.freeze_panes = "A2"
    for row in rows:
        sheet.append([_cell(v) for v in row])
    for i, column in enumerate(sheet.columns, start=1):
        width = max((len(str(c.value)) for c in column if c.value is not None), default=8)
        sheet.column_dimensions[get_column_letter(i)].width = min(max(width + 2, 8), 60)


def _cell(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return ";".join(str(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, float) and value != value:
        return None
    return value

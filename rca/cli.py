"""The ``zhuisu rca | similar | contain | report`` commands: thin wrappers over ``zhuisu.rca``.

``register(app, friendly=...)`` adds them to the main Typer app, decorated with its one-line error handler.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from zhuisu.errors import BadInput

out = Console(highlight=False, soft_wrap=True)

DbOption = Annotated[str | None, typer.Option("--db", help="存储 URL (default: ZHUISU_DB_URL or ./zhuisu.db)")]
FromOption = Annotated[str | None, typer.Option("--from", help="起始时间 from (ISO 8601, inclusive)")]
ToOption = Annotated[str | None, typer.Option("--to", help="截止时间 to (ISO 8601; a date includes that whole day)")]
CodeOption = Annotated[str | None, typer.Option("--defect-code", "-c", help="缺陷代码 defect code, e.g. E-NOISE")]
UnitsOption = Annotated[Path | None, typer.Option(
    "--units", help="不良品清单 file of uids (units, lots, complaints or inspections): one per line, or a CSV's "
                    "first column")]


def when(value: str | None, field: str, *, end: bool = False) -> datetime | None:
    """An ISO 8601 option value; a bare date given as an end means the end of that day."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise BadInput(f"时间格式错误 bad time {value!r}; use ISO 8601 such as 2023-11-03 or 2023-11-03T08:00",
                       where=field) from None
    if end and len(value.strip()) == 10:
        parsed += timedelta(days=1) - timedelta(milliseconds=1)
    return parsed


def read_units(path: Path) -> list[str]:
    """Uids from a file: one per line (``#`` comments), or the first column of a CSV with a header."""
    if not path.is_file():
        raise BadInput("文件不存在 no such file", where=str(path))
    text = path.read_text(encoding="utf-8-sig")
    rows = [r for r in csv.reader(text.splitlines()) if r and r[0].strip() and not r[0].startswith("#")]
    uids = [r[0].strip() for r in rows]
    if uids and ":" not in uids[0] and len(uids) > 1:  # a header row
        uids = uids[1:]
    if not uids:
        raise BadInput("清单为空 the file names no units", where=str(path))
    return uids


def _engine(db: str | None) -> Any:
    from zhuisu.graph.engine import Engine
    from zhuisu.graph.store import Store

    return Engine.load(Store(db))


def _json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def rca(
    defect_code: CodeOption = None, units: UnitsOption = None, since: FromOption = None, until: ToOption = None,
    limit: Annotated[int, typer.Option(help="最多列出 candidates listed (significant ones always are)")] = 20,
    evidence: Annotated[bool, typer.Option("--evidence/--no-evidence", help="附证据 paths, notes, alarms")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="JSON 输出 (docs/rca.md)")] = False,
    db: DbOption = None,
) -> None:
    """根因分析 rank the upstream factors that defective units share (commonality analysis)."""
    from zhuisu.rca.analysis import rca as analyse

    listed = read_units(units) if units else None
    result = analyse(_engine(db), defect_code=defect_code, units=listed, since=when(since, "--from"),
                     until=when(until, "--to", end=True), limit=limit, evidence=evidence).to_dict()
    if as_json:
        _json(result)
    else:
        from zhuisu.rca.render import print_rca

        print_rca(out, result)


def similar(
    uid: Annotated[str, typer.Argument(help="产品 uid, e.g. unit:SN-M2311-00042")],
    window_hours: Annotated[float, typer.Option("--window-hours", help="同设备时间窗 hours either side")] = 24.0,
    limit: Annotated[int, typer.Option(help="最多列出 units listed")] = 20,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    db: DbOption = None,
) -> None:
    """相似产品 units sharing lots, machines, tools or a time window with a unit, ranked by overlap."""
    from zhuisu.rca.similar import similar as find

    result = find(_engine(db), uid, window_hours=window_hours, limit=limit).to_dict()
    if as_json:
        _json(result)
    else:
        from zhuisu.rca.render import print_similar

        print_similar(out, result)


def contain(
    uid: Annotated[str, typer.Argument(help="可疑因素 lot, supplier, machine, parameter, operator… uid")],
    since: FromOption = None, until: ToOption = None,
    out_file: Annotated[Path | None, typer.Option("--out", help="导出 export to FILE.csv or FILE.xlsx")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    db: DbOption = None,
) -> None:
    """围堵 everything a suspect factor reached: lots and units, status, shipments and customers."""
    from zhuisu.rca.containment import contain as forward
    from zhuisu.rca.export import write_containment

    result = forward(_engine(db), uid, since=when(since, "--from"), until=when(until, "--to", end=True))
    if out_file is not None:
        write_containment(result, out_file)
    if as_json:
        _json(result.to_dict())
        return
    from zhuisu.rca.render import print_containment

    print_containment(out, result.to_dict())
    if out_file is not None:
        out.print(f"已导出 exported → {out_file}")


def report(
    out_dir: Annotated[Path, typer.Option("--out", help="输出文件夹 output folder")],
    defect_code: CodeOption = None, units: UnitsOption = None, since: FromOption = None, until: ToOption = None,
    limit: Annotated[int, typer.Option(help="列出的因素 candidates listed")] = 12,
    db: DbOption = None,
) -> None:
    """8D 报告 write an 8D report (report.html and report.xlsx) for a defect code or a list of units."""
    from zhuisu.rca.report import report as write

    listed = read_units(units) if units else None
    files = write(_engine(db), out_dir, defect_code=defect_code, units=listed, since=when(since, "--from"),
                  until=when(until, "--to", end=True), limit=limit)
    top = files.result.significant[0].description if files.result.significant else "无显著因素 nothing significant"
    out.print(f"已生成 8D 报告 → {files.html}, {files.xlsx} (根因 top cause: {top})")


COMMANDS: dict[str, Callable[..., None]] = {"rca": rca, "similar": similar, "contain": contain, "report": report}


def register(app: typer.Typer, *, friendly: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
    """Add the commands to ``app``, each wrapped in ``friendly`` (one-line errors, no traceback)."""
    for name, command in COMMANDS.items():
        app.command(name)(friendly(command))

"""Where the rows of canonical tables come from: a folder's table files, or other exports through a
mapping file (TOML), read in chunks of stripped strings that remember each row's line in its file."""

from __future__ import annotations

import csv
import difflib
import tomllib
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from zhuisu.errors import BadInput

if TYPE_CHECKING:
    from zhuisu.ingest.tables import Table

CHUNK_ROWS = 200_000  # a CSV longer than this is committed in batches of this many rows, bounding memory
MAPPING_FILE = "mapping.toml"  # a folder holding one reads its exports through it
_TABLE_KEYS = ("file", "sheet", "encoding", "header", "columns", "values")


@dataclass(frozen=True, slots=True)
class Column:
    """Where a canonical column comes from: an export column (with a time format), a constant, or several
    export columns written as one form ("故障现象：…；原因分析：…", for the maintenance text)."""

    column: str | None = None
    format: str | None = None  # strptime format of a time column
    value: str | None = None
    columns: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TableMap:
    """How one export file becomes one canonical table."""

    table: str
    file: Path
    name: str  # the export file as the mapping names it
    sheet: str | int = 0
    encoding: str = "utf-8-sig"
    header: int = 1  # line (CSV) or row (Excel) of the export's header
    columns: dict[str, Column] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)

    def label(self, column: str) -> str:
        """A canonical column as the user knows it: the export column it comes from, or its constant."""
        spec = self.columns.get(column)
        if spec is None:
            return column
        if spec.columns:
            return f"{'+'.join(spec.columns)} ({column})"
        if spec.column is None:
            return f"{column} (= {spec.value!r})"
        return f"{spec.column} ({column})"

    def apply(self, data: pd.DataFrame, lines: np.ndarray) -> pd.DataFrame:
        """The export rows as the canonical table: renamed, constants filled, values translated, times ISO."""
        for spec in self.columns.values():
            for name in (spec.column, *spec.columns):
                if name is not None and name not in data.columns:
                    raise BadInput(f"缺少列 missing column {name!r} that the mapping names"
                                   f"{closest(name, data.columns)}; the export has "
                                   f"{', '.join(data.columns)}", where=self.name)
        out: dict[str, Any] = {}
        for canonical, spec in self.columns.items():
            if spec.columns:  # each filled cell as "header：value", joined by "；"
                cells = zip(*(data[name] for name in spec.columns), strict=True)
                out[canonical] = pd.Series(["；".join(f"{name}：{v}" for name, v in zip(spec.columns, row, strict=True)
                                                    if v) for row in cells], index=data.index, dtype=str)
                continue
            if spec.column is None:
                out[canonical] = spec.value
                continue
            values = data[spec.column]
            if canonical in self.values:
                values = values.replace(self.values[canonical])
            out[canonical] = values if spec.format is None else self._times(values, spec, lines)
        return pd.DataFrame(out, index=data.index, dtype=str)

    def _times(self, values: pd.Series, spec: Column, lines: np.ndarray) -> pd.Series:
        # exports repeat the same few dates, so each distinct value is parsed once
        codes, distinct = pd.factorize(values)
        iso = np.empty(len(distinct), dtype=object)
        for i, text in enumerate(distinct):
            try:
                iso[i] = datetime.strptime(text, spec.format or "").isoformat() if text else ""
            except ValueError:
                raise BadInput(f"日期格式错误 bad date in column {spec.column}: {text!r} does not match the "
                               f"mapping's format {spec.format!r}; correct the value or the format",
                               where=f"{self.name}:{lines[np.argmax(codes == i)]}") from None
        return pd.Series(iso[codes], index=values.index, dtype=str)


@dataclass(frozen=True, slots=True)
class Source:
    """Where one canonical table is read from: a canonical file, or an export through a mapping."""

    table: Table
    path: Path
    name: str  # the file as errors and batch sources name it
    view: TableMap | None = None

    def label(self, column: str) -> str:
        """A column as errors name it: in the user's file, which a mapping may call otherwise."""
        return self.view.label(column) if self.view else column


def sources(path: Path, tables: Mapping[str, Table], mapping: Path | None = None) -> list[Source]:
    """The files to read for a folder, one table file or a mapping file, in the order of ``tables``."""
    if not path.exists():
        raise BadInput("文件不存在 no such file or folder", where=str(path))
    folder = path if path.is_dir() else path.parent
    if path.suffix.lower() == ".toml":
        mapping = path
    elif mapping is None and path.is_dir() and (folder / MAPPING_FILE).is_file():
        mapping = folder / MAPPING_FILE
    views = load(mapping, folder, tables) if mapping is not None else {}
    single = path.is_file() and path.suffix.lower() != ".toml"
    if single:
        views = {name: v for name, v in views.items() if v.file.resolve() == path.resolve()}
    mapped = {v.file.resolve() for v in views.values()}
    files: dict[str, Path] = {}
    for file in [path] if single else sorted(p for p in folder.iterdir() if p.is_file()):
        suffix = file.suffix.lower()
        hidden = file.name.startswith((".", "~$"))  # also Excel's lock files
        if suffix not in {".csv", ".xlsx", ".xls"} or hidden or file.resolve() in mapped:
            continue
        if file.stem not in tables:
            if views:
                continue  # an export folder holds files that the mapping does not use
            raise BadInput(f"未知的表 unknown table {file.stem!r}{closest(file.stem, tables)}; name each "
                           f"file after its table ({', '.join(tables)}) or map it with a mapping file",
                           where=file.name)
        if suffix == ".xls":
            raise BadInput("不支持 .xls: legacy Excel files are not read; save it as .xlsx or CSV UTF-8",
                           where=file.name)
        other = files.get(file.stem) or (views[file.stem].file if file.stem in views else None)
        if other is not None:
            raise BadInput(f"表重复 both {other.name} and {file.name} hold table {file.stem}; keep one",
                           where=file.name)
        files[file.stem] = file
    out = []
    for name, table in tables.items():
        if name in views:
            out.append(Source(table, views[name].file, views[name].name, views[name]))
        elif name in files:
            out.append(Source(table, files[name], files[name].name))
    return out


def chunks(source: Source) -> Iterator[tuple[pd.DataFrame, np.ndarray]]:
    """The source's rows as canonical columns, in chunks, with each row's line (or sheet row) number."""
    view = source.view
    reader = _excel if source.path.suffix.lower() == ".xlsx" else _csv
    for data, lines in reader(source, view.header if view else 1):
        data.columns = [str(c).strip() for c in data.columns]
        data = data.apply(lambda column: column.str.strip())  # ids pasted from spreadsheets carry blanks
        filled = (data != "").any(axis=1).to_numpy()
        if not filled.all():  # rows such as ",,,," that spreadsheets leave behind
            data, lines = data[filled], lines[filled]
        yield (view.apply(data, lines) if view else _checked(source, data, lines)), lines


def _checked(source: Source, data: pd.DataFrame, lines: np.ndarray) -> pd.DataFrame:
    """A chunk of a canonical file, raising on unknown or missing columns."""
    table = source.table
    for column in data.columns:
        if column in table.columns:
            continue
        if column.startswith("Unnamed: "):  # a header cell left empty: harmless while its column is empty too
            filled = (data[column] != "").to_numpy()
            if filled.any():
                raise BadInput("表头缺列名 a column without a header name holds a value; name or delete it",
                               where=f"{source.name}:{lines[np.argmax(filled)]}")
            data = data.drop(columns=column)
            continue
        raise BadInput(f"未知的列 unknown column {column!r}{closest(column, table.columns)}; {table.name} "
                       f"has {', '.join(table.columns)}; rename or delete it, or map the export with a "
                       "mapping file", where=source.name)
    missing = [c for c in table.required if c not in data.columns]
    if missing:
        raise BadInput(f"缺少必填列 missing required column {', '.join(missing)}; {table.name} needs "
                       f"{', '.join(table.required)}", where=source.name)
    return data


def _csv(source: Source, header: int) -> Iterator[tuple[pd.DataFrame, np.ndarray]]:
    encoding = source.view.encoding if source.view else "utf-8-sig"  # utf-8-sig: the BOM is optional
    starts, lines = _scan(source, encoding, header)
    try:
        with pd.read_csv(source.path, dtype=str, keep_default_na=False, encoding=encoding,
                         skiprows=header - 1, chunksize=CHUNK_ROWS) as reader:
            done = 0
            for chunk in reader:
                positions = np.arange(done, done + len(chunk))
                done += len(chunk)
                # a row's line: that of the last irregular start before it, plus the rows since
                anchor = np.searchsorted(starts, positions, side="right") - 1
                yield chunk, lines[anchor] + positions - starts[anchor]
    except pd.errors.EmptyDataError:
        raise BadInput("空文件 the file is empty; it needs a header line naming its columns",
                       where=source.name) from None
    except pd.errors.ParserError as exc:
        raise BadInput(f"CSV 格式错误 malformed CSV: {exc}", where=source.name) from None


def _scan(source: Source, encoding: str, header: int) -> tuple[np.ndarray, np.ndarray]:
    """Check that every record has as many fields as the header (pandas pads short ones silently) and
    return where records start irregularly (after blank lines or quoted line breaks): positions, lines."""
    starts: list[int] = []
    lines: list[int] = []
    line = 0
    try:
        with source.path.open(newline="", encoding=encoding) as file:
            rows = csv.reader(file)
            for _ in range(header - 1):
                next(rows, None)
            width, count, previous, line = -1, 0, -1, rows.line_num
            for row in rows:
                start, line = line + 1, rows.line_num
                if len(row) != width:
                    if not row or (len(row) == 1 and not row[0].strip()):
                        continue  # a blank line, which pandas skips too
                    if width < 0:
                        width = len(row)
                        continue
                    raise BadInput(f"字段个数不对 wrong number of fields: {len(row)}, the header has "
                                   f"{width}; quote values that hold commas", where=f"{source.name}:{start}")
                if start != previous + 1:
                    starts.append(count)
                    lines.append(start)
                previous, count = start, count + 1
    except UnicodeDecodeError:
        raise BadInput(f"编码错误 the file is not {encoding} text; save it as CSV UTF-8, or give its "
                       'encoding in a mapping file (encoding = "gbk")', where=source.name) from None
    except LookupError as exc:
        raise BadInput(f"未知编码 unknown encoding: {exc}", where=source.name) from None
    except csv.Error as exc:
        raise BadInput(f"CSV 格式错误 malformed CSV: {exc}", where=f"{source.name}:{line + 1}") from None
    return np.asarray(starts, dtype=np.int64), np.asarray(lines, dtype=np.int64)


def _excel(source: Source, header: int) -> Iterator[tuple[pd.DataFrame, np.ndarray]]:
    sheet = source.view.sheet if source.view else 0
    try:
        data = pd.read_excel(source.path, sheet_name=sheet, header=header - 1, dtype=str,
                             keep_default_na=False)
    except (ValueError, KeyError, OSError, zipfile.BadZipFile) as exc:
        raise BadInput(f"无法读取 Excel cannot read the workbook: {exc}", where=source.name) from None
    yield data, np.arange(len(data)) + header + 1  # the header's sheet row, then one per row


# ── mapping files ─────────────────────────────────────────────────────────────
def load(path: Path, folder: Path, tables: Mapping[str, Table]) -> dict[str, TableMap]:
    """The tables a mapping file maps, checked against the canonical columns; export files are looked up
    in ``folder`` first, then next to the mapping file."""
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"无法读取映射文件 cannot read the mapping file: {exc}", where=str(path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise BadInput(f"映射文件格式错误 malformed TOML: {exc}", where=path.name) from None
    extra = sorted(set(doc) - {"tables"})
    if extra or not isinstance(doc.get("tables"), dict):
        raise BadInput("映射文件格式错误 a mapping file holds [tables.NAME] sections only, found "
                       f"{', '.join(extra) or 'no [tables]'}", where=path.name)
    out: dict[str, TableMap] = {}
    for name, spec in doc["tables"].items():
        if name not in tables:
            raise BadInput(f"未知的表 unknown table {name!r}{closest(name, tables)}; known: "
                           f"{', '.join(tables)}", where=path.name)
        out[name] = _table_map(tables[name], spec, path, folder)
    return out


def _table_map(table: Table, spec: Any, path: Path, folder: Path) -> TableMap:
    where = f"{path.name} [tables.{table.name}]"
    spec = toml_table(spec, where)
    for key in spec:
        if key not in _TABLE_KEYS:
            raise BadInput(f"未知的键 unknown key {key!r}{closest(key, _TABLE_KEYS)}; known: "
                           f"{', '.join(_TABLE_KEYS)}", where=where)
    name = spec.get("file")
    if not isinstance(name, str):
        raise BadInput('缺少 file: name the export file, e.g. file = "物料批次.xlsx"', where=where)
    file = next((p for p in (folder / name, path.parent / name) if p.is_file()), None)
    if file is None:
        raise BadInput(f"文件不存在 no export file {name!r} in {folder} or next to the mapping file",
                       where=where)
    columns = {c: column(c, s, table.columns, where) for c, s in toml_table(spec.get("columns", {}), where).items()}
    missing = [c for c in table.required if c not in columns]
    if missing:
        raise BadInput(f"缺少必填列 the mapping gives no source for required column {', '.join(missing)}",
                       where=f"{where}.columns")
    values = toml_table(spec.get("values", {}), where)
    for canonical, translation in values.items():
        if canonical not in columns:
            raise BadInput(f"未映射的列 values given for {canonical!r}, which [columns] does not map",
                           where=where)
        values[canonical] = {str(k): str(v) for k, v in toml_table(translation, where).items()}
    header = spec.get("header", 1)
    if not isinstance(header, int) or header < 1:
        raise BadInput(f"header 应为正整数 header is the header's line number (1, 2, …), not {header!r}",
                       where=where)
    return TableMap(table=table.name, file=file, name=name, sheet=spec.get("sheet", 0),
                    encoding=str(spec.get("encoding", "utf-8-sig")), header=header, columns=columns,
                    values=values)


def column(canonical: str, source: Any, known: Sequence[str], where: str) -> Column:
    """A mapping entry for canonical column ``canonical``: a source column name, ``{column, format}``,
    ``{value}`` or ``{columns}`` (several export columns written as one form)."""
    if canonical not in known:
        raise BadInput(f"未知的列 unknown column {canonical!r}{closest(canonical, known)}; known: {', '.join(known)}",
                       where=f"{where}.columns")
    if isinstance(source, str):
        return Column(column=source)
    if isinstance(source, dict) and set(source) in ({"column"}, {"column", "format"}):
        return Column(column=str(source["column"]), format=source.get("format"))
    if isinstance(source, dict) and set(source) == {"value"}:
        return Column(value=str(source["value"]))
    if isinstance(source, dict) and set(source) == {"columns"} and isinstance(source["columns"], list) \
            and source["columns"] and all(isinstance(c, str) and c for c in source["columns"]):
        return Column(columns=tuple(source["columns"]))
    raise BadInput(f'映射格式错误 column {canonical}: give a source column name, {{column = "…", format = '
                   f'"%Y/%m/%d"}}, {{value = "…"}} or {{columns = ["故障现象", "原因分析", …]}}, not {source!r}',
                   where=f"{where}.columns")


def toml_table(value: Any, where: str) -> dict[str, Any]:
    """``value`` as a TOML table, or a clear error naming ``where``."""
    if not isinstance(value, dict):
        raise BadInput(f"映射格式错误 expected a TOML table, not {value!r}", where=where)
    return dict(value)


def closest(word: str, known: Any) -> str:
    """`` (是否为 'x'? did you mean 'x'?)`` when a known name is close to ``word``, else nothing."""
    match = difflib.get_close_matches(word, [str(k) for k in known], n=1)
    return f" (是否为 {match[0]!r}? did you mean {match[0]!r}?)" if match else ""

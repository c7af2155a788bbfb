"""Ingest adapters registered by name and imported only when used.

An adapter is a function ``read(path: Path, **options) -> Iterator[Batch]`` that knows its source
format and nothing about storage. Errors are raised as :class:`zhuisu.errors.BadInput` naming the
file, line or event and the field.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zhuisu.errors import BadInput
from zhuisu.ingest.records import Batch

Reader = Callable[..., Iterator[Batch]]


@dataclass(frozen=True, slots=True)
class Adapter:
    name: str
    module: str
    function: str
    help: str

    def load(self) -> Reader:
        return getattr(importlib.import_module(self.module), self.function)  # type: ignore[no-any-return]


_REGISTRY: dict[str, Adapter] = {}


def register(name: str, module: str, function: str = "read", help: str = "") -> None:
    """Make an adapter available under ``name`` without importing it yet."""
    _REGISTRY[name] = Adapter(name, module, function, help)


def adapters() -> dict[str, Adapter]:
    return dict(_REGISTRY)


def get(name: str) -> Reader:
    """The reader registered as ``name``."""
    try:
        return _REGISTRY[name].load()
    except KeyError:
        raise BadInput(f"未知的格式 unknown format {name!r}; known: {', '.join(sorted(_REGISTRY))}") from None


def detect(path: Path) -> str:
    """The adapter name for a file, from its suffix and, for XML, its root element."""
    suffix = path.suffix.lower()
    if suffix in {".csv", ".xlsx", ".toml"}:
        return "csv"
    if suffix in {".json", ".jsonld"}:
        return "epcis-json"
    if suffix == ".xml":
        return "b2mml" if _xml_root(path).startswith(_B2MML_NAMESPACES) else "epcis-xml"
    raise BadInput(
        f"不知道如何读取 cannot tell the format of {path.name!r}; give --format ({', '.join(sorted(_REGISTRY))})",
        where=str(path),
    )


def _xml_root(path: Path) -> str:
    """Namespace of the root element, read without parsing the whole file."""
    from lxml import etree

    try:
        with path.open("rb") as stream:
            for _event, element in etree.iterparse(stream, events=("start",)):
                return etree.QName(element).namespace or ""
    except etree.XMLSyntaxError as exc:
        raise BadInput(f"XML 格式错误 malformed XML: {exc}", where=str(path)) from None
    return ""


def plan(path: Path, fmt: str | None = None, **options: Any) -> Iterator[Batch]:
    """Batches for a path: a canonical table folder, one file, or a folder of EPCIS/B2MML files."""
    if not path.exists():
        raise BadInput("文件不存在 no such file or folder", where=str(path))
    if fmt is not None:
        yield from get(fmt)(path, **options)
    elif path.is_dir() and _has_tables(path):
        yield from get("csv")(path, **options)
        for sub in sorted(p for p in path.iterdir() if p.is_dir()):
            yield from plan(sub)  # a mapping file names the export files of this folder only
    elif path.is_dir():
        for file in sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in _DOC_SUFFIXES):
            yield from get(detect(file))(file, **options)
    else:
        yield from get(detect(path))(path, **options)


_DOC_SUFFIXES = {".json", ".jsonld", ".xml"}
_B2MML_NAMESPACES = ("http://www.mesa.org/xml/B2MML", "http://www.wbf.org/xml/B2MML")


def _has_tables(path: Path) -> bool:
    return any(p.suffix.lower() in {".csv", ".xlsx"} or p.name == "mapping.toml" for p in path.iterdir() if p.is_file())


register("csv", "zhuisu.ingest.tables", help="canonical folder of CSV/Excel tables (docs/formats.md), optional mapping")
register("epcis-json", "zhuisu.ingest.epcis_json", help="GS1 EPCIS 2.0 JSON / JSON-LD document")
register("epcis-xml", "zhuisu.ingest.epcis_xml", help="GS1 EPCIS 2.0 (and 1.2) XML document")
register("b2mml", "zhuisu.ingest.b2mml", help="ISA-95 B2MML V0401 / V0700 document")

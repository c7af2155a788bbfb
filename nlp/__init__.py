"""Chinese NLP for maintenance notes: jieba + spaCy pipeline, event extraction, linking, graph enrichment.

Imports are lazy so that ``import zhuisu.nlp`` (and ``zhuisu --help``) does not load spaCy.
"""

from __future__ import annotations

from typing import Any

__all__ = ["MaintenanceEvent", "Mention", "build_pipeline", "enrich", "extract", "extract_many"]

_WHERE = {"MaintenanceEvent": "events", "Mention": "events", "extract": "events", "extract_many": "events",
          "build_pipeline": "pipeline", "enrich": "enrich"}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        from importlib import import_module

        return getattr(import_module(f"zhuisu.nlp.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'zhuisu.nlp' has no attribute {name!r}")

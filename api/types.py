"""Field types shared by the domains' schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, Field

_EARLIEST, _LATEST = 1900, 2200


def _plausible(value: datetime) -> datetime:
    if not _EARLIEST <= value.year < _LATEST:
        raise ValueError(f"time out of range: years {_EARLIEST}–{_LATEST - 1}")
    return value


Time = Annotated[datetime, AfterValidator(_plausible)]  # ISO 8601; without an offset, plant time
Uid = Annotated[str, Field(min_length=1, max_length=400, description="uid 或别名 uid or alias, e.g. lot:ML2311-0042")]

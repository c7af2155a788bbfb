"""Cursors: opaque page tokens for keyset paging, and snapshots that let a large query result be read page by page.

A token is URL-safe base64 of a small JSON object. It carries a digest of the query it continues, so a
token cannot be replayed with other filters; a snapshot token names a result held in memory for a while.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
import threading
import time
from collections import OrderedDict
from typing import Any

from zhuisu.api.errors import Gone
from zhuisu.errors import BadInput


def encode(state: dict[str, Any]) -> str:
    """An opaque token for a cursor state."""
    raw = json.dumps(state, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(token: str, *, where: str = "cursor") -> dict[str, Any]:
    """The state of a token from :func:`encode`; anything else is a clear 400."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        state = json.loads(raw)
    except (binascii.Error, ValueError):
        raise BadInput("无效的分页令牌 invalid page token; pass the value the previous page returned, unchanged",
                       where=where) from None
    if not isinstance(state, dict):
        raise BadInput("无效的分页令牌 invalid page token; pass the value the previous page returned", where=where)
    return state


def digest(*parts: Any) -> str:
    """A short digest of the query a token continues."""
    text = json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class Snapshots:
    """Results held for paging: at most ``size`` of them, each for ``ttl`` seconds after its last page."""

    def __init__(self, size: int = 16, ttl: float = 600.0) -> None:
        self.size, self.ttl = size, ttl
        self._items: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, value: Any) -> str:
        key = secrets.token_urlsafe(9)
        with self._lock:
            self._expire()
            self._items[key] = (time.monotonic(), value)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return key

    def get(self, key: str) -> Any:
        with self._lock:
            self._expire()
            found = self._items.get(key)
            if found is None:
                raise Gone("分页已过期 this cursor's result is no longer held (10 minutes after its last page, "
                           "or pushed out by newer ones); run the query again without a cursor")
            self._items[key] = (time.monotonic(), found[1])
            self._items.move_to_end(key)
            return found[1]

    def _expire(self) -> None:
        limit = time.monotonic() - self.ttl
        for key in [k for k, (t, _) in self._items.items() if t < limit]:
            del self._items[key]

"""API keys: ``zs_<id>_<secret>``, stored as an scrypt hash of the secret with its own salt.

The id is public (lists, logs, revocation); only the secret is hashed. Verifying costs one scrypt run, so
a key that verified once is remembered by the SHA-256 of its secret for the life of the process: later
requests compare that in constant time and only re-read the key's row, which sees a revocation at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from zhuisu.api import schema
from zhuisu.api.schema import api_keys
from zhuisu.errors import BadInput, NotFound
from zhuisu.graph.store import Store

SCOPES = ("read", "ingest", "admin")
# what each scope lets a key do: admin can do everything, ingest can also read
GRANTS = {"read": {"read"}, "ingest": {"read", "ingest"}, "admin": {"read", "ingest", "admin"}}
_N, _R, _P = 2**14, 8, 1  # scrypt cost: ~30 ms and 16 MiB per verification


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A key as stored, without its secret."""

    id: str
    name: str
    scopes: tuple[str, ...]
    created_at: datetime
    revoked_at: datetime | None = None

    def allows(self, scope: str) -> bool:
        """Whether this key may do what ``scope`` names."""
        return self.revoked_at is None and any(scope in GRANTS[s] for s in self.scopes)


def parse_scopes(values: list[str] | str) -> tuple[str, ...]:
    """Scope names from ``--scope read --scope ingest`` or ``read,ingest``, checked."""
    items = [values] if isinstance(values, str) else values
    scopes = tuple(dict.fromkeys(s.strip().lower() for v in items for s in v.split(",") if s.strip()))
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown or not scopes:
        raise BadInput(f"未知的权限 unknown scope {', '.join(unknown) or '(none)'}; choose from {', '.join(SCOPES)}",
                       where="--scope")
    return scopes


def create(store: Store, *, name: str, scopes: list[str] | str) -> tuple[ApiKey, str]:
    """A new key: its record and the full secret, which is never stored and cannot be shown again."""
    if not name.strip():
        raise BadInput("密钥名称为空 give the key a name (who or what uses it)", where="--name")
    granted = parse_scopes(scopes)
    schema.create(store)
    key_id = secrets.token_hex(5)
    secret = secrets.token_urlsafe(32)
    created = schema.now_ms()
    with schema.writing(store) as conn:
        conn.execute(api_keys.insert().values(id=key_id, name=name.strip(), scopes=",".join(granted),
                                              hash=_hash(secret), created_at=created))
    return ApiKey(key_id, name.strip(), granted, _time(created) or datetime.now(UTC)), f"zs_{key_id}_{secret}"


def list_keys(store: Store, *, revoked: bool = True) -> list[ApiKey]:
    """Every key, oldest first (without the revoked ones when ``revoked`` is False)."""
    schema.create(store)
    q = sa.select(api_keys).order_by(api_keys.c.created_at, api_keys.c.id)
    if not revoked:
        q = q.where(api_keys.c.revoked_at.is_(None))
    with store.engine.connect() as conn:
        return [_record(row) for row in conn.execute(q)]


def revoke(store: Store, *, key_id: str) -> ApiKey:
    """Revoke a key by its id (the part after ``zs_``); revoking twice keeps the first time."""
    schema.create(store)
    key_id = key_id.removeprefix("zs_").split("_", 1)[0]
    with schema.writing(store) as conn:
        conn.execute(api_keys.update().where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
                     .values(revoked_at=schema.now_ms()))
        row = conn.execute(sa.select(api_keys).where(api_keys.c.id == key_id)).first()
    if row is None:
        raise NotFound(f"没有这个密钥 no API key with id {key_id!r}; `zhuisu apikey list` shows them")
    return _record(row)


class KeyRing:
    """Verifies presented keys against the store, remembering the ones that verified."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._verified: dict[tuple[str, str], bytes] = {}  # (id, stored hash) → sha256(secret)
        self._lock = threading.Lock()
        schema.create(store)

    def verify(self, token: str) -> ApiKey | None:
        """The live key that ``token`` is, or None (unknown, malformed, wrong secret or revoked)."""
        parts = token.strip().split("_", 2)
        if len(parts) != 3 or parts[0] != "zs" or not parts[1] or not parts[2]:
            return None
        key_id, secret = parts[1], parts[2]
        with self.store.engine.connect() as conn:
            row = conn.execute(sa.select(api_keys).where(api_keys.c.id == key_id)).first()
        if row is None or row.revoked_at is not None:
            return None
        digest = hashlib.sha256(secret.encode()).digest()
        known = self._verified.get((key_id, row.hash))
        if known is not None:
            return _record(row) if hmac.compare_digest(known, digest) else None
        if not _check(secret, row.hash):
            return None
        with self._lock:
            self._verified[(key_id, row.hash)] = digest
        return _record(row)


def _hash(secret: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def _check(secret: str, stored: str) -> bool:
    try:
        method, n, r, p, salt, digest = stored.split("$")
        expected = base64.urlsafe_b64decode(digest)
        actual = hashlib.scrypt(secret.encode(), salt=base64.urlsafe_b64decode(salt), n=int(n), r=int(r), p=int(p),
                                dklen=len(expected), maxmem=2**26)
    except (ValueError, TypeError):
        return False
    return method == "scrypt" and hmac.compare_digest(actual, expected)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode()


def _time(ms: int | None) -> datetime | None:
    return None if ms is None else datetime.fromtimestamp(ms / 1000, tz=UTC)


def _record(row: sa.Row) -> ApiKey:  # type: ignore[type-arg]
    return ApiKey(row.id, row.name, tuple(row.scopes.split(",")), _time(row.created_at),  # type: ignore[arg-type]
                  _time(row.revoked_at))

"""Where the Neo4j server is, and opening the official driver to it (imported only here, when needed)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from zhuisu import config
from zhuisu.errors import BadInput, ZhuisuError


class Neo4jUnavailable(ZhuisuError):
    """The Neo4j server cannot be reached, refused the login, or failed a statement."""

    status = 503
    code = "E210"


@dataclass(frozen=True, slots=True)
class Target:
    """A Neo4j database: server URI, login and database name."""

    uri: str
    user: str
    password: str
    database: str

    @classmethod
    def from_settings(cls, uri: str | None = None, user: str | None = None, password: str | None = None,
                      database: str | None = None) -> Target:
        """Arguments where given, else the ``ZHUISU_NEO4J_*`` settings."""
        target = cls(
            uri=uri or config.get("neo4j_uri"),
            user=user or config.get("neo4j_user"),
            password=password if password is not None else config.get("neo4j_password"),
            database=database or config.get("neo4j_database"),
        )
        if not target.uri:
            raise BadInput("没有 Neo4j 地址 no Neo4j URI: pass --uri bolt://HOST:7687 or set "
                           "ZHUISU_NEO4J_URI", where="--uri")
        return target

    @property
    def label(self) -> str:
        """The URI without any login in it, and the database: what the sync watermark is kept for."""
        parts = urlsplit(self.uri)
        netloc = parts.hostname or ""
        if parts.port:
            netloc += f":{parts.port}"
        return f"{urlunsplit((parts.scheme, netloc, parts.path.rstrip('/'), '', ''))}/{self.database}"


def failure(exc: Exception) -> str:
    """One line for a driver or server error (server errors carry a ``message``, driver ones do not)."""
    return getattr(exc, "message", None) or str(exc) or type(exc).__name__


@contextmanager
def driver(target: Target) -> Iterator[Any]:
    """An open, verified ``neo4j`` driver; connection and login failures become one-line errors."""
    try:
        import neo4j
        from neo4j.exceptions import AuthError, ServiceUnavailable
    except ImportError:
        raise Neo4jUnavailable("the neo4j driver is not installed: pip install neo4j") from None
    try:
        drv = neo4j.GraphDatabase.driver(target.uri, auth=(target.user, target.password))
    except ValueError as exc:  # the driver rejects malformed URIs with ValueError
        raise BadInput(f"Neo4j 地址无效 bad Neo4j URI {target.uri!r}: {exc}", where="--uri") from None
    try:
        drv.verify_connectivity()
    except AuthError:
        drv.close()
        raise Neo4jUnavailable(f"Neo4j 拒绝登录 login refused at {target.label} for user {target.user!r}; "
                               "check --user/--password (ZHUISU_NEO4J_USER/ZHUISU_NEO4J_PASSWORD)") from None
    except (ServiceUnavailable, OSError) as exc:
        drv.close()
        raise Neo4jUnavailable(f"无法连接 Neo4j cannot reach {target.label}: {exc}; is the server running?"
                               ) from None
    try:
        yield drv
    finally:
        drv.close()

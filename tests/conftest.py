"""Shared fixtures: real SQLite files and the real PostgreSQL server."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

import zhuisu
from zhuisu import config
from zhuisu.graph.store import Store, normalise_url

REPO = Path(zhuisu.__file__).resolve().parent
SHARED = REPO.parent / "shared"


def service_missing(reason: str) -> None:
    """Skip with a printed reason, or fail when CI requires the service (``ZHUISU_REQUIRE_SERVICES=1``)."""
    if config.get("require_services") == "1":
        pytest.fail(f"required service missing: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    url = normalise_url(config.get("pg_url"))
    try:
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # any connection failure means: no server here
        service_missing(f"PostgreSQL not reachable at {url} ({type(exc).__name__}); set ZHUISU_PG_URL")
    return url


@pytest.fixture(scope="session")
def pg_database(pg_admin_url: str) -> Iterator[str]:
    """A throw-away database on the PostgreSQL server for this test session."""
    name = f"zhuisu_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = sa.create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(pg_admin_url).set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The same tests against a SQLite file and against the PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'zhuisu.db'}"
        return
    url = request.getfixturevalue("pg_database")
    engine = sa.create_engine(url)
    from zhuisu.graph.schema import metadata

    metadata.drop_all(engine)
    engine.dispose()
    yield url


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    s = Store(store_url)
    yield s
    s.close()

"""Throwaway databases for tests (ours and other packages'): SQLite files and PostgreSQL databases.

PostgreSQL tests get a fresh database each, created from the server named by
WILDWATCH_TEST_POSTGRES_URL (default: the local trust-auth server), so tests
never see each other's rows and never touch a real database.
"""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from store.db import redact

DEFAULT_POSTGRES_URL = "postgresql+psycopg://root@127.0.0.1:5432/postgres"


def postgres_admin_url() -> str:
    """The server to create test databases on (any existing database on it will do)."""
    return os.environ.get("WILDWATCH_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


def postgres_unavailable_reason(admin_url: str | None = None) -> str | None:
    """None when PostgreSQL answers at `admin_url`, else why not (for pytest.skip)."""
    return _probe(admin_url or postgres_admin_url())


@lru_cache(maxsize=8)
def _probe(admin_url: str) -> str | None:
    # Cached: an unreachable server costs a connect timeout once per test session, not per test.
    engine = create_engine(admin_url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as exc:
        first_line = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        return f"PostgreSQL not reachable at {redact(admin_url)} ({first_line}); set WILDWATCH_TEST_POSTGRES_URL"
    finally:
        engine.dispose()
    return None


@contextmanager
def temporary_postgres_database(admin_url: str | None = None) -> Iterator[str]:
    """Create an empty database, yield its URL, and drop it (closing leftover connections)."""
    admin_url = admin_url or postgres_admin_url()
    name = f"wildwatch_test_{uuid.uuid4().hex[:12]}"
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with engine.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()


@contextmanager
def throwaway_database(backend: str, tmp_path: Path) -> Iterator[str]:
    """A URL for an empty database on `backend` ("sqlite" or "postgresql"), removed afterwards.

    For PostgreSQL this calls pytest.skip with the reason when no server is
    reachable; CI sets WILDWATCH_REQUIRE_POSTGRES=1 to turn that skip into a failure.
    """
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'db' / 'wildwatch.db'}"
        return
    if backend != "postgresql":
        raise ValueError(f"unknown test backend {backend!r}: use 'sqlite' or 'postgresql'")
    reason = postgres_unavailable_reason()
    if reason is not None:
        import pytest

        if os.environ.get("WILDWATCH_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"WILDWATCH_REQUIRE_POSTGRES=1 but {reason}")
        pytest.skip(reason)
    with temporary_postgres_database() as url:
        yield url

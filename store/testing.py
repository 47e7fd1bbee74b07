"""Throwaway databases for tests (ours and other packages'): SQLite files and PostgreSQL databases.

PostgreSQL tests get a fresh database each, created from the server named by
WILDWATCH_TEST_POSTGRES_URL (default: the local trust-auth server), so tests
never see each other's rows and never touch a real database.
"""
from __future__ import annotations

import atexit
import os
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from functools import lru_cache
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from store.db import describe_error, redact

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
        return (f"PostgreSQL not reachable at {redact(admin_url)} ({describe_error(exc)}); "
                "set WILDWATCH_TEST_POSTGRES_URL")
    finally:
        engine.dispose()
    return None


@contextmanager
def temporary_postgres_database(admin_url: str | None = None, *, template: str | None = None) -> Iterator[str]:
    """Create an empty database (or a copy of `template`), yield its URL, and drop it (closing leftover
    connections)."""
    admin_url = admin_url or postgres_admin_url()
    name = f"wildwatch_test_{uuid.uuid4().hex[:12]}"
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            copy = f' TEMPLATE "{template}"' if template else ""
            connection.execute(text(f'CREATE DATABASE "{name}"{copy}'))
        try:
            yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with engine.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()


_templates: dict[str, str] = {}


def migrated_postgres_template(admin_url: str | None = None) -> str:
    """The name of a database at the newest schema on `admin_url`'s server, made once per process and
    dropped when it exits: CREATE DATABASE ... TEMPLATE copies it in the time an empty one takes, where
    running the migrations into every test's database costs ~0.4 s each. Nothing may stay connected to
    it (PostgreSQL refuses to copy a database in use), so it is only ever migrated and copied."""
    admin_url = admin_url or postgres_admin_url()
    if admin_url not in _templates:
        from store.db import upgrade

        stack = ExitStack()
        url = stack.enter_context(temporary_postgres_database(admin_url))
        try:
            upgrade(url)
        except BaseException:
            stack.close()
            raise
        atexit.register(stack.close)
        _templates[admin_url] = make_url(url).database
    return _templates[admin_url]


BACKENDS = ("sqlite", "postgresql")


def backend_under_test() -> str:
    """The database the test suite's `db` tests run on: WILDWATCH_TEST_BACKEND, default sqlite.

    `make test` runs the suite once as is and then `pytest -m db` again with
    WILDWATCH_TEST_BACKEND=postgresql, so every test that stores anything is
    exercised on both databases.
    """
    backend = os.environ.get("WILDWATCH_TEST_BACKEND", "").strip().lower() or "sqlite"
    if backend not in BACKENDS:
        raise ValueError(f"WILDWATCH_TEST_BACKEND={backend!r}: use one of {', '.join(BACKENDS)}")
    return backend


def require_postgres() -> None:
    """pytest.skip with the reason when no PostgreSQL server answers; pytest.fail under WILDWATCH_REQUIRE_POSTGRES=1."""
    reason = postgres_unavailable_reason()
    if reason is not None:
        import pytest

        if os.environ.get("WILDWATCH_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"WILDWATCH_REQUIRE_POSTGRES=1 but {reason}")
        pytest.skip(reason)


@contextmanager
def throwaway_database(backend: str, tmp_path: Path, *, migrated: bool = False) -> Iterator[str]:
    """A URL for an empty database on `backend` ("sqlite" or "postgresql"), removed afterwards; with
    `migrated`, one already at the newest schema (on PostgreSQL a copy of `migrated_postgres_template`).

    For PostgreSQL this calls pytest.skip with the reason when no server is
    reachable; CI sets WILDWATCH_REQUIRE_POSTGRES=1 to turn that skip into a failure.
    """
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'db' / 'wildwatch.db'}"
        if migrated:
            from store.db import upgrade

            upgrade(url)  # ~0.05 s on SQLite: no template needed
        yield url
        return
    if backend != "postgresql":
        raise ValueError(f"unknown test backend {backend!r}: use 'sqlite' or 'postgresql'")
    require_postgres()
    with temporary_postgres_database(template=migrated_postgres_template() if migrated else None) as url:
        yield url


class DatabasePerDirectory:
    """One database per data directory, for tests that run the `wildwatch` CLI on a data dir.

    SQLite: the CLI's own default, `<dir>/wildwatch.db`. PostgreSQL: a throwaway
    database created on first use of a directory, so several CLI runs (night 1,
    night 2, export) share it, and dropped by close(). Keyed by the resolved path.
    """

    def __init__(self, backend: str) -> None:
        if backend not in BACKENDS:
            raise ValueError(f"unknown test backend {backend!r}: use one of {', '.join(BACKENDS)}")
        self.backend = backend
        self._urls: dict[Path, str] = {}
        self._stack = ExitStack()

    def url_for(self, directory: Path) -> str:
        if self.backend == "sqlite":
            return f"sqlite:///{Path(directory) / 'wildwatch.db'}"
        key = Path(directory).resolve()
        if key not in self._urls:
            require_postgres()
            self._urls[key] = self._stack.enter_context(temporary_postgres_database())
        return self._urls[key]

    def close(self) -> None:
        """Drop every database handed out so far."""
        self._urls.clear()
        stack, self._stack = self._stack, ExitStack()
        stack.close()


# ---- Redis (distributed crawl workers) -------------------------------------------------------------

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def redis_test_url() -> str:
    """The Redis server tests use: WILDWATCH_TEST_REDIS_URL, default the local one (database 0)."""
    return os.environ.get("WILDWATCH_TEST_REDIS_URL", DEFAULT_REDIS_URL)


def redis_unavailable_reason(url: str | None = None) -> str | None:
    """None when Redis answers PING at `url`, else why not (for pytest.skip)."""
    import redis

    from crawler.redisrun import redact_redis_url

    url = url or redis_test_url()
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
        try:
            client.ping()
        finally:
            client.close()
    except (redis.RedisError, ValueError) as exc:
        return f"Redis not reachable at {redact_redis_url(url)} ({exc}); set WILDWATCH_TEST_REDIS_URL"
    return None


def require_redis() -> str:
    """The test Redis URL; pytest.skip with the reason when it does not answer (pytest.fail under
    WILDWATCH_REQUIRE_REDIS=1, which CI sets)."""
    reason = redis_unavailable_reason()
    if reason is not None:
        import pytest

        if os.environ.get("WILDWATCH_REQUIRE_REDIS") == "1":
            pytest.fail(f"WILDWATCH_REQUIRE_REDIS=1 but {reason}")
        pytest.skip(reason)
    return redis_test_url()


@contextmanager
def throwaway_redis_prefix() -> Iterator[tuple[str, str]]:
    """(Redis URL, a key prefix no other test uses); every key under the prefix is deleted afterwards."""
    import redis

    url = require_redis()
    prefix = f"wildwatch-test:{uuid.uuid4().hex[:12]}"
    try:
        yield url, prefix
    finally:
        client = redis.Redis.from_url(url)
        try:
            keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
            if keys:
                client.delete(*keys)
        finally:
            client.close()

"""Which database the suite's `db` tests run on, so one suite covers SQLite and PostgreSQL.

`make test` runs every test once (SQLite), then `pytest -m db` again with
WILDWATCH_TEST_BACKEND=postgresql. A test is a `db` test when it uses the
`db_url`/`engine` fixtures (marked automatically) or says so with
`pytestmark = pytest.mark.db` (tests that run the CLI on a data directory).
Such tests get their database from here and never spell out `sqlite:///`
themselves, except the few that are about SQLite files as such.
"""
from __future__ import annotations

from pathlib import Path

import os

import pytest

from store.testing import DatabasePerDirectory, backend_under_test, postgres_unavailable_reason

BACKEND = backend_under_test()
#: Fixtures that hand out this pass's database: using one makes a test a `db` test.
DB_FIXTURES = frozenset({"db_url", "engine"})

DATABASES = DatabasePerDirectory(BACKEND)
_current: list[pytest.Item | None] = [None]


def set_current(item: pytest.Item | None) -> None:
    _current[0] = item


def uses_db(item: pytest.Item | None) -> bool:
    return item is not None and item.get_closest_marker("db") is not None


def database_url_for(data_dir: Path) -> str:
    """The database the CLI uses for `data_dir` in this pass (what a test reads its results from)."""
    item = _current[0]
    if item is not None and not uses_db(item):
        pytest.fail(f"{item.nodeid} reads the test database but is not marked `db`, so the PostgreSQL pass "
                    "would skip it: add `pytestmark = pytest.mark.db` (or @pytest.mark.db)", pytrace=False)
    return DATABASES.url_for(data_dir)


def cli_database_env(data_dir: Path) -> dict[str, str]:
    """WILDWATCH_DATABASE_URL for a CLI run on `data_dir` in a `db` test on PostgreSQL; nothing otherwise."""
    if BACKEND == "sqlite" or not uses_db(_current[0]):
        return {}  # the CLI's default: <data_dir>/wildwatch.db
    return {"WILDWATCH_DATABASE_URL": DATABASES.url_for(data_dir)}


def postgres_pass_unavailable() -> str | None:
    """Why the PostgreSQL pass cannot run here (no server), or None; under WILDWATCH_REQUIRE_POSTGRES=1
    always None, so each test fails with the reason instead of skipping."""
    if BACKEND != "postgresql" or os.environ.get("WILDWATCH_REQUIRE_POSTGRES") == "1":
        return None
    reason = postgres_unavailable_reason()
    return f"PostgreSQL pass skipped: {reason}" if reason else None

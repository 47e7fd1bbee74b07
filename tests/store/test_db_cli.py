"""`wildwatch db upgrade` / `db current` given a database they cannot use: one clear line, exit 2."""
from __future__ import annotations

import pytest

from support.cli import database_url_for, run_cli, wildwatch_env
from support.db_backend import BACKEND
from store.db import current_revision, head_revision, redact
from store.testing import require_postgres

BAD_URLS = {
    "refused": ("postgresql+psycopg://analyst:s3cret-pw@127.0.0.1:1/wildwatch", "Connection refused"),
    "no such database": ("postgresql+psycopg://root@127.0.0.1:5432/wildwatch_no_such_db_x9",
                         'database "wildwatch_no_such_db_x9" does not exist'),
    "unsupported": ("mysql://analyst:s3cret-pw@db.example/wildwatch", "unsupported database URL"),
    "unparsable": ("postgresql+psycopg://analyst:s3cret-pw@127.0.0.1:notaport/x", "cannot parse database URL"),
}


@pytest.mark.parametrize("command", [["db", "upgrade"], ["db", "current"]], ids=["upgrade", "current"])
@pytest.mark.parametrize("case", list(BAD_URLS))
def test_unusable_database_url_is_one_line_naming_the_url(case, command, tmp_path):
    url, reason = BAD_URLS[case]
    if case == "no such database":
        require_postgres()  # the server must answer to say the database is missing
    env = wildwatch_env(tmp_path / "data", tmp_path / "models", WILDWATCH_DATABASE_URL=url)
    result = run_cli(command, env, timeout=60)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    assert reason in lines[0] and url.split("@")[-1].split("/")[0] in lines[0]
    assert "s3cret-pw" not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.db
def test_cli_runs_in_db_tests_use_this_pass_database(tmp_path):
    """wildwatch_env points the CLI at the same database database_url_for names: SQLite, or PostgreSQL in pass 2."""
    data_dir = tmp_path / "data"
    result = run_cli(["db", "upgrade"], wildwatch_env(data_dir, tmp_path / "models"))
    assert result.returncode == 0, result.stderr
    url = database_url_for(data_dir)
    assert url.startswith({"sqlite": "sqlite:///", "postgresql": "postgresql+psycopg://"}[BACKEND])
    assert result.stdout.strip() == f"{redact(url)} at revision {head_revision()}"
    assert current_revision(url) == head_revision()

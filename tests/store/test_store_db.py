"""Engine setup, sessions and Alembic migrations, on SQLite and PostgreSQL."""
from __future__ import annotations

import subprocess
import sys

import pytest
import sqlalchemy as sa

from crawler.items import ListingItem
from store import db
from store.errors import StoreError
from store.models import Marketplace
from store.validation import CONTENT_FIELDS, content_hash
import support

ROOT = support.ROOT
TABLES = {"marketplaces", "crawl_runs", "listings", "listing_snapshots", "model_versions", "scores", "decisions"}


def test_sqlite_engine_creates_directory_and_sets_pragmas(tmp_path):
    path = tmp_path / "nested" / "deeper" / "w.db"
    engine = db.make_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == db.SQLITE_BUSY_TIMEOUT_MS
        assert path.parent.is_dir()
    finally:
        engine.dispose()


def test_plain_postgresql_url_means_psycopg3():
    engine = db.make_engine("postgresql://someone:pw@127.0.0.1:1/nothing")
    try:
        assert engine.dialect.driver == "psycopg"
        assert engine.pool._pre_ping is True
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "url",
    [
        "mysql://analyst:s3cret-pw@db.example/wildwatch",
        "postgresql+psycopg2://analyst:s3cret-pw@127.0.0.1/wildwatch",
        "postgresql+psycopg://analyst:s3cret-pw@127.0.0.1:notaport/x",
        "no scheme at all",
        "oracle://analyst:s3cret-pw@host/x",
    ],
)
def test_unsupported_or_unparsable_url_names_it_without_password(url):
    with pytest.raises(StoreError) as info:
        db.make_engine(url)
    message = str(info.value)
    assert "s3cret-pw" not in message
    assert "database URL" in message
    assert url.split("@")[-1] in message  # the URL is named, minus credentials


def test_redact_hides_password_in_unparsable_text():
    assert "pw" not in db.redact("weird://user:pw@host:notaport/x")


def test_upgrade_creates_schema_and_reports_head(db_url):
    assert db.current_revision(db_url) is None
    db.upgrade(db_url)
    assert db.current_revision(db_url) == db.head_revision()
    engine = db.make_engine(db_url)
    try:
        assert set(sa.inspect(engine).get_table_names()) >= TABLES
        db.require_current_schema(engine)
    finally:
        engine.dispose()
    db.upgrade(db_url)  # a second upgrade is a no-op
    assert db.current_revision(db_url) == db.head_revision()


def test_session_scope_commits_on_success_and_rolls_back_on_error(engine):
    with db.session_scope(engine) as session:
        session.add(Marketplace(name="kept"))
    with pytest.raises(RuntimeError), db.session_scope(engine) as session:
        session.add(Marketplace(name="dropped"))
        session.flush()
        raise RuntimeError("boom")
    with db.session_scope(engine) as session:
        names = set(session.scalars(sa.select(Marketplace.name)))
    assert names == {"kept"}


def test_require_current_schema_fails_on_empty_database(db_url):
    engine = db.make_engine(db_url)
    try:
        with pytest.raises(StoreError, match="revision None"):
            db.require_current_schema(engine)
    finally:
        engine.dispose()


def test_alembic_cli_config_points_at_packaged_migrations(db_url, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "alembic", "-c", str(ROOT / "store" / "alembic.ini"), "-x", f"url={db_url}",
         "upgrade", "head"],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert db.current_revision(db_url) == db.head_revision()


def test_snapshot_fields_and_hash_match_the_crawler_item():
    assert CONTENT_FIELDS == ListingItem.CONTENT_FIELDS
    item = ListingItem("demo", "1", "http://x/1", "象牙 手镯", "老货", price=3.5, images=["a.jpg"], posted_at="昨天")
    assert content_hash(item.to_dict()) == item.content_hash()

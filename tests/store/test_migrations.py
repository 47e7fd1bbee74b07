"""Alembic migrations on this pass's database (SQLite, then PostgreSQL in `make test`'s second pass).

Written for any chain of revisions: each step is walked from an empty database with rows present at
every revision, head-1 -> head goes through `wildwatch db upgrade`, a downgrade/upgrade round trip
keeps the rows, and the migrated schema must match the models (autogenerate finds no difference).
The rows are made from the reflected schema of each revision, so a new migration needs no new test
data here: one that adds a NOT NULL column without a default, or loses rows, fails these tests.
"""
from __future__ import annotations

import re
import warnings
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from support.cli import invoke, wildwatch_env
from crawler.items import ListingItem
from store import db
from store import repository as repo
from store.columns import JSONType
from store.errors import StoreError
from store.models import Base

REVISIONS = [script.revision for script in ScriptDirectory.from_config(db.alembic_config()).walk_revisions()][::-1]
TABLES = {"marketplaces", "crawl_runs", "listings", "listing_snapshots", "model_versions", "scores", "decisions"}


def schema_diff(url: str, metadata: sa.MetaData = Base.metadata) -> list:
    engine = db.make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return compare_metadata(context, metadata)
    finally:
        engine.dispose()


def _reflect(connection: sa.Connection) -> sa.MetaData:
    metadata = sa.MetaData()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sa.exc.SAWarning)  # reflected FK cycles (listings <-> scores)
        metadata.reflect(connection)
    metadata.remove(metadata.tables["alembic_version"])
    return metadata


def _allowed_value(inspector: sa.Inspector, table: str, column: str) -> str | None:
    """The first literal a CHECK constraint allows for `column` (status IN ('running', ...)), if any."""
    for check in inspector.get_check_constraints(table):
        match = re.search(rf"\b{column}\b.*?'([^']*)'", check["sqltext"], re.S)
        if match:
            return match.group(1)
    return None


def _value(column: sa.Column, table: str, tag: str, inspector: sa.Inspector, dialect: str):
    allowed = _allowed_value(inspector, table, column.name)
    if allowed is not None:
        return allowed
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return True
    if isinstance(kind, sa.Integer):
        return 1
    if isinstance(kind, (sa.Float, sa.Numeric)):
        return 0.75
    if isinstance(kind, sa.DateTime):
        now = datetime.now(UTC)
        return now.replace(tzinfo=None) if dialect == "sqlite" else now
    if isinstance(kind, sa.JSON):
        model = Base.metadata.tables.get(table)
        model_column = model.columns.get(column.name) if model is not None else None
        is_list = model_column is not None and model_column.type.python_type is list
        return ["象牙", tag] if is_list else {"seeded": tag, "text": "犀角"}
    if isinstance(kind, sa.String):
        text = f"{tag}-{column.name}-犀角"
        return text[: kind.length] if kind.length else text
    raise AssertionError(f"no seed value for {table}.{column.name} of type {kind!r}: extend _value")


def seed_every_table(url: str, tag: str) -> dict[str, int]:
    """Insert one row into every table of the database's current schema; returns row counts after.

    Tables are filled parents first; a nullable foreign key to a table not yet
    filled stays NULL (that breaks the listings <-> scores cycle).
    """
    engine = db.make_engine(url)
    try:
        with engine.begin() as connection:
            metadata, inspector = _reflect(connection), sa.inspect(connection)
            ids: dict[str, int] = {}
            pending = list(metadata.tables.values())
            while pending:
                def ready(table, strict):
                    return all(fk.column.table.name in ids or fk.column.table is table
                               or (not strict and fk.parent.nullable) for fk in table.foreign_keys)
                strict = [t for t in pending if ready(t, True)]
                table = strict[0] if strict else next(t for t in pending if ready(t, False))
                pending.remove(table)
                row = {}
                for column in table.columns:
                    if column.primary_key and isinstance(column.type, sa.Integer):
                        continue
                    fks = list(column.foreign_keys)
                    if fks:
                        row[column.name] = ids.get(fks[0].column.table.name)
                    else:
                        row[column.name] = _value(column, table.name, tag, inspector, connection.dialect.name)
                ids[table.name] = connection.execute(table.insert().values(row)).inserted_primary_key[0]
            return {name: connection.scalar(sa.select(sa.func.count()).select_from(table))
                    for name, table in metadata.tables.items()}
    finally:
        engine.dispose()


def row_counts(url: str) -> dict[str, int]:
    engine = db.make_engine(url)
    try:
        with engine.connect() as connection:
            metadata = _reflect(connection)
            return {name: connection.scalar(sa.select(sa.func.count()).select_from(table))
                    for name, table in metadata.tables.items()}
    finally:
        engine.dispose()


def assert_usable_at_head(url: str) -> None:
    """The models read every migrated row, and the repository writes on top of them."""
    engine = db.make_engine(url)
    try:
        with db.session_scope(engine) as session:
            for mapper in Base.registry.mappers:
                session.scalars(sa.select(mapper.class_)).all()
            market = repo.get_or_create_marketplace(session, "after-migration")
            run = repo.start_run(session, market)
            item = ListingItem("after-migration", "1", "http://127.0.0.1/1", "象牙手镯")
            ids = repo.upsert_listings(session, run, market, [{**item.to_dict(), "content_hash": item.content_hash()}])
            model = repo.ensure_model_version(session, "m-after-migration", {})
            assert repo.record_scores(session, run, model, [(ids["1"], {"score": 0.9, "flagged": True})]) == 1
            repo.add_decision(session, ids["1"], "mei", "confirmed")
    finally:
        engine.dispose()


def test_revisions_form_one_chain():
    scripts = ScriptDirectory.from_config(db.alembic_config())
    assert len(scripts.get_heads()) == 1 and REVISIONS[-1] == db.head_revision()
    for previous, revision in zip([None, *REVISIONS], REVISIONS):
        assert scripts.get_revision(revision).down_revision == previous


def test_each_revision_in_turn_keeps_the_rows_of_the_one_before(db_url, report):
    assert db.current_revision(db_url) is None
    counts: dict[str, int] = {}
    for revision in REVISIONS:
        db.upgrade(db_url, revision)
        assert db.current_revision(db_url) == revision
        after = row_counts(db_url)
        assert {name: after[name] for name in counts if name in after} == \
            {name: n for name, n in counts.items() if name in after}, f"rows lost migrating to {revision}"
        counts = seed_every_table(db_url, f"r{revision}")
    assert TABLES <= set(counts)
    assert schema_diff(db_url) == []
    assert_usable_at_head(db_url)
    db.upgrade(db_url)  # at head already: a no-op
    assert db.current_revision(db_url) == db.head_revision()
    report(f"[migrations] {len(REVISIONS)} revisions walked one by one with rows present ({' -> '.join(REVISIONS)})")


def test_previous_revision_upgrades_to_head_with_the_cli(db_url, tmp_path, trained_models_dir):
    previous = REVISIONS[-2] if len(REVISIONS) > 1 else "base"
    if previous != "base":
        db.upgrade(db_url, previous)
        counts = seed_every_table(db_url, "previous")
    else:
        counts = {}
    env = wildwatch_env(tmp_path / "data", trained_models_dir, WILDWATCH_DATABASE_URL=db_url)
    result = invoke(["db", "upgrade"], env)
    assert result.returncode == 0, result.stderr
    assert f"{db.redact(db_url)} at revision {db.head_revision()}" in result.stdout  # postgresql+psycopg:// in pass 2
    current = invoke(["db", "current"], env)
    assert current.returncode == 0 and current.stdout.strip() == db.head_revision()
    after = row_counts(db_url)
    assert {name: after[name] for name in counts} == counts
    assert schema_diff(db_url) == []
    assert_usable_at_head(db_url)


def test_downgrade_then_upgrade_round_trip(db_url):
    db.upgrade(db_url)
    counts = seed_every_table(db_url, "head")
    if len(REVISIONS) > 1:  # one step down and up again keeps the rows of the tables both revisions have
        db.downgrade(db_url, REVISIONS[-2])
        assert db.current_revision(db_url) == REVISIONS[-2]
        both = set(row_counts(db_url)) & set(counts)  # a table the newest revision created is dropped with it
        db.upgrade(db_url)
        after = row_counts(db_url)
        assert {name: after[name] for name in both} == {name: counts[name] for name in both}
    for revision in reversed([None, *REVISIONS[:-1]]):  # every step down to nothing
        db.downgrade(db_url, revision or "base")
        assert db.current_revision(db_url) == revision
    engine = db.make_engine(db_url)
    try:
        assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}
        with pytest.raises(StoreError, match="migrate it first"):
            db.require_current_schema(engine)
    finally:
        engine.dispose()
    db.upgrade(db_url)
    assert db.current_revision(db_url) == db.head_revision()
    assert schema_diff(db_url) == []


def test_model_comparison_would_notice_a_difference(engine):
    # Guards the "no difference" assertions above against passing vacuously.
    changed = sa.MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.sorted_tables:
        table.to_metadata(changed)
    changed.tables["listings"].append_column(sa.Column("extra_column", sa.Integer()))
    diff = schema_diff(engine.url.render_as_string(hide_password=False), changed)
    assert any(op[0] == "add_column" and op[3].name == "extra_column" for op in diff)


def test_json_columns_are_jsonb_on_postgresql_and_json_on_sqlite(engine):
    expected = {(table.name, column.name) for table in Base.metadata.sorted_tables for column in table.columns
                if isinstance(column.type, type(JSONType))}
    assert ("listings", "images") in expected and ("scores", "evidence") in expected
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            found = {(t, c): kind for t, c, kind in connection.execute(sa.text(
                "SELECT table_name, column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND data_type IN ('json', 'jsonb')"))}
            assert found == {key: "jsonb" for key in expected}
        else:
            found = {(table, row[1]): row[2] for table in {t for t, _ in expected}
                     for row in connection.exec_driver_sql(f"PRAGMA table_info({table})")}
            assert {key: found[key] for key in expected} == {key: "JSON" for key in expected}

"""Engine, session and schema-migration entry points for SQLite and PostgreSQL.

SQLite is the zero-setup default for one analyst's machine; PostgreSQL is for
production. Everything that differs between them (pragmas, pooling, the
upsert dialect) is decided here or in one small helper, so repository code is
the same for both.
"""
from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from store.errors import StoreError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 30_000
POSTGRES_CONNECT_TIMEOUT_S = 10

_SUPPORTED = {"sqlite": {"pysqlite"}, "postgresql": {"psycopg"}}


_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s'\"<>]*")
# Query parameters that carry secrets (libpq's password, sslpassword; tokens and keys of other drivers).
_SECRET_PARAM = re.compile(r"((?:^|[?&;])[^=&;#]*(?:pass|pwd|secret|token|key)[^=&;#]*=)[^&;#]*", re.IGNORECASE)


def _redact_one(url: str) -> str:
    scheme, _, rest = url.partition("://")
    cut = min([i for i in (rest.find("?"), rest.find("#")) if i >= 0] + [len(rest)])
    authority_and_path, query = rest[:cut], rest[cut:]
    userinfo, _, host = authority_and_path.rpartition("@")  # the LAST @ ends them: a password may hold @ and /
    if "@" in authority_and_path.split("/")[0]:
        user, colon, _password = userinfo.partition(":")
        authority_and_path = f"{user.split('/')[0]}{':***' if colon else ''}@{host}"
    return f"{scheme}://{authority_and_path}{_SECRET_PARAM.sub(lambda m: m.group(1) + '***', query)}"


def redact(url: str | URL) -> str:
    """The URL (or any text with URLs in it) with every password form replaced by ***, safe for logs and errors.

    Covers user:password@ (a password containing @ or /, encoded or not) and secret query
    parameters (?password=, &sslpassword=, ...); text only, so an unparsable URL is redacted too.
    """
    text = url.render_as_string(hide_password=False) if isinstance(url, URL) else str(url)
    return _URL_IN_TEXT.sub(lambda m: _redact_one(m.group()), text)


def parse_url(url: str) -> URL:
    """Parse and check a database URL; plain postgresql:// means psycopg 3.

    Raises StoreError naming the (redacted) URL when it cannot be used, so a
    typo in WILDWATCH_DATABASE_URL fails before any crawling starts.
    """
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError, TypeError) as exc:
        raise StoreError(f"cannot parse database URL {redact(str(url))!r}: {exc}") from None
    backend = "postgresql" if parsed.get_backend_name() in ("postgres", "postgresql") else parsed.get_backend_name()
    driver = parsed.get_driver_name() if "+" in parsed.drivername else None
    if backend == "postgresql" and driver is None:
        driver = "psycopg"
    if backend == "sqlite" and driver is None:
        driver = "pysqlite"
    if backend not in _SUPPORTED or driver not in _SUPPORTED[backend]:
        raise StoreError(
            f"unsupported database URL {redact(parsed)!r}: use sqlite:///path/to/file.db "
            "or postgresql+psycopg://user@host:port/dbname"
        )
    if backend == "sqlite":
        return parsed  # keep "sqlite:///..." as the user wrote it in messages
    return parsed.set(drivername=f"{backend}+{driver}")


def describe_error(exc: BaseException) -> str:
    """One line for a database error: the driver's first line, without SQLAlchemy's SQL dump and links.

    psycopg puts "connection failed: " and a hint on further lines; SQLAlchemy
    appends the statement and a "Background on this error" URL. A user needs
    only the first line of the driver's message, with any password redacted.
    """
    orig = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(orig).strip().splitlines() if line.strip()]
    text = lines[0] if lines else type(orig).__name__
    text = re.sub(r"^connection failed:\s*", "", text)
    return redact(text)


def _dumps(value: Any) -> str:
    # Keep Chinese readable in SQLite's JSON text (PostgreSQL JSONB does anyway).
    return json.dumps(value, ensure_ascii=False)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL, much faster commits
    finally:
        cursor.close()


def make_engine(url: str) -> Engine:
    """An Engine for `url` with the settings the store relies on.

    SQLite: the database file's directory is created, foreign keys are
    enforced, WAL lets the review app read while a crawl writes, and a busy
    timeout makes concurrent writers wait instead of failing. PostgreSQL:
    pool_pre_ping survives server restarts between nightly runs.
    """
    parsed = parse_url(url)
    options: dict[str, Any] = {"json_serializer": _dumps}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            try:
                Path(database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            except OSError as exc:
                raise StoreError(f"cannot create the directory for {redact(parsed)!r}: {exc}") from exc
        options["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
    else:
        options["pool_pre_ping"] = True
        # An unreachable host fails in seconds instead of the OS's minutes-long TCP timeout.
        options["connect_args"] = {"connect_timeout": POSTGRES_CONNECT_TIMEOUT_S}
    try:
        engine = create_engine(parsed, **options)
    except (ArgumentError, ImportError) as exc:
        raise StoreError(f"cannot create an engine for {redact(parsed)!r}: {exc}") from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A Session that commits when the block succeeds and rolls back when it raises.

    Objects stay usable after the block (expire_on_commit=False): the crawler
    keeps its Marketplace and CrawlRun across many short write transactions.
    """
    with transaction(sessionmaker(bind=engine, expire_on_commit=False)) as session:
        yield session


@contextmanager
def transaction(sessions: sessionmaker) -> Iterator[Session]:
    """A Session from `sessions` that commits when the block succeeds and rolls back when it raises (a
    long-lived factory, such as the review app's, need not be built again for every request)."""
    session = sessions()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def lock_for_writing(session: Session) -> None:
    """SQLite: take the database's write lock now (BEGIN IMMEDIATE), before this transaction reads what it
    will decide on, so a concurrent writer cannot slip in between the read and the write; the other writer
    waits (busy timeout) and then reads the result. PostgreSQL needs nothing here: lock rows FOR UPDATE."""
    if session.get_bind().dialect.name != "sqlite":
        return
    connection = session.connection().connection.driver_connection
    if not connection.in_transaction:  # pysqlite opens a transaction only at the first write
        connection.execute("BEGIN IMMEDIATE")


def alembic_config() -> Config:
    """Alembic configuration built in code: the migrations ship inside this package."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    """The newest migration this code ships."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships migrations
        raise StoreError(f"no migrations found in {MIGRATIONS_DIR}")
    return head


def _migrate(url: str, step, revision: str, what: str) -> None:
    """Run one Alembic command on `url` inside a transaction; failures become a StoreError."""
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            step(config, revision)
    except SQLAlchemyError as exc:
        raise StoreError(f"migrating {redact(url)!r} {what} {revision!r} failed: {describe_error(exc)}") from exc
    finally:
        engine.dispose()


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at `url` to `revision` (creates it from nothing too); a SQLite file is made owner-only."""
    _migrate(url, command.upgrade, revision, "to")
    _owner_only_sqlite(url)


def _owner_only_sqlite(url: str) -> None:
    """The SQLite file and its -wal/-shm at 0600: they hold password hashes and analysts' notes."""
    parsed = parse_url(url)
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:" or database.startswith("file:"):
        return
    for suffix in ("", "-wal", "-shm"):
        path = Path(database + suffix).expanduser()
        try:
            if path.is_file() and path.stat().st_uid == os.getuid():
                path.chmod(0o600)
        except OSError:
            pass


def downgrade(url: str, revision: str) -> None:
    """Migrate the database at `url` down to `revision` ("base" removes every table)."""
    _migrate(url, command.downgrade, revision, "down to")


def current_revision(url: str) -> str | None:
    """The database's migration revision, or None when it was never migrated."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot read the schema revision of {redact(url)!r}: {describe_error(exc)}") from exc
    finally:
        engine.dispose()


def require_current_schema(engine: Engine) -> None:
    """Raise StoreError unless the database is migrated to this code's head.

    Writers call this before a crawl so an old schema fails loudly at start
    instead of halfway through a night's batch.
    """
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot read the schema revision of {redact(engine.url)!r}: {describe_error(exc)}") from exc
    head = head_revision()
    if current != head:
        raise StoreError(
            f"database {redact(engine.url)!r} is at revision {current!r}, this code needs {head!r}: "
            "migrate it first: `wildwatch db upgrade` (store.db.upgrade(url))"
        )

"""Before a night's crawl: can the database be written at all?

A read-only database file (or folder, or file system), a full disk, or a PostgreSQL server in
read-only mode would otherwise show up only when the first batch of listings is stored, as a
stack trace in the middle of a crawl. One committed no-op write at the start says so in one line.
"""
from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from store.db import describe_error, make_engine, redact
from store.errors import StoreError

_HINTS = (
    ("readonly", "the database file, its folder or its file system is read-only"),
    ("read-only", "the database or its file system is read-only"),
    ("disk is full", "the disk holding the database is full"),
    ("disk i/o error", "the disk holding the database failed to write (full, or failing)"),
    ("unable to open", "the database file or its folder cannot be opened for writing"),
)


def check_writable(url: str) -> None:
    """Commit a write that changes nothing (the schema version row rewritten as it is); StoreError if refused."""
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = version_num"))
    except SQLAlchemyError as exc:
        reason = describe_error(exc)
        hint = next((h for needle, h in _HINTS if needle in reason.lower()), None)
        raise StoreError(f"cannot write to the database {redact(url)!r}: {reason}"
                         + (f" ({hint})" if hint else "")) from None
    finally:
        engine.dispose()

"""The one place that knows SQLite and PostgreSQL spell INSERT ... ON CONFLICT differently."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from store.errors import StoreError


def dialect_insert(session: Session, table: Table) -> Any:
    """An INSERT for `table` that supports `.on_conflict_do_update` on this session's database."""
    name = session.get_bind().dialect.name
    if name == "sqlite":
        return sqlite.insert(table)
    if name == "postgresql":
        return postgresql.insert(table)
    raise StoreError(f"upserts are implemented for SQLite and PostgreSQL, not {name!r}")

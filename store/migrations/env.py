"""Alembic environment for wildwatch's store.

Two ways in: store.db.upgrade() passes an open connection through
`config.attributes["connection"]` (the normal path, no URL in any file), and
the alembic CLI (`alembic -c store/alembic.ini ...`) builds an engine from
`-x url=...` or WILDWATCH_DATABASE_URL, for writing new migrations.
"""
from __future__ import annotations

from typing import Any, Literal

from alembic import context
from sqlalchemy.engine import Connection

from store.columns import UTCDateTime
from store.db import make_engine
from store.models import Base
from wildwatch.config import configured_database_url

config = context.config
target_metadata = Base.metadata


def _render_item(type_: str, obj: Any, _autogen_context: Any) -> str | Literal[False]:
    """Render store-specific types as plain SQLAlchemy so migrations stay frozen."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=_render_item,
    )


def _run(connection: Connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()


def _cli_url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or configured_database_url()
    if not url:
        raise SystemExit("give the database: alembic -x url=sqlite:///data/wildwatch.db ... or WILDWATCH_DATABASE_URL")
    return url


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run against a database")

connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = make_engine(_cli_url())
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()

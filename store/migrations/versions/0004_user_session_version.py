"""Users carry a session version: a review-app session is valid only while it matches.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05

Why: a signed session cookie could not be revoked (issue 17, break 4): after
logout the old cookie still worked, and a password change or a deactivated
account ended no session. Every session now records the user's
`session_version` at login, the app compares it on every request, and logout,
`wildwatch users passwd` and `wildwatch users deactivate` add one to it.
Existing rows start at 0 (a server default, so the ADD COLUMN needs no
backfill on SQLite or PostgreSQL).
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("session_version", sa.Integer(), nullable=False, server_default=sa.text("0")))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:  # SQLite rebuilds the table; PostgreSQL drops the column
        batch.drop_column("session_version")

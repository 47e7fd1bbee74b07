"""Listings carry their current score and decision, indexed for the review queue and the exports.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26

Why: every queue page, filter menu, count and export used to rank the whole
`scores` table (and `decisions`) to find each listing's newest row; at 100k
listings one queue page took over 10 s. The newest score (scored_at, id) and
the newest decision (decided_at, id) are now repeated on the listing
(`current_*` columns, kept by store.repository in the same transaction as each
new history row); `scores` and `decisions` stay the complete, append-only
history. The backfill is two set-based UPDATEs per history table that use the
existing (listing_id, time) indexes, so it works unchanged on SQLite and
PostgreSQL.

The two pointer columns are added with plain `ALTER TABLE ... ADD COLUMN ...
CONSTRAINT ... REFERENCES`, which both databases accept (Alembic would need
batch mode, a copy of the whole table, to add a foreign key on SQLite).
Types are spelled out so the migration stays frozen when the models change.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")

#: (pointer column, history table (alias h), order of "newest", copied: listing column -> history column)
_CURRENT = (
    ("current_score_id", "scores", "h.scored_at DESC, h.id DESC",
     {"current_score": "score", "current_flagged": "flagged", "current_threshold": "threshold",
      "current_species": "species"}),
    ("current_decision_id", "decisions", "h.decided_at DESC, h.id DESC", {"current_decision": "decision"}),
)
_INDEXES = (
    ("ix_listings_current_flagged_score", ["current_flagged", "current_score"]),
    ("ix_listings_current_decision_score", ["current_decision", "current_score"]),
    ("ix_listings_marketplace_current", ["marketplace_id", "current_score", "current_flagged"]),
)


def upgrade() -> None:
    for pointer, history, _order, _copied in _CURRENT:
        op.execute(f"ALTER TABLE listings ADD COLUMN {pointer} INTEGER "
                   f"CONSTRAINT fk_listings_{pointer}_{history} REFERENCES {history} (id)")
    op.add_column("listings", sa.Column("current_score", sa.Float(), nullable=True))
    op.add_column("listings", sa.Column("current_flagged", sa.Boolean(), nullable=True))
    op.add_column("listings", sa.Column("current_threshold", sa.Float(), nullable=True))
    op.add_column("listings", sa.Column("current_species", JSON, nullable=True))
    op.add_column("listings", sa.Column("current_decision", sa.String(length=20), nullable=True))
    for pointer, history, order, copied in _CURRENT:
        op.execute(f"UPDATE listings SET {pointer} = (SELECT h.id FROM {history} h "
                   f"WHERE h.listing_id = listings.id ORDER BY {order} LIMIT 1)")
        assignments = ", ".join(f"{column} = h.{source}" for column, source in copied.items())
        op.execute(f"UPDATE listings SET {assignments} FROM {history} h WHERE h.id = listings.{pointer}")
    for name, columns in _INDEXES:
        op.create_index(name, "listings", columns)
    # The queue reads listings highest score first, unscored last. PostgreSQL walks an index in that
    # order only if it says NULLS LAST; SQLite refuses NULLS in an index and sorts NULL lowest anyway.
    nulls = " NULLS LAST" if op.get_bind().dialect.name == "postgresql" else ""
    op.execute(f"CREATE INDEX ix_listings_current_score ON listings (current_score DESC{nulls})")


def downgrade() -> None:
    for name in ("ix_listings_current_score", *(name for name, _columns in _INDEXES)):
        op.drop_index(name, table_name="listings")
    # SQLite drops a column only when no index names it (dropped above); PostgreSQL drops its foreign key too.
    for column in ("current_decision", "current_species", "current_threshold", "current_flagged", "current_score",
                   "current_decision_id", "current_score_id"):
        op.drop_column("listings", column)

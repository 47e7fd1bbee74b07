"""Scores name their taxon and its protection; listings repeat it for the queue's protection order.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05

Why: an analyst asks first which species and how strictly protected (China Class I/II, CITES
Appendix I/II/III). The scorer now names the most specific taxon of data/taxa with its status;
each score keeps it (`taxon` as JSON for the page and the evidence package, plus the id, class,
appendix and a protection rank 0-3 as plain columns), and the listing repeats the current
score's values (`current_*`, kept by store.repository like the other current columns) so the
queue filters and sorts by protection on an index. Old scores have no taxon: NULL, shown as
"not assessed"; rescoring fills them.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")

_COPIED = {"current_taxon_id": "taxon_id", "current_protection_rank": "protection_rank",
           "current_china_class": "china_class", "current_cites_appendix": "cites_appendix"}


def upgrade() -> None:
    op.add_column("scores", sa.Column("taxon", JSON, nullable=True))
    op.add_column("scores", sa.Column("taxon_id", sa.String(length=120), nullable=True))
    op.add_column("scores", sa.Column("protection_rank", sa.Integer(), nullable=True))
    op.add_column("scores", sa.Column("china_class", sa.String(length=4), nullable=True))
    op.add_column("scores", sa.Column("cites_appendix", sa.String(length=16), nullable=True))
    op.add_column("listings", sa.Column("current_taxon_id", sa.String(length=120), nullable=True))
    op.add_column("listings", sa.Column("current_protection_rank", sa.Integer(), nullable=True))
    op.add_column("listings", sa.Column("current_china_class", sa.String(length=4), nullable=True))
    op.add_column("listings", sa.Column("current_cites_appendix", sa.String(length=16), nullable=True))
    assignments = ", ".join(f"{column} = h.{source}" for column, source in _COPIED.items())
    op.execute(f"UPDATE listings SET {assignments} FROM scores h WHERE h.id = listings.current_score_id")
    op.create_index("ix_listings_current_protection", "listings",
                    ["current_flagged", "current_protection_rank", "current_score"])


def downgrade() -> None:
    op.drop_index("ix_listings_current_protection", table_name="listings")
    for column in _COPIED:
        op.drop_column("listings", column)
    for column in ("cites_appendix", "china_class", "protection_rank", "taxon_id", "taxon"):
        op.drop_column("scores", column)

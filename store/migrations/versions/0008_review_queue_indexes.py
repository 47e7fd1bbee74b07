"""The review queue's pages from indexes alone: its order (score, last seen, id) and "most uncertain first".

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05

Why: at 100,000 listings the queue page walked the score index and read every listing row up to
the page (the listings' wide rows: title, description), then sorted ties by last seen; "most
uncertain first" sorted the whole queue by distance to the threshold on every view (about a
second). ix_listings_queue_order holds the whole order plus what the queue's membership and
status filters read (flagged, decision), so a page is found in the index without the table;
it replaces ix_listings_current_score, its first column. ix_listings_uncertainty indexes the
distance expression exactly as the queue query writes it (store.models.UNCERTAINTY), so SQLite and PostgreSQL
walk it instead of sorting. The listing page's "the seller's other listings" walked a whole
marketplace's listings by score until it had found 50 of one seller's (40 ms at the 95th percentile
at 100k listings); two indexes walk one seller's, by id or by name. The decision index keeps decided
listings only: "undecided" (IS NULL, most of the table) led SQLite's planner to it, to read every
undecided listing and sort them, where the order's index finds a page at once. The species menu
reads the distinct species lists of flagged listings from an index instead of their rows (145 ms to
9 ms at 100k on SQLite). "Most protected first" sorted the whole queue too (0.4-0.5 s): its order
(protection rank, score, id) gets an index like the score order's.
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: As store.models.UNCERTAINTY (the queue query): the index is used only when the expression is the same.
UNCERTAINTY = "abs(current_score - coalesce(current_threshold, 0.5))"
SELLER_INDEXES = (("ix_listings_marketplace_seller", "seller_id"), ("ix_listings_marketplace_seller_name", "seller_name"))


def upgrade() -> None:
    # PostgreSQL walks an index in the queue's order only if it says NULLS LAST; SQLite refuses NULLS in an
    # index and sorts NULL lowest anyway (as 0003 did for ix_listings_current_score).
    nulls = " NULLS LAST" if op.get_bind().dialect.name == "postgresql" else ""
    op.execute("CREATE INDEX ix_listings_queue_order ON listings "
               f"(current_score DESC{nulls}, last_seen_at DESC, id, current_flagged, current_decision)")
    op.execute(f"CREATE INDEX ix_listings_uncertainty ON listings ({UNCERTAINTY}, id, current_flagged, current_decision)")
    op.drop_index("ix_listings_current_score", table_name="listings")
    for name, seller in SELLER_INDEXES:
        op.execute(f"CREATE INDEX {name} ON listings (marketplace_id, {seller}, current_score DESC{nulls}, id)")
    op.drop_index("ix_listings_current_decision_score", table_name="listings")
    op.execute("CREATE INDEX ix_listings_current_decision_score ON listings (current_decision, current_score) "
               "WHERE current_decision IS NOT NULL")
    op.create_index("ix_listings_flagged_species", "listings", ["current_flagged", "current_species"])
    op.execute(f"CREATE INDEX ix_listings_protection_order ON listings (current_protection_rank{nulls}, "
               f"current_score DESC{nulls}, id, current_flagged, current_decision)")


def downgrade() -> None:
    op.drop_index("ix_listings_protection_order", table_name="listings")
    op.drop_index("ix_listings_flagged_species", table_name="listings")
    op.drop_index("ix_listings_current_decision_score", table_name="listings")
    op.create_index("ix_listings_current_decision_score", "listings", ["current_decision", "current_score"])
    for name, _seller in SELLER_INDEXES:
        op.drop_index(name, table_name="listings")
    nulls = " NULLS LAST" if op.get_bind().dialect.name == "postgresql" else ""
    op.execute(f"CREATE INDEX ix_listings_current_score ON listings (current_score DESC{nulls})")
    op.drop_index("ix_listings_uncertainty", table_name="listings")
    op.drop_index("ix_listings_queue_order", table_name="listings")

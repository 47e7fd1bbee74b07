"""Contact handles per listing, and seller networks with their links, common keys and decisions.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05

Why (issue 14): enforcement acts on sellers, not single listings. `listing_handles` keeps every
contact handle found in a listing field (normalised, with first/last seen), written with the
listings themselves. `seller_accounts` are (marketplace, seller id); `seller_networks` join accounts
that share a handle or an image, `seller_links` say why, `seller_common_keys` list keys too common
to link (a platform's service line), and `seller_decisions` are analysts' verdicts on a network
(append-only; a trigger refuses edits, like the audit log).
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
DECISION_CHECK = "decision IN ('confirmed', 'false_positive', 'needs_expert', 'escalated')"

_SQLITE_TRIGGERS = [
    """CREATE TRIGGER seller_decisions_no_update BEFORE UPDATE ON seller_decisions
       BEGIN SELECT RAISE(ABORT, 'seller_decisions is append-only'); END""",
    """CREATE TRIGGER seller_decisions_no_delete BEFORE DELETE ON seller_decisions
       BEGIN SELECT RAISE(ABORT, 'seller_decisions is append-only'); END""",
]
_POSTGRES_TRIGGERS = [
    """CREATE FUNCTION seller_decisions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'seller_decisions is append-only'; END $$""",
    """CREATE TRIGGER seller_decisions_no_change BEFORE UPDATE OR DELETE ON seller_decisions
       FOR EACH ROW EXECUTE FUNCTION seller_decisions_append_only()""",
]


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "listing_handles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("listing_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=100), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        _ts("first_seen_at"),
        _ts("last_seen_at"),
        sa.Column("first_run_id", sa.Integer(), nullable=True),
        sa.Column("last_run_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["listing_id"], ["listings.id"], name=op.f("fk_listing_handles_listing_id_listings")),
        sa.ForeignKeyConstraint(["first_run_id"], ["crawl_runs.id"],
                                name=op.f("fk_listing_handles_first_run_id_crawl_runs")),
        sa.ForeignKeyConstraint(["last_run_id"], ["crawl_runs.id"],
                                name=op.f("fk_listing_handles_last_run_id_crawl_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listing_handles")),
        sa.UniqueConstraint("listing_id", "field", "type", "value",
                            name=op.f("uq_listing_handles_listing_id_field_type_value")),
    )
    op.create_index(op.f("ix_listing_handles_listing_id"), "listing_handles", ["listing_id"])
    op.create_index("ix_listing_handles_type_value", "listing_handles", ["type", "value"])

    op.create_table(
        "seller_networks",
        sa.Column("id", sa.Integer(), nullable=False),
        _ts("created_at"),
        _ts("built_at"),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("merged_into_id", sa.Integer(), nullable=True),
        sa.Column("accounts", sa.Integer(), nullable=False),
        sa.Column("listings", sa.Integer(), nullable=False),
        sa.Column("marketplaces", JSON, nullable=False),
        sa.Column("risk", sa.Float(), nullable=False),
        sa.Column("max_score", sa.Float(), nullable=True),
        sa.Column("flagged", sa.Integer(), nullable=False),
        sa.Column("confirmed", sa.Integer(), nullable=False),
        sa.Column("risk_reason", sa.Text(), nullable=False),
        sa.Column("current_decision", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(["merged_into_id"], ["seller_networks.id"],
                                name=op.f("fk_seller_networks_merged_into_id_seller_networks")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seller_networks")),
    )
    op.create_index("ix_seller_networks_active_risk", "seller_networks", ["active", "risk"])

    op.create_table(
        "seller_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("marketplace_id", sa.Integer(), nullable=False),
        sa.Column("account_key", sa.String(length=255), nullable=False),
        sa.Column("seller_id", sa.Text(), nullable=True),
        sa.Column("seller_name", sa.Text(), nullable=True),
        sa.Column("network_id", sa.Integer(), nullable=True),
        sa.Column("listings", sa.Integer(), nullable=False),
        sa.Column("risk", sa.Float(), nullable=False),
        sa.Column("max_score", sa.Float(), nullable=True),
        sa.Column("flagged", sa.Integer(), nullable=False),
        _ts("first_seen_at", nullable=True),
        _ts("last_seen_at", nullable=True),
        _ts("built_at"),
        sa.ForeignKeyConstraint(["marketplace_id"], ["marketplaces.id"],
                                name=op.f("fk_seller_accounts_marketplace_id_marketplaces")),
        sa.ForeignKeyConstraint(["network_id"], ["seller_networks.id"],
                                name=op.f("fk_seller_accounts_network_id_seller_networks")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seller_accounts")),
        sa.UniqueConstraint("marketplace_id", "account_key", name=op.f("uq_seller_accounts_marketplace_id_account_key")),
    )
    op.create_index(op.f("ix_seller_accounts_network_id"), "seller_accounts", ["network_id"])

    op.create_table(
        "seller_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("network_id", sa.Integer(), nullable=False),
        sa.Column("account_a_id", sa.Integer(), nullable=False),
        sa.Column("account_b_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("evidence", JSON, nullable=False),
        _ts("built_at"),
        sa.ForeignKeyConstraint(["network_id"], ["seller_networks.id"],
                                name=op.f("fk_seller_links_network_id_seller_networks")),
        sa.ForeignKeyConstraint(["account_a_id"], ["seller_accounts.id"],
                                name=op.f("fk_seller_links_account_a_id_seller_accounts")),
        sa.ForeignKeyConstraint(["account_b_id"], ["seller_accounts.id"],
                                name=op.f("fk_seller_links_account_b_id_seller_accounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seller_links")),
    )
    op.create_index(op.f("ix_seller_links_network_id"), "seller_links", ["network_id"])

    op.create_table(
        "seller_common_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("accounts", sa.Integer(), nullable=False),
        sa.Column("marketplaces", JSON, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        _ts("built_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seller_common_keys")),
        sa.UniqueConstraint("source", "key", name=op.f("uq_seller_common_keys_source_key")),
    )

    op.create_table(
        "seller_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("network_id", sa.Integer(), nullable=False),
        sa.Column("analyst", sa.String(length=100), nullable=False),
        sa.Column("decision", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        _ts("decided_at"),
        sa.Column("members", JSON, nullable=False),
        sa.CheckConstraint(DECISION_CHECK, name=op.f("ck_seller_decisions_decision")),
        sa.ForeignKeyConstraint(["network_id"], ["seller_networks.id"],
                                name=op.f("fk_seller_decisions_network_id_seller_networks")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seller_decisions")),
    )
    op.create_index("ix_seller_decisions_network_decided", "seller_decisions", ["network_id", "decided_at"])
    for statement in _POSTGRES_TRIGGERS if op.get_bind().dialect.name == "postgresql" else _SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS seller_decisions_no_change ON seller_decisions")
        op.execute("DROP FUNCTION IF EXISTS seller_decisions_append_only()")
    for table in ("seller_decisions", "seller_common_keys", "seller_links", "seller_accounts", "seller_networks",
                  "listing_handles"):
        op.drop_table(table)

"""Initial schema: marketplaces, crawl runs, listings, snapshots, model versions, scores, decisions.

Revision ID: 0001
Revises:
Create Date: 2026-11-25

Written from `alembic revision --autogenerate` output and checked by hand;
tests/store/test_store_db.py asserts that autogenerate finds no difference between
this migration and store.models on SQLite and PostgreSQL. Types are spelled out
here (not imported from store.columns) so the migration stays frozen when the
models change later.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "marketplaces",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("base_url", sa.Text(), nullable=True),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_marketplaces")),
        sa.UniqueConstraint("name", name=op.f("uq_marketplaces_name")),
    )
    op.create_table(
        "model_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=100), nullable=False),
        _ts("created_at"),
        sa.Column("metadata", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_versions")),
        sa.UniqueConstraint("version", name=op.f("uq_model_versions_version")),
    )
    op.create_table(
        "crawl_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("marketplace_id", sa.Integer(), nullable=False),
        sa.Column("nightly_id", sa.String(length=64), nullable=True),
        _ts("started_at"),
        _ts("finished_at", nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("stats", JSON, nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('running', 'succeeded', 'failed', 'partial')", name=op.f("ck_crawl_runs_status")
        ),
        sa.ForeignKeyConstraint(
            ["marketplace_id"], ["marketplaces.id"], name=op.f("fk_crawl_runs_marketplace_id_marketplaces")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crawl_runs")),
    )
    op.create_index("ix_crawl_runs_marketplace_started", "crawl_runs", ["marketplace_id", "started_at"])
    op.create_index(op.f("ix_crawl_runs_nightly_id"), "crawl_runs", ["nightly_id"])

    op.create_table(
        "listings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("marketplace_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("price", sa.Float(), nullable=True),
        sa.Column("currency", sa.String(length=16), nullable=True),
        sa.Column("price_text", sa.Text(), nullable=True),
        sa.Column("seller_id", sa.Text(), nullable=True),
        sa.Column("seller_name", sa.Text(), nullable=True),
        sa.Column("seller_url", sa.Text(), nullable=True),
        sa.Column("location", sa.Text(), nullable=True),
        sa.Column("images", JSON, nullable=False),
        sa.Column("posted_at", sa.Text(), nullable=True),
        sa.Column("category", sa.Text(), nullable=True),
        sa.Column("extraction", sa.String(length=32), nullable=False),
        sa.Column("rendered", sa.Boolean(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        _ts("first_seen_at"),
        _ts("last_seen_at"),
        _ts("gone_at", nullable=True),
        sa.Column("first_run_id", sa.Integer(), nullable=True),
        sa.Column("last_run_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["first_run_id"], ["crawl_runs.id"], name=op.f("fk_listings_first_run_id_crawl_runs")
        ),
        sa.ForeignKeyConstraint(["last_run_id"], ["crawl_runs.id"], name=op.f("fk_listings_last_run_id_crawl_runs")),
        sa.ForeignKeyConstraint(
            ["marketplace_id"], ["marketplaces.id"], name=op.f("fk_listings_marketplace_id_marketplaces")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listings")),
        sa.UniqueConstraint(
            "marketplace_id", "external_id", name=op.f("uq_listings_marketplace_id_external_id")
        ),
    )
    op.create_index(op.f("ix_listings_last_run_id"), "listings", ["last_run_id"])
    op.create_index(op.f("ix_listings_last_seen_at"), "listings", ["last_seen_at"])
    op.create_index("ix_listings_marketplace_last_seen", "listings", ["marketplace_id", "last_seen_at"])
    op.create_index(op.f("ix_listings_seller_id"), "listings", ["seller_id"])

    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("listing_id", sa.Integer(), nullable=False),
        sa.Column("analyst", sa.String(length=100), nullable=False),
        sa.Column("decision", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        _ts("decided_at"),
        sa.CheckConstraint(
            "decision IN ('confirmed', 'false_positive', 'needs_expert', 'escalated')",
            name=op.f("ck_decisions_decision"),
        ),
        sa.ForeignKeyConstraint(["listing_id"], ["listings.id"], name=op.f("fk_decisions_listing_id_listings")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decisions")),
    )
    op.create_index(op.f("ix_decisions_decided_at"), "decisions", ["decided_at"])
    op.create_index("ix_decisions_listing_decided", "decisions", ["listing_id", "decided_at"])

    op.create_table(
        "listing_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("listing_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        _ts("captured_at"),
        sa.Column("data", JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["listing_id"], ["listings.id"], name=op.f("fk_listing_snapshots_listing_id_listings")
        ),
        sa.ForeignKeyConstraint(["run_id"], ["crawl_runs.id"], name=op.f("fk_listing_snapshots_run_id_crawl_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listing_snapshots")),
    )
    op.create_index("ix_listing_snapshots_listing_captured", "listing_snapshots", ["listing_id", "captured_at"])
    op.create_index(op.f("ix_listing_snapshots_run_id"), "listing_snapshots", ["run_id"])

    op.create_table(
        "scores",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("listing_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("model_version_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("flagged", sa.Boolean(), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=True),
        sa.Column("species", JSON, nullable=False),
        sa.Column("evidence", JSON, nullable=False),
        _ts("scored_at"),
        sa.ForeignKeyConstraint(["listing_id"], ["listings.id"], name=op.f("fk_scores_listing_id_listings")),
        sa.ForeignKeyConstraint(
            ["model_version_id"], ["model_versions.id"], name=op.f("fk_scores_model_version_id_model_versions")
        ),
        sa.ForeignKeyConstraint(["run_id"], ["crawl_runs.id"], name=op.f("fk_scores_run_id_crawl_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scores")),
    )
    op.create_index("ix_scores_flagged_score", "scores", ["flagged", "score"])
    op.create_index("ix_scores_listing_latest", "scores", ["listing_id", "scored_at", "id"])
    op.create_index(op.f("ix_scores_model_version_id"), "scores", ["model_version_id"])
    op.create_index(op.f("ix_scores_run_id"), "scores", ["run_id"])
    op.create_index(op.f("ix_scores_scored_at"), "scores", ["scored_at"])


def downgrade() -> None:
    # Dropping a table drops its indexes too, on both SQLite and PostgreSQL.
    tables = ("scores", "listing_snapshots", "decisions", "listings", "crawl_runs", "model_versions", "marketplaces")
    for table in tables:
        op.drop_table(table)

"""Listing images: stored once by content hash, with a perceptual hash, OCR text, and per-snapshot links.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05

Why (issue 14, parts 2 and 3): traders move the incriminating part of a listing into its photos (a WeChat
ID, the price, the product's name) and reuse the same photos under new accounts. wildwatch kept only the
image URLs. `images` holds each distinct picture once (SHA-256 of its bytes; the file lives under the
data dir), its 64-bit pHash for finding reused photos, and the text Tesseract read in it (filled by the
OCR stage after the crawl, NULL until then). `listing_images` says which pictures a listing showed at
each snapshot, and which downloads were refused and why. Types are spelled out so the migration stays
frozen when the models change.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "images",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("phash", sa.String(length=16), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("bytes", sa.Integer(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ocr_text", sa.Text(), nullable=True),
        sa.Column("ocr_engine", sa.String(length=100), nullable=True),
        sa.Column("ocr_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ocr_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_images")),
        sa.UniqueConstraint("sha256", name=op.f("uq_images_sha256")),
    )
    op.create_index(op.f("ix_images_phash"), "images", ["phash"])
    op.create_index(op.f("ix_images_ocr_at"), "images", ["ocr_at"])
    op.create_table(
        "listing_images",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("listing_id", sa.Integer(), nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("image_id", sa.Integer(), nullable=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('stored', 'refused')", name=op.f("ck_listing_images_status")),
        sa.ForeignKeyConstraint(["listing_id"], ["listings.id"], name=op.f("fk_listing_images_listing_id_listings")),
        sa.ForeignKeyConstraint(["snapshot_id"], ["listing_snapshots.id"],
                                name=op.f("fk_listing_images_snapshot_id_listing_snapshots")),
        sa.ForeignKeyConstraint(["run_id"], ["crawl_runs.id"], name=op.f("fk_listing_images_run_id_crawl_runs")),
        sa.ForeignKeyConstraint(["image_id"], ["images.id"], name=op.f("fk_listing_images_image_id_images")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listing_images")),
    )
    op.create_index("ix_listing_images_listing_snapshot", "listing_images", ["listing_id", "snapshot_id"])
    op.create_index(op.f("ix_listing_images_run_id"), "listing_images", ["run_id"])
    op.create_index(op.f("ix_listing_images_image_id"), "listing_images", ["image_id"])


def downgrade() -> None:
    op.drop_table("listing_images")
    op.drop_table("images")

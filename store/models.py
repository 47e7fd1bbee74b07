"""The audit-trail schema: every listing, content change, score and decision, timestamped.

Nothing here is ever deleted or overwritten in place except a listing's
"current" columns; history lives in `listing_snapshots`, `scores` and
`decisions`. A nightly run that crawls several marketplaces writes one
`crawl_runs` row per marketplace, grouped by the optional `nightly_id`, so each
row has one marketplace, one status and one set of stats.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from store.columns import JSONType, UTCDateTime, utcnow
from store.errors import StoreError

RUN_STATUSES = ("running", "succeeded", "failed", "partial")
FINISHED_STATUSES = ("succeeded", "failed", "partial")
DECISIONS = ("confirmed", "false_positive", "needs_expert", "escalated")

# Alembic needs deterministic constraint names to alter or drop them later,
# and SQLite batch mode cannot find unnamed ones at all.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _in(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSONType,
        list[Any]: JSONType,
    }


class Marketplace(Base):
    """A site we crawl; `name` is the key used in site configs and items."""

    __tablename__ = "marketplaces"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    base_url: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"Marketplace(id={self.id!r}, name={self.name!r})"


class CrawlRun(Base):
    """One crawl of one marketplace; `nightly_id` groups the crawls of one nightly run."""

    __tablename__ = "crawl_runs"
    __table_args__ = (
        CheckConstraint(_in("status", RUN_STATUSES), name="status"),
        Index("ix_crawl_runs_marketplace_started", "marketplace_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    marketplace_id: Mapped[int] = mapped_column(ForeignKey("marketplaces.id"))
    nightly_id: Mapped[str | None] = mapped_column(String(64), index=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default="running")
    stats: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(Text)

    marketplace: Mapped[Marketplace] = relationship()

    def __repr__(self) -> str:
        return f"CrawlRun(id={self.id!r}, marketplace_id={self.marketplace_id!r}, status={self.status!r})"


class Listing(Base):
    """A listing's current content plus when we first, last and no longer saw it.

    The `current_*` columns repeat the listing's newest score and decision
    (the history stays whole in `scores` and `decisions`): store.repository
    keeps them in step in the same transaction as each new row, so the review
    queue and the exports filter and sort one indexed table instead of ranking
    every score ever written.
    """

    __tablename__ = "listings"
    __table_args__ = (
        UniqueConstraint("marketplace_id", "external_id"),
        Index("ix_listings_marketplace_last_seen", "marketplace_id", "last_seen_at"),
        Index("ix_listings_current_flagged_score", "current_flagged", "current_score"),
        Index("ix_listings_current_decision_score", "current_decision", "current_score"),
        Index("ix_listings_marketplace_current", "marketplace_id", "current_score", "current_flagged"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    marketplace_id: Mapped[int] = mapped_column(ForeignKey("marketplaces.id"))
    external_id: Mapped[str] = mapped_column(String(255))
    url: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text, default="")
    price: Mapped[float | None] = mapped_column(Float)
    currency: Mapped[str | None] = mapped_column(String(16))
    price_text: Mapped[str | None] = mapped_column(Text)
    seller_id: Mapped[str | None] = mapped_column(Text, index=True)
    seller_name: Mapped[str | None] = mapped_column(Text)
    seller_url: Mapped[str | None] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(Text)
    images: Mapped[list[Any]] = mapped_column(default=list)
    posted_at: Mapped[str | None] = mapped_column(Text)  # as the marketplace wrote it
    category: Mapped[str | None] = mapped_column(Text)
    extraction: Mapped[str] = mapped_column(String(32), default="")
    rendered: Mapped[bool] = mapped_column(Boolean, default=False)
    content_hash: Mapped[str] = mapped_column(String(64))
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    gone_at: Mapped[datetime | None]
    first_run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"))
    last_run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"), index=True)
    # Newest score (scored_at, id) and decision (decided_at, id); NULL until there is one.
    # use_alter: listings and scores/decisions point at each other.
    current_score_id: Mapped[int | None] = mapped_column(ForeignKey("scores.id", use_alter=True))
    current_score: Mapped[float | None] = mapped_column(Float)
    current_flagged: Mapped[bool | None] = mapped_column(Boolean)
    current_threshold: Mapped[float | None] = mapped_column(Float)
    current_species: Mapped[list[Any] | None] = mapped_column(JSONType)
    current_decision_id: Mapped[int | None] = mapped_column(ForeignKey("decisions.id", use_alter=True))
    current_decision: Mapped[str | None] = mapped_column(String(20))

    marketplace: Mapped[Marketplace] = relationship()

    def __repr__(self) -> str:
        return f"Listing(id={self.id!r}, marketplace_id={self.marketplace_id!r}, external_id={self.external_id!r})"


# The queue's order, highest score first with unscored listings last. PostgreSQL needs NULLS LAST in
# the index to walk it in that order; SQLite sorts NULL lowest anyway (its migration says just DESC).
Index("ix_listings_current_score", Listing.current_score.desc().nulls_last())


class ListingSnapshot(Base):
    """The content fields as they were when their hash changed (first sight included)."""

    __tablename__ = "listing_snapshots"
    __table_args__ = (Index("ix_listing_snapshots_listing_captured", "listing_id", "captured_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id"))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"), index=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    captured_at: Mapped[datetime] = mapped_column(default=utcnow)
    data: Mapped[dict[str, Any]]


class ModelVersion(Base):
    """A classifier version; scores point here so every score can be traced to its model."""

    __tablename__ = "model_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # "metadata" is reserved on declarative classes, hence the attribute name.
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)


class Score(Base):
    """One scoring of one listing; all are kept, the newest (scored_at, id) is current (Listing.current_*)."""

    __tablename__ = "scores"
    __table_args__ = (
        Index("ix_scores_listing_latest", "listing_id", "scored_at", "id"),
        Index("ix_scores_flagged_score", "flagged", "score"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id"))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"), index=True)
    model_version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id"), index=True)
    score: Mapped[float] = mapped_column(Float)
    flagged: Mapped[bool] = mapped_column(Boolean)
    threshold: Mapped[float | None] = mapped_column(Float)
    species: Mapped[list[Any]] = mapped_column(default=list)
    evidence: Mapped[list[Any]] = mapped_column(default=list)
    scored_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    model_version: Mapped[ModelVersion] = relationship()


class Decision(Base):
    """An analyst's verdict on a listing; append-only, the newest is the current one (Listing.current_decision)."""

    __tablename__ = "decisions"
    __table_args__ = (
        CheckConstraint(_in("decision", DECISIONS), name="decision"),
        Index("ix_decisions_listing_decided", "listing_id", "decided_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id"))
    analyst: Mapped[str] = mapped_column(String(100))
    decision: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


ROLES = ("analyst", "lead")
TIP_STATUSES = ("stored", "failed")
CAPTURE_SOURCES = ("tip", "evidence")


class User(Base):
    """An analyst account for the review app; `password_hash` is an Argon2id hash, never the password."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint(_in("role", ROLES), name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(16), default="analyst")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:  # never the hash
        return f"User(id={self.id!r}, name={self.name!r}, role={self.role!r})"


class AuditEntry(Base):
    """Who changed what, when, and the value before and after; append-only (a trigger refuses edits)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_listing_at", "listing_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(40))
    listing_id: Mapped[int | None] = mapped_column(ForeignKey("listings.id"))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONType)


class Tip(Base):
    """A URL someone reported; the fetched listing is queued for review whatever it scores."""

    __tablename__ = "tips"
    __table_args__ = (CheckConstraint(_in("status", TIP_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    submitted_by: Mapped[str] = mapped_column(String(100))
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    listing_id: Mapped[int | None] = mapped_column(ForeignKey("listings.id"), index=True)


class Capture(Base):
    """A page as Chromium saw it (HTML and full-page PNG under the data dir), with their SHA-256."""

    __tablename__ = "captures"
    __table_args__ = (
        CheckConstraint(_in("source", CAPTURE_SOURCES), name="source"),
        Index("ix_captures_listing_captured", "listing_id", "captured_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id"))
    url: Mapped[str] = mapped_column(Text)
    final_url: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16))
    captured_by: Mapped[str] = mapped_column(String(100))
    captured_at: Mapped[datetime] = mapped_column(default=utcnow)
    html_path: Mapped[str] = mapped_column(Text)  # relative to the data dir
    html_sha256: Mapped[str] = mapped_column(String(64))
    screenshot_path: Mapped[str | None] = mapped_column(Text)
    screenshot_sha256: Mapped[str | None] = mapped_column(String(64))


def _refuse_change(_mapper: object, _connection: object, target: Any) -> None:
    raise StoreError(
        f"{type(target).__name__} rows are history and cannot be changed or deleted (id={target.id!r}); add a new row"
    )


# History tables are append-only: stop the ORM from rewriting what an analyst
# or a model said. (Raw SQL can still do it; this catches accidents in code.)
for _history in (ListingSnapshot, Score, Decision, AuditEntry, Tip, Capture):
    event.listen(_history, "before_update", _refuse_change)
    event.listen(_history, "before_delete", _refuse_change)

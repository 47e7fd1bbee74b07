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
    text,
    event,
    func,
    literal_column,
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
        # Decided listings only (migration 0008): undecided ones are most of the table, and found through the
        # queue's order indexes; IS NULL must not lead SQLite's planner here.
        Index("ix_listings_current_decision_score", "current_decision", "current_score",
              sqlite_where=text("current_decision IS NOT NULL"), postgresql_where=text("current_decision IS NOT NULL")),
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
    # The current score's taxon and protection (migration 0007): the queue sorts Class I first.
    current_taxon_id: Mapped[str | None] = mapped_column(String(120))
    current_protection_rank: Mapped[int | None] = mapped_column(Integer)
    current_china_class: Mapped[str | None] = mapped_column(String(4))
    current_cites_appendix: Mapped[str | None] = mapped_column(String(16))

    marketplace: Mapped[Marketplace] = relationship()

    def __repr__(self) -> str:
        return f"Listing(id={self.id!r}, marketplace_id={self.marketplace_id!r}, external_id={self.external_id!r})"


# The queue's order, highest score first with unscored listings last, then last seen and id, with what the
# queue's membership and status read (migration 0008): a page is found in the index without the table.
# PostgreSQL needs NULLS LAST in the index to walk it in that order; SQLite sorts NULL lowest anyway (its
# migration says just DESC).
Index("ix_listings_queue_order", Listing.current_score.desc().nulls_last(), Listing.last_seen_at.desc(), Listing.id,
      Listing.current_flagged, Listing.current_decision)
#: "Most uncertain first": distance to the threshold, spelt exactly as in the migration and the queue's query.
UNCERTAINTY = func.abs(Listing.current_score - func.coalesce(Listing.current_threshold, literal_column("0.5")))
Index("ix_listings_uncertainty", UNCERTAINTY, Listing.id, Listing.current_flagged, Listing.current_decision)
# The listing page's "the seller's other listings", highest score first (migration 0008): a walk of one seller's
# listings, not of the whole marketplace's. By name when the marketplace shows no seller id.
Index("ix_listings_marketplace_seller", Listing.marketplace_id, Listing.seller_id,
      Listing.current_score.desc().nulls_last(), Listing.id)
Index("ix_listings_marketplace_seller_name", Listing.marketplace_id, Listing.seller_name,
      Listing.current_score.desc().nulls_last(), Listing.id)
# "Most protected first": China Class I / CITES I first, highest score within each (migration 0008).
Index("ix_listings_protection_order", Listing.current_protection_rank.asc().nulls_last(),
      Listing.current_score.desc().nulls_last(), Listing.id, Listing.current_flagged, Listing.current_decision)
# The queue's species menu: the distinct species lists of flagged listings, from the index alone (migration 0008).
Index("ix_listings_flagged_species", Listing.current_flagged, Listing.current_species)
Index("ix_listings_current_protection", Listing.current_flagged, Listing.current_protection_rank, Listing.current_score)


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
    # The most specific taxon the scorer named and its protection (classifier.taxa; migration 0007).
    taxon: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    taxon_id: Mapped[str | None] = mapped_column(String(120))
    protection_rank: Mapped[int | None] = mapped_column(Integer)
    china_class: Mapped[str | None] = mapped_column(String(4))
    cites_appendix: Mapped[str | None] = mapped_column(String(16))

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
    # Sessions record it at login and must still match it; logout, a new password and deactivation add one.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))

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


# ---- sellers: contact handles per listing and seller networks (issue 14) ------------------------

LINK_SOURCES_MAX = 32  # length of a link source's name ("handle", "image", ...)


class ListingHandle(Base):
    """A contact handle found in one field of a listing (classifier.handles), with when it was seen.

    `field` is open-ended: "title", "description", "seller_name", and for text read from images
    whatever the OCR stage names it (e.g. "ocr:<image sha256>"). `value` is the normalised handle
    (handle_key = type:value), the key that links sellers. A handle that disappears from an edited
    listing keeps its row: it was the seller's once, and last_seen_at says until when.
    """

    __tablename__ = "listing_handles"
    __table_args__ = (
        UniqueConstraint("listing_id", "field", "type", "value"),
        Index("ix_listing_handles_type_value", "type", "value"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id"), index=True)
    field: Mapped[str] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(255))
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    first_run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"))
    last_run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"))


class SellerNetwork(Base):
    """Seller accounts joined by links (wildwatch.networks); the id stays when a rebuild finds it again.

    The roll-up columns (risk, max_score, flagged, confirmed, current_decision) are rewritten by every
    rebuild and by seller decisions; a network whose accounts all moved into another one is kept
    (`active` false, `merged_into_id` set) so decisions made on it still count there.
    """

    __tablename__ = "seller_networks"
    __table_args__ = (Index("ix_seller_networks_active_risk", "active", "risk"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    built_at: Mapped[datetime] = mapped_column(default=utcnow)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("seller_networks.id"))
    accounts: Mapped[int] = mapped_column(Integer, default=0)
    listings: Mapped[int] = mapped_column(Integer, default=0)
    marketplaces: Mapped[list[Any]] = mapped_column(default=list)
    risk: Mapped[float] = mapped_column(Float, default=0.0)
    max_score: Mapped[float | None] = mapped_column(Float)
    flagged: Mapped[int] = mapped_column(Integer, default=0)
    confirmed: Mapped[int] = mapped_column(Integer, default=0)
    risk_reason: Mapped[str] = mapped_column(Text, default="")
    current_decision: Mapped[str | None] = mapped_column(String(20))


class SellerAccount(Base):
    """One seller account: (marketplace, seller id); a listing without a seller id is an account of its own
    (`account_key` "listing:<external id>")."""

    __tablename__ = "seller_accounts"
    __table_args__ = (UniqueConstraint("marketplace_id", "account_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    marketplace_id: Mapped[int] = mapped_column(ForeignKey("marketplaces.id"))
    account_key: Mapped[str] = mapped_column(String(255))
    seller_id: Mapped[str | None] = mapped_column(Text)
    seller_name: Mapped[str | None] = mapped_column(Text)
    network_id: Mapped[int | None] = mapped_column(ForeignKey("seller_networks.id"), index=True)
    listings: Mapped[int] = mapped_column(Integer, default=0)
    risk: Mapped[float] = mapped_column(Float, default=0.0)
    max_score: Mapped[float | None] = mapped_column(Float)
    flagged: Mapped[int] = mapped_column(Integer, default=0)
    first_seen_at: Mapped[datetime | None]
    last_seen_at: Mapped[datetime | None]
    built_at: Mapped[datetime] = mapped_column(default=utcnow)

    marketplace: Mapped[Marketplace] = relationship()


class SellerLink(Base):
    """Why two accounts are in one network: the shared key (a handle, an image) and the listings that show it.

    Derived data: every rebuild replaces the links. `evidence` is a list of
    {"account_id", "listing_id", "field", ...} sightings of `key` on either side.
    """

    __tablename__ = "seller_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    network_id: Mapped[int] = mapped_column(ForeignKey("seller_networks.id"), index=True)
    account_a_id: Mapped[int] = mapped_column(ForeignKey("seller_accounts.id"))
    account_b_id: Mapped[int] = mapped_column(ForeignKey("seller_accounts.id"))
    source: Mapped[str] = mapped_column(String(LINK_SOURCES_MAX))
    key: Mapped[str] = mapped_column(Text)
    evidence: Mapped[list[Any]] = mapped_column(default=list)
    built_at: Mapped[datetime] = mapped_column(default=utcnow)


class SellerCommonKey(Base):
    """A key too common to link sellers (a platform's service line, a handle on very many accounts): reported,
    never used as a link. Rewritten by every rebuild."""

    __tablename__ = "seller_common_keys"
    __table_args__ = (UniqueConstraint("source", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(LINK_SOURCES_MAX))
    key: Mapped[str] = mapped_column(String(300))
    accounts: Mapped[int] = mapped_column(Integer)
    marketplaces: Mapped[list[Any]] = mapped_column(default=list)
    reason: Mapped[str] = mapped_column(Text)
    built_at: Mapped[datetime] = mapped_column(default=utcnow)


class SellerDecision(Base):
    """An analyst's verdict on a whole seller network; append-only like listing decisions.

    `members` keeps the accounts the network had when it was decided, since a later rebuild may change them.
    """

    __tablename__ = "seller_decisions"
    __table_args__ = (
        CheckConstraint(_in("decision", DECISIONS), name="decision"),
        Index("ix_seller_decisions_network_decided", "network_id", "decided_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    network_id: Mapped[int] = mapped_column(ForeignKey("seller_networks.id"))
    analyst: Mapped[str] = mapped_column(String(100))
    decision: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)
    members: Mapped[list[Any]] = mapped_column(default=list)


event.listen(SellerDecision, "before_update", _refuse_change)
event.listen(SellerDecision, "before_delete", _refuse_change)

IMAGE_STATUSES = ("stored", "refused")


class Image(Base):
    """One listing picture, stored once by content (SHA-256) under the data dir, with its perceptual hash.

    The same photo under many listings, URLs or marketplaces is one row: `phash` (imagehash's 64-bit pHash,
    hex) finds it again after resizing or recompression. `ocr_*` is filled by the OCR stage (wildwatch ocr),
    off the crawl's hot path: `ocr_at` NULL means not read yet.
    """

    __tablename__ = "images"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    phash: Mapped[str] = mapped_column(String(16), index=True)
    content_type: Mapped[str] = mapped_column(String(64))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    bytes: Mapped[int] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(Text)  # relative to the data dir
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    ocr_text: Mapped[str | None] = mapped_column(Text)
    ocr_engine: Mapped[str | None] = mapped_column(String(100))
    ocr_at: Mapped[datetime | None] = mapped_column(index=True)
    ocr_error: Mapped[str | None] = mapped_column(Text)


class ListingImage(Base):
    """Which picture a listing showed at which snapshot, or why a picture was refused (append-only history).

    One row per (listing snapshot, position, URL, content): the same pictures at the same snapshot on a later
    night add nothing; a new snapshot or new content at the same URL adds rows. `image_id` is NULL and
    `status` is "refused" when the download was not kept (`reason`: http_404, not_an_image, too_large, ...).
    """

    __tablename__ = "listing_images"
    __table_args__ = (
        CheckConstraint(_in("status", IMAGE_STATUSES), name="status"),
        Index("ix_listing_images_listing_snapshot", "listing_id", "snapshot_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id"))
    snapshot_id: Mapped[int | None] = mapped_column(ForeignKey("listing_snapshots.id"))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"), index=True)
    image_id: Mapped[int | None] = mapped_column(ForeignKey("images.id"), index=True)
    url: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(40))
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)


for _history in (ListingImage,):
    event.listen(_history, "before_update", _refuse_change)
    event.listen(_history, "before_delete", _refuse_change)

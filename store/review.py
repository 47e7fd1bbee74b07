"""Repository functions for analyst review: accounts, decisions with permissions, the audit log,
tips, page captures, and the queue and listing reads the review app and the CLI share.

Like store.repository, every function takes a Session and never commits. Every
change an analyst makes goes through here so it lands in `audit_log` with who,
when, what, and the value before and after.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Text, case, cast, exists, func, literal, nulls_last, or_, select
from sqlalchemy.orm import Session

from store.columns import as_utc, utcnow
from store.errors import StoreError
from store.models import (
    CAPTURE_SOURCES,
    DECISIONS,
    ROLES,
    TIP_STATUSES,
    AuditEntry,
    Capture,
    Decision,
    Listing,
    ListingSnapshot,
    Marketplace,
    ModelVersion,
    Score,
    Tip,
    User,
)
from store.queries import latest_scores_subquery
from store.repository import add_decision

#: Labels analysts see for the stored decision values.
DECISION_LABELS = {
    "confirmed": "confirmed",
    "false_positive": "false positive",
    "needs_expert": "needs expert",
    "escalated": "escalated",
}
STATUSES = ("undecided", "decided", *DECISIONS)
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,99}")


class PermissionDenied(StoreError):
    """The user may not make this change (e.g. an analyst overriding another analyst)."""


# ---- users ---------------------------------------------------------------------------------------

def check_user_name(name: str) -> str:
    """A user name: letters, digits and . _ @ -, at most 100 characters, starting with a letter or digit."""
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        raise StoreError(
            f"user name {name!r} is not valid: use letters, digits and . _ @ - (at most 100, no spaces)"
        )
    return name


def add_user(session: Session, name: str, password_hash: str, role: str = "analyst", *, actor: str = "cli") -> User:
    """Create an account (the caller hashes the password); a taken name is refused."""
    check_user_name(name)
    if role not in ROLES:
        raise StoreError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    if session.scalars(select(User).where(User.name == name)).first() is not None:
        raise StoreError(f"user {name!r} already exists")
    user = User(name=name, password_hash=password_hash, role=role, active=True, created_at=utcnow())
    session.add(user)
    session.flush()
    audit(session, actor, "user_added", after={"user": name, "role": role})
    return user


def get_user(session: Session, name: str) -> User | None:
    return session.scalars(select(User).where(User.name == name)).first()


def set_user(session: Session, user: User, *, actor: str, password_hash: str | None = None,
             role: str | None = None, active: bool | None = None) -> None:
    """Change a user's password, role or active flag; each change is audited (never the hash itself)."""
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    if role is not None and role != user.role:
        if role not in ROLES:
            raise StoreError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
        before["role"], after["role"] = user.role, role
        user.role = role
    if active is not None and active != user.active:
        before["active"], after["active"] = user.active, active
        user.active = active
    if password_hash is not None:
        before["password"], after["password"] = "(old)", "(changed)"
        user.password_hash = password_hash
    if after:
        session.flush()
        audit(session, actor, "user_changed", before={"user": user.name, **before}, after={"user": user.name, **after})


# ---- audit ---------------------------------------------------------------------------------------

def audit(session: Session, actor: str, action: str, *, listing_id: int | None = None,
          before: dict[str, Any] | None = None, after: dict[str, Any] | None = None) -> AuditEntry:
    """Append one audit entry (the table refuses updates and deletes)."""
    entry = AuditEntry(at=utcnow(), actor=actor, action=action, listing_id=listing_id, before=before, after=after)
    session.add(entry)
    session.flush()
    return entry


def audit_history(session: Session, listing_id: int) -> list[AuditEntry]:
    return list(session.scalars(
        select(AuditEntry).where(AuditEntry.listing_id == listing_id).order_by(AuditEntry.at, AuditEntry.id)
    ))


# ---- decisions -----------------------------------------------------------------------------------

def current_decision(session: Session, listing_id: int) -> Decision | None:
    return session.scalars(
        select(Decision).where(Decision.listing_id == listing_id)
        .order_by(Decision.decided_at.desc(), Decision.id.desc()).limit(1)
    ).first()


def _decision_dict(row: Decision | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {"decision": row.decision, "analyst": row.analyst, "note": row.note,
            "decided_at": row.decided_at.isoformat(timespec="seconds")}


def decide(session: Session, listing_id: int, user: User, decision: str, note: str | None = None) -> Decision:
    """Record `user`'s decision on a listing, audited with the decision it replaces.

    An analyst may revise their own decision but not another analyst's: that
    needs the lead role (PermissionDenied otherwise). Repeating the current
    decision with the same note changes nothing and writes nothing.
    """
    if not user.active:
        raise PermissionDenied(f"user {user.name!r} is deactivated")
    if decision not in DECISIONS:
        raise StoreError(f"decision must be one of {', '.join(DECISIONS)}, got {decision!r}")
    note = (note or "").strip() or None
    if note is not None and len(note) > 5000:
        raise StoreError(f"note is {len(note)} characters, the limit is 5000")
    previous = current_decision(session, listing_id)
    if previous is not None and previous.analyst != user.name and user.role != "lead":
        raise PermissionDenied(
            f"listing {listing_id} was decided by {previous.analyst!r} ({DECISION_LABELS[previous.decision]}); "
            "only a lead can change another analyst's decision"
        )
    if previous is not None and (previous.analyst, previous.decision, previous.note) == (user.name, decision, note):
        return previous
    row = add_decision(session, listing_id, user.name, decision, note)
    audit(session, user.name, "decision", listing_id=listing_id, before=_decision_dict(previous),
          after=_decision_dict(row))
    return row


def decision_history(session: Session, listing_id: int) -> list[Decision]:
    return list(session.scalars(
        select(Decision).where(Decision.listing_id == listing_id).order_by(Decision.decided_at, Decision.id)
    ))


# ---- tips and captures ---------------------------------------------------------------------------

def record_tip(session: Session, url: str, submitted_by: str, *, status: str, listing_id: int | None = None,
               error: str | None = None, note: str | None = None) -> Tip:
    """Record a submitted tip and its outcome (stored: a listing was fetched and queued; failed: why not)."""
    if status not in TIP_STATUSES:
        raise StoreError(f"tip status must be one of {', '.join(TIP_STATUSES)}, got {status!r}")
    tip = Tip(url=url, submitted_by=submitted_by, submitted_at=utcnow(), note=(note or "").strip() or None,
              status=status, error=error, listing_id=listing_id)
    session.add(tip)
    session.flush()
    audit(session, submitted_by, "tip", listing_id=listing_id,
          after={"tip_id": tip.id, "url": url, "status": status, **({"error": error} if error else {})})
    return tip


def record_capture(session: Session, listing_id: int, *, url: str, final_url: str, source: str, captured_by: str,
                   captured_at: datetime, html_path: str, html_sha256: str, screenshot_path: str | None,
                   screenshot_sha256: str | None) -> Capture:
    """Record a page capture whose files are already written under the data dir."""
    if source not in CAPTURE_SOURCES:
        raise StoreError(f"capture source must be one of {', '.join(CAPTURE_SOURCES)}, got {source!r}")
    capture = Capture(listing_id=listing_id, url=url, final_url=final_url, source=source, captured_by=captured_by,
                      captured_at=as_utc(captured_at), html_path=html_path, html_sha256=html_sha256,
                      screenshot_path=screenshot_path, screenshot_sha256=screenshot_sha256)
    session.add(capture)
    session.flush()
    audit(session, captured_by, "capture", listing_id=listing_id,
          after={"capture_id": capture.id, "source": source, "html_sha256": html_sha256,
                 "screenshot_sha256": screenshot_sha256})
    return capture


# ---- the queue -----------------------------------------------------------------------------------

@dataclass
class QueueFilters:
    """What the queue shows. Empty values mean "any"."""

    marketplace: str | None = None
    species: str | None = None
    status: str | None = None  # one of STATUSES
    source: str | None = None  # "tip" or "crawl"
    seen_from: datetime | None = None
    seen_to: datetime | None = None
    min_score: float | None = None
    max_score: float | None = None
    order: str = "score"  # "score" (highest first) or "uncertain" (closest to the threshold first)

    def __post_init__(self) -> None:
        if self.status and self.status not in STATUSES:
            raise StoreError(f"status must be one of {', '.join(STATUSES)}, got {self.status!r}")
        if self.source and self.source not in ("tip", "crawl"):
            raise StoreError(f"source must be 'tip' or 'crawl', got {self.source!r}")
        if self.order not in ("score", "uncertain"):
            raise StoreError(f"order must be 'score' or 'uncertain', got {self.order!r}")
        for name in ("min_score", "max_score"):
            value = getattr(self, name)
            if value is not None and not 0.0 <= value <= 1.0:
                raise StoreError(f"{name} must lie between 0 and 1, got {value!r}")


def _latest_decisions() -> Any:
    ranked = select(
        Decision.listing_id, Decision.decision, Decision.analyst, Decision.decided_at,
        func.row_number().over(partition_by=Decision.listing_id,
                               order_by=(Decision.decided_at.desc(), Decision.id.desc())).label("rank"),
    ).subquery("ranked_decisions")
    return select(ranked).where(ranked.c.rank == 1).subquery("latest_decision")


def queue_select(filters: QueueFilters) -> Any:
    """Flagged listings (latest score) plus every tipped listing, with their current decision."""
    latest = latest_scores_subquery()
    decided = _latest_decisions()
    is_tip = exists().where(Tip.listing_id == Listing.id, Tip.status == "stored")
    default_threshold = literal(0.5)
    threshold = func.coalesce(latest.c.threshold, default_threshold)
    stmt = (
        select(
            Listing.id, Marketplace.name.label("marketplace"), Listing.external_id, Listing.url, Listing.title,
            Listing.price, Listing.currency, Listing.seller_name, Listing.seller_id, Listing.first_seen_at,
            Listing.last_seen_at, Listing.gone_at,
            latest.c.score, latest.c.flagged, latest.c.species, threshold.label("threshold"),
            decided.c.decision, decided.c.analyst, decided.c.decided_at,
            is_tip.label("is_tip"),
        )
        .join(Marketplace, Marketplace.id == Listing.marketplace_id)
        .join(latest, latest.c.listing_id == Listing.id, isouter=True)
        .join(decided, decided.c.listing_id == Listing.id, isouter=True)
        .where(or_(latest.c.flagged.is_(True), is_tip))
    )
    if filters.marketplace:
        stmt = stmt.where(Marketplace.name == filters.marketplace)
    if filters.species:
        # species is a JSON list; its text form contains "group" on SQLite and PostgreSQL alike.
        stmt = stmt.where(cast(latest.c.species, Text).like(f'%"{filters.species}"%'))
    if filters.status == "undecided":
        stmt = stmt.where(decided.c.decision.is_(None))
    elif filters.status == "decided":
        stmt = stmt.where(decided.c.decision.is_not(None))
    elif filters.status:
        stmt = stmt.where(decided.c.decision == filters.status)
    if filters.source == "tip":
        stmt = stmt.where(is_tip)
    elif filters.source == "crawl":
        stmt = stmt.where(~is_tip)
    if filters.seen_from is not None:
        stmt = stmt.where(Listing.last_seen_at >= as_utc(filters.seen_from))
    if filters.seen_to is not None:
        stmt = stmt.where(Listing.last_seen_at < as_utc(filters.seen_to))
    if filters.min_score is not None:
        stmt = stmt.where(latest.c.score >= filters.min_score)
    if filters.max_score is not None:
        stmt = stmt.where(latest.c.score <= filters.max_score)
    if filters.order == "uncertain":
        distance = func.abs(latest.c.score - threshold)
        return stmt.order_by(nulls_last(distance.asc()), Listing.id)
    return stmt.order_by(nulls_last(latest.c.score.desc()), Listing.last_seen_at.desc(), Listing.id)


@dataclass
class QueuePage:
    rows: list[Any]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def queue_page(session: Session, filters: QueueFilters, page: int = 1, per_page: int = 50) -> QueuePage:
    stmt = queue_select(filters)
    total = session.execute(select(func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
    page = max(1, page)
    rows = session.execute(stmt.limit(per_page).offset((page - 1) * per_page)).all()
    return QueuePage(rows=list(rows), total=int(total), page=page, per_page=per_page)


def queue_options(session: Session) -> dict[str, list[str]]:
    """Marketplaces and species groups present, for the filter menus."""
    marketplaces = list(session.scalars(select(Marketplace.name).order_by(Marketplace.name)))
    latest = latest_scores_subquery()
    groups: set[str] = set()
    for species in session.scalars(select(latest.c.species).where(latest.c.flagged.is_(True))):
        groups.update(s for s in species or () if isinstance(s, str))
    return {"marketplaces": marketplaces, "species": sorted(groups)}


# ---- one listing ---------------------------------------------------------------------------------

@dataclass
class ListingDetail:
    listing: Listing
    marketplace: str
    score: Score | None
    model_version: str | None
    scores: list[Score]
    snapshots: list[ListingSnapshot]
    decisions: list[Decision]
    audit: list[AuditEntry]
    tips: list[Tip]
    captures: list[Capture]
    seller_listings: list[Any] = field(default_factory=list)

    @property
    def decision(self) -> Decision | None:
        return self.decisions[-1] if self.decisions else None


def listing_detail(session: Session, listing_id: int, *, seller_limit: int = 50) -> ListingDetail | None:
    """Everything the listing page and an evidence package show about one listing."""
    listing = session.get(Listing, listing_id)
    if listing is None:
        return None
    scores = list(session.scalars(
        select(Score).where(Score.listing_id == listing_id).order_by(Score.scored_at, Score.id)
    ))
    latest = scores[-1] if scores else None
    model = session.get(ModelVersion, latest.model_version_id) if latest else None
    seller_listings: list[Any] = []
    if listing.seller_id or listing.seller_name:
        scores_now = latest_scores_subquery()
        same_seller = (Listing.seller_id == listing.seller_id) if listing.seller_id else (
            Listing.seller_name == listing.seller_name)
        seller_listings = list(session.execute(
            select(Listing.id, Listing.title, Listing.url, Listing.gone_at, scores_now.c.score, scores_now.c.flagged)
            .join(scores_now, scores_now.c.listing_id == Listing.id, isouter=True)
            .where(Listing.marketplace_id == listing.marketplace_id, same_seller, Listing.id != listing.id)
            .order_by(nulls_last(scores_now.c.score.desc()), Listing.id)
            .limit(seller_limit)
        ).all())
    return ListingDetail(
        listing=listing,
        marketplace=session.get(Marketplace, listing.marketplace_id).name,
        score=latest,
        model_version=model.version if model else None,
        scores=scores,
        snapshots=list(session.scalars(
            select(ListingSnapshot).where(ListingSnapshot.listing_id == listing_id)
            .order_by(ListingSnapshot.captured_at.desc(), ListingSnapshot.id.desc())
        )),
        decisions=decision_history(session, listing_id),
        audit=audit_history(session, listing_id),
        tips=list(session.scalars(select(Tip).where(Tip.listing_id == listing_id).order_by(Tip.submitted_at))),
        captures=list(session.scalars(
            select(Capture).where(Capture.listing_id == listing_id).order_by(Capture.captured_at, Capture.id)
        )),
        seller_listings=seller_listings,
    )


def reviewed_listings(session: Session) -> list[Any]:
    """Listings with their current decision and latest species, for training from reviews."""
    decided = _latest_decisions()
    latest = latest_scores_subquery()
    return list(session.execute(
        select(Listing.id, Marketplace.name.label("marketplace"), Listing.external_id, Listing.title,
               Listing.description, Listing.price, Listing.currency, decided.c.decision, latest.c.species)
        .join(Marketplace, Marketplace.id == Listing.marketplace_id)
        .join(decided, decided.c.listing_id == Listing.id)
        .join(latest, latest.c.listing_id == Listing.id, isouter=True)
        .order_by(Listing.id)
    ).all())


def review_counts(session: Session) -> dict[str, int]:
    """Queue totals for the header: flagged or tipped listings, and how many are still undecided."""
    stmt = queue_select(QueueFilters())
    sub = stmt.order_by(None).subquery()
    total, undecided = session.execute(
        select(func.count(), func.sum(case((sub.c.decision.is_(None), 1), else_=0))).select_from(sub)
    ).one()
    return {"queue": int(total or 0), "undecided": int(undecided or 0)}


__all__ = [
    "DECISION_LABELS", "STATUSES", "PermissionDenied", "QueueFilters", "QueuePage", "ListingDetail",
    "add_user", "audit", "audit_history", "check_user_name", "current_decision", "decide", "decision_history",
    "get_user", "listing_detail", "queue_options", "queue_page", "queue_select", "record_capture", "record_tip",
    "review_counts", "reviewed_listings", "set_user",
]

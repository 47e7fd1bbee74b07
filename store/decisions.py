"""Repository functions for analyst review: accounts, decisions with permissions, the audit log,
tips, page captures, and the queue and listing reads the review app and the CLI share.

Like store.repository, every function takes a Session and never commits. Every
change an analyst makes goes through here so it lands in `audit_log` with who,
when, what, and the value before and after.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Text, and_, cast, exists, false, func, literal, nulls_last, or_, select, true
from sqlalchemy.orm import Session

from store.columns import as_utc, utcnow
from store.db import lock_for_writing
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
    UNCERTAINTY,
    Tip,
    User,
)
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
    if password_hash is not None or active is False:
        end_sessions(user)  # a new password or a deactivated account ends every session it had
    if after:
        session.flush()
        audit(session, actor, "user_changed", before={"user": user.name, **before}, after={"user": user.name, **after})


def end_sessions(user: User) -> None:
    """Every review-app session of `user` stops working at its next request (see User.session_version)."""
    user.session_version = (user.session_version or 0) + 1


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


def checked_decision(user: User, decision: str, note: str | None) -> str | None:
    """The note to store (stripped; None when empty) once `user` may decide at all and `decision` and `note`
    are valid: one rule for listing and seller decisions."""
    if not user.active:
        raise PermissionDenied(f"user {user.name!r} is deactivated")
    if decision not in DECISIONS:
        raise StoreError(f"decision must be one of {', '.join(DECISIONS)}, got {decision!r}")
    note = (note or "").strip() or None
    if note is not None and len(note) > 5000:
        raise StoreError(f"note is {len(note)} characters, the limit is 5000")
    return note


def decide(session: Session, listing_id: int, user: User, decision: str, note: str | None = None) -> Decision:
    """Record `user`'s decision on a listing, audited with the decision it replaces.

    An analyst may revise their own decision but not another analyst's: that
    needs the lead role (PermissionDenied otherwise). Repeating the current
    decision with the same note changes nothing and writes nothing.
    """
    note = checked_decision(user, decision, note)
    # Lock the listing row first (PostgreSQL) or the database (SQLite): of two analysts deciding at
    # once, the second waits and then sees the first's decision, for the permission check and the audit.
    lock_for_writing(session)
    if session.get(Listing, listing_id, with_for_update=True) is None:
        raise StoreError(f"no listing with id {listing_id!r}")
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

#: Queue filter value -> the protection rank it keeps (classifier.taxa.Protection.rank); "none" also
#: keeps listings scored before taxa were named (NULL).
PROTECTION_FILTERS = {"I": 0, "II": 1, "III": 2, "none": 3}


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
    order: str = "score"  # "score" (highest first), "uncertain" (closest to the threshold), "protection"
    protection: str | None = None  # one of PROTECTION_FILTERS: "I" = China Class I or CITES Appendix I ...

    def __post_init__(self) -> None:
        if self.protection and self.protection not in PROTECTION_FILTERS:
            raise StoreError(f"protection must be one of {', '.join(PROTECTION_FILTERS)}, got {self.protection!r}")
        if self.status and self.status not in STATUSES:
            raise StoreError(f"status must be one of {', '.join(STATUSES)}, got {self.status!r}")
        if self.source and self.source not in ("tip", "crawl"):
            raise StoreError(f"source must be 'tip' or 'crawl', got {self.source!r}")
        if self.order not in ("score", "uncertain", "protection"):
            raise StoreError(f"order must be 'score', 'uncertain' or 'protection', got {self.order!r}")
        for name in ("min_score", "max_score"):
            value = getattr(self, name)
            if value is not None and not 0.0 <= value <= 1.0:
                raise StoreError(f"{name} must lie between 0 and 1, got {value!r}")


def _is_tip() -> Any:
    return exists().where(Tip.listing_id == Listing.id, Tip.status == "stored")


def _tipped() -> Any:
    """Listing has a stored tip, as IN (the few tipped ids): read once, or driven from the tips."""
    return Listing.id.in_(select(Tip.listing_id).where(Tip.status == "stored"))


#: "= true", not "IS TRUE": PostgreSQL can use an index only for the former. NULL (never scored) is neither.
_FLAGGED = Listing.current_flagged == true()
_NOT_FLAGGED = func.coalesce(Listing.current_flagged, false()) == false()


def _queue_filtered(stmt: Any, filters: QueueFilters, members: Any) -> Any:
    """`stmt` (a SELECT over listings) narrowed to `members` and `filters`, on the listing's current_* columns."""
    stmt = stmt.where(members)
    if filters.marketplace:
        market = select(Marketplace.id).where(Marketplace.name == filters.marketplace).scalar_subquery()
        stmt = stmt.where(Listing.marketplace_id == market)
    if filters.species:
        # species is a JSON list; its text form contains "group" on SQLite and PostgreSQL alike.
        stmt = stmt.where(cast(Listing.current_species, Text).like(f'%"{filters.species}"%'))
    if filters.status == "undecided":
        # Most of the table: the queue's order index is walked (the decision index holds decided listings only).
        stmt = stmt.where(Listing.current_decision.is_(None))
    elif filters.status == "decided":
        # = IS NOT NULL (the check constraint allows only these), spelt so the decision index is used.
        stmt = stmt.where(Listing.current_decision.in_(DECISIONS))
    elif filters.status:
        stmt = stmt.where(Listing.current_decision == filters.status)
    if filters.source == "tip":
        stmt = stmt.where(_tipped())
    elif filters.source == "crawl":
        stmt = stmt.where(~_tipped())
    if filters.seen_from is not None:
        stmt = stmt.where(Listing.last_seen_at >= as_utc(filters.seen_from))
    if filters.seen_to is not None:
        stmt = stmt.where(Listing.last_seen_at < as_utc(filters.seen_to))
    if filters.min_score is not None:
        stmt = stmt.where(Listing.current_score >= filters.min_score)
    if filters.max_score is not None:
        stmt = stmt.where(Listing.current_score <= filters.max_score)
    if filters.protection == "none":
        stmt = stmt.where(or_(Listing.current_protection_rank == 3, Listing.current_protection_rank.is_(None)))
    elif filters.protection:
        stmt = stmt.where(Listing.current_protection_rank == PROTECTION_FILTERS[filters.protection])
    return stmt


def _queue_order(filters: QueueFilters) -> list[Any]:
    """The queue's ORDER BY, each that of an index of listings (ix_listings_queue_order, ix_listings_uncertainty,
    ix_listings_protection_order, migration 0008): a page is read by walking one, not by sorting the queue."""
    if filters.order == "uncertain":
        return [nulls_last(UNCERTAINTY.asc()), Listing.id]
    if filters.order == "protection":
        # China Class I / CITES Appendix I first, then II, III, none, unassessed; highest score within each.
        return [nulls_last(Listing.current_protection_rank.asc()), nulls_last(Listing.current_score.desc()), Listing.id]
    return [nulls_last(Listing.current_score.desc()), Listing.last_seen_at.desc(), Listing.id]


def queue_ids(filters: QueueFilters) -> Any:
    """The ids of the queue under `filters`, in its order: what a page's LIMIT/OFFSET walks (the index alone)."""
    # A per-row EXISTS keeps the plan "walk the order's index, stop after a page" on both databases.
    return _queue_filtered(select(Listing.id), filters, or_(_FLAGGED, _is_tip())).order_by(*_queue_order(filters))


def _queue_columns() -> Any:
    """What a queue row shows: the listing's current score, decision and protection, and whether it was tipped."""
    threshold = func.coalesce(Listing.current_threshold, literal(0.5))
    return (
        select(
            Listing.id, Marketplace.name.label("marketplace"), Listing.external_id, Listing.url, Listing.title,
            Listing.price, Listing.currency, Listing.seller_name, Listing.seller_id, Listing.first_seen_at,
            Listing.last_seen_at, Listing.gone_at,
            Listing.current_score.label("score"), Listing.current_flagged.label("flagged"),
            Listing.current_species.label("species"), threshold.label("threshold"),
            Listing.current_decision.label("decision"), Decision.analyst, Decision.decided_at,
            _is_tip().label("is_tip"),
            Listing.current_taxon_id.label("taxon_id"), Listing.current_protection_rank.label("protection_rank"),
            Listing.current_china_class.label("china_class"), Listing.current_cites_appendix.label("cites_appendix"),
        )
        .join(Marketplace, Marketplace.id == Listing.marketplace_id)
        .join(Decision, Decision.id == Listing.current_decision_id, isouter=True)
    )


def queue_select(filters: QueueFilters) -> Any:
    """Flagged listings (current score) plus every tipped listing, with their current decision, in the queue's order."""
    return _queue_filtered(_queue_columns(), filters, or_(_FLAGGED, _is_tip())).order_by(*_queue_order(filters))


def queue_count(session: Session, filters: QueueFilters) -> int:
    """How many listings the queue holds under `filters`, in index-friendly pieces.

    Decided listings are few: the decision index leads. Otherwise flagged
    listings and tipped-but-not-flagged ones are counted apart (an OR of the
    two would make PostgreSQL read the whole table), and "undecided" is all
    minus decided, since undecided listings are most of the table.
    """
    if filters.status == "undecided":
        return (queue_count(session, replace(filters, status=None))
                - queue_count(session, replace(filters, status="decided")))
    parts = [or_(_FLAGGED, _tipped())] if filters.status else [_FLAGGED, and_(_tipped(), _NOT_FLAGGED)]
    return sum(int(session.execute(_queue_filtered(select(func.count(Listing.id)), filters, members)).scalar_one())
               for members in parts)


@dataclass
class QueuePage:
    rows: list[Any]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def queue_rows(session: Session, filters: QueueFilters, *, limit: int, offset: int = 0) -> list[Any]:
    """One slice of the queue in its order (no total: the listing page's "next" needs none).

    Two steps: the slice's ids from the order's index (OFFSET skips index entries, not the listings'
    wide rows), then those rows with their columns by primary key.
    """
    ids = list(session.scalars(queue_ids(filters).limit(limit).offset(offset)))
    if not ids:
        return []
    found = {row.id: row for row in session.execute(_queue_columns().where(Listing.id.in_(ids)))}
    return [found[i] for i in ids if i in found]


def queue_page(session: Session, filters: QueueFilters, page: int = 1, per_page: int = 50,
               *, total: int | None = None) -> QueuePage:
    """Page `page` of the queue; pass `total` when the caller already knows it (e.g. cached)."""
    page = max(1, page)
    rows = queue_rows(session, filters, limit=per_page, offset=(page - 1) * per_page)
    if total is None:
        total = queue_count(session, filters)
    return QueuePage(rows=rows, total=total, page=page, per_page=per_page)


def queue_options(session: Session) -> dict[str, list[str]]:
    """Marketplaces and species groups present, for the filter menus."""
    marketplaces = list(session.scalars(select(Marketplace.name).order_by(Marketplace.name)))
    groups: set[str] = set()
    # DISTINCT in the database: a few dozen species lists come back, not one per flagged listing.
    for species in session.scalars(select(Listing.current_species).distinct().where(_FLAGGED)):
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
    if seller_limit > 0 and (listing.seller_id or listing.seller_name):
        same_seller = (Listing.seller_id == listing.seller_id) if listing.seller_id else (
            Listing.seller_name == listing.seller_name)
        seller_listings = list(session.execute(
            select(Listing.id, Listing.title, Listing.url, Listing.gone_at,
                   Listing.current_score.label("score"), Listing.current_flagged.label("flagged"))
            .where(Listing.marketplace_id == listing.marketplace_id, same_seller, Listing.id != listing.id)
            .order_by(nulls_last(Listing.current_score.desc()), Listing.id)
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
    return list(session.execute(
        select(Listing.id, Marketplace.name.label("marketplace"), Listing.external_id, Listing.title,
               Listing.description, Listing.price, Listing.currency, Listing.current_decision.label("decision"),
               Listing.current_species.label("species"))
        .join(Marketplace, Marketplace.id == Listing.marketplace_id)
        .where(Listing.current_decision.is_not(None))
        .order_by(Listing.id)
    ).all())


def review_counts(session: Session, count: Callable[[QueueFilters], int] | None = None) -> dict[str, int]:
    """Queue totals for the header: flagged or tipped listings, and how many are still undecided.

    `count` (default: queue_count) lets the app pass its cached totals: the
    total does not change when someone decides, only the decided count does.
    """
    count = count or (lambda filters: queue_count(session, filters))
    total = count(QueueFilters())
    return {"queue": total, "undecided": total - count(QueueFilters(status="decided"))}


__all__ = [
    "DECISION_LABELS", "STATUSES", "PermissionDenied", "QueueFilters", "QueuePage", "ListingDetail",
    "add_user", "audit", "audit_history", "check_user_name", "current_decision", "decide", "decision_history",
    "get_user", "listing_detail", "queue_count", "queue_options", "queue_ids", "queue_page", "queue_rows",
    "queue_select", "record_capture", "record_tip",
    "review_counts", "reviewed_listings", "set_user",
]


def flagged_protection_counts(session: Session, run_ids: list[int]) -> dict[str, int]:
    """Listings last seen in `run_ids` whose current score is flagged, by protection of the named taxon.

    Keys: china_I (China Class I), rank0 (China Class I or CITES Appendix I), rank1, rank2, rank3,
    unassessed (no taxon named), flagged (all).
    """
    rows = session.execute(
        select(Listing.current_china_class, Listing.current_protection_rank)
        .where(_FLAGGED, Listing.last_run_id.in_(run_ids))
    ).all()
    out = {"china_I": 0, "rank0": 0, "rank1": 0, "rank2": 0, "rank3": 0, "unassessed": 0, "flagged": len(rows)}
    for china_class, rank in rows:
        out["china_I"] += china_class == "I"
        out[f"rank{rank}" if rank is not None else "unassessed"] += 1
    return out

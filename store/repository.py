"""Repository functions: the only code that writes wildwatch's tables.

Every function takes a Session and never commits: the caller owns the
transaction (store.db.session_scope), so a crawl batch, its scores and its run
bookkeeping succeed or fail together. Bad records inside a batch are logged,
appended to the optional `errors` list, and skipped.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar, cast

from sqlalchemy import Table, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from store.columns import utcnow
from store.errors import InvalidRecord, RecordError, StoreError
from store.models import (
    DECISIONS,
    FINISHED_STATUSES,
    CrawlRun,
    Decision,
    Listing,
    ListingSnapshot,
    Marketplace,
    ModelVersion,
    Score,
)
from store.queries import listings_frame
from store.upsert import dialect_insert
from store.validation import ListingRow, json_value, listing_row, score_row

__all__ = [
    "add_decision",
    "ensure_model_version",
    "finish_run",
    "get_or_create_marketplace",
    "listings_frame",
    "mark_gone",
    "record_scores",
    "refresh_current",
    "start_run",
    "upsert_listings",
]

log = logging.getLogger(__name__)

#: Rows per statement: keeps SQLite under its bound-parameter limit (25 columns x 500).
CHUNK = 500

T = TypeVar("T")

LISTINGS = cast(Table, Listing.__table__)
SNAPSHOTS = cast(Table, ListingSnapshot.__table__)
SCORES = cast(Table, Score.__table__)


def _chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _report(error: RecordError, errors: list[RecordError] | None) -> None:
    log.warning("skipped bad record: %s", error)
    if errors is not None:
        errors.append(error)


def _expire(session: Session, cls: type) -> None:
    """Core UPDATE/INSERT bypass the identity map: make loaded objects re-read."""
    for obj in list(session.identity_map.values()):
        if isinstance(obj, cls):
            session.expire(obj)


def _get_or_create(session: Session, cls: type[T], key: dict[str, Any], extra: dict[str, Any]) -> T:
    """Select, else insert inside a savepoint; a concurrent insert of the same key is re-read."""
    found = session.scalars(select(cls).filter_by(**key)).one_or_none()
    if found is not None:
        return found
    try:
        with session.begin_nested():
            obj = cls(**key, **extra)
            session.add(obj)
        return obj
    except IntegrityError:
        return session.scalars(select(cls).filter_by(**key)).one()


def get_or_create_marketplace(session: Session, name: str, base_url: str | None = None) -> Marketplace:
    """The marketplace called `name`, created on first use; a new base_url replaces the old."""
    if not isinstance(name, str) or not name.strip():
        raise StoreError(f"marketplace name must be non-empty text, got {name!r}")
    market = _get_or_create(session, Marketplace, {"name": name}, {"base_url": base_url})
    if base_url is not None and market.base_url != base_url:
        market.base_url = base_url
    return market


def start_run(session: Session, marketplace: Marketplace, *, nightly_id: str | None = None) -> CrawlRun:
    """Record that a crawl of `marketplace` started; pass `nightly_id` to group one night's crawls."""
    run = CrawlRun(marketplace_id=marketplace.id, nightly_id=nightly_id, status="running", stats={})
    session.add(run)
    session.flush()
    return run


def finish_run(session: Session, run: CrawlRun, status: str, stats: dict[str, Any], error: str | None = None) -> None:
    """Close `run` with its outcome and stats (pages, listings, errors, ...)."""
    if status not in FINISHED_STATUSES:
        raise StoreError(f"run {run.id}: status must be one of {', '.join(FINISHED_STATUSES)}, got {status!r}")
    if not isinstance(stats, dict):
        raise StoreError(f"run {run.id}: stats must be a dict, got {type(stats).__name__}")
    try:
        clean_stats = json_value(stats, f"run {run.id}", "stats")
    except InvalidRecord as exc:
        raise StoreError(str(exc)) from None
    run.status = status
    run.stats = clean_stats
    run.error = error.replace("\x00", "") if error else error
    run.finished_at = utcnow()
    session.flush()


def _validated(items: Iterable[Any], marketplace: Marketplace, errors: list[RecordError] | None) -> list[ListingRow]:
    """Valid rows, one per external id (the last occurrence wins)."""
    rows: dict[str, ListingRow] = {}
    for index, item in enumerate(items):
        try:
            row = listing_row(item, index, marketplace.name)
        except InvalidRecord as exc:
            _report(exc.error, errors)
            continue
        rows.pop(row.external_id, None)  # re-insert so order follows the last occurrence
        rows[row.external_id] = row
    return list(rows.values())


def _snapshot_hashes(session: Session, listing_ids: Sequence[int]) -> dict[int, str]:
    """Each listing's newest snapshot hash: the content it had before this batch's upsert.

    Read after the upsert, which holds the listings' row locks until commit: a
    concurrent writer of the same listing has committed its snapshot by then (or
    waits for ours), so two workers seeing one new listing at once store one
    snapshot, not two. A hash read before the upsert would miss that.
    """
    newest = (select(func.max(ListingSnapshot.id)).where(ListingSnapshot.listing_id.in_(listing_ids))
              .group_by(ListingSnapshot.listing_id))
    result = session.execute(
        select(ListingSnapshot.listing_id, ListingSnapshot.content_hash).where(ListingSnapshot.id.in_(newest))
    )
    return {listing_id: digest for listing_id, digest in result}


def _row_ids(session: Session, marketplace_id: int, external_ids: Sequence[str]) -> dict[str, int]:
    result = session.execute(
        select(Listing.external_id, Listing.id).where(
            Listing.marketplace_id == marketplace_id, Listing.external_id.in_(external_ids)
        )
    )
    return {external_id: row_id for external_id, row_id in result}


def _upsert_chunk(session: Session, run: CrawlRun, marketplace: Marketplace, rows: Sequence[ListingRow]) -> None:
    # executemany, not RETURNING: psycopg pipelines executemany, while a RETURNING
    # upsert becomes one huge multi-VALUES statement that psycopg parses slowly (2x on 5k rows).
    now = utcnow()
    params = [
        {
            **row.values,
            "marketplace_id": marketplace.id,
            "external_id": row.external_id,
            "content_hash": row.content_hash,
            "first_seen_at": row.seen_at or now,
            "last_seen_at": row.seen_at or now,
            "gone_at": None,
            "first_run_id": run.id,
            "last_run_id": run.id,
        }
        for row in rows
    ]
    table = LISTINGS
    stmt = dialect_insert(session, table)
    updated = [*rows[0].values, "content_hash", "last_seen_at", "last_run_id", "gone_at"]
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.marketplace_id, table.c.external_id],
        set_={name: stmt.excluded[name] for name in updated},
    )
    session.execute(stmt, params)


def upsert_listings(
    session: Session,
    run: CrawlRun,
    marketplace: Marketplace,
    items: list[dict[str, Any]],
    *,
    errors: list[RecordError] | None = None,
) -> dict[str, int]:
    """Insert or update `items` (ListingItem.to_dict() + content_hash); returns external_id -> row id.

    One batched INSERT ... ON CONFLICT statement per CHUNK items (executemany,
    pipelined by psycopg), keyed by (marketplace_id, external_id):
    first_seen_at/first_run_id are kept, last_seen_at/last_run_id and the content
    are replaced, and gone_at is cleared (the listing is back). A snapshot row
    is added when an item's content_hash differs from the listing's current one,
    which includes first sight and a change back to earlier content. Seen time
    is the item's `crawled_at` when given, else now. Duplicate ids in one batch:
    the last wins. Bad items are reported (log + `errors`) and skipped.
    """
    if run.marketplace_id != marketplace.id:
        raise StoreError(f"run {run.id} crawls marketplace id {run.marketplace_id}, not {marketplace.name!r}")
    # Sorted: concurrent writers lock overlapping listings in one order, so they wait instead of deadlocking.
    rows = sorted(_validated(items, marketplace, errors), key=lambda row: row.external_id)
    ids: dict[str, int] = {}
    for chunk in _chunks(rows):
        external_ids = [row.external_id for row in chunk]
        _upsert_chunk(session, run, marketplace, chunk)
        chunk_ids = _row_ids(session, marketplace.id, external_ids)
        before = _snapshot_hashes(session, list(chunk_ids.values()))
        snapshots = [
            {
                "listing_id": chunk_ids[row.external_id],
                "run_id": run.id,
                "content_hash": row.content_hash,
                "captured_at": row.seen_at or utcnow(),
                "data": row.content,
            }
            for row in chunk
            if before.get(chunk_ids[row.external_id]) != row.content_hash
        ]
        if snapshots:
            session.execute(SNAPSHOTS.insert(), snapshots)
        ids.update(chunk_ids)
    _expire(session, Listing)
    return ids


def mark_gone(session: Session, run: CrawlRun, marketplace: Marketplace, seen_external_ids: set[str]) -> int:
    """Set gone_at on this marketplace's listings that `run` did not see; returns how many.

    Only call it after a complete crawl: a partial or failed run did not visit
    everything, so it refuses those rather than retire listings wrongly.
    """
    if run.marketplace_id != marketplace.id:
        raise StoreError(f"run {run.id} crawls marketplace id {run.marketplace_id}, not {marketplace.name!r}")
    if run.status in ("partial", "failed"):
        raise StoreError(f"run {run.id} is {run.status}: only a complete run can tell which listings are gone")
    present = session.execute(
        select(Listing.id, Listing.external_id).where(
            Listing.marketplace_id == marketplace.id, Listing.gone_at.is_(None)
        )
    ).all()
    gone = [row_id for row_id, external_id in present if external_id not in seen_external_ids]
    now = utcnow()
    for chunk in _chunks(gone):
        session.execute(update(Listing).where(Listing.id.in_(chunk)).values(gone_at=now).execution_options(synchronize_session=False))
    _expire(session, Listing)
    return len(gone)


def ensure_model_version(session: Session, version: str, metadata: dict[str, Any]) -> ModelVersion:
    """The ModelVersion row for `version`, created with `metadata` on first use.

    An existing row keeps its original metadata: a version string names one
    trained artifact, and rewriting its record would break the audit trail.
    """
    if not isinstance(version, str) or not version.strip():
        raise StoreError(f"model version must be non-empty text, got {version!r}")
    try:
        clean = json_value(metadata or {}, f"model version {version!r}", "metadata")
    except InvalidRecord as exc:
        raise StoreError(str(exc)) from None
    model = _get_or_create(session, ModelVersion, {"version": version}, {"meta": clean})
    if model.meta != clean:
        log.warning("model version %r already recorded with different metadata; keeping the original", version)
    return model


def record_scores(
    session: Session,
    run: CrawlRun | None,
    model_version: ModelVersion,
    scores: list[tuple[int, dict[str, Any]]],
    *,
    errors: list[RecordError] | None = None,
) -> int:
    """Append one Score row per (listing row id, score dict); returns how many were stored.

    Scores are never updated: a listing's current score is its newest row.
    `run` is None for classify-only rescoring. Bad entries and unknown listing
    ids are reported and skipped.
    """
    valid = []
    for index, entry in enumerate(scores):
        try:
            valid.append(score_row(entry, index, model_version.version))
        except InvalidRecord as exc:
            _report(exc.error, errors)
    wanted = sorted({row.listing_id for row in valid})
    known: set[int] = set()
    for chunk in _chunks(wanted):
        # FOR UPDATE (PostgreSQL; SQLite has one writer anyway): a concurrent scorer of the same
        # listing waits, so the current-score refresh below sees every committed score.
        known.update(session.scalars(select(Listing.id).where(Listing.id.in_(chunk)).order_by(Listing.id)
                                     .with_for_update()))
    now = utcnow()
    params = []
    for row in valid:
        if row.listing_id not in known:
            _report(RecordError(f"score for listing id {row.listing_id}", "listing_id", "no such listing"), errors)
            continue
        params.append(
            {
                "listing_id": row.listing_id,
                "run_id": run.id if run is not None else None,
                "model_version_id": model_version.id,
                "score": row.score,
                "flagged": row.flagged,
                "threshold": row.threshold,
                "species": row.species,
                "evidence": row.evidence,
                "scored_at": now,
                **row.protection_columns(),
            }
        )
    for rows in _chunks(params):
        session.execute(SCORES.insert(), list(rows))
    refresh_current(session, Score, [p["listing_id"] for p in params])
    return len(params)


def add_decision(session: Session, listing_id: int, analyst: str, decision: str, note: str | None = None) -> Decision:
    """Append an analyst's decision on a listing (earlier decisions stay as history)."""
    if decision not in DECISIONS:
        raise StoreError(f"decision must be one of {', '.join(DECISIONS)}, got {decision!r}")
    if not isinstance(analyst, str) or not analyst.strip():
        raise StoreError(f"analyst must be a non-empty name, got {analyst!r}")
    if len(analyst) > 100:
        raise StoreError(f"analyst name is {len(analyst)} characters, the limit is 100")
    if session.get(Listing, listing_id, with_for_update=True) is None:
        raise StoreError(f"no listing with id {listing_id!r}")
    row = Decision(listing_id=listing_id, analyst=analyst.strip(), decision=decision, note=note, decided_at=utcnow())
    session.add(row)
    session.flush()
    refresh_current(session, Decision, [listing_id])
    return row


#: What each history table repeats on the listing: the pointer, "newest" order, and listing <- history columns.
_CURRENT: dict[type, tuple[Any, tuple[Any, ...], dict[str, Any]]] = {
    Score: (Listing.current_score_id, (Score.scored_at.desc(), Score.id.desc()),
            {"current_score": Score.score, "current_flagged": Score.flagged, "current_threshold": Score.threshold,
             "current_species": Score.species, "current_taxon_id": Score.taxon_id,
             "current_protection_rank": Score.protection_rank, "current_china_class": Score.china_class,
             "current_cites_appendix": Score.cites_appendix}),
    Decision: (Listing.current_decision_id, (Decision.decided_at.desc(), Decision.id.desc()),
               {"current_decision": Decision.decision}),
}


def refresh_current(session: Session, history: type[Score] | type[Decision],
                    listing_ids: Iterable[int] | None = None) -> None:
    """Point each listing's current_* columns at its newest `history` row (Score or Decision).

    Two set-based UPDATEs per chunk of `listing_ids` (None: every listing at
    once, e.g. after a bulk load), with the same definition of "newest" the
    history indexes serve, so the listing row always agrees with the history
    whatever order rows arrived in. Call it in the transaction that added rows.
    """
    pointer, newest, copied = _CURRENT[history]
    latest = (select(history.id).where(history.listing_id == Listing.id).order_by(*newest).limit(1)
              .correlate(Listing).scalar_subquery())
    chunks = [None] if listing_ids is None else _chunks(sorted(set(listing_ids)))
    for chunk in chunks:
        which = [] if chunk is None else [Listing.id.in_(chunk)]
        session.execute(update(Listing).where(*which).values({pointer: latest})
                        .execution_options(synchronize_session=False))
        session.execute(update(Listing).where(*which, history.id == pointer)
                        .values({getattr(Listing, name): column for name, column in copied.items()})
                        .execution_options(synchronize_session=False))
    _expire(session, Listing)

"""Where a crawled batch of listings is written: listings, their contact handles and their scores, in one transaction.

The crawl's store pipeline and the spool replay (crawler.spool) both write through `write_batch`, so a
listing stored live and one replayed from the spool end up the same. Rows are plain dicts (the crawler's
listing fields plus `content_hash` and `score`), so the store needs nothing from the crawler.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sqlalchemy import select

from store import repository
from store.handles import record_listing_handles
from store.models import CrawlRun, Listing, Marketplace, Score


def write_batch(session, run: CrawlRun, marketplace: Marketplace, rows: list[dict[str, Any]],
                handles: Mapping[str, list[tuple[str, str, str]]],
                model_metadata: Callable[[str], dict]) -> tuple[dict[str, int], int, list]:
    """Upsert listings, store their contact handles and record their scores in the caller's transaction.

    `rows`: one dict a listing with `listing_id`, `content_hash` and `score` (the classifier's score dict,
    or None) beside the listing fields; `handles`: external id -> (field, type, value), extracted before the
    transaction takes its locks (classifier.handles.extract_row_handles). Returns (external id -> row id,
    scores recorded, record errors). A listing that already has a score from `run` is not scored again, so
    a retried or replayed batch adds no second score.
    """
    errors: list = []
    ids = repository.upsert_listings(session, run, marketplace, rows, errors=errors)
    record_listing_handles(session, ids, handles, run_id=run.id)  # stored with their listings
    row_ids = [ids[row["listing_id"]] for row in rows if row.get("score") and row["listing_id"] in ids]
    scored = set(session.scalars(select(Score.listing_id).where(Score.run_id == run.id,
                                                                Score.listing_id.in_(row_ids)))) if row_ids else set()
    by_version: dict[str, list[tuple[int, dict]]] = {}
    for row in rows:
        row_id = ids.get(row["listing_id"])
        if row.get("score") and row_id is not None and row_id not in scored:
            scored.add(row_id)
            by_version.setdefault(row["score"]["model_version"], []).append((row_id, row["score"]))
    recorded = 0
    for version, scores in by_version.items():
        model_version = repository.ensure_model_version(session, version, model_metadata(version))
        recorded += repository.record_scores(session, run, model_version, scores, errors=errors)
    return ids, recorded, errors


def stored_since(session, run: CrawlRun, marketplace: Marketplace, external_ids: Iterable[str]) -> set[str]:
    """External ids a later crawl run than `run` has stored since (a replay of `run` must leave them be)."""
    return set(session.scalars(select(Listing.external_id).where(
        Listing.marketplace_id == marketplace.id, Listing.external_id.in_(list(external_ids)),
        Listing.last_run_id > run.id)))

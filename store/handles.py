"""Contact handles per listing, stored beside the listings (found by classifier.handles.extract_row_handles).

Called by the same store path as the listings (store.batch.write_batch, used by the crawl
pipeline and the spool replay, and by tips), so every crawl and every demo night keeps them. Text
read from images (OCR) is stored the same way through `record_handles`, with a field name of its
own such as "ocr:<image sha256>": the field is open-ended.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.orm import Session

from store.columns import utcnow
from store.models import ListingHandle
from store.upsert import dialect_insert

__all__ = ["record_handles", "record_listing_handles"]

log = logging.getLogger(__name__)

HANDLES = cast(Table, ListingHandle.__table__)
MAX_FIELD = 100
MAX_VALUE = 255
# The handle types the extractor names (classifier.handles.HANDLE_TYPES): a lower-case word; the store keeps
# no list of its own, so a new type needs no change here.
HANDLE_TYPE = re.compile(r"[a-z][a-z0-9_]{0,15}")
CHUNK = 500


def record_handles(session: Session, found: Iterable[tuple[int, str, str, str]], *, run_id: int | None = None,
                   seen_at: datetime | None = None) -> int:
    """Store (listing id, field, type, value) sightings: new ones are inserted, known ones get a new last seen.

    One INSERT ... ON CONFLICT per chunk. Rows that cannot be a handle (an unknown type, an empty
    or over-long value or field) are logged and skipped, so one odd OCR line never stops a batch.
    Returns how many sightings were written.
    """
    now = seen_at or utcnow()
    params: dict[tuple[int, str, str, str], dict[str, Any]] = {}
    for listing_id, field, kind, value in found:
        if not isinstance(kind, str) or not HANDLE_TYPE.fullmatch(kind) or not value or len(value) > MAX_VALUE or not field or len(field) > MAX_FIELD:
            log.warning("skipped handle of listing %s: field %r, type %r, %d-character value",
                        listing_id, (field or "")[:40], kind, len(value or ""))
            continue
        params[(listing_id, field, kind, value)] = {
            "listing_id": listing_id, "field": field, "type": kind, "value": value,
            "first_seen_at": now, "last_seen_at": now, "first_run_id": run_id, "last_run_id": run_id,
        }
    rows = [params[key] for key in sorted(params)]  # one lock order for concurrent writers
    for start in range(0, len(rows), CHUNK):
        stmt = dialect_insert(session, HANDLES)
        stmt = stmt.on_conflict_do_update(
            index_elements=[HANDLES.c.listing_id, HANDLES.c.field, HANDLES.c.type, HANDLES.c.value],
            set_={"last_seen_at": stmt.excluded.last_seen_at, "last_run_id": stmt.excluded.last_run_id},
        )
        session.execute(stmt, rows[start:start + CHUNK])
    return len(rows)


def record_listing_handles(session: Session, ids: Mapping[str, int],
                           extracted: Mapping[str, list[tuple[str, str, str]]], *, run_id: int | None = None) -> int:
    """Store the handles of stored rows (`ids`: external id -> listing row id from the upsert; `extracted`:
    external id -> (field, type, value), from classifier.handles.extract_row_handles, run before the
    transaction takes its locks)."""
    found = [(ids[external_id], field, kind, value) for external_id, sightings in extracted.items()
             if external_id in ids for field, kind, value in sightings]
    return record_handles(session, found, run_id=run_id)

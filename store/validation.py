"""Turn crawler items and classifier scores into rows, or say exactly what is wrong.

The store is the last line before data becomes evidence, so it checks types
instead of trusting upstream stages: one malformed item must be reported with
its marketplace, listing id and field, and skipped, never abort a night's batch
(and never reach PostgreSQL, where one bad value fails the whole statement).
"""
from __future__ import annotations

import hashlib
import json
import logging
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from store.columns import as_utc
from store.errors import InvalidRecord, RecordError

#: The fields a seller controls; must match crawler.items.ListingItem.CONTENT_FIELDS
#: (a test guards this), because the snapshot keeps exactly what the hash covers.
CONTENT_FIELDS = (
    "title", "description", "price", "currency", "price_text", "seller_id",
    "seller_name", "location", "images", "posted_at", "category",
)
_OPTIONAL_TEXT = ("price_text", "seller_id", "seller_name", "seller_url", "location", "posted_at", "category")
log = logging.getLogger(__name__)
_MAX_EXTERNAL_ID = 255
_MAX_CURRENCY = 16
_MAX_EXTRACTION = 32
#: URL fields (issue 17 break 9: a tip stored a 2 MB seller URL). The listing's own `url` past the cap is
#: refused (it names the listing); a seller URL or image past it is dropped, so padding them cannot keep
#: a listing out of the store. At most MAX_IMAGES image URLs are kept.
MAX_URL_CHARS = 4000
MAX_IMAGES = 50
_HASH_RE = re.compile(r"^[0-9a-f]{64}$")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def content_hash(fields: Mapping[str, Any]) -> str:
    """SHA-256 over the content fields, computed exactly as ListingItem.content_hash does."""
    payload = {name: fields.get(name) for name in CONTENT_FIELDS}
    blob = json.dumps(payload, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ListingRow:
    """A validated item: the listing columns plus when it was seen."""

    external_id: str
    values: dict[str, Any]  # listing columns owned by the item (content + url, extraction, ...)
    content: dict[str, Any]  # the snapshot data
    content_hash: str
    seen_at: datetime | None  # None: use the time of the write


def _where(item: Mapping[str, Any], index: int) -> str:
    listing_id = item.get("listing_id") if isinstance(item, Mapping) else None
    market = item.get("marketplace") if isinstance(item, Mapping) else None
    return f"item #{index} (marketplace={market!r}, listing_id={listing_id!r})"


def _fail(where: str, field: str, message: str) -> InvalidRecord:
    return InvalidRecord(RecordError(where, field, message))


def _text(value: Any, where: str, field: str, *, required: bool = False, max_len: int | None = None) -> str | None:
    if value is None:
        if required:
            raise _fail(where, field, "is missing")
        return None
    if not isinstance(value, str):
        raise _fail(where, field, f"must be text, got {type(value).__name__}")
    value = _clean(value)
    if required and not value.strip():
        raise _fail(where, field, "is empty")
    if max_len is not None and len(value) > max_len:
        raise _fail(where, field, f"is {len(value)} characters, the limit is {max_len}")
    return value


def _number(value: Any, where: str, field: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(where, field, f"must be a number, got {type(value).__name__} {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise _fail(where, field, f"must be finite, got {value!r}")
    return number


def _timestamp(value: Any, where: str, field: str) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return as_utc(value)
    if not isinstance(value, str):
        raise _fail(where, field, f"must be an ISO 8601 timestamp, got {type(value).__name__}")
    try:
        return as_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        raise _fail(where, field, f"is not an ISO 8601 timestamp: {value!r}") from None


def _clean(text: str) -> str:
    """NUL removed (PostgreSQL rejects it in text and JSONB; it means nothing in a listing) and lone
    surrogates replaced by U+FFFD (they cannot be encoded as UTF-8, so no driver can send them)."""
    return _SURROGATE_RE.sub("\ufffd", text.replace("\x00", ""))


def _strip_nul(value: Any) -> Any:
    if isinstance(value, str):
        return _clean(value)
    if isinstance(value, list | tuple):
        return [_strip_nul(v) for v in value]
    if isinstance(value, Mapping):
        return {_strip_nul(k) if isinstance(k, str) else k: _strip_nul(v) for k, v in value.items()}
    return value


def json_value(value: Any, where: str, field: str) -> Any:
    """`value` as plain JSON data (NUL removed, lone surrogates replaced: see _clean); raises InvalidRecord."""
    value = _strip_nul(value)
    try:
        return json.loads(json.dumps(value, ensure_ascii=False, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise _fail(where, field, f"is not JSON-serialisable: {exc}") from None


def listing_row(item: Any, index: int, marketplace_name: str) -> ListingRow:
    """Validate one `ListingItem.to_dict()` (+ content_hash); raises InvalidRecord."""
    if not isinstance(item, Mapping):
        raise _fail(f"item #{index}", "*", f"must be a mapping, got {type(item).__name__}")
    where = _where(item, index)
    market = item.get("marketplace")
    if market is not None and market != marketplace_name:
        raise _fail(where, "marketplace", f"belongs to {market!r}, not to {marketplace_name!r}")
    raw_id = item.get("listing_id")
    if isinstance(raw_id, int) and not isinstance(raw_id, bool):
        raw_id = str(raw_id)
    external_id = _text(raw_id, where, "listing_id", required=True, max_len=_MAX_EXTERNAL_ID)
    assert external_id is not None
    content: dict[str, Any] = {
        "title": _text(item.get("title"), where, "title") or "",
        "description": _text(item.get("description"), where, "description") or "",
        "price": _number(item.get("price"), where, "price"),
        "currency": _text(item.get("currency"), where, "currency", max_len=_MAX_CURRENCY),
    }
    for name in _OPTIONAL_TEXT:
        content[name] = _text(item.get(name), where, name)
    if content["seller_url"] is not None and len(content["seller_url"]) > MAX_URL_CHARS:
        log.warning("%s: seller_url of %d characters dropped (limit %d)", where, len(content["seller_url"]),
                    MAX_URL_CHARS)
        content["seller_url"] = None
    images = item.get("images")
    if images is None:
        images = []
    if not isinstance(images, list | tuple) or not all(isinstance(url, str) for url in images):
        raise _fail(where, "images", "must be a list of URL strings")
    kept = [_clean(url) for url in images if len(url) <= MAX_URL_CHARS][:MAX_IMAGES]
    if len(kept) < len(images):
        log.warning("%s: %d of %d image URLs dropped (over %d characters, or past the first %d)", where,
                    len(images) - len(kept), len(images), MAX_URL_CHARS, MAX_IMAGES)
    content["images"] = kept
    rendered = item.get("rendered", False)
    if rendered is None:
        rendered = False
    if not isinstance(rendered, bool):
        raise _fail(where, "rendered", f"must be true or false, got {rendered!r}")
    values = {
        **content,
        "url": _text(item.get("url"), where, "url", required=True, max_len=MAX_URL_CHARS),
        "extraction": _text(item.get("extraction"), where, "extraction", max_len=_MAX_EXTRACTION) or "",
        "rendered": rendered,
    }
    digest = item.get("content_hash")
    if digest is None:
        digest = content_hash(content)
    elif not isinstance(digest, str) or not _HASH_RE.match(digest):
        raise _fail(where, "content_hash", f"must be 64 lowercase hex digits (SHA-256), got {digest!r}")
    snapshot = {name: content[name] for name in CONTENT_FIELDS}
    seen_at = _timestamp(item.get("crawled_at"), where, "crawled_at")
    return ListingRow(external_id, values, snapshot, digest, seen_at)


@dataclass(frozen=True)
class ScoreRow:
    listing_id: int
    score: float
    flagged: bool
    threshold: float | None
    species: list[str]
    evidence: list[dict[str, Any]]
    taxon: dict[str, Any] | None = None  # classifier.taxa.TaxonMatch.to_dict()

    def protection_columns(self) -> dict[str, Any]:
        """The scores columns that repeat the taxon's id and protection, for filters and sorting."""
        t = self.taxon or {}
        return {"taxon": self.taxon, "taxon_id": t.get("taxon_id"), "protection_rank": t.get("protection_rank"),
                "china_class": t.get("china_class") or None, "cites_appendix": t.get("cites_appendix") or None}


def score_row(entry: Any, index: int, model_version: str) -> ScoreRow:
    """Validate one (listing row id, score dict) pair; raises InvalidRecord."""
    if not isinstance(entry, tuple | list) or len(entry) != 2:
        raise _fail(f"score #{index}", "*", "must be a (listing id, score dict) pair")
    listing_id, data = entry
    where = f"score #{index} (listing id {listing_id!r})"
    if isinstance(listing_id, bool) or not isinstance(listing_id, int):
        raise _fail(where, "listing_id", f"must be the listing's row id (int), got {type(listing_id).__name__}")
    if not isinstance(data, Mapping):
        raise _fail(where, "*", f"score must be a dict, got {type(data).__name__}")
    value = _number(data.get("score"), where, "score")
    if value is None:
        raise _fail(where, "score", "is missing")
    if not 0.0 <= value <= 1.0:
        raise _fail(where, "score", f"must lie between 0 and 1, got {value!r}")
    flagged = data.get("flagged")
    if not isinstance(flagged, bool):
        raise _fail(where, "flagged", f"must be true or false, got {flagged!r}")
    threshold = _number(data.get("threshold"), where, "threshold")
    declared = data.get("model_version")
    if declared is not None and declared != model_version:
        raise _fail(where, "model_version", f"is {declared!r} but the scores are being recorded for {model_version!r}")
    species = data.get("species")
    if species is None:
        species = []
    elif isinstance(species, str):
        species = [species]
    if not isinstance(species, list | tuple) or not all(isinstance(s, str) for s in species):
        raise _fail(where, "species", "must be a string or a list of strings")
    evidence = data.get("evidence")
    if evidence is None:
        evidence = []
    if not isinstance(evidence, list | tuple) or not all(isinstance(e, Mapping) for e in evidence):
        raise _fail(where, "evidence", "must be a list of dicts")
    evidence = json_value(list(evidence), where, "evidence")
    taxon = data.get("taxon")
    if taxon is not None:
        if not isinstance(taxon, Mapping) or not isinstance(taxon.get("taxon_id"), str):
            raise _fail(where, "taxon", "must be a dict with a taxon_id (classifier.taxa.TaxonMatch.to_dict())")
        rank = taxon.get("protection_rank")
        if isinstance(rank, bool) or rank not in (0, 1, 2, 3):
            raise _fail(where, "taxon", f"protection_rank must be 0, 1, 2 or 3, got {rank!r}")
        taxon = json_value(dict(taxon), where, "taxon")
    return ScoreRow(listing_id, value, flagged, threshold, list(species), evidence, taxon)

"""Tip intake: a reported URL is fetched, extracted, scored, stored and queued, whatever it scores.

The tipped page goes through the crawler's own extraction (site selectors when
the host is a configured marketplace, else schema.org data and heuristics) and
the active model, and is stored like a crawled listing (a one-page crawl run),
so a tip about a listing the crawler already knows updates that listing. The
rendered HTML and a full-page screenshot are kept as a capture for evidence.
"""
from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.engine import Engine

from classifier.handles import extract_row_handles
from crawler.extractors.listing import ExtractionError, extract_listing
from crawler.items import ListingItem, listing_from_fields
from crawler.pipelines import NormalisePipeline
from crawler.siteconfig import SiteConfig, load_all_sites
from review.capture import BadURL, CaptureError, check_public_url, PageCapture, capture_page, check_url, safe_name, save_capture
from review.netguard import AddressPolicy
from review.settings import ReviewSettings
from store import repository
from store.db import session_scope
from store.handles import record_listing_handles
from store.models import Marketplace
from store.decisions import record_capture, record_tip

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TipOutcome:
    tip_id: int
    url: str
    listing_id: int | None = None
    marketplace: str | None = None
    external_id: str | None = None
    title: str | None = None
    score: float | None = None
    flagged: bool | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def _netloc(url: str | None) -> str:
    parts = urlsplit(url or "")
    return (parts.netloc or "").lower()


def resolve_marketplace(engine: Engine, url: str, sites_dir: Path) -> tuple[str, str, SiteConfig | None]:
    """(marketplace name, base URL, site config or None) for a tipped URL.

    A marketplace already in the store with the same host:port wins (so a tip
    about a crawled listing lands on that listing), then a site config whose
    base_url has that host, else a new marketplace named after the host.
    """
    netloc = _netloc(url)
    sites, _errors = load_all_sites(sites_dir)
    by_name = {site.name: site for site in sites}
    with session_scope(engine) as session:
        for name, base_url in session.execute(select(Marketplace.name, Marketplace.base_url)):
            if base_url and _netloc(base_url) == netloc:
                site = by_name.get(name)
                return name, base_url, site.with_base_url(base_url) if site else None
    for site in sites:
        if _netloc(site.base_url) == netloc:
            return site.name, site.base_url, site
    parts = urlsplit(url)
    return f"tip-{safe_name(parts.netloc.lower(), 90)}", f"{parts.scheme}://{parts.netloc}", None


def listing_item(capture: PageCapture, marketplace: str, site: SiteConfig | None) -> ListingItem:
    """The crawler's extraction and clean-up applied to a captured page."""
    extraction = extract_listing(capture.html, capture.final_url, site)
    item = listing_from_fields(
        extraction.fields, marketplace=marketplace, url=capture.final_url, extraction=extraction.method,
        rendered=True, crawled_at=capture.captured_at, default_currency=site.currency if site else None,
    )
    return NormalisePipeline().process_item(item)


def check_tip_url(url: str, settings: ReviewSettings) -> str:
    """The tip URL as Chromium will read it, when it is http(s) and its host is public (or allowed); else BadURL."""
    url = check_url(url)
    check_public_url(url, AddressPolicy.from_setting(settings.fetch_allow))
    return url


def submit_tip(engine: Engine, url: str, submitted_by: str, settings: ReviewSettings, *, note: str | None = None,
               scorer=None) -> TipOutcome:
    """Fetch, score, store and queue a tipped URL; the outcome says what happened.

    A URL that is not http(s) raises BadURL before anything is recorded. A page
    that cannot be fetched or yields no listing is recorded as a failed tip
    (so the lead sees it) and returned with its error.
    """
    url = check_tip_url(url, settings)  # refused before anything is recorded or started
    from classifier.scorer import Scorer

    scorer = scorer or Scorer.load(settings.models_dir, threshold=settings.threshold)
    marketplace_name, base_url, site = resolve_marketplace(engine, url, settings.sites_dir)
    try:
        wait_for = site.javascript.wait_for if site and site.needs_browser(url) else None
        capture = capture_page(url, policy=AddressPolicy.from_setting(settings.fetch_allow),
                               chromium=settings.chromium_path, wait_for=wait_for)
        item = listing_item(capture, marketplace_name, site)
    except (CaptureError, ExtractionError) as exc:
        error = str(exc) if isinstance(exc, CaptureError) else f"{url}: no listing found on the page ({exc})"
        with session_scope(engine) as session:
            tip = record_tip(session, url, submitted_by, status="failed", error=error, note=note)
        log.warning("tip %s failed: %s", url, error)
        return TipOutcome(tip_id=tip.id, url=url, error=error)
    result = scorer.score(item.title, item.description, price=item.price, currency=item.currency)
    item.score = result.to_dict()
    with session_scope(engine) as session:
        market = repository.get_or_create_marketplace(session, marketplace_name, base_url)
        run = repository.start_run(session, market)
        row = asdict(item)
        row["content_hash"] = item.content_hash()
        errors: list = []
        ids = repository.upsert_listings(session, run, market, [row], errors=errors)
        if item.listing_id not in ids:
            raise CaptureError(f"{url}: the extracted listing was refused by the store ({errors[0] if errors else '?'})")
        listing_id = ids[item.listing_id]
        record_listing_handles(session, ids, extract_row_handles([row]), run_id=run.id)
        model = repository.ensure_model_version(session, scorer.version, dict(scorer.metadata))
        repository.record_scores(session, run, model, [(listing_id, item.score)])
        repository.finish_run(session, run, "succeeded", {"source": "tip", "pages": 1, "listings": 1,
                                                           "flagged": int(result.flagged), "rendered_pages": 1})
        saved = save_capture(capture, settings.data_dir, listing_id, "tip")
        record_capture(session, listing_id, url=url, final_url=capture.final_url, source="tip",
                       captured_by=submitted_by, captured_at=capture.captured_at, **asdict(saved))
        tip = record_tip(session, url, submitted_by, status="stored", listing_id=listing_id, note=note)
    return TipOutcome(tip_id=tip.id, url=url, listing_id=listing_id, marketplace=marketplace_name,
                      external_id=item.listing_id, title=item.title, score=result.score, flagged=result.flagged)


__all__ = ["BadURL", "TipOutcome", "check_tip_url", "listing_item", "resolve_marketplace", "submit_tip"]

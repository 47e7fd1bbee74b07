"""Item pipelines, one verb each, in order: normalise, validate, deduplicate, score, store."""
from __future__ import annotations

import json
import logging
import math
import re
import time
from dataclasses import asdict
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

from scrapy import signals
from scrapy.exceptions import DropItem

from crawler.items import ListingItem
from wildwatch.config import Settings

logger = logging.getLogger(__name__)
STAT = "wildwatch/"

_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES_RE = re.compile(r"[ \t\u00a0\u3000]+")
_BLANK_LINES_RE = re.compile(r"\n\s*\n+")
MAX_LENGTHS = {"title": 1_000, "description": 20_000, "price_text": 200, "seller_name": 300,
               "location": 300, "category": 300, "posted_at": 64, "seller_id": 200}


def clean_text(value: str | None, *, multiline: bool = False) -> str | None:
    """Control characters out (PostgreSQL refuses NUL), runs of spaces folded, ends trimmed."""
    if value is None:
        return None
    text = _CONTROL_RE.sub("", str(value)).replace("\r\n", "\n").replace("\r", "\n")
    if multiline:
        lines = [_SPACES_RE.sub(" ", line).strip() for line in text.split("\n")]
        text = _BLANK_LINES_RE.sub("\n\n", "\n".join(lines))
    else:
        text = _SPACES_RE.sub(" ", text.replace("\n", " "))
    return text.strip()


class NormalisePipeline:
    """Cleans whitespace and control characters and caps field lengths; changes text, drops nothing."""

    def process_item(self, item: ListingItem) -> ListingItem:
        item.title = clean_text(item.title) or ""
        item.description = clean_text(item.description, multiline=True) or ""
        for name in ("price_text", "seller_id", "seller_name", "seller_url", "location", "posted_at", "category"):
            setattr(item, name, clean_text(getattr(item, name)) or None)
        for name, limit in MAX_LENGTHS.items():
            value = getattr(item, name)
            if value and len(value) > limit:
                setattr(item, name, value[:limit])
        item.listing_id = (clean_text(item.listing_id) or "")[:200]
        item.images = list(dict.fromkeys(url for url in item.images if url))[:50]
        if item.currency:
            item.currency = item.currency.strip().upper()[:8] or None
        return item


class ValidatePipeline:
    """Drops listings without a title, id or http(s) URL; blanks a price that is not a sane number."""

    def __init__(self, stats=None):
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.stats)

    def process_item(self, item: ListingItem) -> ListingItem:
        for name, reason in (("title", "missing_title"), ("listing_id", "missing_id")):
            if not getattr(item, name):
                self._drop(reason, f"{item.url}: no {name}")
        if not item.url.startswith(("http://", "https://")):
            self._drop("bad_url", f"{item.url!r} is not an http(s) URL")
        if item.price is not None and (not math.isfinite(item.price) or item.price < 0):
            logger.warning("%s: price %r is not a usable amount; kept as text only", item.url, item.price)
            item.price = None
        return item

    def _drop(self, reason: str, message: str):
        if self.stats:
            self.stats.inc_value(f"{STAT}dropped/{reason}")
        raise DropItem(message)


class DeduplicatePipeline:
    """Drops a listing already seen in this crawl (one listing reached through two URLs)."""

    def __init__(self, stats=None):
        self.stats = stats
        self.seen: set[tuple[str, str]] = set()

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.stats)

    def process_item(self, item: ListingItem) -> ListingItem:
        key = (item.marketplace, item.listing_id)
        if key in self.seen:
            if self.stats:
                self.stats.inc_value(f"{STAT}dropped/duplicate")
            raise DropItem(f"duplicate listing {item.listing_id} ({item.url})")
        self.seen.add(key)
        return item


@lru_cache(maxsize=4)
def load_scorer(models_dir: str, threshold: float | None):
    """One scorer per process and model: loading verifies the artifact, so do it once."""
    from classifier.scorer import Scorer

    return Scorer.load(Path(models_dir), threshold=threshold)


class ScorePipeline:
    """Attaches the classifier's score and evidence to each listing; a scoring error is logged, not fatal."""

    def __init__(self, scorer, stats=None):
        self.scorer = scorer
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        config = Settings.from_env()
        models_dir = crawler.settings.get("WILDWATCH_MODELS_DIR") or str(config.models_dir)
        threshold = crawler.settings.get("WILDWATCH_THRESHOLD")
        threshold = float(threshold) if threshold not in (None, "") else config.threshold
        return cls(load_scorer(str(models_dir), threshold), crawler.stats)

    def process_item(self, item: ListingItem) -> ListingItem:
        try:
            result = self.scorer.score(item.title, item.description, price=item.price, currency=item.currency)
        except Exception:  # one hostile listing must not stop the night
            logger.exception("scoring failed for %s", item.url)
            if self.stats:
                self.stats.inc_value(f"{STAT}score_errors")
            return item
        item.score = result.to_dict()
        if self.stats and result.flagged:
            self.stats.inc_value(f"{STAT}listings_flagged")
        return item


class StorePipeline:
    """Writes listings and their scores to the database in batches, one transaction per batch.

    Opens a crawl run at start and closes it with the crawl's stats; marks listings
    that the marketplace no longer offers as gone, but only after a complete crawl.
    A batch the database refuses is retried, then spooled to a JSONL file, never dropped.
    """

    RETRIES = 3

    def __init__(self, crawler, database_url: str, batch_size: int, spool_dir: Path, flush_seconds: float = 5.0):
        self.crawler = crawler
        self.database_url = database_url
        self.batch_size = batch_size
        self.flush_seconds = flush_seconds
        self.spool_dir = spool_dir
        self.buffer: list[ListingItem] = []
        self.last_flush = time.monotonic()
        self.pages_journaled = 0
        self.engine = None
        self.run_id: int | None = None
        self.marketplace_id: int | None = None
        self.model_version_ids: dict[str, int] = {}

    @classmethod
    def from_crawler(cls, crawler):
        config = Settings.from_env()
        url = crawler.settings.get("WILDWATCH_DATABASE_URL") or config.database_url
        batch = crawler.settings.getint("WILDWATCH_STORE_BATCH_SIZE", 100)
        flush_seconds = crawler.settings.getfloat("WILDWATCH_STORE_FLUSH_SECONDS", 5.0)
        pipeline = cls(crawler, url, batch, config.data_dir / "spool", flush_seconds)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    @property
    def stats(self):
        return self.crawler.stats

    def open_spider(self) -> None:
        from store import repository
        from store.db import make_engine, session_scope, upgrade

        spider = self.crawler.spider
        upgrade(self.database_url)
        self.engine = make_engine(self.database_url)
        from store.models import CrawlRun

        resume = getattr(spider, "resume", None)
        journal = getattr(spider, "journal", None)
        with session_scope(self.engine) as session:
            marketplace = repository.get_or_create_marketplace(session, spider.site.name, spider.site.base_url)
            old = session.get(CrawlRun, resume.run_id) if resume else None
            if old is not None and old.status == "running" and old.marketplace_id == marketplace.id:
                run = old
                logger.info("resuming crawl run %s of %s: %d listings already stored", run.id, spider.site.name,
                            len(resume.stored))
            else:
                if old is not None and old.status == "running":
                    repository.finish_run(session, old, "failed", dict(old.stats or {}),
                                          error="the crawl was killed and not resumed in time")
                spider.resume = None
                run = repository.start_run(session, marketplace,
                                           nightly_id=self.crawler.settings.get("WILDWATCH_NIGHTLY_ID") or None)
            session.flush()
            self.marketplace_id, self.run_id = marketplace.id, run.id
        if journal is not None:
            if spider.resume is not None:
                journal.reopen()
                self.stats.set_value(f"{STAT}resumed_run", True)
            else:
                journal.begin(self.run_id)
        self.stats.set_value(f"{STAT}run_id", self.run_id)

    def process_item(self, item: ListingItem) -> ListingItem:
        self.buffer.append(item)
        if len(self.buffer) >= self.batch_size or time.monotonic() - self.last_flush >= self.flush_seconds:
            self.flush()
        return item

    def flush(self) -> None:
        if not self.buffer:
            return
        batch, self.buffer = self.buffer, []
        self.last_flush = time.monotonic()
        for attempt in range(1, self.RETRIES + 1):
            try:
                self._write(batch)
                self._journal(batch)
                return
            except Exception as exc:  # connection loss, lock timeouts: retry, then spool
                logger.warning("storing %d listings failed (attempt %d/%d): %s", len(batch), attempt,
                               self.RETRIES, exc)
                if attempt < self.RETRIES:
                    time.sleep(0.5 * 2 ** (attempt - 1))
        self._spool(batch)

    def _write(self, batch: list[ListingItem]) -> None:
        from store import repository
        from store.db import session_scope
        from store.models import CrawlRun, Marketplace

        errors: list = []
        with session_scope(self.engine) as session:
            run = session.get(CrawlRun, self.run_id)
            marketplace = session.get(Marketplace, self.marketplace_id)
            rows = []
            for item in batch:
                row = asdict(item)
                row["content_hash"] = item.content_hash()
                rows.append(row)
            ids = repository.upsert_listings(session, run, marketplace, rows, errors=errors)
            by_version: dict[str, list[tuple[int, dict]]] = {}
            for item in batch:
                listing_row = ids.get(item.listing_id)
                if item.score and listing_row is not None:
                    by_version.setdefault(item.score["model_version"], []).append((listing_row, item.score))
            for version, scores in by_version.items():
                model_version = repository.ensure_model_version(session, version, self._model_metadata(version))
                repository.record_scores(session, run, model_version, scores, errors=errors)
        for error in errors:
            logger.warning("not stored: %s", error)
        stored = sum(1 for item in batch if item.listing_id in ids)
        self.stats.inc_value(f"{STAT}listings_stored", stored)
        if errors:
            self.stats.inc_value(f"{STAT}store_errors", len(errors))

    def _journal(self, batch: list[ListingItem]) -> None:
        """Tell the resume journal which listings are now safely in the database."""
        journal = getattr(self.crawler.spider, "journal", None)
        if journal is None:
            return
        pages = int(self.stats.get_value("response_received_count", 0) or 0)
        journal.record_stored([(item.url, item.listing_id) for item in batch], pages - self.pages_journaled)
        self.pages_journaled = pages

    def _model_metadata(self, version: str) -> dict:
        for pipeline in self.crawler.engine.scraper.itemproc.middlewares if self.crawler.engine else ():
            scorer = getattr(pipeline, "scorer", None)
            if scorer is not None and getattr(scorer, "version", None) == version:
                return dict(getattr(scorer, "metadata", {}) or {})
        return {}

    def _spool(self, batch: list[ListingItem]) -> None:
        self.spool_dir.mkdir(parents=True, exist_ok=True)
        path = self.spool_dir / f"run-{self.run_id}.jsonl"
        with path.open("a", encoding="utf-8") as handle:
            for item in batch:
                handle.write(json.dumps(asdict(item), ensure_ascii=False, default=str) + "\n")
        self.stats.inc_value(f"{STAT}listings_spooled", len(batch))
        logger.error("database unavailable: %d listings saved to %s for replay", len(batch), path)

    def close_spider(self) -> None:
        self.flush()

    def spider_closed(self, spider, reason: str) -> None:
        """Close the crawl run once Scrapy knows why the crawl ended (after the pipelines closed)."""
        from store import repository
        from store.db import session_scope
        from store.models import CrawlRun, Marketplace

        if self.engine is None:
            return
        self.flush()
        self.stats.set_value("finish_reason", reason)
        stats = self.stats.get_stats()
        complete = reason == "finished" and not stats.get(f"{STAT}index_errors") \
            and not stats.get(f"{STAT}listings_spooled")
        if reason == "closespider_pagecount":
            logger.warning("%s: page budget of %s pages reached; the crawl is partial and no listing is marked gone",
                           spider.name, self.crawler.settings.get("CLOSESPIDER_PAGECOUNT"))
        journal = getattr(spider, "journal", None)
        if journal is not None:
            # Stopped by a signal (Ctrl-C, SIGTERM): keep the journal, so the next start resumes.
            journal.close() if reason == "shutdown" else journal.finish()
        try:
            with session_scope(self.engine) as session:
                run = session.get(CrawlRun, self.run_id)
                marketplace = session.get(Marketplace, self.marketplace_id)
                if reason == "shutdown" and journal is not None:
                    # Interrupted (Ctrl-C, SIGTERM): the run stays open and the next start resumes it.
                    run.stats = crawl_summary(self.stats.get_stats())
                    run.error = "interrupted; the next crawl of this site resumes this run"
                    logger.warning("%s: crawl interrupted; run %s resumes on the next start", spider.name, run.id)
                    return
                if complete:
                    gone = repository.mark_gone(session, run, marketplace, spider.live_listing_ids())
                    self.stats.set_value(f"{STAT}listings_gone", gone)
                run_stats = crawl_summary(self.stats.get_stats())
                budget = reason == "closespider_pagecount"
                status = "succeeded" if complete else ("partial" if reason == "finished" or budget else "failed")
                problem = None if complete else (
                    "page budget reached; gone listings not marked" if budget
                    else f"crawl ended: {reason}" if reason != "finished"
                    else "some result pages or database writes failed; gone listings not marked")
                repository.finish_run(session, run, status, run_stats, error=problem)
        except Exception:
            logger.exception("could not close crawl run %s", self.run_id)
            self.stats.inc_value(f"{STAT}store_errors")
        finally:
            self.engine.dispose()
            self.engine = None


def crawl_summary(stats: dict) -> dict:
    """The figures a crawl run keeps and the nightly summary prints."""
    def get(key: str) -> int:
        return int(stats.get(STAT + key, 0) or 0)

    dropped = sum(int(v) for k, v in stats.items() if k.startswith(STAT + "dropped/"))
    started = stats.get("start_time")
    finished = stats.get("finish_time") or datetime.now(timezone.utc)
    seconds = (finished - started).total_seconds() if isinstance(started, datetime) else None
    errors = get("extraction_errors") + get("download_errors") + get("score_errors") + dropped \
        + get("pages_skipped/not_html") + get("store_errors")
    return {
        "pages": int(stats.get("response_received_count", 0) or 0),
        "rendered_pages": get("rendered_pages"),
        "index_pages": get("index_pages"),
        "listing_pages": get("listing_pages"),
        "listings": get("listings_extracted") + get("listings_resumed"),
        "stored": get("listings_stored"),
        "spooled": get("listings_spooled"),
        "flagged": get("listings_flagged"),
        "unavailable": get("listings_unavailable"),
        "gone": get("listings_gone"),
        "errors": errors,
        "extraction_errors": get("extraction_errors"),
        "download_errors": get("download_errors"),
        "dropped": dropped,
        "store_errors": get("store_errors"),
        "resumed": get("listings_resumed"),
        "not_modified": int(stats.get("httpcache/revalidate", 0) or 0),
        "render_retries": get("render_retries"),
        "search_queries": get("search_queries"),
        "missing_description": get("missing/description"),
        "retries": int(stats.get("retry/count", 0) or 0),
        "backoffs": get("backoffs"),
        "robots_forbidden": int(stats.get("robotstxt/forbidden", 0) or 0),
        "finish_reason": stats.get("finish_reason", ""),
        "seconds": round(seconds, 2) if seconds is not None else None,
        "monitors": dict(stats.get(STAT + "monitors") or {}),
    }

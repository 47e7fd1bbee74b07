"""Item pipelines, one verb each, in order: normalise, validate, deduplicate, score, store."""
from __future__ import annotations

import logging
import math
import re
import time
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

from scrapy import signals
from scrapy.exceptions import DropItem

from crawler.extractors.discovery import is_http_url
from crawler.items import ListingItem
from wildwatch.config import Settings

logger = logging.getLogger(__name__)
STAT = "wildwatch/"

_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Lone surrogates (from JSON "\ud800" escapes) cannot be encoded as UTF-8: no database or file takes them.
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
_TEXT_FIELDS = ("title", "description", "price_text", "seller_id", "seller_name", "seller_url", "location",
                "posted_at", "category", "listing_id", "currency")
_SPACES_RE = re.compile(r"[ \t\u00a0\u3000]+")
_BLANK_LINES_RE = re.compile(r"\n\s*\n+")
MAX_LENGTHS = {"title": 1_000, "description": 20_000, "price_text": 200, "seller_name": 300,
               "location": 300, "category": 300, "posted_at": 64, "seller_id": 200}


def clean_text(value: str | None, *, multiline: bool = False) -> str | None:
    """Control characters out (PostgreSQL refuses NUL), runs of spaces folded, ends trimmed."""
    if value is None:
        return None
    text = _SURROGATE_RE.sub("\ufffd", _CONTROL_RE.sub("", str(value))).replace("\r\n", "\n").replace("\r", "\n")
    if multiline:
        lines = [_SPACES_RE.sub(" ", line).strip() for line in text.split("\n")]
        text = _BLANK_LINES_RE.sub("\n\n", "\n".join(lines))
    else:
        text = _SPACES_RE.sub(" ", text.replace("\n", " "))
    return text.strip()


def _hostile_characters(item: ListingItem) -> bool:
    """Whether any text field holds a control character or a lone surrogate that cleaning removes."""
    values = [getattr(item, name) for name in _TEXT_FIELDS] + list(item.images)
    return any(isinstance(v, str) and (_CONTROL_RE.search(v) or _SURROGATE_RE.search(v)) for v in values)


class _CountingPipeline:
    """A pipeline that counts what it does in the crawl's stats (None outside a crawl: counts nothing)."""

    def __init__(self, stats=None):
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.stats)


class NormalisePipeline(_CountingPipeline):
    """Cleans whitespace and control characters and caps field lengths; changes text, drops nothing.

    Each listing whose text lost control characters or lone surrogates, or was cut to the length
    caps, is counted under wildwatch/repaired/ (shown in the crawl summary).
    """

    def _repaired(self, reason: str) -> None:
        if self.stats is not None:
            self.stats.inc_value(f"{STAT}repaired/{reason}")

    def process_item(self, item: ListingItem) -> ListingItem:
        if _hostile_characters(item):
            self._repaired("control_characters")
        item.title = clean_text(item.title) or ""
        item.description = clean_text(item.description, multiline=True) or ""
        for name in ("price_text", "seller_id", "seller_name", "seller_url", "location", "posted_at", "category"):
            setattr(item, name, clean_text(getattr(item, name)) or None)
        truncated = False
        for name, limit in MAX_LENGTHS.items():
            value = getattr(item, name)
            if value and len(value) > limit:
                setattr(item, name, value[:limit])
                truncated = True
        if truncated:
            self._repaired("text_truncated")
        item.listing_id = (clean_text(item.listing_id) or "")[:200]
        item.images = list(dict.fromkeys(url for url in map(clean_text, item.images) if url))[:50]
        if item.currency:
            item.currency = (clean_text(item.currency) or "").upper()[:8] or None
        return item


class ValidatePipeline(_CountingPipeline):
    """Drops listings without a title, id or http(s) URL; blanks a price that is not a sane number."""

    def process_item(self, item: ListingItem) -> ListingItem:
        for name, reason in (("title", "missing_title"), ("listing_id", "missing_id")):
            if not getattr(item, name):
                self._drop(reason, f"{item.url}: no {name}")
        if not is_http_url(item.url):
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

    def __init__(self, stats=None, distributed=None):
        self.stats = stats
        self.seen: set[tuple[str, str]] = set()
        self.distributed = distributed

    @classmethod
    def from_crawler(cls, crawler):
        from crawler.distributed import distributed_worker

        return cls(crawler.stats, distributed_worker(crawler))

    def process_item(self, item: ListingItem) -> ListingItem:
        key = (item.marketplace, item.listing_id)
        if key in self.seen:
            if self.stats:
                self.stats.inc_value(f"{STAT}dropped/duplicate")
            raise DropItem(f"duplicate listing {item.listing_id} ({item.url})")
        self.seen.add(key)
        if self.distributed is not None and self.distributed.is_stored(item.listing_id):
            # A page fetched again after the worker that had it died, its listing already committed.
            if self.stats:
                self.stats.inc_value(f"{STAT}listings_refetched")
            raise DropItem(f"listing {item.listing_id} already stored by this distributed crawl ({item.url})")
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
    A batch that fails transiently (lost connection, deadlock, locked SQLite) is retried with
    backoff (store.retry), then spooled to a JSONL file, never dropped, and replayed exactly once as
    soon as the database takes a write again (crawler.spool). A spool that cannot be written either
    (a full disk) stops the crawl with one clear reason.
    """

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
        self.distributed = None  # crawler.distributed.DistributedWorker when several workers share the crawl

    @classmethod
    def from_crawler(cls, crawler):
        from crawler.distributed import distributed_worker

        config = Settings.from_env()
        url = crawler.settings.get("WILDWATCH_DATABASE_URL") or config.database_url
        batch = crawler.settings.getint("WILDWATCH_STORE_BATCH_SIZE", 100)
        flush_seconds = crawler.settings.getfloat("WILDWATCH_STORE_FLUSH_SECONDS", 5.0)
        pipeline = cls(crawler, url, batch, config.data_dir / "spool", flush_seconds)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        pipeline.distributed = distributed_worker(crawler)
        return pipeline

    @property
    def stats(self):
        return self.crawler.stats

    def open_spider(self) -> None:
        """Open (or resume) the crawl run; a database or disk that refuses stops the crawl with one clear reason."""
        from scrapy.exceptions import CloseSpider

        from store.db import describe_error

        try:
            self._open_run()
        except Exception as exc:  # unreachable or read-only database, full disk under the journal
            self._fatal(f"cannot start the crawl run: {describe_error(exc)}")
            raise CloseSpider("store_failed") from None

    def _open_run(self) -> None:
        from store import repository
        from store.db import make_engine, session_scope, upgrade

        spider = self.crawler.spider
        upgrade(self.database_url)
        self.engine = make_engine(self.database_url)
        from store.models import CrawlRun

        if self.distributed is not None:  # one run shared by every worker of the distributed crawl
            self.marketplace_id, self.run_id = self.distributed.open_store(
                self.engine, spider.site, self.crawler.settings.get("WILDWATCH_NIGHTLY_ID") or None)
            self.stats.set_value(f"{STAT}run_id", self.run_id)
            return
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
        try:
            # Transient failures are retried inside, with backoff; while listings wait in the spool the
            # database is known to be down, so one attempt each (the crawl is not held up batch after batch).
            self._write(batch, attempts=1 if self.spool_pending else None)
        except Exception as exc:  # still unreachable, or refused: spool, never drop
            logger.warning("storing %d listings failed: %s", len(batch), exc)
            self._spool(batch)
            return
        self._journal(batch)
        if self.spool_pending:
            self.replay_spool()

    def _write(self, batch: list[ListingItem], attempts: int | None = None) -> None:
        from store.retry import run_in_transaction

        ids, errors = run_in_transaction(
            self.engine, lambda session: self._write_in(session, batch),
            what=f"storing {len(batch)} listings of crawl run {self.run_id}",
            on_retry=lambda _attempt, _exc: self.stats.inc_value(f"{STAT}store_retries"),
            **({"attempts": attempts} if attempts else {}),
        )
        for error in errors:
            logger.warning("not stored: %s", error)
        stored = sum(1 for item in batch if item.listing_id in ids)
        self.stats.inc_value(f"{STAT}listings_stored", stored)
        if errors:
            self.stats.inc_value(f"{STAT}store_errors", len(errors))

    def _write_in(self, session, batch: list[ListingItem]) -> tuple[dict[str, int], list]:
        """One attempt at storing `batch` and its scores, inside the caller's transaction."""
        from crawler.spool import write_batch
        from store.models import CrawlRun, Marketplace

        run = session.get(CrawlRun, self.run_id)
        marketplace = session.get(Marketplace, self.marketplace_id)
        ids, _scores, errors = write_batch(session, run, marketplace, batch, self._model_metadata)
        return ids, errors

    def _journal(self, batch: list[ListingItem]) -> None:
        """Tell the resume journal (or the distributed crawl) which listings are now safely in the database."""
        if self.distributed is not None:
            self.distributed.committed(batch)
        journal = getattr(self.crawler.spider, "journal", None)
        if journal is None:
            return
        pages = int(self.stats.get_value("response_received_count", 0) or 0)
        try:
            journal.record_stored([(item.url, item.listing_id) for item in batch], pages - self.pages_journaled)
        except OSError as exc:  # the listings are stored; only a resumed crawl would fetch them again
            logger.warning("resume journal not written (%s): a restarted crawl refetches these pages",
                           exc.strerror or exc)
            return
        self.pages_journaled = pages

    def _model_metadata(self, version: str) -> dict:
        for pipeline in self.crawler.engine.scraper.itemproc.middlewares if self.crawler.engine else ():
            scorer = getattr(pipeline, "scorer", None)
            if scorer is not None and getattr(scorer, "version", None) == version:
                return dict(getattr(scorer, "metadata", {}) or {})
        return {}

    @property
    def spool_pending(self) -> int:
        """Listings of this run waiting in the spool for the database."""
        return int(self.stats.get_value(f"{STAT}listings_spooled", 0) or 0) \
            - int(self.stats.get_value(f"{STAT}listings_replayed", 0) or 0)

    def _spool(self, batch: list[ListingItem], finish: dict | None = None) -> bool:
        """Keep a batch the database refused (and/or the run's closing record) in the spool file.

        When even that fails (the disk under the data directory is full or read-only) the listings
        cannot be kept anywhere: the crawl stops at once, counted and named, and the command exits non-zero.
        """
        from crawler.spool import SpoolError, append, spool_path

        path = spool_path(self.spool_dir, self.run_id)
        try:
            append(path, batch, finish=finish)
        except SpoolError as exc:
            self._fatal(str(exc) if batch else f"{exc}; the crawl run's closing record is not kept", lost=len(batch))
            return False
        if batch:
            self.stats.inc_value(f"{STAT}listings_spooled", len(batch))
            logger.error("database unavailable: %d listings saved to %s for replay", len(batch), path)
        return True

    def _fatal(self, message: str, lost: int = 0) -> None:
        logger.critical("cannot store listings: %s", message)
        if lost:
            self.stats.inc_value(f"{STAT}listings_lost", lost)
        if not self.stats.get_value(f"{STAT}store_fatal"):
            self.stats.set_value(f"{STAT}store_fatal", message)
            engine = self.crawler.engine
            if engine is not None and engine.running and self.run_id is not None:
                from scrapy.utils.defer import deferred_from_coro

                self._closing = deferred_from_coro(engine.close_spider_async(reason="store_failed"))

    def replay_spool(self) -> bool:
        """Write this run's spooled listings now that the database answers; True when none wait."""
        from crawler.spool import replay_file, spool_path

        path = spool_path(self.spool_dir, self.run_id)
        if not path.exists():
            return True
        result = replay_file(self.engine, path, model_metadata=self._model_metadata)
        if result.ok:
            self.stats.inc_value(f"{STAT}listings_replayed", result.listings)
        return result.ok

    def close_spider(self) -> None:
        self.flush()

    def spider_closed(self, spider, reason: str) -> None:
        """Close the crawl run once Scrapy knows why the crawl ended (after the pipelines closed)."""
        from store import repository
        from store.db import describe_error, session_scope
        from store.models import CrawlRun, Marketplace

        if self.engine is None:
            return
        self.flush()
        self._replay_before_closing()
        self.stats.set_value("finish_reason", reason)
        if self.distributed is not None:  # the last worker out closes the shared run
            try:
                self.distributed.close_store(self, spider, reason)
            finally:
                self.engine.dispose()
                self.engine = None
            return
        stats = self.stats.get_stats()
        complete = reason == "finished" and not stats.get(f"{STAT}index_errors") and not self.spool_pending
        if reason == "closespider_pagecount":
            logger.warning("%s: page budget of %s pages reached; the crawl is partial and no listing is marked gone",
                           spider.name, self.crawler.settings.get("CLOSESPIDER_PAGECOUNT"))
        journal = getattr(spider, "journal", None)
        if journal is not None:
            # Stopped by a signal (Ctrl-C, SIGTERM): keep the journal, so the next start resumes.
            try:
                journal.close() if reason == "shutdown" else journal.finish()
            except OSError as exc:  # a full disk under the state directory
                logger.warning("resume journal not closed cleanly: %s", exc.strerror or exc)
        budget = reason == "closespider_pagecount"
        status = "succeeded" if complete else ("partial" if reason == "finished" or budget else "failed")
        problem = None if complete else (
            stats.get(f"{STAT}store_fatal") if reason == "store_failed"
            else "page budget reached; gone listings not marked" if budget
            else f"crawl ended: {reason}" if reason != "finished"
            else f"{self.spool_pending} listings wait in the spool for the database; gone listings not marked"
            if self.spool_pending
            else "some result pages or database writes failed; gone listings not marked")
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
                repository.finish_run(session, run, status, crawl_summary(self.stats.get_stats()), error=problem)
        except Exception as exc:
            # The database went away at the very end: the spool keeps the run's closing record too,
            # and the replay (next nightly, or `wildwatch db replay-spool`) closes the run.
            logger.error("could not close crawl run %s: %s", self.run_id, describe_error(exc))
            self.stats.inc_value(f"{STAT}store_errors")
            closing = {"status": "partial" if status == "succeeded" else status,
                       "error": problem or "the database was unavailable when the crawl ended; gone listings not marked",
                       "stats": crawl_summary(self.stats.get_stats())}
            if self._spool([], finish=closing):
                self.stats.set_value(f"{STAT}run_close_spooled", True)
        finally:
            self.engine.dispose()
            self.engine = None

    def _replay_before_closing(self) -> None:
        """Listings still in the spool get a few more tries, with backoff, before the run is closed."""
        wait_budget = self.crawler.settings.getfloat("WILDWATCH_SPOOL_REPLAY_WAIT", 15.0)
        delay, waited = 1.0, 0.0
        while self.spool_pending and not self.stats.get_value(f"{STAT}store_fatal"):
            if self.replay_spool() or waited >= wait_budget:
                break
            pause = min(delay, wait_budget - waited)
            logger.warning("%d listings still wait in the spool: trying again in %.0f s", self.spool_pending, pause)
            time.sleep(pause)
            waited, delay = waited + pause, delay * 2


def crawl_summary(stats: dict) -> dict:
    """The figures a crawl run keeps and the nightly summary prints."""
    def get(key: str) -> int:
        return int(stats.get(STAT + key, 0) or 0)

    dropped = sum(int(v) for k, v in stats.items() if k.startswith(STAT + "dropped/"))
    started = stats.get("start_time")
    finished = stats.get("finish_time") or datetime.now(timezone.utc)
    seconds = (finished - started).total_seconds() if isinstance(started, datetime) else None
    errors = get("extraction_errors") + get("download_errors") + get("score_errors") + dropped \
        + get("store_errors")
    spooled, replayed = get("listings_spooled"), get("listings_replayed")
    return {
        "pages": int(stats.get("response_received_count", 0) or 0),
        "rendered_pages": get("rendered_pages"),
        "index_pages": get("index_pages"),
        "listing_pages": get("listing_pages"),
        "listings": get("listings_extracted") + get("listings_resumed"),
        "stored": get("listings_stored"),
        "spooled": spooled,
        "replayed": replayed,
        "spool_pending": max(0, spooled - replayed),
        # The run's closing record could not be written and waits in the spool: the run row says "running".
        "run_close_pending": bool(stats.get(STAT + "run_close_spooled")),
        "lost": get("listings_lost"),
        "store_fatal": stats.get(STAT + "store_fatal") or None,
        "flagged": get("listings_flagged"),
        "unavailable": get("listings_unavailable"),
        "gone": get("listings_gone"),
        "errors": errors,
        "extraction_errors": get("extraction_errors"),
        "download_errors": get("download_errors"),
        "dropped": dropped,
        "store_errors": get("store_errors"),
        "store_retries": get("store_retries"),  # batch transactions run again after a transient failure
        "resumed": get("listings_resumed"),
        "not_modified": int(stats.get("httpcache/revalidate", 0) or 0),
        "render_retries": get("render_retries"),
        "search_queries": get("search_queries"),
        "missing_description": get("missing/description"),
        "retries": int(stats.get("retry/count", 0) or 0),
        "backoffs": get("backoffs"),
        "robots_forbidden": int(stats.get("robotstxt/forbidden", 0) or 0),
        # Pages refused by a safety limit or a hostile-page check, and pages read despite a defect, by reason.
        "skipped": _by_reason(stats, STAT + "skipped/"),
        "repaired": _by_reason(stats, STAT + "repaired/"),
        "finish_reason": stats.get("finish_reason", ""),
        "seconds": round(seconds, 2) if seconds is not None else None,
        "monitors": dict(stats.get(STAT + "monitors") or {}),
    }


def _by_reason(stats: dict, prefix: str) -> dict[str, int]:
    return {key[len(prefix):]: int(value) for key, value in sorted(stats.items())
            if key.startswith(prefix) and value}

"""Item pipelines, one verb each, in order: normalise, validate, deduplicate, score, store."""
from __future__ import annotations

import logging
import math
import re
import time
from functools import lru_cache
from pathlib import Path
from typing import Callable

from scrapy import signals
from scrapy.exceptions import DropItem

from crawler.extractors.discovery import is_http_url
from crawler.items import ListingItem
from crawler.outcome import PAGE_BUDGET, RunOutcome, run_outcome
from crawler.stats import LISTINGS_GONE, STAT, crawl_summary

logger = logging.getLogger(__name__)

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


def load_scorer(models_dir: str, threshold: float | None):
    """One scorer per process and model: loading verifies the artifact, so do it once. The active version
    is part of the key, so a model trained and activated since is loaded, not the one cached before."""
    from classifier.artifacts import resolve_version_dir

    return _load_version(str(resolve_version_dir(Path(models_dir))), threshold)


@lru_cache(maxsize=4)
def _load_version(version_dir: str, threshold: float | None):
    from classifier.scorer import Scorer

    return Scorer.load(Path(version_dir), threshold=threshold)


class ScorePipeline:
    """Attaches the classifier's score and evidence to each listing; a scoring error is logged, not fatal.

    Listings are scored in batches, one ``score_many`` call per batch (``WILDWATCH_SCORE_BATCH_SIZE``,
    by default the store's batch size): one call per listing paid the model's per-call cost on every
    page.  A listing waits in the batch until it is full, ``WILDWATCH_SCORE_WAIT_SECONDS`` after the
    first one arrived, when Scrapy holds back downloads because too many responses wait (its
    scraper slot's size limit), or at the spider's close, whichever comes first; then each goes on
    to the store with its own score.  When a batch fails, its listings are scored one by one, so
    only the listing that fails goes on unscored (counted and logged with its URL).
    A batch size of 1 scores each listing as it comes, synchronously.
    """

    def __init__(self, scorer, stats=None, *, batch_size: int = 1, wait_seconds: float = 1.0, crawler=None):
        if batch_size < 1:
            raise ValueError(f"WILDWATCH_SCORE_BATCH_SIZE must be at least 1, got {batch_size}")
        if not wait_seconds > 0:
            raise ValueError(f"WILDWATCH_SCORE_WAIT_SECONDS must be above 0, got {wait_seconds}")
        self.scorer = scorer
        self.stats = stats
        self.batch_size = batch_size
        self.wait_seconds = wait_seconds
        self.crawler = crawler
        self.pending: list[tuple[ListingItem, object]] = []  # (listing, the Deferred its pipeline step waits on)
        self._timer = None

    @classmethod
    def from_crawler(cls, crawler):
        from crawler.settings import required

        models_dir = required(crawler.settings, "WILDWATCH_MODELS_DIR")
        threshold = crawler.settings.get("WILDWATCH_THRESHOLD")  # None: the model's own
        threshold = float(threshold) if threshold not in (None, "") else None
        batch = crawler.settings.getint("WILDWATCH_SCORE_BATCH_SIZE") or crawler.settings.getint(
            "WILDWATCH_STORE_BATCH_SIZE", 100)
        wait = crawler.settings.getfloat("WILDWATCH_SCORE_WAIT_SECONDS")
        return cls(load_scorer(str(models_dir), threshold), crawler.stats, batch_size=batch, wait_seconds=wait,
                   crawler=crawler)

    def process_item(self, item: ListingItem):
        if self.batch_size == 1:
            self._score([item])
            return item
        from twisted.internet.defer import Deferred

        waiting: Deferred = Deferred()
        self.pending.append((item, waiting))
        if len(self.pending) >= self.batch_size or self._downloads_held_back():
            self.flush()
        elif self._timer is None:
            from twisted.internet import reactor

            self._timer = reactor.callLater(self.wait_seconds, self._time_up)
        return self._scored(waiting)

    @staticmethod
    async def _scored(waiting):
        from scrapy.utils.defer import maybe_deferred_to_future

        return await maybe_deferred_to_future(waiting)

    def _downloads_held_back(self) -> bool:
        """Scrapy stops downloading while the responses in processing exceed its size limit: do not wait then."""
        engine = getattr(self.crawler, "engine", None)
        slot = getattr(getattr(engine, "scraper", None), "slot", None)
        return bool(slot is not None and slot.needs_backout())

    def _time_up(self) -> None:
        self._timer = None
        self.flush()

    def flush(self) -> None:
        """Score every waiting listing now and send each on to the next pipeline."""
        if self._timer is not None:
            if self._timer.active():
                self._timer.cancel()
            self._timer = None
        batch, self.pending = self.pending, []
        if not batch:
            return
        self._score([item for item, _ in batch])
        for item, waiting in batch:
            waiting.callback(item)

    def close_spider(self) -> None:
        self.flush()

    def _score(self, items: list[ListingItem]) -> None:
        if len(items) > 1:
            records = [{"title": i.title, "description": i.description, "price": i.price, "currency": i.currency}
                       for i in items]
            try:
                results = self.scorer.score_many(records)
            except Exception:  # noqa: BLE001 - find the listing that fails, score the others
                logger.warning("scoring a batch of %d listings failed; scoring them one by one", len(items))
            else:
                for item, result in zip(items, results):
                    self._attach(item, result)
                return
        for item in items:
            try:
                result = self.scorer.score(item.title, item.description, price=item.price, currency=item.currency)
            except Exception:  # one hostile listing must not stop the night
                logger.exception("scoring failed for %s", item.url)
                if self.stats:
                    self.stats.inc_value(f"{STAT}score_errors")
                continue
            self._attach(item, result)

    def _attach(self, item: ListingItem, result) -> None:
        item.score = result.to_dict()
        if self.stats and result.flagged:
            self.stats.inc_value(f"{STAT}listings_flagged")


def _running_engine(crawler):
    """The crawl's engine, or None before the crawl starts (Scrapy raises on `crawler.engine` then)."""
    try:
        return crawler.engine
    except RuntimeError:
        return None


class StorePipeline:
    """Writes listings and their scores to the database in batches, one transaction per batch.

    Opens a crawl run at start and closes it with the crawl's stats; marks listings
    that the marketplace no longer offers as gone, but only after a complete crawl.
    A batch that fails transiently (lost connection, deadlock, locked SQLite) is retried with
    backoff (store.retry), then spooled to a JSONL file, never dropped, and replayed exactly once as
    soon as the database takes a write again (crawler.spool). A spool that cannot be written either
    (a full disk) stops the crawl with one clear reason.
    """

    def __init__(self, crawler, database_url: str, batch_size: int, spool_dir: Path, flush_seconds: float,
                 replay_wait: float = 0.0):
        self.crawler = crawler
        self.replay_wait = replay_wait  # seconds of retries for spooled listings before the run is closed
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

        from crawler.settings import required

        settings = crawler.settings
        pipeline = cls(crawler, required(settings, "WILDWATCH_DATABASE_URL"),
                       required(settings, "WILDWATCH_STORE_BATCH_SIZE", "getint"),
                       Path(required(settings, "WILDWATCH_DATA_DIR")) / "spool",
                       required(settings, "WILDWATCH_STORE_FLUSH_SECONDS", "getfloat"),
                       replay_wait=required(settings, "WILDWATCH_SPOOL_REPLAY_WAIT", "getfloat"))
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        pipeline.distributed = distributed_worker(crawler)
        if pipeline.distributed is not None:
            pipeline.distributed.attach_store(pipeline)  # the worker flushes and closes the run through it
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
        from crawler.spool import write_items
        from store.models import CrawlRun, Marketplace

        run = session.get(CrawlRun, self.run_id)
        marketplace = session.get(Marketplace, self.marketplace_id)
        ids, _scores, errors = write_items(session, run, marketplace, batch, self._model_metadata)
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
        engine = _running_engine(self.crawler)
        for pipeline in engine.scraper.itemproc.middlewares if engine is not None else ():
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
            engine = _running_engine(self.crawler)
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
        """Close the crawl run once Scrapy knows why the crawl ended (after the pipelines closed).

        This pipeline owns the run: a distributed worker only supplies the whole crawl's stats and
        listings when it is the last one out (DistributedWorker.close_store calls `close_run`)."""
        if self.engine is None:
            return
        self.flush()
        self._replay_before_closing()
        self.stats.set_value("finish_reason", reason)
        try:
            if self.distributed is not None:  # the last worker out closes the shared run
                self.distributed.close_store(spider, reason)
            else:
                self._close_own_run(spider, reason)
        finally:
            self.engine.dispose()
            self.engine = None

    def _close_own_run(self, spider, reason: str) -> None:
        if reason == PAGE_BUDGET:
            logger.warning("%s: page budget of %s pages reached; the crawl is partial and no listing is marked gone",
                           spider.name, self.crawler.settings.get("CLOSESPIDER_PAGECOUNT"))
        journal = getattr(spider, "journal", None)
        if journal is not None:
            # Stopped by a signal (Ctrl-C, SIGTERM): keep the journal, so the next start resumes.
            try:
                journal.close() if reason == "shutdown" else journal.finish()
            except OSError as exc:  # a full disk under the state directory
                logger.warning("resume journal not closed cleanly: %s", exc.strerror or exc)
        outcome = run_outcome(reason, self.stats.get_stats(), resumable=journal is not None)
        if outcome.stays_open:
            logger.warning("%s: crawl interrupted; run %s resumes on the next start", spider.name, self.run_id)
        self.close_run(outcome, spider.live_listing_ids)

    def close_run(self, outcome: RunOutcome, live_ids, *, stats: dict | None = None,
                  extra: Callable[[], dict] | None = None, spool_on_failure: bool = True) -> bool:
        """Write `outcome` to the run row: gone-marking over `live_ids()` when the outcome allows it, the
        crawl summary of `stats` (default: this crawl's) plus `extra()`. True when the run row was written.

        A run closed already is left as it is (never marked gone or overwritten twice). When the database
        is gone at the very end, the closing record goes to the spool (`spool_on_failure`) and the replay
        (next nightly, or `wildwatch db replay-spool`) closes the run.
        """
        from store import repository
        from store.db import describe_error, session_scope
        from store.models import CrawlRun, Marketplace

        stats = dict(self.stats.get_stats()) if stats is None else stats
        try:
            with session_scope(self.engine) as session:
                run = session.get(CrawlRun, self.run_id)
                if run.status != "running":
                    logger.error("crawl run %s is %s already; it is left as it is", self.run_id, run.status)
                    return False
                if outcome.stays_open:
                    run.stats = crawl_summary(stats)
                    run.error = outcome.problem
                    return True
                if outcome.mark_gone:
                    gone = repository.mark_gone(session, run, session.get(Marketplace, self.marketplace_id), live_ids())
                    stats[LISTINGS_GONE] = gone
                    self.stats.set_value(LISTINGS_GONE, gone)
                summary = {**crawl_summary(stats), **(extra() if extra else {})}
                repository.finish_run(session, run, outcome.status, summary, error=outcome.problem)
            return True
        except Exception as exc:
            logger.error("could not close crawl run %s: %s", self.run_id, describe_error(exc))
            self.stats.inc_value(f"{STAT}store_errors")
            if spool_on_failure and not outcome.stays_open:  # an open run needs no closing record
                closing = outcome.spooled()
                record = {"status": closing.status, "error": closing.problem,
                          "stats": crawl_summary(self.stats.get_stats())}
                if self._spool([], finish=record):
                    self.stats.set_value(f"{STAT}run_close_spooled", True)
            return False

    def _replay_before_closing(self) -> None:
        """Listings still in the spool get a few more tries, with backoff, before the run is closed."""
        wait_budget = self.replay_wait
        delay, waited = 1.0, 0.0
        while self.spool_pending and not self.stats.get_value(f"{STAT}store_fatal"):
            if self.replay_spool() or waited >= wait_budget:
                break
            pause = min(delay, wait_budget - waited)
            logger.warning("%d listings still wait in the spool: trying again in %.0f s", self.spool_pending, pause)
            time.sleep(pause)
            waited, delay = waited + pause, delay * 2


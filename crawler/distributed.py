"""Crawl one site with several worker processes that share their work through Redis (scrapy-redis).

`wildwatch crawl SITE --workers redis://HOST:6379/0` makes its process one worker of the site's
distributed crawl. Workers may start on any machines and at any time during the crawl; each one:

1. joins the run (the first creates the crawl run in the database; the others store into it),
2. pushes the site's start and search pages through the shared duplicate filter (so whichever
   worker comes first seeds the queue; the rest are filtered out),
3. takes requests from the shared queue (`WorkerScheduler`: taken and recorded as in flight in one
   atomic step), and acks them at the next checkpoint after their listings were committed and the
   links they led to were queued (`DistributedWorker.checkpoint`),
4. renews its lease, and re-queues the in-flight requests of any worker whose lease expired,
5. when idle, waits while other workers still have requests in flight (they may queue more), and
   leaves when the queue is empty and nothing is in flight anywhere; the last one out closes the
   run: gone-marking over every worker's listings, the run's totals, each worker's figures under
   `stats["workers"]`, and every Redis key of the crawl deleted.

Why leases and in-flight sets rather than a final re-discovery sweep: the in-flight set names
exactly what a dead worker was doing, so recovery re-fetches a handful of pages instead of walking
the whole site again, and it also covers pages that are reachable only through pages the dead
worker had already fetched. The price is that acks wait for the database commit (every
`WILDWATCH_WORKER_CHECKPOINT_SECONDS`), which keeps a few requests per worker in flight.
Processing is at least once (a killed worker's last pages are fetched again); storing is exactly
once (upserts on marketplace + listing id, plus the run's shared `stored` set).

Interrupted workers (Ctrl-C, SIGTERM) hand their in-flight requests back and leave the run open:
the next worker started on the site continues it, like the single-process resume journal (which
distributed crawls do not use).
"""
from __future__ import annotations

import logging
import os
import secrets
import socket
import time
from typing import Any

from scrapy import Request, signals
from scrapy.exceptions import DontCloseSpider, NotConfigured
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler

from crawler.outcome import run_outcome
from crawler.redisrun import DistributedCrawlError, RedisRun, check_prefix, connect, redact_redis_url
from crawler.stats import FINALIZER, LISTINGS_GONE, MONITORS, REQUEUED, RUN_STATS, STAT, WORKER, crawl_summary

logger = logging.getLogger(__name__)
# Request meta that only makes sense inside the process that set it: never serialised into the queue.
TRANSIENT_META = ("cached_response", "download_latency", "download_slot", "_wildwatch_member")
DEFAULT_LEASE_SECONDS = 30.0
DEFAULT_CHECKPOINT_SECONDS = 2.0
DEFAULT_MAX_IDLE_SECONDS = 3600.0


def default_prefix(site_name: str) -> str:
    return f"wildwatch:crawl:{site_name}"


def worker_settings(redis_url: str, site_name: str, *, prefix: str | None = None,
                    concurrency: int | None = None, lease_seconds: float = DEFAULT_LEASE_SECONDS,
                    checkpoint_seconds: float = DEFAULT_CHECKPOINT_SECONDS,
                    max_idle_seconds: float = DEFAULT_MAX_IDLE_SECONDS) -> dict[str, Any]:
    """Scrapy settings that make a crawl of `site_name` one worker of its distributed crawl.

    Timing is given by the caller (the CLI passes Settings' WILDWATCH_WORKER_LEASE_SECONDS, _CHECKPOINT_SECONDS
    and _MAX_IDLE_SECONDS): how long a silent worker keeps its requests before the others take them back
    (default 30), the commit-and-ack interval (default 2) and how long an idle worker waits for busy ones
    (default 3600).
    """
    from crawler import settings as project

    prefix = check_prefix(prefix or default_prefix(site_name))
    lease, checkpoint = lease_seconds, checkpoint_seconds
    if lease < 3 * checkpoint:
        raise DistributedCrawlError(f"WILDWATCH_WORKER_LEASE_SECONDS={lease:g} must be at least three checkpoint "
                                    f"intervals ({3 * checkpoint:g} s), or live workers would be taken for dead")
    settings = {
        "WILDWATCH_REDIS_URL": redis_url,
        "WILDWATCH_REDIS_PREFIX": prefix,
        "WILDWATCH_WORKER_LEASE_SECONDS": lease,
        "WILDWATCH_WORKER_CHECKPOINT_SECONDS": checkpoint,
        "WILDWATCH_WORKER_MAX_IDLE_SECONDS": max_idle_seconds,
        "REDIS_URL": redis_url,
        "SCHEDULER": "crawler.distributed.WorkerScheduler",
        "SCHEDULER_QUEUE_CLASS": "crawler.distributed.SharedPriorityQueue",
        "SCHEDULER_QUEUE_KEY": f"{prefix}:requests",
        "SCHEDULER_DUPEFILTER_KEY": f"{prefix}:dupefilter",
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        # Several workers share the queue: none may wipe it when it closes (the last one cleans up).
        "SCHEDULER_PERSIST": True,
        "SCHEDULER_FLUSH_ON_START": False,
        # The page budget is the whole crawl's, counted in Redis (DistributedWorker.checkpoint).
        "CLOSESPIDER_PAGECOUNT": 0,
        # Before Spidermon (500): the run-wide figures must be in place when the monitors run.
        "EXTENSIONS": {**project.EXTENSIONS, "crawler.distributed.DistributedWorker": 400},
    }
    if concurrency:
        # Take from the shared queue only what this worker can fetch at once (the site's concurrency),
        # so idle workers find work instead of it waiting in another worker's downloader.
        settings["CONCURRENT_REQUESTS"] = concurrency
    return settings


def distributed_worker(crawler) -> "DistributedWorker | None":
    """The crawl's DistributedWorker extension, or None for an ordinary single-process crawl."""
    manager = getattr(crawler, "extensions", None)
    for extension in getattr(manager, "middlewares", ()):
        if isinstance(extension, DistributedWorker):
            return extension
    return None


class SharedPriorityQueue(PriorityQueue):
    """scrapy-redis's priority queue, minus the meta that must not travel to another process."""

    def _encode_request(self, request: Request) -> bytes:
        if any(key in request.meta for key in TRANSIENT_META):
            meta = {k: v for k, v in request.meta.items() if k not in TRANSIENT_META}
            request = request.replace(meta=meta)
        return super()._encode_request(request)


class WorkerScheduler(Scheduler):
    """scrapy-redis's scheduler; every request taken from the queue is recorded as this worker's
    until acked, so a worker that dies loses nothing. An entry that cannot be decoded is logged and
    dropped; it never stops the crawl."""

    @classmethod
    def from_crawler(cls, crawler):
        scheduler = super().from_crawler(crawler)
        scheduler.crawler = crawler
        return scheduler

    def has_pending_requests(self) -> bool:
        worker = distributed_worker(self.crawler)
        return not (worker is not None and worker.left) and super().has_pending_requests()

    def next_request(self) -> Request | None:
        worker = distributed_worker(self.crawler)
        if worker is None:  # the settings name this scheduler without the extension
            return super().next_request()
        if worker.left:  # a worker that left the crawl takes nothing more
            return None
        popped = worker.run.pop()
        if popped is None:
            return None
        member, _score = popped
        try:
            request = self.queue._decode_request(member)
        except Exception as exc:  # noqa: BLE001 - an unreadable queue entry must not stop the crawl
            logger.error("dropped an unreadable request from the shared queue: %s", exc)
            worker.run.ack([member])
            if self.stats is not None:
                self.stats.inc_value(STAT + "distributed/bad_queue_entries")
            return None
        worker.track(request, member)
        if self.stats is not None:
            self.stats.inc_value("scheduler/dequeued/redis")
        return request


def _numeric(stats: dict) -> dict[str, float]:
    return {k: v for k, v in stats.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


def aggregate(snapshots: dict[str, dict]) -> dict[str, Any]:
    """Counters of every worker added up: the distributed crawl's stats as one crawl's."""
    total: dict[str, Any] = {}
    for record in snapshots.values():
        for key, value in _numeric(record.get("stats", {})).items():
            total[key] = total.get(key, 0) + value
    return total


class DistributedWorker:
    """Scrapy extension: this process's part in a distributed crawl (see the module docstring)."""

    def __init__(self, crawler, run: RedisRun, *, checkpoint_seconds: float, max_idle_seconds: float):
        self.crawler = crawler
        self.run = run
        self.checkpoint_seconds = checkpoint_seconds
        self.max_idle_seconds = max_idle_seconds
        self.run_id: int | None = None
        self.popped: dict[Request, bytes] = {}
        self.pushed: dict[str, set[str]] = {"discovered": set(), "gone": set()}
        self.pages_counted = 0
        self.budget = 0
        self.drained = False
        self.left = False  # this worker left the crawl (drained, or page budget reached)
        self.finalizer = False
        self.stop_reason: str | None = None  # why this worker stops early (page budget, idle too long)
        self._closed = False
        self.idle_since: float | None = None
        self.requeued = 0
        self._loops: list = []
        self.store = None  # the crawl's StorePipeline, once it attaches itself (attach_store)

    @classmethod
    def from_crawler(cls, crawler) -> "DistributedWorker":
        settings = crawler.settings
        url = settings.get("WILDWATCH_REDIS_URL")
        if not url:
            raise NotConfigured("not a distributed crawl")
        prefix = settings.get("WILDWATCH_REDIS_PREFIX") or default_prefix(crawler.spidercls.name)
        worker_id = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(2)}"
        from crawler.settings import required

        run = RedisRun(connect(url), prefix, worker_id,
                       lease_seconds=required(settings, "WILDWATCH_WORKER_LEASE_SECONDS", "getfloat"))
        worker = cls(crawler, run,
                     checkpoint_seconds=required(settings, "WILDWATCH_WORKER_CHECKPOINT_SECONDS", "getfloat"),
                     max_idle_seconds=required(settings, "WILDWATCH_WORKER_MAX_IDLE_SECONDS", "getfloat"))
        crawler.signals.connect(worker.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(worker.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(worker.spider_closed, signal=signals.spider_closed)
        logger.info("distributed crawl worker %s on %s, keys %s:*", worker_id, redact_redis_url(url), prefix)
        return worker

    @property
    def worker_id(self) -> str:
        return self.run.worker_id

    @property
    def stats(self):
        return self.crawler.stats

    def attach_store(self, pipeline) -> None:
        """Called by the StorePipeline when it is built: the worker flushes through it at each checkpoint and,
        as the last one out, closes the run through it (the pipeline owns the run; see crawler.outcome)."""
        self.store = pipeline

    # ---- joining ----------------------------------------------------------------------------------

    def join(self, create_run, run_is_open) -> int:
        """The database run every worker stores into: joined, or created by this worker when it is the first.

        `create_run()` makes a new run and returns its id; `run_is_open(run_id)` says whether a run
        named in Redis is still open in the database (a stale one, left by a crawl whose closing
        failed, is cleared and a new run started).
        """
        if self.run_id is not None:
            return self.run_id
        for _attempt in range(3):
            kind, run_id = self.run.wait_for_run()
            if kind == "join" and run_is_open(run_id):
                moved, lost = self.run.sweep()  # a resumed crawl: workers of the last attempt are gone
                logger.info("joined distributed crawl run %s as worker %s (%d requests queued%s)", run_id,
                            self.worker_id, self.run.queue_size(),
                            f"; re-queued {moved} in-flight requests of {len(lost)} lost workers" if lost else "")
                self.requeued += moved
                break
            if kind == "join":
                logger.warning("distributed crawl keys %s:* name run %s, which is closed: starting afresh",
                               self.run.prefix, run_id)
                self.run.clear()
                continue
            run_id = create_run()
            self.run.publish(run_id)
            logger.info("started distributed crawl run %s as worker %s", run_id, self.worker_id)
            break
        else:
            raise DistributedCrawlError(f"could not join the distributed crawl under {self.run.prefix!r}")
        self.run_id = run_id
        self.stats.set_value(WORKER, self.worker_id)
        self.stats.set_value(STAT + "distributed/prefix", self.run.prefix)
        return run_id

    def open_store(self, engine, site, nightly_id: str | None) -> tuple[int, int]:
        """(marketplace id, run id) for the store pipeline: the distributed crawl's one shared run."""
        from store import repository
        from store.db import session_scope
        from store.models import CrawlRun, Marketplace

        with session_scope(engine) as session:
            marketplace_id = repository.get_or_create_marketplace(session, site.name, site.base_url).id

        def create_run() -> int:
            with session_scope(engine) as session:
                run = repository.start_run(session, session.get(Marketplace, marketplace_id), nightly_id=nightly_id)
                return run.id

        def run_is_open(run_id: int) -> bool:
            with session_scope(engine) as session:
                run = session.get(CrawlRun, run_id)
                return run is not None and run.status == "running" and run.marketplace_id == marketplace_id

        return marketplace_id, self.join(create_run, run_is_open)

    def spider_opened(self, spider) -> None:
        if self.run_id is None:  # no store pipeline: a crawl without a database run
            self.join(create_run=lambda: 0, run_is_open=lambda run_id: True)
        site = getattr(spider, "site", None)
        self.budget = int(getattr(getattr(site, "politeness", None), "max_pages", 0) or 0)
        from scrapy.utils.asyncio import create_looping_call

        lease_seconds = self.run.lease_ms / 1000
        for func, interval in ((self.heartbeat, max(0.5, lease_seconds / 3)),
                               (self.checkpoint, self.checkpoint_seconds), (self.poll, 0.5)):
            loop = create_looping_call(func)
            loop.start(interval, now=False)
            self._loops.append(loop)

    # ---- while crawling -----------------------------------------------------------------------------

    def track(self, request: Request, member: bytes) -> None:
        self.popped[request] = member

    def is_stored(self, listing_id: str) -> bool:
        """A listing already committed in this run (by any worker): a page fetched again after a worker died."""
        return self.run.is_stored(listing_id)

    def committed(self, batch) -> None:
        """Called by the store pipeline after each commit: these listings are in this run now."""
        self.run.add_ids("stored", {item.listing_id for item in batch})

    def heartbeat(self) -> None:
        if self.left:  # renewing would register this worker again
            return
        try:
            if not self.run.heartbeat():
                logger.warning("worker %s: its lease had expired (was it frozen?); its in-flight requests may "
                               "be fetched twice", self.worker_id)
        except Exception:  # noqa: BLE001 - Redis hiccups are retried on the next beat
            logger.exception("lease renewal failed")

    def _busy(self) -> set[Request]:
        """Requests this process is still downloading or processing (their output is not complete yet)."""
        engine = self.crawler.engine
        slot = getattr(engine, "_slot", None)
        if slot is not None and hasattr(slot, "inprogress"):
            return set(slot.inprogress)
        busy = set(getattr(engine.downloader, "active", ()))
        scraper_slot = getattr(engine.scraper, "slot", None)
        return busy | set(getattr(scraper_slot, "active", ()))

    def checkpoint(self) -> None:
        """Commit what is buffered, then ack every request that is completely done; share what was found.

        The order matters: the finished requests are chosen before the commit (so every listing they
        produced is in the committed batch), ids go to Redis before the acks (so a worker that dies
        right after acking has already shared what its pages showed).
        """
        try:
            self._checkpoint()
        except Exception:  # noqa: BLE001 - one failed checkpoint is retried on the next
            logger.exception("distributed crawl checkpoint failed")

    def _checkpoint(self) -> None:
        # Scrapy raises on `crawler.engine` before the crawl starts; then nothing is in progress either.
        engine = getattr(self.crawler, "_engine", None)
        busy = self._busy() if engine is not None else set()
        done = [request for request in self.popped if request not in busy]
        if self.store is not None:
            self.store.flush()
        spider = self.crawler.spider
        if self.left:  # what it found was shared before it left; the run's keys may be gone already
            self.run.ack([self.popped.pop(request) for request in done])
            return
        for name, attribute in (("discovered", "discovered_ids"), ("gone", "gone_ids")):
            found = set(getattr(spider, attribute, ()) or ())
            new = found - self.pushed[name]
            self.run.add_ids(name, new)
            self.pushed[name] |= new
        pages = int(self.stats.get_value("response_received_count", 0) or 0)
        total_pages = self.run.add_pages(pages - self.pages_counted)
        self.pages_counted = pages
        self.run.record_stats(_numeric(self.stats.get_stats()))
        self.run.ack([self.popped.pop(request) for request in done])
        moved, _lost = self.run.sweep()
        self.requeued += moved
        if self.budget and total_pages >= self.budget and self.stop_reason is None:
            logger.warning("%s: page budget of %d pages reached by all workers together; stopping",
                           spider.name, self.budget)
            self.stop_reason = "closespider_pagecount"
            from scrapy.utils.defer import deferred_from_coro

            if engine is not None:
                deferred_from_coro(engine.close_spider_async(reason="closespider_pagecount"))
            return
        if moved:
            self._wake()

    def poll(self) -> None:
        """With nothing in hand, look at the shared queue twice a second rather than at Scrapy's 5 s heartbeat."""
        try:
            if not self.popped and self.stop_reason is None and self.run.queue_size():
                self._wake()
        except Exception:  # noqa: BLE001 - Redis hiccups: the next poll tries again
            logger.debug("queue poll failed", exc_info=True)

    def _wake(self) -> None:
        slot = getattr(self.crawler.engine, "_slot", None)
        if slot is not None:
            slot.nextcall.schedule()  # the engine asks the scheduler (the shared queue) for requests now

    def spider_idle(self, spider) -> None:
        """Nothing to do here: leave if the whole crawl is drained, else wait for the other workers."""
        import redis

        if self.left:
            self._await_closing()
            return
        try:
            self._checkpoint()
            queued = self.run.queue_size()
            drained = not queued and self.run.drained()
        except redis.RedisError as exc:  # Redis away for a while: wait for it (up to the idle limit)
            logger.warning("worker %s idle and Redis unavailable (%s): waiting", self.worker_id, exc)
            queued, drained = 0, False
        if queued:
            self.idle_since = None
            raise DontCloseSpider
        if drained:
            self.drained = self.left = True
            self.finalizer = self.run.leave("finished")
            self._set_run_stats(final=False)
            logger.info("distributed crawl drained: worker %s left%s", self.worker_id,
                        " last and closes the run" if self.finalizer else "; waiting until the last one closes it")
            if not self.finalizer:
                self._await_closing()
            return
        self._wait_or_give_up("other workers hold requests")

    def _await_closing(self) -> None:
        """After leaving a drained crawl: wait until every other worker has left (a dead one is swept when
        its lease expires), so the run is always closed by someone; become the closer when none is left."""
        import redis

        try:
            if self.run.finalizing() or not self.run.is_open(self.run_id):
                return  # another worker closes (or closed) the run
            self.run.sweep()
            if self.run.try_finalize(self.run_id):
                self.finalizer = True
                logger.info("worker %s closes the distributed crawl run %s", self.worker_id, self.run_id)
                return
        except redis.RedisError as exc:
            logger.warning("worker %s waiting to close the run, Redis unavailable: %s", self.worker_id, exc)
        self._wait_or_give_up("other workers have not left yet")

    def _wait_or_give_up(self, why: str) -> None:
        now = time.monotonic()
        self.idle_since = self.idle_since or now
        if now - self.idle_since > self.max_idle_seconds:
            logger.warning("worker %s idle for %.0f s (%s): leaving the crawl to them", self.worker_id,
                           now - self.idle_since, why)
            self.stop_reason = "idle_timeout"
            return
        raise DontCloseSpider

    # ---- the end ------------------------------------------------------------------------------------

    def _set_run_stats(self, final: bool) -> dict:
        """The whole crawl's stats (every worker's last checkpoint added up) into this worker's stats,
        for the crawl-health monitors; `final` when every worker has left."""
        snapshots = self.run.worker_stats()
        run_stats = aggregate(snapshots)
        info = self.run.run_info()
        states = {worker: record["state"] for worker, record in snapshots.items()}
        run_stats["finish_reason"] = "closespider_pagecount" if "closespider_pagecount" in states.values() \
            else "finished"
        if info.get("started_at"):
            from datetime import datetime

            run_stats["start_time"] = datetime.fromisoformat(info["started_at"])
        run_stats[STAT + "distributed/final"] = final
        self.stats.set_value(RUN_STATS, run_stats)
        return run_stats

    def spider_closed(self, spider, reason: str) -> None:
        """Ack what is done, then leave the crawl (the last worker out closes it) or hand work back."""
        if self._closed:
            return
        self._closed = True
        for loop in self._loops:
            if loop.running:
                loop.stop()
        try:
            self._checkpoint()
        except Exception:  # noqa: BLE001
            logger.exception("final checkpoint failed; the in-flight requests go back to the queue")
        if self.left:
            pass  # left the drained crawl when it went idle
        elif reason == "closespider_pagecount":  # the whole crawl's page budget: the run ends (partial)
            self.left = True
            self.finalizer = self.run.leave(reason)
        else:
            handed_back = self.run.suspend(reason)
            logger.warning("worker %s stopped (%s) before the crawl was done: %d in-flight requests handed back; "
                           "the run stays open for the other workers or the next start", self.worker_id, reason,
                           handed_back)
        self.stats.set_value(FINALIZER, self.finalizer)
        self.stats.set_value(REQUEUED, self.requeued)
        if self.finalizer:
            self._set_run_stats(final=True)
            if self.store is None:  # nobody else will close the run: clean up now
                self.run.clear()

    def close_store(self, spider, reason: str) -> None:
        """The last worker out closes the shared run through the store pipeline: gone-marking over every
        worker's listings, the run's totals plus each worker's figures; then every Redis key of the crawl
        is deleted (kept when the run could not be closed, so the next worker can try again)."""
        self.spider_closed(spider, reason)  # idempotent: normally done already (this extension runs first)
        if not self.finalizer or self.store is None:
            return
        stats = dict(self.stats.get_value(RUN_STATS) or self._set_run_stats(final=True))
        stats[MONITORS] = self.stats.get_value(MONITORS) or {}
        stats["finish_time"] = self.stats.get_value("finish_time")
        workers = self.worker_summaries()

        def extra() -> dict:
            return {"workers": workers,
                    "distributed": {"prefix": self.run.prefix, "closed_by": self.worker_id,
                                    "lost_workers": sorted(w for w, s in workers.items() if s["finish_reason"] == "lost")}}

        outcome = run_outcome(stats["finish_reason"], stats)
        if not self.store.close_run(outcome, self.run.live_ids, stats=stats, extra=extra, spool_on_failure=False):
            logger.error("distributed crawl run %s not closed by worker %s; its Redis keys are kept", self.run_id,
                         self.worker_id)
            return
        self.stats.set_value(LISTINGS_GONE, stats.get(LISTINGS_GONE, 0))
        self.stats.set_value(RUN_STATS, stats)
        removed = self.run.clear()
        logger.info("distributed crawl run %s closed by worker %s (%s workers); %d Redis keys deleted", self.run_id,
                    self.worker_id, len(workers), removed)

    def summary(self) -> dict:
        """This worker's part, for the command's output."""
        return {"worker": self.worker_id, "run_id": self.run_id, "prefix": self.run.prefix,
                "finalizer": self.finalizer, "requeued": self.requeued}

    def worker_summaries(self) -> dict[str, dict]:
        """Each worker's figures (crawl_summary of its last checkpoint) and how it ended."""

        result = {}
        for worker, record in sorted(self.run.worker_stats().items()):
            summary = crawl_summary(record.get("stats", {}))
            summary.pop("monitors", None)
            summary.pop("seconds", None)
            summary["finish_reason"] = record["state"]
            result[worker] = summary
        return result


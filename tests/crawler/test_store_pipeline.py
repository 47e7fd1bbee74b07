"""StorePipeline in-process, with Scrapy's test crawler and a real SQLite database through the project's store.

The end-to-end crawls (test_crawl_state, test_store_outage, test_crawl_resume_and_health) run the CLI in a
subprocess; these tests drive the pipeline's own steps directly, so each rule is checked on its own:
batching, the spool while the database refuses writes, resuming an interrupted run, gone-marking only
after a complete crawl, and how the run is closed (crawler.outcome).
"""
from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import pytest
from scrapy import Spider
from scrapy.utils.test import get_crawler
from sqlalchemy import select

from crawler.items import ListingItem
from crawler.pipelines import StorePipeline
from crawler.resume import CrawlJournal
from crawler.settings import MissingSetting
from store import repository
from store.db import make_engine, session_scope
from store.models import CrawlRun, Listing, Score

SITE = SimpleNamespace(name="shop", base_url="http://127.0.0.1:9")
SCORE = {"model_version": "m-1", "score": 0.9, "flagged": True, "threshold": 0.5, "species": ["elephant"],
         "evidence": [{"term": "象牙"}]}


class ShopSpider(Spider):
    """The attributes the store pipeline reads from the marketplace spider, and nothing else."""

    name = "shop"
    site = SITE

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.journal: CrawlJournal | None = None
        self.resume = None
        self.live: set[str] = set()

    def live_listing_ids(self) -> set[str]:
        return set(self.live)


def item(number: int, **extra) -> ListingItem:
    return ListingItem(marketplace="shop", listing_id=f"L{number}", url=f"http://127.0.0.1:9/item/L{number}",
                       title=f"象牙手镯 {number}", description="老物件", crawled_at="2026-11-25T01:00:00+00:00",
                       score=dict(SCORE), **extra)


def project_settings(tmp_path: Path, **overrides) -> dict:
    """crawler.settings as `scrapy crawl` reads it, pointed at this test's database and data directory."""
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "crawler.settings")
    from scrapy.utils.project import get_project_settings

    # The WILDWATCH_* values only: get_crawler picks the reactor and handlers this test process can run.
    settings = {k: v for k, v in get_project_settings().copy_to_dict().items() if k.startswith("WILDWATCH_")}
    settings.update({"WILDWATCH_DATABASE_URL": f"sqlite:///{tmp_path / 'db' / 'w.db'}",
                     "WILDWATCH_DATA_DIR": str(tmp_path / "data"), "WILDWATCH_STATE_DIR": str(tmp_path / "state"),
                     "WILDWATCH_STORE_BATCH_SIZE": 3, "WILDWATCH_STORE_FLUSH_SECONDS": 3600,
                     "WILDWATCH_SPOOL_REPLAY_WAIT": 0, "LOG_LEVEL": "WARNING", **overrides})
    return settings


def open_pipeline(tmp_path: Path, *, journal: bool = False, **overrides) -> StorePipeline:
    crawler = get_crawler(ShopSpider, project_settings(tmp_path, **overrides))
    crawler.spider = crawler._create_spider()
    if journal:
        crawler.spider.journal = CrawlJournal(tmp_path / "state", SITE.name)
        crawler.spider.resume = crawler.spider.journal.load()
    crawler.stats.open_spider()
    pipeline = StorePipeline.from_crawler(crawler)
    pipeline.open_spider()
    return pipeline


def close(pipeline: StorePipeline, reason: str = "finished") -> None:
    pipeline.close_spider()
    pipeline.spider_closed(pipeline.crawler.spider, reason)


def stored_ids(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            return set(session.scalars(select(Listing.external_id)))
    finally:
        engine.dispose()


def run_row(url: str, run_id: int) -> tuple[str, str | None, dict]:
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            run = session.get(CrawlRun, run_id)
            return run.status, run.error, dict(run.stats or {})
    finally:
        engine.dispose()


def test_listings_are_written_a_batch_at_a_time_and_the_rest_when_the_spider_closes(tmp_path):
    pipeline = open_pipeline(tmp_path)
    url = pipeline.database_url
    for n in (1, 2):
        pipeline.process_item(item(n))
    assert stored_ids(url) == set()  # below the batch size: still buffered
    pipeline.process_item(item(3))
    assert stored_ids(url) == {"L1", "L2", "L3"}
    pipeline.process_item(item(4))
    run_id = pipeline.run_id
    close(pipeline)
    assert stored_ids(url) == {"L1", "L2", "L3", "L4"}
    status, error, summary = run_row(url, run_id)
    assert (status, error) == ("succeeded", None)
    assert summary["stored"] == 4 and summary["finish_reason"] == "finished"
    engine = make_engine(url)
    with session_scope(engine) as session:  # one score each, from this run
        assert len(session.scalars(select(Score.id).where(Score.run_id == run_id)).all()) == 4
    engine.dispose()


def test_a_batch_the_database_refuses_is_spooled_then_replayed_once_it_answers(tmp_path):
    pipeline = open_pipeline(tmp_path)
    url, run_id = pipeline.database_url, pipeline.run_id
    db_dir = tmp_path / "db"
    db_dir.rename(tmp_path / "db-away")  # the database file cannot be opened: not transient, spooled at once
    pipeline.engine.dispose()
    for n in (1, 2, 3):
        pipeline.process_item(item(n))
    spool = tmp_path / "data" / "spool" / f"run-{run_id}.jsonl"
    assert spool.is_file() and len(spool.read_text(encoding="utf-8").splitlines()) == 3
    assert pipeline.spool_pending == 3
    (tmp_path / "db-away").rename(db_dir)  # the database is back
    pipeline.engine.dispose()
    for n in (4, 5, 6):
        pipeline.process_item(item(n))  # stored, then the spool is replayed behind it
    assert pipeline.spool_pending == 0 and not spool.exists()
    close(pipeline)
    assert stored_ids(url) == {f"L{n}" for n in range(1, 7)}
    status, _error, summary = run_row(url, run_id)
    assert status == "succeeded" and (summary["spooled"], summary["replayed"], summary["spool_pending"]) == (3, 3, 0)


def test_listings_still_spooled_at_the_end_leave_the_run_partial_and_mark_nothing_gone(tmp_path, monkeypatch):
    first = open_pipeline(tmp_path)
    url = first.database_url
    first.process_item(item(9))
    first.crawler.spider.live = {"L9"}
    close(first)
    pipeline = open_pipeline(tmp_path)
    db_dir = tmp_path / "db"
    db_dir.rename(tmp_path / "db-away")
    pipeline.engine.dispose()
    pipeline.process_item(item(1))
    pipeline.flush()
    (tmp_path / "db-away").rename(db_dir)
    pipeline.engine.dispose()
    monkeypatch.setattr(pipeline, "replay_spool", lambda: False)  # the spooled batch is still refused at the end
    pipeline.crawler.spider.live = {"L1"}
    run_id = pipeline.run_id
    close(pipeline)
    status, error, _summary = run_row(url, run_id)
    assert status == "partial" and error == "1 listings wait in the spool for the database; gone listings not marked"
    engine = make_engine(url)
    with session_scope(engine) as session:
        assert session.scalars(select(Listing.gone_at).where(Listing.external_id == "L9")).one() is None
    engine.dispose()


def test_a_complete_crawl_marks_what_the_site_no_longer_offers_gone_a_partial_one_does_not(tmp_path):
    first = open_pipeline(tmp_path)
    url = first.database_url
    for n in (1, 2, 3):
        first.process_item(item(n))
    first.crawler.spider.live = {"L1", "L2", "L3"}
    close(first)

    budget = open_pipeline(tmp_path)
    budget.process_item(item(1))
    budget.crawler.spider.live = {"L1"}
    close(budget, "closespider_pagecount")
    status, error, summary = run_row(url, budget.run_id)
    assert (status, error, summary["gone"]) == ("partial", "page budget reached; gone listings not marked", 0)

    complete = open_pipeline(tmp_path)
    complete.process_item(item(1))
    complete.process_item(item(2))
    complete.crawler.spider.live = {"L1", "L2"}
    close(complete)
    status, error, summary = run_row(url, complete.run_id)
    assert (status, error, summary["gone"]) == ("succeeded", None, 1)
    engine = make_engine(url)
    with session_scope(engine) as session:
        gone = {row.external_id for row in session.scalars(select(Listing).where(Listing.gone_at.is_not(None)))}
    engine.dispose()
    assert gone == {"L3"}


def test_an_interrupted_crawl_keeps_its_run_open_and_the_next_start_resumes_it(tmp_path):
    first = open_pipeline(tmp_path, journal=True)
    url, run_id = first.database_url, first.run_id
    for n in (1, 2, 3):
        first.process_item(item(n))  # one batch: committed and journaled
    close(first, "shutdown")
    status, error, _summary = run_row(url, run_id)
    assert (status, error) == ("running", "interrupted; the next crawl of this site resumes this run")
    assert (tmp_path / "state" / "shop" / "journal.jsonl").is_file()

    second = open_pipeline(tmp_path, journal=True)
    assert second.run_id == run_id and second.crawler.spider.resume.listing_ids == {"L1", "L2", "L3"}
    assert second.crawler.stats.get_value("wildwatch/resumed_run") is True
    second.process_item(item(4))
    second.crawler.spider.live = {"L1", "L2", "L3", "L4"}
    close(second)
    status, error, _summary = run_row(url, run_id)
    assert (status, error) == ("succeeded", None)
    assert not (tmp_path / "state" / "shop" / "journal.jsonl").exists()  # finished: nothing left to resume
    assert stored_ids(url) == {"L1", "L2", "L3", "L4"}


def test_a_run_closed_already_is_never_marked_gone_or_overwritten(tmp_path):
    pipeline = open_pipeline(tmp_path)
    url, run_id = pipeline.database_url, pipeline.run_id
    pipeline.process_item(item(1))
    pipeline.flush()
    with session_scope(pipeline.engine) as session:
        repository.finish_run(session, session.get(CrawlRun, run_id), "failed", {}, error="closed by hand")
    pipeline.crawler.spider.live = set()
    close(pipeline)
    assert run_row(url, run_id)[:2] == ("failed", "closed by hand")
    engine = make_engine(url)
    with session_scope(engine) as session:
        assert session.scalars(select(Listing.gone_at)).one() is None
    engine.dispose()


def test_the_closing_record_goes_to_the_spool_when_the_database_is_gone_at_the_end(tmp_path):
    pipeline = open_pipeline(tmp_path)
    url, run_id = pipeline.database_url, pipeline.run_id
    pipeline.process_item(item(1))
    pipeline.flush()
    (tmp_path / "db").rename(tmp_path / "db-away")
    pipeline.engine.dispose()
    close(pipeline)
    stats = pipeline.crawler.stats
    assert stats.get_value("wildwatch/run_close_spooled") is True
    spool = tmp_path / "data" / "spool" / f"run-{run_id}.jsonl"
    assert '"finish"' in spool.read_text(encoding="utf-8")
    (tmp_path / "db-away").rename(tmp_path / "db")
    from crawler.spool import replay_all

    [result] = replay_all(url, tmp_path / "data" / "spool")
    assert result.ok and result.run_closed
    status, error, _summary = run_row(url, run_id)
    assert status == "partial" and "database was unavailable" in error  # a replay marks nothing gone


def test_without_the_project_settings_the_pipeline_names_the_missing_one(tmp_path):
    crawler = get_crawler(ShopSpider, {"WILDWATCH_DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}"})
    with pytest.raises(MissingSetting, match="WILDWATCH_STORE_BATCH_SIZE is not set"):
        StorePipeline.from_crawler(crawler)


def test_the_last_distributed_worker_closes_the_shared_run_through_the_pipeline_it_was_handed(tmp_path):
    from crawler.distributed import DistributedWorker, worker_settings
    from store.testing import throwaway_redis_prefix

    with throwaway_redis_prefix() as (redis_url, prefix):
        pipeline = open_pipeline(tmp_path, **worker_settings(redis_url, SITE.name, prefix=prefix, lease_seconds=30.0,
                                                             checkpoint_seconds=2.0))
        [worker] = [e for e in pipeline.crawler.extensions.middlewares if isinstance(e, DistributedWorker)]
        assert worker.store is pipeline and pipeline.distributed is worker  # handed over, not searched for
        assert worker.run_id == pipeline.run_id  # the pipeline opened the shared run through the worker
        spider = pipeline.crawler.spider
        spider.discovered_ids, spider.gone_ids = {"L1", "L2"}, set()
        for n in (1, 2):
            pipeline.process_item(item(n))
        worker.checkpoint()  # flushes through the pipeline, shares ids and stats in Redis
        assert stored_ids(pipeline.database_url) == {"L1", "L2"}
        worker.left, worker.finalizer = True, worker.run.leave("finished")  # drained, and the last one out
        assert worker.finalizer
        run_id, url = pipeline.run_id, pipeline.database_url
        close(pipeline)
        status, error, summary = run_row(url, run_id)
        assert (status, error, summary["stored"], summary["gone"]) == ("succeeded", None, 2, 0)
        assert summary["distributed"]["closed_by"] == worker.worker_id and list(summary["workers"]) == [worker.worker_id]
        assert worker.run.keys() == []  # every Redis key of the crawl deleted

"""Runs Scrapy crawls of configured marketplaces inside this process.

Twisted's reactor starts once per process, so every site of a night is crawled
by one CrawlerProcess; each site's spider opens and closes its own crawl run.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from crawler.browser import resolve_chromium
from crawler.resume import CrawlJournal
from crawler.siteconfig import SiteConfig
from wildwatch.config import Settings

logger = logging.getLogger(__name__)


@dataclass
class CrawlOutcome:
    """What one site's crawl left behind: its run row and the figures of the crawl."""

    site: str
    run_id: int | None
    summary: dict
    health_problems: list[str] = field(default_factory=list)
    error: str | None = None
    # A worker of a distributed crawl (crawler.distributed): its id, whether it closed the run, and
    # the whole crawl's figures so far (every worker's added up).
    worker: dict | None = None
    run_summary: dict | None = None

    @property
    def store_incomplete(self) -> bool:
        """Something of this crawl is not in the database yet: spooled listings or the run's closing record,
        listings lost, or a store that refused writes. The command then exits non-zero."""
        s = self.summary
        return bool(s.get("spool_pending") or s.get("run_close_pending") or s.get("lost") or s.get("store_fatal"))

    @property
    def monitors(self) -> dict:
        """Spidermon monitor outcomes: name -> {"ok": bool, "message": str}."""
        return dict(self.summary.get("monitors") or {})

    @property
    def monitors_failed(self) -> list[str]:
        return [f"{name}: {result.get('message')}" for name, result in self.monitors.items() if not result.get("ok")]


def scrapy_settings(config: Settings, *, log_file: Path | None = None, log_level: str = "INFO",
                    nightly_id: str | None = None, extra: dict | None = None):
    """The project's Scrapy settings with this run's database, model and logging."""
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "crawler.settings")
    from scrapy.utils.project import get_project_settings

    settings = get_project_settings()
    settings.set("WILDWATCH_DATABASE_URL", config.database_url, priority="cmdline")
    settings.set("WILDWATCH_MODELS_DIR", str(config.models_dir), priority="cmdline")
    settings.set("WILDWATCH_SITES_DIR", str(config.sites_dir), priority="cmdline")
    settings.set("WILDWATCH_DATA_DIR", str(config.data_dir), priority="cmdline")  # spool files, pictures
    settings.set("WILDWATCH_CHROMIUM", config.chromium_path, priority="cmdline")
    # Per-site crawl state: the resume journal and the HTTP cache used for conditional requests.
    settings.set("WILDWATCH_STATE_DIR", str(config.state_dir), priority="cmdline")
    settings.set("HTTPCACHE_DIR", str(config.state_dir / "httpcache"), priority="cmdline")
    settings.set("WILDWATCH_IMAGES", config.images, priority="cmdline")
    settings.set("WILDWATCH_THRESHOLD", config.threshold, priority="cmdline")
    if nightly_id:
        settings.set("WILDWATCH_NIGHTLY_ID", nightly_id, priority="cmdline")
    settings.set("LOG_LEVEL", log_level, priority="cmdline")
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        settings.set("LOG_FILE", str(log_file), priority="cmdline")
        settings.set("LOG_FILE_APPEND", True, priority="cmdline")
    for key, value in (extra or {}).items():
        settings.set(key, value, priority="cmdline")
    return settings


def check_browser(sites: list[SiteConfig], config: Settings) -> None:
    """Fail before crawling when a site needs JavaScript and no Chromium is available."""
    if any(site.needs_browser_at_all() for site in sites):
        resolve_chromium(config.chromium_path)


def run_crawls(
    sites: list[SiteConfig],
    config: Settings,
    *,
    log_file: Path | None = None,
    log_level: str = "INFO",
    nightly_id: str | None = None,
    on_item: Callable[[str], None] | None = None,
    extra_settings: dict | None = None,
    night: int | None = None,
) -> list[CrawlOutcome]:
    """Crawl every site (concurrently, in this process) and return one outcome per site."""
    # Scrapy's TLS modules build deprecated aliases with inspect.stack(), which reads the source of every
    # frame on the stack: imported here rather than deep inside the engine's start-up (~60 frames), it costs
    # ~0.4 s less CPU in every crawl and worker process.
    import scrapy.core.downloader.handlers.http11  # noqa: F401
    from scrapy import signals
    from scrapy.crawler import CrawlerProcess

    from crawler.stats import FINALIZER, HEALTH_PROBLEMS, REQUEUED, RUN_ID, RUN_STATS, WORKER, crawl_summary
    from crawler.spiderloader import spider_class_for

    settings = scrapy_settings(config, log_file=log_file, log_level=log_level, nightly_id=nightly_id,
                               extra=extra_settings)
    settings.set("LOG_INSTALL_ROOT_HANDLER", log_file is not None, priority="cmdline")
    if night is not None:
        settings.set("WILDWATCH_NIGHT_INDEX", night, priority="cmdline")  # which search terms rotate in
    process = CrawlerProcess(settings)
    crawlers = []
    for site in sites:
        spider_class = spider_class_for(site, config.chromium_path)
        budget = site.politeness.max_pages
        distributed = settings.get("WILDWATCH_REDIS_URL")  # shared state and page budget live in Redis
        resumed = CrawlJournal(config.state_dir, site.name).load() if budget and not distributed else None
        if resumed is not None and resumed.pages:
            # The page budget is per night: pages fetched before the crawl was killed count too.
            spider_class.custom_settings = {**spider_class.custom_settings,
                                            "CLOSESPIDER_PAGECOUNT": max(1, budget - resumed.pages)}
        crawler = process.create_crawler(spider_class)
        if on_item is not None:
            crawler.signals.connect(lambda item, response, spider, _name=site.name: on_item(_name),
                                    signal=signals.item_scraped)
        crawlers.append((site, crawler))
        process.crawl(crawler)
    process.start()

    outcomes = []
    for site, crawler in crawlers:
        stats = crawler.stats.get_stats() if crawler.stats else {}
        run_id = stats.get(RUN_ID)
        error = None if run_id else "the crawl did not start (see the log)"
        run_stats = stats.get(RUN_STATS)
        outcomes.append(CrawlOutcome(
            site=site.name,
            run_id=run_id,
            summary=crawl_summary(stats),
            health_problems=list(stats.get(HEALTH_PROBLEMS) or []),
            error=error,
            worker={"id": stats.get(WORKER),
                    "closed_run": bool(stats.get(FINALIZER)),
                    "requeued": int(stats.get(REQUEUED) or 0)}
            if stats.get(WORKER) else None,
            run_summary=crawl_summary(run_stats) if run_stats else None,
        ))
    return outcomes

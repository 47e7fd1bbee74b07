"""The nightly job: crawl every configured marketplace, score, store, export the night's flagged listings."""
from __future__ import annotations

import logging
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from crawler.siteconfig import SiteConfig, load_all_sites
from wildwatch.config import Settings
from wildwatch.crawl import CrawlOutcome, check_browser, run_crawls

logger = logging.getLogger(__name__)


class NightlyError(RuntimeError):
    """The night cannot start (no model, no usable site, no database)."""


@dataclass
class NightlyReport:
    nightly_id: str
    outcomes: list[CrawlOutcome]
    config_errors: list[str]
    export_path: Path | None
    exported_rows: int
    seconds: float
    log_file: Path | None = None
    demo_night: int | None = None
    skipped_sites: list[str] = field(default_factory=list)
    replayed: list = field(default_factory=list)  # crawler.spool.ReplayResult of spools left by earlier runs

    def totals(self) -> dict[str, int]:
        keys = ("pages", "rendered_pages", "listings", "stored", "flagged", "gone", "errors")
        totals = {key: sum(int(o.summary.get(key) or 0) for o in self.outcomes) for key in keys}
        totals["errors"] += len(self.config_errors) + sum(1 for o in self.outcomes if o.error)
        return totals

    @property
    def monitor_failures(self) -> list[str]:
        """One line per failed crawl-health monitor: "site: monitor: reason"."""
        return [f"{o.site}: {problem}" for o in self.outcomes for problem in o.monitors_failed]

    @property
    def ok(self) -> bool:
        """At least one site crawled, nothing waits in a spool or was lost, every old spool replayed."""
        return any(o.run_id for o in self.outcomes) \
            and not any(o.store_incomplete for o in self.outcomes) \
            and all(result.ok for result in self.replayed)


def previous_demo_nights(database_url: str, site_name: str = "demo") -> int:
    """How many finished crawls the demo marketplace has had: the demo site changes with each night."""
    from sqlalchemy import func, select

    from store.db import make_engine, session_scope
    from store.models import CrawlRun, Marketplace

    engine = make_engine(database_url)
    try:
        with session_scope(engine) as session:
            return session.scalar(
                select(func.count(CrawlRun.id)).join(Marketplace, CrawlRun.marketplace_id == Marketplace.id)
                .where(Marketplace.name == site_name, CrawlRun.status.in_(("succeeded", "partial")))
            ) or 0
    finally:
        engine.dispose()


def select_sites(config: Settings, demo: bool) -> tuple[list[SiteConfig], list[str], list[str]]:
    """Sites to crawl tonight, config errors (each skipped), and sites left out on purpose."""
    sites, errors = load_all_sites(config.sites_dir)
    chosen, skipped = [], []
    for site in sites:
        wanted = site.enabled and (site.demo if demo else not site.demo)
        (chosen if wanted else skipped).append(site if wanted else site.name)
    return chosen, errors, skipped


def run_nightly(
    config: Settings,
    *,
    demo: bool = False,
    demo_night: int | None = None,
    export_format: str = "csv",
    export_path: Path | None = None,
    log_level: str = "INFO",
    on_item: Callable[[str], None] | None = None,
    demo_faults: float = 0.0,
    demo_fault_seed: int = 0,
    scrapyd_urls: list[str] | None = None,
    scrapyd_project: str = "wildwatch",
) -> NightlyReport:
    """With `scrapyd_urls`, each site is one scrapyd job on the least busy of those hosts (wildwatch.scrapyd)."""
    from classifier.scorer import Scorer
    from crawler.spool import replay_all
    from store.db import make_engine, upgrade
    from store.preflight import check_writable
    from wildwatch.export import export_listings

    started = time.monotonic()
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    nightly_id = f"{stamp}-{uuid.uuid4().hex[:6]}"
    log_file = config.data_dir / "logs" / f"nightly-{nightly_id}.log"

    upgrade(config.database_url)
    check_writable(config.database_url)
    Scorer.load(config.models_dir, threshold=config.threshold)  # fail now, not in the middle of the crawl
    # Listings an earlier night could not store (the database was down) go in before tonight's crawl.
    replayed = replay_all(config.database_url, config.data_dir / "spool", config.models_dir)
    sites, config_errors, skipped = select_sites(config, demo)
    for error in config_errors:
        logger.error("site config skipped: %s", error)
    if not sites:
        raise NightlyError(
            f"no site to crawl in {config.sites_dir}"
            + (" (demo sites only run with --demo)" if skipped else "")
            + ("; config errors: " + "; ".join(config_errors) if config_errors else "")
        )
    if not scrapyd_urls:  # with scrapyd the crawl hosts need the browser, not this one
        check_browser(sites, config)

    with ExitStack() as stack:
        night = None
        if demo:
            from wildwatch.demo.sites import serve_demo_sites

            night = demo_night or previous_demo_nights(config.database_url) + 1
            sites = serve_demo_sites(stack, sites, night, faults=demo_faults, fault_seed=demo_fault_seed)
        if scrapyd_urls:
            from wildwatch.scrapyd import crawl_on_scrapyd

            outcomes = crawl_on_scrapyd(sites, config.database_url, scrapyd_urls, nightly_id, project=scrapyd_project,
                                        night=night, log_file=log_file, progress=logger.info)
        else:
            outcomes = run_crawls(sites, config, log_file=log_file, log_level=log_level, nightly_id=nightly_id,
                                  on_item=on_item, night=night)

    run_ids = [o.run_id for o in outcomes if o.run_id]
    path, rows = None, 0
    if run_ids:
        target = export_path or config.export_dir / f"flagged-{stamp}.{export_format}"
        engine = make_engine(config.database_url)
        try:
            path, rows = export_listings(engine, target, export_format, flagged_only=True, run_ids=run_ids)
        finally:
            engine.dispose()
    return NightlyReport(
        nightly_id=nightly_id, outcomes=outcomes, config_errors=config_errors, export_path=path,
        exported_rows=rows, seconds=round(time.monotonic() - started, 1), log_file=log_file,
        demo_night=night, skipped_sites=skipped, replayed=replayed,
    )

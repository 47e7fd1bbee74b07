"""The nightly job: crawl every configured marketplace, score, store, export the night's flagged listings."""
from __future__ import annotations

import logging
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from crawler.siteconfig import SiteConfig, load_all_sites
from wildwatch.config import Settings
from wildwatch.crawl import CrawlOutcome, check_browser, run_crawls
from wildwatch.errors import UserError

logger = logging.getLogger(__name__)


class NightlyError(UserError, RuntimeError):
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
    # Tonight's flagged listings by protection (store.decisions.flagged_protection_counts); {} when nothing ran.
    protection: dict[str, int] = field(default_factory=dict)
    networks: Any = None        # wildwatch.networks.BuildReport of the rebuild after the crawls
    network_error: str | None = None
    network_score: Any = None   # wildwatch.demo.traders.LinkScore, demo nights only
    ocr: object | None = None  # wildwatch.images.stage.OcrReport; None when OCR did not run
    ocr_error: str | None = None  # why the OCR stage could not run (the night goes on without it)

    def protection_line(self) -> str:
        """"Class I flagged 3 (China Class I), 5 with China Class I or CITES Appendix I" for the summary."""
        if not self.protection:
            return ""
        return (f"China Class I listings flagged: {self.protection['china_I']} "
                f"(China Class I or CITES Appendix I: {self.protection['rank0']}; "
                f"Class II / Appendix II: {self.protection['rank1']}; no taxon named: {self.protection['unassessed']})")

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
    ocr: bool = True,
    ocr_budget: float | None = 600.0,
) -> NightlyReport:
    """With `scrapyd_urls`, each site is one scrapyd job on the least busy of those hosts (wildwatch.scrapyd)."""
    from crawler.pipelines import load_scorer
    from crawler.spool import replay_all
    from store.db import make_engine, upgrade
    from store.preflight import check_writable
    from wildwatch.export import export_listings
    from wildwatch.pseudonym import pseudonym_key

    started = time.monotonic()
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    nightly_id = f"{stamp}-{uuid.uuid4().hex[:6]}"
    log_file = config.data_dir / "logs" / f"nightly-{nightly_id}.log"

    upgrade(config.database_url)
    check_writable(config.database_url)
    # Fail now, not in the middle of the crawl.  The crawls' ScorePipeline and the OCR stage use this same
    # cached scorer: each load holds the model again (about 40 MB of the night's peak memory).
    load_scorer(str(config.models_dir), config.threshold)
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
    ocr_report, ocr_error = None, None
    if ocr and config.images and run_ids:
        # After the crawls, before the export: listings flagged by the text in their pictures are exported too.
        ocr_report, ocr_error = _ocr_stage(config, ocr_budget)
    path, rows, protection = None, 0, {}
    if run_ids:
        target = export_path or config.export_dir / f"flagged-{stamp}.{export_format}"
        engine = make_engine(config.database_url)
        try:
            path, rows = export_listings(engine, target, export_format, flagged_only=True, run_ids=run_ids,
                                         pseudonym_key=pseudonym_key(config.data_dir, config.pseudonym_key))
            from store.db import session_scope
            from store.decisions import flagged_protection_counts

            with session_scope(engine) as session:
                protection = flagged_protection_counts(session, run_ids)
        finally:
            engine.dispose()
    networks, network_error, network_score = rebuild_after_crawl(config, demo=demo)
    return NightlyReport(
        nightly_id=nightly_id, outcomes=outcomes, config_errors=config_errors, export_path=path,
        exported_rows=rows, seconds=round(time.monotonic() - started, 1), log_file=log_file,
        demo_night=night, skipped_sites=skipped, replayed=replayed, protection=protection,
        networks=networks, network_error=network_error, network_score=network_score,
        ocr=ocr_report, ocr_error=ocr_error,
    )


def rebuild_after_crawl(config: Settings, *, demo: bool = False) -> tuple[Any, str | None, Any]:
    """Rebuild the seller networks from everything stored (wildwatch.networks); on a demo night also score
    them against the planted traders. A failure is reported, never fatal: the crawl's data is stored already."""
    from store.db import make_engine
    from wildwatch.networks import rebuild

    engine = make_engine(config.database_url)
    try:
        built = rebuild(engine)
        score = None
        if demo:
            from wildwatch.config import DEMO_CATALOG
            from wildwatch.demo.traders import traders_path
            from wildwatch.networks import score_links

            if traders_path(DEMO_CATALOG).is_file():
                score = score_links(engine, traders_path(DEMO_CATALOG))
        return built, None, score
    except Exception as exc:  # noqa: BLE001 - reported in the summary; the networks are rebuilt next time
        logger.exception("seller network rebuild failed")
        return None, f"{type(exc).__name__}: {exc}", None
    finally:
        engine.dispose()


def _ocr_stage(config: Settings, budget: float | None):
    """Read tonight's new pictures (wildwatch.images.stage); a missing Tesseract is reported, not fatal."""
    from crawler.pipelines import load_scorer
    from store.db import make_engine
    from wildwatch.images.ocr import OcrUnavailable
    from wildwatch.images.stage import run_ocr

    engine = make_engine(config.database_url)
    try:
        scorer = load_scorer(str(config.models_dir), config.threshold)
        return run_ocr(engine, config.data_dir, scorer, budget_seconds=budget), None
    except OcrUnavailable as exc:
        logger.error("OCR skipped: %s", exc)
        return None, str(exc)
    finally:
        engine.dispose()

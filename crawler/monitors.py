"""Crawl health: Spidermon monitors run at the end of every crawl.

A marketplace that changed its layout does not crash the crawler: it silently yields nothing,
or titles without descriptions. These monitors turn that into a failed check the next morning:

- minimum listings (the site config's `monitoring.min_listings`);
- share of detail pages missing a required field (title or description);
- errors (download, extraction, dropped, store) against a share of the pages fetched;
- finish reason (finished, or the site's page budget reached).

`RecordResults` writes each monitor's outcome into the crawl's stats (`wildwatch/monitors`), which
the store pipeline saves with the crawl run and the nightly summary prints; a failing monitor makes
`wildwatch nightly` exit non-zero once every site has been crawled.
"""
from __future__ import annotations

import logging
import warnings

from scrapy.exceptions import ScrapyDeprecationWarning
from spidermon import Monitor, MonitorSuite, monitors
from spidermon.contrib.monitors.mixins.stats import StatsMonitorMixin
from spidermon.core.actions import Action

from crawler.stats import HEALTH_PROBLEMS, MONITORS, RUN_STATS, STAT, crawl_summary

logger = logging.getLogger(__name__)
# Spidermon 1.27 logs its report through the deprecated Spider.log(); the report itself is wanted.
warnings.filterwarnings("ignore", message=r"Spider\.log\(\) is deprecated", category=ScrapyDeprecationWarning)
EXPECTED_FINISH_REASONS = ("finished", "closespider_pagecount")


def _limit(monitor: Monitor, name: str, default):
    """A limit from the site config's `monitoring` section (the default when the spider has no site)."""
    spider = monitor.data.spider
    site = getattr(spider, "site", None)
    if site is not None and hasattr(site.monitoring, name):
        return getattr(site.monitoring, name)
    return default


def _stats(monitor: Monitor) -> dict:
    """The crawl's stats; for a worker of a distributed crawl, the whole crawl's (crawler.distributed)."""
    stats = monitor.data.stats
    return stats.get(RUN_STATS) or stats


def _stat(monitor: Monitor, key: str) -> int:
    return int(_stats(monitor).get(STAT + key, 0) or 0)


class _Monitor(Monitor, StatsMonitorMixin):
    longMessage = False  # the message alone, without unittest's "x not greater than y :"


@monitors.name("listings")
class MinimumListingsMonitor(_Monitor):
    """At least the configured number of listings came out of the crawl."""

    @monitors.name("minimum listings")
    def test_minimum_listings(self):
        minimum = _limit(self, "min_listings", 1)
        listings = _stat(self, "listings_extracted") + _stat(self, "listings_resumed")
        self.assertGreaterEqual(listings, minimum, msg=(
            f"only {listings} listings (expected at least {minimum}): has the site's layout changed?"))


@monitors.name("required fields")
class RequiredFieldsMonitor(_Monitor):
    """Few detail pages lack a title (no listing at all) or a description."""

    @monitors.name("share missing title or description")
    def test_missing_required_fields(self):
        limit = _limit(self, "max_missing_share", 0.2)
        pages = _stat(self, "listings_extracted") + _stat(self, "extraction_errors")
        missing = _stat(self, "missing/title") + _stat(self, "missing/description")
        share = missing / pages if pages else 0.0
        self.assertLessEqual(share, limit, msg=(
            f"{missing} of {pages} detail pages lack a title or description ({share:.0%} > {limit:.0%}): "
            "check the field selectors"))


@monitors.name("errors")
class ErrorCountMonitor(_Monitor):
    """Errors stay below the configured count and share of pages fetched."""

    @monitors.name("error count")
    def test_error_count(self):
        summary = crawl_summary(_stats(self))
        errors, pages = summary["errors"], max(1, summary["pages"])
        share_limit = _limit(self, "max_error_share", 0.1)
        count_limit = _limit(self, "max_errors", 50)
        if not (errors <= count_limit and errors / pages <= share_limit):
            self.fail(f"{errors} errors in {summary['pages']} pages (allowed: {count_limit}, "
                      f"and at most {share_limit:.0%} of pages)")


@monitors.name("finish reason")
class FinishReasonMonitor(_Monitor):
    """The crawl ended on its own or at its page budget, not killed, cancelled or crashed."""

    @monitors.name("finish reason")
    def test_finish_reason(self):
        reason = _stats(self).get("finish_reason")
        self.assertIn(reason, EXPECTED_FINISH_REASONS, msg=(
            f"crawl ended with {reason!r} (expected {' or '.join(EXPECTED_FINISH_REASONS)})"))


class RecordResults(Action):
    """Each monitor's outcome into the crawl's stats, and an ERROR log line for each failure."""

    def run_action(self):
        stats = self.data.crawler.stats
        outcomes: dict[str, dict] = {}
        problems: list[str] = []
        for result in self.result.monitor_results:
            name = result.item.monitor_name.split("/")[0]
            ok = result.status in ("OK", "SKIPPED")
            message = "" if ok else _reason(result)
            outcomes[name] = {"ok": ok, "message": message}
            if not ok:
                problems.append(f"{name}: {message}")
                logger.error("crawl health [%s] %s failed: %s", self.data.spider.name, name, message)
        stats.set_value(MONITORS, outcomes)
        stats.set_value(STAT + "health/ok", not problems)
        stats.set_value(HEALTH_PROBLEMS, problems)


def _reason(result) -> str:
    reason = result.reason or result.error or "failed"
    return str(reason).strip().splitlines()[-1].removeprefix("AssertionError: ")


class CrawlHealthSuite(MonitorSuite):
    """The monitors every wildwatch crawl runs when it closes."""

    monitors = [MinimumListingsMonitor, RequiredFieldsMonitor, ErrorCountMonitor, FinishReasonMonitor]
    monitors_finished_actions = [RecordResults]

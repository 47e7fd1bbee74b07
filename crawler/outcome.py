"""How a crawl run ends, decided in one place from the crawl's stats and spool state.

A single-process crawl (crawler.pipelines.StorePipeline) and the last worker of a distributed crawl
(crawler.distributed.DistributedWorker) close their run with the same rules; before this module each
had its own copy and they had begun to drift. `run_outcome` is pure (no database, no Scrapy), so every
outcome is unit-tested (tests/crawler/test_run_outcome.py).

The rule that matters most: listings are marked gone only after a complete crawl. A partial crawl
(page budget, a failed result page or database write, listings still in the spool, any other stop)
saw only part of the site, and marking the rest gone would hide live listings from analysts.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from crawler.stats import STAT, STORE_FATAL, spool_pending

PAGE_BUDGET = "closespider_pagecount"
INTERRUPTED = "shutdown"  # Ctrl-C or SIGTERM
DATABASE_GONE = "the database was unavailable when the crawl ended; gone listings not marked"


@dataclass(frozen=True)
class RunOutcome:
    """What closing a crawl run writes: its status, the problem shown with it, and whether to mark gone."""

    status: str  # "succeeded", "partial" or "failed"; "running" when the run stays open to be resumed
    problem: str | None = None
    mark_gone: bool = False

    @property
    def stays_open(self) -> bool:
        """An interrupted crawl with a resume journal: the next start of the site continues this run."""
        return self.status == "running"

    def spooled(self) -> "RunOutcome":
        """The closing record kept in the spool when the database is gone at the end: it cannot mark gone
        (the replay only closes the run), so a complete crawl is recorded as partial."""
        return replace(self, status="partial" if self.status == "succeeded" else self.status,
                       problem=self.problem or DATABASE_GONE, mark_gone=False)


def run_outcome(reason: str, stats: dict, *, resumable: bool = False) -> RunOutcome:
    """The outcome of a crawl that ended for `reason` (Scrapy's finish reason) with `stats`.

    `resumable`: the crawl keeps a resume journal, so an interrupted crawl leaves its run open.
    For a distributed crawl `stats` are every worker's added up (crawler.distributed.aggregate).
    """
    pending = spool_pending(stats)
    if reason == INTERRUPTED and resumable:
        return RunOutcome("running", "interrupted; the next crawl of this site resumes this run")
    if reason == "finished" and not stats.get(STAT + "index_errors") and not pending:
        return RunOutcome("succeeded", None, mark_gone=True)
    if reason == "store_failed":
        return RunOutcome("failed", stats.get(STORE_FATAL) or "the database refused the crawl's listings")
    if reason == PAGE_BUDGET:
        return RunOutcome("partial", "page budget reached; gone listings not marked")
    if reason != "finished":
        return RunOutcome("failed", f"crawl ended: {reason}")
    if pending:
        return RunOutcome("partial", f"{pending} listings wait in the spool for the database; gone listings not marked")
    return RunOutcome("partial", "some result pages or database writes failed; gone listings not marked")

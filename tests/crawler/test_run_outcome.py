"""crawler.outcome.run_outcome: how a crawl run ends, every outcome (pure: no database, no Scrapy)."""
from __future__ import annotations

import pytest

from crawler.outcome import DATABASE_GONE, RunOutcome, run_outcome


def stats(**counts) -> dict:
    return {f"wildwatch/{key}": value for key, value in counts.items()}


def test_a_complete_crawl_succeeds_and_may_mark_gone():
    assert run_outcome("finished", stats(listings_stored=10)) == RunOutcome("succeeded", None, mark_gone=True)


def test_spooled_listings_all_replayed_still_count_as_complete():
    outcome = run_outcome("finished", stats(listings_spooled=4, listings_replayed=4))
    assert outcome.status == "succeeded" and outcome.mark_gone


@pytest.mark.parametrize("reason, counts, status, problem", [
    ("finished", {"index_errors": 2}, "partial", "some result pages or database writes failed; gone listings not marked"),
    ("finished", {"listings_spooled": 7, "listings_replayed": 2}, "partial",
     "5 listings wait in the spool for the database; gone listings not marked"),
    ("closespider_pagecount", {}, "partial", "page budget reached; gone listings not marked"),
    ("store_failed", {"store_fatal": "cannot write the spool file /x: No space left on device"}, "failed",
     "cannot write the spool file /x: No space left on device"),
    ("store_failed", {}, "failed", "the database refused the crawl's listings"),
    ("shutdown", {}, "failed", "crawl ended: shutdown"),  # no journal: nothing resumes this run
    ("cancelled", {"listings_stored": 3}, "failed", "crawl ended: cancelled"),
])
def test_every_incomplete_crawl_is_named_and_marks_nothing_gone(reason, counts, status, problem):
    outcome = run_outcome(reason, stats(**counts))
    assert (outcome.status, outcome.problem, outcome.mark_gone) == (status, problem, False)
    assert not outcome.stays_open


def test_the_page_budget_wins_over_pending_spool_and_index_errors():
    outcome = run_outcome("closespider_pagecount", stats(index_errors=1, listings_spooled=3))
    assert outcome.problem == "page budget reached; gone listings not marked"


def test_an_interrupted_crawl_with_a_journal_stays_open_to_be_resumed():
    outcome = run_outcome("shutdown", stats(listings_stored=3), resumable=True)
    assert outcome.stays_open and not outcome.mark_gone
    assert outcome.problem == "interrupted; the next crawl of this site resumes this run"
    assert not run_outcome("finished", {}, resumable=True).stays_open  # a journal alone changes nothing


def test_the_spooled_closing_record_never_claims_success_nor_marks_gone():
    spooled = run_outcome("finished", {}).spooled()
    assert (spooled.status, spooled.problem, spooled.mark_gone) == ("partial", DATABASE_GONE, False)
    budget = run_outcome("closespider_pagecount", {}).spooled()
    assert (budget.status, budget.problem) == ("partial", "page budget reached; gone listings not marked")
    assert run_outcome("cancelled", {}).spooled().status == "failed"

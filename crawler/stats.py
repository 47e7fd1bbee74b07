"""The crawl's own stats keys, and the summary a crawl run keeps of them.

Every wildwatch figure in Scrapy's stats collector sits under one prefix (`wildwatch/`), so the crawl
summary, the health monitors, the distributed workers and the CLI read the same names. Counters are
written by the component that counts them (pipelines, middlewares, the spider); this module only names
them and reads them back: `crawl_summary` is what a crawl run row, the nightly summary and the monitors show.
"""
from __future__ import annotations

from datetime import datetime, timezone

STAT = "wildwatch/"
#: Sub-prefixes counted by reason (`<prefix><reason>`), shown as dicts in the summary.
IMAGES = STAT + "images/"
JSON_REPLAY = STAT + "json_replay/"
SKIPPED = STAT + "skipped/"
REPAIRED = STAT + "repaired/"
DROPPED = STAT + "dropped/"

#: Keys more than one module reads or writes.
RUN_ID = STAT + "run_id"
RUN_STATS = STAT + "distributed/run_stats"  # a distributed worker's copy of the whole crawl's stats
MONITORS = STAT + "monitors"
HEALTH_PROBLEMS = STAT + "health/problems"
STORE_FATAL = STAT + "store_fatal"
LISTINGS_GONE = STAT + "listings_gone"
WORKER = STAT + "distributed/worker"
FINALIZER = STAT + "distributed/finalizer"
REQUEUED = STAT + "distributed/requeued"


def count(stats: dict, key: str) -> int:
    """The counter `wildwatch/<key>` (0 when it was never counted)."""
    return int(stats.get(STAT + key, 0) or 0)


def spool_pending(stats: dict) -> int:
    """Listings spooled (database refused them) and not replayed yet."""
    return max(0, count(stats, "listings_spooled") - count(stats, "listings_replayed"))


def by_reason(stats: dict, prefix: str) -> dict[str, int]:
    """Counters under `prefix`, keyed by what follows it (reasons with a zero count left out)."""
    return {key[len(prefix):]: int(value) for key, value in sorted(stats.items())
            if key.startswith(prefix) and value}


def crawl_summary(stats: dict) -> dict:
    """The figures a crawl run keeps and the nightly summary prints."""
    def get(key: str) -> int:
        return count(stats, key)

    dropped = sum(int(v) for k, v in stats.items() if k.startswith(DROPPED))
    started = stats.get("start_time")
    finished = stats.get("finish_time") or datetime.now(timezone.utc)
    seconds = (finished - started).total_seconds() if isinstance(started, datetime) else None
    errors = get("extraction_errors") + get("download_errors") + get("score_errors") + dropped \
        + get("store_errors")
    spooled, replayed = get("listings_spooled"), get("listings_replayed")
    return {
        # Pages only: listing images (crawler.images) are fetched by the same engine and counted apart.
        "pages": int(stats.get("response_received_count", 0) or 0) - get("images/responses"),
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
        "store_fatal": stats.get(STORE_FATAL) or None,
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
        "not_modified": int(stats.get("httpcache/revalidate", 0) or 0) - get("images/not_modified"),
        "render_retries": get("render_retries"),
        # JavaScript pages read from their learned JSON endpoint instead of a browser (crawler.jsonreplay),
        # with templates learned/dropped and each fallback to rendering by reason.
        "json_endpoint_listings": get("json_replay/listings"),
        "json_replay": by_reason(stats, JSON_REPLAY),
        "search_queries": get("search_queries"),
        "missing_description": get("missing/description"),
        "retries": int(stats.get("retry/count", 0) or 0),
        "backoffs": get("backoffs"),
        "robots_forbidden": int(stats.get("robotstxt/forbidden", 0) or 0),
        # Pages refused by a safety limit or a hostile-page check, and pages read despite a defect, by reason.
        "skipped": by_reason(stats, SKIPPED),
        "repaired": by_reason(stats, REPAIRED),
        "finish_reason": stats.get("finish_reason", ""),
        "seconds": round(seconds, 2) if seconds is not None else None,
        "monitors": dict(stats.get(MONITORS) or {}),
        "images": {"requested": get("images/requested"), "fetched": get("images/fetched"),
                   "not_modified": get("images/not_modified"),
                   "recorded": get("images/recorded"), "refused": by_reason(stats, IMAGES + "refused/")},
    }

"""Resuming a crawl that was killed halfway: a per-site journal under the state directory.

Scrapy's own JOBDIR keeps its request queue's index (queuelib's info.json) and its seen-requests
file in memory buffers until a clean shutdown, so after a SIGKILL, an OOM kill or a power loss
its state is stale or empty: requests that were queued are lost. This journal is written the
other way round: one line per batch of listings *after* the database committed them, handed to
the operating system at once, so whatever the journal says is stored really is stored.

A restarted crawl of the site then continues the same crawl run: it walks the index pages again
(cheap, they are revalidated through the HTTP cache), skips the detail pages whose listings the
journal holds, and counts those listings as seen tonight, so none is lost, none is stored twice,
and the gone-marking at the end covers the whole night.
"""
from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from urllib.parse import urlsplit

from crawler.extractors.discovery import canonical_url

logger = logging.getLogger(__name__)

JOURNAL_FILE = "journal.jsonl"


@dataclass
class ResumeState:
    """What an unfinished crawl of a site left: its run and the listings already stored."""

    run_id: int
    started_at: datetime
    stored: dict[str, str] = field(default_factory=dict)  # page_key(detail URL) -> listing id
    pages: int = 0

    @property
    def listing_ids(self) -> set[str]:
        return set(self.stored.values())


def page_key(url: str) -> str:
    """A detail page's key in the journal: path and query without host, port or tracking parameters,
    so a crawl resumed at another address (the demo's new port, a mirror) still recognises it."""
    parts = urlsplit(canonical_url(url))
    return parts.path + ("?" + parts.query if parts.query else "")


class CrawlJournal:
    """Append-only journal of one site's crawl in `<state_dir>/<site>/journal.jsonl`.

    Lines: a header `{"run_id", "started_at"}`, then `{"stored": [[url, id], ...], "pages": n}` per
    committed batch. Deleted when the crawl ends normally; left behind by a killed process.
    """

    def __init__(self, state_dir: Path, site: str, max_age: timedelta = timedelta(hours=24)):
        self.directory = Path(state_dir) / site
        self.path = self.directory / JOURNAL_FILE
        self.max_age = max_age
        self._handle = None

    def load(self) -> ResumeState | None:
        """The unfinished crawl to resume, or None (no journal, unreadable, or older than max_age)."""
        if not self.path.is_file():
            return None
        state: ResumeState | None = None
        try:
            with self.path.open(encoding="utf-8") as handle:
                for number, line in enumerate(handle, start=1):
                    if not line.endswith("\n"):
                        break  # the last line was cut off by the kill: everything before it holds
                    try:
                        record = json.loads(line)
                    except json.JSONDecodeError:
                        logger.warning("%s:%d: unreadable journal line ignored", self.path, number)
                        continue
                    if state is None:
                        state = ResumeState(run_id=int(record["run_id"]),
                                            started_at=datetime.fromisoformat(record["started_at"]))
                        continue
                    for url, listing_id in record.get("stored", []):
                        state.stored[url] = listing_id
                    state.pages += int(record.get("pages", 0))
        except (OSError, KeyError, TypeError, ValueError) as exc:
            logger.warning("crawl journal %s unusable, starting afresh: %s", self.path, exc)
            return None
        if state is None:
            return None
        if datetime.now(timezone.utc) - state.started_at > self.max_age:
            logger.info("crawl journal %s is from %s, older than %s: starting afresh", self.path,
                        state.started_at.isoformat(timespec="seconds"), self.max_age)
            return None
        return state

    def begin(self, run_id: int) -> None:
        """Start a new journal for `run_id` (replacing any old one)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self.close()
        self._handle = self.path.open("w", encoding="utf-8")
        self._write({"run_id": run_id, "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds")})

    def reopen(self) -> None:
        """Continue appending to the journal of a resumed crawl."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self.close()
        self._handle = self.path.open("a", encoding="utf-8")

    def record_stored(self, listings: list[tuple[str, str]], pages: int = 0) -> None:
        """Listings (url, id) the database has committed, and pages fetched since the last record."""
        if self._handle is None or not listings and not pages:
            return
        self._write({"stored": [[page_key(url), listing_id] for url, listing_id in listings], "pages": pages})

    def finish(self) -> None:
        """The crawl ended normally: nothing to resume."""
        self.close()
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def _write(self, record: dict) -> None:
        assert self._handle is not None
        self._handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._handle.flush()
        os.fsync(self._handle.fileno())  # survives a power loss too, not only a killed process

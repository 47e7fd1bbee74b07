"""The crawl's spool: listings the database refused, kept on local disk until it takes them again.

When a batch cannot be stored (the database server is unreachable, its disk is full, the file is
read-only), the store pipeline appends the batch to `<data dir>/spool/run-<run id>.jsonl`, one
listing a line. Nothing reads a spool but `replay_file`, which writes the listings to the run they
were crawled in, with the same code as the crawl (`write_items`, store.batch.write_batch). It runs:

- in the crawl itself, after the next batch the database accepts and when the spider closes;
- at the start of `wildwatch nightly`, and by hand with `wildwatch db replay-spool`.

Replay is idempotent, so a replay killed halfway, or a batch whose commit reached the server although
the client saw an error, stores nothing twice: listings are upserted by (marketplace, id), a snapshot
is added only when the content changed, and a score is skipped when the listing already has one from
that run. A listing that a later crawl run has stored since is left as that run stored it
(superseded). A spool file is removed only after every line in it is in the database.
"""
from __future__ import annotations

import fcntl
import json
import logging
import os
import re
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Callable, Iterator

from crawler.items import ListingItem

logger = logging.getLogger(__name__)

SPOOL_NAME = re.compile(r"^run-(\d+)\.jsonl$")
BATCH = 200
_ITEM_FIELDS = {f.name for f in fields(ListingItem)}


class SpoolError(RuntimeError):
    """A spool file that cannot be written or replayed (the message names the file and why)."""


def spool_path(spool_dir: Path, run_id: int) -> Path:
    return Path(spool_dir) / f"run-{run_id}.jsonl"


@contextmanager
def _locked(path: Path, mode: str) -> Iterator:
    """The file opened and exclusively locked: a crawl appending and a replay never interleave."""
    with path.open(mode, encoding="utf-8") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield handle
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def append(path: Path, items: list[ListingItem], finish: dict | None = None) -> None:
    """Add listings (and optionally the run's closing record) to a spool file; raises SpoolError.

    The lines are written in one go and flushed to disk, so a spool survives the process dying.
    """
    lines = [json.dumps({"item": asdict(item)}, ensure_ascii=False, default=str) for item in items]
    if finish is not None:
        lines.append(json.dumps({"finish": finish}, ensure_ascii=False, default=str))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with _locked(path, "a") as handle:
            handle.write("".join(line + "\n" for line in lines))
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        raise SpoolError(f"cannot write the spool file {path}: {exc.strerror or exc}") from exc


@dataclass
class SpoolContents:
    """What a spool file holds: listings in order, the run's closing record, unreadable lines."""

    items: list[ListingItem] = field(default_factory=list)
    finish: dict | None = None
    unreadable: list[str] = field(default_factory=list)  # "file:line: reason"


def parse(path: Path, text: str) -> SpoolContents:
    """Read a spool's lines; a line cut off by a kill (or garbled) is reported, the rest kept."""
    contents = SpoolContents()
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if "finish" in record:
                contents.finish = dict(record["finish"])
                continue
            data = record.get("item", record)  # older spools hold the item itself
            contents.items.append(ListingItem(**{k: v for k, v in data.items() if k in _ITEM_FIELDS}))
        except (ValueError, TypeError, AttributeError) as exc:
            contents.unreadable.append(f"{path}:{number}: {exc}")
    return contents


@dataclass
class ReplayResult:
    """One spool file's replay: what was stored, what later crawls had superseded, what failed."""

    path: Path
    run_id: int | None
    listings: int = 0
    stored: int = 0
    superseded: int = 0
    scores: int = 0
    unreadable: list[str] = field(default_factory=list)
    run_closed: bool = False
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def line(self) -> str:
        """The summary line printed by `wildwatch db replay-spool` and `wildwatch nightly`."""
        where = f"run {self.run_id}" if self.run_id is not None else "unknown run"
        if self.error:
            return f"spool {self.path.name} ({where}): NOT replayed, kept for the next try: {self.error}"
        parts = [f"{self.stored} listings stored", f"{self.scores} scores"]
        if self.superseded:
            parts.append(f"{self.superseded} superseded by a later crawl")
        if self.unreadable:
            parts.append(f"{len(self.unreadable)} unreadable lines skipped")
        if self.run_closed:
            parts.append("run closed")
        return f"spool {self.path.name} ({where}): {self.listings} listings replayed: " + ", ".join(parts)


def write_items(session, run, marketplace, items: list[ListingItem],
                model_metadata: Callable[[str], dict]) -> tuple[dict[str, int], int, list]:
    """Store crawled listings with store.batch.write_batch: the items as plain rows, their contact handles
    extracted here (CPU work, before the upsert takes the listings' locks; the store does not import the
    classifier). Returns what write_batch returns."""
    from classifier.handles import extract_row_handles
    from store.batch import write_batch

    rows = [{**item.to_dict(), "content_hash": item.content_hash()} for item in items]
    return write_batch(session, run, marketplace, rows, extract_row_handles(rows), model_metadata)


def _not_superseded(session, run, marketplace, items: list[ListingItem]) -> list[ListingItem]:
    """Items no later crawl run has stored since (their listing's last run is not newer than `run`)."""
    from store.batch import stored_since

    later = stored_since(session, run, marketplace, [item.listing_id for item in items])
    return [item for item in items if item.listing_id not in later]


def _model_metadata_from(models_dir: Path | None) -> Callable[[str], dict]:
    """Metadata of a model version from its folder (used only when the version has no row yet)."""
    def lookup(version: str) -> dict:
        if models_dir is None:
            return {}
        candidates = [Path(models_dir) / version / "metadata.json", Path(models_dir) / "metadata.json"]
        for path in candidates:
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if isinstance(data, dict) and data.get("version", version) == version:
                return data
        return {}
    return lookup


def replay_file(engine, path: Path, *, models_dir: Path | None = None,
                model_metadata: Callable[[str], dict] | None = None) -> ReplayResult:
    """Write one spool file's listings to the database and remove the file; never raises.

    The file stays locked while it is replayed; if anything fails it is kept whole (what was already
    written is written again, harmlessly, by the next replay) and the result carries the error.
    """
    from store.db import describe_error, session_scope
    from store.models import CrawlRun, Marketplace

    match = SPOOL_NAME.match(path.name)
    result = ReplayResult(path=path, run_id=int(match.group(1)) if match else None)
    if result.run_id is None:
        result.error = "not a spool file name (run-<id>.jsonl)"
        return result
    metadata = model_metadata or _model_metadata_from(models_dir)
    try:
        with _locked(path, "r+") as handle:
            contents = parse(path, handle.read())
            result.listings, result.unreadable = len(contents.items), contents.unreadable
            for start in range(0, max(len(contents.items), 1), BATCH):
                batch = contents.items[start:start + BATCH]
                with session_scope(engine) as session:
                    run = session.get(CrawlRun, result.run_id)
                    if run is None:
                        raise SpoolError(f"the database has no crawl run {result.run_id}")
                    marketplace = session.get(Marketplace, run.marketplace_id)
                    fresh = _not_superseded(session, run, marketplace, batch) if batch else []
                    ids, scores, errors = write_items(session, run, marketplace, fresh, metadata)
                    for error in errors:
                        logger.warning("spool %s: not stored: %s", path.name, error)
                    result.superseded += len(batch) - len(fresh)
                    result.stored += sum(1 for item in fresh if item.listing_id in ids)
                    result.scores += scores
                    if start + BATCH >= len(contents.items):
                        result.run_closed = _close_run(session, run, contents, result)
            for problem in contents.unreadable:
                logger.warning("spool line skipped: %s", problem)
            path.unlink()
    except FileNotFoundError:
        result.error = "the file disappeared (replayed by another process?)"
    except SpoolError as exc:
        result.error = str(exc)
    except OSError as exc:
        result.error = f"cannot read or remove it: {exc.strerror or exc}"
    except Exception as exc:  # the database refused again: keep the file for the next try
        result.error = describe_error(exc)
    (logger.error if result.error else logger.info)("%s", result.line())
    return result


def _close_run(session, run, contents: SpoolContents, result: ReplayResult) -> bool:
    """Record the replay in the run's stats; close the run when the crawl could not (its finish record)."""
    from store import repository

    closing = run.status == "running" and contents.finish is not None
    stats = dict((contents.finish or {}).get("stats") or {}) if closing else dict(run.stats or {})
    stats["replayed"] = int(stats.get("replayed", 0) or 0) + result.listings
    stats["spool_pending"] = 0
    if closing:
        finish = contents.finish or {}
        repository.finish_run(session, run, finish.get("status") or "partial", stats, error=finish.get("error"))
    else:
        run.stats = stats
    return closing


def pending_files(spool_dir: Path) -> list[Path]:
    """Spool files waiting for replay, oldest run first."""
    spool_dir = Path(spool_dir)
    if not spool_dir.is_dir():
        return []
    files = [p for p in spool_dir.iterdir() if SPOOL_NAME.match(p.name)]
    return sorted(files, key=lambda p: int(SPOOL_NAME.match(p.name).group(1)))


def replay_all(database_url: str, spool_dir: Path, models_dir: Path | None = None) -> list[ReplayResult]:
    """Replay every spool file in `spool_dir` (oldest run first); one result per file."""
    files = pending_files(spool_dir)
    if not files:
        return []
    from store.db import make_engine

    engine = make_engine(database_url)
    try:
        return [replay_file(engine, path, models_dir=models_dir) for path in files]
    finally:
        engine.dispose()

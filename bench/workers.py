"""Distributed crawl: pages per second with 1, 2 and 3 worker processes sharing one crawl through Redis.

The shop answers every request after a fixed delay (like a remote marketplace's latency), so one
worker is bound by its per-site concurrency and waiting, not by the two cores: more workers mean
more requests in flight, which is what distributing a crawl buys. Static pages only (no Chromium).

Each run is real: `wildwatch crawl demo --workers redis://... --base-url ...` processes, a fresh
PostgreSQL database, a fresh Redis key prefix. Workers start at different speeds (imports, model
load), so the shop holds every request at a gate until all of a run's workers have joined the
crawl in Redis; the rate is the pages the shop answered divided by the time from opening the gate
to its last answer. The baseline is the single worker, measured in the same stage.
"""
from __future__ import annotations

import subprocess
import sys
import threading
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

from bench.catalog import write_catalog
from bench.results import Figure, StageResult
from bench.runs import child_env
from wildwatch.config import PROJECT_ROOT
from wildwatch.demo.server import DemoMarketplace

__all__ = ["GatedShop", "run"]

STAGE = "workers"


class GatedShop(DemoMarketplace):
    """The Demo Bazaar with a gate: requests wait until `open()`; records when the last answer left."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.gate = threading.Event()
        self.opened_at: float | None = None
        self.last_answer_at: float | None = None

    def open(self) -> None:
        self.opened_at = time.perf_counter()
        self.gate.set()

    def _pause(self) -> None:
        self.gate.wait(timeout=300)
        super()._pause()
        self.last_answer_at = time.perf_counter()

    def pages(self) -> int:
        return sum(n for path, n in self.hits.items() if path != "/robots.txt")


def _workers_joined(client, prefix: str) -> int:
    return int(client.scard(f"{prefix}:workers"))


def _one_run(workdir: Path, models_dir: Path, catalog: Path, workers: int, delay: float, redis_url: str,
             db_url: str, timeout: float) -> dict:
    import redis

    from store import db

    db.upgrade(db_url)
    prefix = f"wildwatch-bench:{uuid.uuid4().hex[:10]}"
    client = redis.Redis.from_url(redis_url)
    procs: list[subprocess.Popen] = []
    try:
        with GatedShop(catalog_path=catalog, delay=delay) as shop:
            for n in range(workers):
                data = workdir / f"w{workers}-{n}"
                data.mkdir(parents=True, exist_ok=True)
                env = child_env(WILDWATCH_DATA_DIR=data, WILDWATCH_DATABASE_URL=db_url, WILDWATCH_MODELS_DIR=models_dir)
                log = (data / "worker.out").open("w")
                procs.append(subprocess.Popen(
                    [sys.executable, "-m", "wildwatch", "crawl", "demo", "--workers", redis_url, "--redis-prefix",
                     prefix, "--base-url", shop.base_url], env=env, cwd=PROJECT_ROOT, stdout=log,
                    stderr=subprocess.STDOUT))
            deadline = time.monotonic() + timeout
            while _workers_joined(client, prefix) < workers:
                if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                    raise RuntimeError(f"{workers} workers did not all join the crawl: "
                                       + _tail(workdir / f"w{workers}-0" / "worker.out"))
                time.sleep(0.1)
            shop.open()
            for proc in procs:
                proc.wait(timeout=max(1.0, deadline - time.monotonic()))
            failed = [p.returncode for p in procs if p.returncode != 0]
            if failed:
                raise RuntimeError(f"worker exit codes {failed}: " + _tail(workdir / f"w{workers}-0" / "worker.out"))
            span = (shop.last_answer_at or shop.opened_at) - shop.opened_at
            pages = shop.pages()
        from sqlalchemy import create_engine, select

        from store.models import CrawlRun

        engine = create_engine(db_url)
        try:
            with engine.connect() as conn:
                run = conn.execute(select(CrawlRun).order_by(CrawlRun.id.desc())).first()
        finally:
            engine.dispose()
        per_worker = sorted(w["pages"] for w in (run.stats.get("workers") or {}).values())
        return {"workers": workers, "pages": pages, "seconds": span, "pages_per_second": pages / span if span else 0.0,
                "pages_per_worker": per_worker, "stored": run.stats.get("stored"), "status": run.status,
                "leftover_keys": len(list(client.scan_iter(match=f"{prefix}:*")))}
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
        for key in client.scan_iter(match=f"{prefix}:*"):
            client.delete(key)
        client.close()


def _tail(path: Path) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-5:])
    except OSError:
        return "(no output)"


def unavailable_reason(redis_url: str) -> str | None:
    """Why the stage cannot run here (no Redis, no PostgreSQL), or None."""
    from store.testing import postgres_unavailable_reason, redis_unavailable_reason

    return redis_unavailable_reason(redis_url) or postgres_unavailable_reason()


def run(workdir: Path, models_dir: Path, listings: int, *, worker_counts: tuple[int, ...] = (1, 2, 3),
        delay: float = 0.5, redis_url: str | None = None, timeout: float = 900) -> StageResult:
    from store.testing import redis_test_url, temporary_postgres_database

    result = StageResult(STAGE)
    redis_url = redis_url or redis_test_url()
    reason = unavailable_reason(redis_url)
    if reason:
        result.skipped = reason
        return result
    catalog = write_catalog(workdir / "workers-catalog.jsonl", listings)
    runs = []
    for count in worker_counts:
        with ExitStack() as stack:
            db_url = stack.enter_context(temporary_postgres_database())
            runs.append(_one_run(workdir, models_dir, catalog, count, delay, redis_url, db_url, timeout))
    base = runs[0]
    for run_ in runs:
        result.figures.append(Figure(
            STAGE, f"{run_['workers']} worker{'s' if run_['workers'] > 1 else ''}, pages/s",
            run_["pages_per_second"], "pages/s", f"{base['workers']} worker", base["pages_per_second"],
            note=f"ideal {run_['workers'] / base['workers']:.0f}×; pages per worker {run_['pages_per_worker']}",
        ))
    result.details = {"listings": listings, "delay_seconds": delay, "runs": runs}
    result.notes.append(
        f"{listings} listings, every answer delayed {delay} s, 8 requests per worker at a time (the demo site's "
        "politeness); rate = pages the shop answered / (last answer - gate opened once all workers joined); "
        "ratio = scaling against one worker (ideal: the number of workers)")
    return result

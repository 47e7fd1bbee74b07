"""Run every stage (or some), print the table, write JSON and Markdown: ``wildwatch bench [--quick]``.

Quick mode runs every stage's code path on small inputs (under five minutes on
two cores); the full run uses the sizes the goals name (under thirty).  A stage
that cannot run here (no Chromium, no PostgreSQL, no review app) is reported
with the reason and the others still run.
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one core per scoring process, before numpy is imported

import logging
import shutil
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from bench.results import Report, StageResult
from wildwatch.config import Settings

__all__ = ["STAGES", "Sizes", "QUICK", "FULL", "run_bench"]

log = logging.getLogger(__name__)

STAGES = ("classifier", "crawl", "rendering", "storage", "memory", "review", "workers", "extraction")


@dataclass(frozen=True)
class Sizes:
    classifier_listings: int
    classifier_repeats: int
    crawl_listings: int
    crawl_repeats: int
    crawl_variants: tuple[str, ...] | None  # None: every variant
    crawl_profile: bool
    render_pages: int
    render_configs: tuple[str, ...] | None  # None: every configuration
    storage_rows: int
    storage_batches: tuple[int, ...]
    storage_repeats: int
    memory_nights: tuple[int, ...]
    review_listings: int
    review_requests_per_client: int
    review_clients: int = 20
    review_seconds: float = 120.0  # clients stop asking after this long (slow pages would otherwise take hours)
    workers_listings: int = 300
    workers_counts: tuple[int, ...] = (1, 2, 3)
    workers_delay: float = 0.5  # seconds the shop waits before each answer (a remote site's latency)
    replay_listings: int = 0  # JavaScript-only listings for the JSON-replay figure (0: render_pages)


QUICK = Sizes(
    classifier_listings=2000, classifier_repeats=2,
    crawl_listings=600, crawl_repeats=1, crawl_variants=("full pipeline (+ store, SQLite)",), crawl_profile=False,
    render_pages=16, render_configs=("library defaults (8 per domain, 1 context, nothing blocked)",
                                     "8 per domain, blocked, DOMContentLoaded"),
    storage_rows=2000, storage_batches=(100, 500), storage_repeats=1,
    memory_nights=(300, 1200),
    review_listings=3000, review_requests_per_client=4, review_seconds=30,
    workers_listings=100, replay_listings=100,
)
FULL = Sizes(
    classifier_listings=8000, classifier_repeats=3,
    crawl_listings=3000, crawl_repeats=2, crawl_variants=None, crawl_profile=True,
    render_pages=64, render_configs=None,
    storage_rows=10000, storage_batches=(100, 1000), storage_repeats=2,
    memory_nights=(1000, 5000, 20000),
    review_listings=100_000, review_requests_per_client=20, review_seconds=150,
    workers_listings=600, replay_listings=400,
)


def _stage(name: str, action: Callable[[], StageResult]) -> StageResult:
    began = time.perf_counter()
    try:
        result = action()
    except Exception as exc:  # noqa: BLE001 - one stage failing must not lose the others' figures
        log.debug("stage %s failed", name, exc_info=True)
        result = StageResult(name, error=f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1][:300] if str(exc).strip() else ''}")
        result.details["traceback"] = traceback.format_exc(limit=6)
    result.seconds = time.perf_counter() - began
    return result


def run_bench(*, quick: bool, out_dir: Path, only: list[str] | None = None, models_dir: Path | None = None,
              train: bool = False, sizes: Sizes | None = None, keep: bool = False,
              progress: Callable[[str], None] = lambda line: None, command: str = "",
              zyte: Path | None = None) -> Report:
    """Run the chosen stages and write the report under ``out_dir``; returns the report.

    ``zyte``: the Zyte product-extraction benchmark for the extraction stage (else $WILDWATCH_ZYTE_BENCH);
    without it that stage is reported as skipped, with where to get it."""
    from bench import classify, crawl, extraction, memory, render, review_app, storage, workers
    from bench.model import bench_model

    chosen = list(only or STAGES)
    unknown = [s for s in chosen if s not in STAGES]
    if unknown:
        raise ValueError(f"unknown stage(s) {', '.join(unknown)}: choose from {', '.join(STAGES)}")
    sizes = sizes or (QUICK if quick else FULL)
    report = Report(mode="quick" if quick else "full", command=command or " ".join(sys.argv))
    began = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="wildwatch-bench-"))
    try:
        model = None
        if {"classifier", "crawl", "memory", "workers", "extraction"} & set(chosen):
            progress("model: checking the active model")
            model = bench_model(models_dir, workdir, train_always=train)
            progress(f"model: {model.note}")

        def classifier_stage() -> StageResult:
            from classifier.scorer import Scorer

            scorer = Scorer.load(model.models_dir)
            result = classify.run(scorer, classify.make_listings(sizes.classifier_listings),
                                  repeats=sizes.classifier_repeats)
            result.notes.insert(0, model.note)
            return result

        actions: dict[str, Callable[[], StageResult]] = {
            "classifier": classifier_stage,
            "crawl": lambda: crawl.run(workdir / "crawl", model.models_dir, sizes.crawl_listings,
                                       repeats=sizes.crawl_repeats, profile=sizes.crawl_profile,
                                       variants=list(sizes.crawl_variants) if sizes.crawl_variants else None),
            "rendering": lambda: render.run(workdir / "render", sizes.render_pages,
                                            configs=list(sizes.render_configs) if sizes.render_configs else None,
                                            chromium=Settings.from_env().chromium_path,
                                            replay_listings=sizes.replay_listings or sizes.render_pages),
            "storage": lambda: storage.run(workdir / "storage", sizes.storage_rows, batch_sizes=sizes.storage_batches,
                                           repeats=sizes.storage_repeats),
            "memory": lambda: memory.run(workdir / "memory", model.models_dir, list(sizes.memory_nights)),
            "review": lambda: review_app.run(workdir / "review", sizes.review_listings, clients=sizes.review_clients,
                                             requests_per_client=sizes.review_requests_per_client,
                                             max_seconds=sizes.review_seconds),
            "workers": lambda: workers.run(workdir / "workers", model.models_dir, sizes.workers_listings,
                                           worker_counts=sizes.workers_counts, delay=sizes.workers_delay),
            "extraction": lambda: extraction.run_or_skip(zyte, model.models_dir, workdir / "extraction"),
        }
        for name in chosen:
            progress(f"{name}: running")
            (workdir / name).mkdir(parents=True, exist_ok=True)
            result = _stage(name, actions[name])
            report.stages.append(result)
            report.seconds = time.perf_counter() - began
            report.write(out_dir)  # after every stage: an interrupted run keeps what it measured
            state = f"failed: {result.error}" if result.error else f"{len(result.figures)} figures"
            progress(f"{name}: {state} ({result.seconds:.0f} s)")
    finally:
        if keep:
            progress(f"work files kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    report.seconds = time.perf_counter() - began
    try:
        report.machine["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        pass
    report.write(out_dir)
    return report

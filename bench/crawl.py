"""Crawl overhead: wildwatch's full crawl pipeline against a bare Scrapy spider on the same local pages.

One synthetic Demo Bazaar of static pages (JSON-LD and plain HTML detail
pages, no delay) is served on 127.0.0.1 for the whole stage.  Each run is a
fresh process and, for wildwatch, a fresh SQLite database, so every listing is
new (the nightly job's heaviest case).  Runs alternate bare / wildwatch so a
noisy minute hurts both; the best run of each is compared.  Intermediate runs
(spider only, + scoring) show which stage costs what.
"""
from __future__ import annotations

import time
from pathlib import Path

from bench.catalog import write_catalog
from bench.results import Figure, StageResult
from bench.runs import child_env, run_child
from wildwatch.config import SITES_DIR

__all__ = ["run", "VARIANTS"]

STAGE = "crawl"
ALL = ["NormalisePipeline", "ValidatePipeline", "DeduplicatePipeline", "ScorePipeline", "StorePipeline"]
# name -> item pipelines kept (None = the project's settings untouched)
PLAIN_HANDLER = "spider + extraction, Scrapy's own HTTP handler"
VARIANTS: dict[str, list[str] | None] = {
    "spider + extraction, no pipelines": [],
    PLAIN_HANDLER: [],
    "+ normalise, validate, deduplicate, score": ALL[:4],
    "full pipeline (+ store, SQLite)": None,
    "full pipeline + listing images": None,
}
# Settings a variant changes besides its pipelines: plain pages without scrapy-playwright's download handler.
_HTTP11 = "scrapy.core.downloader.handlers.http11.HTTP11DownloadHandler"
FULL = "full pipeline (+ store, SQLite)"
IMAGES = "full pipeline + listing images"
# The full pipeline is measured without listing images (as before they existed), and again with them
# (crawler.images): the page rate with images on should stay the page rate with images off.
VARIANT_SETTINGS: dict[str, dict] = {PLAIN_HANDLER: {"DOWNLOAD_HANDLERS": {"http": _HTTP11, "https": _HTTP11}},
                                     FULL: {"WILDWATCH_IMAGES": False}, IMAGES: {"WILDWATCH_IMAGES": True}}


def _rate(run: dict) -> float:
    """Steady pages/s (first to last response); Scrapy's start-to-finish rate when that is missing."""
    steady = run.get("steady_pages_per_second")
    if steady:
        return steady
    return run["pages"] / run["seconds"] if run.get("seconds") else 0.0


def run(workdir: Path, models_dir: Path, listings: int, *, repeats: int = 1, variants: list[str] | None = None,
        profile: bool = False, site_config: Path = SITES_DIR / "demo.yaml") -> StageResult:
    from wildwatch.demo.server import DemoMarketplace

    result = StageResult(STAGE)
    variants = variants if variants is not None else list(VARIANTS)
    for always in (FULL, IMAGES):
        if always not in variants:
            variants.append(always)
    catalog = write_catalog(workdir / "crawl-catalog.jsonl", listings)
    runs: dict[str, list[dict]] = {"bare": [], **{v: [] for v in variants}}
    # Without the corner of broken pages: the bare baseline spider has no guards (its endless "next" chain
    # would never end), and the stage measures steady crawling, not hostile pages (docs/reliability.md).
    with DemoMarketplace(catalog_path=catalog, night=1, broken_pages=False) as shop:
        base = {"site_config": str(site_config), "base_url": shop.base_url}
        for attempt in range(repeats):
            order = ["bare", *variants] if attempt % 2 == 0 else [*variants, "bare"]
            for name in order:
                data = workdir / f"crawl-{attempt}-{len(runs[name])}-{int(time.time() * 1000)}"
                env = child_env(WILDWATCH_DATA_DIR=data, WILDWATCH_DATABASE_URL=f"sqlite:///{data / 'bench.db'}",
                                WILDWATCH_MODELS_DIR=models_dir)
                clock = str(data / "clock.json")
                data.mkdir(parents=True, exist_ok=True)
                if name == "bare":
                    spec = {"kind": "bare", **base, "clock_file": clock}
                else:
                    spec = {"kind": "pipeline", **base, "clock_file": clock}
                    if VARIANTS.get(name) is not None:
                        spec["pipelines"] = VARIANTS[name]
                    if name in VARIANT_SETTINGS:
                        spec["settings"] = VARIANT_SETTINGS[name]
                runs[name].append(run_child(spec, workdir / "specs", env))
        if profile:
            data = workdir / "crawl-profile"
            env = child_env(WILDWATCH_DATA_DIR=data, WILDWATCH_DATABASE_URL=f"sqlite:///{data / 'bench.db'}",
                            WILDWATCH_MODELS_DIR=models_dir)
            profiled = run_child({"kind": "pipeline", **base, "profile": True}, workdir / "specs", env)
            result.details["profile"] = profiled.get("profile", [])
            result.details["profile_what"] = "cProfile of one full-pipeline crawl (own time per function)"

    best = {name: max(rs, key=_rate) for name, rs in runs.items()}
    bare = best["bare"]
    bare_rate, bare_cpu = _rate(bare), 1000 * bare["cpu_seconds"] / max(bare["pages"], 1)
    for name in variants:
        if name == IMAGES:
            continue  # compared with the full pipeline without images, below
        run_ = best[name]
        is_full = name == FULL
        result.figures.append(Figure(
            STAGE, f"{name}, pages/s", _rate(run_), "pages/s", "bare Scrapy spider", bare_rate,
            goal="≥ 90% of bare" if is_full else None, goal_ratio=0.90 if is_full else None, goal_op=">=",
        ))
        if name != FULL:  # each part's CPU: what the pipeline steps up to this variant cost per page
            result.figures.append(Figure(
                STAGE, f"{name}, crawler CPU per page", 1000 * run_["cpu_seconds"] / max(run_["pages"], 1), "ms",
                "bare Scrapy spider", bare_cpu,
            ))
    full = best[FULL]
    with_images = best[IMAGES]
    result.figures.append(Figure(
        STAGE, "full pipeline + listing images, pages/s", _rate(with_images), "pages/s",
        "full pipeline, images off", _rate(full), goal="≥ 90% of images off", goal_ratio=0.9, goal_op=">=",
        note=f"{(with_images.get('clock') or {}).get('image_responses', 0)} images fetched after the pages; "
             f"whole crawl {with_images.get('seconds')} s with images, {full.get('seconds')} s without",
    ))
    result.figures.append(Figure(
        STAGE, "full pipeline, crawler CPU per page", 1000 * full["cpu_seconds"] / max(full["pages"], 1), "ms",
        "bare Scrapy spider", bare_cpu,
        note="CPU time of the crawling process; independent of the server's speed",
    ))
    server_share = bare["parent_cpu_seconds"] / max(bare.get("process_seconds") or 1e-9, 1e-9)
    result.details = {
        **result.details,
        "listings": listings,
        "repeats": repeats,
        "runs": {name: [{k: v for k, v in r.items() if k != "profile"} for r in rs] for name, rs in runs.items()},
        "server_cpu_share_during_bare_run": round(server_share, 2),
    }
    result.notes.append(
        f"{listings} listings ({bare['pages']} pages); pages/s is the steady rate between the first and the last "
        f"response; bare spider latency {bare.get('latency_ms')}; the demo server used {server_share:.0%} of a core while "
        "the bare spider ran: near 100% means the server, not the crawler, sets the bare rate"
    )
    if full.get("stored", 0) < full.get("items", 0):
        result.notes.append(f"full pipeline stored {full.get('stored')} of {full.get('items')} listings")
    return result

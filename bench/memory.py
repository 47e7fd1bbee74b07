"""Memory and growth: peak RSS and time per listing of a real nightly run as the night grows.

Each size is one ``wildwatch.nightly.run_nightly`` in a fresh process, over
four synthetic marketplaces of static pages served on 127.0.0.1 (a night
crawls several marketplaces at once; the demo shop holds at most 9,999
listings per site), into a fresh SQLite database, exporting the flagged
listings at the end.  The floor is the same process's RSS after loading the
model, before crawling.  JavaScript pages are left out: Chromium runs in its
own processes, and rendering 20k pages is the rendering stage's question.
"""
from __future__ import annotations

import math
from contextlib import ExitStack
from pathlib import Path

import yaml

from bench.catalog import write_catalog
from bench.results import Figure, StageResult
from bench.runs import child_env, run_child
from wildwatch.config import SITES_DIR

__all__ = ["run", "SITES_PER_NIGHT", "write_sites"]

STAGE = "memory"
SITES_PER_NIGHT = 4
PEAK_GOAL_MB = 300
FLAT_TOLERANCE = 1.25  # time per listing may vary this much between night sizes and still count as flat


def write_sites(sites_dir: Path, base_urls: list[str], template: Path = SITES_DIR / "demo.yaml") -> list[Path]:
    """One site config per base URL, copied from the demo site's config (not marked demo)."""
    config = yaml.safe_load(template.read_text(encoding="utf-8"))
    sites_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for n, url in enumerate(base_urls, start=1):
        site = {**config, "name": f"bench{n}", "description": "wildwatch bench marketplace", "base_url": url,
                "demo": False}
        path = sites_dir / f"bench{n}.yaml"
        path.write_text(yaml.safe_dump(site, allow_unicode=True, sort_keys=False), encoding="utf-8")
        paths.append(path)
    return paths


def _night(workdir: Path, models_dir: Path, listings: int) -> dict:
    from wildwatch.demo.server import DemoMarketplace

    night_dir = workdir / f"night-{listings}"
    per_site = math.ceil(listings / SITES_PER_NIGHT)
    with ExitStack() as stack:
        urls = []
        for n in range(SITES_PER_NIGHT):
            count = min(per_site, listings - n * per_site)
            if count <= 0:
                break
            catalog = write_catalog(night_dir / f"catalog-{n + 1}.jsonl", count)
            urls.append(stack.enter_context(DemoMarketplace(catalog_path=catalog, night=1)).base_url)
        write_sites(night_dir / "sites", urls)
        data = night_dir / "data"
        env = child_env(WILDWATCH_DATA_DIR=data, WILDWATCH_DATABASE_URL=f"sqlite:///{data / 'wildwatch.db'}",
                        WILDWATCH_MODELS_DIR=models_dir, WILDWATCH_SITES_DIR=night_dir / "sites")
        result = run_child({"kind": "nightly"}, workdir / "specs", env, timeout=3600)
    result["sites"] = len(urls)
    return result


def run(workdir: Path, models_dir: Path, sizes: list[int]) -> StageResult:
    result = StageResult(STAGE)
    nights = {size: _night(workdir, models_dir, size) for size in sorted(sizes)}
    smallest = min(nights)
    first = nights[smallest]
    per_listing = lambda n: 1000 * n["seconds"] / max(n["listings"], 1)  # noqa: E731 - ms per listing
    for size, night in nights.items():
        is_goal = size == max(nights) and size >= 20_000
        result.figures.append(Figure(
            STAGE, f"{size:,}-listing night, peak RSS", night["peak_rss_mb"], "MB",
            "same process after loading the model", night["floor_rss_mb"],
            goal=f"< {PEAK_GOAL_MB} MB at 20k" if is_goal else None,
            goal_value=PEAK_GOAL_MB if is_goal else None, goal_value_op="<=",
        ))
    sizes_sorted = sorted(nights)
    segments = []  # marginal ms per listing between consecutive night sizes: the cost that grows with the night
    for a, b in zip(sizes_sorted, sizes_sorted[1:]):
        na, nb = nights[a], nights[b]
        extra = max(nb["listings"] - na["listings"], 1)
        segments.append((a, b, 1000 * (nb["seconds"] - na["seconds"]) / extra,
                         1024 * (nb["peak_rss_mb"] - na["peak_rss_mb"]) / extra))
    for a, b, ms, kb in segments:
        first_segment = segments[0]
        is_later = (a, b) != first_segment[:2]
        result.figures.append(Figure(
            STAGE, f"time per extra listing, {a:,} → {b:,}", ms, "ms",
            f"{first_segment[0]:,} → {first_segment[1]:,}" if is_later else None,
            first_segment[2] if is_later else None,
            goal=f"flat (≤ {FLAT_TOLERANCE}×)" if is_later else None,
            goal_ratio=FLAT_TOLERANCE if is_later else None, goal_op="<=",
            note="(night time difference) / (listing difference): the per-listing cost without start-up",
        ))
        result.figures.append(Figure(STAGE, f"memory per extra listing, {a:,} → {b:,}", kb, "KB",
                                     note="(peak RSS difference) / (listing difference)"))
    if segments:
        a, _, ms, _ = segments[0]
        fixed = nights[a]["seconds"] - ms * nights[a]["listings"] / 1000
        result.notes.append(f"fixed cost of a night (start-up, idle close, export), from the smallest two nights: "
                            f"{fixed:.1f} s; per-listing time at {a:,}: {per_listing(nights[a]):.1f} ms including it")
    result.details = {"sites_per_night": SITES_PER_NIGHT, "nights": {str(k): v for k, v in nights.items()}}
    bad = {size: n for size, n in nights.items() if n["stored"] < n["listings"] or not n.get("ok")}
    for size, night in bad.items():
        result.notes.append(f"{size}-listing night: stored {night['stored']} of {night['listings']}, "
                            f"errors {night['errors']}, ok={night.get('ok')}")
    result.notes.append("nights of " + ", ".join(
        f"{size:,} ({n['listings']:,} listings, {n['pages']:,} pages, {n['seconds']:.0f} s)" for size, n in nights.items()
    ) + f"; {SITES_PER_NIGHT} marketplaces crawled at once; static pages; fresh SQLite database each")
    return result

"""Rendering: JavaScript pages per second through scrapy-playwright, default settings against tuned ones.

Every configuration renders the same JavaScript detail pages of a synthetic
Demo Bazaar (the page loads app.js, which fetches the listing from the JSON
API and draws it; each page also shows several images) and waits for the
listing title, as the marketplace spider does.  "library defaults" is
Scrapy + scrapy-playwright out of the box; "wildwatch as shipped" is
crawler/settings.py with the demo site's concurrency; the rest vary one
knob at a time: concurrency, browser contexts, blocking images/fonts/media,
and when navigation counts as done.

The last figure is the crawl itself: JavaScript-only listings read through each template's learned JSON
endpoint (crawler.jsonreplay) against the same crawl rendering every page, in the same run.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.catalog import write_catalog
from bench.results import Figure, StageResult
from bench.runs import child_env, run_child

__all__ = ["run", "CONFIGS", "QUICK_CONFIGS"]

STAGE = "rendering"
ABORT = "crawler.browser.should_abort_request"
DEFAULT = "library defaults (8 per domain, 1 context, nothing blocked)"
SHIPPED = "wildwatch as shipped (8 per domain, 4 pages/context, images/fonts/media blocked)"


def _config(concurrency: int, *, abort: bool = False, contexts: int = 1, pages_per_context: int | None = None,
            wait_until: str | None = None) -> dict[str, Any]:
    settings: dict[str, Any] = {"CONCURRENT_REQUESTS": max(16, concurrency), "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency}
    if pages_per_context:
        settings["PLAYWRIGHT_MAX_PAGES_PER_CONTEXT"] = pages_per_context
    return {"settings": settings, "abort": ABORT if abort else None, "contexts": contexts, "wait_until": wait_until}


CONFIGS: dict[str, dict[str, Any]] = {
    DEFAULT: _config(8),
    SHIPPED: _config(8, abort=True, pages_per_context=4),
    "8 per domain, blocked": _config(8, abort=True),
    "16 per domain, blocked": _config(16, abort=True),
    "16 per domain, blocked, 4 contexts": _config(16, abort=True, contexts=4),
    "16 per domain, blocked, DOMContentLoaded": _config(16, abort=True, wait_until="domcontentloaded"),
    "8 per domain, blocked, DOMContentLoaded": _config(8, abort=True, wait_until="domcontentloaded"),
}
QUICK_CONFIGS = [DEFAULT, SHIPPED, "8 per domain, blocked, DOMContentLoaded"]


def _rate(run: dict) -> float:
    return run["pages"] / run["seconds"] if run.get("seconds") else 0.0


def run(workdir: Path, pages: int, *, configs: list[str] | None = None, chromium: str | None = None,
        replay_listings: int | None = None) -> StageResult:
    from crawler.browser import resolve_chromium
    from wildwatch.demo.server import DemoMarketplace

    result = StageResult(STAGE)
    resolve_chromium(chromium)  # no browser: fail the stage with the install hint
    names = configs or list(CONFIGS)
    if DEFAULT not in names:
        names.insert(0, DEFAULT)
    catalog = write_catalog(workdir / "render-catalog.jsonl", pages, styles=("js",))
    runs: dict[str, dict] = {}
    with DemoMarketplace(catalog_path=catalog, night=1) as shop:
        urls = shop.detail_urls()
        for name in names:
            spec = {"kind": "render", "urls": urls, "wait_for": ".listing-title", "chromium": chromium,
                    **CONFIGS[name]}
            runs[name] = run_child(spec, workdir / "specs", child_env(), timeout=900)
    default_rate = _rate(runs[DEFAULT])
    best_name = max(runs, key=lambda n: _rate(runs[n]))
    for name in names:
        if name == DEFAULT:
            continue
        result.figures.append(Figure(STAGE, f"{name}, pages/s", _rate(runs[name]), "pages/s", "library defaults",
                                     default_rate))
    result.figures.append(Figure(STAGE, f"best found: {best_name}", _rate(runs[best_name]), "pages/s",
                                 "library defaults", default_rate, goal="≥ 2× defaults", goal_ratio=2.0))
    replay = json_replay_figure(workdir, urls_count=replay_listings or pages, chromium=chromium)
    result.figures.append(replay.pop("figure"))
    failed = {n: r["failed"] for n, r in runs.items() if r.get("failed")}
    result.details = {"pages": pages, "best": best_name, "runs": runs, "configs": {n: CONFIGS[n] for n in names}}
    result.notes.append(
        f"{pages} JavaScript pages per configuration, one browser per run (launch included); "
        f"browser requests per page: defaults {runs[DEFAULT]['requests'] / max(pages, 1):.1f}, "
        f"best {runs[best_name]['requests'] / max(pages, 1):.1f} ({runs[best_name]['aborted']} aborted)"
    )
    result.notes.append(replay.pop("note"))
    result.details["json_replay"] = replay
    if failed:
        result.notes.append(f"pages that did not render: {failed}")
    return result


REPLAY_NAME = "JavaScript-only listings, wildwatch crawl with learned JSON endpoints (crawler.jsonreplay), listings/s"
REPLAY_BASELINE = "same crawl rendering each page"


def json_replay_figure(workdir: Path, urls_count: int, chromium: str | None = None) -> dict:
    """The marketplace spider over a Demo Bazaar whose detail pages are all JavaScript pages, twice in this
    run: rendering each page in Chromium (WILDWATCH_JSON_REPLAY off) and with each page template's JSON
    endpoint learned from recorded renders and replayed with plain HTTP. Listings per second of crawl
    time, the browser launch and the index pages included in both; the extracted fields of the two runs
    are compared too (a difference is reported, not hidden)."""
    from wildwatch.demo.server import DemoMarketplace

    site_config = Path(__file__).resolve().parents[1] / "crawler" / "sites" / "demo.yaml"
    catalog = write_catalog(workdir / "replay-catalog.jsonl", urls_count, styles=("js",))
    env = child_env(**({"WILDWATCH_CHROMIUM": chromium} if chromium else {}))
    runs = {}
    with DemoMarketplace(catalog_path=catalog, night=1, broken_pages=False) as shop:
        for replay in (False, True):
            spec = {"kind": "spider", "site_config": str(site_config), "base_url": shop.base_url,
                    "state_dir": str(workdir / f"replay-state-{replay}"), "settings": {"WILDWATCH_JSON_REPLAY": replay}}
            runs[replay] = run_child(spec, workdir / "specs", env, timeout=1800)
    rates = {k: (len(r["items"]) / r["seconds"] if r.get("seconds") else 0.0) for k, r in runs.items()}
    compared = ("listing_id", "title", "description", "price", "price_text", "seller_id", "seller_name", "seller_url",
                "location", "images", "posted_at", "category", "url")
    rendered = {i["listing_id"]: i for i in runs[False]["items"]}
    different = [i["listing_id"] for i in runs[True]["items"]
                 if {f: i[f] for f in compared} != {f: rendered.get(i["listing_id"], {}).get(f) for f in compared}]
    stats = runs[True]["stats"]
    via_json = stats.get("wildwatch/json_replay/listings", 0)
    figure = Figure(STAGE, REPLAY_NAME, rates[True], "listings/s", REPLAY_BASELINE, rates[False],
                    goal="≥ 5× rendering each", goal_ratio=5.0)
    note = (f"JSON replay: {len(runs[True]['items'])} JavaScript-only Demo Bazaar listings (synthetic demo data), "
            f"{via_json} read from the learned endpoint, {stats.get('wildwatch/rendered_pages', 0)} rendered "
            f"(to learn and confirm the template, and fallbacks: "
            f"{ {k.rsplit('/', 1)[-1]: v for k, v in stats.items() if '/json_replay/fallback/' in k} or 'none'}); "
            f"{len(different)} listings with fields different from rendering; "
            f"crawl {runs[True]['seconds']:.1f} s vs {runs[False]['seconds']:.1f} s rendering each")
    return {"figure": figure, "note": note, "listings": len(runs[True]["items"]), "via_json": via_json,
            "different": different[:20], "seconds": {"replay": runs[True]["seconds"], "render": runs[False]["seconds"]},
            "rendered_pages": stats.get("wildwatch/rendered_pages", 0)}

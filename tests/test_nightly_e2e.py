"""The whole night, for real: the demo marketplace on 127.0.0.1, Scrapy, a real Chromium for the
JavaScript pages, the classifier, the database through Alembic (SQLite, and PostgreSQL in the second
pass of `make test`), and the export file at the end."""
from __future__ import annotations

import shutil

import pandas as pd
import pytest
from sqlalchemy import create_engine, func, select

from conftest import database_url_for, run_cli, wildwatch_env
from store.db import redact
from crawler.browser import BrowserNotFoundError, resolve_chromium
from store.models import CrawlRun, Listing, ListingSnapshot, Marketplace, Score
from wildwatch.config import DEMO_CATALOG, SITES_DIR
from wildwatch.demo.catalog import live_listings, load_catalog

pytestmark = pytest.mark.db


def _browser_or_skip():
    try:
        resolve_chromium()
    except BrowserNotFoundError as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def two_nights(tmp_path_factory, trained_models_dir):
    """Run `wildwatch nightly --demo` for night 1 and night 2 against one database."""
    _browser_or_skip()
    data_dir = tmp_path_factory.mktemp("data")
    # The two demo shops plus a broken config file: the broken one is reported and skipped.
    sites_dir = tmp_path_factory.mktemp("sites")
    shutil.copy(SITES_DIR / "demo.yaml", sites_dir / "demo.yaml")
    shutil.copy(SITES_DIR / "demo-oldstreet.yaml", sites_dir / "demo-oldstreet.yaml")
    (sites_dir / "broken.yaml").write_text("name: broken\nbase_url: ftp://x\nstart_urls: [/]\n", encoding="utf-8")
    env = wildwatch_env(data_dir, trained_models_dir, WILDWATCH_SITES_DIR=str(sites_dir))
    first = run_cli(["nightly", "--demo"], env, timeout=600)
    second = run_cli(["nightly", "--demo", "--format", "xlsx"], env, timeout=600)
    engine = create_engine(database_url_for(data_dir))
    yield {"first": first, "second": second, "data_dir": data_dir, "engine": engine}
    engine.dispose()


def _explain(result) -> str:
    return f"exit {result.returncode}\nstdout:\n{result.stdout[-4000:]}\nstderr:\n{result.stderr[-4000:]}"


def test_first_night_crawls_scores_stores_and_exports(two_nights, report):
    result = two_nights["first"]
    assert result.returncode == 0, _explain(result)
    catalog = load_catalog(DEMO_CATALOG)
    live = {entry.id: entry for entry in live_listings(catalog, 1)}
    assert "demo night 1" in result.stdout
    # The pass's database: SQLite, or PostgreSQL in `make test`'s second pass.
    assert f"database {redact(database_url_for(two_nights['data_dir']))}" in result.stdout
    assert "exported" in result.stdout
    assert "broken.yaml" in result.stderr and "base_url" in result.stderr  # reported, and the night went on

    with two_nights["engine"].connect() as conn:
        run = conn.execute(select(CrawlRun).join(Marketplace).where(Marketplace.name == "demo")
                           .order_by(CrawlRun.id).limit(1)).one()
        assert run.status == "succeeded", run.stats
        assert run.stats["listings"] == len(live)
        assert run.stats["rendered_pages"] == sum(1 for e in live.values() if e.style == "js")
        assert run.stats["errors"] == 0, run.stats
        assert run.stats["robots_forbidden"] == 0  # cart links are never even requested
        # The shop's corner of broken pages (wildwatch/demo/hostile.py) adds no listing and no error: each page
        # is skipped or read after a repair, counted by its reason and shown in the summary.
        assert run.stats["skipped"] == {"binary": 1, "pagination_trap": 1, "redirect_loop": 1, "too_large": 1,
                                        "truncated": 1}, run.stats
        assert run.stats["repaired"] == {"too_deep": 1, "wrong_charset": 1, "zero_width": 1}, run.stats
        assert ("skipped: binary 1, pagination trap 1, redirect loop 1, too large 1, truncated 1; "
                "repaired: too deep 1, wrong charset 1, zero width 1") in result.stdout
        assert all(result["ok"] for result in run.stats["monitors"].values()), run.stats["monitors"]
        assert set(run.stats["monitors"]) == {"listings", "required fields", "errors", "finish reason"}
        second_shop = conn.execute(select(CrawlRun).join(Marketplace).where(Marketplace.name == "demo-oldstreet")
                                   .order_by(CrawlRun.id).limit(1)).one()
        assert second_shop.status == "succeeded" and second_shop.stats["listings"] == 64, second_shop.stats
        assert second_shop.stats["search_queries"] == 8

    exports = sorted((two_nights["data_dir"] / "exports").glob("flagged-*.csv"))
    assert len(exports) == 1
    flagged = pd.read_csv(exports[0], dtype=str, encoding="utf-8-sig")
    assert set(flagged["marketplace"]) == {"demo", "demo-oldstreet"}
    flagged = flagged[flagged["marketplace"] == "demo"]
    flagged_ids = set(flagged["listing_id"])
    suspicious = {i for i, e in live.items() if e.label == 1}
    js_suspicious = {i for i in suspicious if live[i].style == "js"}
    # The JavaScript-rendered listings are among the flagged ones, with their evidence.
    assert len(js_suspicious & flagged_ids) >= 0.8 * len(js_suspicious), sorted(js_suspicious - flagged_ids)
    recall = len(suspicious & flagged_ids) / len(suspicious)
    precision = len(suspicious & flagged_ids) / max(1, len(flagged_ids))
    report(f"[demo night 1] flagged {len(flagged_ids)}; recall {recall:.3f}, precision {precision:.3f} "
          f"against the demo catalogue's labels")
    assert recall >= 0.8 and precision >= 0.8
    assert flagged["evidence"].fillna("").str.len().gt(0).mean() > 0.9
    row = flagged[flagged["listing_id"].isin(js_suspicious)].iloc[0]
    assert row["title"] == live[row["listing_id"]].title  # text read from the rendered DOM


def test_second_night_updates_without_duplicates_and_marks_gone(two_nights, report):
    result = two_nights["second"]
    assert result.returncode == 0, _explain(result)
    catalog = load_catalog(DEMO_CATALOG)
    night1 = {e.id for e in live_listings(catalog, 1)}
    night2 = {e.id for e in live_listings(catalog, 2)}
    with two_nights["engine"].connect() as conn:
        demo_id = conn.scalar(select(Marketplace.id).where(Marketplace.name == "demo"))
        in_demo = Listing.marketplace_id == demo_id
        total = conn.scalar(select(func.count(Listing.id)).where(in_demo))
        distinct = conn.scalar(select(func.count(func.distinct(Listing.external_id))).where(in_demo))
        assert total == distinct == len(night1 | night2)
        gone = set(conn.scalars(select(Listing.external_id).where(in_demo, Listing.gone_at.is_not(None))))
        assert gone == night1 - night2
        runs = conn.execute(select(CrawlRun).where(CrawlRun.marketplace_id == demo_id).order_by(CrawlRun.id)).all()
        assert [r.status for r in runs] == ["succeeded", "succeeded"]
        assert runs[1].stats["gone"] == len(night1 - night2)
        kept = conn.execute(select(Listing).where(in_demo, Listing.external_id.in_(night1 & night2)).limit(5)).all()
        for listing in kept:
            assert listing.first_run_id == runs[0].id and listing.last_run_id == runs[1].id
            assert listing.first_seen_at <= listing.last_seen_at
        # Unchanged content: one snapshot per listing; every listing scored on each night it was seen.
        demo_rows = select(Listing.id).where(in_demo)
        assert conn.scalar(select(func.count(ListingSnapshot.id)).where(ListingSnapshot.listing_id.in_(demo_rows))) \
            == len(night1 | night2)
        assert conn.scalar(select(func.count(Score.id)).where(Score.listing_id.in_(demo_rows))) \
            == len(night1) + len(night2)
        # Night 2 revalidated the pages it had kept: unchanged ones came back 304 Not Modified. (Pages whose
        # related-items box or result list changed with the night's new and gone listings came back in full.)
        assert runs[0].stats["not_modified"] == 0 and runs[1].stats["not_modified"] > 50, runs[1].stats
        report(f"[demo night 2] {runs[1].stats['not_modified']} of {runs[1].stats['pages']} pages answered "
               f"304 Not Modified ({runs[1].stats['rendered_pages']} rendered pages are never cached)")
    xlsx = sorted((two_nights["data_dir"] / "exports").glob("flagged-*.xlsx"))
    assert len(xlsx) == 1
    frame = pd.read_excel(xlsx[0])
    assert len(frame) > 0 and {"listing_id", "score", "flagged", "species", "evidence"} <= set(frame.columns)


def test_export_command_filters_and_formats(two_nights, tmp_path):
    env = wildwatch_env(two_nights["data_dir"], two_nights["data_dir"] / "unused-models")
    parquet = tmp_path / "high.parquet"
    result = run_cli(["export", "--format", "parquet", "-o", str(parquet), "--min-score", "0.9",
                      "--marketplace", "demo", "--since", "7d"], env)
    assert result.returncode == 0, _explain(result)
    high = pd.read_parquet(parquet)
    assert len(high) > 0 and (high["score"] >= 0.9).all() and (high["marketplace"] == "demo").all()

    everything = tmp_path / "all.csv"
    result = run_cli(["export", "--all", "-o", str(everything)], env)
    assert result.returncode == 0, _explain(result)
    catalog = load_catalog(DEMO_CATALOG)
    all_ids = {e.id for e in live_listings(catalog, 1)} | {e.id for e in live_listings(catalog, 2)}
    exported = pd.read_csv(everything, dtype=str, encoding="utf-8-sig")
    assert set(exported[exported["marketplace"] == "demo"]["listing_id"]) == all_ids
    assert len(exported[exported["marketplace"] == "demo-oldstreet"]) == 64

    nobody = tmp_path / "none.csv"
    result = run_cli(["export", "-o", str(nobody), "--marketplace", "no-such-market"], env)
    assert result.returncode == 0 and "exported 0" in result.stdout

    for bad_args, needle in (
        (["export", "-o", str(tmp_path / "x.json")], "x.json"),
        (["export", "--since", "yesterday-ish"], "since"),
        (["export", "--min-score", "3"], "min-score"),
    ):
        result = run_cli(bad_args, env)
        assert result.returncode == 2, _explain(result)
        assert needle in result.stderr and "Traceback" not in result.stderr

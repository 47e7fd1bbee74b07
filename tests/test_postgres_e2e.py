"""The nightly job with PostgreSQL as the store: the same crawl, upserts, gone-marking and export."""
from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import create_engine, func, select

from conftest import run_cli, wildwatch_env
from crawler.browser import BrowserNotFoundError, resolve_chromium
from store.models import CrawlRun, Listing, Marketplace, Score
from store.testing import throwaway_database
from wildwatch.config import DEMO_CATALOG
from wildwatch.demo.catalog import live_listings, load_catalog

pytestmark = pytest.mark.postgres


def test_two_demo_nights_into_postgresql(tmp_path, trained_models_dir):
    try:
        resolve_chromium()
    except BrowserNotFoundError as exc:
        pytest.skip(str(exc))
    with throwaway_database("postgresql", tmp_path) as url:
        env = wildwatch_env(tmp_path / "data", trained_models_dir, WILDWATCH_DATABASE_URL=url)
        for night in ("1", "2"):
            result = run_cli(["nightly", "--demo", "--demo-night", night], env, timeout=600)
            assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
            assert "database postgresql+psycopg://" in result.stdout
        catalog = load_catalog(DEMO_CATALOG)
        night1 = {e.id for e in live_listings(catalog, 1)}
        night2 = {e.id for e in live_listings(catalog, 2)}
        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                # `nightly --demo` crawls both demo shops; the catalogue counts are the Demo Bazaar's.
                demo = conn.scalar(select(Marketplace.id).where(Marketplace.name == "demo"))
                in_demo = Listing.marketplace_id == demo
                assert conn.scalar(select(func.count(Listing.id)).where(in_demo)) == len(night1 | night2)
                gone = set(conn.scalars(select(Listing.external_id).where(in_demo, Listing.gone_at.is_not(None))))
                assert gone == night1 - night2
                assert [r.status for r in conn.execute(select(CrawlRun).order_by(CrawlRun.id))] == \
                    ["succeeded"] * 4
                assert conn.scalar(select(func.count(Score.id)).where(
                    Score.listing_id.in_(select(Listing.id).where(in_demo)))) == len(night1) + len(night2)
                assert conn.scalar(select(func.count(Score.id)).where(Score.flagged.is_(True))) > 0
        finally:
            engine.dispose()
        exports = sorted((tmp_path / "data" / "exports").glob("flagged-*.csv"))
        assert len(exports) == 2
        assert len(pd.read_csv(exports[-1], encoding="utf-8-sig")) > 0
        result = run_cli(["db", "current"], env)
        assert result.returncode == 0 and result.stdout.strip()

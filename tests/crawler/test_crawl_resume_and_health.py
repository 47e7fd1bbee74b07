"""A crawl killed with SIGKILL resumes where it stopped (no listing lost, none stored twice), and a
site whose layout changed fails its crawl-health monitor, making `wildwatch nightly` exit non-zero
once the other sites are done."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import create_engine, func, select

from support.cli import ROOT, database_url_for, run_cli, wildwatch_env
from store.models import CrawlRun, Listing, ListingSnapshot, Score
from support.oldstreet_site import journal_batches, write_site
from wildwatch.demo.oldstreet import OldStreetShop

pytestmark = [pytest.mark.db, pytest.mark.slow]  # crawls killed, resumed and monitored in CLI processes

def test_sigkilled_crawl_resumes_without_losing_or_duplicating_listings(tmp_path, trained_models_dir, report):
    data_dir = tmp_path / "data"
    env = wildwatch_env(data_dir, trained_models_dir)
    journal = data_dir / "crawl_state" / "oldstreet" / "journal.jsonl"
    with OldStreetShop() as shop:
        truth = {item.id for item in shop.listings}
        slow = write_site(tmp_path / "slow.yaml", shop.base_url, delay=0.2)
        process = subprocess.Popen([sys.executable, "-m", "wildwatch", "crawl", str(slow)], env=env, cwd=ROOT,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        deadline = time.monotonic() + 120
        while journal_batches(journal) < 2 and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.2)
        assert process.poll() is None, "the crawl finished before it could be killed: " + process.stderr.read().decode()[-2000:]
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        first_hits = shop.hits

    engine = create_engine(database_url_for(data_dir))
    try:
        with engine.connect() as conn:
            killed_run = conn.execute(select(CrawlRun)).one()
            stored_before = set(conn.scalars(select(Listing.external_id)))
        assert killed_run.status == "running"  # nobody closed it: the process died
        assert 0 < len(stored_before) < len(truth)
        journaled = {listing_id for line in journal.read_text(encoding="utf-8").splitlines()[1:]
                     for _, listing_id in json.loads(line).get("stored", [])}
        assert journaled <= stored_before

        # Restart (at full speed): the same crawl run continues.
        with OldStreetShop() as shop:
            fast = write_site(tmp_path / "fast.yaml", shop.base_url)
            result = run_cli(["crawl", str(fast)], env)
            assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
            second_hits = shop.hits
            paths = {item.id: item.path for item in shop.listings}

        with engine.connect() as conn:
            runs = conn.execute(select(CrawlRun)).all()
            ids = list(conn.scalars(select(Listing.external_id)))
            snapshots = conn.scalar(select(func.count(ListingSnapshot.id)))
            scores = conn.scalar(select(func.count(Score.id)))
    finally:
        engine.dispose()
    assert len(runs) == 1 and runs[0].id == killed_run.id and runs[0].status == "succeeded", runs[0].stats
    assert sorted(ids) == sorted(truth)                       # none lost, none twice
    assert snapshots == len(truth) and scores == len(truth)   # each listing stored and scored once
    assert runs[0].stats["resumed"] == len(journaled) and runs[0].stats["listings"] == len(truth)
    # Detail pages the journal held were not fetched again.
    assert not [i for i in journaled if second_hits.get(paths[i], 0)]
    assert not journal.exists()                               # finished: nothing left to resume
    refetched = sum(1 for i in stored_before - journaled if second_hits.get(paths[i], 0))
    report(f"[resume] killed after {len(stored_before)} of {len(truth)} listings "
           f"({len(journaled)} journaled, {refetched} stored-but-unjournaled refetched); "
           f"first process fetched {sum(first_hits.values())} pages, the resumed one {sum(second_hits.values())}")


def test_a_site_whose_layout_changed_fails_its_monitor_and_nightly_exits_non_zero(tmp_path, trained_models_dir):
    sites_dir = tmp_path / "sites"
    sites_dir.mkdir()
    data_dir = tmp_path / "data"
    with OldStreetShop() as good, OldStreetShop() as changed:
        write_site(sites_dir / "good.yaml", good.base_url, name="good-shop")
        # The shop renamed its result-link class: the old selector finds nothing.
        write_site(sites_dir / "changed.yaml", changed.base_url, name="changed-shop",
                   listing="td.item-name a::attr(href)")
        result = run_cli(["nightly"], wildwatch_env(data_dir, trained_models_dir, WILDWATCH_SITES_DIR=str(sites_dir)))
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-3000:]
    assert "monitor failed" in result.stderr and "changed-shop: listings: only 0 listings" in result.stderr
    assert "good-shop" not in result.stderr
    engine = create_engine(database_url_for(data_dir))
    try:
        with engine.connect() as conn:
            runs = {run.stats.get("listings"): run for run in conn.execute(select(CrawlRun))}
    finally:
        engine.dispose()
    shop = OldStreetShop().listings  # the catalogue's re-posts and the planted traders' own posts
    assert set(runs) == {0, len(shop)}                         # the good site was crawled in full
    assert runs[len(shop)].stats["monitors"]["listings"]["ok"] is True
    failed = runs[0].stats["monitors"]["listings"]
    assert failed["ok"] is False and "layout" in failed["message"]
    assert "monitors failed" in result.stdout                 # shown in the nightly summary table

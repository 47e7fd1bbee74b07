"""A demo shop that answers a share of requests with 500s, 429s, stalls and connection resets: the crawl
retries (counted) and still stores every listing, the JavaScript-rendered ones included."""
from __future__ import annotations

import socket
import urllib.error
import urllib.request
from collections import Counter

import pytest
import yaml
from sqlalchemy import create_engine, select

from support.browser import require_chromium
from support.cli import run_cli, wildwatch_env
from store.models import CrawlRun, Listing
from wildwatch.config import DEMO_CATALOG, SITES_DIR
from wildwatch.demo.faults import KINDS, FaultInjector
from wildwatch.demo.server import DemoMarketplace

FAULT_RATE = 0.2
SEED = 7
# The crawl through faults runs on every third listing of the demo catalogue (all three page styles, ~140
# listings): the claim is about retries, not volume, and the whole catalogue took two minutes of CI.
EVERY = 3


def test_faults_are_deterministic_per_url_and_attempt_and_end_after_the_faulty_attempts():
    first, second = FaultInjector(0.5, seed=3), FaultInjector(0.5, seed=3)
    keys = [f"/item/DB-{n:04d}" for n in range(400)]
    plan = [(first.decide(k), first.decide(k), first.decide(k)) for k in keys]
    assert plan == [(second.decide(k), second.decide(k), second.decide(k)) for k in keys]
    assert all(third is None for _, _, third in plan)                  # attempt 3 always answers
    kinds = Counter(kind for a, b, _ in plan for kind in (a, b) if kind)
    assert set(kinds) == set(KINDS)
    assert 0.4 < sum(kinds.values()) / (2 * len(keys)) < 0.6           # about the rate asked for
    other = FaultInjector(0.5, seed=4)
    assert [other.decide(k) for k in keys] != [p[0] for p in plan]     # another seed, other faults
    assert FaultInjector(1.0).decide("/robots.txt") is None            # never robots.txt
    assert FaultInjector(0.0).decide("/") is None


@pytest.mark.parametrize("args", [{"rate": 1.5}, {"rate": 0.1, "kinds": ("fire",)}, {"rate": 0.1, "stall_seconds": 0}])
def test_bad_fault_settings_are_refused(args):
    rate = args.pop("rate")
    with pytest.raises(ValueError):
        FaultInjector(rate, **args)


def test_each_fault_kind_reaches_the_client_as_that_fault():
    with DemoMarketplace() as shop:
        for kind in KINDS:
            shop.faults = FaultInjector(1.0, stall_seconds=2.0, kinds=(kind,), faulty_attempts=1)
            try:
                urllib.request.urlopen(shop.base_url + "/", timeout=1).read()
                outcome = "answered"
            except urllib.error.HTTPError as exc:
                outcome = str(exc.code) + (f" retry-after {exc.headers['Retry-After']}" if exc.code == 429 else "")
            except (TimeoutError, socket.timeout):
                outcome = "timeout"
            except (ConnectionResetError, urllib.error.URLError) as exc:
                outcome = "reset" if "reset" in str(exc).lower() or isinstance(exc, ConnectionResetError) else str(exc)
            assert outcome == {"500": "500", "429": "429 retry-after 1", "timeout": "timeout", "reset": "reset"}[kind]
            # The next attempt at the same URL is answered normally.
            assert urllib.request.urlopen(shop.base_url + "/", timeout=5).status == 200


def test_demo_crawl_through_faults_stores_every_listing_with_retries_counted(tmp_path, trained_models_dir, report):
    require_chromium()
    config = yaml.safe_load((SITES_DIR / "demo.yaml").read_text(encoding="utf-8"))
    # Short limits so a stalled answer costs seconds, not the default half-minute.
    config["limits"] = {"timeout_seconds": 3}
    config["javascript"]["timeout_ms"] = 4000
    site = tmp_path / "demo.yaml"
    site.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    data_dir = tmp_path / "data"
    lines = DEMO_CATALOG.read_text(encoding="utf-8").splitlines(keepends=True)
    catalog = tmp_path / "catalog.jsonl"
    catalog.write_text("".join(lines[::EVERY]), encoding="utf-8")
    with DemoMarketplace(catalog, night=1) as shop:
        assert {item.style for item in shop.view.live} == {"html", "jsonld", "js"}
        shop.faults = FaultInjector(FAULT_RATE, SEED, stall_seconds=5)
        live = {item.id for item in shop.view.live}
        result = run_cli(["crawl", str(site), "--base-url", shop.base_url],
                         wildwatch_env(data_dir, trained_models_dir), timeout=900)
        injected = shop.faults.summary()
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    engine = create_engine(f"sqlite:///{data_dir / 'wildwatch.db'}")
    try:
        with engine.connect() as conn:
            stored = list(conn.scalars(select(Listing.external_id)))
            run = conn.execute(select(CrawlRun)).one()
    finally:
        engine.dispose()
    assert sorted(stored) == sorted(live)                                  # every listing, once
    assert set(injected) == set(KINDS), injected                           # every kind of fault was met
    stats = run.stats
    assert stats["retries"] > 0, stats                                     # recovered by retrying, counted
    assert stats["download_errors"] == 0 and stats["listings"] == len(live)
    assert f"demo: retries {stats['retries']}" in result.stdout
    report(f"[faults] demo at fault rate {FAULT_RATE} (seed {SEED}): {sum(injected.values())} faults injected "
           f"({', '.join(f'{k} {v}' for k, v in sorted(injected.items()))}); {stats['retries']} retries, "
           f"{stats['backoffs']} backoffs; {len(stored)} of {len(live)} listings stored; {stats['seconds']} s")

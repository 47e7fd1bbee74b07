"""A night spread over two crawl hosts with scrapyd: one job per site, results in one PostgreSQL database.

Two real scrapyd servers on 127.0.0.1 (random free ports, temporary directories), configured with
the shipped deploy/scrapyd files, run the jobs that `wildwatch nightly --scheduler scrapyd`
schedules; the nightly command reads the crawl runs back and exports as usual.
"""
from __future__ import annotations

import configparser
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, func, select

from support.browser import require_chromium
from support.cli import ROOT, run_cli, wildwatch_env
from store.models import CrawlRun, Listing, Marketplace
from store.testing import throwaway_database
from wildwatch.config import SITES_DIR
from wildwatch.scrapyd import ScrapydClient, ScrapydError

pytestmark = [pytest.mark.postgres, pytest.mark.browser]

DEMO_BUDGET = 60  # pages of the big demo shop, so the test stays short (its run is "partial")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_scrapyd(home: Path, env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    """scrapyd from the shipped config, on a free port, in its own working directory."""
    home.mkdir(parents=True)
    config = configparser.ConfigParser()
    config.read(ROOT / "deploy" / "scrapyd" / "scrapyd.conf")
    port = _free_port()
    config["scrapyd"].update(http_port=str(port), poll_interval="0.5")
    with (home / "scrapyd.conf").open("w") as handle:
        config.write(handle)
    shutil.copy(ROOT / "deploy" / "scrapyd" / "scrapy.cfg", home / "scrapy.cfg")
    log = (home / "scrapyd.out").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "scrapyd"], cwd=home, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/daemonstatus.json", timeout=2):
                return proc, url
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail("scrapyd did not start:\n" + (home / "scrapyd.out").read_text()[-2000:])
            time.sleep(0.2)


def test_nightly_schedules_one_job_per_site_across_scrapyd_hosts(tmp_path, trained_models_dir):
    require_chromium()
    sites = tmp_path / "sites"
    shutil.copytree(SITES_DIR, sites)
    demo = yaml.safe_load((sites / "demo.yaml").read_text(encoding="utf-8"))
    demo["politeness"]["max_pages"] = DEMO_BUDGET
    (sites / "demo.yaml").write_text(yaml.safe_dump(demo, allow_unicode=True), encoding="utf-8")
    procs = []
    with throwaway_database("postgresql", tmp_path) as db_url:
        try:
            urls = []
            for host in ("crawl1", "crawl2"):
                env = wildwatch_env(tmp_path / host / "data", trained_models_dir, WILDWATCH_DATABASE_URL=db_url,
                                    WILDWATCH_SITES_DIR=str(sites))
                proc, url = _start_scrapyd(tmp_path / host / "scrapyd", env)
                procs.append(proc)
                urls.append(url)
            env = wildwatch_env(tmp_path / "scheduler", trained_models_dir, WILDWATCH_DATABASE_URL=db_url,
                                WILDWATCH_SITES_DIR=str(sites))
            result = run_cli(["nightly", "--demo", "--scheduler", "scrapyd", "--scrapyd-url", urls[0],
                              "--scrapyd-url", urls[1]], env, timeout=400)
            logs = "\n".join(p.read_text()[-1500:] for p in tmp_path.glob("crawl*/scrapyd/logs/**/*.log"))
            assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:] + logs
            # Each host ran one of the two sites (the least busy host gets the next job).
            ran = {host: sorted(p.parent.name for p in (tmp_path / host / "scrapyd" / "logs").glob("wildwatch/*/*.log"))
                   for host in ("crawl1", "crawl2")}
            assert sorted(sum(ran.values(), [])) == ["demo", "demo-oldstreet"] and all(ran.values()), ran
            engine = create_engine(db_url)
            try:
                with engine.connect() as conn:
                    runs = conn.execute(select(Marketplace.name, CrawlRun.status, CrawlRun.nightly_id)
                                        .join(CrawlRun.marketplace)).all()
                    per_site = dict(conn.execute(select(Marketplace.name, func.count(Listing.id))
                                                 .join(Listing, Listing.marketplace_id == Marketplace.id)
                                                 .group_by(Marketplace.name)).all())
            finally:
                engine.dispose()
            assert {name: status for name, status, _ in runs} == {"demo": "partial", "demo-oldstreet": "succeeded"}
            assert len({nightly for _, _, nightly in runs}) == 1  # both jobs were tagged with the night's id
            assert per_site["demo-oldstreet"] > 40 and per_site["demo"] > 10, per_site
            assert "demo-oldstreet" in result.stdout and "exported" in result.stdout
            night_log = next((tmp_path / "scheduler" / "logs").glob("nightly-*.log")).read_text()
            assert "scheduled demo on" in night_log and "finished; log http://127.0.0.1:" in night_log
        finally:
            for proc in procs:
                proc.terminate()
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()


def test_unusable_scrapyd_hosts_are_named(tmp_path, trained_models_dir):
    with pytest.raises(ScrapydError, match="use http://HOST:6800"):
        ScrapydClient("crawl1:6800")
    with pytest.raises(ScrapydError, match=r"scrapyd at http://127.0.0.1:\d+ is not reachable"):
        ScrapydClient(f"http://127.0.0.1:{_free_port()}", timeout=3).load()
    env = wildwatch_env(tmp_path / "data", trained_models_dir)
    result = run_cli(["nightly", "--demo", "--scheduler", "scrapyd"], env)
    assert result.returncode == 2 and "--scheduler scrapyd needs at least one --scrapyd-url" in result.stderr
    result = run_cli(["nightly", "--demo", "--scheduler", "scrapyd", "--scrapyd-url",
                      f"http://127.0.0.1:{_free_port()}"], env, timeout=120)
    assert result.returncode == 2 and "is not reachable" in result.stderr and "Traceback" not in result.stderr

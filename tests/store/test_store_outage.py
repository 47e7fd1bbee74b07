"""The store under faults, for real: a PostgreSQL server that goes away for half a minute mid-crawl, a disk
that fills up under the database, a read-only database. No listing is lost silently: each is stored
(exactly once) or kept in the spool and replayed, and what cannot be done ends in one clear error line
and a non-zero exit, never a stack trace."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from support.cli import ROOT, run_cli, stored_counts, wildwatch_env
from support.pgcluster import ThrowawayCluster
from support.oldstreet_site import journal_batches, write_site
from wildwatch.demo.oldstreet import OldStreetShop

pytestmark = pytest.mark.slow  # crawls in CLI processes through a database outage and full disks

OUTAGE_SECONDS = float(os.environ.get("WILDWATCH_OUTAGE_SECONDS", "30"))


def _explain(result) -> str:
    return f"exit {result.returncode}\nstdout:\n{result.stdout[-3000:]}\nstderr:\n{result.stderr[-3000:]}"


@contextmanager
def crawl_past_its_first_batch(site: Path, env: dict[str, str], data_dir: Path):
    """`wildwatch crawl SITE`, yielded once its first batch is stored (its resume journal says so): the fault
    then strikes at a known point mid-crawl, whatever the machine's speed. Killed if still running after."""
    journal = data_dir / "crawl_state" / "oldstreet" / "journal.jsonl"
    process = subprocess.Popen([sys.executable, "-m", "wildwatch", "crawl", str(site)], env=env, cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while journal_batches(journal) < 1 and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.1)
        assert process.poll() is None, "the crawl ended before the fault: " + process.stderr.read()[-2000:]
        yield process
    finally:
        if process.poll() is None:
            process.kill()


def finished(process: subprocess.Popen) -> subprocess.CompletedProcess:
    stdout, stderr = process.communicate(timeout=300)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def test_database_unreachable_for_half_a_minute_mid_crawl_loses_no_listing(tmp_path, trained_models_dir, report):
    data_dir = tmp_path / "data"
    with ThrowawayCluster() as pg, OldStreetShop() as shop:
        truth = {item.id for item in shop.listings}
        env = wildwatch_env(data_dir, trained_models_dir, WILDWATCH_DATABASE_URL=pg.url)
        site = write_site(tmp_path / "oldstreet.yaml", shop.base_url, delay=0.8)
        with crawl_past_its_first_batch(site, env, data_dir) as process:
            stored_before = len(stored_counts(pg.url)["ids"])
            pg.stop()
            down_at = time.monotonic()
            time.sleep(OUTAGE_SECONDS)
            assert process.poll() is None, "the crawl ended during the outage: " + process.stderr.read()[-3000:]
            pg.start()
            outage = time.monotonic() - down_at
            result = finished(process)
        assert result.returncode == 0, _explain(result)
        after = stored_counts(pg.url)
    assert after["ids"] == truth and after["listings"] == after["distinct"] == len(truth)   # none lost, none twice
    assert after["snapshots"] == len(truth) and after["scores"] == len(truth)               # stored and scored once
    [run] = after["runs"]
    stats = run.stats
    assert stats["spooled"] > 0, stats                      # the outage really hit writes
    assert stats["replayed"] == stats["spooled"] and stats["spool_pending"] == 0
    assert run.status == "succeeded", (run.status, run.error)
    assert not list((data_dir / "spool").glob("*.jsonl"))  # replayed and removed
    assert f"spooled {stats['spooled']}, replayed {stats['spooled']}" in result.stdout
    report(f"[outage] PostgreSQL down {outage:.0f} s mid-crawl after {stored_before} of {len(truth)} listings: "
           f"{stats['spooled']} listings spooled and replayed, {len(truth)} stored once, run {run.status}")


# ---- a full disk and a read-only database (SQLite on a small tmpfs) ---------------------------------

def _can_mount() -> str | None:
    if os.geteuid() != 0:
        return "mounting a tmpfs needs root"
    probe = Path("/tmp") / f"wildwatch-mount-probe-{os.getpid()}"
    probe.mkdir(exist_ok=True)
    try:
        result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(probe)], capture_output=True,
                                text=True)
        if result.returncode != 0:
            return f"cannot mount a tmpfs here: {result.stderr.strip()}"
        subprocess.run(["umount", str(probe)], check=True)
        return None
    finally:
        probe.rmdir()


@contextmanager
def small_disk(path: Path, size: str):
    """A real file system of `size` at `path` (tmpfs), unmounted afterwards."""
    reason = _can_mount()
    if reason:
        pytest.skip(reason)
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], check=True)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(disk: Path, leave: int) -> None:
    """Fill the file system at `disk` until about `leave` bytes are free."""
    stats = os.statvfs(disk)
    free = stats.f_bavail * stats.f_frsize
    with (disk / "filler").open("wb") as handle:
        handle.write(b"\0" * max(0, free - leave))


def test_disk_full_under_the_database_spools_then_replays_every_listing(tmp_path, trained_models_dir, report):
    data_dir = tmp_path / "data"
    with small_disk(tmp_path / "dbdisk", "4m") as disk, OldStreetShop() as shop:
        truth = {item.id for item in shop.listings}
        url = f"sqlite:///{disk / 'wildwatch.db'}"
        env = wildwatch_env(data_dir, trained_models_dir, WILDWATCH_DATABASE_URL=url)
        assert run_cli(["db", "upgrade"], env).returncode == 0
        site = write_site(tmp_path / "oldstreet.yaml", shop.base_url, delay=0.2)
        with crawl_past_its_first_batch(site, env, data_dir) as process:
            fill(disk, leave=0)  # nothing left for the database once the first batch is in
            result = finished(process)
        assert result.returncode == 1, _explain(result)
        assert "Traceback" not in result.stdout + result.stderr
        assert "wait in the spool" in result.stderr and "replay-spool" in result.stderr, _explain(result)
        assert sum(1 for _ in (data_dir / "spool").glob("run-*.jsonl")) == 1
        stored_while_full = len(stored_counts(url)["ids"])
        assert 0 < stored_while_full < len(truth)

        (disk / "filler").unlink()  # space freed: the spool goes in
        replay = run_cli(["db", "replay-spool"], env)
        assert replay.returncode == 0, _explain(replay)
        again = run_cli(["db", "replay-spool"], env)  # nothing left, nothing twice
        assert again.returncode == 0 and "nothing to replay" in again.stdout
        after = stored_counts(url)
    assert after["ids"] == truth and after["listings"] == len(truth)
    assert after["snapshots"] == len(truth) and after["scores"] == len(truth)
    [run] = after["runs"]
    assert run.status == "partial" and run.stats["spool_pending"] == 0   # closed by the replay; gone not marked
    assert run.stats["replayed"] == run.stats["spooled"] == len(truth) - stored_while_full
    report(f"[disk full] database disk filled after {stored_while_full} of {len(truth)} listings: "
           f"{run.stats['spooled']} spooled, exit 1 with the replay hint; `db replay-spool` stored them all once")


def test_disk_full_for_database_and_spool_stops_with_a_clear_error(tmp_path, trained_models_dir):
    with small_disk(tmp_path / "disk", "2m") as disk, OldStreetShop() as shop:
        env = wildwatch_env(disk / "data", trained_models_dir)
        assert run_cli(["db", "upgrade"], env).returncode == 0
        fill(disk, leave=300 * 1024)
        result = run_cli(["crawl", str(write_site(tmp_path / "oldstreet.yaml", shop.base_url))], env)
        output = result.stdout + result.stderr
        assert result.returncode != 0, _explain(result)
        assert "Traceback" not in output
        assert "No space left on device" in result.stderr or "disk is full" in result.stderr, _explain(result)
        # One clear line, whichever write met the full disk first (the run's journal, or a batch and its spool).
        assert "error: oldstreet: cannot store listings:" in result.stderr, _explain(result)


@pytest.mark.parametrize("what", ["file", "file system"])
def test_read_only_database_is_one_clear_error_and_a_non_zero_exit(tmp_path, trained_models_dir, what):
    with small_disk(tmp_path / "dbdisk", "8m") as disk:
        url = f"sqlite:///{disk / 'wildwatch.db'}"
        env = wildwatch_env(tmp_path / "data", trained_models_dir, WILDWATCH_DATABASE_URL=url,
                            WILDWATCH_SITES_DIR=str(ROOT / "crawler" / "sites"))
        assert run_cli(["db", "upgrade"], env).returncode == 0
        target = disk / "wildwatch.db" if what == "file" else disk
        if what == "file":  # the file read-only, its folder writable (root ignores mode bits: a read-only bind)
            subprocess.run(["mount", "--bind", str(target), str(target)], check=True)
        subprocess.run(["mount", "-o", "remount,bind,ro" if what == "file" else "remount,ro", str(target)],
                       check=True)
        try:
            for args in (["nightly", "--demo"], ["crawl", "demo"]):
                result = run_cli(args, env)
                assert result.returncode == 2, _explain(result)
                assert "Traceback" not in result.stdout + result.stderr
                lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
                assert len(lines) == 1 and "wildwatch.db" in lines[0], _explain(result)
                # SQLite names a read-only file "readonly"; on a read-only file system it cannot even open its
                # write-ahead log beside the file ("unable to open database file").
                assert "readonly" in lines[0] or "read-only" in lines[0] or "unable to open" in lines[0], lines
        finally:
            if what == "file":
                subprocess.run(["umount", str(target)], check=False)

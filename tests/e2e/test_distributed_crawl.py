"""Distributed crawl workers: several `wildwatch crawl demo --workers redis://...` processes share one crawl.

Real Redis and PostgreSQL on 127.0.0.1, a real demo shop with a per-request delay (so the workers'
requests overlap), real Chromium for the JavaScript pages (their requests travel through the Redis
queue too), and real worker processes, one of them killed with SIGKILL halfway.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from scrapy import Request
from scrapy_playwright.page import PageMethod

from bench.catalog import write_catalog
from bench.workers import GatedShop
from support.browser import require_chromium
from support.cli import ROOT, run_cli, stored_counts, wildwatch_env
from crawler.distributed import DistributedWorker, SharedPriorityQueue, WorkerScheduler, aggregate
from crawler.redisrun import DistributedCrawlError, RedisRun, check_prefix, connect
from crawler.siteconfig import resolve_site
from crawler.spiderloader import spider_class_for
from store.testing import redis_unavailable_reason, throwaway_database, throwaway_redis_prefix
from wildwatch.config import SITES_DIR
from wildwatch.demo.server import DemoMarketplace

pytestmark = [pytest.mark.redis]


@pytest.fixture
def shared():
    """(client, url, prefix) on the test Redis, keys removed afterwards."""
    with throwaway_redis_prefix() as (url, prefix):
        client = redis.Redis.from_url(url)
        yield client, url, prefix
        client.close()


def _run(client, prefix, worker, lease=30.0) -> RedisRun:
    return RedisRun(client, prefix, worker, lease_seconds=lease)


# ---- the Redis state, one operation at a time -------------------------------------------------------

def test_first_worker_claims_the_run_others_wait_then_join(shared):
    client, _url, prefix = shared
    a, b = _run(client, prefix, "a"), _run(client, prefix, "b")
    assert a.join() == ("claim", None)
    assert b.join() == ("wait", None)  # a is creating the run in the database
    a.publish(41)
    assert b.join() == ("join", 41)
    assert a.workers() == {"a", "b"} and a.run_info()["run_id"] == "41"


def test_a_dead_workers_in_flight_requests_go_back_to_the_queue(shared):
    client, _url, prefix = shared
    a, b = _run(client, prefix, "a", lease=1.0), _run(client, prefix, "b", lease=30.0)
    a.join(), a.publish(1), b.join()
    for score, member in ((-10, b"detail-1"), (-10, b"detail-2"), (0, b"index-2")):
        client.zadd(a.queue_key, {member: score})
    first, second = a.pop(), a.pop()
    assert {first[0], second[0]} == {b"detail-1", b"detail-2"} and first[1] == -10.0  # best priority first
    assert a.queue_size() == 1 and a.inflight_size() == 2
    a.ack([first[0]])  # committed: it must never come back
    assert not a.drained()
    time.sleep(1.2)  # a stops renewing its lease (killed)
    b.heartbeat()
    moved, lost = b.sweep()
    assert (moved, lost) == (1, ["a"])
    assert client.zscore(a.queue_key, second[0]) == -10.0  # re-queued with its priority
    assert client.zscore(a.queue_key, first[0]) is None
    assert b.workers() == {"b"} and b.worker_stats() == {} and client.hget(b.key("worker_state"), "a") == b"lost"
    assert b.sweep() == (0, [])


def test_drained_only_when_nothing_is_queued_or_in_flight_and_the_last_out_closes(shared):
    client, _url, prefix = shared
    a, b = _run(client, prefix, "a"), _run(client, prefix, "b")
    a.join(), a.publish(7), b.join()
    client.zadd(a.queue_key, {b"page": 0})
    assert not a.drained()
    member, _ = b.pop()
    assert not a.drained()  # b may still queue the page's links
    b.ack([member])
    assert a.drained()
    assert a.leave("finished") is False  # b is still in
    assert b.leave("finished") is True  # the last one out closes the run
    assert a.join() == ("wait", None)  # no one joins a run being closed
    assert a.clear() >= 3 and a.keys() == []


def test_a_worker_that_died_idle_is_swept_before_the_run_is_closed(shared):
    client, _url, prefix = shared
    a, b = _run(client, prefix, "a"), _run(client, prefix, "b", lease=1.0)
    a.join(), a.publish(9), b.join()  # b will die with nothing in flight
    assert a.drained()
    assert a.leave("finished") is False and a.try_finalize(9) is False  # b still listed, its lease alive
    time.sleep(1.2)
    assert a.sweep() == (0, ["b"])
    assert a.try_finalize(8) is False  # not the run it took part in
    assert a.try_finalize(9) is True and a.finalizing() == "a"
    assert a.try_finalize(9) is False  # closed once
    a.clear()
    assert not a.is_open(9) and a.try_finalize(9) is False  # keys deleted: nobody closes it again


def test_an_interrupted_worker_hands_its_requests_back(shared):
    client, _url, prefix = shared
    a = _run(client, prefix, "a")
    a.join(), a.publish(3)
    client.zadd(a.queue_key, {b"x": 0, b"y": 1})
    a.pop(), a.pop()
    assert a.suspend("shutdown") == 2
    assert a.queue_size() == 2 and a.workers() == set()
    assert a.run_info()["run_id"] == "3"  # the run stays open for the next start


def test_bad_urls_and_prefixes_are_named():
    with pytest.raises(DistributedCrawlError, match="not a Redis URL"):
        connect("http://127.0.0.1:6379/0")
    with pytest.raises(DistributedCrawlError, match=r"Redis at redis://:\*\*\*@127.0.0.1:1/0 is not reachable"):
        connect("redis://:secret@127.0.0.1:1/0")
    with pytest.raises(DistributedCrawlError, match="key prefix 'a b'"):
        check_prefix("a b")


def _spider():
    site = resolve_site("demo", SITES_DIR).with_base_url("http://127.0.0.1:9")
    return spider_class_for(site)(base_url="http://127.0.0.1:9")


def test_playwright_requests_travel_through_the_queue_without_process_local_meta(shared):
    client, _url, prefix = shared
    spider = _spider()
    queue = SharedPriorityQueue(client, spider, f"{prefix}:requests")
    request = Request("http://127.0.0.1:9/app/item/DB-0001", callback=spider.parse_listing, errback=spider.on_error,
                      priority=10, meta={"playwright": True, "listing_id": "DB-0001", "cached_response": object(),
                                         "playwright_page_methods": [PageMethod("wait_for_selector", ".x", timeout=5)]})
    queue.push(request)
    back = queue.pop()
    assert back.url == request.url and back.priority == 10 and back.callback == spider.parse_listing
    assert back.meta["playwright"] is True and "cached_response" not in back.meta
    method = back.meta["playwright_page_methods"][0]
    assert (method.method, method.args, method.kwargs) == ("wait_for_selector", (".x",), {"timeout": 5})


class _Stats(dict):
    def inc_value(self, key, count=1, start=0, spider=None):
        self[key] = self.get(key, start) + count


def test_an_unreadable_queue_entry_is_dropped_not_fatal(shared):
    client, _url, prefix = shared
    run = _run(client, prefix, "a")
    run.join(), run.publish(1)

    class _Crawler:
        stats = _Stats()
        extensions = type("Ext", (), {})()

    crawler = _Crawler()
    worker = DistributedWorker(crawler, run, checkpoint_seconds=1, max_idle_seconds=10)
    crawler.extensions.middlewares = [worker]
    scheduler = WorkerScheduler(client, persist=True)
    scheduler.crawler, scheduler.stats = crawler, crawler.stats
    scheduler.queue = SharedPriorityQueue(client, _spider(), run.queue_key)
    client.zadd(run.queue_key, {b"\x80not a pickle": 0})
    assert scheduler.next_request() is None
    assert crawler.stats["wildwatch/distributed/bad_queue_entries"] == 1
    assert run.queue_size() == 0 and run.inflight_size() == 0  # gone, not stuck in flight
    good = Request("http://127.0.0.1:9/c/ivory", callback=scheduler.queue.spider.parse_index)
    scheduler.queue.push(good)
    taken = scheduler.next_request()
    assert taken.url == good.url and worker.popped[taken] and run.inflight_size() == 1


def test_counters_of_all_workers_add_up():
    snapshots = {"a": {"stats": {"response_received_count": 3, "wildwatch/listings_stored": 2, "start_time": "x"}},
                 "b": {"stats": {"response_received_count": 4, "wildwatch/listings_stored": 1, "flag": True}}}
    assert aggregate(snapshots) == {"response_received_count": 7, "wildwatch/listings_stored": 3}


# ---- real workers ---------------------------------------------------------------------------------

LISTINGS = 45


def _start_worker(tmp_path: Path, name: str, models_dir: Path, db_url: str, redis_url: str, prefix: str,
                  base_url: str, **env_extra: str) -> subprocess.Popen:
    """One worker, as an operator starts it on its own machine (its own data directory)."""
    env = wildwatch_env(tmp_path / name, models_dir, WILDWATCH_DATABASE_URL=db_url, **env_extra)
    log = (tmp_path / f"{name}.out").open("w")
    return subprocess.Popen([sys.executable, "-m", "wildwatch", "crawl", "demo", "--workers", redis_url,
                             "--redis-prefix", prefix, "--base-url", base_url], env=env, cwd=ROOT,
                            stdout=log, stderr=subprocess.STDOUT)


def _wait(procs: list[subprocess.Popen], tmp_path: Path, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    for proc in procs:
        try:
            proc.wait(timeout=max(1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            for other in procs:
                other.kill()
            pytest.fail("workers did not finish:\n" + _outputs(tmp_path))


def _outputs(tmp_path: Path) -> str:
    return "\n".join(f"--- {p.name}\n{p.read_text()[-2500:]}" for p in sorted(tmp_path.glob("*.out")))


def _detail_hits(shop: DemoMarketplace) -> dict[str, int]:
    """How often the crawl read each listing: its /item/ or rendered /app/item/ page, or for a JavaScript page read
    from its learned JSON endpoint (crawler.jsonreplay), /api/items/<id> beyond the rendered page's own fetch."""
    hits = shop.hits
    out = {path: n for path, n in hits.items() if path.startswith(("/item/", "/app/item/"))}
    for path, n in hits.items():
        if path.startswith("/api/items/"):
            page = "/app/item/" + path.rsplit("/", 1)[-1]
            if n > hits.get(page, 0):
                out[page] = out.get(page, 0) + n - hits.get(page, 0)
    return out


def _catalog(tmp_path: Path, keep: int | None = None) -> Path:
    path = write_catalog(tmp_path / "catalog-all.jsonl", LISTINGS, styles=("jsonld", "html", "js"))
    if keep is None:
        return path
    subset = tmp_path / f"catalog-{keep}.jsonl"
    subset.write_text("".join(path.read_text(encoding="utf-8").splitlines(keepends=True)[:keep]), encoding="utf-8")
    return subset


@pytest.mark.postgres
@pytest.mark.browser
def test_two_then_three_workers_crawl_one_shop_together(tmp_path, trained_models_dir, report):
    require_chromium()
    with throwaway_database("postgresql", tmp_path) as db_url, throwaway_redis_prefix() as (redis_url, prefix):
        assert run_cli(["db", "upgrade"], wildwatch_env(tmp_path / "setup", trained_models_dir,
                                                        WILDWATCH_DATABASE_URL=db_url)).returncode == 0
        client = redis.Redis.from_url(redis_url)
        nights = [(2, _catalog(tmp_path)), (3, _catalog(tmp_path, keep=LISTINGS - 6))]
        removed = {f"DB-{n:04d}" for n in range(LISTINGS - 5, LISTINGS + 1)}  # not offered on night 2
        for night, (count, catalog) in enumerate(nights, start=1):
            with GatedShop(catalog_path=catalog, delay=0.1) as shop:
                live = {item.id for item in shop.view.live}
                procs = [_start_worker(tmp_path, f"n{night}-w{i}", trained_models_dir, db_url, redis_url, prefix,
                                       shop.base_url) for i in range(count)]
                # Workers start at different speeds; the shop answers once all have joined, as if they had
                # been started together on machines of their own.
                deadline = time.monotonic() + 120
                while client.scard(f"{prefix}:workers") < count and time.monotonic() < deadline:
                    time.sleep(0.1)
                shop.open()
                _wait(procs, tmp_path)
                hits = _detail_hits(shop)
                rendered_hits = sum(n for p, n in shop.hits.items() if p.startswith("/app/"))
            outputs = _outputs(tmp_path)
            assert [p.returncode for p in procs] == [0] * count, outputs
            store = stored_counts(db_url)
            run = store["runs"][-1]
            assert run.status == "succeeded", (run.error, outputs)
            workers = run.stats["workers"]
            # Every detail page was fetched once, by one of the workers: the queue and filter are shared. A page
            # is read again only for a reason some worker counted: a JavaScript page whose endpoint answer fell
            # back to rendering (endpoint, then browser), a retried download (timeout or error on a loaded
            # machine) or a retried render. Without the shared filter every page would be read once per worker.
            again = sum(n for w in workers.values() for k, n in w["json_replay"].items() if k.startswith("fallback/"))
            again += sum(w["retries"] + w["render_retries"] for w in workers.values())
            assert len(hits) == len(live), hits
            assert sum(n - 1 for n in hits.values()) <= again, (hits, workers)
            assert len(workers) == count, workers
            assert all(w["pages"] > 0 and w["finish_reason"] == "finished" for w in workers.values()), workers
            assert sum(w["listing_pages"] for w in workers.values()) == len(live)
            assert sum(w["rendered_pages"] for w in workers.values()) == rendered_hits
            assert run.stats["stored"] == len(live) and run.stats["listings"] == len(live)
            # Gone-marking once, by the worker that closed the run, over every worker's finds.
            assert store["gone"] == (removed if night == 2 else set())
            assert run.stats["gone"] == (len(removed) if night == 2 else 0)
            assert client.keys(f"{prefix}:*") == []  # the last worker out deleted the crawl's keys
            report(f"distributed crawl, {count} workers: pages per worker "
                   f"{sorted(w['pages'] for w in workers.values())}, {len(live)} listings stored once")
            closed = [p.name for p in tmp_path.glob(f"n{night}-w*.out")
                      if "this worker closed the run" in p.read_text()]
            assert len(closed) == 1, outputs  # exactly one worker closed the run
        # Night 1: every listing once. Night 2 dropped six listings: gone-marking ran once, over all workers' finds.
        assert store["listings"] == store["distinct"] == LISTINGS
        assert store["snapshots"] == LISTINGS
        assert store["scores"] == LISTINGS + (LISTINGS - 6)  # one score per listing per night: nothing fetched twice
        assert [r.status for r in store["runs"]] == ["succeeded", "succeeded"]
        client.close()


@pytest.mark.postgres
@pytest.mark.browser
def test_a_killed_worker_loses_no_listing(tmp_path, trained_models_dir, report):
    """SIGKILL one of three workers mid-crawl: the survivors take back its requests, every listing is stored once."""
    require_chromium()
    timing = {"WILDWATCH_WORKER_LEASE_SECONDS": "6", "WILDWATCH_WORKER_CHECKPOINT_SECONDS": "0.5"}
    with throwaway_database("postgresql", tmp_path) as db_url, throwaway_redis_prefix() as (redis_url, prefix), \
            GatedShop(catalog_path=_catalog(tmp_path), delay=0.25) as shop:
        assert run_cli(["db", "upgrade"], wildwatch_env(tmp_path / "setup", trained_models_dir,
                                                        WILDWATCH_DATABASE_URL=db_url)).returncode == 0
        client = redis.Redis.from_url(redis_url)
        start = lambda name: _start_worker(tmp_path, name, trained_models_dir, db_url, redis_url, prefix,  # noqa: E731
                                           shop.base_url, **timing)
        procs = {name: start(name) for name in ("a", "b", "c")}
        deadline = time.monotonic() + 120
        while client.scard(f"{prefix}:workers") < len(procs) and time.monotonic() < deadline:
            time.sleep(0.1)
        shop.open()  # all three take part from the start (however slowly each one started)
        victim = None
        deadline = time.monotonic() + 120
        while victim is None and time.monotonic() < deadline:
            time.sleep(0.3)
            stats = {w.decode(): json.loads(v)["stats"] for w, v in client.hgetall(f"{prefix}:worker_stats").items()}
            for worker, figures in stats.items():
                # Mid-crawl: this worker stored some listings and holds requests it has not finished.
                if figures.get("wildwatch/listings_stored", 0) >= 3 and client.zcard(f"{prefix}:inflight:{worker}"):
                    victim = worker
                    break
        assert victim is not None, _outputs(tmp_path)
        pid = int(victim.split("-")[-2])
        name = next(n for n, p in procs.items() if p.pid == pid)
        held = client.zcard(f"{prefix}:inflight:{victim}")
        os.kill(pid, signal.SIGKILL)
        _wait(list(procs.values()), tmp_path)
        outputs = _outputs(tmp_path)
        assert procs[name].returncode == -signal.SIGKILL
        assert all(p.returncode == 0 for n, p in procs.items() if n != name), outputs
        store = stored_counts(db_url)
        live = {item.id for item in shop.view.live}
        assert store["listings"] == store["distinct"] == len(live), outputs
        assert store["snapshots"] == len(live)
        assert len(store["runs"]) == 1
        run = store["runs"][0]
        assert run.status == "succeeded", (run.error, outputs)
        assert run.stats["distributed"]["lost_workers"] == [victim]
        assert run.stats["workers"][victim]["finish_reason"] == "lost"
        assert {w["finish_reason"] for k, w in run.stats["workers"].items() if k != victim} == {"finished"}
        # Scores: one per listing, plus at most one for each listing the victim had in flight and had
        # already committed when it died (its page is fetched again; the shared `stored` set drops it).
        assert len(live) <= store["scores"] <= len(live) + held
        assert client.keys(f"{prefix}:*") == []
        refetched = sum(1 for n in _detail_hits(shop).values() if n > 1)
        report(f"distributed crawl, SIGKILL of 1 of 3 workers: {held} requests in flight re-queued, "
               f"{refetched} detail pages fetched twice, {len(live)} listings stored once")
        client.close()


def test_workers_need_a_shared_shop_and_a_reachable_redis(tmp_path, trained_models_dir):
    env = wildwatch_env(tmp_path / "data", trained_models_dir)
    result = run_cli(["crawl", "demo", "--workers", "redis://127.0.0.1:6379/0"], env)
    assert result.returncode == 2 and "give --base-url for the demo site 'demo'" in result.stderr, result.stderr
    result = run_cli(["crawl", "demo", "--workers", "redis://127.0.0.1:1/0", "--base-url", "http://127.0.0.1:9"], env)
    assert result.returncode == 2 and "Redis at redis://127.0.0.1:1/0 is not reachable" in result.stderr
    assert "Traceback" not in result.stderr
    if redis_unavailable_reason() is None:
        bad = wildwatch_env(tmp_path / "data", trained_models_dir, WILDWATCH_WORKER_LEASE_SECONDS="1")
        result = run_cli(["crawl", "demo", "--workers", "redis://127.0.0.1:6379/0", "--base-url", "http://127.0.0.1:9"],
                         bad)
        assert result.returncode == 2 and "WILDWATCH_WORKER_LEASE_SECONDS=1 must be at least" in result.stderr

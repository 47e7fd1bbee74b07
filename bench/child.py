"""One measured run in its own process: ``python -m bench.child SPEC.json RESULT.json``.

Twisted's reactor starts once per process, so each crawl, rendering run and
nightly run of the benchmarks happens in a fresh interpreter.  The spec says
what to run; the result holds the run's own figures (pages, seconds, CPU
seconds, peak RSS) so the parent only compares them.
"""
from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one core for the model, as in production crawls


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _rss_mb() -> float:
    """Current resident set size (MB), from /proc."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _peak_rss_mb() -> float:
    """This process's peak RSS (MB): VmHWM, which starts afresh at exec.

    Not ``getrusage().ru_maxrss``: on Linux a child inherits its parent's
    maxrss at fork, so every benchmark child would report the parent's peak.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def _seconds(stats: dict) -> float | None:
    start, finish = stats.get("start_time"), stats.get("finish_time")
    return (finish - start).total_seconds() if start and finish else None


def _clock(spec: dict, extensions: dict) -> dict[str, Any]:
    """Settings that add the ResponseClock extension, writing next to the result file."""
    if not spec.get("clock_file"):
        return {}
    return {"BENCH_CLOCK_FILE": spec["clock_file"], "EXTENSIONS": {**extensions, "bench.probe.ResponseClock": 900}}


def _read_clock(spec: dict) -> dict:
    path = spec.get("clock_file")
    if path and Path(path).exists():
        from bench.probe import steady_rate

        clock = json.loads(Path(path).read_text(encoding="utf-8"))
        return {"steady_pages_per_second": steady_rate(clock), "clock": clock}
    return {}


def _quiet_settings(spec: dict) -> dict[str, Any]:
    return {"LOG_LEVEL": spec.get("log_level", "WARNING"), "TELNETCONSOLE_ENABLED": False,
            "REMOTE_CONTROL_ENABLED": False, **spec.get("settings", {})}


def run_bare(spec: dict) -> dict:
    from scrapy.crawler import CrawlerProcess

    from bench.spiders import BareSpider
    from crawler.siteconfig import load_site_config

    site = load_site_config(Path(spec["site_config"])).with_base_url(spec["base_url"])
    settings = {
        # The network behaviour the marketplace spider gets for this site, and nothing else.
        "USER_AGENT": "wildwatch-bench (bare Scrapy baseline)",
        "ROBOTSTXT_OBEY": site.politeness.obey_robots,
        "CONCURRENT_REQUESTS": 16,
        "CONCURRENT_REQUESTS_PER_DOMAIN": site.politeness.concurrency,
        "DOWNLOAD_DELAY": site.politeness.download_delay,
        "AUTOTHROTTLE_ENABLED": site.politeness.autothrottle,
        "COOKIES_ENABLED": False,
        **_quiet_settings(spec),
        **_clock(spec, {}),
    }
    process = CrawlerProcess(settings, install_root_handler=False)
    crawler = process.create_crawler(BareSpider)
    cpu = _cpu()
    process.crawl(crawler, site=site)
    process.start()
    stats = crawler.stats.get_stats()
    latencies = sorted(crawler.spider.latencies) or [0.0]
    return {"pages": stats.get("response_received_count", 0), "items": crawler.spider.detail_pages,
            "latency_ms": {q: round(1000 * latencies[min(len(latencies) - 1, int(len(latencies) * p))], 2)
                           for q, p in (("p50", 0.5), ("p95", 0.95), ("max", 1.0))},
            "seconds": _seconds(stats), "cpu_seconds": _cpu() - cpu, "peak_rss_mb": _peak_rss_mb(),
            **_read_clock(spec)}


def run_pipeline(spec: dict) -> dict:
    """wildwatch's own crawl (wildwatch.crawl.run_crawls), optionally with fewer item pipelines."""
    from crawler.siteconfig import load_site_config
    from wildwatch.config import Settings
    from wildwatch.crawl import run_crawls

    site = load_site_config(Path(spec["site_config"])).with_base_url(spec["base_url"])
    config = Settings.from_env()
    extra = dict(spec.get("settings", {}))
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "crawler.settings")
    from scrapy.utils.project import get_project_settings

    extra.update(_clock(spec, get_project_settings().getdict("EXTENSIONS")))
    if "pipelines" in spec:
        from crawler import settings as project

        extra["ITEM_PIPELINES"] = {k: v for k, v in project.ITEM_PIPELINES.items()
                                   if k.rsplit(".", 1)[1] in spec["pipelines"]}
    profiler = None
    if spec.get("profile"):
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    cpu = _cpu()
    outcomes = run_crawls([site], config, log_level=spec.get("log_level", "WARNING"), extra_settings=extra)
    cpu = _cpu() - cpu
    result: dict[str, Any] = {}
    if profiler is not None:
        import pstats

        from bench.profiling import top_functions

        profiler.disable()
        result["profile"] = top_functions(pstats.Stats(profiler), limit=16)
    summary = outcomes[0].summary
    result.update(pages=summary.get("pages", 0), items=summary.get("listings", 0), stored=summary.get("stored", 0),
                  seconds=summary.get("seconds"), cpu_seconds=cpu, peak_rss_mb=_peak_rss_mb(),
                  errors=summary.get("errors", 0), **_read_clock(spec))
    return result


def run_render(spec: dict) -> dict:
    from scrapy.crawler import CrawlerProcess

    from bench.spiders import RenderSpider
    from crawler.browser import launch_options

    settings = {
        "DOWNLOAD_HANDLERS": {
            "http": "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler",
            "https": "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler",
        },
        "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
        "PLAYWRIGHT_LAUNCH_OPTIONS": launch_options(spec.get("chromium")),
        "ROBOTSTXT_OBEY": False,
        "COOKIES_ENABLED": False,
        **_quiet_settings(spec),
    }
    abort = spec.get("abort")
    if abort:
        settings["PLAYWRIGHT_ABORT_REQUEST"] = abort
    process = CrawlerProcess(settings, install_root_handler=False)
    crawler = process.create_crawler(RenderSpider)
    cpu = _cpu()
    process.crawl(crawler, urls=spec["urls"], wait_for=spec["wait_for"], contexts=spec.get("contexts", 1),
                  wait_until=spec.get("wait_until"))
    process.start()
    stats = crawler.stats.get_stats()
    spider = crawler.spider
    return {"pages": spider.rendered, "failed": spider.missing, "seconds": _seconds(stats),
            "requests": stats.get("playwright/request_count", 0),
            "aborted": stats.get("playwright/request_count/aborted", 0),
            "cpu_seconds": _cpu() - cpu, "peak_rss_mb": _peak_rss_mb()}


def run_spider(spec: dict) -> dict:
    """The marketplace spider over one site with the project's settings and no item pipelines: what it
    extracted (every item's fields) and its stats. Used for the JSON-endpoint replay figure and tests."""
    from scrapy import signals
    from scrapy.crawler import CrawlerProcess

    from crawler.siteconfig import load_site_config
    from crawler.spiderloader import spider_class_for

    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "crawler.settings")
    from scrapy.utils.project import get_project_settings

    site = load_site_config(Path(spec["site_config"])).with_base_url(spec["base_url"])
    settings = get_project_settings()
    state = Path(spec["state_dir"])
    for key, value in {"ITEM_PIPELINES": {}, "WILDWATCH_STATE_DIR": str(state), "HTTPCACHE_DIR": str(state / "cache"),
                       "SPIDERMON_ENABLED": False, **_quiet_settings(spec)}.items():
        settings.set(key, value, priority="cmdline")
    settings.set("LOG_INSTALL_ROOT_HANDLER", False, priority="cmdline")
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(spider_class_for(site, settings.get("WILDWATCH_CHROMIUM")))
    items: list[dict] = []

    def collect(item, **_):
        items.append(item.to_dict())

    crawler.signals.connect(collect, signal=signals.item_scraped)  # held here: signals keep weak references
    cpu = _cpu()
    process.crawl(crawler)
    process.start()
    stats = crawler.stats.get_stats()
    return {"items": items, "pages": len(items), "seconds": _seconds(stats), "cpu_seconds": _cpu() - cpu,
            "stats": {k: v for k, v in stats.items() if isinstance(v, (int, float)) and not isinstance(v, bool)},
            "peak_rss_mb": _peak_rss_mb()}


def run_nightly(spec: dict) -> dict:
    """A real nightly run (wildwatch.nightly.run_nightly) over the configured sites; memory is the point."""
    from classifier.scorer import Scorer
    from wildwatch.config import Settings
    from wildwatch.nightly import run_nightly as nightly

    config = Settings.from_env()
    Scorer.load(config.models_dir)  # what the night holds before crawling: code, model, jieba/OpenCC tables
    floor = _rss_mb()
    wall, cpu = time.perf_counter(), _cpu()
    report = nightly(config, demo=False, log_level=spec.get("log_level", "WARNING"))
    totals = report.totals()
    return {"listings": totals["listings"], "stored": totals["stored"], "pages": totals["pages"],
            "errors": totals["errors"], "exported": report.exported_rows, "seconds": time.perf_counter() - wall,
            "cpu_seconds": _cpu() - cpu, "floor_rss_mb": floor, "peak_rss_mb": _peak_rss_mb(), "ok": report.ok}


def run_http_load(spec: dict) -> dict:
    """``clients`` logged-in clients (threads, keep-alive connections) ask for each list of paths in turn."""
    import http.client
    import re
    import threading
    from urllib.parse import urlencode, urlsplit

    base = urlsplit(spec["base_url"])
    groups: dict[str, list[str]] = spec["paths"]
    clients = int(spec["clients"])
    deadline = time.perf_counter() + float(spec.get("max_seconds") or 1e9)
    latencies: dict[str, list[float]] = {name: [] for name in groups}
    errors: dict[str, int] = {}
    lock = threading.Lock()

    def client(index: int) -> None:
        conn = http.client.HTTPConnection(base.hostname, base.port, timeout=60)

        def get(path: str, cookie: str = "", body: str | None = None):
            headers = {"Accept": "text/html", "Cookie": cookie}
            if body is not None:
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            conn.request("POST" if body is not None else "GET", path, body=body, headers=headers)
            response = conn.getresponse()
            return response, response.read()

        response, page = get("/login")
        cookie = (response.getheader("Set-Cookie") or "").split(";")[0]
        token = re.search(rb'name="csrf_token" value="([^"]+)"', page).group(1).decode()
        response, _ = get("/login", cookie, urlencode({"name": spec["user"], "password": spec["password"],
                                                       "csrf_token": token}))
        if response.status != 302:
            raise RuntimeError(f"login failed: HTTP {response.status}")
        cookie = (response.getheader("Set-Cookie") or cookie).split(";")[0]
        mine = {name: paths[index::clients] for name, paths in groups.items()}
        for step in range(max(len(p) for p in mine.values())):
            if time.perf_counter() > deadline:
                break
            for name, paths in mine.items():
                if step >= len(paths):
                    continue
                began = time.perf_counter()
                response, _ = get(paths[step], cookie if "baseline" not in name else "")
                elapsed = time.perf_counter() - began
                with lock:
                    if response.status == 200:
                        latencies[name].append(elapsed)
                    else:
                        errors[f"{name}: HTTP {response.status}"] = errors.get(f"{name}: HTTP {response.status}", 0) + 1
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    wall = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"latencies": latencies, "errors": errors, "seconds": time.perf_counter() - wall}


KINDS = {"http_load": run_http_load, "bare": run_bare, "pipeline": run_pipeline, "render": run_render, "nightly": run_nightly,
         "spider": run_spider}


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m bench.child SPEC.json RESULT.json", file=sys.stderr)
        return 2
    spec = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    kind = spec.get("kind")
    if kind not in KINDS:
        print(f"{argv[0]}: kind {kind!r} is not one of {', '.join(KINDS)}", file=sys.stderr)
        return 2
    result = KINDS[kind](spec)
    Path(argv[1]).write_text(json.dumps(result, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

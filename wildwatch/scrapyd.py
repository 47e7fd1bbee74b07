"""A night spread over crawl hosts: one scrapyd job per site, results collected from the shared database.

Every crawl host runs scrapyd with wildwatch installed and `[settings] wildwatch = crawler.settings`
in its scrapyd.conf (deploy/scrapyd/), and the same WILDWATCH_DATABASE_URL (PostgreSQL) in its
environment. `wildwatch nightly --scheduler scrapyd --scrapyd-url URL ...` then schedules each
enabled site as a job on the least busy host, tags the jobs with the night's id, waits for them,
and reads each site's crawl run (stats, crawl-health monitors) back from the database, so the
summary, the exit code and the export are the same as for a night crawled in one process.

Why no egg deploy (`scrapyd-deploy`): the crawler needs more than its Python code (the lexicon,
the trained model, site configs), and eggs do not carry them. Installing the package on each
host (pip, like any service) and pointing scrapyd at its settings module keeps every host on
the same tested version; scrapyd's addversion.json is not used.
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Callable
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode, urlsplit
from urllib.request import Request, urlopen

logger = logging.getLogger(__name__)

DEFAULT_PROJECT = "wildwatch"


class ScrapydError(RuntimeError):
    """A scrapyd host cannot be used (unreachable, project missing, job refused)."""


@dataclass
class Job:
    site: str
    server: str
    job_id: str
    state: str = "pending"  # pending, running, finished
    log_url: str | None = None


class ScrapydClient:
    """scrapyd's JSON API on one host (https://scrapyd.readthedocs.io/en/latest/api.html)."""

    def __init__(self, url: str, project: str = DEFAULT_PROJECT, timeout: float = 60.0):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ScrapydError(f"--scrapyd-url {url!r}: use http://HOST:6800")
        self.url = url.rstrip("/")
        self.project = project
        self.timeout = timeout

    def _call(self, endpoint: str, params: list[tuple[str, str]] | None = None, post: bool = False) -> dict:
        query = urlencode(params or [])
        target = f"{self.url}/{endpoint}" + ("" if post or not query else f"?{query}")
        request = Request(target, data=query.encode() if post else None, method="POST" if post else "GET")
        try:
            with urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - an operator-given http(s) URL
                answer = json.loads(response.read().decode("utf-8"))
        except HTTPError as exc:
            raise ScrapydError(f"scrapyd at {self.url}: {endpoint} answered HTTP {exc.code}") from None
        except (URLError, OSError) as exc:
            raise ScrapydError(f"scrapyd at {self.url} is not reachable: {getattr(exc, 'reason', exc)}") from None
        except ValueError:
            raise ScrapydError(f"scrapyd at {self.url}: {endpoint} did not answer JSON") from None
        if answer.get("status") != "ok":
            raise ScrapydError(f"scrapyd at {self.url}: {endpoint}: {answer.get('message', answer)}")
        return answer

    def load(self) -> int:
        """Jobs pending or running on this host."""
        status = self._call("daemonstatus.json")
        return int(status.get("pending", 0)) + int(status.get("running", 0))

    def spiders(self) -> list[str]:
        return list(self._call("listspiders.json", [("project", self.project)])["spiders"])

    def schedule(self, spider: str, job_id: str, settings: dict[str, str], args: dict[str, str]) -> str:
        params = [("project", self.project), ("spider", spider), ("jobid", job_id)]
        params += [("setting", f"{key}={value}") for key, value in settings.items()]
        params += list(args.items())
        return self._call("schedule.json", params, post=True)["jobid"]

    def jobs(self) -> dict[str, tuple[str, str | None]]:
        """job id -> (state, log URL) for this project's jobs."""
        answer = self._call("listjobs.json", [("project", self.project)])
        found: dict[str, tuple[str, str | None]] = {}
        for state in ("pending", "running", "finished"):
            for job in answer.get(state, []):
                log_url = job.get("log_url")
                found[job["id"]] = (state, f"{self.url}{log_url}" if log_url else None)
        return found


def run_site_jobs(sites, servers: list[ScrapydClient], nightly_id: str, *, night: int | None = None,
                  poll_seconds: float = 2.0, timeout: float = 12 * 3600,
                  progress: Callable[[str], None] = lambda line: None) -> list[Job]:
    """Schedule one job per site on the least busy host, and wait until every job has finished.

    `sites` are SiteConfigs; a site whose base URL was moved (the demo shops) gets it as the
    spider's base_url argument. Every host must list every site's spider: a host without the
    project or with other site configs is refused before anything is scheduled.
    """
    loads = {}
    for server in servers:
        missing = sorted({site.name for site in sites} - set(server.spiders()))
        if missing:
            raise ScrapydError(f"scrapyd at {server.url}: project {server.project!r} has no spider for "
                               f"{', '.join(missing)} (install the same wildwatch and site configs on every host)")
        loads[server.url] = server.load()
    by_url = {server.url: server for server in servers}
    jobs: list[Job] = []
    settings = {"WILDWATCH_NIGHTLY_ID": nightly_id}
    if night is not None:
        settings["WILDWATCH_NIGHT_INDEX"] = str(night)
    for site in sites:
        url = min(loads, key=lambda u: (loads[u], list(by_url).index(u)))
        args = {"base_url": site.base_url} if site.demo else {}
        job_id = by_url[url].schedule(site.name, f"{nightly_id}-{site.name}", settings, args)
        loads[url] += 1
        jobs.append(Job(site.name, url, job_id))
        logger.info("scheduled %s on %s as job %s", site.name, url, job_id)
        progress(f"scheduled {site.name} on {url} (job {job_id})")
    deadline = time.monotonic() + timeout
    while any(job.state != "finished" for job in jobs):
        if time.monotonic() > deadline:
            raise ScrapydError("scrapyd jobs still unfinished after the time allowed: "
                               + ", ".join(f"{job.site} on {job.server}" for job in jobs if job.state != "finished"))
        time.sleep(poll_seconds)
        for url in {job.server for job in jobs if job.state != "finished"}:
            try:
                states = by_url[url].jobs()
            except ScrapydError as exc:  # a host that stops answering for a while: keep waiting on it
                logger.warning("%s", exc)
                continue
            for job in jobs:
                if job.server == url and job.job_id in states:
                    state, log_url = states[job.job_id]
                    if state != job.state:
                        progress(f"{job.site}: {state} on {url}")
                    job.state, job.log_url = state, log_url or job.log_url
    return jobs


def outcomes_from_store(database_url: str, nightly_id: str, jobs: list[Job]):
    """One CrawlOutcome per job, from the crawl run the job recorded under the night's id."""
    from sqlalchemy import select

    from store.db import make_engine, session_scope
    from store.models import CrawlRun, Marketplace
    from wildwatch.crawl import CrawlOutcome

    engine = make_engine(database_url)
    try:
        with session_scope(engine) as session:
            rows = session.execute(select(Marketplace.name, CrawlRun).join(CrawlRun.marketplace)
                                   .where(CrawlRun.nightly_id == nightly_id).order_by(CrawlRun.id)).all()
            runs = {name: (run.id, run.status, dict(run.stats or {}), run.error) for name, run in rows}
    finally:
        engine.dispose()
    outcomes = []
    for job in jobs:
        where = f"job {job.job_id} on {job.server}" + (f", log {job.log_url}" if job.log_url else "")
        if job.site not in runs:
            outcomes.append(CrawlOutcome(job.site, None, {}, error=f"no crawl run recorded ({where})"))
            continue
        run_id, status, stats, error = runs[job.site]
        problem = None if status in ("succeeded", "partial") else \
            f"crawl run {run_id} is {status}" + (f": {error}" if error else "") + f" ({where})"
        monitors = stats.get("monitors") or {}
        health = [f"{name}: {result.get('message')}" for name, result in monitors.items() if not result.get("ok")]
        outcomes.append(CrawlOutcome(job.site, run_id, stats, health_problems=health, error=problem))
    return outcomes


def crawl_on_scrapyd(sites, database_url: str, scrapyd_urls: list[str], nightly_id: str, *, project: str,
                     night: int | None, log_file, progress: Callable[[str], None] = lambda line: None):
    """The nightly job's crawl step on scrapyd hosts; what was scheduled where goes to the night's log file."""
    servers = [ScrapydClient(url, project) for url in scrapyd_urls]
    log_file.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(log_file, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        jobs = run_site_jobs(sites, servers, nightly_id, night=night, progress=progress)
        for job in jobs:
            logger.info("%s: job %s on %s finished; log %s", job.site, job.job_id, job.server, job.log_url)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        handler.close()
    return outcomes_from_store(database_url, nightly_id, jobs)

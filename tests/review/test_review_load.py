"""Load: the review app as `wildwatch review` serves it, 100k stored listings, 50 logged-in analysts at once.

WILDWATCH_LOAD_LISTINGS (default 100,000; .ci/run sets 20,000) listings are seeded; for
WILDWATCH_LOAD_SECONDS (default 60; 10 in CI) every client asks in turn for queue pages with filters,
listing pages and posts decisions (with the CSRF token of its session). Every request must be
answered (no 5xx, no refused or timed-out connection), and every decision the app accepted must be
in `decisions` and in `audit_log`, with each listing's current decision the newest one. Response
times are reported in the test summary, never asserted (the machine is shared). Runs on SQLite, and
on PostgreSQL in `make test`'s second pass. `pytest -m load` selects it.
"""
from __future__ import annotations

import os
import random
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from bench.review_app import GROUPS, MARKETPLACES, seed
from support.cli import ROOT
from review.auth import hash_password
from store.db import make_engine, session_scope
from store.models import DECISIONS, AuditEntry, Decision, Listing
from store.decisions import add_user

pytestmark = pytest.mark.load

LISTINGS = int(os.environ.get("WILDWATCH_LOAD_LISTINGS", "100000"))
SECONDS = float(os.environ.get("WILDWATCH_LOAD_SECONDS", "60"))
CLIENTS = 50
ANALYSTS = 10  # five sessions each; every session decides only its own slice of listings
PASSWORD = "load-test-password-1"
QUEUE_QUERIES = [
    {}, {"status": "undecided"}, {"status": "decided"}, {"status": "confirmed"}, {"order": "uncertain"},
    {"species": GROUPS[2]}, {"marketplace": MARKETPLACES[1]}, {"source": "tip"}, {"min_score": "0.8"},
    {"marketplace": MARKETPLACES[0], "species": GROUPS[0], "status": "undecided"},
]
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


class Served:
    """`wildwatch review --port 0` in its own process, on the test's database."""

    def __init__(self, url: str, data_dir: Path, log: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("WILDWATCH_")}
        env.update({"WILDWATCH_DATABASE_URL": url, "WILDWATCH_DATA_DIR": str(data_dir), "COLUMNS": "500",
                    "PYTHONPATH": str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")})
        self.log = log
        self._log = log.open("w", encoding="utf-8")
        self.process = subprocess.Popen([sys.executable, "-m", "wildwatch", "review", "--port", "0"], cwd=ROOT,
                                        env=env, stdout=subprocess.PIPE, stderr=self._log, text=True)
        line = self.process.stdout.readline()  # "wildwatch review at http://127.0.0.1:PORT ..."
        found = re.search(r"http://127\.0\.0\.1:\d+", line)
        if not found:
            self.stop()
            pytest.fail(f"`wildwatch review` did not start: {line!r}\n{log.read_text(encoding='utf-8')[-3000:]}")
        self.base = found.group(0)

    def problems(self) -> str:
        """The server log without its INFO lines (tracebacks, warnings), for a failure message."""
        lines = self.log.read_text(encoding="utf-8", errors="replace").splitlines()
        return "\n".join([line for line in lines if " INFO " not in line][-80:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # the command's own Ctrl-C path
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


class Tally:
    """What the clients saw: latencies per kind, failures, accepted decisions (thread-safe)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.failures: list[str] = []
        self.decided: list[tuple[int, str]] = []

    def record(self, kind: str, seconds: float, problem: str | None = None) -> None:
        with self.lock:
            self.latency[kind].append(seconds)
            if problem:
                self.failures.append(f"{kind}: {problem}")


def _login(base: str, name: str) -> tuple[requests.Session, str]:
    session = requests.Session()
    session.headers["Accept"] = "text/html"
    form = session.get(f"{base}/login", timeout=120)
    answer = session.post(f"{base}/login", data={"name": name, "password": PASSWORD,
                                                 "csrf_token": TOKEN.search(form.text).group(1)},
                          allow_redirects=False, timeout=120)
    assert answer.status_code == 302, f"login as {name}: HTTP {answer.status_code}"
    token = TOKEN.search(session.get(f"{base}/", timeout=120).text).group(1)  # this session's CSRF token
    return session, token


class Window:
    """The timed window: it opens when every client has logged in (logins are Argon2 work, not load)."""

    def __init__(self, clients: int, seconds: float) -> None:
        self.seconds = seconds
        self.start = self.end = 0.0
        self.barrier = threading.Barrier(clients, action=self._open, timeout=600)

    def _open(self) -> None:
        self.start = time.monotonic()
        self.end = self.start + self.seconds


def _client(index: int, base: str, ids: list[int], mine: list[int], window: Window, tally: Tally) -> None:
    rnd = random.Random(index)
    try:
        session, token = _login(base, f"analyst{index % ANALYSTS}")
    except BaseException:
        window.barrier.abort()  # the others stop waiting, and the test reports this error
        raise
    window.barrier.wait()
    sent = 0
    with session:
        while time.monotonic() < window.end:
            roll = rnd.random()
            if roll < 0.5:
                kind, method = "queue page", "GET"
                params = {**rnd.choice(QUEUE_QUERIES), "page": str(rnd.randint(1, 20))}
                url, data, expected = f"{base}/", None, 200
            elif roll < 0.85:
                kind, method, params = "listing page", "GET", None
                url, data, expected = f"{base}/listing/{rnd.choice(ids)}", None, 200
            else:
                kind, method, params = "decision", "POST", None
                listing_id, decision = rnd.choice(mine), rnd.choice(DECISIONS)
                sent += 1
                url, expected = f"{base}/listing/{listing_id}/decision", 302
                # a new note each time: repeating the current decision and note would (rightly) store nothing
                data = {"decision": decision, "note": f"load client {index} #{sent}", "csrf_token": token}
            began = time.perf_counter()
            try:
                response = session.request(method, url, params=params, data=data, allow_redirects=False,
                                           timeout=(10, 120))
                status = response.status_code
                problem = None if status == expected else f"HTTP {status} for {method} {response.url}"
            except requests.RequestException as exc:
                problem = f"{type(exc).__name__} for {method} {url}: {exc}"
            tally.record(kind, time.perf_counter() - began, problem)
            if kind == "decision" and problem is None:
                with tally.lock:
                    tally.decided.append((listing_id, decision))


def _ms(samples: list[float], q: float) -> float:
    if len(samples) < 2:
        return 1000 * (samples[0] if samples else 0.0)
    return 1000 * statistics.quantiles(samples, n=100, method="inclusive")[round(q * 100) - 1]


def test_review_app_under_50_concurrent_analysts(db_url, tmp_path, report):
    began = time.perf_counter()
    ids = seed(db_url, LISTINGS)
    seed_seconds = time.perf_counter() - began
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as s:
            for n in range(ANALYSTS):
                add_user(s, f"analyst{n}", hash_password(PASSWORD), "analyst", actor="test")
            flagged = list(s.scalars(sa.select(Listing.id).where(Listing.current_flagged.is_(True))
                                     .order_by(Listing.id)))
        server = Served(db_url, tmp_path / "data", tmp_path / "review.log")
        tally, window = Tally(), Window(CLIENTS, SECONDS)
        try:
            with ThreadPoolExecutor(CLIENTS) as pool:
                clients = [pool.submit(_client, i, server.base, ids, flagged[i::CLIENTS], window, tally)
                           for i in range(CLIENTS)]
                for client in clients:
                    client.result()
            wall = time.monotonic() - window.start
        finally:
            server.stop()
        with engine.connect() as c:
            stored = c.execute(sa.select(sa.func.count(Decision.id))).scalar_one()
            audited = c.execute(sa.select(sa.func.count(AuditEntry.id)).where(AuditEntry.action == "decision")
                                ).scalar_one()
            newest = dict(c.execute(
                sa.select(Decision.listing_id, Decision.id).order_by(Decision.decided_at, Decision.id)).all())
            current = dict(c.execute(sa.select(Listing.id, Listing.current_decision_id)
                                     .where(Listing.current_decision_id.is_not(None))).all())
    finally:
        engine.dispose()

    served = sum(len(v) for v in tally.latency.values())
    figures = "; ".join(f"{kind} n {len(v)}, p50 {_ms(v, 0.5):,.0f} ms, p95 {_ms(v, 0.95):,.0f} ms"
                        for kind, v in sorted(tally.latency.items()))
    report(f"[review load, {db_url.split(':')[0].split('+')[0]}] {LISTINGS:,} listings (seeded in {seed_seconds:.0f} s), "
           f"{CLIENTS} clients for {wall:.0f} s: {served:,} requests ({served / wall:.1f}/s), "
           f"{len(tally.failures)} failed; {figures}; {len(tally.decided)} decisions accepted, {stored} stored")

    assert not tally.failures, (f"{len(tally.failures)} requests failed, e.g. {tally.failures[:5]}\n"
                                f"server log {server.log}:\n{server.problems()}")
    assert len(tally.latency["decision"]) > 0 and len(tally.latency["queue page"]) > 0, "the load never ran"
    assert stored == audited == len(tally.decided)
    assert current == newest  # each listing's current decision is its newest, whatever the interleaving

"""Review app: p50/p95 response times of the queue and listing pages under concurrent analysts.

The database is filled with ``listings`` stored listings (half of them
flagged, each with a score and evidence) by bulk INSERTs (``seed``);
the app (``review.app.create_app``) is served by waitress exactly as
``wildwatch review`` serves it, on 127.0.0.1 in this process; ``clients``
logged-in clients in a separate process ask for queue pages (highest score
first, and "most uncertain first" among undecided listings, the menu's second
view) and listing pages as fast as they are answered.  The baseline, asked by the same clients
in the same run, is the login page: the same server, Flask and templates with
no database query, i.e. the floor of the stack.
"""
from __future__ import annotations

import random
import secrets
import time
from dataclasses import replace
from pathlib import Path

from bench.results import Figure, StageResult
from bench.runs import child_env, run_child
from bench.storage import items_from_catalog

__all__ = ["run", "seed"]

STAGE = "review app"
USER = "bench"
#: The goal for the queue and listing pages at 100,000 listings and 20 clients (the review app's speed issue).
P95_GOAL_MS = 150.0


GROUPS = ("ivory", "rhino_horn", "pangolin", "tiger", "hawksbill", "hornbill")
MARKETPLACES = ("bench", "bench-b")


def seed(url: str, listings: int, *, tips: int = 20) -> list[int]:
    """Migrate ``url`` and bulk-store ``listings`` listings with scores; returns their row ids.

    Listings (split over MARKETPLACES) and one score each (about half flagged,
    species from GROUPS) go in as plain executemany INSERTs in one
    transaction, then ``repository.refresh_current`` fills the listings'
    current-score columns as a crawl's ``record_scores`` does; ``tips``
    unflagged listings are queued as tips. PostgreSQL then gets ANALYZE, as
    autovacuum would give it shortly after. 100k listings take about 10 s on
    SQLite and 35 s on PostgreSQL, not the minutes of the crawl's upsert path.
    """
    from sqlalchemy import func, select, text

    from bench.storage import _batches, _insert_params
    from store import db
    from store import repository as repo
    from store.columns import utcnow
    from store.models import Listing, Score
    from store.decisions import record_tip

    db.upgrade(url)
    engine = db.make_engine(url)
    rnd = random.Random(7)
    try:
        with db.session_scope(engine) as session:
            if session.scalar(select(func.count(Listing.id))):
                raise ValueError(f"{db.redact(url)} already holds listings: seed an empty database")
            model = repo.ensure_model_version(session, "bench-model", {"threshold": 0.5})
            params: list[dict] = []
            items = items_from_catalog(-(-listings // len(MARKETPLACES)), MARKETPLACES[0])  # the same ids in each shop
            for index, name in enumerate(MARKETPLACES):
                market = repo.get_or_create_marketplace(session, name, "http://127.0.0.1:8765")
                run = repo.start_run(session, market)
                share = listings // len(MARKETPLACES) + (index < listings % len(MARKETPLACES))
                params += _insert_params(items[:share], market.id, run.id)
                repo.finish_run(session, run, "succeeded", {"listings": share})
            for chunk in _batches(params, 2000):
                session.execute(repo.LISTINGS.insert(), chunk)
            rows = session.execute(select(Listing.id, Listing.last_run_id).order_by(Listing.id)).all()
            ids = [listing_id for listing_id, _run in rows]
            now, scores = utcnow(), []
            for listing_id, run_id in rows:
                score = round(rnd.random(), 4)
                group = GROUPS[listing_id % len(GROUPS)]
                evidence = [{"rule": "term", "kind": "product", "term": "象牙", "group": group,
                             "field": "title", "weight": 0.7}] if score >= 0.5 else []
                scores.append({"listing_id": listing_id, "run_id": run_id, "model_version_id": model.id,
                               "score": score, "flagged": score >= 0.5, "threshold": 0.5,
                               "species": [group] if evidence else [], "evidence": evidence, "scored_at": now})
            for chunk in _batches(scores, 2000):
                session.execute(repo.SCORES.insert(), chunk)
            repo.refresh_current(session, Score)  # every listing, in two statements
            unflagged = [row["listing_id"] for row in scores if not row["flagged"]]
            for listing_id in unflagged[:: max(1, len(unflagged) // max(1, tips))][:tips]:
                record_tip(session, f"http://127.0.0.1:8765/tip/{listing_id}", USER, status="stored",
                           listing_id=listing_id)
        if engine.dialect.name == "postgresql":  # what autovacuum would do soon after a load this size
            with engine.connect() as connection:
                connection.execute(text("ANALYZE"))
                connection.commit()
    finally:
        engine.dispose()
    return ids


def _add_user(url: str, password: str) -> None:
    from review.auth import hash_password
    from store import db
    from store.decisions import add_user

    engine = db.make_engine(url)
    try:
        with db.session_scope(engine) as session:
            add_user(session, USER, hash_password(password), "analyst", actor="bench")
    finally:
        engine.dispose()


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples) or [0.0]
    pick = lambda p: ordered[min(len(ordered) - 1, int(p * len(ordered)))]  # noqa: E731
    return {"p50": 1000 * pick(0.50), "p95": 1000 * pick(0.95), "max": 1000 * ordered[-1], "n": len(samples)}


def run(workdir: Path, listings: int, *, clients: int = 20, requests_per_client: int = 20,
        max_seconds: float = 120.0, database_url: str | None = None) -> StageResult:
    from review.app import create_app
    from review.server import ReviewServer
    from wildwatch.config import Settings

    import logging

    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "Task queue depth" is the load we asked for
    result = StageResult(STAGE)
    url = database_url or f"sqlite:///{workdir / f'review-{listings}-{time.monotonic_ns()}.db'}"
    began = time.perf_counter()
    ids = seed(url, listings)
    seed_seconds = time.perf_counter() - began
    password = secrets.token_urlsafe(18)
    _add_user(url, password)
    settings = replace(Settings.from_env(), database_url=url, data_dir=workdir / "review-data")
    app = create_app(settings)
    pages = max(1, min(50, listings // 2 // 50))  # queue pages to spread over (flagged listings, 50 a page)
    rnd = random.Random(11)
    paths = {
        "queue page": [f"/?page={rnd.randint(1, pages)}" for _ in range(clients * requests_per_client)],
        "most uncertain page": [f"/?order=uncertain&status=undecided&page={rnd.randint(1, pages)}"
                                for _ in range(clients * requests_per_client)],
        "listing page": [f"/listing/{rnd.choice(ids)}" for _ in range(clients * requests_per_client)],
        "login page (baseline)": ["/login"] * (clients * requests_per_client),
    }
    with ReviewServer(app, host="127.0.0.1", port=0) as server:
        spec = {"kind": "http_load", "base_url": server.url, "user": USER, "password": password,
                "clients": clients, "paths": paths, "max_seconds": max_seconds}
        load = run_child(spec, workdir / "specs", child_env(), timeout=1800)
    app.extensions["wildwatch_engine"].dispose()
    stats = {name: _percentiles(samples) for name, samples in load["latencies"].items()}
    floor = stats["login page (baseline)"]
    for name in ("queue page", "listing page", "most uncertain page"):
        for q in ("p50", "p95"):
            goal = q == "p95" and name != "most uncertain page" and listings >= 100_000
            result.figures.append(Figure(STAGE, f"{name} {q}, {listings:,} listings, {clients} clients",
                                         stats[name][q], "ms", f"login page {q}", floor[q],
                                         goal=f"< {P95_GOAL_MS:.0f} ms" if goal else None,
                                         goal_value=P95_GOAL_MS if goal else None, goal_value_op="<="))
    result.details = {"listings": listings, "clients": clients, "database": url.split(":")[0],
                      "seed_seconds": round(seed_seconds, 1), "latency_ms": stats,
                      "errors": load.get("errors", {}), "server_cpu_seconds": load.get("parent_cpu_seconds"),
                      "requests_per_second": round(sum(v["n"] for v in stats.values()) / max(load["seconds"], 1e-9), 1)}
    asked = clients * requests_per_client
    short = {name: v["n"] for name, v in stats.items() if v["n"] < asked}
    if short:
        result.notes.append(f"the clients stopped after {max_seconds:.0f} s with fewer answers than planned "
                            f"({asked} each): {short}; the percentiles are over the answers received")
    if load.get("errors"):
        result.notes.append(f"failed requests: {load['errors']}")
    result.notes.append(
        f"{listings:,} listings seeded in {seed_seconds:.0f} s; waitress with the app's default threads; "
        f"{clients} clients each ask in turn for queue pages (1–{pages}), most-uncertain pages, listing pages and "
        "the login page"
    )
    return result

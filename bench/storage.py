"""Storage: listing upserts per second in batches, SQLite and PostgreSQL, against a plain INSERT.

Items are demo-catalog listings as the crawler hands them to the store
(``ListingItem`` dicts with a content hash).  Each batch is one transaction,
as in the crawl's StorePipeline.  The baseline writes the same rows with a
bare executemany INSERT (rows validated beforehand, untimed): the floor of
putting these rows in this database.  ``repository.upsert_listings`` is then
timed on new listings, on a re-crawl where nothing changed, and on one where
10% of listings changed (snapshots written for those). Recording scores and reading the
flagged listings back (``listings_frame``) are timed too and reported in the details (no
baseline; formerly ``python -m store.bench``).
"""
from __future__ import annotations

import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bench.results import Figure, StageResult

__all__ = ["run", "items_from_catalog"]

STAGE = "storage"


def items_from_catalog(count: int, marketplace: str, revision: int = 0, *, catalog_path: Path | None = None) -> list[dict]:
    """``count`` crawler items built from the demo catalog; ``revision`` > 0 changes every 10th listing."""
    from crawler.items import ListingItem
    from wildwatch.config import DEMO_CATALOG
    from wildwatch.demo.catalog import load_catalog

    templates = load_catalog(catalog_path or DEMO_CATALOG)
    items = []
    for n in range(count):
        t = templates[n % len(templates)]
        changed = revision and n % 10 == 0
        item = ListingItem(
            marketplace=marketplace, listing_id=f"L{n:06d}", url=f"http://127.0.0.1:8765/item/L{n:06d}",
            title=f"{t.title} #{n}", description=t.description + (f" (更新 {revision})" if changed else ""),
            price=t.price, currency=t.currency, price_text=t.price_text, seller_id=t.seller_id,
            seller_name=t.seller_name, seller_url=f"http://127.0.0.1:8765/seller/{t.seller_id}", location=t.location,
            images=[f"http://127.0.0.1:8765{p}" for p in t.images], posted_at=t.posted, category=t.category,
            extraction="jsonld", rendered=False, crawled_at="2026-11-25T02:00:00+00:00",
        )
        row = item.to_dict()
        row["content_hash"] = item.content_hash()
        items.append(row)
    return items


def _insert_params(items: list[dict], marketplace_id: int, run_id: int) -> list[dict[str, Any]]:
    """The listing rows an upsert would write, for the bare INSERT baseline (computed before timing)."""
    from store.columns import utcnow
    from store.validation import listing_row

    now = utcnow()
    params = []
    for index, item in enumerate(items):
        row = listing_row(item, index, item["marketplace"])
        params.append({**row.values, "marketplace_id": marketplace_id, "external_id": row.external_id,
                       "content_hash": row.content_hash, "first_seen_at": row.seen_at or now,
                       "last_seen_at": row.seen_at or now, "gone_at": None, "first_run_id": run_id,
                       "last_run_id": run_id})
    return params


def _batches(rows: list, size: int):
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _measure(url: str, count: int, batch: int, attempt: int = 0) -> dict[str, float]:
    """Rows per second for each write path at one batch size, on a migrated database at ``url``."""
    from store import db
    from store import repository as repo
    from store.repository import LISTINGS

    engine = db.make_engine(url)
    rates: dict[str, float] = {}
    try:
        with db.session_scope(engine) as session:
            base = repo.get_or_create_marketplace(session, f"insert-b{batch}-{attempt}")
            market = repo.get_or_create_marketplace(session, f"upsert-b{batch}-{attempt}")
            base_run, run = repo.start_run(session, base), repo.start_run(session, market)
            ids = (base.id, base_run.id, market.id, run.id)
        from store.models import CrawlRun, Marketplace

        params = _insert_params(items_from_catalog(count, f"insert-b{batch}-{attempt}"), ids[0], ids[1])
        new, changed = (items_from_catalog(count, f"upsert-b{batch}-{attempt}", rev) for rev in (0, 1))

        start = time.perf_counter()
        for chunk in _batches(params, batch):
            with db.session_scope(engine) as session:
                session.execute(LISTINGS.insert(), chunk)
        rates["insert"] = count / (time.perf_counter() - start)

        row_ids: dict[str, int] = {}

        def upsert(items: list[dict]) -> float:
            began = time.perf_counter()
            for chunk in _batches(items, batch):
                with db.session_scope(engine) as session:
                    row_ids.update(repo.upsert_listings(session, session.get(CrawlRun, ids[3]),
                                                        session.get(Marketplace, ids[2]), chunk))
            return count / (time.perf_counter() - began)

        rates["upsert_new"] = upsert(new)
        rates["upsert_unchanged"] = upsert(new)
        rates["upsert_changed"] = upsert(changed)
        rates.update(_measure_scores_and_reads(engine, ids[3], list(row_ids.values()), batch, f"bench-b{batch}-{attempt}",
                                               f"upsert-b{batch}-{attempt}"))
    finally:
        engine.dispose()
    return rates


def _measure_scores_and_reads(engine, run_id: int, row_ids: list[int], batch: int, model: str,
                              marketplace: str) -> dict[str, float]:
    """Rows per second for recording one score per listing (twice: the score history grows) and for reading
    the flagged listings back with their latest score (repository.listings_frame, what exports and the
    dashboard read). Reported in the stage's details: they have no plain-SQL baseline."""
    from store import db
    from store import repository as repo
    from store.models import CrawlRun, ModelVersion

    with db.session_scope(engine) as session:
        model_id = repo.ensure_model_version(session, model, {}).id
    scores = [(row_id, {"score": (n % 100) / 100, "flagged": n % 100 >= 50, "species": ["ivory"],
                        "evidence": [{"kind": "coded", "term": "象牙", "species": "ivory"}]})
              for n, row_id in enumerate(row_ids)]

    def record() -> float:
        began = time.perf_counter()
        for chunk in _batches(scores, batch):
            with db.session_scope(engine) as session:
                repo.record_scores(session, session.get(CrawlRun, run_id), session.get(ModelVersion, model_id), chunk)
        return len(scores) / (time.perf_counter() - began)

    rates = {"record_scores": record(), "record_scores_again": record()}
    repo.listings_frame(engine, marketplace="")  # warm-up: pandas and the query compile once per process
    began = time.perf_counter()
    frame = repo.listings_frame(engine, marketplace=marketplace)
    rates["listings_frame_flagged"] = max(len(frame), 1) / (time.perf_counter() - began)
    return rates


def run(workdir: Path, count: int, *, batch_sizes: tuple[int, ...] = (100,), postgres: bool = True,
        repeats: int = 1) -> StageResult:
    from store import db

    result = StageResult(STAGE)
    backends: list[tuple[str, Any]] = [("SQLite", None)]
    if postgres:
        from store.testing import postgres_unavailable_reason

        reason = postgres_unavailable_reason()
        if reason:
            result.notes.append(f"PostgreSQL not measured: {reason}")
        else:
            backends.append(("PostgreSQL", "postgresql"))
    measured: dict[str, dict[int, dict[str, float]]] = {}
    for label, backend in backends:
        for batch in batch_sizes:
            with ExitStack() as stack:
                if backend is None:
                    url = f"sqlite:///{workdir / f'storage-{batch}-{time.monotonic_ns()}.db'}"
                else:
                    from store.testing import temporary_postgres_database

                    url = stack.enter_context(temporary_postgres_database())
                db.upgrade(url)
                rates: dict[str, float] = {}
                for attempt in range(max(1, repeats)):  # best of: each repeat writes its own marketplaces
                    for key, value in _measure(url, count, batch, attempt).items():
                        rates[key] = max(rates.get(key, 0.0), value)
            measured.setdefault(label, {})[batch] = rates
            for key, name in (("upsert_new", "upsert, all new (+ snapshots)"),
                              ("upsert_unchanged", "upsert, re-crawl, nothing changed"),
                              ("upsert_changed", "upsert, re-crawl, 10% changed")):
                result.figures.append(Figure(STAGE, f"{label}, batch {batch}: {name}", rates[key], "rows/s",
                                             "plain INSERT", rates["insert"]))
    result.details = {"rows": count, "batch_sizes": list(batch_sizes),
                      "rates_rows_per_second": {b: {str(k): {n: round(v, 1) for n, v in r.items()} for k, r in m.items()}
                                                for b, m in measured.items()}}
    return result

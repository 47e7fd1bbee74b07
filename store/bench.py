"""Benchmark the store's hot paths: upsert (new and unchanged listings), scoring, listings_frame.

    python -m store.bench                       # SQLite in a temporary directory
    python -m store.bench --url postgresql+psycopg://root@127.0.0.1:5432/test_bench --listings 5000

The database at --url must be empty or disposable: the benchmark migrates it and writes to it.
"""
from __future__ import annotations

import argparse
import hashlib
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from store import db
from store import repository as repo


def _items(count: int, marketplace: str, revision: int) -> list[dict[str, Any]]:
    items = []
    for n in range(count):
        title = f"象牙手镯 老货 #{n}"
        description = "私人收藏，懂行的来。" * 10  # noqa: RUF001 - Chinese punctuation on purpose
        description += f" r{revision if n % 10 == 0 else 0}"
        item = {
            "marketplace": marketplace, "listing_id": f"L{n}", "url": f"http://127.0.0.1/item/{n}",
            "title": title, "description": description, "price": float(n), "currency": "CNY",
            "price_text": f"¥{n}", "seller_id": f"s{n % 97}", "seller_name": "卖家", "seller_url": None,
            "location": "广东", "images": [f"http://127.0.0.1/img/{n}.jpg"], "posted_at": "2026-01-01",
            "category": "收藏", "extraction": "selectors", "rendered": False, "crawled_at": "", "score": None,
        }
        item["content_hash"] = hashlib.sha256(f"{title}{description}".encode()).hexdigest()
        items.append(item)
    return items


def _timed(label: str, count: int, action: Callable[[], object]) -> None:
    start = time.perf_counter()
    action()
    elapsed = time.perf_counter() - start
    print(f"{label:<44} {count:>7} rows {elapsed:8.3f} s {count / elapsed:10.0f} rows/s")


def run(url: str, count: int) -> None:
    """Migrate `url`, then time each write and read path once at `count` listings."""
    db.upgrade(url)
    engine = db.make_engine(url)
    try:
        with db.session_scope(engine) as session:
            market = repo.get_or_create_marketplace(session, "bench")
            model = repo.ensure_model_version(session, "bench-1", {})
            run1 = repo.start_run(session, market)
        first, second = _items(count, "bench", 1), _items(count, "bench", 2)
        ids: dict[str, int] = {}

        def upsert(items: list[dict[str, Any]], crawl: Any) -> None:
            with db.session_scope(engine) as session:
                ids.update(repo.upsert_listings(session, crawl, market, items))

        _timed("upsert, all new (+ snapshots)", count, lambda: upsert(first, run1))
        _timed("upsert again, 10% changed", count, lambda: upsert(second, run1))
        scores = [(ids[f"L{n}"], {"score": (n % 100) / 100, "flagged": n % 100 >= 50, "species": ["ivory"],
                                  "evidence": [{"kind": "coded", "term": "象牙", "species": "ivory"}]})
                  for n in range(count)]

        def record() -> None:
            with db.session_scope(engine) as session:
                repo.record_scores(session, run1, model, scores)

        _timed("record_scores", count, record)
        _timed("record_scores again (history grows)", count, record)
        _timed("listings_frame(flagged_only=True)", count // 2, lambda: repo.listings_frame(engine))
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="database URL (default: a new SQLite file in a temporary directory)")
    parser.add_argument("--listings", type=int, default=5000)
    args = parser.parse_args()
    if args.url:
        print(f"database: {db.redact(args.url)}")
        run(args.url, args.listings)
        return
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        print(f"database: {url}")
        run(url, args.listings)


if __name__ == "__main__":
    main()

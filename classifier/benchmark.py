"""Throughput benchmark for ``Scorer.score_many``: ``python -m classifier.benchmark``.

Speed is measured here, never asserted in tests.  Listings are built from the
labelled data's titles and descriptions, cut or repeated to a fixed length
(200 characters by default, a typical marketplace listing).
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

from classifier.labelled import read_labelled
from classifier.scorer import Scorer
from wildwatch.config import LABELLED_DIR

__all__ = ["make_listings", "measure", "main"]


def make_listings(n: int, length: int = 200, *, seed: int = 0, source: Path = LABELLED_DIR / "listings.csv") -> list[dict]:
    """``n`` listings whose title + description total ``length`` characters."""
    rows, _ = read_labelled(source)
    rnd = random.Random(seed)
    listings = []
    for i in range(n):
        row = rnd.choice(rows)
        body = (row.description or row.title) + " "
        while len(row.title) + len(body) < length:
            body += rnd.choice(rows).description or rnd.choice(rows).title
        listings.append({"id": str(i), "title": row.title, "description": body[: max(0, length - len(row.title))]})
    return listings


def measure(scorer: Scorer, listings: list[dict], batch_size: int = 512, repeats: int = 3) -> tuple[float, float]:
    """Best-of-``repeats`` (wall-clock, CPU-time) listings per second for batched scoring.

    CPU time is reported too because shared machines make wall-clock figures
    swing with other people's load; CPU time is what one core can do.
    """
    scorer.score_many(listings[:batch_size])  # warm-up: lazy imports, OpenCC
    best_wall = best_cpu = 0.0
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        for i in range(0, len(listings), batch_size):
            scorer.score_many(listings[i : i + batch_size])
        best_wall = max(best_wall, len(listings) / (time.perf_counter() - wall))
        best_cpu = max(best_cpu, len(listings) / max(time.process_time() - cpu, 1e-9))
    return best_wall, best_cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=Path, help="models root or version dir (default: a fresh model in a temp dir)")
    parser.add_argument("-n", type=int, default=5000, help="number of listings")
    parser.add_argument("--length", type=int, default=200, help="characters per listing")
    parser.add_argument("--batch-size", type=int, default=512)
    args = parser.parse_args(argv)
    # One core, as the crawler's scoring pipeline gets.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    if args.models is None:
        from classifier.train import train

        report = train(models_dir=Path(tempfile.mkdtemp(prefix="wildwatch-bench-")))
        print(report.summary())
        args.models = report.version_dir
    scorer = Scorer.load(args.models)
    listings = make_listings(args.n, args.length)
    wall, cpu = measure(scorer, listings, args.batch_size)
    start = time.process_time()
    for listing in listings[:200]:
        scorer.score(listing["title"], listing["description"])
    single = 200 / max(time.process_time() - start, 1e-9)
    print(
        f"{scorer.version}: score_many {wall:,.0f} listings/s wall-clock, {cpu:,.0f} listings/s of CPU time "
        f"({args.length} chars, batch {args.batch_size}); score() one at a time {single:,.0f} listings/s of CPU time"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

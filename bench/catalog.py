"""Synthetic Demo Bazaar catalogs of any size up to 9,999 listings, built from the demo shop's own listings.

The demo catalog's 400 listings are the templates (their Chinese/English text,
prices, sellers and categories); copies get new ids, their own image paths and
a numbered title so every listing is a distinct row in the store.  ``styles``
picks the page layouts: static pages (JSON-LD and plain HTML) for the crawl and
memory benchmarks, JavaScript pages for the rendering benchmark.
"""
from __future__ import annotations

import json
from pathlib import Path

from wildwatch.config import DEMO_CATALOG
from wildwatch.demo.catalog import load_catalog

__all__ = ["MAX_LISTINGS", "write_catalog"]

MAX_LISTINGS = 9999  # the demo shop's ids are DB-0001 ... DB-9999
STATIC = ("jsonld", "html")


def write_catalog(path: Path, count: int, styles: tuple[str, ...] = STATIC, *, source: Path = DEMO_CATALOG) -> Path:
    """Write ``count`` listings, all live on night 1, cycling through ``styles``; returns ``path``."""
    if not 1 <= count <= MAX_LISTINGS:
        raise ValueError(f"a demo catalog holds 1 to {MAX_LISTINGS} listings, not {count}")
    if not styles:
        raise ValueError("styles must name at least one page style (jsonld, html, js)")
    templates = load_catalog(source)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for n in range(1, count + 1):
            record = templates[(n - 1) % len(templates)].to_dict()
            new_id = f"DB-{n:04d}"
            copy = (n - 1) // len(templates)
            record.update(
                id=new_id,
                title=record["title"] if copy == 0 else f"{record['title']} #{copy + 1}",
                images=[f"/img/{new_id}-{i}.png" for i in range(1, len(record["images"]) + 1)],
                style=styles[(n - 1) % len(styles)],
                first_night=1,
                last_night=None,
            )
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path

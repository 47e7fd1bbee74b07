"""Helpers for the review tests: a migrated database with listings, scores and users, written through
the store's own repository functions (the same path a crawl takes)."""
from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine

from crawler.items import ListingItem
from review.auth import hash_password
from store import repository
from store.db import make_engine, session_scope, upgrade
from store.decisions import add_user

MODEL_VERSION = "test-model-1"


def evidence(term: str, field: str = "title", *, kind: str = "product", group: str = "ivory",
             matched: str | None = None) -> dict[str, Any]:
    return {"rule": "term", "term": term, "matched": matched or term, "group": group, "kind": kind,
            "field": field, "weight": 0.9}


def listing(listing_id: str, title: str, description: str = "", *, url: str | None = None, **fields: Any) -> ListingItem:
    return ListingItem(marketplace="shop", listing_id=listing_id, url=url or f"http://shop.test/item/{listing_id}",
                       title=title, description=description, **fields)


def seed(engine: Engine, rows: list[tuple[ListingItem, float, list[dict[str, Any]]]], *,
         marketplace: str = "shop", threshold: float = 0.5) -> dict[str, int]:
    """Store each (item, score, evidence) as one crawl would; returns external id -> listing row id."""
    with session_scope(engine) as session:
        market = repository.get_or_create_marketplace(session, marketplace, "http://shop.test")
        run = repository.start_run(session, market)
        items = []
        for item, _score, _evidence in rows:
            data = item.to_dict()
            data["content_hash"] = item.content_hash()
            data["marketplace"] = marketplace
            items.append(data)
        ids = repository.upsert_listings(session, run, market, items)
        model = repository.ensure_model_version(session, MODEL_VERSION, {"threshold": threshold})
        species = lambda ev: sorted({e["group"] for e in ev if e.get("group") not in (None, "*")})  # noqa: E731
        repository.record_scores(session, run, model, [
            (ids[item.listing_id], {"score": score, "flagged": score >= threshold, "threshold": threshold,
                                    "species": species(ev), "evidence": ev})
            for item, score, ev in rows
        ])
        repository.finish_run(session, run, "succeeded", {"listings": len(rows)})
    return ids


def users(engine: Engine, **accounts: tuple[str, str]) -> None:
    """users(engine, alice=("password", "analyst"), ...)."""
    with session_scope(engine) as session:
        for name, (password, role) in accounts.items():
            add_user(session, name, hash_password(password), role, actor="test")


def migrated_engine(url: str) -> Engine:
    upgrade(url)
    return make_engine(url)


PASSWORDS = {"alice": "alice-password-1", "bob": "bob-password-22", "lena": "lena-lead-password"}


def standard_users(engine: Engine) -> None:
    users(engine, alice=(PASSWORDS["alice"], "analyst"), bob=(PASSWORDS["bob"], "analyst"),
          lena=(PASSWORDS["lena"], "lead"))

"""Repository writes: upserts with snapshots, runs, gone listings, scores and decisions."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.items import ListingItem
from store import db
from store import repository as repo
from store.errors import StoreError
from store.models import CrawlRun, Decision, Listing, ListingSnapshot, Score


@pytest.fixture
def session(engine):
    with db.session_scope(engine) as session:
        yield session


def item(listing_id: str, *, title: str = "犀角杯 老货", crawled_at: str = "2026-01-01T00:00:00Z",
         marketplace: str = "demo", **fields) -> dict:
    listing = ListingItem(marketplace, listing_id, f"http://127.0.0.1/item/{listing_id}", title,
                          crawled_at=crawled_at, **fields)
    data = listing.to_dict()
    data["content_hash"] = listing.content_hash()
    return data


def new_run(session, name="demo"):
    market = repo.get_or_create_marketplace(session, name, "http://127.0.0.1")
    return market, repo.start_run(session, market)


def count(session, model, *where):
    return session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def test_upsert_twice_keeps_first_seen_and_snapshots_only_changes(session):
    market, run1 = new_run(session)
    ids = repo.upsert_listings(session, run1, market, [item("a", price=10.0), item("b")])
    assert set(ids) == {"a", "b"}
    loaded = session.get(Listing, ids["a"])  # already in the identity map: must not go stale
    assert loaded.title == "犀角杯 老货"
    run2 = repo.start_run(session, market)
    changed = item("a", title="犀角杯 广角", price=12.0, crawled_at="2026-01-02T00:00:00Z")
    same = item("b", crawled_at="2026-01-02T00:00:00Z")
    ids2 = repo.upsert_listings(session, run2, market, [changed, same])
    assert ids2 == ids
    assert count(session, Listing) == 2
    a = session.get(Listing, ids["a"])
    assert a is loaded
    assert a.first_seen_at == datetime(2026, 1, 1, tzinfo=UTC)
    assert a.last_seen_at == datetime(2026, 1, 2, tzinfo=UTC)
    assert (a.first_run_id, a.last_run_id) == (run1.id, run2.id)
    assert a.title == "犀角杯 广角" and a.price == 12.0
    snapshots_a = session.scalars(
        sa.select(ListingSnapshot).where(ListingSnapshot.listing_id == ids["a"]).order_by(ListingSnapshot.id)
    ).all()
    assert [s.run_id for s in snapshots_a] == [run1.id, run2.id]
    assert snapshots_a[0].data["title"] == "犀角杯 老货" and snapshots_a[1].data["price"] == 12.0
    assert set(snapshots_a[0].data) == set(ListingItem.CONTENT_FIELDS)
    assert count(session, ListingSnapshot, ListingSnapshot.listing_id == ids["b"]) == 1


def test_content_changing_back_is_a_new_snapshot(session):
    market, run = new_run(session)
    for title in ("one", "two", "one"):
        repo.upsert_listings(session, run, market, [item("x", title=title)])
    assert count(session, ListingSnapshot) == 3


def test_duplicate_ids_in_one_batch_last_wins(session):
    market, run = new_run(session)
    ids = repo.upsert_listings(session, run, market, [item("d", title="first"), item("e"), item("d", title="last")])
    assert set(ids) == {"d", "e"}
    assert session.get(Listing, ids["d"]).title == "last"
    snaps = session.scalars(sa.select(ListingSnapshot).where(ListingSnapshot.listing_id == ids["d"])).all()
    assert [s.data["title"] for s in snaps] == ["last"]


def test_bad_items_are_reported_and_skipped(session):
    market, run = new_run(session)
    bad_hash = item("h")
    bad_hash["content_hash"] = "not-a-hash"
    batch = [
        item("good"),
        "not a dict",
        {**item("p"), "price": "12 元"},
        {**item("n"), "price": float("nan")},
        {**item("i"), "images": "a.jpg"},
        bad_hash,
        {**item("t"), "crawled_at": "yesterday"},
        {**item("m"), "marketplace": "other"},
        {**item("r"), "rendered": "yes"},
        {**item("l"), "listing_id": "x" * 300},
        {**item("u"), "url": ""},
        {**item("e"), "listing_id": None},
        item("good2"),
    ]
    errors = []
    ids = repo.upsert_listings(session, run, market, batch, errors=errors)
    assert set(ids) == {"good", "good2"}
    fields = [e.field for e in errors]
    assert fields == ["*", "price", "price", "images", "content_hash", "crawled_at", "marketplace", "rendered",
                      "listing_id", "url", "listing_id"]
    assert "item #2" in errors[1].where and "'p'" in errors[1].where
    assert "12 元" in errors[1].message


def test_missing_hash_is_computed_and_nul_characters_are_dropped(session):
    market, run = new_run(session)
    data = item("z", description="象牙\x00手镯", seller_name="卖家\x00")
    del data["content_hash"]
    data["listing_id"] = 42  # an int id from a JSON API is accepted as text
    ids = repo.upsert_listings(session, run, market, [data])
    row = session.get(Listing, ids["42"])
    assert row.description == "象牙手镯" and row.seller_name == "卖家"
    assert len(row.content_hash) == 64


def test_large_batch_spans_chunks(session):
    market, run = new_run(session)
    ids = repo.upsert_listings(session, run, market, [item(str(n)) for n in range(repo.CHUNK * 2 + 7)])
    assert len(ids) == repo.CHUNK * 2 + 7 == count(session, Listing) == count(session, ListingSnapshot)


def test_run_of_another_marketplace_is_refused(session):
    market, _ = new_run(session, "demo")
    _, other_run = new_run(session, "other")
    with pytest.raises(StoreError, match="not 'demo'"):
        repo.upsert_listings(session, other_run, market, [item("a")])
    with pytest.raises(StoreError, match="not 'demo'"):
        repo.mark_gone(session, other_run, market, set())


def test_mark_gone_and_return(session):
    market, run1 = new_run(session)
    other, other_run = new_run(session, "other")
    repo.upsert_listings(session, run1, market, [item("a"), item("b"), item("c")])
    repo.upsert_listings(session, other_run, other, [item("a", marketplace="other")])
    run2 = repo.start_run(session, market)
    repo.upsert_listings(session, run2, market, [item("a")])
    assert repo.mark_gone(session, run2, market, {"a"}) == 2
    query = sa.select(Listing.external_id, Listing.gone_at).where(Listing.marketplace_id == market.id)
    gone = dict(session.execute(query).all())
    assert gone["a"] is None and gone["b"] is not None and gone["c"] is not None
    assert session.scalar(sa.select(Listing.gone_at).where(Listing.marketplace_id == other.id)) is None
    assert repo.mark_gone(session, run2, market, {"a"}) == 0  # already gone stays as it was
    run3 = repo.start_run(session, market)
    repo.upsert_listings(session, run3, market, [item("b")])
    assert dict(session.execute(query).all())["b"] is None


@pytest.mark.parametrize("status", ["partial", "failed"])
def test_mark_gone_refuses_an_incomplete_run(session, status):
    market, run = new_run(session)
    repo.finish_run(session, run, status, {})
    with pytest.raises(StoreError, match=status):
        repo.mark_gone(session, run, market, set())


def test_runs_record_status_stats_and_nightly_group(session):
    market = repo.get_or_create_marketplace(session, "demo")
    run = repo.start_run(session, market, nightly_id="2026-01-01")
    assert run.status == "running" and run.finished_at is None
    repo.finish_run(session, run, "partial", {"pages": 3, "listings": 2, "errors": 1, "note": "限流"}, error="HTTP 429")
    stored = session.get(CrawlRun, run.id)
    assert stored.status == "partial" and stored.stats["note"] == "限流" and stored.error == "HTTP 429"
    assert stored.finished_at >= stored.started_at
    with pytest.raises(StoreError, match="status must be one of"):
        repo.finish_run(session, run, "running", {})
    with pytest.raises(StoreError, match="stats"):
        repo.finish_run(session, run, "succeeded", {"when": object()})


def test_marketplace_get_or_create(session):
    first = repo.get_or_create_marketplace(session, "demo")
    again = repo.get_or_create_marketplace(session, "demo", "http://new")
    assert first.id == again.id and again.base_url == "http://new"
    assert repo.get_or_create_marketplace(session, "demo").base_url == "http://new"
    with pytest.raises(StoreError, match="marketplace name"):
        repo.get_or_create_marketplace(session, "  ")


def test_model_version_is_created_once_and_keeps_its_metadata(session):
    first = repo.ensure_model_version(session, "2026.01", {"threshold": 0.5, "lexicon": "词表 v3"})
    again = repo.ensure_model_version(session, "2026.01", {"threshold": 0.9})
    assert first.id == again.id and again.meta == {"threshold": 0.5, "lexicon": "词表 v3"}
    with pytest.raises(StoreError, match="model version"):
        repo.ensure_model_version(session, "", {})


def score(value, flagged, **extra):
    return {"score": value, "flagged": flagged, "species": ["rhino_horn"], "threshold": 0.5,
            "evidence": [{"kind": "coded", "term": "广角", "species": "rhino_horn"}], "model_version": "m1", **extra}


def test_record_scores_keeps_history_and_skips_bad_entries(session):
    market, run = new_run(session)
    ids = repo.upsert_listings(session, run, market, [item("a"), item("b")])
    model = repo.ensure_model_version(session, "m1", {})
    errors = []
    stored = repo.record_scores(session, run, model, [
        (ids["a"], score(0.9, True)),
        (ids["a"], score(1.5, True)),
        (ids["b"], score(0.2, "no")),
        (ids["b"], score(0.2, False, model_version="m0")),
        (ids["b"], score(0.2, False, evidence="text")),
        (999_999, score(0.3, False)),
        ("a", score(0.3, False)),
        (ids["b"], score(0.1, False, species="ivory", evidence=None)),
    ], errors=errors)
    assert stored == 2
    assert [e.field for e in errors] == ["score", "flagged", "model_version", "evidence", "listing_id", "listing_id"]
    repo.record_scores(session, None, model, [(ids["a"], score(0.4, False))])
    history = session.scalars(sa.select(Score).where(Score.listing_id == ids["a"]).order_by(Score.id)).all()
    assert [(s.score, s.flagged, s.run_id) for s in history] == [(0.9, True, run.id), (0.4, False, None)]
    assert history[0].evidence == [{"kind": "coded", "term": "广角", "species": "rhino_horn"}]
    b = session.scalars(sa.select(Score).where(Score.listing_id == ids["b"])).one()
    assert b.species == ["ivory"] and b.evidence == []


def test_decisions_are_validated_and_append_only(session):
    market, run = new_run(session)
    ids = repo.upsert_listings(session, run, market, [item("a")])
    first = repo.add_decision(session, ids["a"], "analyst-1", "needs_expert", "看不清")
    repo.add_decision(session, ids["a"], "analyst-2", "confirmed")
    assert count(session, Decision) == 2 and first.decided_at is not None
    with pytest.raises(StoreError, match="decision must be one of"):
        repo.add_decision(session, ids["a"], "analyst-1", "illegal")
    with pytest.raises(StoreError, match="no listing"):
        repo.add_decision(session, 999_999, "analyst-1", "confirmed")
    with pytest.raises(StoreError, match="analyst"):
        repo.add_decision(session, ids["a"], " ", "confirmed")
    first.note = "rewritten"
    with pytest.raises(StoreError, match="history"):
        session.flush()
    session.rollback()


def test_database_rejects_an_unknown_decision_even_without_the_repository(engine):
    with db.session_scope(engine) as session:
        market, run = new_run(session)
        listing_id = repo.upsert_listings(session, run, market, [item("a")])["a"]
    with pytest.raises(sa.exc.IntegrityError), db.session_scope(engine) as session:
        session.add(Decision(listing_id=listing_id, analyst="x", decision="maybe"))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(st.lists(st.tuples(st.sampled_from("abc"), st.sampled_from(["旧", "新", "改"])),
                                 max_size=6), min_size=1, max_size=5))
def test_snapshots_follow_content_changes(session, batches):
    """For any sequence of batches: one listing per id, one snapshot per change of its latest content."""
    market, run = new_run(session, f"prop-{uuid.uuid4().hex[:8]}")
    current: dict[str, str] = {}
    expected_snapshots = 0
    for batch in batches:
        latest = dict(batch)  # last occurrence in the batch wins
        for listing_id, title in latest.items():
            expected_snapshots += current.get(listing_id) != title
            current[listing_id] = title
        repo.upsert_listings(session, run, market, [item(i, title=t, marketplace=market.name) for i, t in batch])
    listings = session.execute(sa.select(Listing.external_id, Listing.title).where(Listing.marketplace_id == market.id))
    assert dict(listings.all()) == current
    snapshots = count(session, ListingSnapshot, ListingSnapshot.listing_id.in_(
        sa.select(Listing.id).where(Listing.marketplace_id == market.id)))
    assert snapshots == expected_snapshots

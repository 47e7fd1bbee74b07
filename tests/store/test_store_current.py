"""The listing's current score and decision (listings.current_*): kept in step with the history on every
write, backfilled by migration 0003, and the queue, counts and exports that read them agree with the
history-derived definition (newest score, newest decision) on every filter. Runs on SQLite, and on
PostgreSQL in `make test`'s second pass."""
from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from review.cache import QueueCache
from support.review_support import evidence, listing, seed, standard_users
from store import db
from store import repository as repo
from store.db import session_scope
from store.models import DECISIONS, Decision, Listing, Score, Tip
from store.queries import listings_frame
from store.decisions import (
    QueueFilters,
    decide,
    get_user,
    queue_count,
    queue_options,
    queue_page,
    queue_rows,
    record_tip,
    review_counts,
)


def _current(engine, listing_id):
    with engine.connect() as c:
        return c.execute(sa.select(
            Listing.current_score_id, Listing.current_score, Listing.current_flagged, Listing.current_threshold,
            Listing.current_species, Listing.current_decision_id, Listing.current_decision,
        ).where(Listing.id == listing_id)).one()


def _rescore(engine, pairs, version="test-model-2"):
    """pairs: [(listing id, score)]; flagged at 0.5, species from the score's size."""
    with session_scope(engine) as session:
        model = repo.ensure_model_version(session, version, {})
        return repo.record_scores(session, None, model, [
            (lid, {"score": s, "flagged": s >= 0.5, "threshold": 0.5, "species": ["tiger"] if s >= 0.5 else [],
                   "evidence": [evidence("tiger", group="tiger")] if s >= 0.5 else []})
            for lid, s in pairs
        ])


def test_record_scores_moves_the_current_score_and_keeps_every_score(engine):
    ids = seed(engine, [(listing("A", "Ivory bangle"), 0.9, [evidence("ivory")]), (listing("B", "Steamer"), 0.1, [])])
    a = _current(engine, ids["A"])
    assert (a.current_score, a.current_flagged, a.current_threshold, a.current_species) == (0.9, True, 0.5, ["ivory"])
    assert _current(engine, ids["B"]).current_flagged is False

    assert _rescore(engine, [(ids["A"], 0.2), (ids["B"], 0.7)]) == 2
    a, b = _current(engine, ids["A"]), _current(engine, ids["B"])
    assert (a.current_score, a.current_flagged, a.current_species) == (0.2, False, [])
    assert (b.current_score, b.current_flagged, b.current_species) == (0.7, True, ["tiger"])
    with engine.connect() as c:
        newest = c.execute(sa.select(sa.func.max(Score.id)).where(Score.listing_id == ids["A"])).scalar_one()
        history = c.execute(sa.select(Score.score).where(Score.listing_id == ids["A"]).order_by(Score.id)).scalars()
        assert list(history) == [0.9, 0.2]  # the audit trail keeps both
    assert a.current_score_id == newest


def test_unknown_listing_ids_are_skipped_and_leave_current_columns_alone(engine):
    ids = seed(engine, [(listing("A", "Ivory bangle"), 0.9, [evidence("ivory")])])
    before = _current(engine, ids["A"])
    errors: list = []
    with session_scope(engine) as session:
        model = repo.ensure_model_version(session, "m", {})
        assert repo.record_scores(session, None, model, [(999_999, {"score": 0.4, "flagged": False})],
                                  errors=errors) == 0
    assert "no such listing" in str(errors[0])
    assert _current(engine, ids["A"]) == before


def test_current_score_is_the_newest_by_scored_at_whatever_order_rows_arrive_in(engine):
    ids = seed(engine, [(listing("A", "Ivory bangle"), 0.9, [evidence("ivory")])])
    with session_scope(engine) as session:
        model = repo.ensure_model_version(session, "backfilled", {})
        old = datetime(2020, 1, 1, tzinfo=UTC)  # a late-arriving score of an earlier night
        session.execute(repo.SCORES.insert(), [{"listing_id": ids["A"], "model_version_id": model.id, "score": 0.1,
                                                "flagged": False, "species": [], "evidence": [], "scored_at": old}])
        repo.refresh_current(session, Score, [ids["A"]])
    assert _current(engine, ids["A"]).current_score == 0.9


def test_decisions_move_the_current_decision_and_keep_the_history(engine):
    standard_users(engine)
    ids = seed(engine, [(listing("A", "Ivory bangle"), 0.9, [evidence("ivory")])])
    with session_scope(engine) as session:
        decide(session, ids["A"], get_user(session, "alice"), "needs_expert", "ask the curator")
    first = _current(engine, ids["A"])
    assert first.current_decision == "needs_expert"
    with session_scope(engine) as session:
        decide(session, ids["A"], get_user(session, "lena"), "confirmed")
    now = _current(engine, ids["A"])
    with engine.connect() as c:
        history = c.execute(sa.select(Decision.id, Decision.decision).where(Decision.listing_id == ids["A"])
                            .order_by(Decision.id)).all()
    assert [d for _id, d in history] == ["needs_expert", "confirmed"]
    assert (now.current_decision_id, now.current_decision) == (history[-1][0], "confirmed")


# ---- migration 0003 backfill ---------------------------------------------------------------------

def test_migration_0003_backfills_current_columns_and_downgrade_keeps_the_history(db_url):
    db.upgrade(db_url, "0002")
    engine = db.make_engine(db_url)
    t0 = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)
    try:
        meta = sa.MetaData()
        meta.reflect(engine, only=["marketplaces", "listings", "model_versions", "scores", "decisions"])
        T = meta.tables
        with engine.begin() as c:
            c.execute(T["marketplaces"].insert(), [{"id": 1, "name": "shop", "created_at": t0}])
            c.execute(T["model_versions"].insert(), [{"id": 1, "version": "m1", "created_at": t0, "metadata": {}}])
            c.execute(T["listings"].insert(), [
                {"id": n, "marketplace_id": 1, "external_id": f"L{n}", "url": f"http://shop.test/{n}", "title": "t",
                 "description": "", "images": [], "extraction": "jsonld", "rendered": False, "content_hash": "h",
                 "first_seen_at": t0, "last_seen_at": t0} for n in (1, 2, 3)])
            c.execute(T["scores"].insert(), [
                # listing 1: the higher id is older, so "newest" must follow scored_at first
                {"id": 10, "listing_id": 1, "model_version_id": 1, "score": 0.95, "flagged": True, "threshold": 0.5,
                 "species": ["ivory"], "evidence": [], "scored_at": t0 + timedelta(days=1)},
                {"id": 11, "listing_id": 1, "model_version_id": 1, "score": 0.30, "flagged": False, "threshold": 0.5,
                 "species": [], "evidence": [], "scored_at": t0},
                {"id": 12, "listing_id": 2, "model_version_id": 1, "score": 0.60, "flagged": True, "threshold": None,
                 "species": ["tiger"], "evidence": [], "scored_at": t0},
            ])
            c.execute(T["decisions"].insert(), [
                {"id": 20, "listing_id": 1, "analyst": "a", "decision": "needs_expert", "decided_at": t0},
                {"id": 21, "listing_id": 1, "analyst": "b", "decision": "confirmed", "decided_at": t0 + timedelta(hours=1)},
            ])
        engine.dispose()
        db.upgrade(db_url)
        one, two, three = (_current(engine, n) for n in (1, 2, 3))
        assert tuple(one) == (10, 0.95, True, 0.5, ["ivory"], 21, "confirmed")
        assert tuple(two) == (12, 0.60, True, None, ["tiger"], None, None)
        assert tuple(three) == (None, None, None, None, None, None, None)  # never scored, never decided

        db.downgrade(db_url, "0002")
        engine.dispose()
        columns = {c["name"] for c in sa.inspect(engine).get_columns("listings")}
        assert not {c for c in columns if c.startswith("current_")}
        with engine.connect() as c:
            assert c.execute(sa.text("SELECT count(*) FROM scores")).scalar_one() == 3
            assert c.execute(sa.text("SELECT count(*) FROM decisions")).scalar_one() == 2
        engine.dispose()
        db.upgrade(db_url)
        assert tuple(_current(engine, 1)) == (10, 0.95, True, 0.5, ["ivory"], 21, "confirmed")
    finally:
        engine.dispose()


# ---- the queue and exports agree with the history ------------------------------------------------

def _from_history(engine):
    """Per listing: newest score row, newest decision, tipped, marketplace — computed in Python from history."""
    with engine.connect() as c:
        listings = {r.id: r for r in c.execute(sa.text(
            "SELECT l.id, l.external_id, l.last_seen_at, m.name AS marketplace FROM listings l "
            "JOIN marketplaces m ON m.id = l.marketplace_id"))}
        scores = c.execute(sa.select(Score.id, Score.listing_id, Score.score, Score.flagged, Score.species,
                                     Score.scored_at)).all()
        decisions = c.execute(sa.select(Decision.id, Decision.listing_id, Decision.decision, Decision.decided_at)).all()
        tipped = set(c.execute(sa.select(Tip.listing_id).where(Tip.status == "stored")).scalars())
    newest_score = {}
    for row in sorted(scores, key=lambda r: (r.scored_at, r.id)):
        newest_score[row.listing_id] = row
    newest_decision = {}
    for row in sorted(decisions, key=lambda r: (r.decided_at, r.id)):
        newest_decision[row.listing_id] = row.decision
    return listings, newest_score, newest_decision, tipped


def _expected_queue(history, f: QueueFilters) -> list[str]:
    listings, score, decision, tipped = history
    out = []
    for lid, row in listings.items():
        s = score.get(lid)
        d = decision.get(lid)
        if not ((s is not None and s.flagged) or lid in tipped):
            continue
        if f.marketplace and row.marketplace != f.marketplace:
            continue
        if f.species and (s is None or f.species not in (s.species or [])):
            continue
        if f.status == "undecided" and d is not None or f.status == "decided" and d is None:
            continue
        if f.status in DECISIONS and d != f.status:
            continue
        if f.source == "tip" and lid not in tipped or f.source == "crawl" and lid in tipped:
            continue
        if f.min_score is not None and (s is None or s.score < f.min_score):
            continue
        if f.max_score is not None and (s is None or s.score > f.max_score):
            continue
        out.append((-(s.score if s else -1.0), row.external_id))
    return [external_id for _key, external_id in sorted(out)]


@pytest.fixture
def busy_store(engine):
    """Two marketplaces, 120 listings with distinct scores, a second scoring of a third of them,
    decisions (some revised by a lead) and tips, written through the repository."""
    standard_users(engine)
    rnd = random.Random(3)
    scores = rnd.sample(range(1, 1000), 120)
    groups = ("ivory", "tiger", "pangolin")
    ids = {}
    for market, part in (("shop", scores[:70]), ("bazaar", scores[70:])):
        rows = [(listing(f"{market}-{n}", f"listing {n}"), s / 1000,
                 [evidence("x", group=groups[n % 3])] if s >= 500 else []) for n, s in enumerate(part)]
        ids.update(seed(engine, rows, marketplace=market))
    every = sorted(ids.values())
    taken = set()
    rescored = []
    for lid in every[::3]:
        new = rnd.randrange(1, 1000)
        while new in taken or new in scores:
            new = rnd.randrange(1, 1000)
        taken.add(new)
        rescored.append((lid, new / 1000))
    _rescore(engine, rescored)
    with session_scope(engine) as session:
        alice, lena = get_user(session, "alice"), get_user(session, "lena")
        for n, lid in enumerate(every[1::4]):
            decide(session, lid, alice, DECISIONS[n % len(DECISIONS)])
        for lid in every[5::16]:
            decide(session, lid, lena, "escalated", "revised by the lead")
        for lid in every[2::20]:
            record_tip(session, f"http://shop.test/tip/{lid}", "alice", status="stored", listing_id=lid)
        record_tip(session, "http://shop.test/broken", "alice", status="failed", error="timeout")
    return engine


FILTERS = [
    QueueFilters(), QueueFilters(status="undecided"), QueueFilters(status="decided"),
    QueueFilters(status="confirmed"), QueueFilters(status="escalated"), QueueFilters(species="tiger"),
    QueueFilters(marketplace="bazaar"), QueueFilters(marketplace="nowhere"), QueueFilters(source="tip"),
    QueueFilters(source="crawl", status="undecided"), QueueFilters(min_score=0.6, max_score=0.9),
    QueueFilters(species="ivory", marketplace="shop", status="undecided"),
]


@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: ",".join(
    f"{k}={v}" for k, v in vars(f).items() if v is not None and (k, v) != ("order", "score")) or "all")
def test_queue_rows_and_counts_match_the_history(busy_store, filters):
    expected = _expected_queue(_from_history(busy_store), filters)
    with session_scope(busy_store) as session:
        page = queue_page(session, filters, per_page=500)
        assert [r.external_id for r in page.rows] == expected
        assert page.total == queue_count(session, filters) == len(expected)
        pages = [r.external_id for n in (1, 2, 3) for r in queue_page(session, filters, page=n, per_page=7).rows]
        assert pages == expected[:21]


def test_header_counts_options_and_uncertain_order_match_the_history(busy_store):
    history = _from_history(busy_store)
    listings, score, decision, tipped = history
    everything = _expected_queue(history, QueueFilters())
    with session_scope(busy_store) as session:
        counts = review_counts(session)
        options = queue_options(session)
        uncertain = [r.external_id for r in queue_rows(session, QueueFilters(order="uncertain"), limit=500)]
    undecided = _expected_queue(history, QueueFilters(status="undecided"))
    assert counts == {"queue": len(everything), "undecided": len(undecided)}
    assert options["marketplaces"] == ["bazaar", "shop"]
    flagged_species = {g for s in score.values() if s.flagged for g in s.species}
    assert options["species"] == sorted(flagged_species)
    by_id = {row.external_id: lid for lid, row in listings.items()}
    assert uncertain == sorted(everything, key=lambda e: (abs(score[by_id[e]].score - 0.5), by_id[e]))


def test_exports_read_the_current_score_like_the_history(busy_store):
    history = _from_history(busy_store)
    listings, score, _decision, _tipped = history
    frame = listings_frame(busy_store)
    flagged = sorted(((-s.score, listings[lid].external_id) for lid, s in score.items() if s.flagged))
    assert frame["listing_id"].tolist() == [e for _s, e in flagged]
    by_external = {listings[lid].external_id: s for lid, s in score.items()}
    assert all(frame["score"].iloc[i] == by_external[e].score for i, e in enumerate(frame["listing_id"]))
    assert all(frame["scored_at"].iloc[i] == by_external[e].scored_at for i, e in enumerate(frame["listing_id"]))
    high = listings_frame(busy_store, min_score=0.8, marketplace="shop")
    assert set(high["listing_id"]) == {listings[lid].external_id for lid, s in score.items()
                                       if s.flagged and s.score >= 0.8 and listings[lid].marketplace == "shop"}
    everyone = listings_frame(busy_store, flagged_only=False)
    assert len(everyone) == len(listings)


# ---- the review app's short cache ----------------------------------------------------------------

class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_queue_cache_reuses_values_until_they_expire_or_it_is_cleared():
    clock = _Clock()
    cache = QueueCache(ttl=5, timer=clock)
    calls = []
    compute = lambda: calls.append(1) or len(calls)  # noqa: E731
    assert cache.get("counts", compute) == 1
    assert cache.get("counts", compute) == 1
    clock.now = 4.9
    assert cache.get("counts", compute) == 1
    clock.now = 5.1
    assert cache.get("counts", compute) == 2  # expired
    cache.clear()
    assert cache.get("counts", compute) == 3


def test_queue_cache_does_not_keep_a_value_read_before_a_clear():
    cache = QueueCache(ttl=60)

    def read_then_someone_decides():
        cache.clear()  # a decision commits while this (older) read is still running
        return "stale"

    assert cache.get("counts", read_then_someone_decides) == "stale"
    assert cache.get("counts", lambda: "fresh") == "fresh"


def test_the_queue_page_shows_a_decision_at_once_despite_the_cache(db_url, engine, tmp_path):
    import re
    from dataclasses import replace

    from review.app import create_app
    from support.review_support import PASSWORDS
    from wildwatch.config import Settings

    standard_users(engine)
    ids = seed(engine, [(listing("A", "Ivory bangle"), 0.9, [evidence("ivory")]),
                        (listing("B", "Tiger bone"), 0.8, [evidence("tiger", group="tiger")])])
    app = create_app(replace(Settings.from_env(), database_url=db_url, data_dir=tmp_path / "data"), testing=True)
    client = app.test_client()
    token = lambda html: re.search(rb'name="csrf_token" value="([^"]+)"', html).group(1).decode()  # noqa: E731
    client.post("/login", data={"name": "alice", "password": PASSWORDS["alice"],
                                "csrf_token": token(client.get("/login").data)})
    header = lambda: re.search(rb"(\d+) of (\d+) undecided", client.get("/").data).groups()  # noqa: E731
    assert header() == (b"2", b"2")
    page = client.get(f"/listing/{ids['A']}").data
    assert client.post(f"/listing/{ids['A']}/decision",
                       data={"decision": "confirmed", "csrf_token": token(page)}).status_code == 302
    assert header() == (b"1", b"2")  # not the cached "2 of 2"
    app.extensions["wildwatch_engine"].dispose()


def test_queue_cache_can_forget_only_the_values_a_decision_changes():
    cache = QueueCache(ttl=60)
    cache.get(("total", None), lambda: 10)
    cache.get(("total", "undecided"), lambda: 7)
    cache.clear(lambda key: key[1] is not None)
    assert cache.get(("total", None), lambda: -1) == 10
    assert cache.get(("total", "undecided"), lambda: 6) == 6


def test_queue_cache_computes_a_missing_value_once_for_concurrent_readers():
    import threading
    import time as clock

    cache = QueueCache(ttl=60)
    calls = []

    def slow_count():
        calls.append(1)
        clock.sleep(0.2)
        return 42

    results = []
    readers = [threading.Thread(target=lambda: results.append(cache.get("counts", slow_count))) for _ in range(8)]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join()
    assert results == [42] * 8
    assert len(calls) == 1


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_two_analysts_deciding_at_once_cannot_both_win(tmp_path, backend):
    """The listing row (PostgreSQL) or the database (SQLite) is locked before the previous decision is read,
    so the second analyst sees the first's."""
    import threading

    from support.review_support import migrated_engine
    from store.decisions import PermissionDenied
    from store.testing import throwaway_database

    with throwaway_database(backend, tmp_path) as url:
        engine = migrated_engine(url)
        try:
            standard_users(engine)
            ids = seed(engine, [(listing("A", "Ivory bangle"), 0.9, [evidence("ivory")])])
            start, outcomes = threading.Barrier(2), {}

            def analyst(name, verdict):
                with session_scope(engine) as session:
                    user = get_user(session, name)
                    start.wait()
                    try:
                        decide(session, ids["A"], user, verdict)
                        outcomes[name] = "recorded"
                    except PermissionDenied:
                        outcomes[name] = "refused"

            both = [threading.Thread(target=analyst, args=("alice", "confirmed")),
                    threading.Thread(target=analyst, args=("bob", "false_positive"))]
            for thread in both:
                thread.start()
            for thread in both:
                thread.join()
            assert sorted(outcomes.values()) == ["recorded", "refused"]
            winner = next(name for name, outcome in outcomes.items() if outcome == "recorded")
            with engine.connect() as c:
                stored = c.execute(sa.select(Decision.analyst, Decision.decision)).all()
            assert stored == [(winner, {"alice": "confirmed", "bob": "false_positive"}[winner])]
            assert _current(engine, ids["A"]).current_decision == stored[0][1]
        finally:
            engine.dispose()


def test_queue_cache_answers_when_a_value_expires_between_looking_and_reading():
    class SteppingClock:
        """Each read of the time moves it on: an expiry check and the read that follows disagree."""

        def __init__(self) -> None:
            self.now = 0.0

        def __call__(self) -> float:
            self.now += 0.6
            return self.now

    cache = QueueCache(ttl=1.0, timer=SteppingClock())
    for attempt in range(20):  # under load a page once got an HTTP 500 (KeyError) from exactly this
        assert cache.get("counts", lambda n=attempt: n) in range(attempt + 1)

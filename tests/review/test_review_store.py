"""Store side of review: permissions on decisions, the append-only audit log, the queue's filters and
orders, tips queued below the threshold, and evidence highlighting against disguised text."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DatabaseError

from review.auth import hash_password, needs_rehash, verify_password
from review.highlight import find_spans, segments
from support.review_support import evidence, listing, seed, standard_users
from store.db import session_scope
from store.errors import StoreError
from store.models import AuditEntry, Decision
from store.decisions import (
    PermissionDenied,
    QueueFilters,
    add_user,
    audit_history,
    decide,
    get_user,
    listing_detail,
    queue_page,
    record_tip,
)


@pytest.fixture
def engine(engine):
    """The shared migrated engine (tests/conftest.py), with the standard review accounts."""
    standard_users(engine)
    return engine


@pytest.fixture
def ids(engine):
    return seed(engine, [
        (listing("A1", "Ivory bangle, old stock", seller_id="s1", seller_name="Old Shop"), 0.97,
         [evidence("ivory")]),
        (listing("A2", "象牙 chopsticks", seller_id="s1", seller_name="Old Shop"), 0.55,
         [evidence("象牙", group="ivory")]),
        (listing("B1", "Tiger bone wine", seller_id="s2"), 0.80, [evidence("tiger bone", group="tiger")]),
        (listing("C1", "Bamboo steamer"), 0.05, []),
    ])


def _user(engine, name):
    with session_scope(engine) as session:
        return get_user(session, name)


def test_decision_is_audited_with_before_and_after(engine, ids):
    alice = _user(engine, "alice")
    with session_scope(engine) as session:
        decide(session, ids["A1"], alice, "needs_expert", "ask the ivory expert")
        decide(session, ids["A1"], alice, "confirmed", "expert agrees")
        decide(session, ids["A1"], alice, "confirmed", "expert agrees")  # a repeat writes nothing
    with session_scope(engine) as session:
        entries = audit_history(session, ids["A1"])
    assert [e.action for e in entries] == ["decision", "decision"]
    assert entries[0].before is None and entries[0].after["decision"] == "needs_expert"
    assert entries[1].before["decision"] == "needs_expert" and entries[1].after["decision"] == "confirmed"
    assert entries[1].after["note"] == "expert agrees" and entries[1].actor == "alice"


def test_analyst_cannot_change_another_analysts_decision_but_a_lead_can(engine, ids):
    alice, bob, lena = (_user(engine, n) for n in ("alice", "bob", "lena"))
    with session_scope(engine) as session:
        decide(session, ids["B1"], alice, "confirmed")
    with pytest.raises(PermissionDenied, match="only a lead"):
        with session_scope(engine) as session:
            decide(session, ids["B1"], bob, "false_positive")
    with session_scope(engine) as session:
        decide(session, ids["B1"], lena, "false_positive", "tiger balm, not bone")
        # and the analyst who decided first may not undo the lead's decision either
        with pytest.raises(PermissionDenied):
            decide(session, ids["B1"], alice, "confirmed")
    with session_scope(engine) as session:
        rows = session.scalars(sa.select(Decision).where(Decision.listing_id == ids["B1"]).order_by(Decision.id)).all()
        assert [(r.analyst, r.decision) for r in rows] == [("alice", "confirmed"), ("lena", "false_positive")]


def test_audit_log_refuses_updates_and_deletes_even_in_raw_sql(engine, ids):
    alice = _user(engine, "alice")
    with session_scope(engine) as session:
        decide(session, ids["A1"], alice, "confirmed")
    with pytest.raises(StoreError, match="history"):
        with session_scope(engine) as session:
            entry = session.scalars(sa.select(AuditEntry)).first()
            entry.actor = "mallory"
    for statement in ("UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log"):
        with pytest.raises(DatabaseError, match="append-only"):
            with engine.begin() as connection:
                connection.execute(sa.text(statement))
    with engine.connect() as connection:
        actors = connection.execute(sa.text("SELECT DISTINCT actor FROM audit_log")).scalars().all()
    assert "mallory" not in actors


def test_user_names_roles_and_duplicates_are_checked(engine):
    with session_scope(engine) as session:
        with pytest.raises(StoreError, match="already exists"):
            add_user(session, "alice", hash_password("another-password"), "analyst")
        with pytest.raises(StoreError, match="role must be"):
            add_user(session, "carol", hash_password("another-password"), "admin")
        with pytest.raises(StoreError, match="not valid"):
            add_user(session, "bad name", hash_password("another-password"), "analyst")
        assert session.scalars(sa.select(AuditEntry.action)).all().count("user_added") == 3


def test_queue_shows_flagged_by_score_and_filters(engine, ids):
    with session_scope(engine) as session:
        page = queue_page(session, QueueFilters())
        assert [r.external_id for r in page.rows] == ["A1", "B1", "A2"]  # C1 is below the threshold
        uncertain = queue_page(session, QueueFilters(order="uncertain"))
        assert [r.external_id for r in uncertain.rows][0] == "A2"  # 0.55 is closest to 0.5
        assert [r.external_id for r in queue_page(session, QueueFilters(species="tiger")).rows] == ["B1"]
        assert [r.external_id for r in queue_page(session, QueueFilters(min_score=0.6, max_score=0.9)).rows] == ["B1"]
        assert queue_page(session, QueueFilters(marketplace="elsewhere")).total == 0
        decide(session, ids["A1"], get_user(session, "alice"), "confirmed")
    with session_scope(engine) as session:
        assert [r.external_id for r in queue_page(session, QueueFilters(status="undecided")).rows] == ["B1", "A2"]
        assert [r.external_id for r in queue_page(session, QueueFilters(status="confirmed")).rows] == ["A1"]
        with pytest.raises(StoreError, match="status must be"):
            QueueFilters(status="maybe")


def test_tipped_listing_is_queued_even_below_threshold(engine, ids):
    with session_scope(engine) as session:
        record_tip(session, "http://shop.test/item/C1", "alice", status="stored", listing_id=ids["C1"])
    with session_scope(engine) as session:
        tips = queue_page(session, QueueFilters(source="tip")).rows
        assert [(r.external_id, r.is_tip) for r in tips] == [("C1", True)]
        assert "C1" not in [r.external_id for r in queue_page(session, QueueFilters(source="crawl")).rows]


def test_listing_detail_has_the_sellers_other_listings_and_snapshots(engine, ids):
    with session_scope(engine) as session:
        detail = listing_detail(session, ids["A1"])
    assert [r.id for r in detail.seller_listings] == [ids["A2"]]
    assert len(detail.snapshots) == 1 and detail.snapshots[0].data["title"] == "Ivory bangle, old stock"
    assert detail.score.score == pytest.approx(0.97)


def test_passwords_are_argon2_hashed_and_checked(monkeypatch):
    from argon2 import PasswordHasher

    import review.auth

    # The production hasher (the suite uses a cheap one, tests/conftest.py): RFC 9106's recommended parameters.
    monkeypatch.setattr(review.auth, "_hasher", PasswordHasher())
    assert review.auth._hasher.time_cost >= 3 and review.auth._hasher.memory_cost >= 64 * 1024
    hashed = hash_password("correct horse battery")
    assert "$m=65536,t=3" in hashed
    assert hashed.startswith("$argon2id$") and "correct" not in hashed
    assert verify_password(hashed, "correct horse battery")
    assert not verify_password(hashed, "wrong horse battery")
    assert not verify_password(None, "correct horse battery")
    assert not verify_password("not-a-hash", "x")
    assert not needs_rehash(hashed)
    with pytest.raises(StoreError, match="at least"):
        hash_password("short")


@pytest.mark.parametrize("text, ev, expected", [
    ("Real IVORY bangle", evidence("ivory", matched="ivory"), ["IVORY"]),
    ("正宗象-牙手镯", evidence("象牙"), ["象-牙"]),  # separators inside the word
    ("老料 象牙 擺件", evidence("象牙"), ["象牙"]),  # traditional text, simplified term
    ("ｉｖｏｒｙ carving", evidence("ivory"), ["ｉｖｏｒｙ"]),  # full-width letters
    ("i.v.o.r.y carving", evidence("ivory"), ["i.v.o.r.y"]),
    ("穿山甲片 and 穿山甲", evidence("穿山甲", group="pangolin"), ["穿山甲", "穿山甲"]),
])
def test_highlight_finds_terms_in_the_original_text(text, ev, expected):
    spans, missing = find_spans(text, [ev], "title")
    assert [text[start:end] for start, end, _ in spans] == expected
    assert missing == []


def test_highlight_lists_what_it_cannot_locate_and_ignores_other_fields():
    spans, missing = find_spans("plain text", [evidence("犀角", group="rhino_horn"),
                                               evidence("ivory", field="description")], "title")
    assert spans == [] and missing == ["product: 犀角 [rhino_horn]"]
    segs, _ = segments("<b>ivory</b>", [evidence("ivory")], "title")
    assert [(s.text, s.mark) for s in segs] == [("<b>", False), ("ivory", True), ("</b>", False)]

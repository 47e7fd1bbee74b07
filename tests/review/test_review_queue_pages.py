"""The queue's pages as the review app reads them: a page's ids from the order's index, then its rows.

Pages laid end to end must be the whole queue in its order, with every filter and order, ties and
unscored tipped listings included; "most uncertain first" is the distance to each listing's own
threshold. On SQLite the page query must walk an index of migration 0008 rather than sort. The
dashboard the app keeps between views must follow a new decision and a new score at once.
"""
from __future__ import annotations

import re
from dataclasses import replace

import pytest
from sqlalchemy.dialects import sqlite

from review.app import create_app
from support.review_support import PASSWORDS, evidence, listing, seed, standard_users
from store import repository
from store.db import session_scope
from store.models import Listing, User
from store.decisions import QueueFilters, decide, queue_count, queue_ids, queue_page, queue_rows, record_tip
from wildwatch.config import Settings

pytestmark = pytest.mark.db

# Ties on purpose (0.9 three times, 0.55 twice); two thresholds (0.5 and 0.7) so "uncertain" needs each row's own.
SCORES = [0.9, 0.9, 0.91, 0.9, 0.55, 0.55, 0.62, 0.75, 0.99, 0.51, 0.3, 0.49, 0.71, 0.69, 0.8, 0.5]


@pytest.fixture
def queue_store(engine):
    standard_users(engine)
    ids = seed(engine, [(listing(f"A{i}", f"象牙 {i}"), s, [evidence("象牙")]) for i, s in enumerate(SCORES)])
    ids.update(seed(engine, [(listing(f"B{i}", f"犀角 {i}"), s, [evidence("犀角", group="rhino_horn")])
                             for i, s in enumerate(SCORES)], marketplace="other", threshold=0.7))
    with session_scope(engine) as session:
        market = repository.get_or_create_marketplace(session, "shop", "http://shop.test")
        run = repository.start_run(session, market)
        unscored = listing("T-unscored", "tipped, never scored")
        item = {**unscored.to_dict(), "content_hash": unscored.content_hash(), "marketplace": "shop"}
        ids.update(repository.upsert_listings(session, run, market, [item]))
        repository.finish_run(session, run, "succeeded", {"listings": 1})
        record_tip(session, "http://shop.test/item/T-unscored", "alice", status="stored", listing_id=ids["T-unscored"])
        record_tip(session, "http://shop.test/item/A10", "alice", status="stored", listing_id=ids["A10"])  # below 0.5
        alice, lena = (session.query(User).filter_by(name=n).one() for n in ("alice", "lena"))
        decide(session, ids["A0"], alice, "confirmed")
        decide(session, ids["B4"], lena, "false_positive")
        decide(session, ids["A10"], alice, "needs_expert")
        # Protection as scores name it (store.repository keeps the current_* copy): some ranks, some unassessed.
        for n, external_id in enumerate(sorted(ids)):
            rank = (None, 0, 1, 2, 3)[n % 5]
            session.get(Listing, ids[external_id]).current_protection_rank = rank
    return engine, ids


def expected(engine, filters: QueueFilters) -> list[int]:
    """The queue computed in Python from the listings' current columns, as the page query must order it."""
    from store.models import Tip

    with session_scope(engine) as session:
        tipped = {t.listing_id for t in session.query(Tip).filter_by(status="stored")}
        rows = [r for r in session.query(Listing) if r.current_flagged or r.id in tipped]
    if filters.status == "undecided":
        rows = [r for r in rows if r.current_decision is None]
    elif filters.status == "decided":
        rows = [r for r in rows if r.current_decision is not None]
    if filters.source == "tip":
        rows = [r for r in rows if r.id in tipped]
    if filters.order == "protection":
        key = lambda r: (r.current_protection_rank is None, r.current_protection_rank or 0,  # noqa: E731
                         r.current_score is None, -(r.current_score or 0), r.id)
    elif filters.order == "uncertain":
        key = lambda r: (r.current_score is None,  # noqa: E731
                         abs(r.current_score - (r.current_threshold if r.current_threshold is not None else 0.5))
                         if r.current_score is not None else 0, r.id)
    else:
        key = lambda r: (r.current_score is None, -(r.current_score or 0), -r.last_seen_at.timestamp(), r.id)  # noqa: E731
    return [r.id for r in sorted(rows, key=key)]


@pytest.mark.parametrize("filters", [
    QueueFilters(), QueueFilters(order="uncertain"), QueueFilters(status="undecided"), QueueFilters(status="decided"),
    QueueFilters(order="uncertain", status="undecided"), QueueFilters(source="tip"),
    QueueFilters(source="tip", order="uncertain"), QueueFilters(order="protection"),
    QueueFilters(order="protection", status="undecided"),
], ids=lambda f: f"{f.order}-{f.status}-{f.source}")
def test_pages_end_to_end_are_the_whole_queue_in_order(queue_store, filters):
    engine, ids = queue_store
    want = expected(engine, filters)
    assert len(want) >= 2
    with session_scope(engine) as session:
        assert queue_count(session, filters) == len(want)
        for per_page in (1, 5, 7, len(want), len(want) + 3):
            pages = [queue_page(session, filters, page=n, per_page=per_page).rows
                     for n in range(1, -(-len(want) // per_page) + 2)]
            assert pages[-1] == []  # one past the last page: empty, not an error
            assert [r.id for page in pages for r in page] == want, per_page
        rows = queue_rows(session, filters, limit=len(want))
        assert [r.id for r in rows] == want
        assert all(row.external_id for row in rows)  # the page's rows come with their columns
    if filters.status is None and filters.source is None and filters.order != "protection":
        assert want[-1] == ids["T-unscored"]  # unscored last


def test_most_uncertain_uses_each_listings_own_threshold(queue_store):
    engine, ids = queue_store
    with session_scope(engine) as session:
        first = [r.external_id for r in queue_rows(session, QueueFilters(order="uncertain"), limit=6)]
    # A15 sits on its threshold 0.5; A9 (0.51 of 0.5) and B12 (0.71 of 0.7) are 0.01 off; then 0.05: A4, A5 (0.55
    # of 0.5) and B7 (0.75 of 0.7). B13 (0.69) is below its own threshold 0.7, so not flagged, not in the queue.
    assert first[0] == "A15" and set(first[1:3]) == {"A9", "B12"} and set(first[3:6]) == {"A4", "A5", "B7"}


@pytest.mark.parametrize("filters, index", [
    (QueueFilters(), "ix_listings_queue_order"), (QueueFilters(status="undecided"), "ix_listings_queue_order"),
    (QueueFilters(order="uncertain"), "ix_listings_uncertainty"),
    (QueueFilters(order="uncertain", status="undecided"), "ix_listings_uncertainty"),
    (QueueFilters(order="protection"), "ix_listings_protection_order"),
], ids=lambda v: f"{v.order}-{v.status}" if isinstance(v, QueueFilters) else v)
def test_sqlite_walks_the_orders_index_without_sorting(queue_store, filters, index):
    engine, _ids = queue_store
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL picks its plan from statistics; EXPLAIN there is for a person to read")
    statement = queue_ids(filters).limit(50).offset(100)
    sql = str(statement.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))
    with engine.connect() as connection:
        plan = " | ".join(row[-1] for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))
    assert f"USING INDEX {index}" in plan or f"USING COVERING INDEX {index}" in plan, plan
    assert "TEMP B-TREE" not in plan, plan


def _login(client, name):
    token = re.search(rb'name="csrf_token" value="([^"]+)"', client.get("/login").data).group(1).decode()
    assert client.post("/login", data={"name": name, "password": PASSWORDS[name], "csrf_token": token}).status_code == 302
    return token


def test_dashboard_kept_between_views_follows_new_decisions_and_scores(queue_store, db_url, tmp_path):
    engine, ids = queue_store
    app = create_app(replace(Settings.from_env(), database_url=db_url, data_dir=tmp_path / "data"), testing=True)
    client = app.test_client()
    _login(client, "alice")

    def totals() -> tuple[int, int, int]:
        page = client.get("/dashboard").get_data(as_text=True)
        found = re.search(r"Flagged <strong>(\d+)</strong>, reviewed <strong>(\d+)</strong>,\s+confirmed "
                          r"<strong>(\d+)</strong>", page)
        return tuple(int(n) for n in found.groups())

    flagged, reviewed, confirmed = totals()
    assert totals() == (flagged, reviewed, confirmed)  # the kept page, same figures
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").get_data(as_text=True)).group(1)
    answer = client.post(f"/listing/{ids['A1']}/decision", data={"decision": "confirmed", "csrf_token": token})
    assert answer.status_code == 302
    assert totals() == (flagged, reviewed + 1, confirmed + 1)
    seed(engine, [(listing("N1", "新 象牙"), 0.97, [evidence("象牙")])], marketplace="third")
    assert totals() == (flagged + 1, reviewed + 1, confirmed + 1)
    app.extensions["wildwatch_engine"].dispose()

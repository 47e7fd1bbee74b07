"""Writes that scale: many processes writing the same listings at once, and transient failures retried.

No duplicate listing, every score and decision kept, one snapshot per content, whichever worker wins a
race; deadlocks, a locked SQLite file and a connection killed mid-transaction (pg_terminate_backend on
the crawl's own connection) cost a retry, never a row.
"""
from __future__ import annotations

import multiprocessing
import sqlite3
import threading
import traceback

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from support.cli import run_cli, wildwatch_env
from crawler.items import ListingItem
from store import db
from store import repository as repo
from store.errors import StoreError
from store.models import CrawlRun, Decision, Listing, ListingSnapshot, Marketplace, ModelVersion, Score
from store.retry import is_transient, run_in_transaction
from store.testing import require_postgres, temporary_postgres_database
from wildwatch.demo.oldstreet import OldStreetShop

WORKERS = 4
BATCHES = 6
BATCH = 40
LISTINGS = 120


def batch_ids(worker: int, batch: int) -> list[str]:
    """Overlapping windows: every listing is written by several workers, in different batches."""
    start = (worker * 30 + batch * 17) % LISTINGS
    return [f"L{(start + k) % LISTINGS:03d}" for k in range(BATCH)]


def listing_row(external_id: str) -> dict:
    item = ListingItem("shared", external_id, f"http://127.0.0.1/item/{external_id}", f"象牙手镯 {external_id}",
                       description="老货", price=100.0, currency="CNY", crawled_at="2026-01-01T00:00:00Z")
    return {**item.to_dict(), "content_hash": item.content_hash()}


def _writer(url: str, worker: int, barrier, results) -> None:
    """One crawl worker's process: its own run, BATCHES transactions of listings + scores + a decision."""
    engine = db.make_engine(url)
    retries = [0]

    def count_retry(_attempt, _exc):
        retries[0] += 1

    try:
        barrier.wait(timeout=120)  # all workers start writing together

        def open_run(session):
            market = repo.get_or_create_marketplace(session, "shared", "http://127.0.0.1")
            return market.id, repo.start_run(session, market).id

        market_id, run_id = run_in_transaction(engine, open_run, what=f"worker {worker}: open run",
                                               on_retry=count_retry)
        scores = decisions = 0
        for batch in range(BATCHES):
            ids = batch_ids(worker, batch)

            def write(session, ids=ids, batch=batch):
                run, market = session.get(CrawlRun, run_id), session.get(Marketplace, market_id)
                rows = repo.upsert_listings(session, run, market, [listing_row(i) for i in ids])
                model = repo.ensure_model_version(session, "m-shared", {"by": "concurrency test"})
                stored = repo.record_scores(session, run, model, [
                    (rows[i], {"score": 0.5 + worker / 100, "flagged": True}) for i in ids])
                repo.add_decision(session, rows[ids[0]], f"analyst-{worker}", "confirmed", note=f"w{worker} b{batch}")
                return stored

            scores += run_in_transaction(engine, write, what=f"worker {worker}: batch {batch}", on_retry=count_retry)
            decisions += 1
        results.put({"worker": worker, "scores": scores, "decisions": decisions, "retries": retries[0]})
    except BaseException:
        results.put({"worker": worker, "error": traceback.format_exc()})
    finally:
        engine.dispose()


def test_concurrent_writers_never_duplicate_a_listing_or_lose_a_score(migrated_db_url, report):
    db.upgrade(migrated_db_url)
    context = multiprocessing.get_context("spawn")  # no inherited connections, locks or threads
    barrier, results = context.Barrier(WORKERS), context.Queue()
    processes = [context.Process(target=_writer, args=(migrated_db_url, w, barrier, results)) for w in range(WORKERS)]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=300) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    errors = [o["error"] for o in outcomes if "error" in o]
    assert not errors, "\n".join(errors)

    expected = {i for w in range(WORKERS) for b in range(BATCHES) for i in batch_ids(w, b)}
    engine = db.make_engine(migrated_db_url)
    try:
        with engine.connect() as conn:
            def count(model, *where):
                return conn.scalar(sa.select(sa.func.count()).select_from(model).where(*where))

            external_ids = list(conn.scalars(sa.select(Listing.external_id)))
            assert sorted(external_ids) == sorted(expected)  # each listing once
            assert count(Score) == sum(o["scores"] for o in outcomes) == WORKERS * BATCHES * BATCH
            per_listing = dict(conn.execute(
                sa.select(Listing.external_id, sa.func.count(Score.id))
                .join(Score, Score.listing_id == Listing.id).group_by(Listing.external_id)).all())
            written = {i: 0 for i in expected}
            for w in range(WORKERS):
                for b in range(BATCHES):
                    for i in batch_ids(w, b):
                        written[i] += 1
            assert per_listing == written
            notes = sorted(conn.scalars(sa.select(Decision.note)))
            assert notes == sorted(f"w{w} b{b}" for w in range(WORKERS) for b in range(BATCHES))
            assert count(ListingSnapshot) == len(expected)  # same content from every worker: one snapshot each
            assert count(ModelVersion) == 1 and count(Marketplace) == 1 and count(CrawlRun) == WORKERS
    finally:
        engine.dispose()
    retries = sum(o["retries"] for o in outcomes)
    report(f"[concurrent writers, {engine.dialect.name}] {WORKERS} processes x {BATCHES} batches of {BATCH} "
           f"overlapping listings: {len(expected)} listings, {WORKERS * BATCHES * BATCH} scores, "
           f"{WORKERS * BATCHES} decisions stored exactly; {retries} transaction retries")


def test_errors_that_are_not_transient_are_raised_at_once(engine):
    attempts = []

    def duplicate(session):
        attempts.append(1)
        session.add_all([Marketplace(name="twice"), Marketplace(name="twice")])
        session.flush()

    with pytest.raises(IntegrityError):
        run_in_transaction(engine, duplicate, what="duplicate insert", first_wait=0.01)
    assert len(attempts) == 1


def test_unreachable_database_gives_up_with_one_clear_error():
    engine = db.make_engine("postgresql+psycopg://analyst:s3cret-pw@127.0.0.1:1/wildwatch")
    seen = []
    try:
        with pytest.raises(StoreError) as info:
            run_in_transaction(engine, lambda session: session.execute(sa.text("SELECT 1")), what="storing 3 listings",
                               attempts=3, first_wait=0.01, max_wait=0.02, on_retry=lambda n, exc: seen.append(n))
    finally:
        engine.dispose()
    message = str(info.value)
    assert message.startswith("storing 3 listings failed after 3 attempts on postgresql+psycopg://analyst:***@")
    assert "Connection refused" in message and "s3cret-pw" not in message and "\n" not in message
    assert seen == [1, 2]


def test_a_locked_sqlite_database_is_retried_once_the_lock_is_gone(tmp_path):
    url = f"sqlite:///{tmp_path / 'locked.db'}"
    db.upgrade(url)
    # A short busy timeout so the lock surfaces as an error instead of a 30 s wait.
    impatient = sa.create_engine(url, connect_args={"timeout": 0.05})
    holder = sqlite3.connect(tmp_path / "locked.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the write lock
    released = []

    def release(_attempt, exc):
        assert is_transient(exc)
        holder.execute("COMMIT")
        released.append(type(exc.orig).__name__)

    try:
        run_in_transaction(impatient, lambda s: s.add(Marketplace(name="after-the-lock")), what="write",
                           first_wait=0.01, on_retry=release)
        with impatient.connect() as conn:
            assert conn.scalar(sa.select(Marketplace.name)) == "after-the-lock"
    finally:
        holder.close()
        impatient.dispose()
    assert released == ["OperationalError"]


def _two_colliding_writers(engine, step_one, step_two) -> list[str]:
    """Run step_one, meet, step_two in two threads at once (args "a" and "b"); the SQLSTATEs retried."""
    meet = threading.Barrier(2)
    retried: list[str] = []

    def writer(name: str):
        def work(session):
            step_one(session, name)
            if not retried:
                meet.wait(timeout=30)  # the first attempts overlap; a retry runs alone
            step_two(session, name)
        run_in_transaction(engine, work, what=f"writer {name}", first_wait=0.05,
                           on_retry=lambda _n, exc: retried.append(exc.orig.sqlstate))

    threads = [threading.Thread(target=writer, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return retried


@pytest.fixture
def postgres_engine():
    require_postgres()
    with temporary_postgres_database() as url:
        db.upgrade(url)
        engine = db.make_engine(url)
        yield engine
        engine.dispose()


@pytest.mark.postgres
def test_a_postgresql_deadlock_is_retried_and_both_writes_land(postgres_engine):
    with db.session_scope(postgres_engine) as session:
        session.add_all([Marketplace(name="a"), Marketplace(name="b")])
    other = {"a": "b", "b": "a"}

    def touch(session, name):
        session.execute(sa.update(Marketplace).where(Marketplace.name == name).values(base_url="x"))

    # Each locks its own row, then wants the other's.
    retried = _two_colliding_writers(postgres_engine, touch, lambda session, name: touch(session, other[name]))
    assert retried == ["40P01"]  # deadlock_detected: PostgreSQL aborted one, the retry ran it again
    with postgres_engine.connect() as conn:
        assert list(conn.scalars(sa.select(Marketplace.base_url))) == ["x", "x"]


@pytest.mark.postgres
def test_a_postgresql_serialisation_failure_is_retried_and_both_writes_land(postgres_engine):
    serializable = postgres_engine.execution_options(isolation_level="SERIALIZABLE")

    def read(session, _name):
        session.scalar(sa.select(sa.func.count()).select_from(Marketplace))

    def insert(session, name):
        session.add(Marketplace(name=name))
        session.flush()

    # Both read the table, then both write to it: SERIALIZABLE lets only one commit as it was.
    assert _two_colliding_writers(serializable, read, insert) == ["40001"]  # serialization_failure
    with postgres_engine.connect() as conn:
        assert sorted(conn.scalars(sa.select(Marketplace.name))) == ["a", "b"]


# Kills the backend that runs the first INSERT INTO scores: the crawl's own connection, mid-transaction,
# after its listings were upserted. The sequence is outside the transaction, so the retry is not killed.
KILL_FIRST_SCORE_INSERT = [
    "CREATE SEQUENCE kill_switch",
    """CREATE FUNCTION kill_first_scorer() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF nextval('kill_switch') = 1 THEN PERFORM pg_terminate_backend(pg_backend_pid()); END IF;
         RETURN NULL;
       END $$""",
    "CREATE TRIGGER kill_first_scorer BEFORE INSERT ON scores FOR EACH STATEMENT EXECUTE FUNCTION kill_first_scorer()",
]


@pytest.mark.postgres
def test_crawl_survives_its_connection_being_terminated_mid_batch(tmp_path, trained_models_dir, report):
    require_postgres()
    with temporary_postgres_database() as url:
        db.upgrade(url)
        engine = db.make_engine(url)
        try:
            with engine.begin() as conn:
                for statement in KILL_FIRST_SCORE_INSERT:
                    conn.exec_driver_sql(statement)
            env = wildwatch_env(tmp_path / "data", trained_models_dir, WILDWATCH_DATABASE_URL=url)
            with OldStreetShop() as shop:
                result = run_cli(["crawl", "demo-oldstreet", "--base-url", shop.base_url], env)
                truth = {item.id for item in shop.listings}
            assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
            with engine.connect() as conn:
                assert conn.scalar(sa.text("SELECT last_value FROM kill_switch")) >= 2  # killed, then ran again
                run = conn.execute(sa.select(CrawlRun)).one()
                external_ids = list(conn.scalars(sa.select(Listing.external_id)))
                scored = list(conn.scalars(sa.select(Listing.external_id).join(Score, Score.listing_id == Listing.id)))
                snapshots = conn.scalar(sa.select(sa.func.count()).select_from(ListingSnapshot))
        finally:
            engine.dispose()
    assert run.status == "succeeded", run.stats
    assert sorted(external_ids) == sorted(truth)           # every listing, once
    assert sorted(scored) == sorted(truth)                 # one score each: the killed attempt left nothing
    assert snapshots == len(truth)
    assert run.stats["store_retries"] >= 1 and run.stats["spooled"] == 0, run.stats
    # The server's words depend on when the kill lands: mid-statement ("terminating connection due to
    # administrator command") or between statements ("server closed the connection").
    assert "failed (attempt 1 of 5), retrying" in result.stderr
    assert ("server closed the connection" in result.stderr
            or "terminating connection due to administrator command" in result.stderr), result.stderr
    report(f"[connection killed mid-batch] {len(truth)} listings stored once after "
           f"{run.stats['store_retries']} retried batch transaction(s)")

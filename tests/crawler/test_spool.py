"""The spool: listings the database refused, written later exactly once (crawler.spool), and the CLI around it."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from support.cli import invoke, run_cli, wildwatch_env
from crawler.items import ListingItem
from crawler.spool import SpoolError, append, parse, pending_files, replay_all, replay_file, spool_path
from store import repository
from store.db import make_engine, session_scope, upgrade
from store.models import CrawlRun, Listing, ListingSnapshot, Score

SCORE = {"model_version": "m-1", "score": 0.91, "flagged": True, "threshold": 0.5, "species": ["elephant"],
         "evidence": [{"term": "象牙"}]}


def item(number: int, title: str = "象牙手镯", **extra) -> ListingItem:
    return ListingItem(marketplace="shop", listing_id=f"L{number}", url=f"http://127.0.0.1/item/L{number}",
                       title=f"{title} {number}", description="老物件", crawled_at="2026-11-25T01:00:00+00:00",
                       score=dict(SCORE), **extra)


@pytest.fixture()
def store(tmp_path):
    url = f"sqlite:///{tmp_path / 'db' / 'w.db'}"
    upgrade(url)
    engine = make_engine(url)
    with session_scope(engine) as session:
        marketplace = repository.get_or_create_marketplace(session, "shop", "http://127.0.0.1")
        run = repository.start_run(session, marketplace)
        session.flush()
        run_id = run.id
    yield engine, run_id, url
    engine.dispose()


def figures(engine) -> tuple[int, int, int]:
    with engine.connect() as conn:
        return (conn.scalar(select(func.count(Listing.id))), conn.scalar(select(func.count(ListingSnapshot.id))),
                conn.scalar(select(func.count(Score.id))))


def test_replay_stores_every_listing_once_and_removes_the_file(store, tmp_path):
    engine, run_id, _ = store
    path = spool_path(tmp_path / "spool", run_id)
    append(path, [item(n) for n in range(1, 6)])
    append(path, [item(n) for n in range(6, 9)])
    assert pending_files(tmp_path / "spool") == [path]
    result = replay_file(engine, path)
    assert result.ok and (result.listings, result.stored, result.scores) == (8, 8, 8), result.line()
    assert not path.exists() and figures(engine) == (8, 8, 8)
    with session_scope(engine) as session:
        stats = session.get(CrawlRun, run_id).stats
    assert stats["replayed"] == 8 and stats["spool_pending"] == 0


def test_replaying_the_same_listings_again_adds_nothing(store, tmp_path):
    """A replay killed after its commit but before removing the file, or a batch that reached the database
    although the crawl saw an error: the second write adds no listing, snapshot or score."""
    engine, run_id, _ = store
    path = spool_path(tmp_path / "spool", run_id)
    for _ in range(2):
        append(path, [item(1), item(2)])
        assert replay_file(engine, path).ok
    append(path, [item(1), item(2), item(2)])
    result = replay_file(engine, path)
    assert result.ok and result.scores == 0
    assert figures(engine) == (2, 2, 2)


def test_a_listing_stored_by_a_later_run_is_not_overwritten(store, tmp_path):
    engine, run_id, _ = store
    path = spool_path(tmp_path / "spool", run_id)
    append(path, [item(1, title="旧的 old"), item(2)])
    with session_scope(engine) as session:  # the next night stored listing 1 before the spool was replayed
        run = session.get(CrawlRun, run_id)
        repository.finish_run(session, run, "partial", {})
        later = repository.start_run(session, session.get(CrawlRun, run_id).marketplace)
        repository.upsert_listings(session, later, later.marketplace,
                                   [{**item(1, title="新的 new").to_dict(),
                                     "content_hash": item(1, title="新的 new").content_hash()}])
    result = replay_file(engine, path)
    assert result.ok and result.superseded == 1 and result.stored == 1, result.line()
    with engine.connect() as conn:
        assert conn.scalar(select(Listing.title).where(Listing.external_id == "L1")) == "新的 new 1"


def test_a_line_cut_off_by_a_kill_is_reported_and_the_rest_stored(store, tmp_path):
    engine, run_id, _ = store
    path = spool_path(tmp_path / "spool", run_id)
    append(path, [item(1), item(2)])
    with path.open("a", encoding="utf-8") as handle:
        handle.write('{"item": {"marketplace": "shop", "listing_id": "L3", "ur')  # the process died here
    result = replay_file(engine, path)
    assert result.ok and result.stored == 2 and len(result.unreadable) == 1
    assert f"{path}:3:" in result.unreadable[0]
    assert "1 unreadable lines skipped" in result.line()


def test_the_runs_closing_record_closes_a_run_the_crawl_could_not(store, tmp_path):
    engine, run_id, _ = store
    path = spool_path(tmp_path / "spool", run_id)
    append(path, [item(1)], finish={"status": "partial", "error": "database down at the end",
                                    "stats": {"pages": 3, "listings": 1, "spooled": 1}})
    result = replay_file(engine, path)
    assert result.ok and result.run_closed
    with session_scope(engine) as session:
        run = session.get(CrawlRun, run_id)
        assert (run.status, run.error) == ("partial", "database down at the end")
        assert run.stats["pages"] == 3 and run.stats["replayed"] == 1 and run.stats["spool_pending"] == 0


def test_a_spool_the_database_cannot_take_is_kept_with_the_reason(store, tmp_path):
    engine, _, url = store
    path = spool_path(tmp_path / "spool", 999)  # no such run
    append(path, [item(1)])
    [result] = replay_all(url, tmp_path / "spool")
    assert not result.ok and "no crawl run 999" in result.error and path.exists()
    assert "NOT replayed" in result.line()


def test_an_unwritable_spool_is_a_spool_error(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    with pytest.raises(SpoolError, match="cannot write the spool file"):
        append(spool_path(blocker, 1), [item(1)])


def test_older_spools_hold_bare_items_and_still_replay(store, tmp_path):
    engine, run_id, _ = store
    path = spool_path(tmp_path / "spool", run_id)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(item(1).to_dict(), ensure_ascii=False) + "\n", encoding="utf-8")
    assert parse(path, path.read_text(encoding="utf-8")).items[0].listing_id == "L1"
    assert replay_file(engine, path).stored == 1


@pytest.mark.slow  # a nightly run in a CLI process
def test_db_replay_spool_and_the_nightly_start_replay(store, tmp_path, trained_models_dir):
    engine, run_id, url = store
    data_dir = tmp_path / "data"
    env = wildwatch_env(data_dir, trained_models_dir, WILDWATCH_DATABASE_URL=url,
                        WILDWATCH_SITES_DIR=str(tmp_path / "no-sites"))
    result = invoke(["db", "replay-spool"], env)
    assert result.returncode == 0 and "nothing to replay" in result.stdout
    append(spool_path(data_dir / "spool", run_id), [item(1), item(2)])
    result = invoke(["db", "replay-spool"], env)
    assert result.returncode == 0, result.stderr
    assert "2 listings replayed: 2 listings stored, 2 scores" in result.stdout
    assert "replayed 1 of 1 spool files: 2 listings stored" in result.stdout

    # `wildwatch nightly` replays what is left before it crawls (here it then has no site to crawl).
    append(spool_path(data_dir / "spool", run_id), [item(3)])
    (tmp_path / "no-sites").mkdir()
    result = run_cli(["nightly"], env)
    assert result.returncode == 2 and "no site to crawl" in result.stderr
    assert not pending_files(data_dir / "spool") and figures(engine) == (3, 3, 3)


def test_a_run_whose_closing_record_waits_in_the_spool_ends_non_zero(capsys):
    """All listings stored but the run's closing record spooled (the disk filled at the very end): the run row
    still says running, so the crawl is not clean: one error line with the replay hint, and a non-zero exit."""
    from crawler.stats import STAT, crawl_summary
    from wildwatch import cli
    from wildwatch.crawl import CrawlOutcome

    clean = CrawlOutcome(site="oldstreet", run_id=1, summary=crawl_summary({STAT + "listings_stored": 64}))
    unclosed = CrawlOutcome(site="oldstreet", run_id=1, summary=crawl_summary(
        {STAT + "listings_stored": 64, STAT + "run_close_spooled": True}))
    assert not clean.store_incomplete and unclosed.store_incomplete
    cli._print_reliability([clean])
    assert "error:" not in capsys.readouterr().err
    cli._print_reliability([unclosed])
    [line] = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert "oldstreet" in line and "could not be closed" in line and "replay-spool" in line

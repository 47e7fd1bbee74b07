"""The demo's second shop over two nights, crawled from its config: GBK and Big5 pages, a GBK search box,
robots.txt, conditional requests, and a second night that edits three listings and removes one."""
from __future__ import annotations

from urllib.parse import unquote_to_bytes

import pytest
from sqlalchemy import create_engine, func, select

from support.cli import database_url_for, run_cli, wildwatch_env
from store.models import CrawlRun, Listing, ListingSnapshot, Marketplace
from wildwatch.config import DEMO_CATALOG
from wildwatch.demo.catalog import load_catalog
from wildwatch.demo.oldstreet import NIGHT2_CHANGED, NIGHT2_REMOVED, OldStreetShop, build_listings

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def two_nights(tmp_path_factory, trained_models_dir):
    data_dir = tmp_path_factory.mktemp("oldstreet")
    env = wildwatch_env(data_dir, trained_models_dir)
    nights = []
    engine = create_engine(database_url_for(data_dir))
    for night in (1, 2):
        with OldStreetShop(night=night) as shop:
            result = run_cli(["crawl", "demo-oldstreet", "--base-url", shop.base_url], env)
            nights.append({"result": result, "hits": shop.hits, "searches": list(shop.searches),
                           "not_modified": shop.not_modified, "listings": shop.listings})
        if result.returncode == 0:
            with engine.connect() as conn:
                nights[-1]["rows"] = {row.external_id: row for row in conn.execute(select(Listing))}
    yield {"nights": nights, "engine": engine, "data_dir": data_dir}
    engine.dispose()


def _explain(result) -> str:
    return f"exit {result.returncode}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"


def test_first_night_reads_gbk_and_big5_pages_exactly(two_nights):
    first = two_nights["nights"][0]
    assert first["result"].returncode == 0, _explain(first["result"])
    truth = {item.id: item for item in first["listings"]}
    rows = first["rows"]
    assert set(rows) == set(truth)
    big5 = [item for item in truth.values() if item.big5]
    assert big5 and any(not item.big5 for item in truth.values())
    for item in truth.values():
        row = rows[item.id]
        assert row.title == item.title, item.id
        assert row.description.replace("\n", "") == item.description.replace("\n", ""), item.id
        assert row.location == item.location and row.seller_id == item.seller_id
    # Characters Big5 lacks travel as numeric references and still come out right.
    assert any(any(ord(ch) > 0xFFFF or not _encodable(ch, "big5") for ch in item.title + item.description)
               for item in big5)


def _encodable(ch: str, encoding: str) -> bool:
    try:
        ch.encode(encoding)
        return True
    except UnicodeEncodeError:
        return False


def test_search_terms_come_from_the_lexicon_encoded_in_gbk(two_nights):
    first = two_nights["nights"][0]
    search_paths = [path for path in first["hits"] if path.startswith("/search.php")]
    assert first["searches"] and len(set(first["searches"])) <= 8
    for path in search_paths:
        raw = unquote_to_bytes(path.split("kw=", 1)[1].split("&", 1)[0])
        raw.decode("gbk")  # percent-encoded GBK, as the shop expects
    from classifier.lexicon import load_lexicon

    lexicon_terms = {entry.term for entry in load_lexicon().entries
                     if entry.group in ("ivory", "rhino_horn", "pangolin", "tiger", "hawksbill")}
    assert set(first["searches"]) <= lexicon_terms


def test_robots_txt_is_obeyed_and_each_refusal_logged(two_nights):
    first = two_nights["nights"][0]
    assert not [path for path in first["hits"] if path.startswith(("/member/", "/cart.php"))]
    with two_nights["engine"].connect() as conn:
        run = conn.execute(select(CrawlRun).order_by(CrawlRun.id)).first()
    assert run.stats["robots_forbidden"] > 0
    logs = sorted((two_nights["data_dir"] / "logs").glob("crawl-demo-oldstreet-*.log"))
    lines = [line for line in logs[0].read_text(encoding="utf-8").splitlines() if "robots.txt disallows" in line]
    assert len(lines) == run.stats["robots_forbidden"]
    assert all("/member/shop.php?uid=" in line for line in lines)


def test_second_night_three_changed_one_removed_exact_counts(two_nights):
    second = two_nights["nights"][1]
    assert second["result"].returncode == 0, _explain(second["result"])
    first_ids = {item.id for item in two_nights["nights"][0]["listings"]}
    with two_nights["engine"].connect() as conn:
        market = conn.execute(select(Marketplace).where(Marketplace.name == "demo-oldstreet")).one()
        runs = conn.execute(select(CrawlRun).order_by(CrawlRun.id)).all()
        listings = conn.scalar(select(func.count(Listing.id)))
        snapshots = conn.scalar(select(func.count(ListingSnapshot.id)))
        gone = set(conn.scalars(select(Listing.external_id).where(Listing.gone_at.is_not(None))))
        changed = conn.execute(select(ListingSnapshot.listing_id, func.count()).group_by(ListingSnapshot.listing_id)
                               .having(func.count() > 1)).all()
        changed_ids = set(conn.scalars(select(Listing.external_id).where(Listing.id.in_([c[0] for c in changed]))))
    assert market and [r.status for r in runs] == ["succeeded", "succeeded"]
    assert listings == len(first_ids)                              # nothing new, nothing duplicated
    assert snapshots == len(first_ids) + len(NIGHT2_CHANGED)       # one new snapshot per edited listing
    assert changed_ids == set(NIGHT2_CHANGED)
    assert gone == set(NIGHT2_REMOVED) and runs[1].stats["gone"] == 1
    # Conditional requests: unchanged pages came back 304 and were read from the cache.
    assert runs[1].stats["not_modified"] == second["not_modified"] > 0.5 * runs[1].stats["pages"]
    assert runs[0].stats["not_modified"] == 0


def test_night_changes_are_defined_against_the_catalog():
    catalog = load_catalog(DEMO_CATALOG)
    one, two = build_listings(catalog, 1), build_listings(catalog, 2)
    assert len(one) - len(two) == len(NIGHT2_REMOVED)
    by_id = {item.id: item for item in two}
    for listing_id in NIGHT2_CHANGED:
        before = next(item for item in one if item.id == listing_id)
        assert before != by_id[listing_id]
    unchanged = [item for item in two if item.id not in NIGHT2_CHANGED]
    assert all(item in one for item in unchanged)

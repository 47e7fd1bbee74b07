"""`wildwatch crawl --url` on a shop the project has never seen, with no config at all: schema.org,
plain-HTML and JavaScript-only detail pages, through a real Chromium for the JavaScript ones."""
from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import create_engine, select

from support.browser import require_chromium
from support.cli import database_url_for, run_cli, wildwatch_env
from store.models import CrawlRun, Listing
from support.unseen_shop import UnseenShop

# Crawls in CLI processes, one in Chromium. One pass (SQLite): what a crawl stores on PostgreSQL is proven by
# test_oldstreet and test_crawl_failures; discovery does not depend on the database.
pytestmark = [pytest.mark.db, pytest.mark.slow, pytest.mark.one_pass]


def _rows(data_dir):
    engine = create_engine(database_url_for(data_dir))
    try:
        with engine.connect() as conn:
            return list(conn.execute(select(Listing))), list(conn.execute(select(CrawlRun)))
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def crawled(tmp_path_factory, trained_models_dir):
    require_chromium()
    data_dir = tmp_path_factory.mktemp("discover")
    with UnseenShop() as shop:
        result = run_cli(["crawl", "--url", shop.base_url + "/", "--delay", "0"], wildwatch_env(data_dir, trained_models_dir))
        hits = dict(shop.hits)
    listings, runs = _rows(data_dir)
    return {"result": result, "shop": shop, "hits": hits, "listings": listings, "runs": runs, "data_dir": data_dir}


def test_unseen_site_yields_95_percent_of_listings_with_title_and_description(crawled, report):
    result = crawled["result"]
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    truth = {item.title: item for item in crawled["shop"].truth}
    complete = {row.title for row in crawled["listings"]
                if row.title in truth and truth[row.title].description.splitlines()[0] in row.description}
    share = len(complete) / len(truth)
    by_kind = Counter(truth[title].kind for title in complete)
    report(f"[crawl --url, unseen shop] {len(complete)}/{len(truth)} listings with title and description "
           f"({share:.1%}); by page kind {dict(sorted(by_kind.items()))}")
    assert share >= 0.95, sorted(set(truth) - complete)
    # Every page kind, the JavaScript-only ones included, is covered.
    for kind in ("jsonld", "html-a", "html-b", "js"):
        assert by_kind[kind] >= 0.95 * sum(1 for item in truth.values() if item.kind == kind), kind
    # Nothing but listings was stored: no home, category, search or seller page taken for one.
    assert {row.title for row in crawled["listings"]} <= set(truth)
    assert len(crawled["listings"]) == len(truth)


def test_unseen_site_rendering_is_only_for_javascript_pages(crawled):
    # A JavaScript page is rendered, or read from the JSON endpoint learned from rendered ones (crawler.jsonreplay).
    rendered = [row for row in crawled["listings"] if row.rendered]
    via_json = [row for row in crawled["listings"] if row.extraction == "json-endpoint"]
    assert {row.url.split("?")[0].rsplit("/", 1)[-1] for row in rendered + via_json} == {"listing"}  # /m/listing?id=N
    js_items = [item for item in crawled["shop"].truth if item.kind == "js"]
    assert len(rendered) + len(via_json) == len(js_items) and len(rendered) >= 2
    methods = Counter(row.extraction for row in crawled["listings"])
    assert methods["jsonld"] == sum(1 for item in crawled["shop"].truth if item.kind == "jsonld")
    assert methods["heuristic"] == len(crawled["listings"]) - methods["jsonld"] - len(via_json)
    run = crawled["runs"][0]
    assert run.status == "succeeded", run.stats
    assert run.stats["rendered_pages"] == len(rendered) and run.stats["render_retries"] == len(js_items)
    assert run.stats["json_endpoint_listings"] == len(via_json)
    assert all(result["ok"] for result in run.stats["monitors"].values()), run.stats["monitors"]


def test_unseen_site_crawl_is_polite_and_bounded(crawled):
    hits = crawled["hits"]
    # robots.txt read once and obeyed (with a log line for each refusal); no cart, login or help pages.
    assert hits.get("/robots.txt") == 1
    assert not [path for path in hits if path.startswith(("/internal/", "/login", "/cart", "/help", "/privacy"))]
    log = next((crawled["data_dir"] / "logs").glob("crawl-*.log")).read_text(encoding="utf-8")
    assert "robots.txt disallows http://127.0.0.1:" in log and "/internal/stats: not fetched" in log
    # Each detail page fetched once. JavaScript ones once raw, then once in the browser (which fetches the
    # page's JSON) or not at all when read from the JSON endpoint learned from rendered ones: their JSON once.
    for item in crawled["shop"].truth:
        if item.kind == "js":
            assert hits.get(item.path) in (1, 2) and hits.get(f"/api/v2/listing/{item.id}") == 1, item.path
        else:
            assert hits.get(item.path) == 1, item.path
    rendered = sum(1 for item in crawled["shop"].truth if item.kind == "js" and hits.get(item.path) == 2)
    assert rendered == crawled["runs"][0].stats["rendered_pages"]


def test_url_and_site_together_or_neither_is_a_user_error(tmp_path, trained_models_dir):
    env = wildwatch_env(tmp_path / "data", trained_models_dir)
    for args, needle in ((["crawl"], "neither"), (["crawl", "demo", "--url", "http://127.0.0.1:9/"], "both"),
                         (["crawl", "--url", "ftp://127.0.0.1/"], "--url")):
        result = run_cli(args, env)
        assert result.returncode == 2, result.stderr
        assert needle in result.stderr and "Traceback" not in result.stderr

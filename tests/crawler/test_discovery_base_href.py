"""`wildwatch crawl --url` on a shop laid out like real ones: every page has `<base href="/shop/">` and
relative links, product pages carry a "customers also bought" row (some products are linked from nowhere
else), and the home page links thirty pages that do not exist (404)."""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine, select

from support.cli import database_url_for, run_cli, wildwatch_env
from support.pages_server import PageServer, page
from store.models import CrawlRun, Listing

# A crawl in a CLI process. One pass (SQLite): what a crawl stores on PostgreSQL is proven by test_oldstreet and
# test_crawl_failures; discovery does not depend on the database.
pytestmark = [pytest.mark.db, pytest.mark.slow, pytest.mark.one_pass]

ITEMS = {n: (f"Carved horn cup no. {n}", f"carved-horn-cup-{n}") for n in range(201, 213)}
LISTED = list(ITEMS)[:8]  # on the category pages; the last four only in other products' rows
GHOSTS = range(101, 131)


def _layout(title: str, body: str) -> str:
    return (f'<!doctype html><html><head><meta charset="utf-8"><base href="/shop/"><title>{title}</title></head>'
            f'<body><header><a href="./">Horn &amp; Bone</a> <a href="cart">Cart</a></header>'
            f'<main>{body}</main><footer><a href="about">About</a></footer></body></html>')


def _card(n: int) -> str:
    title, slug = ITEMS[n]
    return (f'<div class="tile"><a href="item/{slug}"><img src="img/{n}.jpg" alt=""></a>'
            f'<a href="item/{slug}">{title}</a> <span class="cost">US$ {n}.00</span></div>')


def _site() -> dict:
    home = "".join(f'<a href="gone/{n}">Old offer {n}</a> ' for n in GHOSTS)
    pages = {
        "/": page(_layout("Horn & Bone", f'<h1>Horn &amp; Bone</h1><a href="c/cups">Cups</a> {home}')),
        "/shop/": page(_layout("Horn & Bone", '<h1>Horn &amp; Bone</h1><a href="c/cups">Cups</a>')),
        "/shop/c/cups": page(_layout("Cups", "<h1>Cups</h1>" + "".join(_card(n) for n in LISTED[:4])
                                     + '<div class="pages"><a href="c/cups?page=2">2</a></div>')),
        "/shop/c/cups?page=2": page(_layout("Cups - 2", "<h1>Cups</h1>"
                                            + "".join(_card(n) for n in LISTED[4:]))),
    }
    numbers = list(ITEMS)
    for i, (n, (title, slug)) in enumerate(ITEMS.items()):
        others = [numbers[(i + k) % len(numbers)] for k in range(1, 6)]  # the next five: a row of five
        row = "".join(_card(m) for m in others)
        body = (f'<div class="gallery"><img class="main-image" src="img/{n}.jpg" alt=""></div>'
                f"<h1>{title}</h1>"
                f'<div class="buy"><span class="price">US$ {n}.00</span> <button>Add to cart</button></div>'
                f'<div class="text"><p>Hand-carved cup, {n % 9 + 5} cm, from an old collection.</p></div>'
                f'<div class="row"><h2>Customers also bought</h2>{row}</div>')
        pages[f"/shop/item/{slug}"] = page(_layout(f"{title} | Horn & Bone", body))
    return pages


@pytest.fixture(scope="module")
def crawled(tmp_path_factory, trained_models_dir):
    data_dir = tmp_path_factory.mktemp("basehref")
    with PageServer(_site()) as site:
        result = run_cli(["crawl", "--url", site.url + "/", "--delay", "0", "--render", "never"],
                         wildwatch_env(data_dir, trained_models_dir))
        hits = dict(site.hits)
    engine = create_engine(database_url_for(data_dir))
    try:
        with engine.connect() as conn:
            listings, runs = list(conn.execute(select(Listing))), list(conn.execute(select(CrawlRun)))
    finally:
        engine.dispose()
    return {"result": result, "hits": hits, "listings": listings, "runs": runs}


def test_every_product_found_through_base_href_and_related_rows(crawled):
    result = crawled["result"]
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    stored = {row.title: row for row in crawled["listings"]}
    assert set(stored) == {title for title, _ in ITEMS.values()}  # the four only in related rows too
    for n, (title, slug) in ITEMS.items():
        row = stored[title]
        assert row.url.endswith(f"/shop/item/{slug}") and row.price == float(n) and row.currency == "USD"
        assert row.images == [row.url.split("/shop/")[0] + f"/shop/img/{n}.jpg"]
        assert row.description.startswith("Hand-carved cup")
    # No link was joined to the page's own URL: no /shop/c/item/... or /shop/item/item/... requests.
    assert not [path for path in crawled["hits"] if "/item/item/" in path or "/c/item/" in path]


def test_links_that_mostly_404_stop_being_followed_and_the_summary_says_so(crawled):
    hits = crawled["hits"]
    ghost_hits = sum(count for path, count in hits.items() if path.startswith("/shop/gone/"))
    assert 8 <= ghost_hits < len(GHOSTS)
    stats = crawled["runs"][0].stats
    assert stats["skipped"]["dead_link_pattern"] == len(GHOSTS) - ghost_hits
    assert "dead link pattern" in crawled["result"].stdout

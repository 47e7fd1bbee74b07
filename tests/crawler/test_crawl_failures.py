"""A marketplace added by config file alone, with broken pages: the crawl logs, counts and goes on."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import create_engine, select

from support.cli import database_url_for, run_cli, wildwatch_env
from store.models import CrawlRun, Listing
from support.pages_server import PageServer, page

PAGES = {  # (status, content type, body), served as page(body, status, content type)
    "/robots.txt": (200, "text/plain", "User-agent: *\nDisallow: /private/\n"),
    "/": (200, "text/html", """<html><body><h1>Shop</h1><ul>
        <li><a class="ad" href="/p/1">good</a></li><li><a class="ad" href="/p/2">no title</a></li>
        <li><a class="ad" href="/p/3">server error</a></li><li><a class="ad" href="/p/4">binary</a></li>
        <li><a class="ad" href="/p/5">gone</a></li><li><a class="ad" href="/private/p/9">private</a></li>
        <li><a class="ad" href="http://elsewhere.invalid/p/8">offsite</a></li>
        </ul><a class="more" href="/?page=2">more</a></body></html>"""),
    "/?page=2": (200, "text/html", """<html><body><a class="ad" href="/p/6">jsonld</a>
        <a class="ad" href="/p/1">good again</a></body></html>"""),
    "/p/1": (200, "text/html; charset=utf-8", """<html><body><div class="ad-title">出售 老犀角杯 包老</div>
        <div class="ad-body">懂行的私聊</div><span class="ad-price">¥ 38,000</span></body></html>"""),
    "/p/2": (200, "text/html", "<html><body><div>nothing to see</div></body></html>"),
    "/p/3": (500, "text/html", "<html><body>oops</body></html>"),
    "/p/4": (200, "image/png", b"\x89PNG\r\n\x1a\n" + bytes(range(256))),
    "/p/5": (404, "text/html", "<html><body>gone</body></html>"),
    "/p/6": (200, "text/html", "<html><head><script type='application/ld+json'>" + json.dumps({
        "@type": "Product", "name": "Ivory lace wedding veil", "sku": "veil-6",
        "offers": {"price": "45", "priceCurrency": "USD"}}) + "</script></head><body></body></html>"),
    "/private/p/9": (200, "text/html", "<html><body><div class='ad-title'>secret</div></body></html>"),
}


@pytest.fixture()
def shop():
    with PageServer({path: page(body, status, ctype) for path, (status, ctype, body) in PAGES.items()}) as server:
        yield server


def site_config(base_url: str) -> str:
    return f"""\
name: brokenshop
base_url: {base_url}
start_urls: [/]
links:
  listing: [a.ad::attr(href)]
  next_page: [a.more::attr(href)]
  listing_url_pattern: /p/(?P<id>\\d+)
fields:
  title: div.ad-title::text
  description: div.ad-body
  price: span.ad-price::text
politeness:
  download_delay: 0
  autothrottle: false
"""


@pytest.mark.db
@pytest.mark.slow  # a crawl in a CLI process
def test_broken_pages_are_counted_and_the_crawl_goes_on(tmp_path, shop, trained_models_dir):
    config = tmp_path / "brokenshop.yaml"
    config.write_text(site_config(shop.url), encoding="utf-8")
    env = wildwatch_env(tmp_path / "data", trained_models_dir)
    result = run_cli(["crawl", str(config)], env)
    assert result.returncode == 0, result.stdout + result.stderr

    engine = create_engine(database_url_for(tmp_path / "data"))
    try:
        with engine.connect() as conn:
            listings = {row.external_id: row for row in conn.execute(select(Listing))}
            run = conn.execute(select(CrawlRun)).one()
    finally:
        engine.dispose()
    assert set(listings) == {"1", "veil-6"}
    assert listings["1"].price == 38000.0 and listings["1"].currency == "CNY"
    assert listings["1"].extraction == "selectors" and listings["veil-6"].extraction == "jsonld"
    stats = run.stats
    assert stats["extraction_errors"] == 1          # /p/2
    assert stats["download_errors"] == 1           # /p/3 after retries
    assert stats["retries"] >= 1
    assert stats["unavailable"] == 1               # /p/5
    assert stats["errors"] >= 2                    # /p/2 and /p/3; the image is skipped, not an error:
    assert stats["skipped"] == {"binary": 1}       # /p/4, counted by its reason (crawler.pageguard)
    assert stats["robots_forbidden"] == 1          # /private/ obeyed
    assert run.status == "succeeded"
    assert shop.hits["/private/p/9"] == 0
    assert shop.hits["/p/1"] == 1                  # linked twice, fetched once
    assert "brokenshop" in result.stdout


def test_malformed_site_config_fails_at_start_naming_file_and_key(tmp_path, trained_models_dir):
    config = tmp_path / "bad.yaml"
    config.write_text(site_config("http://127.0.0.1:9") + "javascript:\n  wait_for: 'div[['\n", encoding="utf-8")
    result = run_cli(["crawl", str(config)], wildwatch_env(tmp_path / "data", trained_models_dir))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert str(config) in result.stderr and "javascript.wait_for" in result.stderr


def test_unknown_site_name_is_a_clear_error(tmp_path, trained_models_dir):
    result = run_cli(["crawl", "no-such-site"], wildwatch_env(tmp_path / "data", trained_models_dir))
    assert result.returncode == 2
    assert "no site named 'no-such-site'" in result.stderr

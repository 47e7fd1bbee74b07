"""The Demo Bazaar: catalog content and validation, and the HTML contract the crawler relies on."""
from __future__ import annotations

import html
import json
import re
import subprocess
import sys
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path

import extruct
import pytest

from wildwatch import config
from wildwatch.demo.catalog import CatalogError, DemoListing, category_name, live_listings, load_catalog
from wildwatch.demo.server import DemoMarketplace
from wildwatch.demo.shop import ShopView
import support

ROOT = support.ROOT
CATALOG = config.DEMO_CATALOG


# ---------------------------------------------------------------- helpers
class Elements(HTMLParser):
    """Collects (tag, attrs, text) for every element, enough to check markup without extra deps."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[dict] = []
        self._open: list[dict] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        element = {"tag": tag, "attrs": dict(attrs), "text": ""}
        self.elements.append(element)
        if tag not in ("img", "meta", "br", "input", "link"):
            self._open.append(element)

    def handle_endtag(self, tag):
        for index in range(len(self._open) - 1, -1, -1):
            if self._open[index]["tag"] == tag:
                del self._open[index:]
                break

    def handle_data(self, data):
        for element in self._open:
            element["text"] += data

    def by_class(self, name: str) -> list[dict]:
        return [e for e in self.elements if name in e["attrs"].get("class", "").split()]

    def classes(self) -> set[str]:
        return {c for e in self.elements for c in e["attrs"].get("class", "").split()}


def fetch(url: str) -> tuple[int, str, str]:
    """(status, content type, body) without raising on 4xx."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read().decode("utf-8")


def crawl_categories(site: DemoMarketplace) -> list[str]:
    """Follow home -> category links -> next links; every result href in order found."""
    _, _, home = fetch(site.base_url + "/")
    found: list[str] = []
    for link in Elements(home).by_class("category-link"):
        url = site.base_url + link["attrs"]["href"]
        while url:
            status, _, body = fetch(url)
            assert status == 200, url
            page = Elements(body)
            found += [a["attrs"]["href"] for a in page.by_class("result-link")]
            nxt = page.by_class("next")
            url = site.base_url + nxt[0]["attrs"]["href"] if nxt else ""
    return found


@pytest.fixture(scope="module")
def catalog() -> list[DemoListing]:
    return load_catalog(CATALOG)


@pytest.fixture(scope="module")
def night1():
    with DemoMarketplace(night=1) as site:
        yield site


@pytest.fixture(scope="module")
def night2():
    with DemoMarketplace(night=2) as site:
        yield site


def first(catalog: list[DemoListing], **where) -> DemoListing:
    return next(item for item in catalog if all(getattr(item, k) == v for k, v in where.items()))


# ---------------------------------------------------------------- content mix
def test_catalog_mix_meets_the_brief(catalog):
    from wildwatch.demo.traders import FIRST_TRADER_NUMBER, is_trader_id

    planted = [i.id for i in catalog if is_trader_id(i.id)]  # the seller-network traders (traders.json) come after
    assert planted == [f"DB-{n:04d}" for n in range(FIRST_TRADER_NUMBER, FIRST_TRADER_NUMBER + len(planted))]
    catalog = [i for i in catalog if not is_trader_id(i.id)]  # the mix is the generated catalogue's
    total = len(catalog)
    kinds = Counter(item.kind for item in catalog)
    styles = Counter(item.style for item in catalog)
    assert total >= 320
    assert 0.35 <= kinds["ordinary"] / total <= 0.45
    assert kinds["wildlife"] >= 0.15 * total
    assert kinds["coded"] >= 0.20 * total
    assert kinds["hard_negative"] >= 0.20 * total
    for style in ("jsonld", "html", "js"):
        assert abs(styles[style] - total / 3) <= 0.05 * total
    assert sum(1 for i in catalog if i.style == "js" and i.label == 1) >= 12
    assert 12 <= sum(1 for i in catalog if i.last_night == 1) <= 18
    assert 8 <= sum(1 for i in catalog if i.first_night == 2) <= 12
    assert {i.lang for i in catalog} == {"zh", "zh-Hant", "en", "mixed"}
    assert [i.id for i in catalog] == [f"DB-{n:04d}" for n in range(1, total + 1)]


def test_labels_and_groups_are_consistent(catalog):
    for item in catalog:
        assert item.label == (1 if item.kind in ("wildlife", "coded") else 0), item.id
        if item.label == 1 or item.kind == "hard_negative":
            assert item.group is not None, item.id
        if item.kind == "ordinary":
            assert item.group is None, item.id
    mammoth = [i for i in catalog if "猛犸" in i.title or "mammoth" in i.title.lower()]
    assert mammoth and all(i.label == 0 and i.group == "ivory" for i in mammoth)


def test_titles_are_distinct_and_not_separable_by_one_phrase(catalog):
    assert len({i.title for i in catalog}) == len(catalog)
    # Trade-intent phrases also appear on innocent listings, and ivory words on hard negatives.
    innocent = [i for i in catalog if i.label == 0]
    for phrase in ("私聊", "老料", "包老"):
        assert any(phrase in i.title + i.description for i in innocent), phrase
    suspicious = [i for i in catalog if i.label == 1]
    for term in ("象牙", "穿山甲", "玳瑁", "鹤顶红", "虎", "ivory", "tiger", "珊瑚", "faux"):
        assert any(term in (i.title + i.description).lower() for i in innocent), term
        assert any(term in (i.title + i.description).lower() for i in suspicious), term


def test_coded_listings_use_documented_evasions(catalog):
    coded = " ".join(i.title + " " + i.description for i in catalog if i.kind == "coded")
    for marker in ("广角", "一红二黑三白", "cow bone", "pre-ban", "🐘"):
        assert marker in coded, marker
    assert any(term in coded for term in ("山甲片", "炮山甲", "甲片"))
    assert any(term in coded for term in ("象-牙", "象 牙", "犀 角", "犀-角", "象·牙"))
    assert any("xiang ya" in i.title.lower() or "xiangya" in i.title.lower() for i in catalog if i.kind == "coded")
    assert any(i.lang == "zh-Hant" and i.kind in ("coded", "wildlife") for i in catalog)


def parse_price(text: str, currency: str) -> float:
    """Independent re-reading of a shown price, to prove price_text and price agree."""
    digits = re.sub(r"[^\d.,]", "", text)
    if currency == "EUR" and ("€" in text):  # "€12,50", "€ 2.099": comma decimals, dot thousands
        digits = digits.replace(".", "").replace(",", ".")
    return float(digits.replace(",", ""))


def test_prices_agree_with_their_text_and_vary_in_format(catalog):
    currencies = Counter(i.currency for i in catalog)
    assert set(currencies) == {"CNY", "USD", "HKD", "EUR", "GBP", "TWD", None}
    for item in catalog:
        if item.price is None:
            assert not re.search(r"\d", item.price_text), item.id
        else:
            assert parse_price(item.price_text, item.currency) == pytest.approx(item.price), (item.id, item.price_text)
    shapes = {re.sub(r"\d", "9", i.price_text) for i in catalog}
    assert len(shapes) >= 25
    texts = " ".join(i.price_text for i in catalog)
    for marker in ("¥", "元", "RMB", "US$", "HK$", "€", "£", "NT$", "价格面议"):
        assert marker in texts, marker


def test_generator_is_deterministic_and_matches_committed_file(tmp_path):
    out = tmp_path / "listings.jsonl"
    script = ROOT / "scripts" / "build_demo_catalog.py"
    subprocess.run([sys.executable, str(script), "--out", str(out)], check=True, capture_output=True)
    assert out.read_bytes() == CATALOG.read_bytes()
    check = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


# ---------------------------------------------------------------- validation
GOOD = json.loads(CATALOG.read_text(encoding="utf-8").splitlines()[0])


def write_lines(tmp_path: Path, records: list) -> Path:
    path = tmp_path / "listings.jsonl"
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records) + "\n",
                    encoding="utf-8")
    return path


@pytest.mark.parametrize("change, field, words", [
    ({"price": "12"}, "price", "type str"),
    ({"style": "pdf"}, "style", "not one of"),
    ({"posted": "25/11/2026"}, "posted", "ISO date"),
    ({"label": 2}, "label", "0 or 1"),
    ({"currency": "JPY"}, "currency", "not one of"),
    ({"images": []}, "images", "at least one"),
    ({"first_night": 3, "last_night": 2}, "last_night", "before first_night"),
    ({"price": None}, "currency", "both"),
    ({"colour": "red"}, "colour", "unknown field"),
])
def test_bad_field_is_named_with_file_and_line(tmp_path, change, field, words):
    second = dict(GOOD, id="DB-0002", **change)
    path = write_lines(tmp_path, [GOOD, second])
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    problems = caught.value.problems
    assert any(p.startswith(f"{path}:2: {field}:") and words in p for p in problems), problems
    assert str(path) in str(caught.value)


def test_missing_field_bad_json_and_duplicate_id_are_all_reported(tmp_path):
    missing = {k: v for k, v in GOOD.items() if k != "title"} | {"id": "DB-0002"}
    path = write_lines(tmp_path, [GOOD, missing, "{not json", GOOD])
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    text = "\n".join(caught.value.problems)
    assert f"{path}:2: title: missing" in text
    assert f"{path}:3: <line>: not valid JSON" in text
    assert f"{path}:4: id: DB-0001 already used on line 1" in text


def test_skip_invalid_keeps_the_good_lines(tmp_path, caplog):
    path = write_lines(tmp_path, [GOOD, dict(GOOD, id="DB-0002", kind="weird")])
    listings = load_catalog(path, skip_invalid=True)
    assert [i.id for i in listings] == ["DB-0001"]
    assert "kind" in caplog.text and ":2:" in caplog.text


def test_missing_catalog_file_is_a_clear_error(tmp_path):
    with pytest.raises(CatalogError, match="not found"):
        load_catalog(tmp_path / "nope.jsonl")


def test_live_listings_follow_the_nights(catalog):
    gone = {i.id for i in catalog if i.last_night == 1}
    new = {i.id for i in catalog if i.first_night == 2}
    one = {i.id for i in live_listings(catalog, 1)}
    two = {i.id for i in live_listings(catalog, 2)}
    assert one - two == gone and two - one == new
    assert len(one) == len(catalog) - len(new)


def test_shop_view_paging_and_arguments(catalog):
    view = ShopView(catalog, night=1, page_size=7)
    items = view.in_category("phones")
    pages = []
    number = 1
    while True:
        page = view.paginate(items, number)
        pages += page.items
        if not page.has_next:
            break
        number += 1
    assert pages == items
    assert view.paginate(items, number + 5).items == ()
    with pytest.raises(ValueError, match="night"):
        ShopView(catalog, night=0, page_size=20)
    with pytest.raises(ValueError, match="page_size"):
        ShopView(catalog, night=1, page_size=0)


# ---------------------------------------------------------------- server
def test_robots_txt(night1):
    status, ctype, body = fetch(night1.base_url + "/robots.txt")
    assert status == 200 and ctype.startswith("text/plain") and "charset=utf-8" in ctype
    assert body.splitlines() == ["User-agent: *", "Disallow: /cart/", "Disallow: /account/"]


def test_home_links_every_category_and_has_search(night1, catalog):
    _, ctype, body = fetch(night1.base_url + "/")
    assert ctype == "text/html; charset=utf-8"
    page = Elements(body)
    hrefs = {a["attrs"]["href"] for a in page.by_class("category-link")}
    assert hrefs == {f"/c/{slug}" for slug in {i.category for i in catalog}}
    forms = [e for e in page.elements if e["tag"] == "form" and e["attrs"].get("action") == "/search"]
    assert forms and forms[0]["attrs"].get("method", "get").lower() == "get"


@pytest.mark.parametrize("night", [1, 2])
def test_pagination_reaches_every_live_listing_exactly_once(night, catalog, request):
    site = request.getfixturevalue(f"night{night}")
    found = crawl_categories(site)
    expected = [i.detail_path for i in live_listings(catalog, night)]
    assert len(found) == len(set(found))
    assert sorted(found) == sorted(expected)


def test_category_pages_are_ordered_by_id_and_page_sized(night1):
    _, _, body = fetch(night1.base_url + "/c/antiques")
    ids = [a["attrs"]["href"].rsplit("/", 1)[1] for a in Elements(body).by_class("result-link")]
    assert len(ids) == 20 and ids == sorted(ids)
    first_li = re.search(r'<li class="result">.*?</li>', body).group(0)
    assert re.fullmatch(r'<li class="result"><a class="result-link" href="/(app/)?item/DB-\d{4}">[^<]+</a> '
                        r'<span class="result-price">[^<]+</span> <a class="add-to-cart" href="/cart/add\?item=DB-\d{4}">加入购物车</a></li>',
                        first_li)
    assert '<a class="next" rel="next" href="/c/antiques?page=2">下一页 Next »</a>' in body


def test_page_past_the_end_unknown_category_and_bad_page(night1):
    status, _, body = fetch(night1.base_url + "/c/antiques?page=999")
    page = Elements(body)
    assert status == 200 and not page.by_class("result") and not page.by_class("next")
    assert page.by_class("results")
    assert fetch(night1.base_url + "/c/no-such-thing")[0] == 404
    status, _, body = fetch(night1.base_url + "/c/antiques?page=abc")
    assert status == 400 and "abc" in body


def test_search_is_case_insensitive_and_pages_keep_the_query(catalog):
    with DemoMarketplace(night=1, page_size=3) as site:
        lower = crawl_search(site, "ivory")
        upper = crawl_search(site, "IVORY")
        expected = [i.detail_path for i in live_listings(catalog, 1)
                    if "ivory" in (i.title + "\n" + i.description).casefold()]
        assert lower == upper == expected
        assert len(expected) > 3  # so the next links were exercised
        chinese = crawl_search(site, "象牙")
        assert chinese and all("象牙" in site.view.live_by_id[h.rsplit("/", 1)[1]].title
                               + site.view.live_by_id[h.rsplit("/", 1)[1]].description for h in chinese)
        assert fetch(site.base_url + "/search?q=")[0] == 200


def crawl_search(site: DemoMarketplace, query: str) -> list[str]:
    url = site.base_url + "/search?q=" + urllib.request.quote(query)
    found = []
    while url:
        _, _, body = fetch(url)
        page = Elements(body)
        found += [a["attrs"]["href"] for a in page.by_class("result-link")]
        nxt = page.by_class("next")
        if nxt:
            assert "q=" + urllib.request.quote(query) in nxt[0]["attrs"]["href"]
        url = site.base_url + nxt[0]["attrs"]["href"] if nxt else ""
    return found


def test_html_style_detail_has_contract_markup(night1, catalog):
    item = first(catalog, style="html", first_night=1, last_night=None)
    status, _, body = fetch(night1.base_url + f"/item/{item.id}")
    page = Elements(body)
    assert status == 200
    assert page.by_class("listing-title")[0]["tag"] == "h1"
    assert page.by_class("listing-title")[0]["text"] == item.title
    assert page.by_class("listing-price")[0]["text"] == item.price_text
    assert page.by_class("listing-id")[0]["text"] == item.id
    assert page.by_class("seller-link")[0]["attrs"]["href"] == f"/seller/{item.seller_id}"
    assert page.by_class("seller-link")[0]["text"] == item.seller_name
    assert page.by_class("listing-location")[0]["text"] == item.location
    posted = page.by_class("listing-posted")[0]
    assert posted["tag"] == "time" and posted["attrs"]["datetime"] == item.posted
    assert [i["attrs"]["src"] for i in page.by_class("listing-image")] == list(item.images)
    described = page.by_class("listing-description")[0]["text"]
    assert "".join(described.split()) == "".join(item.description.split())
    crumb = page.by_class("breadcrumb")[0]
    assert f'<a href="/c/{item.category}">{html.escape(category_name(item.category))}</a></nav>' in body
    assert crumb["text"].startswith("首页")
    related = page.by_class("related-link")
    assert len(related) == 3 and all(r["attrs"]["href"] != item.detail_path for r in related)
    for link in related:
        assert fetch(night1.base_url + link["attrs"]["href"])[0] == 200


def test_jsonld_style_detail_carries_product_data(night1, catalog):
    priced = first(catalog, style="jsonld", last_night=None, first_night=1)
    unpriced = next(i for i in catalog if i.style == "jsonld" and i.price is None and i.is_live(1))
    for item in (priced, unpriced):
        url = night1.base_url + f"/item/{item.id}"
        status, _, body = fetch(url)
        assert status == 200
        page = Elements(body)
        assert not {c for c in page.classes() if c.startswith("listing-")}
        assert page.by_class("p-name")[0]["text"] == item.title
        data = extruct.extract(body, base_url=url, syntaxes=["json-ld", "opengraph"], uniform=True)
        product = data["json-ld"][0]
        assert product["@type"] == "Product"
        assert product["name"] == item.title and product["description"] == item.description
        assert product["sku"] == item.id and product["category"] == category_name(item.category)
        assert product["image"] == [night1.base_url + src for src in item.images]
        offer = product["offers"]
        assert offer["@type"] == "Offer"
        assert offer["availableAtOrFrom"]["name"] == item.location
        assert offer["seller"]["name"] == item.seller_name
        assert offer["seller"]["identifier"] == item.seller_id
        assert offer["seller"]["@type"] in ("Organization", "Person")
        assert offer["seller"]["url"] == f"{night1.base_url}/seller/{item.seller_id}"
        if item.price is None:
            assert "price" not in offer and "priceCurrency" not in offer
        else:
            assert float(offer["price"]) == item.price and isinstance(offer["price"], str)
            assert offer["priceCurrency"] == item.currency
        og = data["opengraph"][0]
        assert og["og:title"] == item.title
        assert og.get("og:type", og.get("@type")) == "product"  # extruct's uniform form renames og:type
        assert og["og:description"] == " ".join(item.description.split())


def test_js_style_raw_html_has_no_listing_content(night1, catalog):
    item = first(catalog, style="js", first_night=1, last_night=None)
    status, _, body = fetch(night1.base_url + f"/app/item/{item.id}")
    assert status == 200
    assert '<div id="app"><p class="loading">Loading…</p></div>' in body
    assert '<script src="/static/app.js"></script>' in body
    assert item.title not in body and item.description.split("\n")[0] not in body
    assert item.price_text not in body and "listing-title" not in body
    # The same listing is not served under the other URL shape.
    assert fetch(night1.base_url + f"/item/{item.id}")[0] == 404
    html_item = first(catalog, style="html", first_night=1, last_night=None)
    assert fetch(night1.base_url + f"/app/item/{html_item.id}")[0] == 404


def test_api_and_app_js(night1, catalog):
    item = first(catalog, style="js", first_night=1, last_night=None)
    status, ctype, body = fetch(night1.base_url + f"/api/items/{item.id}")
    assert status == 200 and ctype == "application/json; charset=utf-8"
    data = json.loads(body)
    assert data["title"] == item.title and data["price_text"] == item.price_text
    assert data["images"] == list(item.images) and data["seller_id"] == item.seller_id
    assert not {"kind", "label", "group", "style"} & set(data)  # ground truth is never served
    status, ctype, script = fetch(night1.base_url + "/static/app.js")
    assert status == 200 and ctype.startswith("application/javascript")
    assert "setTimeout" in script and "/api/items/" in script
    for name in ("listing-title", "listing-description", "listing-price", "listing-id", "seller-link",
                 "listing-location", "listing-posted", "listing-image", "breadcrumb"):
        assert f'"{name}"' in script, name


def test_listings_that_come_and_go_between_nights(night1, night2, catalog):
    gone = first(catalog, last_night=1)
    new = first(catalog, first_night=2)
    gone_js = first(catalog, last_night=1, style="js")
    for site, missing, present in ((night1, new, gone), (night2, gone, new)):
        status, _, body = fetch(site.base_url + missing.detail_path)
        assert status == 404 and "该商品已下架 / This listing is no longer available" in body
        assert fetch(site.base_url + f"/api/items/{missing.id}")[0] == 404
        assert fetch(site.base_url + present.detail_path)[0] == 200
    assert fetch(night1.base_url + gone_js.detail_path)[0] == 200
    assert fetch(night2.base_url + gone_js.detail_path)[0] == 404
    assert fetch(night1.base_url + "/item/DB-9999")[0] == 404


def test_seller_page_lists_that_sellers_live_items(night1, catalog):
    seller_id = Counter(i.seller_id for i in catalog).most_common(1)[0][0]
    status, _, body = fetch(night1.base_url + f"/seller/{seller_id}")
    hrefs = [a["attrs"]["href"] for a in Elements(body).by_class("result-link")]
    assert status == 200
    assert hrefs == [i.detail_path for i in live_listings(catalog, 1) if i.seller_id == seller_id]
    assert fetch(night1.base_url + "/seller/NOBODY")[0] == 404


def test_images_resolve_to_valid_png(night1, catalog):
    item = catalog[0]
    with urllib.request.urlopen(night1.base_url + item.images[0]) as response:
        data = response.read()
        assert response.headers["Content-Type"] == "image/png"
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and b"IEND" in data[-12:]
    assert fetch(night1.base_url + "/img/DB-0001-99.png")[0] == 404


def test_cart_and_account_are_served_and_counted(catalog):
    with DemoMarketplace(night=1) as site:
        assert fetch(site.base_url + "/cart/add?item=DB-0001")[0] == 200
        assert fetch(site.base_url + "/account/login")[0] == 200
        assert fetch(site.base_url + "/cart/")[0] == 200
        assert site.request_count("/cart/") == 2
        assert site.request_count("/account/") == 1
        assert site.hits["/cart/add"] == 1


def test_hits_are_thread_safe():
    with DemoMarketplace(night=1) as site:
        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(lambda _: fetch(site.base_url + "/robots.txt")[0], range(80)))
        assert statuses == [200] * 80
        assert site.hits == {"/robots.txt": 80}


def test_server_is_quiet_and_stops(capfd):
    site = DemoMarketplace(night=1)
    with pytest.raises(RuntimeError, match="not running"):
        site.base_url
    url = site.start()
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url) and site.start() == url
    fetch(url + "/")
    fetch(url + "/missing")
    site.stop()
    site.stop()
    assert capfd.readouterr().err == ""
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url + "/", timeout=2)


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "example.org", "::"])
def test_refuses_non_loopback_hosts(host):
    with pytest.raises(ValueError, match="loopback"):
        DemoMarketplace(host=host)


def test_cli_serves_and_reports_bad_catalog(tmp_path):
    bad = write_lines(tmp_path, ["{oops"])
    result = subprocess.run([sys.executable, "-m", "wildwatch.demo", "--catalog", str(bad), "--port", "0"],
                            cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and f"{bad}:1" in result.stderr

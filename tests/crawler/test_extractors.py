"""Extraction against saved pages of layouts the crawler has no special code for."""

import pytest

from crawler.extractors.listing import ExtractionError, extract_listing, fallback_listing_id
from crawler.extractors.price import parse_price
from crawler.siteconfig import SiteConfig
import support

PAGES = support.FIXTURES / "pages"


def page(name: str) -> str:
    return (PAGES / name).read_text(encoding="utf-8")


def test_jsonld_product_inside_graph_is_found():
    result = extract_listing(page("jsonld_graph.html"), "https://shop.example/item/88812")
    fields = result.fields
    assert result.method == "jsonld"
    assert fields["title"] == "老料 手串 18mm 包浆厚"
    assert fields["listing_id"] == "X-88812"
    assert fields["price"] == "3800.00" and fields["currency"] == "CNY"
    assert fields["seller_name"] == "云南老张"
    assert fields["seller_url"] == "https://shop.example/u/7781"
    assert fields["location"] == "昆明, CN"
    assert fields["images"] == ["https://shop.example/pics/88812.jpg"]
    assert fields["category"] == "文玩"


def test_microdata_product():
    result = extract_listing(page("microdata.html"), "https://auctions.example/lot/20931")
    assert result.method == "microdata"
    assert result.fields["title"].startswith("Antique carved")
    assert result.fields["listing_id"] == "lot-20931"
    assert result.fields["price"] == "450.00"
    assert result.fields["currency"] == "GBP"


def test_opengraph_when_no_product_markup():
    result = extract_listing(page("opengraph.html"), "https://classifieds.example/ad/4411")
    assert result.method == "opengraph"
    assert result.fields["title"] == "Ivory lace wedding dress, size 10"
    assert result.fields["price"] == "120" and result.fields["currency"] == "USD"
    # No id anywhere on the page: a stable hash of the URL stands in.
    assert result.fields["listing_id"] == fallback_listing_id("https://classifieds.example/ad/4411?utm=x")


def test_heuristics_find_title_description_and_price():
    result = extract_listing(page("heuristic.html"), "https://forum.example/t/77")
    assert result.method == "heuristic"
    assert result.fields["title"] == "出 穿山甲片 炮制好的 500克"
    assert "山甲片" in result.fields["description"]
    assert parse_price(result.fields["price"]).amount == 2600.0


def test_configured_selectors_win_and_regex_filters():
    site = SiteConfig.model_validate({
        "name": "haowu",
        "base_url": "https://haowu.example",
        "start_urls": ["/"],
        "links": {"listing_url_pattern": r"/p/(?P<id>\d+)"},
        "fields": {
            "title": "h2.item-name::text",
            "description": "section.item-body",
            "price": "b.cost::text",
            "listing_id": {"selector": "span.code::text", "regex": r"編號：(\S+)"},
            "seller_id": {"selector": "div.who a::attr(href)", "regex": r"/member/(\d+)"},
            "seller_name": "div.who a::text",
            "images": "img.pic::attr(src)",
            "location": "xpath://span[@class='where']/text()",
            "category": "nav.crumbs a:last-child::text",
        },
    })
    result = extract_listing(page("selectors.html"), "https://haowu.example/p/5521", site)
    f = result.fields
    assert result.method == "selectors"
    assert f["title"] == "祖傳 象-牙 雕刻 擺件"
    assert f["description"].splitlines()[0] == "老貨，禁令前的東西。"
    assert f["listing_id"] == "TW-5521"
    assert f["seller_id"] == "9981" and f["seller_name"] == "阿明古玩"
    assert f["location"] == "台中" and f["category"] == "古玩"
    assert f["images"][:2] == ["https://haowu.example/img/5521-a.jpg", "https://haowu.example/img/5521-b.jpg"]
    assert parse_price(f["price"]) .amount == 12000.0 and parse_price(f["price"]).currency == "TWD"


def test_selectors_that_miss_fall_back_to_structured_data():
    site = SiteConfig.model_validate({
        "name": "changed", "base_url": "https://shop.example", "start_urls": ["/"],
        "fields": {"title": "h1.old-title-class::text"},
    })
    result = extract_listing(page("jsonld_graph.html"), "https://shop.example/item/88812", site)
    assert result.fields["title"] == "老料 手串 18mm 包浆厚"
    assert result.sources["title"] == "jsonld"


def test_page_without_any_title_raises_a_clear_error():
    with pytest.raises(ExtractionError, match="no title"):
        extract_listing(page("broken.html"), "https://x.example/p/1")
    with pytest.raises(ExtractionError):
        extract_listing("", "https://x.example/p/2")


@pytest.mark.parametrize("text,default,amount,currency", [
    ("¥1,280", None, 1280.0, "CNY"),
    ("1280元", None, 1280.0, "CNY"),
    ("RMB 1280.00", None, 1280.0, "CNY"),
    ("CNY 98", None, 98.0, "CNY"),
    ("US$45", None, 45.0, "USD"),
    ("$45.00", None, 45.0, "USD"),
    ("$45.00", "HKD", 45.0, "HKD"),
    ("HK$ 300", None, 300.0, "HKD"),
    ("€12,50", None, 12.5, "EUR"),
    ("1.280,50 €", None, 1280.5, "EUR"),
    ("£30", None, 30.0, "GBP"),
    ("NT$1,200", None, 1200.0, "TWD"),
    ("1.2万", "CNY", 12000.0, "CNY"),
    ("￥ 88", None, 88.0, "CNY"),
    ("¥ 88", "JPY", 88.0, "JPY"),
    ("RM 50", None, 50.0, "MYR"),
    ("USD 1,234,567.89", None, 1234567.89, "USD"),
    ("250", "CNY", 250.0, "CNY"),
    # A "K" after the number is a currency here, not thousands; 5k still is.
    ("199 kr", None, 199.0, "SEK"),
    ("199 kr", "NOK", 199.0, "NOK"),
    ("1 299 Kč", None, 1299.0, "CZK"),
    ("270,00 Kn", None, 270.0, "HRK"),
    ("5k", "USD", 5000.0, "USD"),
    ("12,99 zł", None, 12.99, "PLN"),
    ("R$ 1.299,90", None, 1299.9, "BRL"),
    ("CHF 1'299.00", None, 1299.0, "CHF"),
    ("CHF 49.–", None, 49.0, "CHF"),
    ("₩30,000", None, 30000.0, "KRW"),
    ("30,000원~", None, 30000.0, "KRW"),
    ("¥1,280", "JPY", 1280.0, "JPY"),
    ("1280元", "TWD", 1280.0, "TWD"),
    ("NT$ 2,320", None, 2320.0, "TWD"),
    ("HK$1,200.50", None, 1200.5, "HKD"),
    # Thousand separators by locale and currency: dots in pesos, spaces and narrow spaces in Europe.
    ("$24.990", "CLP", 24990.0, "CLP"),
    ("24.990 CLP", None, 24990.0, "CLP"),
    ("$ 2.449", "ARS", 2449.0, "ARS"),
    ("44 890 тг.", None, 44890.0, "KZT"),
    ("1\u202f299,00 €", None, 1299.0, "EUR"),
    ("1.250 KWD", None, 1.25, "KWD"),
    ("Rs 23,450", "PKR", 23450.0, "PKR"),
    ("2 for $45", None, 45.0, "USD"),
])
def test_price_formats(text, default, amount, currency):
    price = parse_price(text, default)
    assert (price.amount, price.currency) == (amount, currency)


@pytest.mark.parametrize("text", ["价格面议", "私聊", "", None, "call for price"])
def test_prices_without_a_number(text):
    assert parse_price(text).amount is None

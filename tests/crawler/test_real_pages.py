"""Real shops' product pages: every product page found, its title and price read right.

Two kinds of saved pages: six real pages of Zyte's product-extraction benchmark (MIT, with their
ground-truth prices; tests/fixtures/zyte/README.md says why each), and small pages written here for
one layout each (`<base href>`, related-product rows, a sale beside a list price, a one-line listing).
"""
from __future__ import annotations

from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from parsel import Selector

from bench.extraction import baseline_reader, load_pages, measure, run, wildwatch_reader
from crawler.extractors.discovery import DeadLinkPatterns, classify_links, document_base, is_listing_page
from crawler.extractors.heuristics import clean_title
from crawler.extractors.listing import extract_listing
from crawler.extractors.price import parse_price
import support

FIXTURES = support.FIXTURES
ZYTE = FIXTURES / "zyte"


def page(name: str) -> str:
    return (FIXTURES / "pages" / name).read_text(encoding="utf-8")


def site_of(url: str) -> str:
    return "{0.scheme}://{0.netloc}/".format(urlsplit(url))


# ---- the benchmark's pages ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def zyte_pages():
    return {p.url.split("/")[2]: p for p in load_pages(ZYTE)}


@pytest.mark.parametrize("host,title_start", [
    ("www.eklinika.hr", "Ortopedski"),
    ("www.lafeltrinelli.it", "La storia perduta"),
    ("www.mechta.kz", "Телефон сотовый SAMSUNG"),
    ("www.ebay.fr", "4x Duracell CR2032"),
    ("www.paris.cl", "Consola Retro"),
    ("www.amazon.fr", ""),
])
def test_real_product_pages_price_title_description_and_discovery(zyte_pages, host, title_start):
    bench_page = zyte_pages[host]
    extraction = extract_listing(bench_page.html, bench_page.url)
    fields = extraction.fields
    price = parse_price(fields["price"], fields.get("currency"))
    want = {p * 1000 if host == "www.paris.cl" else p for p in bench_page.prices}  # annotated 24.99 for $24.990
    assert Decimal(str(price.amount)).quantize(Decimal("0.01")) in {w.quantize(Decimal("0.01")) for w in want}, \
        (fields["price"], bench_page.prices)
    assert fields["title"].startswith(title_start) and "Détails sur" not in fields["title"]
    assert len(fields.get("description") or "") >= 20
    assert is_listing_page(bench_page.html, bench_page.url, site_of(bench_page.url), extraction, hinted=True)


def test_real_prices_in_their_own_currencies(zyte_pages):
    def read(host):
        fields = extract_listing(zyte_pages[host].html, zyte_pages[host].url).fields
        return parse_price(fields["price"], fields.get("currency"))

    assert read("www.eklinika.hr") == parse_price("270,00 Kn") and read("www.eklinika.hr").currency == "HRK"
    assert read("www.mechta.kz").amount == 44890.0  # not the old price 49 890 in the same box
    assert read("www.ebay.fr").amount == 5.95  # not the shipping beside it


def test_structured_list_price_gives_way_to_the_sale_price_shown(zyte_pages):
    bench_page = zyte_pages["www.lafeltrinelli.it"]
    extraction = extract_listing(bench_page.html, bench_page.url)
    assert parse_price(extraction.fields["price"]).amount == 17.10
    assert parse_price(extraction.fields["list_price"]).amount == 18.00
    assert extraction.sources["price"] == "heuristic"


def test_related_rows_on_a_real_page_do_not_make_it_an_index(zyte_pages):
    from crawler.extractors.discovery import content_listing_links

    bench_page = zyte_pages["www.amazon.fr"]
    selector = Selector(text=bench_page.html)
    # Dozens of listing-shaped links in its content: what made discovery take it for an index.
    assert content_listing_links(selector, bench_page.url, site_of(bench_page.url)) >= 4
    extraction = extract_listing(bench_page.html, bench_page.url)
    assert extraction.sources["price"] == "heuristic" and extraction.fields["images"]
    assert is_listing_page(selector, bench_page.url, site_of(bench_page.url), extraction, hinted=True)
    # Reached from a link of no listing shape, a product page is still recognised by what it is.
    assert is_listing_page(selector, "https://www.amazon.fr/gp/aw/x", site_of(bench_page.url), extraction,
                           hinted=True)


def test_bench_stage_prints_each_figure_beside_the_baseline():
    result = run(ZYTE)
    by_name = {f.name.split(" (")[0]: f for f in result.figures}
    assert set(by_name) >= {"price correct", "description present", "title present",
                            "accepted as listings by discovery"}
    for name in ("price correct", "description present", "title present"):
        assert by_name[name].baseline is not None and by_name[name].baseline_name.startswith("extruct")
    assert by_name["price correct"].value == 100.0  # all six pages
    assert by_name["accepted as listings by discovery"].value == 100.0


def test_baseline_reads_the_same_pages():
    pages = load_pages(ZYTE)
    tally = measure(pages, baseline_reader)
    assert tally.pages == 6 and tally.errors == 0 and tally.title == 6
    ours = measure(pages, wildwatch_reader)
    assert ours.price_correct >= tally.price_correct


def test_missing_benchmark_says_where_to_get_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="product-extraction-benchmark"):
        load_pages(tmp_path / "nowhere")


# ---- pages written for one layout each --------------------------------------------------------------

def test_base_href_resolves_links_pagination_and_images():
    html, url = page("base_href.html"), "https://shop.example/p/4411"
    selector = Selector(text=html)
    assert document_base(selector, url) == "https://shop.example/store/"
    links = classify_links(selector, url, "https://shop.example/")
    assert "https://shop.example/store/item/lacquer-tray-4412" in links.listings
    assert not [u for u in links.listings + links.next_pages if u.startswith("https://shop.example/p/")]
    assert links.next_pages == ["https://shop.example/store/list?page=2"]
    extraction = extract_listing(html, url)
    assert extraction.fields["images"] == ["https://shop.example/store/img/4411-1.jpg"]
    # A product page with a row of four related products is still one listing.
    assert is_listing_page(html, url, "https://shop.example/", extraction, hinted=True)


def test_relative_base_href_is_relative_to_the_page():
    selector = Selector(text='<html><head><base href="../shop/"></head><body></body></html>')
    assert document_base(selector, "https://a.example/x/y/page") == "https://a.example/x/shop/"
    assert document_base(Selector(text="<p>no base</p>"), "https://a.example/p") == "https://a.example/p"
    assert document_base(Selector(text='<base href="javascript:alert(1)">'), "https://a.example/p") == \
        "https://a.example/p"


def test_related_rows_are_followed_not_counted_against_the_page():
    html, url = page("related_rows.html"), "https://shop.example/dp/B0XYZ12345"
    extraction = extract_listing(html, url)
    assert extraction.fields["title"] == "Vintage bone-handled letter opener"
    assert extraction.fields["price"] == "$34.98"  # beside the buy box, not a carousel's
    assert "carved bone handle" in extraction.fields["description"]
    assert is_listing_page(html, url, "https://shop.example/", extraction, hinted=True)
    links = classify_links(Selector(text=html), url, "https://shop.example/")
    assert {f"https://shop.example/dp/B000000{n}" for n in range(1, 10)} <= set(links.listings)


def test_a_grid_with_a_buy_button_per_card_is_still_an_index():
    cards = "".join(f'<div class="card"><a href="/item/{n}"><img class="product-image" src="/i/{n}.jpg"></a>'
                    f'<a href="/item/{n}">Carved box {n}</a><span class="price">$ {n}0.00</span>'
                    f'<button class="add-to-cart">Add to cart</button></div>' for n in range(1, 9))
    html = (f"<html><head><title>Boxes - Shop</title></head><body><h1>Boxes</h1>"
            f"<p>Hand-made boxes from our workshop, all sizes.</p><div class='grid'>{cards}</div></body></html>")
    url = "https://shop.example/c/boxes"
    extraction = extract_listing(html, url)
    assert not is_listing_page(html, url, "https://shop.example/", extraction, hinted=True)


def test_list_and_sale_price_both_kept():
    extraction = extract_listing(page("sale_price.html"), "https://tea.example/p/caddy-77")
    fields, sources = extraction.fields, extraction.sources
    assert parse_price(fields["price"]) .amount == 17.10 and sources["price"] == "heuristic"
    assert parse_price(fields["list_price"]).amount == 18.00 and sources["list_price"] == "jsonld"
    assert fields["currency"] == "EUR"
    assert fields["title"] == "Porcelain tea caddy & lid"  # &amp; left escaped in JSON-LD


def test_one_line_listing_with_its_title_in_a_styled_div():
    html, url = page("short_listing.html"), "https://old.example/view.php?item=9"
    extraction = extract_listing(html, url)
    assert extraction.fields["title"] == "Antique horn snuff bottle"
    assert extraction.fields["description"] == "Good condition."
    assert extraction.fields["price"] == "HK$ 380"
    assert is_listing_page(html, url, "https://old.example/", extraction, hinted=True)


@pytest.mark.parametrize("raw,site_name,want", [
    ("Details about  BILLIE EILISH Graffiti Print Hoodie", None, "BILLIE EILISH Graffiti Print Hoodie"),
    ("Détails sur 4x Duracell CR2032", None, "4x Duracell CR2032"),
    ("【新品】Apple AirPods Pro｜PChome商店街", "PChome商店街", "【新品】Apple AirPods Pro"),
    ("[Hillside] Carved bangle no. 4", "Hillside", "Carved bangle no. 4"),
    ("【急售】象牙手镯", None, "【急售】象牙手镯"),  # a seller's own bracket stays
    ("Samsung Galaxy A01 - Specs and Features", None, "Samsung Galaxy A01"),
    ("Black &amp; Silver Watch", None, "Black & Silver Watch"),
    ("Black &amp;amp; Silver Watch", None, "Black & Silver Watch"),
    ("Jade comb | Men's Accessories", None, "Jade comb | Men's Accessories"),
    ("Jade comb - Rosewood Store", "Rosewood Store", "Jade comb"),
])
def test_title_cleaning(raw, site_name, want):
    head = f'<meta property="og:site_name" content="{site_name}">' if site_name else ""
    assert clean_title(raw, Selector(text=f"<html><head>{head}</head><body></body></html>")) == want


def test_dead_link_patterns_stop_after_mostly_404():
    dead = DeadLinkPatterns(min_answers=4, dead_share=0.75)
    product = "https://s.example/dp/B0AAA11111"
    said = [dead.record(f"https://s.example/Name-{n}/dp/B0{n}X{n}Z/ref=sr_{n}", 404, product) for n in range(1, 5)]
    assert said == [False, False, False, True]  # said once, when the pattern died
    assert dead.is_dead("https://s.example/Other-Name/dp/B07FW264WL/ref=x", "https://s.example/dp/B0ZZZ")
    assert "4 of 4" in dead.describe("https://s.example/Other-Name/dp/B07FW264WL/ref=x", product)
    # The same pattern linked from another kind of page (the site's index) is still followed.
    assert not dead.is_dead("https://s.example/Other-Name/dp/B07FW264WL/ref=x", "https://s.example/")
    for n in range(1, 4):
        dead.record(f"https://s.example/item/{n}", 200, "https://s.example/c/cups")
    dead.record("https://s.example/item/4", 404, "https://s.example/c/cups")
    assert not dead.is_dead("https://s.example/item/5", "https://s.example/c/cups")  # one 404 among real pages


def test_bench_stage_is_skipped_with_a_reason_without_the_benchmark(tmp_path):
    from bench.extraction import run_or_skip

    result = run_or_skip(tmp_path / "nowhere")
    assert result.skipped and "WILDWATCH_ZYTE_BENCH" in result.skipped and not result.figures


def test_a_price_in_an_element_named_like_nothing():
    # Taiwanese shops of the benchmark set the price in a styled span, its currency in the cell around it,
    # beside a 30% discount ("7 折"), a struck list price and a free-shipping "0元" link.
    html = ("<html><head><title>鵝肉鬆 250g</title></head><body><h1>鵝肉鬆-原味-250g</h1><table><tr>"
            "<td>原價 <del>$420</del></td></tr><tr><td class='t13'>一次付清特價 7 折 "
            "<span style='font:bold 27px Verdana;color:#ff0000'>294</span> 元</td></tr></table>"
            "<a href='/free'>跨店宅配0元免運</a><div class='intro'>古早味鵝肉鬆，罐裝。</div></body></html>")
    extraction = extract_listing(html, "https://shop.example.tw/M67296549.htm")
    assert parse_price(extraction.fields["price"], "TWD") == parse_price("294 元", "TWD")
    assert parse_price(extraction.fields["price"], "TWD").currency == "TWD"


def test_the_pages_own_currency_reads_its_price_before_the_sites_default():
    from datetime import datetime, timezone

    from crawler.items import listing_from_fields

    def item(price: str, currency: str | None):
        fields = {"listing_id": "1", "title": "t", "price": price, "currency": currency}
        return listing_from_fields(fields, marketplace="m", url="https://s.example/p/1", extraction="jsonld",
                                   rendered=False, crawled_at=datetime.now(timezone.utc), default_currency="USD")

    assert (item("$24.990", "CLP").price, item("$24.990", "CLP").currency) == (24990.0, "CLP")
    assert (item("199 kr", "NOK").price, item("199 kr", "NOK").currency) == (199.0, "NOK")
    assert (item("$45", None).price, item("$45", None).currency) == (45.0, "USD")


def test_a_product_page_without_h1_is_recognised_by_its_title_element():
    # Its title in a styled div (the one og:title names), its price beside it, other items' links around it.
    others = "".join(f'<li><a href="/cheap_{n}.html">Other tea {n}</a></li>' for n in range(1200, 1206))
    html = ('<html><head><title>i3 Fresh</title><meta property="og:title" content="Oolong tea, 24 cans">'
            '<meta property="og:description" content="Taiwanese oolong, 24 cans of 300 ml."></head><body>'
            '<div class="goods"><div class="goods-name" style="font-size:20px">Oolong tea, 24 cans</div>'
            '<div class="sale">每箱 839元</div><p>Taiwanese oolong, 24 cans of 300 ml.</p></div>'
            f'<ul class="more">{others}</ul></body></html>')
    url = "https://tea.example/cheap_1131.html"
    extraction = extract_listing(html, url)
    assert extraction.fields["title"] == "Oolong tea, 24 cans"
    assert is_listing_page(html, url, "https://tea.example/", extraction, hinted=True)

"""Discovery without a config: link classification, page types and the heuristics they lean on."""
from parsel import Selector

from crawler.extractors.discovery import (
    canonical_url, classify_links, content_listing_links, is_fetchable, looks_like_js_shell,
    looks_like_listing_url, looks_like_pagination_url,
)
from crawler.extractors.listing import extract_listing, fallback_listing_id

BASE = "http://shop.test"


def test_canonical_url_drops_fragment_and_tracking_but_keeps_the_page_query():
    assert canonical_url("http://Shop.test/view.php?item=5&utm_source=x&ref=home#top") == \
        "http://shop.test/view.php?item=5"
    assert canonical_url("http://shop.test/s?q=a&page=2") == canonical_url("http://shop.test/s?page=2&q=a")
    assert fallback_listing_id("http://shop.test/view.php?item=5") != fallback_listing_id("http://shop.test/view.php?item=6")
    assert fallback_listing_id("http://shop.test/view.php?item=5&spm=a1") == fallback_listing_id("http://shop.test/view.php?item=5")


def test_listing_url_shapes():
    for url in ("/item/123", "/products/9", "/p/carved-box-991", "/shop/rare-tea-caddy-37.html", "/dp/B00X1",
                "/view.php?item=5", "/detail.php?goods_id=77", "/item.htm?id=623", "/ad/44817", "/12345.html",
                "/goods/a1b2c3", "/listing/old-jade-comb", "/favorable_1409.html"):
        assert looks_like_listing_url(BASE + url), url
    for url in ("/", "/browse/home", "/c/tea?page=2", "/about", "/sellers/ann", "/search?q=jade", "/page/2"):
        assert not looks_like_listing_url(BASE + url), url


def test_pagination_and_noise():
    assert looks_like_pagination_url(BASE + "/c/tea?page=3")
    assert looks_like_pagination_url(BASE + "/list/page/4")
    assert looks_like_pagination_url(BASE + "/search?q=&offset=24")
    assert looks_like_pagination_url(BASE + "/cheap_2.html") and not looks_like_pagination_url(BASE + "/cheap_1131.html")
    assert not looks_like_pagination_url(BASE + "/item/3")
    for url in ("/login?next=/", "/cart", "/account/orders", "/img/a.jpg", "/static/app.js", "/privacy"):
        assert not is_fetchable(BASE + url), url
    assert is_fetchable(BASE + "/browse/pets")


INDEX = """<html><head><link rel="next" href="/c/tea?pg=2"></head><body>
<header><a href="/">Home</a><a href="/login">Sign in</a><a href="/cart">Cart</a></header>
<nav><a href="/c/tea">Tea</a><a href="/c/jade">Jade</a><a href="/c/pets">Pets</a><a href="/c/art">Art</a></nav>
<div class="grid">
  <div class="card"><a href="/goods-show/aa">Old tea caddy</a></div>
  <div class="card"><a href="/goods-show/bb">Jade comb</a></div>
  <div class="card"><a href="/goods-show/cc">Bronze seal</a></div>
  <div class="card"><a href="/goods-show/dd">Carved box</a></div>
  <div class="card"><a href="/item/77?utm_source=feed">Ivory-colour vase</a></div>
</div>
<div class="pages"><a href="/c/tea?pg=1">1</a> <a href="/c/tea?pg=3">3</a> <a href="/c/tea?pg=2">下一页 ›</a></div>
<a href="http://elsewhere.test/item/1">partner</a> <a href="#top">top</a> <a href="javascript:void(0)">x</a>
</body></html>"""


def test_classify_links_by_shape_and_by_repeated_cards():
    links = classify_links(Selector(text=INDEX), BASE + "/c/tea", BASE)
    assert BASE + "/item/77" in links.listings                       # listing-shaped URL, tracking dropped
    assert {BASE + f"/goods-show/{x}" for x in ("aa", "bb", "cc", "dd")} <= set(links.listings)  # four cards of one shape
    assert BASE + "/c/tea?pg=2" in links.next_pages                   # <link rel=next> and 下一页
    assert BASE + "/c/tea?pg=3" in links.next_pages                   # a page number
    assert BASE + "/c/jade" in links.others                           # nav links are hubs, not listings
    everything = links.listings + links.next_pages + links.others
    assert not any("elsewhere" in url or "login" in url or "cart" in url for url in everything)
    assert len(everything) == len(set(everything))


def test_js_shells_are_recognised():
    assert looks_like_js_shell(Selector(text="<html><body><div id='root'></div><script src='/b.js'></script></body></html>"))
    assert looks_like_js_shell(Selector(text="<html><body><header>" + "Menu item " * 10 + "</header>"
                                             "<div id='app'><p>Loading…</p></div><script src='/b.js'></script></body></html>"))
    assert looks_like_js_shell(Selector(text="<html><body><noscript>Please enable JavaScript</noscript>"
                                             "<script>x()</script></body></html>"))
    full = "<html><body><h1>Jade comb</h1><p>" + "A fine comb. " * 30 + "</p><script>track()</script></body></html>"
    assert not looks_like_js_shell(Selector(text=full))
    assert not looks_like_js_shell(Selector(text="<html><body><p>short page, no scripts</p></body></html>"))


def test_an_index_page_is_not_taken_for_a_listing():
    page = Selector(text=INDEX)
    assert content_listing_links(page, BASE + "/c/tea", BASE) >= 1
    related = """<html><body><h1>Jade comb</h1><p>Lovely comb, 12 cm, no chips, from an estate sale.</p>
    <aside class="related"><a href="/item/1">a</a><a href="/item/2">b</a><a href="/item/3">c</a>
    <a href="/item/4">d</a><a href="/item/5">e</a></aside></body></html>"""
    assert content_listing_links(Selector(text=related), BASE + "/item/9", BASE) == 0


def test_heuristic_title_prefers_the_heading_the_title_repeats():
    html = """<html><head><title>Carved rosewood box :: Hillside</title></head><body>
    <div class="topbar"><h1 class="logo">Hillside Trading Post</h1></div>
    <table><tr><td><h2>Carved rosewood box</h2></td></tr></table>
    <div style="margin:1em">Lot 7: a carved rosewood box.<br>Ships in two days.</div>
    <div class="bottom"><p>Hillside is a fictional shop.</p></div></body></html>"""
    fields = extract_listing(html, BASE + "/view.php?item=7").fields
    assert fields["title"] == "Carved rosewood box"
    assert fields["description"] == "Lot 7: a carved rosewood box.\nShips in two days."


def test_heuristic_description_skips_chrome_and_link_lists():
    html = """<html><head><meta name="description" content="Hillside: antiques and more"></head><body>
    <header><p>Free shipping on all orders over 100 yuan this week only, hurry!</p></header>
    <h1>老料手镯</h1>
    <ul class="links"><li><a href="/a">Another very long link text that goes on and on and on</a></li></ul>
    <div><p>老料手镯，内径 56mm。</p><p>包邮，可小刀。</p></div>
    <footer><p>Copyright Hillside Trading Post, all rights reserved, since 1999.</p></footer></body></html>"""
    fields = extract_listing(html, BASE + "/item/1").fields
    assert fields["description"] == "老料手镯，内径 56mm。\n包邮，可小刀。"

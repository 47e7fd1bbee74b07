"""HTML of the Demo Bazaar, one function per page; pure string building, no I/O.

The class names and URL shapes here are a contract with the crawler's site
config (see data/demo_marketplace/README.md): change them only together.
"""
from __future__ import annotations

import json
from html import escape
from typing import Iterable
from urllib.parse import quote

from wildwatch.demo.catalog import DemoListing, category_name
from wildwatch.demo.hostile import HOME_LINK
from wildwatch.demo.shop import Page, ShopView

SITE_NAME = "Demo Bazaar 演示集市"
GONE_MESSAGE = "该商品已下架 / This listing is no longer available"
NOT_FOUND_MESSAGE = "页面不存在 / Page not found"
ROBOTS_TXT = "User-agent: *\nDisallow: /cart/\nDisallow: /account/\n"
ORGANIZATION_MARKERS = ("店", "行", "阁", "堂", "庄", "屋", "馆", "斋", "铺", "舖", "室", "院", "百貨",
                        "Co", "House", "Trading", "Outlet", "Kingdom", "Vintage", "Atelier", "Bric-a-Brac")


def _e(text: str) -> str:
    return escape(text, quote=True)


def layout(title: str, body: str, head: str = "") -> str:
    """Every page's chrome: header with search, nav to cart/account, footer."""
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)}</title>
{head}<style>
body{{font-family:sans-serif;margin:0;color:#222}} header,footer{{background:#f4efe6;padding:.6em 1em}}
main{{padding:1em;max-width:960px;margin:auto}} .results{{list-style:none;padding:0}} .result{{padding:.3em 0;border-bottom:1px solid #eee}}
.product-card{{display:flex;gap:1.5em}} .p-price,.listing-price{{color:#c40;font-size:1.3em}} aside{{margin-top:2em}}
</style>
</head>
<body>
<header>
<a class="site-logo" href="/">{_e(SITE_NAME)}</a>
<form class="search-form" action="/search" method="get"><input type="search" name="q" placeholder="搜索商品 Search"> <button type="submit">搜索</button></form>
<nav class="site-nav"><a href="/">首页</a> | <a href="/cart/">购物车 Cart</a> | <a href="/account/login">登录 Sign in</a></nav>
</header>
<main>
{body}
</main>
<footer><p>© 2026 Demo Bazaar — 本站为 wildwatch 测试用的虚构商城，所有商品均为合成数据。This shop is fictional test material.</p></footer>
</body>
</html>
"""


def result_item(listing: DemoListing) -> str:
    return (f'<li class="result"><a class="result-link" href="{listing.detail_path}">{_e(listing.title)}</a> '
            f'<span class="result-price">{_e(listing.price_text)}</span> '
            f'<a class="add-to-cart" href="/cart/add?item={listing.id}">加入购物车</a></li>')


def result_list(items: Iterable[DemoListing]) -> str:
    rows = "\n".join(result_item(item) for item in items)
    return f'<ul class="results">\n{rows}\n</ul>' if rows else '<ul class="results">\n</ul>\n<p class="empty">没有更多商品 No more items.</p>'


def _next_link(href: str) -> str:
    return f'<a class="next" rel="next" href="{_e(href)}">下一页 Next »</a>'


def home(view: ShopView, broken_pages: bool = True) -> str:
    links = "\n".join(f'<li><a class="category-link" href="/c/{slug}">{_e(category_name(slug))}</a></li>'
                      for slug in view.categories)
    body = f"""<h1>{_e(SITE_NAME)}</h1>
<p class="tagline">二手闲置、收藏、宠物、茶叶……什么都有。Second-hand, collectibles, pets, tea and more.</p>
<form class="search" action="/search" method="get"><label>搜索 Search <input name="q"></label> <button type="submit">Go</button></form>
<h2>商品分类 Categories</h2>
<ul class="categories">
{links}
</ul>
{HOME_LINK if broken_pages else ""}"""
    return layout(SITE_NAME, body)


def category(slug: str, page: Page) -> str:
    name = category_name(slug)
    nav = _next_link(f"/c/{slug}?page={page.number + 1}") if page.has_next else ""
    body = f"""<nav class="breadcrumb"><a href="/">首页</a> › <a href="/c/{slug}">{_e(name)}</a></nav>
<h1 class="category-title">{_e(name)}</h1>
<p class="page-number">第 {page.number} 页 Page {page.number}</p>
{result_list(page.items)}
<div class="pager">{nav}</div>"""
    return layout(f"{name} - {SITE_NAME}", body)


def search(query: str, page: Page) -> str:
    nav = _next_link(f"/search?q={quote(query)}&page={page.number + 1}") if page.has_next else ""
    heading = f"搜索 “{_e(query)}” 的结果 Results for “{_e(query)}”" if query.strip() else "请输入关键词 Enter a search term"
    body = f"""<h1 class="search-title">{heading}</h1>
<p class="page-number">第 {page.number} 页 Page {page.number}</p>
{result_list(page.items)}
<div class="pager">{nav}</div>"""
    return layout(f"搜索 {query} - {SITE_NAME}", body)


def seller(seller_id: str, seller_name: str, items: list[DemoListing]) -> str:
    body = f"""<h1 class="seller-name">{_e(seller_name)}</h1>
<p class="seller-id">卖家编号 Seller ID: {_e(seller_id)} · 在售 {len(items)} 件 items on sale</p>
{result_list(items)}"""
    return layout(f"{seller_name} - {SITE_NAME}", body)


def _description_html(listing: DemoListing) -> str:
    """Paragraphs as <p>; every other listing uses <br> inside one <p>, as real shops vary."""
    lines = [_e(line) for line in listing.description.split("\n") if line.strip()]
    if int(listing.id[3:]) % 2:
        return "<p>" + "<br>\n".join(lines) + "</p>"
    return "\n".join(f"<p>{line}</p>" for line in lines)


def _related(items: list[DemoListing], link_class: str, box_class: str, heading: str) -> str:
    links = "\n".join(f'<li><a class="{link_class}" href="{item.detail_path}">{_e(item.title)}</a></li>' for item in items)
    return f'<aside class="{box_class}"><h3>{heading}</h3><ul>\n{links}\n</ul></aside>'


def html_detail(listing: DemoListing, related: list[DemoListing]) -> str:
    """The "html" style: every field in a listing-* element."""
    name = category_name(listing.category)
    images = "\n".join(f'<img class="listing-image" src="{_e(src)}" alt="{_e(listing.title)}">' for src in listing.images)
    body = f"""<nav class="breadcrumb"><a href="/">首页</a> › <a href="/c/{listing.category}">{_e(name)}</a></nav>
<article class="listing">
<h1 class="listing-title">{_e(listing.title)}</h1>
<div class="listing-gallery">
{images}
</div>
<p>价格 Price: <span class="listing-price">{_e(listing.price_text)}</span></p>
<p>商品编号 Item no.: <span class="listing-id">{listing.id}</span></p>
<p>卖家 Seller: <a class="seller-link" href="/seller/{listing.seller_id}">{_e(listing.seller_name)}</a>
 · 所在地 Location: <span class="listing-location">{_e(listing.location)}</span>
 · 发布 Posted: <time class="listing-posted" datetime="{listing.posted}">{listing.posted}</time></p>
<div class="listing-description">
{_description_html(listing)}
</div>
<p><a class="add-to-cart" href="/cart/add?item={listing.id}">加入购物车</a></p>
</article>
{_related(related, "related-link", "related", "相关商品 Related items")}"""
    return layout(f"{listing.title} - {SITE_NAME}", body)


def _seller_type(seller_name: str) -> str:
    return "Organization" if any(marker in seller_name for marker in ORGANIZATION_MARKERS) else "Person"


def _price_string(price: float) -> str:
    return f"{price:.2f}".rstrip("0").rstrip(".")


def product_jsonld(listing: DemoListing, base_url: str) -> dict:
    """schema.org Product; location is offers.availableAtOrFrom, posting date offers.validFrom.

    `category` is the display name, the same text the html style's breadcrumb shows.
    """
    offer: dict = {"@type": "Offer", "url": base_url + listing.detail_path}
    if listing.price is not None:
        offer["price"] = _price_string(listing.price)
        offer["priceCurrency"] = listing.currency
    offer.update({
        "availability": "https://schema.org/InStock",
        "validFrom": listing.posted,
        "availableAtOrFrom": {"@type": "Place", "name": listing.location},
        "seller": {"@type": _seller_type(listing.seller_name), "name": listing.seller_name,
                   "identifier": listing.seller_id, "url": f"{base_url}/seller/{listing.seller_id}"},
    })
    return {
        "@context": "https://schema.org", "@type": "Product", "name": listing.title,
        "description": listing.description, "sku": listing.id,
        "image": [base_url + src for src in listing.images], "category": category_name(listing.category),
        "offers": offer,
    }


def jsonld_detail(listing: DemoListing, related: list[DemoListing], base_url: str) -> str:
    """The "jsonld" style: its own layout (no listing-* classes) plus JSON-LD and OpenGraph."""
    data = json.dumps(product_jsonld(listing, base_url), ensure_ascii=False, indent=1).replace("</", "<\\/")
    summary = " ".join(listing.description.split())
    head = f"""<meta property="og:type" content="product">
<meta property="og:title" content="{_e(listing.title)}">
<meta property="og:description" content="{_e(summary)}">
<meta property="og:url" content="{_e(base_url + listing.detail_path)}">
<meta property="og:image" content="{_e(base_url + listing.images[0])}">
<script type="application/ld+json">
{data}
</script>
"""
    photos = "\n".join(f'<img class="p-photo" src="{_e(src)}" alt="">' for src in listing.images)
    paragraphs = "\n".join(f"<p>{_e(line)}</p>" for line in listing.description.split("\n") if line.strip())
    name = category_name(listing.category)
    body = f"""<ol class="crumbs"><li><a href="/">Demo Bazaar</a></li><li><a href="/c/{listing.category}">{_e(name)}</a></li></ol>
<div class="product-card">
<div class="p-gallery">
{photos}
</div>
<div class="p-info">
<h2 class="p-name">{_e(listing.title)}</h2>
<div class="p-price">{_e(listing.price_text)}</div>
<ul class="p-facts">
<li>编号 <code class="p-sku">{listing.id}</code></li>
<li>发货地 <span class="p-where">{_e(listing.location)}</span></li>
<li>上架 <span class="p-date">{listing.posted}</span></li>
<li>店铺 <a class="p-shop" href="/seller/{listing.seller_id}">{_e(listing.seller_name)}</a></li>
</ul>
<div class="p-text">
{paragraphs}
</div>
<a class="add-to-cart buy-button" href="/cart/add?item={listing.id}">加入购物车</a>
</div>
</div>
{_related(related, "rec-link", "recommendations", "猜你喜欢 You may also like")}"""
    return layout(f"{listing.title} - {SITE_NAME}", body, head)


def js_shell() -> str:
    """The "js" style: the raw HTML carries nothing about the listing; app.js fills #app."""
    body = """<div id="app"><p class="loading">Loading…</p></div>
<script src="/static/app.js"></script>"""
    return layout(SITE_NAME, body)


def cart(path: str, item_id: str | None) -> str:
    text = f"商品 {_e(item_id)} 已加入购物车 Added to cart." if item_id else "购物车是空的 Your cart is empty."
    return layout(f"购物车 Cart - {SITE_NAME}", f'<h1>购物车 Cart</h1>\n<p class="cart-message">{text}</p>')


def account(path: str) -> str:
    body = """<h1>登录 Sign in</h1>
<form class="login" action="/account/login" method="post">
<label>用户名 <input name="user"></label> <label>密码 <input name="password" type="password"></label>
<button type="submit">登录</button>
</form>"""
    return layout(f"登录 Sign in - {SITE_NAME}", body)


def not_found(message: str = NOT_FOUND_MESSAGE) -> str:
    return layout(f"404 - {SITE_NAME}", f'<h1 class="not-found">{_e(message)}</h1>\n<p><a href="/">返回首页 Back to the home page</a></p>')


def bad_request(message: str) -> str:
    return layout(f"400 - {SITE_NAME}", f'<h1 class="bad-request">请求有误 Bad request</h1>\n<p>{_e(message)}</p>')


def api_item(listing: DemoListing) -> dict:
    """The public fields app.js renders; the ground truth (kind, label, group) is never served."""
    return {
        "id": listing.id, "title": listing.title, "description": listing.description,
        "price_text": listing.price_text, "price": listing.price, "currency": listing.currency,
        "category": listing.category, "category_name": category_name(listing.category),
        "seller_id": listing.seller_id, "seller_name": listing.seller_name,
        "location": listing.location, "posted": listing.posted, "images": list(listing.images),
    }

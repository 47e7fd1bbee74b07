"""A shop the crawler has never seen, for `wildwatch crawl --url` with no config at all.

Its layouts share nothing with the Demo Bazaar: detail pages in three kinds (schema.org JSON-LD,
plain HTML in two templates, and JavaScript-only pages whose HTML is an empty #root), listing URLs of
four shapes (/products/123, /shop/carved-box-123.html, /view.php?item=123, /m/listing?id=123),
categories paginated by numbered links and "下一页", one by <link rel=next> only, a "load more"
search, seller pages, header/footer chrome, a cart and login that must not be crawled, robots.txt
with a disallowed path, and links to another host. `UnseenShop.truth` holds every listing.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from html import escape
from urllib.parse import parse_qs, urlsplit

from support.pages_server import PageServer, page

CATEGORIES = {"collectibles": "Collectibles 收藏", "home": "Home & Garden 家居", "health": "Health 保健",
              "pets": "Pets 宠物"}
KINDS = ("jsonld", "html-a", "html-b", "js")
WORDS = ["carved", "antique", "vintage", "handmade", "old stock", "rare", "boxed", "signed", "lacquer",
         "bronze", "jade", "resin", "porcelain", "rosewood", "silver", "bamboo"]
THINGS = ["bangle", "figurine", "brush pot", "tea caddy", "snuff bottle", "pendant", "comb", "box", "seal",
          "bowl", "netsuke", "hairpin", "fan", "scroll weight", "bead bracelet", "incense burner"]
ZH = ["老料手镯", "雕刻摆件", "紫砂茶叶罐", "鼻烟壶", "手串", "印章", "花鸟扇", "香炉"]


@dataclass(frozen=True)
class Listing:
    id: int
    title: str
    description: str
    price: str
    category: str
    seller: str
    kind: str

    @property
    def path(self) -> str:
        slug = re.sub(r"[^a-z0-9]+", "-", self.title.lower()).strip("-") or "item"
        return {
            "jsonld": f"/products/{self.id}",
            "html-a": f"/shop/{slug}-{self.id}.html",
            "html-b": f"/view.php?item={self.id}",
            "js": f"/m/listing?id={self.id}",
        }[self.kind]


def make_listings(count: int = 80) -> list[Listing]:
    listings = []
    for n in range(1, count + 1):
        word, thing = WORDS[n % len(WORDS)], THINGS[(n * 7) % len(THINGS)]
        title = f"{word.title()} {thing} no. {n}" if n % 3 else f"{ZH[n % len(ZH)]} {word} {thing} #{n}"
        description = (f"Lot {n}: a {word} {thing} from a private collection. "
                       f"Measures {5 + n % 20} cm, weight {40 + n * 3} g. "
                       + ("Ships from Kunming within two days.\n" if n % 2 else "同城可自提，外地包邮。\n")
                       + ("Minor wear consistent with age; see photos." if n % 4 else "No returns."))
        price = ["¥{:,}".format(80 * n), f"US${12 * n}", f"HK$ {30 * n}", f"€{n},50"][n % 4]
        listings.append(Listing(n, title, description, price, list(CATEGORIES)[n % len(CATEGORIES)],
                                f"seller{n % 6}", KINDS[n % len(KINDS)]))
    return listings


def _e(text: str) -> str:
    return escape(text, quote=True)


def _page(title: str, body: str, head: str = "") -> str:
    nav = " · ".join(f'<a href="/browse/{slug}">{_e(name)}</a>' for slug, name in CATEGORIES.items())
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>{_e(title)}</title>{head}</head>
<body><div class="topbar"><span class="brand">Hillside Trading Post</span>
<a href="/login?next=/">Sign in</a> <a href="/cart">Basket (0)</a> <a href="/help/shipping">Shipping</a></div>
<div class="menu">{nav}</div>
<div class="page">{body}</div>
<div class="bottom"><a href="/about">About us</a> <a href="/privacy">Privacy</a>
<a href="https://partner.example.org/offers/123">Partner offers</a> <a href="/internal/stats">stats</a>
<p>Hillside Trading Post is a fictional shop used to test the wildwatch crawler.</p></div>
</body></html>"""


def _card(item: Listing) -> str:
    return (f'<div class="tile"><a href="{_e(item.path)}"><img src="/pics/{item.id}.jpg" alt=""></a>'
            f'<div class="tile-name"><a href="{_e(item.path)}">{_e(item.title)}</a></div>'
            f'<div class="tile-cost">{_e(item.price)}</div></div>')


class UnseenShop:
    """The shop on 127.0.0.1, a random port; `hits` counts requests per path+query."""

    PAGE_SIZE = 7

    def __init__(self, count: int = 80):
        self.truth = make_listings(count)
        self.by_id = {item.id: item for item in self.truth}
        # Served by the tests' mock shop; hits counted per path there.
        self.server = PageServer(route=lambda request: page(*self._answer(request.path)))
        self.hits = self.server.hits

    @property
    def base_url(self) -> str:
        return self.server.url

    def _answer(self, raw_path: str) -> tuple[str | bytes, int, str]:
        status, ctype, body = self.route(raw_path)
        return body, status, ctype

    def __enter__(self) -> "UnseenShop":
        self.server.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.server.__exit__(*exc)

    # ---- routes ----------------------------------------------------------------------------
    def route(self, raw_path: str):
        parts = urlsplit(raw_path)
        path, query = parts.path, {k: v[-1] for k, v in parse_qs(parts.query).items()}
        html = "text/html; charset=utf-8"
        if path == "/robots.txt":
            return 200, "text/plain", "User-agent: *\nDisallow: /internal/\nDisallow: /login\n"
        if path == "/":
            featured = "".join(_card(item) for item in self.truth[:6])
            cats = "".join(f'<li><a class="cat" href="/browse/{slug}">{_e(name)}</a></li>' for slug, name in CATEGORIES.items())
            return 200, html, _page("Hillside Trading Post", f"<h2>Shop by category</h2><ul>{cats}</ul>"
                                    f"<h2>Featured</h2><div class='grid'>{featured}</div>"
                                    f"<p><a href='/search?q=&amp;offset=0'>All items</a></p>")
        if path.startswith("/browse/"):
            return self.category(path.removeprefix("/browse/").strip("/"), query)
        if path == "/search":
            return self.search(query)
        if path.startswith("/sellers/"):
            name = path.removeprefix("/sellers/")
            items = [i for i in self.truth if i.seller == name]
            if not items:
                return 404, html, _page("Not found", "<h1>No such seller</h1>")
            rows = "".join(f"<tr><td><a href='{_e(i.path)}'>{_e(i.title)}</a></td><td>{_e(i.price)}</td></tr>" for i in items)
            return 200, html, _page(f"{name}'s shop", f"<h1>{_e(name)}</h1><table class='stock'>{rows}</table>")
        item = self._item_for(path, query)
        if item is not None:
            return 200, html, getattr(self, "detail_" + item.kind.replace("-", "_"))(item)
        if path.startswith("/api/v2/listing/"):
            try:
                item = self.by_id[int(path.rsplit("/", 1)[-1])]
            except (ValueError, KeyError):
                return 404, "application/json", '{"error": "not found"}'
            return 200, "application/json", json.dumps({"name": item.title, "body": item.description,
                                                        "price": item.price, "seller": item.seller})
        if path == "/static/bundle.js":
            return 200, "application/javascript", BUNDLE_JS
        if path.startswith("/pics/"):
            return 200, "image/gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"
        if path in ("/cart", "/about", "/privacy", "/help/shipping", "/login", "/internal/stats"):
            return 200, html, _page(path, f"<h1>{_e(path.strip('/').title())}</h1><p>Nothing here for a crawler.</p>")
        return 404, html, _page("Not found", "<h1>Page not found</h1>")

    def _item_for(self, path: str, query: dict):
        for item in self.truth:
            if item.kind in ("jsonld", "html-a") and item.path == path:
                return item
        if path == "/view.php" and query.get("item", "").isdigit():
            item = self.by_id.get(int(query["item"]))
            return item if item and item.kind == "html-b" else None
        if path == "/m/listing" and query.get("id", "").isdigit():
            item = self.by_id.get(int(query["id"]))
            return item if item and item.kind == "js" else None
        return None

    def category(self, slug: str, query: dict):
        html = "text/html; charset=utf-8"
        if slug not in CATEGORIES:
            return 404, html, _page("Not found", "<h1>No such category</h1>")
        items = [i for i in self.truth if i.category == slug]
        page = int(query.get("pg", "1")) if query.get("pg", "1").isdigit() else 1
        chunk = items[(page - 1) * self.PAGE_SIZE: page * self.PAGE_SIZE]
        pages = (len(items) + self.PAGE_SIZE - 1) // self.PAGE_SIZE
        head = ""
        if slug == "health":
            # This category is paginated by <link rel="next"> in the head only.
            pager = ""
            if page < pages:
                head = f'<link rel="next" href="/browse/{slug}?pg={page + 1}">'
        else:
            numbers = " ".join(f'<a href="/browse/{slug}?pg={n}">{n}</a>' if n != page else f"<b>{n}</b>"
                               for n in range(1, pages + 1))
            more = f' <a href="/browse/{slug}?pg={page + 1}">下一页 ›</a>' if page < pages else ""
            pager = f'<div class="pages">{numbers}{more}</div>'
        rows = "".join(
            f"<tr><td><a href='{_e(i.path)}'><img src='/pics/{i.id}.jpg' alt=''></a></td>"
            f"<td><a href='{_e(i.path)}'>{_e(i.title)}</a><br><small>by "
            f"<a href='/sellers/{i.seller}'>{i.seller}</a></small></td><td>{_e(i.price)}</td></tr>"
            for i in chunk)
        body = f"<h1>{_e(CATEGORIES[slug])}</h1><p>{len(items)} items</p><table class='goods'>{rows}</table>{pager}"
        return 200, html, _page(f"{CATEGORIES[slug]} - page {page}", body, head)

    def search(self, query: dict):
        offset = int(query.get("offset", "0")) if query.get("offset", "0").isdigit() else 0
        items = self.truth[offset: offset + 12]
        more = (f'<a class="load-more" href="/search?q=&amp;offset={offset + 12}">Load more</a>'
                if offset + 12 < len(self.truth) else "")
        cards = "".join(_card(i) for i in items)
        return 200, "text/html; charset=utf-8", _page("All items", f"<h1>All items</h1><div class='grid'>{cards}</div>{more}")

    # ---- detail templates --------------------------------------------------------------------
    def detail_jsonld(self, item: Listing) -> str:
        data = {"@context": "https://schema.org", "@type": "Product", "name": item.title,
                "description": item.description, "sku": f"HTP-{item.id}",
                "offers": {"@type": "Offer", "price": item.price.strip("¥US$HK€ ").replace(",", ""),
                           "priceCurrency": "CNY"}}
        head = f'<script type="application/ld+json">{json.dumps(data, ensure_ascii=False)}</script>'
        body = (f"<div class='product'><div class='product-head'><span class='pname'>{_e(item.title)}</span>"
                f"<span class='pcost'>{_e(item.price)}</span></div>"
                f"<div class='pinfo'>{_e(item.description.splitlines()[0])}…</div>"
                f"<div class='more-like-this'>" + "".join(_card(i) for i in self.truth[item.id % 50: item.id % 50 + 5])
                + "</div></div>")
        return _page(f"{item.title} | Hillside", body, head)

    def detail_html_a(self, item: Listing) -> str:
        paragraphs = "".join(f"<p>{_e(line)}</p>" for line in item.description.splitlines())
        body = (f"<div class='crumbs'><a href='/'>Home</a> / <a href='/browse/{item.category}'>"
                f"{_e(CATEGORIES[item.category])}</a></div>"
                f"<h1>{_e(item.title)}</h1><div class='cost'>Price: {_e(item.price)}</div>"
                f"<div class='item-desc'>{paragraphs}</div>"
                f"<div>Seller: <a href='/sellers/{item.seller}'>{item.seller}</a></div>")
        return _page(f"{item.title} - Hillside Trading Post", body)

    def detail_html_b(self, item: Listing) -> str:
        # An older template: the title in a table cell, the text with <br>, no description class.
        text = "<br>".join(_e(line) for line in item.description.splitlines())
        body = (f"<table class='sheet'><tr><td colspan='2'><h2>{_e(item.title)}</h2></td></tr>"
                f"<tr><th>Asking</th><td>{_e(item.price)}</td></tr>"
                f"<tr><th>Seller</th><td><a href='/sellers/{item.seller}'>{item.seller}</a></td></tr></table>"
                f"<div style='margin:1em'>{text}</div>")
        return _page(f"{item.title} :: Hillside Trading Post", body)

    def detail_js(self, item: Listing) -> str:
        return ("<!doctype html><html><head><meta charset='utf-8'><title>Hillside</title></head>"
                "<body><div id='root'></div><noscript>Please enable JavaScript.</noscript>"
                "<script src='/static/bundle.js'></script></body></html>")


BUNDLE_JS = """
(function () {
  var id = new URLSearchParams(location.search).get("id");
  fetch("/api/v2/listing/" + id).then(function (r) { return r.json(); }).then(function (d) {
    setTimeout(function () {
      var root = document.getElementById("root");
      var h = document.createElement("h1"); h.textContent = d.name; root.appendChild(h);
      var p = document.createElement("div"); p.className = "price"; p.textContent = d.price; root.appendChild(p);
      var body = document.createElement("section");
      d.body.split("\\n").forEach(function (line) {
        var para = document.createElement("p"); para.textContent = line; body.appendChild(para);
      });
      root.appendChild(body);
      document.title = d.name + " | Hillside";
    }, 150);
  });
})();
"""

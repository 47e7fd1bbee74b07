"""The demo's second shop, "Old Street 老街旧货": an old-fashioned table layout in legacy encodings.

It exists to exercise what real Chinese-language marketplaces throw at a crawler and what the
Demo Bazaar does not:

- pages in GBK (declared in the Content-Type header) and, under /tw/, in Big5 declared only in a
  `<meta http-equiv>` tag; characters the legacy charset lacks are sent as numeric references;
- a search endpoint that expects its query percent-encoded in GBK (`/search.php?kw=%CF%F3%D1%C0`);
- robots.txt disallowing /member/ and /cart.php, which the detail pages link to;
- validators on every page (ETag, and Last-Modified on detail pages) with 304 answers;
- listings that change between nights: from night 2 three listings are edited (price, text,
  title) and one is taken down (`NIGHT2_CHANGED`, `NIGHT2_REMOVED`).

Listings are re-posts of Demo Bazaar catalogue entries (`data/demo_marketplace/listings.jsonl`,
every sixth id that is online on every night), under ids OS-0006 ...; the Big5 section shows a
quarter of them converted to Traditional Chinese with OpenCC.
"""
from __future__ import annotations

import dataclasses
import logging
from datetime import date, datetime, time, timezone
from email.utils import format_datetime
from functools import lru_cache
from html import escape
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

from wildwatch import config
from wildwatch.demo.catalog import DemoListing, category_name, load_catalog
from wildwatch.demo.images import demo_picture, oldstreet_picture_path
from wildwatch.demo.server import LoopbackShop, _Response, send_response

log = logging.getLogger(__name__)

PAGE_SIZE = 10
ROBOTS_TXT = "User-agent: *\nDisallow: /member/\nDisallow: /cart.php\n"
NIGHT2_REMOVED = ("OS-0012",)
# id -> field -> new value, shown from night 2 on.
NIGHT2_CHANGED: dict[str, dict[str, str]] = {
    "OS-0018": {"price_text": "￥99（降价）"},
    "OS-0024": {"description_suffix": "\n补充：今天再降价，先到先得。"},
    "OS-0030": {"title_prefix": "【急售】"},
}


@dataclasses.dataclass(frozen=True)
class ShopListing:
    id: str
    title: str
    description: str
    price_text: str
    category: str
    seller_id: str
    seller_name: str
    location: str
    posted: str
    big5: bool

    @property
    def path(self) -> str:
        return f"/tw/goods.php?id={self.id}" if self.big5 else f"/goods.php?id={self.id}"


@lru_cache(maxsize=1)
def _to_taiwan_converter():
    """OpenCC's simplified-to-Taiwan converter, built once: building one reads its dictionaries (about 40 ms)."""
    import opencc

    return opencc.OpenCC("s2tw")


def _traditional(text: str) -> str:
    return _to_taiwan_converter().convert(text)


def build_listings(catalog: list[DemoListing], night: int, extra: list[ShopListing] = ()) -> list[ShopListing]:
    """The shop's listings as they are on `night`, ordered by id; `extra`: the planted traders' own posts."""
    from wildwatch.demo.traders import is_trader_id

    chosen = [item for item in catalog if int(item.id[3:]) % 6 == 0 and item.first_night == 1
              and item.last_night is None and not is_trader_id(item.id)]
    listings = []
    for index, item in enumerate(chosen):
        shop_id = "OS-" + item.id[3:]
        big5 = index % 4 == 3
        title, description, price_text = item.title, item.description, item.price_text
        if big5 and item.lang != "zh-Hant":
            title, description = _traditional(title), _traditional(description)
        if night >= 2:
            if shop_id in NIGHT2_REMOVED:
                continue
            change = NIGHT2_CHANGED.get(shop_id, {})
            price_text = change.get("price_text", price_text)
            description += change.get("description_suffix", "")
            title = change.get("title_prefix", "") + title
        listings.append(ShopListing(shop_id, title, description, price_text, item.category, item.seller_id,
                                    item.seller_name, item.location, item.posted, big5))
    return listings + list(extra)


def _e(text: str) -> str:
    return escape(text, quote=True)


class _Pages:
    """HTML of the shop, one method per page; `big5` switches labels and the declared charset."""

    @staticmethod
    def layout(title: str, body: str, big5: bool) -> str:
        charset = "big5" if big5 else "gbk"
        home = "/tw/" if big5 else "/"
        name = "老街舊貨" if big5 else "老街旧货"
        return f"""<html><head><meta http-equiv="Content-Type" content="text/html; charset={charset}">
<title>{_e(title)} - {name} Old Street</title></head>
<body><table width="100%" class="top"><tr><td><a href="{home}">{name}</a></td>
<td align="right"><a href="/cart.php">{'購物車' if big5 else '购物车'}</a> | <a href="/member/login.php">{'登錄' if big5 else '登录'}</a>
| <a href="/">简体</a> | <a href="/tw/">繁體</a></td></tr></table>
<form action="/search.php" method="get"><input name="kw"> <input type="submit" value="{'搜索' if not big5 else '搜尋'}"></form>
{body}
<p class="foot">{'本站為 wildwatch 測試用的虛構商店。' if big5 else '本站为 wildwatch 测试用的虚构商店。'}</p></body></html>"""

    @staticmethod
    def result_table(items: list[ShopListing], big5: bool) -> str:
        rows = "".join(f'<tr><td class="title"><a href="{_e(item.path)}">{_e(item.title)}</a></td>'
                       f'<td class="price">{_e(item.price_text)}</td><td>{_e(item.location)}</td>'
                       f'<td class="gseller"><a href="/member/shop.php?uid={item.seller_id}">{_e(item.seller_name)}</a>'
                       f'</td></tr>'
                       for item in items)
        empty = "" if items else f"<p>{'沒有更多商品' if big5 else '没有更多商品'}</p>"
        return f'<table class="results" border="1">{rows}</table>{empty}'

    @staticmethod
    def pager(href: str | None, big5: bool) -> str:
        return f'<p><a href="{_e(href)}">{"下一頁" if big5 else "下一页"} &gt;&gt;</a></p>' if href else ""

    @classmethod
    def detail(cls, item: ShopListing, big5: bool) -> str:
        labels = ("價格", "賣家", "所在地", "發布", "編號", "收藏") if big5 else ("价格", "卖家", "所在地", "发布", "编号", "收藏")
        description = "<br>\n".join(_e(line) for line in item.description.split("\n") if line.strip())
        body = f"""<table class="goods-info" border="0" cellpadding="4">
<tr><td class="gname" colspan="2">{_e(item.title)}</td></tr>
<tr><th>{labels[0]}</th><td class="gprice">{_e(item.price_text)}</td></tr>
<tr><th>{labels[1]}</th><td class="gseller"><a href="/member/shop.php?uid={item.seller_id}">{_e(item.seller_name)}</a></td></tr>
<tr><th>{labels[2]}</th><td class="garea">{_e(item.location)}</td></tr>
<tr><th>{labels[3]}</th><td class="gdate">{item.posted}</td></tr>
</table>
<p class="gphoto"><img src="{oldstreet_picture_path(item.id)}" alt=""></p>
<div id="goods-desc">{description}</div>
<p class="gid">{labels[4]}：{item.id}</p>
<p><a href="/member/fav.php?id={item.id}">{labels[5]}</a></p>"""
        return cls.layout(item.title, body, big5)


class _Router:
    def __init__(self, shop: "OldStreetShop"):
        self.shop = shop

    def dispatch(self, path: str, query: dict[str, list[str]]) -> tuple[_Response, str | None]:
        """(response, Last-Modified or None)."""
        shop = self.shop
        big5 = path.startswith("/tw/")
        if path == "/robots.txt":
            return _Response(HTTPStatus.OK, "text/plain; charset=utf-8", shop.robots_txt), None
        from wildwatch.demo import oldstreet_mobile  # the JavaScript section (/m/, /ajax/)

        mobile = oldstreet_mobile.dispatch(shop, path, query)
        if mobile is not None:
            return mobile, None
        if path in ("/", "/index.php", "/tw/", "/tw/index.php"):
            return self.home(big5), None
        if path in ("/list.php", "/tw/list.php"):
            return self.listing_page(query, big5), None
        if path == "/search.php":
            return self.search(query), None
        if path in ("/goods.php", "/tw/goods.php"):
            item = shop.by_id.get(query.get("id", [""])[-1])
            if item is None or item.big5 != big5:
                return self.html("<h1>该商品已下架</h1>" if not big5 else "<h1>該商品已下架</h1>", big5,
                                 HTTPStatus.NOT_FOUND), None
            return self.encode(_Pages.detail(item, big5), big5), shop.last_modified(item)
        if path.startswith("/pic/"):  # a listing's photo: Demo Bazaar re-posts reuse that listing's photo
            item = shop.by_id.get(path[len("/pic/"):].split("-1.", 1)[0])
            if item is None or oldstreet_picture_path(item.id) != path:
                return self.html("<h1>404 页面不存在</h1>", False, HTTPStatus.NOT_FOUND), None
            return _Response(HTTPStatus.OK, *reversed(demo_picture("oldstreet", item.id, 1, item.category))), None
        if path.startswith("/member/") or path == "/cart.php":
            return self.html("<h1>请登录</h1>", big5), None
        return self.html("<h1>404 页面不存在</h1>", big5, HTTPStatus.NOT_FOUND), None

    def encode(self, html: str, big5: bool, status: int = HTTPStatus.OK) -> _Response:
        if big5:
            # Big5 declared only in the page's <meta http-equiv>, as many old Taiwanese shops do.
            return _Response(status, "text/html", html.encode("big5", errors="xmlcharrefreplace"))
        return _Response(status, "text/html; charset=GBK", html.encode("gbk", errors="xmlcharrefreplace"))

    def html(self, body: str, big5: bool, status: int = HTTPStatus.OK) -> _Response:
        return self.encode(_Pages.layout("老街", body, big5), big5, status)

    def home(self, big5: bool) -> _Response:
        if big5:
            body = ('<table class="cats"><tr><td class="cats"><a href="/tw/list.php?p=1">全部商品</a></td></tr></table>')
            return self.encode(_Pages.layout("首頁", body, True), True)
        cats = "".join(f'<td class="cats"><a href="/list.php?cat={slug}&amp;p=1">{_e(category_name(slug))}</a></td>'
                       for slug in self.shop.categories)
        return self.encode(_Pages.layout("首页", f'<table class="cats"><tr>{cats}</tr></table>', False), False)

    def _page_number(self, query) -> int:
        raw = query.get("p", ["1"])[-1]
        return int(raw) if raw.isdigit() and int(raw) >= 1 else 1

    def listing_page(self, query, big5: bool) -> _Response:
        page = self._page_number(query)
        if big5:
            items, base = [i for i in self.shop.listings if i.big5], "/tw/list.php?p="
        else:
            cat = query.get("cat", [""])[-1]
            items = [i for i in self.shop.listings if not i.big5 and i.category == cat]
            base = f"/list.php?cat={cat}&p="
        chunk = items[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
        more = base + str(page + 1) if page * PAGE_SIZE < len(items) else None
        body = _Pages.result_table(chunk, big5) + _Pages.pager(more, big5)
        return self.encode(_Pages.layout("商品列表", body, big5), big5)

    def search(self, query_raw) -> _Response:
        term = query_raw.get("kw", [""])[-1].strip()
        page = self._page_number(query_raw)
        self.shop._count_search(term)
        needle = term.casefold()
        items = [i for i in self.shop.listings if needle and (needle in i.title.casefold() or needle in i.description.casefold())]
        chunk = items[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
        more = (f"/search.php?kw={quote(term, encoding='gbk', errors='replace')}&p={page + 1}"
                if page * PAGE_SIZE < len(items) else None)
        body = f"<h1>搜索：{_e(term)}</h1>" + _Pages.result_table(chunk, False) + _Pages.pager(more, False)
        return self.encode(_Pages.layout("搜索", body, False), False)


class _Handler(BaseHTTPRequestHandler):
    server_version = "OldStreet/0.9"
    timeout = 30

    def _answer(self, with_body: bool) -> None:
        shop: OldStreetShop = self.server.site  # type: ignore[attr-defined]
        parts = urlsplit(self.path)
        shop._count(parts.path + ("?" + parts.query if parts.query else ""))  # with the query: ?id= names the page
        if shop.faults is not None and shop.faults.inject(self, self.path):
            return
        # The search box sends GBK; everything else is ASCII.
        query = parse_qs(parts.query, encoding="gbk", errors="replace")
        response, last_modified = shop._router.dispatch(parts.path or "/", query)
        send_response(self, response, with_body, shop._count_not_modified, last_modified)

    def do_GET(self) -> None:  # noqa: N802
        self._answer(True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._answer(False)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        log.debug("%s %s", self.address_string(), format % args)


class OldStreetShop(LoopbackShop):
    """The Old Street shop on a loopback port, showing `night`; use as a context manager."""

    handler_class = _Handler
    name = "old-street"

    def __init__(self, catalog_path: Path = config.DEMO_CATALOG, night: int = 1, host: str = "127.0.0.1",
                 port: int = 0):
        if night < 1:
            raise ValueError(f"night must be 1 or more, got {night}")
        self._init_server(host, port)
        self.night = night
        from wildwatch.demo.traders import oldstreet_listings, traders_path

        traders = traders_path(catalog_path)
        extra = oldstreet_listings(traders) if Path(catalog_path).name == "listings.jsonl" and traders.is_file() else []
        self.listings = build_listings(load_catalog(Path(catalog_path)), night, extra)
        self.by_id = {item.id: item for item in self.listings}
        self.categories = sorted({item.category for item in self.listings if not item.big5})
        self._router = _Router(self)
        self.searches: list[str] = []
        self.robots_txt = ROBOTS_TXT
        self.api_transform = None  # set by tests: changes the mobile endpoint's answer (oldstreet_mobile)

    def describe(self) -> str:
        return f"Old Street shop (night {self.night}, {len(self.listings)} listings)"

    def last_modified(self, item: ShopListing) -> str:
        """Posted date, or the night-2 edit for the edited listings (nights are days from the post date)."""
        day = date.fromisoformat(item.posted)
        if self.night >= 2 and item.id in NIGHT2_CHANGED:
            day = date(2026, 11, 26)
        return format_datetime(datetime.combine(day, time(8, 0), tzinfo=timezone.utc), usegmt=True)

    def _count_search(self, term: str) -> None:
        with self._hits_lock:
            self.searches.append(term)

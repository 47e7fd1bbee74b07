"""Serve the Demo Bazaar on a loopback address for the length of a run or a test.

Standard-library `ThreadingHTTPServer` in a daemon thread: no extra dependency,
and a crawler with concurrent requests sees a shop that answers in parallel.
Every request is counted per path (`hits`), so tests can check that a polite
crawler never fetched /cart/ or /account/.
"""
from __future__ import annotations

import hashlib
import ipaddress
import json
import logging
import re
import socket
import threading
import time
from collections import Counter
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable
from urllib.parse import parse_qs, unquote, urlsplit

from wildwatch import config
from wildwatch.demo import hostile, pages
from wildwatch.demo.catalog import DemoListing, load_catalog
from wildwatch.demo.images import demo_picture
from wildwatch.demo.shop import ShopView

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
HTML = "text/html; charset=utf-8"
JSON = "application/json; charset=utf-8"


class _Response:
    """Status, content type and body of one answer."""

    __slots__ = ("status", "content_type", "body")

    def __init__(self, status: int, content_type: str, body: str | bytes):
        self.status = status
        self.content_type = content_type
        self.body = body.encode("utf-8") if isinstance(body, str) else body


def _html(body: str, status: int = HTTPStatus.OK) -> _Response:
    return _Response(status, HTML, body)


def _json(data: object, status: int = HTTPStatus.OK) -> _Response:
    return _Response(status, JSON, json.dumps(data, ensure_ascii=False))


class _BadRequest(ValueError):
    """A query parameter the shop cannot use; answered with 400 and the reason."""


def _page_number(query: dict[str, list[str]]) -> int:
    raw = query.get("page", ["1"])[-1]
    try:
        number = int(raw)
    except ValueError:
        raise _BadRequest(f"page={raw!r} is not a whole number") from None
    if number < 1:
        raise _BadRequest(f"page={raw!r} must be 1 or more")
    return number


class _Router:
    """Maps a request path and query to a response; knows nothing about sockets."""

    def __init__(self, view: ShopView, base_url: Callable[[], str], broken_pages: bool = True):
        self.view = view
        self.broken_pages = broken_pages  # the /lab/ corner of broken pages, linked from the home page
        self.base_url = base_url
        self.routes: list[tuple[re.Pattern[str], Callable[..., _Response]]] = [
            (re.compile(r"^/robots\.txt$"), self.robots),
            (re.compile(r"^/$"), self.home),
            (re.compile(r"^/c/([a-z0-9-]+)/?$"), self.category),
            (re.compile(r"^/search/?$"), self.search),
            (re.compile(r"^/item/([A-Za-z0-9-]+)/?$"), self.item),
            (re.compile(r"^/app/item/([A-Za-z0-9-]+)/?$"), self.app_item),
            (re.compile(r"^/api/items/([A-Za-z0-9-]+)/?$"), self.api_item),
            (re.compile(r"^/seller/([A-Za-z0-9_-]+)/?$"), self.seller),
            (re.compile(r"^/img/([A-Za-z0-9._-]+)$"), self.image),
            (re.compile(r"^/static/app\.js$"), self.app_js),
            (re.compile(r"^/cart(/.*)?$"), self.cart),
            (re.compile(r"^/account(/.*)?$"), self.account),
        ]

    def dispatch(self, path: str, query: dict[str, list[str]]) -> _Response:
        for pattern, handler in self.routes:
            match = pattern.match(path)
            if match:
                try:
                    return handler(query, *match.groups())
                except _BadRequest as exc:
                    return _html(pages.bad_request(str(exc)), HTTPStatus.BAD_REQUEST)
        return _html(pages.not_found(), HTTPStatus.NOT_FOUND)

    def robots(self, query: dict) -> _Response:
        return _Response(HTTPStatus.OK, "text/plain; charset=utf-8", pages.ROBOTS_TXT)

    def home(self, query: dict) -> _Response:
        return _html(pages.home(self.view, self.broken_pages))

    def category(self, query: dict, slug: str) -> _Response:
        if slug not in self.view.categories:
            return _html(pages.not_found(f"没有这个分类 / No such category: {slug}"), HTTPStatus.NOT_FOUND)
        page = self.view.paginate(self.view.in_category(slug), _page_number(query))
        return _html(pages.category(slug, page))

    def search(self, query: dict) -> _Response:
        text = query.get("q", [""])[-1]
        page = self.view.paginate(self.view.search(text), _page_number(query))
        return _html(pages.search(text, page))

    def _live(self, item_id: str, style_is_js: bool) -> DemoListing | None:
        listing = self.view.live_by_id.get(item_id)
        if listing is None or (listing.style == "js") != style_is_js:
            return None  # each listing has exactly one detail URL
        return listing

    def item(self, query: dict, item_id: str) -> _Response:
        listing = self._live(item_id, style_is_js=False)
        if listing is None:
            return _html(pages.not_found(pages.GONE_MESSAGE), HTTPStatus.NOT_FOUND)
        related = self.view.related(listing)
        if listing.style == "jsonld":
            return _html(pages.jsonld_detail(listing, related, self.base_url()))
        return _html(pages.html_detail(listing, related))

    def app_item(self, query: dict, item_id: str) -> _Response:
        if self._live(item_id, style_is_js=True) is None:
            return _html(pages.not_found(pages.GONE_MESSAGE), HTTPStatus.NOT_FOUND)
        return _html(pages.js_shell())

    def api_item(self, query: dict, item_id: str) -> _Response:
        listing = self.view.live_by_id.get(item_id)
        if listing is None:
            return _json({"error": pages.GONE_MESSAGE, "id": item_id}, HTTPStatus.NOT_FOUND)
        return _json(pages.api_item(listing))

    def seller(self, query: dict, seller_id: str) -> _Response:
        name = self.view.sellers.get(seller_id)
        if name is None:
            return _html(pages.not_found(f"没有这个卖家 / No such seller: {seller_id}"), HTTPStatus.NOT_FOUND)
        return _html(pages.seller(seller_id, name, self.view.by_seller(seller_id)))

    def image(self, query: dict, name: str) -> _Response:
        match = re.match(r"^(DB-\d{4})-(\d+)\.(png|jpg|jpeg)$", name)
        listing = self.view.all_by_id.get(match.group(1)) if match else None
        if listing is None or f"/img/{name}" not in listing.images:
            return _html(pages.not_found(), HTTPStatus.NOT_FOUND)
        body, content_type = demo_picture("demo", listing.id, int(match.group(2)), listing.category)
        return _Response(HTTPStatus.OK, content_type, body)

    def app_js(self, query: dict) -> _Response:
        return _Response(HTTPStatus.OK, "application/javascript; charset=utf-8",
                         (STATIC_DIR / "app.js").read_bytes())

    def cart(self, query: dict, rest: str | None) -> _Response:
        return _html(pages.cart(rest or "/", query.get("item", [None])[-1]))

    def account(self, query: dict, rest: str | None) -> _Response:
        return _html(pages.account(rest or "/"))


def entity_tag(body: bytes) -> str:
    return '"' + hashlib.sha1(body).hexdigest()[:20] + '"'


def send_response(handler: BaseHTTPRequestHandler, response: "_Response", with_body: bool,
                  on_not_modified: Callable[[], None] | None = None, last_modified: str | None = None) -> None:
    """Answer with validators (ETag, optionally Last-Modified), and 304 Not Modified when the client's
    If-None-Match / If-Modified-Since shows it already has this exact page: what a well-behaved shop
    does, and what lets a nightly crawl revalidate instead of downloading every page again."""
    headers = {"Content-Type": response.content_type}
    status, body = response.status, response.body
    if status == HTTPStatus.OK:
        etag = entity_tag(body)
        headers["ETag"] = etag
        headers["Cache-Control"] = "no-cache"  # may be stored, must be revalidated
        if last_modified:
            headers["Last-Modified"] = last_modified
        match = handler.headers.get("If-None-Match")
        since = handler.headers.get("If-Modified-Since")
        if (match and etag in [tag.strip() for tag in match.split(",")]) \
                or (not match and since and last_modified and since == last_modified):
            status, body = HTTPStatus.NOT_MODIFIED, b""
            if on_not_modified is not None:
                on_not_modified()
    else:
        headers["Cache-Control"] = "no-store"
    try:
        handler.send_response(status)
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        if with_body and body:
            handler.wfile.write(body)
    except (BrokenPipeError, ConnectionResetError):
        log.debug("client went away during %s", handler.path)


class _Handler(BaseHTTPRequestHandler):
    server_version = "DemoBazaar/1.0"
    timeout = 30  # a stalled client must not hold a thread forever

    def _answer(self, with_body: bool) -> None:
        site: DemoMarketplace = self.server.site  # type: ignore[attr-defined]
        parts = urlsplit(self.path)
        path = unquote(parts.path) or "/"
        site._count(path)
        site._pause()
        if site.faults is not None and site.faults.inject(self, self.path):
            return
        if site._router.broken_pages and path.startswith("/lab") \
                and hostile.serve(self, path, parse_qs(parts.query), with_body):
            return
        response = site._router.dispatch(path, parse_qs(parts.query))
        send_response(self, response, with_body, site._count_not_modified)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._answer(with_body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._answer(with_body=False)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - signature is fixed
        log.debug("%s %s", self.address_string(), format % args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class _Server6(_Server):
    address_family = socket.AF_INET6


def _loopback(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """The loopback address to bind, or ValueError: the demo must never be reachable from outside."""
    candidate = "127.0.0.1" if host == "localhost" else host
    try:
        address = ipaddress.ip_address(candidate)
    except ValueError:
        raise ValueError(f"host={host!r}: the demo shop binds only a loopback IP address such as 127.0.0.1") from None
    if not address.is_loopback:
        raise ValueError(f"host={host!r} is not a loopback address; the demo shop refuses to bind it")
    return address


class LoopbackShop:
    """What every demo shop shares: serving on a loopback port in a daemon thread, and counting
    requests per path (`hits`) and 304 answers (`not_modified`). Subclasses set `handler_class`
    and `name`, and call `_init_server` from their constructor."""

    handler_class: type[BaseHTTPRequestHandler]
    name = "demo shop"
    faults = None  # a wildwatch.demo.faults.FaultInjector makes a share of requests fail

    def _init_server(self, host: str, port: int, delay: float = 0.0) -> None:
        self._address = _loopback(host)
        if not 0 <= port <= 65535:
            raise ValueError(f"port={port} is outside 0-65535")
        if not 0.0 <= delay <= 60.0:
            raise ValueError(f"delay={delay} must lie between 0 and 60 seconds")
        self.port = port
        # Seconds each answer waits, like a real shop's latency: with it, more crawl workers really
        # fetch faster (the requests overlap), which is what the workers benchmark measures.
        self.delay = delay
        self._hits: Counter[str] = Counter()
        self._hits_lock = threading.Lock()
        self.not_modified = 0  # 304 answers to conditional requests
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # ---------------------------------------------------------------- lifecycle
    def start(self) -> str:
        """Bind and serve in a daemon thread; returns the base URL. Starting twice is a no-op."""
        if self._server is not None:
            return self.base_url
        server_class = _Server6 if self._address.version == 6 else _Server
        server = server_class((str(self._address), self.port), self.handler_class)
        server.site = self  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"{self.name}-{server.server_address[1]}", daemon=True)
        self._thread.start()
        log.info("%s at %s", self.describe(), self.base_url)
        return self.base_url

    def describe(self) -> str:
        return self.name

    def stop(self) -> None:
        """Stop serving and release the port; safe to call when not running."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError(f"the {self.name} is not running; call start() first")
        host, port = self._server.server_address[:2]
        return f"http://[{host}]:{port}" if self._address.version == 6 else f"http://{host}:{port}"

    def _pause(self) -> None:
        if self.delay:
            time.sleep(self.delay)  # one request thread each (ThreadingHTTPServer): answers still overlap

    # ---------------------------------------------------------------- counters
    def _count(self, path: str) -> None:
        with self._hits_lock:
            self._hits[path] += 1

    def _count_not_modified(self) -> None:
        with self._hits_lock:
            self.not_modified += 1

    @property
    def hits(self) -> dict[str, int]:
        """Requests so far per path (the Bazaar drops the query string, Old Street keeps it); a copy."""
        with self._hits_lock:
            return dict(self._hits)

    def request_count(self, prefix: str = "/") -> int:
        """Requests so far whose path starts with `prefix` (e.g. "/cart/", "/item/")."""
        with self._hits_lock:
            return sum(count for path, count in self._hits.items() if path.startswith(prefix))

    def reset_hits(self) -> None:
        with self._hits_lock:
            self._hits.clear()


class DemoMarketplace(LoopbackShop):
    """The Demo Bazaar web shop on 127.0.0.1, showing the catalog as it is on `night`.

    Use as a context manager (`with DemoMarketplace(night=2) as site: site.base_url`)
    or call `start()`/`stop()`. Port 0 picks a free port.
    """

    handler_class = _Handler
    name = "demo-bazaar"

    def __init__(self, catalog_path: Path = config.DEMO_CATALOG, night: int = 1, host: str = "127.0.0.1",
                 port: int = 0, page_size: int = 20, delay: float = 0.0, broken_pages: bool = True):
        self._init_server(host, port, delay)
        self.catalog_path = Path(catalog_path)
        self.catalog = load_catalog(self.catalog_path)
        self.view = ShopView(self.catalog, night, page_size)
        self.night = night
        # broken_pages=False: no /lab/ corner (wildwatch.demo.hostile), e.g. for a baseline spider with no guards.
        self._router = _Router(self.view, lambda: self.base_url, broken_pages)

    def describe(self) -> str:
        return f"Demo Bazaar (night {self.night}, {len(self.view.live)} live listings)"

    def detail_urls(self) -> list[str]:
        """Absolute detail URLs of tonight's live listings, in id order (for tests and checks)."""
        return [self.base_url + item.detail_path for item in self.view.live]

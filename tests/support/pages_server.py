"""The tests' mock shop: a small web site on 127.0.0.1 serving fixed pages (and pages made on request), for
crawls, captures and browsers that must meet exactly these pages."""
from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

#: (status, content type, body, extra headers)
Page = tuple[int, str, "str | bytes", dict[str, str]]
#: path -> its answer
Pages = dict[str, Page]


def page(body: str | bytes, status: int = 200, content_type: str = "text/html; charset=utf-8",
         **headers: str) -> Page:
    return status, content_type, body, {k.replace("_", "-"): v for k, v in headers.items()}


class PageServer:
    """Serves `pages` on 127.0.0.1 (a free port) while the `with` block runs; counts hits per path.

    The one mock shop of the tests. `pages` maps a path (with its query) to a fixed answer (`page(...)`);
    `route(request)` answers the paths `pages` does not hold (`request.path`, with its query), for shops whose
    pages are made on request: it returns a `page(...)`, or None once it has written the answer itself on the
    request (http.server's handler: a stream without Content-Length, a body cut short, an answer that never
    comes). `delay` seconds pass before every
    answer (a slow shop)."""

    def __init__(self, pages: Pages | None = None, route: "Callable[[BaseHTTPRequestHandler], Page | None] | None" = None,
                 delay: float = 0) -> None:
        self.pages = pages if pages is not None else {}
        self.route = route
        self.hits: Counter[str] = Counter()
        self._lock = threading.Lock()
        served = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                with served._lock:
                    served.hits[self.path] += 1
                if delay:
                    time.sleep(delay)
                answer = served.pages.get(self.path)
                if answer is None and served.route is not None:
                    answer = served.route(self)
                    if answer is None:
                        return  # the route wrote its own answer
                if answer is None:
                    answer = page("not found", 404)
                status, ctype, body, headers = answer
                payload = body if isinstance(body, bytes) else body.encode("utf-8")
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(payload)))
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the client gave up first (a timeout, a size limit): what some tests are about

            # A page's scripts may POST or preflight; the hit counts those too (SSRF tests count them all).
            do_POST = do_PUT = do_OPTIONS = do_GET  # noqa: N815

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True  # an answer still sleeping or streaming does not hold up the exit
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> "PageServer":
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def site_config(name: str, base_url: str, **politeness: object) -> str:
    """A site config for pages whose listing links are `a.ad` and whose detail pages carry JSON-LD or
    `.ad-title` / `.ad-body` fields; no delay, no AutoThrottle, and health monitors that tolerate the
    broken pages these tests serve on purpose."""
    extra = "".join(f"  {key}: {value}\n" for key, value in politeness.items())
    return f"""\
name: {name}
base_url: {base_url}
start_urls: [/]
links:
  listing: [a.ad::attr(href)]
  listing_url_pattern: /p/(?P<id>[A-Za-z0-9-]+)
fields:
  title: div.ad-title::text
  description: div.ad-body
politeness:
  download_delay: 0
  autothrottle: false
{extra}monitoring:
  min_listings: 0
  max_error_share: 1
  max_missing_share: 1
"""

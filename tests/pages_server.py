"""A tiny web site on 127.0.0.1 that serves fixed pages, for crawls that must meet exactly these pages."""
from __future__ import annotations

import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

#: path -> (status, content type, body, extra headers)
Pages = dict[str, tuple[int, str, "str | bytes", dict[str, str]]]


def page(body: str | bytes, status: int = 200, content_type: str = "text/html; charset=utf-8",
         **headers: str) -> tuple[int, str, str | bytes, dict[str, str]]:
    return status, content_type, body, {k.replace("_", "-"): v for k, v in headers.items()}


class PageServer:
    """Serves `pages` on 127.0.0.1 (a free port) while the `with` block runs; counts hits per path."""

    def __init__(self, pages: Pages) -> None:
        self.pages = pages
        self.hits: Counter[str] = Counter()
        served = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                served.hits[self.path] += 1
                status, ctype, body, headers = served.pages.get(self.path, page("not found", 404))
                payload = body if isinstance(body, bytes) else body.encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(payload)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
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

"""The Demo Bazaar's corner of broken pages (/lab/), linked from its home page so every demo crawl meets them.

Each page is broken the way real sites break. None carries a listing, so the demo's listing figures
stay those of the catalogue; what the crawl must do with each (docs/reliability.md):

| page                  | how it is broken                                     | the crawl            |
|-----------------------|------------------------------------------------------|----------------------|
| /lab/truncated        | Content-Length promises more than is sent            | skipped: truncated   |
| /lab/huge             | 20 MB of markup                                      | skipped: too large   |
| /lab/binary           | PNG bytes served as text/html                        | skipped: binary      |
| /lab/loop             | redirects to /lab/loop-back, which redirects back    | skipped: redirect loop |
| /lab/trap?page=N      | "next page" forever, every page the same             | next pages stopped: pagination trap |
| /lab/nested           | 100,000 nested divs                                  | read to the parser's depth limit: too deep |
| /lab/charset          | GBK bytes declared as UTF-8                          | re-read as GB18030: wrong charset |
| /lab/zero-width       | text drowned in zero-width characters                | characters stripped: zero width |
"""
from __future__ import annotations

import socket
from http import HTTPStatus

HUGE_BYTES = 20 * 1024 * 1024
NESTING = 100_000
PREFIX = "/lab/"
HOME_LINK = '<p class="odds"><a class="odds-link" href="/lab/">杂货角（坏页面）Odds and ends: broken pages</a></p>'

_PAGE = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="{charset}"><title>{title}</title></head>
<body><h1>{title}</h1>
{body}
</body></html>
"""


def _page(title: str, body: str, charset: str = "utf-8") -> str:
    return _PAGE.format(title=title, body=body, charset=charset)


def index() -> str:
    details = "\n".join(f'<li><a class="result-link" href="/lab/{name}">{text}</a></li>' for name, text in (
        ("truncated", "断了一半的页面 A page cut off halfway"),
        ("huge", "二十兆的页面 A 20 MB page"),
        ("binary", "冒充网页的图片 An image served as HTML"),
        ("loop", "转来转去 A redirect loop"),
    ))
    hubs = "\n".join(f'<li><a class="odds-link" href="/lab/{name}">{text}</a></li>' for name, text in (
        ("nested", "十万层嵌套 100,000 nested divs"),
        ("charset", "字符集写错 The wrong charset"),
        ("zero-width", "零宽字符 Zero-width characters"),
    ))
    body = (f'<ul class="results">\n{details}\n</ul>\n<ul class="hubs">\n{hubs}\n</ul>\n'
            '<div class="pager"><a class="next" rel="next" href="/lab/trap?page=1">下一页 Next »</a></div>')
    return _page("杂货角 Odds and ends", body)


def trap(number: int) -> str:
    body = (f'<p class="page-number">第 {number} 页 Page {number}</p>\n<ul class="results">\n</ul>\n'
            '<p class="empty">没有更多商品 No more items.</p>\n'
            f'<div class="pager"><a class="next" rel="next" href="/lab/trap?page={number + 1}">下一页 Next »</a></div>')
    return _page("日历 Calendar", body)


def nested() -> str:
    return _page("嵌套 Nested", "<div>" * NESTING + "深处 deep inside" + "</div>" * NESTING)


def charset_page() -> bytes:
    text = "<p>象牙筷子、玳瑁梳子、犀角杯：这一页是 GBK 编码，却声称是 UTF-8。</p>" * 40
    return _page("字符集写错了", text, charset="utf-8").encode("gbk")


def zero_width() -> str:
    hidden = "\u200b\u200c\u200d\u2060\ufeff" * 10_000
    return _page("零\u200b宽\u200b字\u200b符", f"<p>{hidden}看\u200b不\u200b见\u200b的\u200b字{hidden}</p>")


_PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 64


def serve(handler, path: str, query: dict[str, list[str]], with_body: bool) -> bool:
    """Answer a /lab/ request on `handler` (an http.server handler); False when the path is not one of ours."""
    if path in ("/lab", PREFIX):
        return _send(handler, index(), with_body)
    name = path[len(PREFIX):].rstrip("/")
    if name == "truncated":
        full = _page("断了 Truncated", "<p>这一页永远发不完。This page is never sent in full.</p>" * 400).encode()
        return _send(handler, full, with_body, length=len(full), cut_at=len(full) // 3)
    if name == "huge":
        return _send_huge(handler, with_body)
    if name == "binary":
        return _send(handler, _PNG, with_body)
    if name in ("loop", "loop-back"):
        handler.send_response(HTTPStatus.FOUND)
        handler.send_header("Location", "/lab/loop-back" if name == "loop" else "/lab/loop")
        handler.send_header("Content-Length", "0")
        handler.end_headers()
        return True
    if name == "trap":
        try:
            number = max(1, int(query.get("page", ["1"])[-1]))
        except ValueError:
            number = 1
        return _send(handler, trap(number), with_body)
    if name == "nested":
        return _send(handler, nested(), with_body)
    if name == "charset":
        return _send(handler, charset_page(), with_body)
    if name == "zero-width":
        return _send(handler, zero_width(), with_body)
    return False


def _send(handler, body: str | bytes, with_body: bool, *, length: int | None = None, cut_at: int | None = None) -> bool:
    data = body.encode("utf-8") if isinstance(body, str) else body
    try:
        handler.send_response(HTTPStatus.OK)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("Content-Length", str(length if length is not None else len(data)))
        handler.send_header("Cache-Control", "no-store")
        handler.end_headers()
        if with_body:
            handler.wfile.write(data[:cut_at] if cut_at is not None else data)
    except (BrokenPipeError, ConnectionResetError):
        pass
    handler.close_connection = True
    if cut_at is not None:
        try:
            handler.wfile.flush()
            handler.connection.shutdown(socket.SHUT_RDWR)  # the rest never comes
        except OSError:
            pass
    return True


def _send_huge(handler, with_body: bool) -> bool:
    """20 MB, streamed in 64 KB chunks (never held whole), until done or the client hangs up."""
    chunk = ("<p>" + "很长的页面 a very long page " * 2000 + "</p>\n").encode("utf-8")[:65536]
    try:
        handler.send_response(HTTPStatus.OK)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("Content-Length", str(HUGE_BYTES))
        handler.send_header("Cache-Control", "no-store")
        handler.end_headers()
        sent = 0
        while with_body and sent < HUGE_BYTES:
            piece = chunk[:HUGE_BYTES - sent]
            handler.wfile.write(piece)
            sent += len(piece)
    except (BrokenPipeError, ConnectionResetError):
        pass
    handler.close_connection = True
    return True

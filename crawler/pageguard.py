"""Hostile and broken pages: each one skipped, or read after a repair, with a reason that is counted.

A marketplace page can be anything: truncated by a dropped connection, 20 MB of markup, an image
served as text/html, a redirect loop, an endless "next page" chain, 100,000 nested divs, Chinese text
sent with the wrong charset, or a wall of zero-width characters. None of them may crash, hang or
exhaust a nightly crawl, and none may disappear silently. The decisions live here; the counts appear
in the crawl's stats as `wildwatch/skipped/<reason>` (the page was not read) and
`wildwatch/repaired/<reason>` (the page was read after a repair), and in the nightly summary.

- `PageGuardMiddleware` (downloader): binary bodies and non-text answers are skipped; a wrong declared
  charset is re-detected (charset-normalizer); zero-width floods are stripped; rendered pages that grew
  past the size limit come back as an empty marker page (see SIZE_GUARD_JS) and are skipped.
- `LoopAwareRedirectMiddleware`: a redirect back to a URL of the same chain is a loop, skipped at once
  (Scrapy's own middleware hands it to the duplicate filter, which drops it without a word).
- `skip_reason(failure)`: the reason for download failures that are limits, not faults (too large,
  truncated after its retries, redirect loop).
- `tree_was_cut(selector)`: libxml2 stops building the tree at its depth limit instead of recursing
  into 100,000 levels; the page is read as far as that and counted.
"""
from __future__ import annotations

import logging
import re

from scrapy.downloadermiddlewares.redirect import RedirectMiddleware
from scrapy.exceptions import DownloadCancelledError, IgnoreRequest, ResponseDataLossError
from scrapy.http import Response, TextResponse

from crawler.stats import STAT

logger = logging.getLogger(__name__)

# Invisible format characters used to pad or disguise text (zero-width space/joiners, word joiner,
# invisible operators, BOM used as ZWNBSP, soft hyphen, Mongolian vowel separator).
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\u2061\u2062\u2063\u2064\ufeff\u00ad\u180e"
_ZERO_WIDTH_RE = re.compile(f"[{ZERO_WIDTH}]")
ZERO_WIDTH_FLOOD = 200         # more than this many on a page (or 1 % of it) is a flood, stripped
BAD_DECODING_SHARE = 0.002     # replacement characters per character that mean the charset is wrong
_BINARY_SAMPLE = 4096
_TEXT_CONTROLS = set(b"\t\n\r\f\x1b")

# Run in the browser after a rendered page settled: a DOM larger than the limit is replaced by an empty
# page carrying its size, so the 20 MB never crosses into the crawler's memory.
SIZE_GUARD_JS = """(limit) => {
  const size = document.documentElement ? document.documentElement.outerHTML.length : 0;
  if (size > limit) {
    document.documentElement.innerHTML = "";
    document.documentElement.setAttribute("data-wildwatch-too-large", String(size));
  }
  return size;
}"""
_TOO_LARGE_MARK = re.compile(rb'data-wildwatch-too-large="(\d+)"')


class SkippedPage(IgnoreRequest):
    """A page not read, on purpose, for `reason` (too_large, binary, not_html, redirect_loop, ...)."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"skipped ({reason.replace('_', ' ')}): {detail}")
        self.reason = reason


def is_page_request(request) -> bool:
    """Requests the spider made for pages (not robots.txt, not the browser's own fetches)."""
    return "wildwatch_page" in request.meta


def looks_binary(body: bytes) -> bool:
    """NUL bytes or many control bytes at the start: an image, archive or executable, not a page."""
    sample = body[:_BINARY_SAMPLE]
    if not sample or sample.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 text has NULs but a BOM
        return False
    if b"\x00" in sample:
        return True
    controls = sum(1 for byte in sample if byte < 0x20 and byte not in _TEXT_CONTROLS)
    return controls > 0.1 * len(sample)


def _redecode(response: TextResponse) -> TextResponse | None:
    """The response read in the encoding its bytes really use, when the declared one garbles them."""
    from charset_normalizer import from_bytes

    best = from_bytes(response.body[:200_000]).best()
    if best is None or not best.encoding or best.encoding.replace("_", "-") == response.encoding.replace("_", "-"):
        return None
    candidate = response.replace(encoding=best.encoding)
    if candidate.text.count("\ufffd") >= response.text.count("\ufffd"):
        return None
    return candidate


class PageGuardMiddleware:
    """Checks every page response before the spider sees it (see the module docstring)."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def _count(self, kind: str, reason: str) -> None:
        if self.crawler.stats:
            self.crawler.stats.inc_value(f"{STAT}{kind}/{reason}")

    def process_response(self, request, response: Response, spider=None):
        if not is_page_request(request) or response.status != 200:
            return response
        mark = _TOO_LARGE_MARK.search(response.body[:500]) if "playwright" in response.flags else None
        if mark:
            raise SkippedPage("too_large", f"{response.url}: rendered page of {int(mark.group(1)):,} characters "
                                           f"is larger than the limit")
        if looks_binary(response.body):
            kind = response.headers.get(b"Content-Type", b"?").decode("latin-1")
            raise SkippedPage("binary", f"{response.url}: binary content served as {kind}")
        if not isinstance(response, TextResponse):
            kind = response.headers.get(b"Content-Type", b"?").decode("latin-1")
            raise SkippedPage("not_html", f"{response.url}: not a text page ({kind})")
        text = response.text
        garbled = text.count("\ufffd")
        if garbled and garbled > BAD_DECODING_SHARE * len(text):
            repaired = _redecode(response)
            if repaired is not None:
                logger.info("%s: declared charset %s garbles the page; read as %s", response.url,
                            response.encoding, repaired.encoding)
                self._count("repaired", "wrong_charset")
                response, text = repaired, repaired.text
        invisible = len(_ZERO_WIDTH_RE.findall(text))
        if invisible > ZERO_WIDTH_FLOOD or invisible > 0.01 * len(text) > 1:
            logger.info("%s: %d zero-width characters removed", response.url, invisible)
            self._count("repaired", "zero_width")
            response = response.replace(body=_ZERO_WIDTH_RE.sub("", text).encode("utf-8"), encoding="utf-8")
        return response


class LoopAwareRedirectMiddleware(RedirectMiddleware):
    """Scrapy's redirects, plus a skip with a reason for loops (A -> B -> A) and overlong chains."""

    def _redirect(self, redirected, request, reason):
        chain = [*request.meta.get("redirect_urls", []), request.url]
        if redirected.url in chain:
            raise SkippedPage("redirect_loop", f"{chain[0]} redirects in a loop ({len(chain)} steps back to "
                                               f"{redirected.url})")
        try:
            return super()._redirect(redirected, request, reason)
        except SkippedPage:
            raise
        except IgnoreRequest:
            raise SkippedPage("too_many_redirects", f"{chain[0]}: more than {self.max_redirect_times} "
                                                    "redirects") from None


def skip_reason(failure) -> str | None:
    """The skip reason of a failed request, when the failure is a limit or a hostile page, else None."""
    if failure.check(SkippedPage):
        return failure.value.reason
    if failure.check(DownloadCancelledError) and ("max size" in str(failure.value) or not str(failure.value)):
        return "too_large"  # cancelled at the headers (with the sizes) or while streaming (without a message)
    if failure.check(ResponseDataLossError):
        return "truncated"  # the connection dropped mid-page on every retry
    return None


SKIP_REASONS = {
    "too_large": "larger than the site's limits.max_page_mb",
    "truncated": "the connection closed before the whole page arrived, on every retry",
    "binary": "binary content served as a page",
    "not_html": "not a text page",
    "redirect_loop": "redirects in a loop",
    "too_many_redirects": "too many redirects",
}


def describe_skip(reason: str, url: str, failure) -> str:
    """One log line for a skipped page: the reason, the URL and what the downloader said."""
    detail = str(failure.value) if failure.check(SkippedPage) else str(failure.value) or SKIP_REASONS.get(reason, "")
    if failure.check(SkippedPage):
        return detail
    return f"skipped ({reason.replace('_', ' ')}): {url}: {detail}"


def tree_depth(root, limit: int = 100_000) -> int:
    """Depth of the deepest element, walking the tree without recursion."""
    from lxml import etree

    depth = deepest = 0
    for event, _element in etree.iterwalk(root, events=("start", "end")):
        depth += 1 if event == "start" else -1
        deepest = max(deepest, depth)
        if deepest >= limit:
            break
    return deepest


# libxml2 stops adding levels here (256 without XML_PARSE_HUGE, 2048 with it, which parsel sets).
LIBXML2_DEPTH_LIMITS = (256, 2048)


def tree_was_cut(selector) -> bool:
    """True when the parser reached its nesting limit, so anything deeper (or after it) is missing."""
    root = getattr(selector, "root", None)
    if root is None or not hasattr(root, "getroottree"):
        return False
    depth = tree_depth(root, limit=max(LIBXML2_DEPTH_LIMITS) + 1)
    return any(limit - 2 <= depth <= limit for limit in LIBXML2_DEPTH_LIMITS)

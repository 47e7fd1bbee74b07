"""Fetch one page in headless Chromium: its rendered HTML and a screenshot (height capped).

Used for tips (the page someone reported) and evidence packages (the page as
it is now). Always rendered, so JavaScript marketplaces work without a site
config; the Chromium is the one the crawler uses (crawler.browser).

The page is hostile: Chromium reaches the network only through review.netguard's
proxy (public addresses only, checked after DNS and pinned), downloads at most
MAX_NETWORK_BYTES, a DOM larger than MAX_HTML_CHARS is refused inside the browser
(the crawler's page guard), the whole capture has a deadline, and the screenshot
stops at MAX_SCREENSHOT_HEIGHT pixels.
"""
from __future__ import annotations

import hashlib
import os
import time
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from crawler.browser import launch_options
from crawler.pageguard import SIZE_GUARD_JS
from review.inert import inert_html
from review.netguard import AddressPolicy, BadURL, GuardProxy, RefusedAddress, check_public_url, parse_url

__all__ = ["BadURL", "CaptureError", "RefusedAddress", "check_public_url", "check_url", "capture_page"]

USER_AGENT = "wildwatch-review/0.1 (+wildlife-trade monitoring; analyst-requested capture)"
NAVIGATION_TIMEOUT_MS = 30_000
MAX_URL_CHARS = 4000
MAX_HTML_CHARS = 5_000_000          # rendered DOM; larger pages are refused in the browser
MAX_NETWORK_BYTES = 20_000_000      # everything the page downloads, all requests together
MAX_RESPONSE_BYTES = 8_000_000      # one plain-HTTP response (the page itself, one image)
MAX_SCREENSHOT_HEIGHT = 8000        # pixels; a 200,000 px page is cut here, not rendered whole
VIEWPORT = {"width": 1280, "height": 900}
# No UDP around the proxy (WebRTC ICE could otherwise probe internal addresses).
GUARD_ARGS = ["--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
              "--webrtc-ip-handling-policy=disable_non_proxied_udp", "--disable-quic"]
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class CaptureError(RuntimeError):
    """The page could not be fetched (unreachable, HTTP error, timeout, too large, refused address)."""


def check_url(url: str) -> str:
    """An absolute http(s) URL with a host, as a browser parses it (WHATWG); else BadURL naming the problem."""
    url = (url or "").strip() if isinstance(url, str) else ""
    if not url:
        raise BadURL("URL is empty")
    if len(url) > MAX_URL_CHARS:
        raise BadURL(f"URL is {len(url)} characters long, the limit is {MAX_URL_CHARS}")
    return parse_url(url).href  # the browser's reading, so every later urlsplit agrees with Chromium


def safe_name(text: str, limit: int = 80) -> str:
    """A file-name-safe version of marketplace names and listing ids (no slashes, dots-only or control chars)."""
    cleaned = _UNSAFE.sub("_", text or "").strip("._") or "x"
    return cleaned[:limit]


@dataclass(frozen=True)
class PageCapture:
    url: str
    final_url: str
    status: int | None
    html: str
    screenshot: bytes | None
    captured_at: datetime
    refused: tuple[tuple[str, str], ...] = ()  # requests the page tried that the proxy refused: (target, why)


def capture_page(url: str, *, policy: AddressPolicy | None = None, chromium: str | None = None,
                 wait_for: str | None = None, timeout_ms: int = NAVIGATION_TIMEOUT_MS, screenshot: bool = True,
                 max_html_chars: int = MAX_HTML_CHARS, max_network_bytes: int = MAX_NETWORK_BYTES,
                 max_response_bytes: int = MAX_RESPONSE_BYTES,
                 max_screenshot_height: int = MAX_SCREENSHOT_HEIGHT) -> PageCapture:
    """Load `url` in headless Chromium behind the address guard; CaptureError when the page cannot be had.

    `policy` says which non-public ranges may be reached (default: none). A URL
    whose host is not public raises RefusedAddress (a BadURL) before Chromium starts.
    `timeout_ms` bounds the whole capture (load, settle, selector, screenshot), not each step.
    """
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
    from playwright.sync_api import sync_playwright

    url = check_url(url)
    policy = policy or AddressPolicy()
    check_public_url(url, policy)
    options = launch_options(chromium)
    options["args"] = [*options.get("args", []), *GUARD_ARGS]
    proxy = GuardProxy(policy, max_bytes=max_network_bytes, max_response=max_response_bytes,
                       idle_timeout=timeout_ms / 1000)
    try:
        with proxy, sync_playwright() as playwright:
            browser = playwright.chromium.launch(**options, proxy={"server": proxy.server})
            try:
                context = browser.new_context(user_agent=USER_AGENT, viewport=VIEWPORT, accept_downloads=False,
                                              service_workers="block")
                page = context.new_page()
                deadline = time.monotonic() + timeout_ms / 1000

                def left_ms() -> float:
                    remaining = (deadline - time.monotonic()) * 1000
                    if remaining <= 0:
                        raise CaptureError(f"{url}: the capture took longer than {timeout_ms / 1000:.0f} s")
                    return remaining

                page.set_default_timeout(timeout_ms)
                documents: list = []
                page.on("response", lambda r: documents.append(r)
                        if r.request.is_navigation_request() and r.frame == page.main_frame else None)
                response = page.goto(url, wait_until="commit", timeout=timeout_ms)
                # Wait for "load" in slices: Chromium never fires it for a page the proxy cut off at its size
                # limit, so the cut is noticed here instead of at the deadline.
                while True:
                    _refuse_blocked_document(url, documents, proxy)
                    try:
                        page.wait_for_load_state("load", timeout=min(500, left_ms()))
                        break
                    except PlaywrightTimeoutError:
                        continue
                status = response.status if response is not None else None
                _refuse_blocked_document(url, documents, proxy)
                if status is not None and status >= 400:
                    raise CaptureError(f"{url}: the page answered HTTP {status}")
                try:
                    page.wait_for_load_state("networkidle", timeout=min(left_ms(), 5_000))
                except PlaywrightError:
                    pass  # a page that keeps polling still has its content by now
                if wait_for:
                    page.wait_for_selector(wait_for, timeout=left_ms())
                _refuse_blocked_document(url, documents, proxy)
                size = page.evaluate(SIZE_GUARD_JS, max_html_chars)
                if size > max_html_chars:
                    raise CaptureError(f"{url}: the rendered page has {size:,} characters, the limit is "
                                       f"{max_html_chars:,}")
                captured_at = datetime.now(timezone.utc)
                html = page.content()
                image = _screenshot(page, max_screenshot_height, left_ms()) if screenshot else None
                with proxy.log.lock:
                    refused = tuple(proxy.log.refused)
                return PageCapture(url=url, final_url=page.url, status=status, html=html, screenshot=image,
                                   captured_at=captured_at, refused=refused)
            finally:
                browser.close()
    except PlaywrightError as exc:
        if proxy.log.cut:  # the page failed because the proxy stopped a response at a size limit: say so
            raise CaptureError(f"{url}: too large: {proxy.log.cut[0][1]}") from exc
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CaptureError(f"{url}: could not load the page ({first_line})") from exc


def _refuse_blocked_document(url: str, documents: list, proxy: GuardProxy) -> None:
    """The page (or a redirect or script navigation) landed on an address the proxy refused: no capture."""
    last = documents[-1] if documents else None
    if last is not None and last.headers.get("x-wildwatch-refused"):
        reason = next((why for target, why in reversed(proxy.log.refused)), "refused address")
        raise CaptureError(f"{url}: refused to load {last.url}: {reason}")
    cut = {target: why for target, why in proxy.log.cut}
    for document in documents:  # a page sent without a length looks complete when cut: never keep half a page
        if document.url in cut:
            raise CaptureError(f"{url}: too large: {cut[document.url]}")


def _screenshot(page, max_height: int, timeout_ms: float) -> bytes:
    """A PNG of the page from the top, at most `max_height` pixels tall (a 200,000 px page is not rendered whole)."""
    height = page.evaluate("() => Math.max(document.documentElement ? document.documentElement.scrollHeight : 0, "
                           "document.body ? document.body.scrollHeight : 0)")
    height = max(1, min(int(height or 1), max_height))
    return page.screenshot(full_page=True, type="png", timeout=timeout_ms,
                           clip={"x": 0, "y": 0, "width": VIEWPORT["width"], "height": height})


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class SavedCapture:
    html_path: str  # relative to the data dir
    html_sha256: str
    screenshot_path: str | None
    screenshot_sha256: str | None


def _private(path: str, flags: int) -> int:
    """Captures are evidence about people: created owner-only (0600), whatever the umask."""
    return os.open(path, flags, 0o600)


def save_capture(capture: PageCapture, data_dir: Path, listing_id: int, source: str) -> SavedCapture:
    """Write the capture's files under data_dir/captures/<listing id>/ (never overwriting one)."""
    folder = Path(data_dir) / "captures" / str(int(listing_id))
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    stamp = capture.captured_at.strftime("%Y%m%dT%H%M%S%fZ")
    base = f"{stamp}-{safe_name(source)}"
    html_bytes = inert_html(capture.html).encode("utf-8")  # hashed as stored: the inert copy is the evidence
    html_file = folder / f"{base}.html"
    with open(html_file, "xb", opener=_private) as handle:
        handle.write(html_bytes)
    shot_rel = shot_sha = None
    if capture.screenshot is not None:
        shot_file = folder / f"{base}.png"
        with open(shot_file, "xb", opener=_private) as handle:
            handle.write(capture.screenshot)
        shot_rel, shot_sha = shot_file.relative_to(data_dir).as_posix(), sha256_bytes(capture.screenshot)
    return SavedCapture(html_path=html_file.relative_to(data_dir).as_posix(), html_sha256=sha256_bytes(html_bytes),
                        screenshot_path=shot_rel, screenshot_sha256=shot_sha)

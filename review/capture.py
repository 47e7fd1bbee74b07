"""Fetch one page in headless Chromium: its rendered HTML and a full-page screenshot.

Used for tips (the page someone reported) and evidence packages (the page as
it is now). Always rendered, so JavaScript marketplaces work without a site
config; the Chromium is the one the crawler uses (crawler.browser).
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

from crawler.browser import launch_options

USER_AGENT = "wildwatch-review/0.1 (+wildlife-trade monitoring; analyst-requested capture)"
NAVIGATION_TIMEOUT_MS = 30_000
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class CaptureError(RuntimeError):
    """The page could not be fetched (unreachable, HTTP error, timeout)."""


class BadURL(ValueError):
    """The URL is not one wildwatch will fetch."""


def check_url(url: str) -> str:
    """An absolute http(s) URL with a host, stripped; anything else raises BadURL naming the problem."""
    url = (url or "").strip()
    if not url:
        raise BadURL("URL is empty")
    if len(url) > 4000:
        raise BadURL(f"URL is {len(url)} characters long, the limit is 4000")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise BadURL(f"{url!r}: only http and https URLs can be fetched")
    if not parts.hostname:
        raise BadURL(f"{url!r}: no host name")
    return url


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


def capture_page(url: str, *, chromium: str | None = None, wait_for: str | None = None,
                 timeout_ms: int = NAVIGATION_TIMEOUT_MS, screenshot: bool = True) -> PageCapture:
    """Load `url` in headless Chromium; raise CaptureError when the page cannot be had."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    url = check_url(url)
    options = launch_options(chromium)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(**options)
            try:
                context = browser.new_context(user_agent=USER_AGENT, viewport={"width": 1280, "height": 900},
                                              accept_downloads=False, service_workers="block")
                page = context.new_page()
                page.set_default_timeout(timeout_ms)
                response = page.goto(url, wait_until="load", timeout=timeout_ms)
                status = response.status if response is not None else None
                if status is not None and status >= 400:
                    raise CaptureError(f"{url}: the page answered HTTP {status}")
                try:
                    page.wait_for_load_state("networkidle", timeout=min(timeout_ms, 5_000))
                except PlaywrightError:
                    pass  # a page that keeps polling still has its content by now
                if wait_for:
                    page.wait_for_selector(wait_for, timeout=timeout_ms)
                captured_at = datetime.now(timezone.utc)
                html = page.content()
                image = page.screenshot(full_page=True, type="png") if screenshot else None
                return PageCapture(url=url, final_url=page.url, status=status, html=html, screenshot=image,
                                   captured_at=captured_at)
            finally:
                browser.close()
    except PlaywrightError as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CaptureError(f"{url}: could not load the page ({first_line})") from exc


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class SavedCapture:
    html_path: str  # relative to the data dir
    html_sha256: str
    screenshot_path: str | None
    screenshot_sha256: str | None


def save_capture(capture: PageCapture, data_dir: Path, listing_id: int, source: str) -> SavedCapture:
    """Write the capture's files under data_dir/captures/<listing id>/ (never overwriting one)."""
    folder = Path(data_dir) / "captures" / str(int(listing_id))
    folder.mkdir(parents=True, exist_ok=True)
    stamp = capture.captured_at.strftime("%Y%m%dT%H%M%S%fZ")
    base = f"{stamp}-{safe_name(source)}"
    html_bytes = capture.html.encode("utf-8")
    html_file = folder / f"{base}.html"
    with open(html_file, "xb") as handle:
        handle.write(html_bytes)
    shot_rel = shot_sha = None
    if capture.screenshot is not None:
        shot_file = folder / f"{base}.png"
        with open(shot_file, "xb") as handle:
            handle.write(capture.screenshot)
        shot_rel, shot_sha = shot_file.relative_to(data_dir).as_posix(), sha256_bytes(capture.screenshot)
    return SavedCapture(html_path=html_file.relative_to(data_dir).as_posix(), html_sha256=sha256_bytes(html_bytes),
                        screenshot_path=shot_rel, screenshot_sha256=shot_sha)

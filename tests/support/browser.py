"""The Chromium the project would use, for tests that need one: `require_chromium()` skips the test with the
reason when there is none (the `chromium` fixture of conftest.py does the same), `launched_browser()` is a
Playwright browser on it, closed afterwards."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest


def require_chromium() -> str:
    """The Chromium binary (crawler.browser.resolve_chromium), or a skip naming why there is none."""
    from crawler.browser import BrowserNotFoundError, resolve_chromium

    try:
        return resolve_chromium()
    except BrowserNotFoundError as exc:
        pytest.skip(str(exc))
        raise  # unreachable: skip raises


@contextmanager
def launched_browser() -> Iterator:
    """A Playwright Chromium launched with the project's options (crawler.browser.launch_options)."""
    from playwright.sync_api import sync_playwright

    from crawler.browser import launch_options

    require_chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(**launch_options())
        try:
            yield browser
        finally:
            browser.close()

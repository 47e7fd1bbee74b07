"""Which Chromium Playwright should drive.

Users with network access run `playwright install chromium` and get Playwright's
own build; closed machines (and our CI) use the distribution's Chromium. We look
for Playwright's build first, then a system one, and fail with a message that
says how to get either.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from wildwatch.config import playwright_browsers_path
from wildwatch.errors import UserError

SYSTEM_CHROMIUM_CANDIDATES = (
    # The real binary avoids Debian's wrapper script and its /dev/shm message.
    "/usr/lib/chromium/chromium",
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/snap/bin/chromium",
    "/usr/bin/google-chrome",
)

# Flags that keep Chromium quiet on closed networks (no update, sync or telemetry calls).
CLOSED_NETWORK_ARGS = [
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


class BrowserNotFoundError(UserError, RuntimeError):
    """No Chromium that Playwright can drive was found."""


def playwright_browsers_dir() -> Path:
    configured = playwright_browsers_path()
    if configured and configured != "0":
        return Path(configured)
    return Path.home() / ".cache" / "ms-playwright"


def has_playwright_chromium() -> bool:
    """True when `playwright install chromium` has put a browser in its cache."""
    root = playwright_browsers_dir()
    patterns = ("chromium-*/chrome-linux*/chrome", "chromium_headless_shell-*/chrome-*/headless_shell",
                "chromium-*/chrome-mac*/**/Chromium", "chromium-*/chrome-win*/chrome.exe")
    return any(any(root.glob(pattern)) for pattern in patterns)


def resolve_chromium(configured: str | None = None) -> str | None:
    """The executable to launch, or None to let Playwright use its own build.

    `configured` (WILDWATCH_CHROMIUM) wins and must exist.
    """
    if configured:
        path = shutil.which(configured) or configured
        if not Path(path).is_file():
            raise BrowserNotFoundError(
                f"WILDWATCH_CHROMIUM={configured!r} does not exist; point it at a Chromium binary or unset it"
            )
        return path
    if has_playwright_chromium():
        return None
    for candidate in SYSTEM_CHROMIUM_CANDIDATES:
        if Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise BrowserNotFoundError(
        "No Chromium found for pages that need JavaScript: run `playwright install chromium`, "
        "or install the system package (Debian: `apt-get install chromium`), "
        "or set WILDWATCH_CHROMIUM to a Chromium binary"
    )


def launch_options(configured: str | None = None) -> dict:
    """PLAYWRIGHT_LAUNCH_OPTIONS for scrapy-playwright."""
    options: dict = {"headless": True, "args": list(CLOSED_NETWORK_ARGS)}
    executable = resolve_chromium(configured)
    if executable:
        options["executable_path"] = executable
    return options


_ABORTED_RESOURCE_TYPES = {"image", "font", "media"}


def should_abort_request(request) -> bool:
    """Skip images, fonts and media in rendered pages: they cost time and carry no listing text."""
    return request.resource_type in _ABORTED_RESOURCE_TYPES

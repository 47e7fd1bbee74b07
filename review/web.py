"""What the review app's pages share for reading requests and writing pages: ids, dates, scores and pages
read from a request (bad input is a StoreError, shown as a 400), safe links and redirect targets, and the
template filters and globals every page uses (`register`).
"""
from __future__ import annotations

import math
import tempfile
from collections.abc import Callable
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, render_template
from werkzeug.routing import BaseConverter, ValidationError

from review.protection import register as register_protection
from store.errors import StoreError
from store.models import DECISIONS
from store.decisions import DECISION_LABELS, QueueFilters

MAX_ID = 2**63 - 1   # the largest id either database stores; larger ones are simply not found
MAX_PAGE = 100_000
#: Keyboard keys for decisions; the listing page and review.js read them from data attributes.
DECISION_KEYS = {"confirmed": "c", "false_positive": "f", "needs_expert": "a", "escalated": "e"}


def safe_href(url: Any) -> str | None:
    """The URL when it is http(s), else None: a seller-controlled javascript: link must never become a link."""
    if not isinstance(url, str):
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    return url.strip() if parts.scheme in ("http", "https") and parts.netloc else None


def local_path(target: str | None) -> str | None:
    """A same-site path to follow after login or a bulk action, else None (no open redirect).

    Browsers drop tabs and newlines inside URLs and read a backslash as a slash, so
    `/\t/evil.example` and `/\\evil.example` would leave the site: any control character,
    whitespace or backslash refuses the target, as does anything urlsplit sees a host in.
    """
    if not isinstance(target, str) or not target.startswith("/") or target.startswith("//") or len(target) > 2000:
        return None
    if any(ch == "\\" or ch.isspace() or not ch.isprintable() for ch in target):
        return None
    try:
        parts = urlsplit(target)
    except ValueError:
        return None
    return target if not parts.scheme and not parts.netloc else None


def parse_id(value: Any) -> int | None:
    """An id typed as ASCII digits within the databases' range, else None (never int('²'), never an overflow)."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 19:
        number = int(value)
        return number if 0 < number <= MAX_ID else None
    return None


class IdConverter(BaseConverter):
    """`<id:listing_id>`: ASCII digits within MAX_ID, so /listing/9223372036854775808 is a 404, not a 500."""

    regex = r"[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = parse_id(value)
        if number is None:
            raise ValidationError()
        return number

    def to_url(self, value: Any) -> str:
        return str(int(value))


def parse_date(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        if not value.isascii():
            raise ValueError
        when = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=timezone.utc)
    except ValueError:
        raise StoreError(f"{name}: {value[:40]!r} is not a date (YYYY-MM-DD)") from None
    if not 1990 <= when.year <= 2999:
        raise StoreError(f"{name}: {value!r} is outside the years 1990-2999")
    return when


def parse_score(value: str | None, name: str) -> float | None:
    if value in (None, ""):
        return None
    try:
        number = float(value) if value.isascii() else float("nan")
    except ValueError:
        number = float("nan")
    if not 0.0 <= number <= 1.0:  # also refuses nan, inf and non-ASCII digits
        raise StoreError(f"{name}: {value[:40]!r} is not a number between 0 and 1")
    return number


def parse_page(value: str | None) -> int:
    """The page number, 1 when missing or not ASCII digits, at most MAX_PAGE (an OFFSET the database takes)."""
    if value and value.isascii() and value.isdigit():
        return max(1, min(int(value[:7]), MAX_PAGE))
    return 1


def format_score(value: float) -> str:
    """A score with two decimals, and near 1 as many as it takes to tell it from its neighbours.

    A confident model puts many listings above 0.995: "1.00" for all of them would hide the
    queue's order, so from 0.99 on the distance to 1 is shown to three significant digits
    (0.999724, 0.99813; at most six decimals).  Two digits (0.9981) tied a third of the demo
    night's top 100 once the model grew surer (2026-12-07).
    """
    value = float(value)
    if value < 0.99:
        return f"{value:.2f}"
    decimals = min(6, max(2, math.ceil(-math.log10(max(1.0 - value, 1e-6))) + 2))
    return f"{min(value, 0.999999):.{decimals}f}"


def format_when(value: datetime | None) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC") if value else ""


def filters_from_args(args: Any) -> QueueFilters:
    seen_to = parse_date(args.get("seen_to"), "seen to")
    return QueueFilters(
        marketplace=args.get("marketplace") or None,
        species=args.get("species") or None,
        status=args.get("status") or None,
        source=args.get("source") or None,
        seen_from=parse_date(args.get("seen_from"), "seen from"),
        seen_to=seen_to + timedelta(days=1) if seen_to else None,  # the end day is included
        min_score=parse_score(args.get("min_score"), "min score"),
        max_score=parse_score(args.get("max_score"), "max score"),
        order=args.get("order") or "score",
        protection=args.get("protection") or None,
    )


def register(app: Flask) -> None:
    """The `<id:...>` URL converter and the template filters and globals of every page."""
    app.url_map.converters["id"] = IdConverter
    app.jinja_env.filters.update(safe_href=safe_href, score=format_score, when=format_when)
    register_protection(app)
    app.jinja_env.globals.update(DECISION_LABELS=DECISION_LABELS, DECISION_KEYS=DECISION_KEYS, DECISIONS=DECISIONS)


def evidence_download(captures, actor: str, what: str, name: str, build: Callable[[Path], Path], *,
                      wait_seconds: float, busy_message: str) -> Any:
    """An evidence package as a zip download, made in the capture queue (its limits apply: a fresh capture
    fetches the seller's page) while this request waits up to `wait_seconds`; 503 with `busy_message` after.
    `build(out_dir)` writes the package under a temporary folder and returns its directory."""
    from review.evidence import zip_package

    def make() -> bytes:
        with tempfile.TemporaryDirectory(prefix="wildwatch-evidence-") as tmp:
            return zip_package(build(Path(tmp) / name))

    job = captures.submit(actor, what, make)
    try:
        data = job.future.result(timeout=wait_seconds)
    except FutureTimeout:
        return render_template("error.html", message=busy_message), 503, {"Retry-After": "60"}
    return Response(data, mimetype="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{name}.zip"'})

"""The review web app: queue, listing page, decisions, tips and evidence downloads (Flask, server-rendered).

Security model: every page needs a login (pages redirect to /login, anything
else gets 401); every POST carries a CSRF token (Flask-WTF); the session cookie
is HttpOnly and SameSite=Lax (and Secure when WILDWATCH_REVIEW_SECURE_COOKIES=1,
for deployments behind HTTPS); listing text is hostile, so templates escape
everything, links are only emitted for http(s) URLs, and a strict
Content-Security-Policy forbids inline script, so even a missed escape cannot run.
"""
from __future__ import annotations

import logging
import os
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import astuple
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import Flask, Response, abort, flash, g, redirect, render_template, request, session, url_for
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy import select
from sqlalchemy.orm import Session

from review import auth
from review.cache import MENU_CACHE_SECONDS, QUEUE_CACHE_SECONDS, QueueCache
from review.capture import BadURL
from review.highlight import segments
from store.db import make_engine, require_current_schema, session_scope
from store.errors import StoreError
from store.retry import run_in_transaction
from store.models import DECISIONS, Listing, Tip, User
from store.review import (
    DECISION_LABELS,
    STATUSES,
    PermissionDenied,
    QueueFilters,
    decide,
    get_user,
    listing_detail,
    queue_count,
    queue_options,
    queue_page,
    queue_rows,
    review_counts,
)
from wildwatch.config import Settings

log = logging.getLogger(__name__)

SECRET_FILE = "review-secret.key"
PER_PAGE = 50
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
#: Keyboard keys for decisions; the listing page and review.js read them from data attributes.
DECISION_KEYS = {"confirmed": "c", "false_positive": "f", "needs_expert": "a", "escalated": "e"}


def _secret_key(settings: Settings) -> str:
    """WILDWATCH_SECRET_KEY, else a random key kept (mode 0600) in the data dir so logins survive restarts."""
    configured = os.environ.get("WILDWATCH_SECRET_KEY")
    if configured:
        if len(configured) < 32:
            raise StoreError("WILDWATCH_SECRET_KEY must be at least 32 characters")
        return configured
    path = settings.data_dir / SECRET_FILE
    if path.is_file():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key + "\n")
    return key


def safe_href(url: Any) -> str | None:
    """The URL when it is http(s), else None: a seller-controlled javascript: link must never become a link."""
    if not isinstance(url, str):
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    return url.strip() if parts.scheme in ("http", "https") and parts.netloc else None


def _local_path(target: str | None) -> str | None:
    """Only same-site paths are followed after login (no open redirect to //evil.example)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


def _parse_date(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=timezone.utc)
    except ValueError:
        raise StoreError(f"{name}: {value!r} is not a date (YYYY-MM-DD)") from None


def _parse_score(value: str | None, name: str) -> float | None:
    if value in (None, ""):
        return None
    try:
        return float(value)
    except ValueError:
        raise StoreError(f"{name}: {value!r} is not a number") from None


def filters_from_args(args: Any) -> QueueFilters:
    seen_to = _parse_date(args.get("seen_to"), "seen to")
    return QueueFilters(
        marketplace=args.get("marketplace") or None,
        species=args.get("species") or None,
        status=args.get("status") or None,
        source=args.get("source") or None,
        seen_from=_parse_date(args.get("seen_from"), "seen from"),
        seen_to=seen_to + timedelta(days=1) if seen_to else None,  # the end day is included
        min_score=_parse_score(args.get("min_score"), "min score"),
        max_score=_parse_score(args.get("max_score"), "max score"),
        order=args.get("order") or "score",
    )


def create_app(settings: Settings | None = None, *, testing: bool = False) -> Flask:
    """The review app for the database and data dir in `settings` (default: from the environment)."""
    settings = settings or Settings.from_env()
    engine = make_engine(settings.database_url)
    require_current_schema(engine)
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=_secret_key(settings),
        SESSION_COOKIE_NAME="wildwatch_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=os.environ.get("WILDWATCH_REVIEW_SECURE_COOKIES") == "1",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        WTF_CSRF_TIME_LIMIT=None,  # tied to the session instead: a page left open over lunch still works
        MAX_CONTENT_LENGTH=1_000_000,
        TESTING=testing,
    )
    app.extensions["wildwatch_settings"] = settings
    app.extensions["wildwatch_engine"] = engine
    # Menus change only when listings are scored; counts also when someone decides (only those are cleared then).
    menus = app.extensions["wildwatch_menu_cache"] = QueueCache(ttl=MENU_CACHE_SECONDS)
    counts_cache = app.extensions["wildwatch_count_cache"] = QueueCache(ttl=QUEUE_CACHE_SECONDS)

    def decided() -> None:
        counts_cache.clear(lambda key: key[1] is not None)  # totals filtered by status (key: "total", status, ...)

    def tipped() -> None:
        menus.clear()
        counts_cache.clear()
    app.jinja_env.filters["safe_href"] = safe_href
    app.jinja_env.globals.update(DECISION_LABELS=DECISION_LABELS, DECISION_KEYS=DECISION_KEYS, DECISIONS=DECISIONS)

    @contextmanager
    def db() -> Iterator[Session]:
        with session_scope(engine) as s:
            yield s

    @app.template_filter("when")
    def _when(value: datetime | None) -> str:
        return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC") if value else ""

    @app.before_request
    def _load_user() -> Any:
        g.user = None
        user_id = session.get("user_id")
        if user_id is not None:
            with db() as s:
                user = s.get(User, user_id)
                if user is not None and user.active and user.name == session.get("user"):
                    g.user = user
                else:
                    session.clear()
        if g.user is None and request.endpoint not in ("login", "static"):
            wants_page = request.method == "GET" and request.accept_mimetypes.accept_html
            if wants_page:
                return redirect(url_for("login", next=request.full_path.rstrip("?")))
            return Response("authentication required\n", status=401, mimetype="text/plain",
                            headers={"WWW-Authenticate": 'FormBased realm="wildwatch review"'})
        return None

    # After the login check, so an anonymous POST gets 401 rather than a CSRF complaint.
    CSRFProtect(app)

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError) -> tuple[str, int]:
        log.warning("refused %s %s: %s", request.method, request.path, error.description)
        return render_template("error.html", message=f"Refused: {error.description} Reload the page and try again."), 400

    @app.errorhandler(PermissionDenied)
    def _forbidden(error: PermissionDenied) -> tuple[str, int]:
        return render_template("error.html", message=str(error)), 403

    @app.errorhandler(StoreError)
    def _bad_input(error: StoreError) -> tuple[str, int]:
        return render_template("error.html", message=str(error)), 400

    @app.errorhandler(404)
    def _not_found(_error: Any) -> tuple[str, int]:
        return render_template("error.html", message="Not found."), 404

    # ---- login -----------------------------------------------------------------------------------

    @app.route("/login", methods=["GET", "POST"])
    def login() -> Any:
        target = _local_path(request.values.get("next")) or url_for("queue")
        if request.method == "POST":
            name = (request.form.get("name") or "").strip()
            password = request.form.get("password") or ""
            with db() as s:
                user = get_user(s, name) if name else None
                ok = auth.verify_password(user.password_hash if user else None, password)
                if ok and user.active:
                    if auth.needs_rehash(user.password_hash):
                        user.password_hash = auth.hash_password(password)
                    session.clear()  # no session fixation: a fresh session (and CSRF token) per login
                    session.permanent = True
                    session["user_id"], session["user"] = user.id, user.name
                    log.info("login %s", user.name)
                    return redirect(target)
            log.warning("failed login for %r from %s", name[:100], request.remote_addr)
            flash("Wrong name or password.", "error")
            return render_template("login.html", next=target, name=name), 401
        return render_template("login.html", next=target, name="")

    @app.post("/logout")
    def logout() -> Any:
        session.clear()
        return redirect(url_for("login"))

    # ---- queue -----------------------------------------------------------------------------------

    @app.get("/")
    def queue() -> Any:
        filters = filters_from_args(request.args)
        try:
            page = max(1, int(request.args.get("page", "1")))
        except ValueError:
            page = 1
        with db() as s:
            def total(f: QueueFilters) -> int:
                return counts_cache.get(("total", f.status, astuple(f)), lambda: queue_count(s, f))

            result = queue_page(s, filters, page=page, per_page=PER_PAGE, total=total(filters))
            options = menus.get("options", lambda: queue_options(s))
            counts = review_counts(s, total)
        args = {k: v for k, v in request.args.items() if v and k != "page"}
        return render_template(
            "queue.html", page=result, filters=filters, options=options, counts=counts, args=args,
            statuses=STATUSES, query=urlencode(args),
            page_url=lambda n: url_for("queue", **{**args, "page": n}),
            order_url=lambda order: url_for("queue", **{**args, "order": order}),
        )

    @app.post("/decisions/bulk")
    def bulk_decision() -> Any:
        decision = request.form.get("decision", "")
        if decision not in DECISIONS:
            raise StoreError(f"unknown decision {decision!r}")
        ids = [int(v) for v in request.form.getlist("listing_id") if v.isdigit()]
        if not ids:
            flash("Select listings first (tick them, or press x on a row).", "error")
            return redirect(_local_path(request.form.get("back")) or url_for("queue"))
        note = request.form.get("note") or None
        done, refused = 0, []
        for listing_id in ids:
            try:  # a deadlock or dropped connection is retried: a decision is never lost to a busy store
                run_in_transaction(engine, lambda s, listing_id=listing_id: decide(
                    s, listing_id, s.get(User, g.user.id), decision, note), what=f"deciding listing {listing_id}")
                done += 1
            except PermissionDenied as exc:
                refused.append(str(exc))
        decided()
        flash(f"{DECISION_LABELS[decision]}: {done} listing(s) recorded.", "ok")
        for message in refused:
            flash(message, "error")
        return redirect(_local_path(request.form.get("back")) or url_for("queue"))

    # ---- one listing ------------------------------------------------------------------------------

    @app.get("/listing/<int:listing_id>")
    def listing(listing_id: int) -> Any:
        with db() as s:
            detail = listing_detail(s, listing_id)
            if detail is None:
                abort(404)
            evidence = detail.score.evidence if detail.score else []
            title, title_missing = segments(detail.listing.title, evidence, "title")
            description, description_missing = segments(detail.listing.description, evidence, "description")
            next_row = queue_rows(s, QueueFilters(status="undecided"), limit=2)
            next_id = next((r.id for r in next_row if r.id != listing_id), None)
            return render_template(
                "listing.html", d=detail, title_segments=title, description_segments=description,
                unlocated=[*title_missing, *[m for m in description_missing if m not in title_missing]],
                next_id=next_id, can_package=bool(detail.decision and detail.decision.decision in ("confirmed", "escalated")),
            )

    @app.post("/listing/<int:listing_id>/decision")
    def record_decision(listing_id: int) -> Any:
        decision = request.form.get("decision", "")

        def record(s: Session) -> None:
            if s.get(Listing, listing_id) is None:
                abort(404)
            decide(s, listing_id, s.get(User, g.user.id), decision, request.form.get("note"))

        run_in_transaction(engine, record, what=f"deciding listing {listing_id}")
        decided()
        flash(f"Recorded: {DECISION_LABELS.get(decision, decision)}.", "ok")
        return redirect(url_for("listing", listing_id=listing_id) + "#history")

    @app.post("/listing/<int:listing_id>/evidence")
    def evidence_package(listing_id: int) -> Any:
        from review.evidence import build_package, package_name, zip_package

        with db() as s:
            detail = listing_detail(s, listing_id, seller_limit=0)
            if detail is None:
                abort(404)
            name = package_name(detail.marketplace, detail.listing.external_id)
        with tempfile.TemporaryDirectory(prefix="wildwatch-evidence-") as tmp:
            package = build_package(engine, listing_id, Path(tmp) / name, settings, actor=g.user.name,
                                    capture=request.form.get("capture", "1") == "1")
            data = zip_package(package)
        return Response(data, mimetype="application/zip",
                        headers={"Content-Disposition": f'attachment; filename="{name}.zip"'})

    # ---- dashboard -------------------------------------------------------------------------------

    @app.get("/dashboard")
    def dashboard() -> Any:
        from review.dashboard import dashboard_sections, load_dashboard

        board = load_dashboard(engine)
        return render_template("dashboard.html", totals=board.totals(), sections=dashboard_sections(board),
                               generated_at=board.generated_at)

    # ---- tips ------------------------------------------------------------------------------------

    @app.route("/tips", methods=["GET", "POST"])
    def tips() -> Any:
        from review.tips import submit_tip

        if request.method == "POST":
            url = request.form.get("url", "")
            try:
                outcome = submit_tip(engine, url, g.user.name, settings, note=request.form.get("note"))
                tipped()
            except BadURL as exc:
                flash(str(exc), "error")
                return render_template("tips.html", tips=_recent_tips(), url=url), 400
            if outcome.ok:
                flash(f"Tip stored and queued: score {outcome.score:.2f}"
                      f"{' (flagged)' if outcome.flagged else ' (below threshold, queued as a tip)'}.", "ok")
                return redirect(url_for("listing", listing_id=outcome.listing_id))
            flash(f"Tip recorded but not fetched: {outcome.error}", "error")
            return redirect(url_for("tips"))
        return render_template("tips.html", tips=_recent_tips(), url="")

    def _recent_tips() -> list[Any]:
        with db() as s:
            return list(s.scalars(select(Tip).order_by(Tip.submitted_at.desc()).limit(50)))

    return app

"""The review app's security around every page: the login check, CSRF protection, the response headers
(a strict Content-Security-Policy among them) and the error pages.

Every page needs a login (pages redirect to /login, anything else gets 401); every POST carries a
CSRF token (Flask-WTF); listing text is hostile, so templates escape everything and the CSP forbids
inline script, so even a missed escape cannot run. A session ends when its user logs out anywhere,
changes password or is deactivated, and at the latest WILDWATCH_SESSION_MAX_AGE after its login.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any

from flask import Flask, Response, current_app, g, redirect, render_template, request, session, url_for
from flask_wtf.csrf import CSRFError, CSRFProtect

from review.jobs import QueueFull
from review.state import db
from store.errors import StoreError
from store.models import User
from store.decisions import PermissionDenied

log = logging.getLogger(__name__)

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
#: Endpoints open without a login.
OPEN_ENDPOINTS = ("auth.login", "static")


def now() -> float:
    return datetime.now(timezone.utc).timestamp()


def load_user() -> Any:
    """g.user from the session cookie, checked against the users table; no user: a redirect to the login or 401."""
    g.user = None
    user_id = session.get("user_id")
    if user_id is not None:
        started = session.get("started", 0)
        max_age = current_app.config["WILDWATCH_SESSION_MAX_AGE"].total_seconds()
        fresh = isinstance(started, (int, float)) and 0 <= now() - started < max_age
        with db() as s:
            user = s.get(User, user_id) if fresh and isinstance(user_id, int) else None
            if (user is not None and user.active and user.name == session.get("user")
                    and session.get("version") == user.session_version):
                g.user = user
            else:  # logged out elsewhere, password changed, deactivated, or older than the session's max age
                session.clear()
    if g.user is None and request.endpoint not in OPEN_ENDPOINTS:
        wants_page = request.method == "GET" and request.accept_mimetypes.accept_html
        if wants_page:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return Response("authentication required\n", status=401, mimetype="text/plain",
                        headers={"WWW-Authenticate": 'FormBased realm="wildwatch review"'})
    return None


def headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def _error_page(message: str, status: int, extra: dict[str, str] | None = None) -> Any:
    return render_template("error.html", message=message), status, extra or {}


def csrf_error(error: CSRFError) -> Any:
    log.warning("refused %s %s: %s", request.method, request.path, error.description)
    return _error_page(f"Refused: {error.description} Reload the page and try again.", 400)


def register(app: Flask) -> None:
    """The login check, then CSRF (so an anonymous POST gets 401 rather than a CSRF complaint), headers, errors."""
    app.before_request(load_user)
    CSRFProtect(app)
    app.after_request(headers)
    app.register_error_handler(CSRFError, csrf_error)
    app.register_error_handler(PermissionDenied, lambda error: _error_page(str(error), 403))
    app.register_error_handler(StoreError, lambda error: _error_page(str(error), 400))
    app.register_error_handler(QueueFull, lambda error: _error_page(f"Not now: {error}", 429, {"Retry-After": "30"}))
    app.register_error_handler(404, lambda _error: _error_page("Not found.", 404))

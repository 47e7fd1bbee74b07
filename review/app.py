"""The review web app: queue, listing page, decisions, tips and evidence downloads (Flask, server-rendered).

`create_app(settings)` wires the pieces: the configuration (session cookie, CSRF, limits), the shared
state in the app's extensions (review.state), template filters (review.web), the security around every
page (review.security: login check, CSRF, headers, error pages) and one blueprint per area:

- review.login_pages (auth): /login, /logout
- review.queue_pages (queue): /, /decisions/bulk
- review.listing_pages (listing): /listing/<id>, its decision and evidence package
- review.tip_pages (tips): /tips
- review.dashboard_pages (dashboard): /dashboard
- review.sellers (sellers): /sellers, seller networks and their decisions and evidence
- review.pictures (pictures): /picture/<sha256>, stored listing pictures

The session cookie is HttpOnly and SameSite=Lax (and Secure when WILDWATCH_REVIEW_SECURE_COOKIES=1,
for deployments behind HTTPS).
"""
from __future__ import annotations

import os
import secrets
from datetime import timedelta

from flask import Flask

from review import dashboard_pages, listing_pages, login_pages, pictures, queue_pages, security, sellers, tip_pages
from review import web
from review.settings import ReviewSettings
from review.state import install
from review.web import local_path as _local_path  # noqa: F401 - the name tests and older callers import
from review.web import safe_href  # noqa: F401 - re-exported: tests and templates' callers use review.app.safe_href
from store.db import make_engine, require_current_schema
from store.errors import StoreError

SECRET_FILE = "review-secret.key"
#: A session ends this long after its login, however active (the cookie's own expiry slides).
SESSION_MAX_AGE = timedelta(hours=12)
BLUEPRINTS = (login_pages, queue_pages, listing_pages, tip_pages, dashboard_pages, sellers, pictures)


def _secret_key(settings: ReviewSettings) -> str:
    """WILDWATCH_SECRET_KEY, else a random key kept (mode 0600) in the data dir so logins survive restarts."""
    configured = settings.secret_key
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


def create_app(settings: ReviewSettings, *, testing: bool = False) -> Flask:
    """The review app for the database and data dir in `settings` (the caller decides them: the CLI from
    the environment, tests and the bench their own)."""
    engine = make_engine(settings.database_url)
    require_current_schema(engine)
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=_secret_key(settings),
        SESSION_COOKIE_NAME="wildwatch_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        PERMANENT_SESSION_LIFETIME=SESSION_MAX_AGE,
        WTF_CSRF_TIME_LIMIT=None,  # tied to the session instead: a page left open over lunch still works
        MAX_CONTENT_LENGTH=1_000_000,
        WILDWATCH_SESSION_MAX_AGE=SESSION_MAX_AGE,
        TESTING=testing,
    )
    install(app, settings, engine)
    web.register(app)
    security.register(app)
    for module in BLUEPRINTS:
        app.register_blueprint(module.blueprint)
    return app

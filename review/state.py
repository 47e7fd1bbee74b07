"""What the review app's pages share, kept in the app's extensions: the settings, the database, the capture
queue and the queue-page caches. A page reaches them through `state()` and `db()`, never through globals,
so two apps (tests, a second database) never mix.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import Flask, current_app
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from review.cache import MENU_CACHE_SECONDS, QUEUE_CACHE_SECONDS, QueueCache
from review.jobs import CaptureQueue
from review.settings import ReviewSettings
from review.throttle import LoginThrottle
from store.db import transaction

EXTENSION = "wildwatch"
#: The dashboard is recomputed when a score or decision is added; this only bounds how long memory is held.
DASHBOARD_CACHE_SECONDS = 3600.0


@dataclass
class ReviewState:
    settings: ReviewSettings
    engine: Engine
    sessions: sessionmaker
    captures: CaptureQueue
    # Menus change only when listings are scored; counts also when someone decides (only those are cleared then).
    menus: QueueCache
    counts: QueueCache
    # The dashboard's flagged history and its page, keyed by the newest score and decision (review.dashboard_pages).
    dashboard: QueueCache

    def decided(self) -> None:
        """A decision was recorded: forget the totals that depend on decisions."""
        self.counts.clear(lambda key: key[1] is not None)  # totals filtered by status (key: "total", status, ...)

    def tipped(self) -> None:
        """A tip stored a listing: the menus and every total may have changed."""
        self.menus.clear()
        self.counts.clear()


def install(app: Flask, settings: ReviewSettings, engine: Engine) -> ReviewState:
    """Put the app's shared state in its extensions.

    The engine, settings and login throttle are also kept under their own keys, which the
    bench and tests read (and a test swaps the throttle there: `login_throttle()` looks it up each time).
    """
    state = app.extensions[EXTENSION] = ReviewState(
        settings=settings, engine=engine, sessions=sessionmaker(bind=engine, expire_on_commit=False),
        captures=CaptureQueue(), menus=QueueCache(ttl=MENU_CACHE_SECONDS), counts=QueueCache(ttl=QUEUE_CACHE_SECONDS),
        dashboard=QueueCache(ttl=DASHBOARD_CACHE_SECONDS, maxsize=4))
    app.extensions["wildwatch_settings"] = settings
    app.extensions["wildwatch_engine"] = engine
    app.extensions["wildwatch_login_throttle"] = LoginThrottle()
    return state


def state() -> ReviewState:
    return current_app.extensions[EXTENSION]


def login_throttle() -> LoginThrottle:
    return current_app.extensions["wildwatch_login_throttle"]


@contextmanager
def db() -> Iterator[Session]:
    """A Session of the app's database that commits when the block succeeds and rolls back when it raises."""
    with transaction(state().sessions) as session:
        yield session

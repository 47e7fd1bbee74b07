"""Retrying a unit of database work when the failure is transient.

Many crawl workers, the review app and the nightly job write to one database
at once. PostgreSQL may then abort a transaction (serialisation failure,
deadlock), a server restart or pg_terminate_backend may drop a connection, and
SQLite answers "database is locked" once its busy timeout runs out. Each of
these is cured by running the whole transaction again on a fresh connection;
anything else (a constraint violation, a bug) is raised at once. Repository
functions never commit, so the unit retried here is the whole transaction.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)

from store.db import describe_error, redact, session_scope
from store.errors import StoreError

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Defaults: five attempts, waits of about 0.5, 1, 2 and 4 s between them (plus jitter).
ATTEMPTS = 5
FIRST_WAIT = 0.5
MAX_WAIT = 8.0

# SQLSTATEs worth a new attempt: the transaction was aborted to resolve a conflict,
# or the server went away (class 08 connection exceptions, 57P0x shutdowns).
_RETRY_SQLSTATES = {
    "40001",  # serialization_failure
    "40P01",  # deadlock_detected
    "55P03",  # lock_not_available
    "57P01",  # admin_shutdown (pg_terminate_backend, server stopping)
    "57P02",  # crash_shutdown
    "57P03",  # cannot_connect_now (server starting up)
    "53300",  # too_many_connections
}


def is_transient(exc: BaseException) -> bool:
    """True when running the same transaction again may succeed."""
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate:
        return sqlstate in _RETRY_SQLSTATES or sqlstate.startswith("08")
    sqlite_name = getattr(orig, "sqlite_errorname", None)
    if sqlite_name is not None:
        return sqlite_name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED"))
    # psycopg reports a refused or lost connection as OperationalError without a SQLSTATE.
    module = type(orig).__module__ or ""
    return module.startswith("psycopg") and type(orig).__name__ == "OperationalError"


def run_in_transaction(
    engine: Engine,
    work: Callable[[Session], T],
    *,
    what: str,
    attempts: int = ATTEMPTS,
    first_wait: float = FIRST_WAIT,
    max_wait: float = MAX_WAIT,
    on_retry: Callable[[int, BaseException], None] | None = None,
) -> T:
    """Run `work(session)` in one transaction (store.db.session_scope), again on transient failures.

    Each attempt gets a new session, so nothing of a failed attempt is kept;
    waits grow exponentially with jitter so colliding writers spread out.
    After the last attempt a StoreError names `what`, the number of attempts
    and the database error in one line. Errors that are not transient are
    raised unchanged on the first attempt. `on_retry(attempt, error)` is
    called before each wait (to count retries in crawl stats, say).
    """
    if attempts < 1:
        raise ValueError(f"attempts must be at least 1, got {attempts}")

    def warn(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        log.warning("%s failed (attempt %d of %d), retrying in %.1f s: %s", what, state.attempt_number, attempts,
                    state.upcoming_sleep, describe_error(exc) if exc else "?")
        if on_retry is not None and exc is not None:
            on_retry(state.attempt_number, exc)

    def attempt() -> T:
        with session_scope(engine) as session:
            return work(session)

    retrying = Retrying(
        stop=stop_after_attempt(attempts),
        wait=wait_exponential(multiplier=first_wait, max=max_wait) + wait_random(0, first_wait),
        retry=retry_if_exception(is_transient),
        before_sleep=warn,
        reraise=True,
    )
    try:
        return retrying(attempt)
    except DBAPIError as exc:
        if not is_transient(exc):
            raise
        raise StoreError(f"{what} failed after {attempts} attempts on {redact(engine.url)}: "
                         f"{describe_error(exc)}") from exc

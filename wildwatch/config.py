"""Runtime configuration, read once from the environment, and where wildwatch writes (its home).

Every path and knob a user may change lives here, so the CLI, the crawler and
the tests agree on where things are. Secrets (database passwords) only ever come
from the environment and are never logged.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

# The read-only data that ships with wildwatch (lexicon, taxa, labelled data, demo catalogue, site configs):
# package data, located by wildwatch.resources; named here too for the callers that import them from config.
# DATA_DIR is that shipped data (the checkout's data/); what wildwatch writes goes to Settings.data_dir.
from wildwatch.resources import (CODE_ROOT, DATA_DIR, DEMO_CATALOG, LABELLED_CSV, LABELLED_DIR,  # noqa: F401
                                 LEXICON_DIR, SITES_DIR, TAXA_DIR, source_checkout)

# The folder holding the packages: the checkout, or site-packages for an installed wheel (never written to).
PROJECT_ROOT = CODE_ROOT


def home_from_env() -> Path:
    """Where wildwatch writes: ``data/`` (database, exports, spool, crawl state, logs, keys) and ``models/``.

    WILDWATCH_HOME when set; else the source checkout the code runs from, so `make run` in the repository
    keeps writing data/wildwatch.db and models/ there; else (an installed wheel) the current directory.
    WILDWATCH_DATA_DIR and WILDWATCH_MODELS_DIR still move those two folders on their own.
    """
    value = os.environ.get("WILDWATCH_HOME")
    if value:
        home = Path(value).expanduser().resolve()
        if home.exists() and not home.is_dir():
            raise ValueError(f"WILDWATCH_HOME={value!r} is not a folder")
        return home
    return source_checkout() or Path.cwd().resolve()


def data_dir_from_env() -> Path:
    """The folder wildwatch writes its data to: WILDWATCH_DATA_DIR, else <home>/data."""
    return _env_path("WILDWATCH_DATA_DIR", home_from_env() / "data")


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default


def _env_float(name: str) -> float | None:
    value = os.environ.get(name)
    if value in (None, ""):
        return None
    try:
        number = float(value)
    except ValueError as exc:
        raise ValueError(f"{name}={value!r} is not a number") from exc
    if not 0.0 <= number <= 1.0:
        raise ValueError(f"{name}={value!r} must lie between 0 and 1")
    return number


def _env_seconds(name: str, default: float) -> float:
    """A number of seconds between 0.1 and a day (worker timing), or `default` when unset."""
    value = os.environ.get(name)
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        raise ValueError(f"{name}={value!r} is not a number of seconds") from None
    if not 0.1 <= seconds <= 86_400:
        raise ValueError(f"{name}={value!r} must lie between 0.1 and 86400 seconds")
    return seconds


def playwright_browsers_path() -> str | None:
    """Playwright's own PLAYWRIGHT_BROWSERS_PATH (where `playwright install` puts browsers), if set."""
    return os.environ.get("PLAYWRIGHT_BROWSERS_PATH") or None


def zyte_benchmark_path() -> Path | None:
    """WILDWATCH_ZYTE_BENCH: a checkout of Zyte's product-extraction benchmark for `wildwatch bench`."""
    value = os.environ.get("WILDWATCH_ZYTE_BENCH")
    return Path(value).expanduser() if value else None


def configured_database_url() -> str | None:
    """WILDWATCH_DATABASE_URL as set, without Settings' SQLite default (Alembic's own command needs one given)."""
    return os.environ.get("WILDWATCH_DATABASE_URL") or None


def state_dir_from_env() -> Path:
    """Per-site crawl state (resume journals, HTTP cache): WILDWATCH_STATE_DIR, else <data dir>/crawl_state."""
    return _env_path("WILDWATCH_STATE_DIR", data_dir_from_env() / "crawl_state")


def images_from_env() -> bool:
    """WILDWATCH_IMAGES: listing images are fetched unless it is 0, false, no or off."""
    value = os.environ.get("WILDWATCH_IMAGES", "").strip().lower()
    if value in ("", "1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"WILDWATCH_IMAGES={value!r} must be 1 or 0 (true/false, yes/no, on/off)")


@dataclass(frozen=True)
class Settings:
    """Where wildwatch reads and writes; see the README's configuration table."""

    database_url: str
    models_dir: Path
    threshold: float | None
    export_dir: Path
    sites_dir: Path
    state_dir: Path
    chromium_path: str | None
    # What wildwatch writes (database, exports, spool, logs...): <home>/data, see home_from_env.
    data_dir: Path
    # Redis for distributed crawls (`wildwatch crawl SITE --workers URL` overrides it); None: one process.
    redis_url: str | None = None
    # Non-public address ranges tips and evidence captures may reach (WILDWATCH_FETCH_ALLOW, comma-separated,
    # e.g. "127.0.0.1:8000" for the demo marketplace); empty, the default: public addresses only.
    fetch_allow: str = ""
    # The review app's session-signing key (WILDWATCH_SECRET_KEY, at least 32 characters); None: a random key
    # kept in the data dir. Never printed: repr=False.
    secret_key: str | None = field(default=None, repr=False)
    # The key of the pseudonyms that replace contact handles in exports (WILDWATCH_PSEUDONYM_KEY, at least 32
    # characters); None: a random key kept in the data dir (wildwatch.pseudonym). Never printed.
    pseudonym_key: str | None = field(default=None, repr=False)
    # Session cookies only over HTTPS (WILDWATCH_REVIEW_SECURE_COOKIES=1), for an app behind a TLS proxy.
    secure_cookies: bool = False
    # Distributed crawl workers: how long a silent worker keeps its requests before the others take them back,
    # how often a worker commits and acknowledges, and how long an idle worker waits for busy ones.
    worker_lease_seconds: float = 30.0
    worker_checkpoint_seconds: float = 2.0
    worker_max_idle_seconds: float = 3600.0
    # Listing images fetched by the crawl (WILDWATCH_IMAGES; `--no-images`).
    images: bool = True

    @classmethod
    def from_env(cls) -> "Settings":
        home = home_from_env()
        data_dir = _env_path("WILDWATCH_DATA_DIR", home / "data")
        default_db = f"sqlite:///{data_dir / 'wildwatch.db'}"
        return cls(
            database_url=os.environ.get("WILDWATCH_DATABASE_URL") or default_db,
            models_dir=_env_path("WILDWATCH_MODELS_DIR", home / "models"),
            threshold=_env_float("WILDWATCH_THRESHOLD"),
            export_dir=_env_path("WILDWATCH_EXPORT_DIR", data_dir / "exports"),
            sites_dir=_env_path("WILDWATCH_SITES_DIR", SITES_DIR),
            state_dir=state_dir_from_env(),
            chromium_path=os.environ.get("WILDWATCH_CHROMIUM") or None,
            data_dir=data_dir,
            redis_url=os.environ.get("WILDWATCH_REDIS_URL") or None,
            fetch_allow=os.environ.get("WILDWATCH_FETCH_ALLOW", "").strip(),
            secret_key=os.environ.get("WILDWATCH_SECRET_KEY") or None,
            pseudonym_key=os.environ.get("WILDWATCH_PSEUDONYM_KEY") or None,
            secure_cookies=os.environ.get("WILDWATCH_REVIEW_SECURE_COOKIES") == "1",
            worker_lease_seconds=_env_seconds("WILDWATCH_WORKER_LEASE_SECONDS", 30.0),
            worker_checkpoint_seconds=_env_seconds("WILDWATCH_WORKER_CHECKPOINT_SECONDS", 2.0),
            worker_max_idle_seconds=_env_seconds("WILDWATCH_WORKER_MAX_IDLE_SECONDS", 3600.0),
            images=images_from_env(),
        )


PRIVATE_UMASK = 0o077


def private_files(data_dir: Path | None = None) -> None:
    """New files owner-only (0600, folders 0700) for this process, and the data dir closed to others.

    The data dir holds the database (with password hashes), page captures, logs and exports;
    the CLI calls this before every command, so whatever a command creates is private.
    """
    os.umask(PRIVATE_UMASK)
    try:
        folder = data_dir or data_dir_from_env()
    except ValueError:
        return  # a bad WILDWATCH_HOME: the command names it when it reads its settings
    try:
        if folder.is_dir() and folder.stat().st_uid == os.getuid():
            folder.chmod(0o700)
    except OSError:
        pass  # a read-only or foreign folder: the command itself reports what it cannot do

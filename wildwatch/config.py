"""Runtime configuration, read once from the environment.

Every path and knob a user may change lives here, so the CLI, the crawler and
the tests agree on where things are. Secrets (database passwords) only ever come
from the environment and are never logged.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"
LEXICON_DIR = DATA_DIR / "lexicon"
LABELLED_DIR = DATA_DIR / "labelled"
DEMO_CATALOG = DATA_DIR / "demo_marketplace" / "listings.jsonl"
SITES_DIR = PROJECT_ROOT / "crawler" / "sites"
MODELS_DIR = PROJECT_ROOT / "models"


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


def state_dir_from_env() -> Path:
    """Per-site crawl state (resume journals, HTTP cache): WILDWATCH_STATE_DIR, else <data dir>/crawl_state."""
    return _env_path("WILDWATCH_STATE_DIR", _env_path("WILDWATCH_DATA_DIR", DATA_DIR) / "crawl_state")


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
    data_dir: Path = field(default=DATA_DIR)
    # Redis for distributed crawls (`wildwatch crawl SITE --workers URL` overrides it); None: one process.
    redis_url: str | None = None

    @classmethod
    def from_env(cls) -> "Settings":
        data_dir = _env_path("WILDWATCH_DATA_DIR", DATA_DIR)
        default_db = f"sqlite:///{data_dir / 'wildwatch.db'}"
        return cls(
            database_url=os.environ.get("WILDWATCH_DATABASE_URL") or default_db,
            models_dir=_env_path("WILDWATCH_MODELS_DIR", MODELS_DIR),
            threshold=_env_float("WILDWATCH_THRESHOLD"),
            export_dir=_env_path("WILDWATCH_EXPORT_DIR", data_dir / "exports"),
            sites_dir=_env_path("WILDWATCH_SITES_DIR", SITES_DIR),
            state_dir=state_dir_from_env(),
            chromium_path=os.environ.get("WILDWATCH_CHROMIUM") or None,
            data_dir=data_dir,
            redis_url=os.environ.get("WILDWATCH_REDIS_URL") or None,
        )


def redact_url(url: str) -> str:
    """A database URL safe to print: the password replaced by ***."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparsable URL is shown without its credentials
        return url.split("@")[-1]

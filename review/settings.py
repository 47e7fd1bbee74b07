"""What the review package reads from the settings: the caller of `create_app` (or of the tip and evidence
functions, for the CLI) decides them; nothing under review/ reads the environment or builds settings itself.

`wildwatch.config.Settings` satisfies this protocol; so does any object with these attributes (a test's).
"""
from __future__ import annotations

from pathlib import Path
from typing import Protocol


class ReviewSettings(Protocol):
    database_url: str
    data_dir: Path            # page captures, the picture store and the app's secret key file live here
    models_dir: Path          # a tip is scored with the active model under it
    threshold: float | None   # the scorer's threshold for tips (None: the model's own)
    sites_dir: Path           # site configs, to read a tipped page like a crawled one
    chromium_path: str | None
    fetch_allow: str          # non-public address ranges tips and evidence captures may reach
    secret_key: str | None    # the session-signing key (None: a random key kept in data_dir)
    secure_cookies: bool      # session cookies only over HTTPS

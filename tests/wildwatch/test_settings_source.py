"""One route for configuration: only wildwatch/config.py reads the environment, and what it reads arrives in
Settings (or a named function there), checked when it is read."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from wildwatch.config import Settings
import support

ROOT = support.ROOT
PACKAGES = ("bench", "classifier", "crawler", "review", "store", "wildwatch")
READS = re.compile(r"os\.environ\.get\(|os\.environ\[|os\.getenv\(|environ\.get\(")
# Test support inside the packages (used only by tests/): it reads WILDWATCH_TEST_* and WILDWATCH_REQUIRE_*,
# which configure the test run, not wildwatch.
ALLOWED = {Path("wildwatch/config.py"), Path("store/testing.py")}


def test_only_the_config_module_reads_the_environment():
    readers = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if relative in ALLOWED:
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if READS.search(line) and not line.lstrip().startswith("#"):
                    readers.append(f"{relative}:{number}: {line.strip()}")
    assert not readers, "read the environment in wildwatch/config.py (Settings) instead:\n" + "\n".join(readers)


def test_review_and_worker_settings_come_from_settings(monkeypatch):
    monkeypatch.setenv("WILDWATCH_SECRET_KEY", "k" * 40)
    monkeypatch.setenv("WILDWATCH_REVIEW_SECURE_COOKIES", "1")
    monkeypatch.setenv("WILDWATCH_WORKER_LEASE_SECONDS", "12.5")
    monkeypatch.setenv("WILDWATCH_WORKER_CHECKPOINT_SECONDS", "0.5")
    monkeypatch.setenv("WILDWATCH_WORKER_MAX_IDLE_SECONDS", "60")
    settings = Settings.from_env()
    assert settings.secret_key == "k" * 40 and settings.secure_cookies is True
    assert (settings.worker_lease_seconds, settings.worker_checkpoint_seconds, settings.worker_max_idle_seconds) \
        == (12.5, 0.5, 60.0)
    assert "k" * 40 not in repr(settings)  # the signing key is never printed with the settings


def test_defaults_without_the_environment(monkeypatch):
    for name in ("WILDWATCH_SECRET_KEY", "WILDWATCH_REVIEW_SECURE_COOKIES", "WILDWATCH_WORKER_LEASE_SECONDS",
                 "WILDWATCH_WORKER_CHECKPOINT_SECONDS", "WILDWATCH_WORKER_MAX_IDLE_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings.from_env()
    assert settings.secret_key is None and settings.secure_cookies is False
    assert (settings.worker_lease_seconds, settings.worker_checkpoint_seconds, settings.worker_max_idle_seconds) \
        == (30.0, 2.0, 3600.0)


@pytest.mark.parametrize("value, words", [("soon", "is not a number of seconds"),
                                          ("0", "must lie between 0.1 and 86400 seconds"),
                                          ("nan", "must lie between 0.1 and 86400 seconds")])
def test_a_bad_worker_timing_names_the_variable_and_the_value(monkeypatch, value, words):
    monkeypatch.setenv("WILDWATCH_WORKER_CHECKPOINT_SECONDS", value)
    with pytest.raises(ValueError) as raised:
        Settings.from_env()
    assert str(raised.value) == f"WILDWATCH_WORKER_CHECKPOINT_SECONDS={value!r} {words}"


def test_the_worker_lease_must_cover_three_checkpoints():
    from crawler.distributed import worker_settings
    from crawler.redisrun import DistributedCrawlError

    with pytest.raises(DistributedCrawlError, match="must be at least three checkpoint intervals"):
        worker_settings("redis://127.0.0.1:6379/0", "demo", lease_seconds=1.0, checkpoint_seconds=2.0)
    settings = worker_settings("redis://127.0.0.1:6379/0", "demo", lease_seconds=9.0, checkpoint_seconds=3.0,
                               max_idle_seconds=5.0)
    assert (settings["WILDWATCH_WORKER_LEASE_SECONDS"], settings["WILDWATCH_WORKER_CHECKPOINT_SECONDS"],
            settings["WILDWATCH_WORKER_MAX_IDLE_SECONDS"]) == (9.0, 3.0, 5.0)

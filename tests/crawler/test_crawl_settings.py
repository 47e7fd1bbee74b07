"""Scrapy settings are read once: crawler.settings holds every WILDWATCH_* default (from wildwatch.config), the
CLI's crawl setup fills the same names from its configuration, and components read only the Scrapy settings."""
from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from scrapy.settings import Settings as ScrapySettings

from crawler.settings import MissingSetting, required
from crawler.spiderloader import SiteSpiderLoader
from wildwatch.config import Settings
from wildwatch.crawl import scrapy_settings

ROOT = Path(__file__).resolve().parents[2]


def test_no_crawler_component_reads_the_configuration_behind_the_scrapy_settings():
    readers = [f"{path.relative_to(ROOT)}:{number}"
               for path in sorted((ROOT / "crawler").rglob("*.py")) if path.name != "settings.py"
               for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
               if re.search(r"Settings\.from_env\(|from wildwatch\.config import .*\bSettings\b", line)]
    assert not readers, "read crawler.settings (the Scrapy settings) instead: " + ", ".join(readers)


def test_the_cli_fills_every_value_the_components_require_from_its_configuration(tmp_path):
    config = replace(Settings.from_env(), database_url=f"sqlite:///{tmp_path / 'w.db'}", data_dir=tmp_path / "data",
                     models_dir=tmp_path / "models", sites_dir=tmp_path / "sites", threshold=0.7,
                     chromium_path="/opt/chromium", images=False)
    settings = scrapy_settings(config)
    assert required(settings, "WILDWATCH_DATABASE_URL") == config.database_url
    assert required(settings, "WILDWATCH_DATA_DIR") == str(tmp_path / "data")
    assert required(settings, "WILDWATCH_MODELS_DIR") == str(tmp_path / "models")
    assert required(settings, "WILDWATCH_SITES_DIR") == str(tmp_path / "sites")
    assert settings.getfloat("WILDWATCH_THRESHOLD") == 0.7 and settings.get("WILDWATCH_CHROMIUM") == "/opt/chromium"
    assert settings.getbool("WILDWATCH_IMAGES") is False
    for name in ("WILDWATCH_STORE_BATCH_SIZE", "WILDWATCH_STORE_FLUSH_SECONDS", "WILDWATCH_SPOOL_REPLAY_WAIT",
                 "WILDWATCH_WORKER_LEASE_SECONDS", "WILDWATCH_IMAGES_MAX_PER_LISTING", "WILDWATCH_IMAGES_TYPES"):
        assert required(settings, name)  # defaults from crawler.settings, the one place they are written


def test_a_missing_value_is_named_instead_of_taken_from_the_environment():
    with pytest.raises(MissingSetting, match="WILDWATCH_SITES_DIR is not set"):
        SiteSpiderLoader(ScrapySettings())
    with pytest.raises(MissingSetting, match="WILDWATCH_DATABASE_URL"):
        required(ScrapySettings({"WILDWATCH_DATABASE_URL": ""}), "WILDWATCH_DATABASE_URL")

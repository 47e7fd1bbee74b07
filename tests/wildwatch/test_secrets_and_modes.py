"""Issue 17 breaks 7 and 8 (CLI side): passwords in URLs never printed in any form, the data dir and what the
CLI writes into it owner-only, and an out-of-range --since answered in one line."""
from __future__ import annotations

import os
import stat
from datetime import datetime, timezone

import pytest

from support.cli import run_cli, wildwatch_env
from review.capture import PageCapture, save_capture
from store.db import describe_error, redact


@pytest.mark.parametrize("url, secret", [
    ("postgresql://u:p@ss@127.0.0.1/db", "p@ss"),
    ("postgresql://u:p@ss/x@127.0.0.1/db", "p@ss/x"),
    ("postgresql://u:s3c%40ret@127.0.0.1/db", "s3c%40ret"),
    ("postgresql://u@127.0.0.1/db?password=hunter2", "hunter2"),
    ("postgresql://u@127.0.0.1/db?sslmode=require&PASSWORD=hunter2", "hunter2"),
    ("postgresql://u@127.0.0.1/db?sslpassword=hunter2&connect_timeout=3", "hunter2"),
    ("redis://:hunter2@127.0.0.1:6379/0", "hunter2"),
    ("weird://user:hunter2@host:notaport/x", "hunter2"),
])
def test_every_password_form_in_a_url_is_redacted(url, secret):
    shown = redact(url)
    assert secret not in shown and "***" in shown
    assert secret not in describe_error(RuntimeError(f"connection to {url} failed"))


def test_urls_without_credentials_are_left_alone():
    for url in ("https://shop.example:8080/item@42", "sqlite:////tmp/x.db", "postgresql://u@127.0.0.1/db?sslmode=require"):
        assert redact(url) == url


@pytest.mark.parametrize("url", ["postgresql://root:hunter2@x@127.0.0.1:1/db",
                                 "postgresql://root@127.0.0.1:1/db?password=hunter2"])
def test_export_error_on_a_password_url_does_not_print_the_password(tmp_path, trained_models_dir, url):
    env = wildwatch_env(tmp_path / "data", trained_models_dir, WILDWATCH_DATABASE_URL=url)
    result = run_cli(["export", "-o", str(tmp_path / "x.csv")], env, timeout=120)
    assert result.returncode == 2, result.stderr
    assert "hunter2" not in result.stderr + result.stdout and "***" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_data_dir_database_and_exports_are_owner_only(tmp_path, trained_models_dir):
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    os.chmod(data, 0o755)
    env = wildwatch_env(data, trained_models_dir)
    old = os.umask(0o022)  # a permissive shell: the CLI must not depend on it
    try:
        assert run_cli(["db", "upgrade"], env).returncode == 0
        exported = run_cli(["export", "--all"], env)
    finally:
        os.umask(old)
    assert exported.returncode == 0, exported.stderr
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    files = [p for p in data.rglob("*") if p.is_file() and p.name != "review-secret.key"]
    assert any(p.parent.name == "exports" for p in files), files
    if "WILDWATCH_DATABASE_URL" not in env:
        assert (data / "wildwatch.db") in files
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    for folder in (p for p in data.rglob("*") if p.is_dir()):
        assert stat.S_IMODE(folder.stat().st_mode) & 0o077 == 0, folder


def test_captures_are_owner_only_whatever_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        saved = save_capture(PageCapture(url="http://shop.test/1", final_url="http://shop.test/1", status=200,
                                         html="<p>tusk</p>", screenshot=b"\x89PNG fake", captured_at=datetime.now(timezone.utc)),
                             tmp_path, 3, "tip")
    finally:
        os.umask(old)
    for relative in (saved.html_path, saved.screenshot_path):
        assert stat.S_IMODE((tmp_path / relative).stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "captures" / "3").stat().st_mode) == 0o700


@pytest.mark.parametrize("since", ["9999999d", "99999999999999999999w", "٣d"])
def test_an_out_of_range_since_is_one_line_and_exit_2(tmp_path, trained_models_dir, since):
    env = wildwatch_env(tmp_path / "data", trained_models_dir)
    result = run_cli(["export", "--since", since], env)
    assert result.returncode == 2 and "--since" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1

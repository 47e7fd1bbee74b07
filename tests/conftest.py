"""Shared fixtures for every test folder: a model trained once per test session, the test database of this
pass, the measurements summary and the markers by folder. Helpers live in tests/support."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from support import ROOT, db_backend
from support.browser import require_chromium
# Test files written before tests/support imported the CLI helpers from here; they still can.
from support.cli import database_url_for, run_cli, stored_counts, wildwatch_env  # noqa: F401


# Argon2id at RFC 9106's parameters (review.auth) costs ~0.16 s of CPU per hash and per check, by design; the
# suite creates three analysts for most review tests and logs in hundreds of times. In this process the review
# app hashes with the cheapest Argon2id parameters instead (hashes carry their parameters, so checks still work
# across both); test_review_store checks the production parameters themselves. `wildwatch users` in a CLI
# process still hashes at full cost.
def _cheap_password_hashing() -> None:
    from argon2 import PasswordHasher

    import review.auth

    review.auth._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


_cheap_password_hashing()


# Training takes about a minute of CPU; every test process (three per pass, two passes in CI) needs the same
# model. It is trained once per (training data, lexicon, classifier code, library versions) and kept here,
# behind a file lock so that concurrent test processes wait for the first instead of training too.
MODEL_CACHE = Path(os.environ.get("WILDWATCH_TEST_MODEL_CACHE", ROOT / ".test-model-cache"))


def _model_cache_key() -> str:
    """What the session model depends on: the files `train` reads and the code and libraries that build it."""
    import hashlib
    import platform

    import sklearn

    digest = hashlib.sha256(f"{platform.python_version()} {sklearn.__version__}".encode())
    for folder, pattern in ((ROOT / "data" / "labelled", "**/*"), (ROOT / "data" / "lexicon", "**/*"),
                            (ROOT / "data" / "independent" / "calibration", "*.jsonl"),
                            (ROOT / "classifier", "**/*.py")):
        for path in sorted(folder.glob(pattern)):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:20]


def _cached_model(key: str) -> Path:
    """The cached models root for `key`, trained now if no usable copy exists (one process at a time)."""
    import fcntl
    import shutil
    import time

    from classifier.scorer import Scorer
    from classifier.train import train
    from wildwatch.resources import HELD_BACK_DIR

    MODEL_CACHE.mkdir(parents=True, exist_ok=True)
    cached = MODEL_CACHE / key
    with open(MODEL_CACHE / f"{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            Scorer.load(cached)
            return cached
        except Exception:  # missing, half-written by a killed run, or refused: train again
            shutil.rmtree(cached, ignore_errors=True)
        # Models of other keys (other data or code: an older commit, or another checkout sharing this cache
        # through WILDWATCH_TEST_MODEL_CACHE): the three newest stay, so that checkouts in turn do not retrain
        # for each other; another key's model still being built is left alone for an hour.
        def modified(path: Path) -> float:
            try:
                return path.stat().st_mtime
            except OSError:  # removed meanwhile by a run of another checkout
                return 0.0

        others = sorted((path for path in MODEL_CACHE.iterdir() if path.is_dir() and not path.name.startswith(key)),
                        key=modified, reverse=True)
        built = [path for path in others if not path.name.endswith(".building")]
        stale_builds = [path for path in others if path.name.endswith(".building") and time.time() - modified(path) > 3600]
        for stale in built[3:] + stale_builds:
            shutil.rmtree(stale, ignore_errors=True)
        building = MODEL_CACHE / f"{key}.building"
        shutil.rmtree(building, ignore_errors=True)
        report = train(models_dir=building, activate=True, held_back_dir=HELD_BACK_DIR,
                       embedding_cache=MODEL_CACHE / "embeddings")
        print(f"\n[session model] {report.summary()}")
        building.rename(cached)
        return cached


@pytest.fixture(scope="session")
def trained_models_dir(tmp_path_factory) -> Path:
    """A models root with one active model, trained from data/labelled like `wildwatch train`: a private copy
    of the cached model, so a test that adds or activates models touches only its own session's root."""
    import shutil

    models_dir = tmp_path_factory.mktemp("models")
    shutil.copytree(_cached_model(_model_cache_key()), models_dir, dirs_exist_ok=True)
    return models_dir


@pytest.fixture(scope="session")
def trained_scorer(trained_models_dir):
    from classifier.scorer import Scorer

    return Scorer.load(trained_models_dir)


_REPORTED: list[str] = []


@pytest.fixture(scope="session")
def report():
    """Lines shown in the test run's summary (held-out metrics and the like), even when output is captured."""
    return _REPORTED.append


_MEASUREMENT = "wildwatch measurement"
_forwarded = [0]  # how many of _REPORTED a pytest-xdist worker has already sent to the controller


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under pytest-xdist (`make test`) lines are reported in the workers: each test report carries the
    lines reported since the previous one to the controller, which prints the summary."""
    outcome = yield
    if hasattr(item.config, "workerinput") and len(_REPORTED) > _forwarded[0]:
        outcome.get_result().user_properties.extend((_MEASUREMENT, line) for line in _REPORTED[_forwarded[0]:])
        _forwarded[0] = len(_REPORTED)


def pytest_runtest_logreport(report):
    if getattr(report, "node", None) is not None:  # the controller, receiving a worker's report
        _REPORTED.extend(value for key, value in report.user_properties if key == _MEASUREMENT)


def pytest_terminal_summary(terminalreporter):
    if _REPORTED:
        terminalreporter.section("wildwatch measurements")
        for line in _REPORTED:
            terminalreporter.write_line(line)


MIGRATED = {"engine", "migrated_db_url"}


@pytest.fixture
def db_url(request, tmp_path):
    """A database on this pass's backend (WILDWATCH_TEST_BACKEND), removed afterwards: empty, or already
    at the newest schema when the test (or a fixture it uses) asks for `engine` or `migrated_db_url`, so
    that all three name the same database. On PostgreSQL a migrated one is a copy of a template migrated
    once per test process (store.testing.migrated_postgres_template): ~0.4 s less per test."""
    from store.testing import throwaway_database

    migrated = bool(MIGRATED & set(request.fixturenames))
    with throwaway_database(db_backend.BACKEND, tmp_path, migrated=migrated) as url:
        yield url


@pytest.fixture
def migrated_db_url(db_url):
    """`db_url`, at the newest schema."""
    return db_url


@pytest.fixture
def engine(db_url):
    """An Engine on a freshly migrated database of this pass's backend (db_url migrates it when `engine` is asked
    for)."""
    from store import db

    engine = db.make_engine(db_url)
    yield engine
    engine.dispose()


def pytest_report_header():
    return f"wildwatch test database: {db_backend.BACKEND} (WILDWATCH_TEST_BACKEND)"


# Files that take a minute or more (demo nights in Chromium, fault and outage waits, the load test), then the
# unit-test files with the most CPU: started first, longest first, so that the processes of `make test` and
# `make test-fast` (pytest-xdist, one file per process at a time) end together instead of one process finishing
# a long file while the others sit idle. The Makefile's --no-loadscope-reorder makes xdist keep this order. By
# CPU-seconds measured per file on 2026-12-05 (SQLite pass; wall times were 3-10x these at load 12-19):
# nightly_e2e 102, bench 101, distributed_crawl 91, json_replay 89, review_browser 65, store_outage 58 (and a
# 30 s outage), review_load 46, scrapyd 45, crawl_resume 45, images_crawl 25, demo_faults 17 (and stalls),
# discovery_crawl 13, cli_bad_input 11, hostile_pages 10; unit files: review_sessions 20, queue_pages 15,
# fast_path 10, review_learning 9, classifier_model 9, review_app 8, offer_signals 7.
SLOW_FILES = ("test_nightly_e2e.py", "test_bench.py", "test_distributed_crawl.py", "test_json_replay.py",
              "test_review_browser.py", "test_store_outage.py", "test_crawl_resume_and_health.py",
              "test_scrapyd_nightly.py", "test_review_load.py", "test_demo_faults.py", "test_images_crawl.py",
              "test_discovery_crawl.py", "test_hostile_pages.py", "test_oldstreet.py", "test_sellers_browser.py",
              "test_store_concurrency.py", "test_review_sessions.py", "test_cli_bad_input.py",
              "test_review_queue_pages.py", "test_classifier_fast_path.py", "test_review_learning.py",
              "test_classifier_model.py", "test_review_app.py", "test_classifier_offer_signals.py")


# `make test-fast` runs the tests not marked `slow`. Slow are: everything in tests/e2e (marked `e2e`), whatever
# needs a browser (marked `browser`, or using the `chromium` fixture), a PostgreSQL or Redis server of its own
# (`postgres`, `redis`), the load test (`load`), and tests marked `slow` by hand: crawls and nightly runs in
# a CLI process, outage drills.
SLOW_MARKERS = ("e2e", "browser", "postgres", "redis", "load")
E2E = Path(__file__).resolve().parent / "e2e"


def pytest_collection_modifyitems(items):
    slow_rank = {name: rank for rank, name in enumerate(SLOW_FILES)}
    items.sort(key=lambda item: slow_rank.get(item.path.name, len(SLOW_FILES)))  # stable: order within a file kept
    for item in items:
        if E2E in item.path.parents:
            item.add_marker(pytest.mark.e2e)
        if "chromium" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)
        if any(item.get_closest_marker(name) for name in SLOW_MARKERS):
            item.add_marker(pytest.mark.slow)
        if db_backend.DB_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.db)
    unavailable = db_backend.postgres_pass_unavailable()
    if unavailable:  # one reason for the whole pass instead of one connection attempt per test
        for item in items:
            if item.get_closest_marker("db"):
                item.add_marker(pytest.mark.skip(reason=unavailable))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    db_backend.set_current(item)
    try:
        return (yield)
    finally:
        db_backend.set_current(None)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    try:
        return (yield)
    finally:
        if nextitem is None or nextitem.path != item.path:
            db_backend.DATABASES.close()  # after the module's fixtures let go of its databases


@pytest.fixture(scope="session")
def chromium():
    """The Chromium binary the project would use, or a skip naming why there is none."""
    return require_chromium()

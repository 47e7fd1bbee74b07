"""Shared fixtures: a model trained once per test session, and helpers to run the CLI for real."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import db_backend
from db_backend import database_url_for  # noqa: F401 - tests import it from here with the CLI helpers

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def trained_models_dir(tmp_path_factory) -> Path:
    """A models root with one active model, trained from data/labelled like `wildwatch train`."""
    from classifier.train import train

    models_dir = tmp_path_factory.mktemp("models")
    report = train(models_dir=models_dir, activate=True)
    print(f"\n[session model] {report.summary()}")
    return models_dir


@pytest.fixture(scope="session")
def trained_scorer(trained_models_dir):
    from classifier.scorer import Scorer

    return Scorer.load(trained_models_dir)


def wildwatch_env(data_dir: Path, models_dir: Path, **extra: str) -> dict[str, str]:
    """Environment for a CLI subprocess that writes only below data_dir."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WILDWATCH_")}
    env.update({
        "WILDWATCH_DATA_DIR": str(data_dir),
        "WILDWATCH_MODELS_DIR": str(models_dir),
        "PYTHONPATH": str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
    })
    env.update(db_backend.cli_database_env(data_dir))  # PostgreSQL pass: a throwaway database per data dir
    env.update(extra)
    return env


def run_cli(args: list[str], env: dict[str, str], timeout: int = 300) -> subprocess.CompletedProcess:
    """Run `wildwatch ARGS` as a user would, in a fresh process."""
    return subprocess.run([sys.executable, "-m", "wildwatch", *args], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


_REPORTED: list[str] = []


def stored_counts(db_url: str) -> dict:
    """What a crawl left in the database, for "stored exactly once" checks across processes."""
    from sqlalchemy import create_engine, func, select

    from store.models import CrawlRun, Listing, ListingSnapshot, Score

    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            return {
                "listings": conn.scalar(select(func.count(Listing.id))),
                "distinct": conn.scalar(select(func.count(func.distinct(Listing.external_id)))),
                "ids": set(conn.scalars(select(Listing.external_id))),
                "snapshots": conn.scalar(select(func.count(ListingSnapshot.id))),
                "scores": conn.scalar(select(func.count(Score.id))),
                "gone": set(conn.scalars(select(Listing.external_id).where(Listing.gone_at.is_not(None)))),
                "runs": conn.execute(select(CrawlRun).order_by(CrawlRun.id)).all(),
            }
    finally:
        engine.dispose()


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


@pytest.fixture
def db_url(tmp_path):
    """An empty database on this pass's backend (WILDWATCH_TEST_BACKEND), removed afterwards."""
    from store.testing import throwaway_database

    with throwaway_database(db_backend.BACKEND, tmp_path) as url:
        yield url


@pytest.fixture
def engine(db_url):
    """An Engine on a freshly migrated database of this pass's backend."""
    from store import db

    db.upgrade(db_url)
    engine = db.make_engine(db_url)
    yield engine
    engine.dispose()


def pytest_report_header():
    return f"wildwatch test database: {db_backend.BACKEND} (WILDWATCH_TEST_BACKEND)"


# Files that take a minute or more (demo nights in Chromium, fault and outage waits, the load test): started
# first, so that the processes of `make test` (pytest-xdist, one file per process at a time) end together.
SLOW_FILES = ("test_nightly_e2e.py", "test_demo_faults.py", "test_cli_bad_input.py", "test_bench.py",
              "test_store_outage.py", "test_review_load.py", "test_review_browser.py",
              "test_crawl_resume_and_health.py", "test_distributed_crawl.py", "test_scrapyd_nightly.py")


def pytest_collection_modifyitems(items):
    slow_rank = {name: rank for rank, name in enumerate(SLOW_FILES)}
    items.sort(key=lambda item: slow_rank.get(item.path.name, len(SLOW_FILES)))  # stable: order within a file kept
    for item in items:
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

# wildwatch: `make run` sets everything up and runs the nightly job on the demo marketplace;
# `make test` sets up and runs the whole test suite: once on SQLite, then its database tests on PostgreSQL.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
WILDWATCH := $(VENV)/bin/wildwatch
STAMP := $(VENV)/.installed
# Test files run in parallel processes (pytest-xdist; a file's tests stay in one process, with its fixtures).
# Much of the suite waits on timeouts, outages and throttled crawls, so 3 processes on 2 cores overlap those
# waits; the rest is CPU-bound: measured 13.7 min against 22.8 min one after another (SQLite pass).
# --no-loadscope-reorder: files go out in tests/conftest.py's order (the longest first). pytest-xdist 3.6+ by
# default sends the files with the most tests first instead, which left the few-test files that take minutes
# (demo nights, drills, the load test) for the end: one process working, the others idle.
TEST_WORKERS ?= 3
PYTEST := $(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

.PHONY: bytecode run test test-sqlite test-model test-fast test-postgres lint setup browser ocr db model train services clean-data help wheel-check

help:
	@echo "make run    - set up (venv, packages, browser, database, model) and run the nightly job on the demo marketplace"
	@echo "make test   - set up and run the whole test suite (SQLite), then its database tests again on PostgreSQL"
	@echo "make test-sqlite - only the first pass: the whole suite on SQLite"
	@echo "make test-postgres - only the second pass: the tests marked db, on throwaway PostgreSQL databases"
	@echo "make test-fast - the unit tests only (no browser, crawl processes, servers or load): about 2 minutes"
	@echo "make wheel-check - build the wheel, install it in a fresh venv, run a demo night in an empty folder"
	@echo "make test WHEEL_CHECK=1 - make test, then the wheel check (CI)"

# The packages go in with uv when it can (seconds; pip took a minute), else pip: scripts/install_python_packages.sh.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	bash scripts/install_python_packages.sh $(PY) -e ".[dev,semantic]"
	touch $(STAMP)

setup: $(STAMP) browser ocr

browser: $(STAMP)
	PY=$(PY) bash scripts/install_browser.sh

# Tesseract (chi_sim, chi_tra, eng) for OCR of listing images, and the CJK font of the demo's pictures.
ocr:
	bash scripts/install_ocr.sh

db: $(STAMP)
	$(WILDWATCH) db upgrade

# Train the classifier when no usable model is active (a fresh clone, or a model built by an older
# version of the classifier, which Scorer.load refuses with the reason).
model: $(STAMP)
	@if [ -f models/ACTIVE ] && $(PY) -c "from classifier.scorer import Scorer; from wildwatch.config import Settings; \
			Scorer.load(Settings.from_env().models_dir)" 2>/dev/null; then \
		echo "model: $$(cat models/ACTIVE)"; \
	else \
		$(WILDWATCH) train; \
	fi

train: $(STAMP)
	$(WILDWATCH) train

run: setup db model
	$(WILDWATCH) nightly --demo

services:
	bash scripts/ensure_services.sh

# WHEEL_CHECK=1 (what .ci/run does) adds the wheel check after the two passes.
test: setup lint test-model bytecode
	$(MAKE) --no-print-directory test-sqlite
	$(MAKE) --no-print-directory test-postgres
	$(if $(filter 1,$(WHEEL_CHECK)),$(MAKE) --no-print-directory wheel-check)

# The project's own modules compiled once: with PYTHONDONTWRITEBYTECODE=1 (set on these machines) Python never
# writes .pyc files, so each of the ~180 processes the suite starts would compile them again (0.2 CPU-s each).
# A .pyc whose source changed since is ignored by Python, so a stale one costs nothing but itself.
bytecode: $(STAMP)
	$(PY) -m compileall -q -j 0 wildwatch classifier crawler store review bench tests

# The first pass of `make test`: the whole suite on SQLite.
test-sqlite: setup
	$(PYTEST)

# The tests' session model (tests/conftest.py), trained into .test-model-cache if it is not there yet. The first
# test that needs it would train it anyway, but with the longest files first every test process needs it at once
# and all would wait on one; `make test` trains it before the passes start.
test-model: $(STAMP)
	cd tests && $(abspath $(PY)) -c "import conftest; print('test model:', conftest._cached_model(conftest._model_cache_key()))"

# The import layers of pyproject.toml's [tool.importlinter] (commands > bench > nightly > review > crawler >
# classifier | store; configuration and errors are leaves).
lint: $(STAMP)
	$(VENV)/bin/lint-imports

# The database tests again, each on a throwaway PostgreSQL database (WILDWATCH_TEST_POSTGRES_URL names
# the server, default root@127.0.0.1:5432). No server: they skip with the reason; under
# WILDWATCH_REQUIRE_POSTGRES=1 (CI) that is a failure. Left out: the `one_pass` tests, whose claim is about
# the crawl, browser or app rather than the database (each names the tests that prove its PostgreSQL side).
test-postgres: setup
	WILDWATCH_TEST_BACKEND=postgresql $(PYTEST) -m "db and not one_pass"

# The unit tests, by marker (tests/conftest.py): not `slow`, i.e. nothing in tests/e2e, no browser, no crawl or
# nightly run in a CLI process, no PostgreSQL or Redis server of their own, no load test. 1,364 tests, about
# 155 CPU-seconds once the session model is cached (.test-model-cache). On the 2-core machine: 84 s with three
# processes on a quiet machine (2026-12-06; some tests wait: throttles, lifetimes, CLI processes).
test-fast: $(STAMP)
	$(PYTEST) -m "not slow"

# The wheel on its own (scripts/check_wheel.sh): built from the checkout's files, installed into a fresh venv
# outside the checkout, a demo night run in an empty folder (it trains the first model from the shipped data),
# an export of flagged listings there and nothing written into site-packages. Uses the browser, Tesseract and
# font that `make setup` installed.
wheel-check: browser ocr
	PYTHON=$(PYTHON) bash scripts/check_wheel.sh

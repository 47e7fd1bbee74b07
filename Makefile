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
TEST_WORKERS ?= 3
PYTEST := $(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile

.PHONY: run test test-postgres setup browser db model train services clean-data help

help:
	@echo "make run    - set up (venv, packages, browser, database, model) and run the nightly job on the demo marketplace"
	@echo "make test   - set up and run the whole test suite (SQLite), then its database tests again on PostgreSQL"
	@echo "make test-postgres - only the second pass: every test marked db, on throwaway PostgreSQL databases"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP) browser

browser: $(STAMP)
	PY=$(PY) bash scripts/install_browser.sh

db: $(STAMP)
	$(WILDWATCH) db upgrade

# Train the classifier when no model is active yet (a fresh clone).
model: $(STAMP)
	@if [ -f models/ACTIVE ] && [ -d "models/$$(cat models/ACTIVE)" ]; then \
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

test: setup
	$(PYTEST)
	$(MAKE) --no-print-directory test-postgres

# The database tests again, each on a throwaway PostgreSQL database (WILDWATCH_TEST_POSTGRES_URL names
# the server, default root@127.0.0.1:5432). No server: they skip with the reason; under
# WILDWATCH_REQUIRE_POSTGRES=1 (CI) that is a failure.
test-postgres: setup
	WILDWATCH_TEST_BACKEND=postgresql $(PYTEST) -m db

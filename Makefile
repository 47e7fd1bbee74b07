# wildwatch: `make run` sets everything up and runs the nightly job on the demo marketplace;
# `make test` sets up and runs the whole test suite.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
WILDWATCH := $(VENV)/bin/wildwatch
STAMP := $(VENV)/.installed

.PHONY: run test setup browser db model train services clean-data help

help:
	@echo "make run    - set up (venv, packages, browser, database, model) and run the nightly job on the demo marketplace"
	@echo "make test   - set up and run the whole test suite"

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
	$(PY) -m pytest

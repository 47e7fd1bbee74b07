#!/usr/bin/env bash
# Cron entry point for the nightly run: crawl every enabled marketplace, score, store, export.
# Extra arguments go to `wildwatch nightly` (e.g. --format xlsx).
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/wildwatch nightly "$@"

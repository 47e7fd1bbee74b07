#!/usr/bin/env bash
# Analysts' export of flagged listings; arguments go to `wildwatch export`
# (e.g. scripts/export.sh --format xlsx --since 7d -o weekly.xlsx).
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/wildwatch export "$@"

#!/usr/bin/env bash
# Make sure Playwright has a Chromium to drive, for the marketplace pages that need JavaScript.
# Order: an existing browser (Playwright's own, a system Chromium, or $WILDWATCH_CHROMIUM);
# else Debian/Ubuntu's package when we may use apt (closed networks: Playwright's download fails there);
# else `playwright install chromium`.
set -euo pipefail
PY=${PY:-.venv/bin/python}

have_browser() {
  "$PY" - <<'PY' 2>/dev/null
import os, sys
from crawler.browser import resolve_chromium
path = resolve_chromium(os.environ.get("WILDWATCH_CHROMIUM") or None)
print(f"browser: {path or 'Playwright chromium'}")
PY
}

if have_browser; then exit 0; fi

if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
  echo "installing Debian's chromium (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null
elif command -v apt-get >/dev/null 2>&1 && command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  echo "installing Debian's chromium (sudo apt-get)"
  sudo DEBIAN_FRONTEND=noninteractive apt-get update -qq
  sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null
else
  echo "installing Playwright's chromium (playwright install chromium)"
  "$PY" -m playwright install chromium
fi

have_browser || { echo "error: no Chromium available; install one or set WILDWATCH_CHROMIUM" >&2; exit 1; }

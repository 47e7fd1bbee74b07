#!/usr/bin/env bash
# Install Python packages into the environment of a given interpreter, with uv when it is there (seconds where
# pip takes a minute: measured 10 s against 51 s for `-e ".[dev]"` into a fresh venv on the 2-core machine),
# else with pip. uv does not read pip's configuration, so the index URLs and find-links pip is configured with
# (pip.conf, PIP_* variables) are handed over. When uv fails for any reason, pip does the install.
#   bash scripts/install_python_packages.sh VENV_PYTHON PIP_INSTALL_ARGS...
# UV names the uv binary; by default the one beside VENV_PYTHON, installed there with pip first if missing
# (uv is a dev dependency, so it belongs in the project's venv anyway). UV=none: pip only.
# The packages are byte-compiled at install (pip's default; uv's --compile-bytecode): these machines set
# PYTHONDONTWRITEBYTECODE=1, so a package installed without its .pyc files is compiled again in memory by every
# process that imports it (the test suite starts ~180). NO_COMPILE=1 leaves that out (a throwaway venv).
set -euo pipefail
python=${1:?usage: install_python_packages.sh VENV_PYTHON PIP_INSTALL_ARGS...}
shift
[ -x "$python" ] || { echo "install_python_packages.sh: $python is not an executable Python" >&2; exit 2; }
UV=${UV:-$(dirname "$python")/uv}
if [ "$UV" != none ] && [ ! -x "$UV" ] && [ "$UV" = "$(dirname "$python")/uv" ]; then
  "$python" -m pip install --quiet "uv>=0.13,<1" >/dev/null 2>&1 || true
fi
if [ "$UV" != none ] && [ -x "$UV" ]; then
  uv_args=()
  for url in $("$python" -m pip config get global.extra-index-url 2>/dev/null || true) ${PIP_EXTRA_INDEX_URL:-}; do
    case "$url" in file://*) [ -d "${url#file://}" ] || continue ;; esac
    uv_args+=(--extra-index-url "$url")
  done
  index=${PIP_INDEX_URL:-$("$python" -m pip config get global.index-url 2>/dev/null || true)}
  [ -z "$index" ] || uv_args+=(--index-url "$index")
  for dir in ${PIP_FIND_LINKS:-} $("$python" -m pip config get global.find-links 2>/dev/null || true); do
    [ -d "$dir" ] && uv_args+=(--find-links "$dir")
  done
  log=$(mktemp "${TMPDIR:-/tmp}/uv-install.XXXXXX")
  [ "${NO_COMPILE:-0}" = 1 ] || uv_args+=(--compile-bytecode)
  if "$UV" pip install --quiet --python "$python" --index-strategy unsafe-best-match "${uv_args[@]}" "$@" >"$log" 2>&1
  then
    echo "installed with $("$UV" --version)"
    rm -f "$log"
    exit 0
  fi
  echo "uv could not install $* (its log follows); pip instead"
  tail -5 "$log"
  rm -f "$log"
fi
pip_args=()
[ "${NO_COMPILE:-0}" = 1 ] && pip_args+=(--no-compile)
"$python" -m pip install --quiet "${pip_args[@]}" "$@"

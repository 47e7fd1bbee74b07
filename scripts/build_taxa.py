"""Rebuild data/taxa/taxa.csv and data/taxa/names.csv from the raw list copies.

Inputs (see data/taxa/README.md for where each came from):
- data/taxa/raw/cn_wild_animals_2021*.tsv, cn_wild_plants_2021*.tsv: transcriptions of the two
  2021 Chinese key-protection lists (committed: public documents);
- the CITES Species+ "Index of CITES Species" CSV export (2017-04-21), not committed (UNEP-WCMC
  terms of use); pass its path with --cites.  Only the rows the table needs are kept, and only
  their names and listing.

Run: .venv/bin/python scripts/build_taxa.py --cites /path/to/Index_of_CITES_Species.csv
"""
from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from classifier.taxa_build import build, list_totals  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cites", required=True, type=Path, help="Species+ Index of CITES Species CSV export")
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "taxa")
    args = parser.parse_args()
    if not args.cites.is_file():
        parser.error(f"--cites {args.cites}: no such file")
    with args.cites.open(encoding="utf-8", newline="") as handle:
        cites_rows = list(csv.DictReader(handle))
    taxa, names = build(args.out / "raw", cites_rows)
    totals = list_totals(args.out / "raw", cites_rows)
    outputs = ((args.out / "taxa.csv", taxa), (args.out / "names.csv", names), (args.out / "list_totals.csv", totals))
    for path, rows in outputs:
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
        print(f"{path}: {len(rows)} rows")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

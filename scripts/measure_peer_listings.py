"""Score a peer project's labelled real listings with the active model: ROC AUC and what was flagged.

VIDA-NYU/LTS labels eBay/eBid listings "of animal origin" (1) or not (0): `data_use_cases/validation_sharks.csv`
(title, description, price, currency; shark and ray products against antenna covers, toys and fossils) and
`leather_validation.csv` (titles only; insects, shells, taxidermy, leather against stamps and prints). wildwatch
maps their 1 to "suspected wildlife-trade offer"; the maps differ where their positives are species no list
protects (stingray barbs, skates, bramble sharks), so the figure measures ranking under that mapping.
Their files carry no licence: they are read where they lie and never copied into this repository.

    python scripts/measure_peer_listings.py PATH/TO/LTS [--models models]

PATH is a checkout of https://github.com/VIDA-NYU/LTS (or the folder holding the two CSV files).
"""
from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

SETS = {
    "validation_sharks.csv": ("title", "description", "price", "currency"),
    "leather_validation.csv": ("title",),
}


def _cell(row: dict, name: str) -> str:
    value = (row.get(name) or "").strip()
    return "" if value.lower() == "nan" else value


def read_listings(path: Path, columns: tuple[str, ...]) -> tuple[list[dict], list[int]]:
    """(records for Scorer.score_many, labels) from one of the peer CSV files; rows without a 0/1 label skipped."""
    records, labels = [], []
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            label = _cell(row, "label")
            if label not in ("0", "1"):
                continue
            title = _cell(row, "title").split(" | ")[0].strip()  # "... | eBay", "... | 189158237"
            record = {"title": title, "description": _cell(row, "description") if "description" in columns else ""}
            if "price" in columns:
                try:
                    record["price"] = float(_cell(row, "price"))
                except ValueError:
                    record["price"] = None
                record["currency"] = _cell(row, "currency") or None
            records.append(record)
            labels.append(int(label))
    return records, labels


def find(root: Path, name: str) -> Path | None:
    for candidate in (root / name, root / "data_use_cases" / name):
        if candidate.is_file():
            return candidate
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", type=Path, help="a checkout of VIDA-NYU/LTS, or the folder holding its CSV files")
    parser.add_argument("--models", type=Path, default=Path("models"), help="models root or version folder")
    args = parser.parse_args(argv)
    from sklearn.metrics import roc_auc_score

    from classifier.scorer import Scorer

    scorer = Scorer.load(args.models)
    found = 0
    for name, columns in SETS.items():
        path = find(args.root, name)
        if path is None:
            print(f"{name}: not found under {args.root}", file=sys.stderr)
            continue
        records, labels = read_listings(path, columns)
        if len(set(labels)) < 2:
            print(f"{name}: needs both labels, found {sorted(set(labels))}", file=sys.stderr)
            continue
        found += 1
        results = scorer.score_many(records)
        flagged_pos = sum(r.flagged for r, y in zip(results, labels) if y)
        flagged_neg = sum(r.flagged for r, y in zip(results, labels) if not y)
        auc = roc_auc_score(labels, [r.score for r in results])
        print(f"{name}: {len(labels)} listings ({sum(labels)} of animal origin), ROC AUC {auc:.3f}, "
              f"flagged {flagged_pos} of {sum(labels)} positives and {flagged_neg} of {len(labels) - sum(labels)} "
              f"negatives, model {scorer.version}")
    return 0 if found else 1


if __name__ == "__main__":
    raise SystemExit(main())

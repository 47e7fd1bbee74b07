"""Score a peer project's labelled real listings with the active model: ROC AUC and what was flagged.

VIDA-NYU/LTS labels eBay/eBid listings "of animal origin" (1) or not (0): `data_use_cases/validation_sharks.csv`
(title, description, price, currency; shark and ray products against antenna covers, toys and fossils) and
`leather_validation.csv` (titles only; insects, shells, taxidermy, leather against stamps and prints).  Two
figures per set:
- under their labels: their 1 ("of animal origin") read as "suspected wildlife-trade offer", although most of
  their positives are species no list protects (cow leather, cone shells, beetles, stingray barbs, skates);
- under wildwatch's label policy: every row labelled again by an annotator who saw only the policy and the
  listing's text, never their label or this project (`data/real/lts-mapping/`, keyed by their `id`; its
  README says how).  Rows the annotator marked unsure are reported with and without.
Their files carry no licence: they are read where they lie and never copied into this repository.

    python scripts/measure_peer_listings.py PATH/TO/LTS [--models models] [--mapping data/real/lts-mapping]

PATH is a checkout of https://github.com/VIDA-NYU/LTS (or the folder holding the two CSV files).
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

MAPPING = Path(__file__).resolve().parents[1] / "data" / "real" / "lts-mapping"

SETS = {
    "validation_sharks.csv": ("title", "description", "price", "currency"),
    "leather_validation.csv": ("title",),
}


def _cell(row: dict, name: str) -> str:
    value = (row.get(name) or "").strip()
    return "" if value.lower() == "nan" else value


def read_listings(path: Path, columns: tuple[str, ...]) -> tuple[list[dict], list[int], list[str]]:
    """(records for Scorer.score_many, labels, their ids) from one of the peer CSV files; rows without a 0/1
    label skipped."""
    records, labels, keys = [], [], []
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
            keys.append(_cell(row, "id"))
    return records, labels, keys


def read_mapping(path: Path) -> dict[str, dict]:
    """Our labels for one peer file, by their id: {id: {"label": 0|1, "unsure": bool, ...}}."""
    mapping: dict[str, dict] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            key, label, unsure = str(row["key"]), int(row["label"]), bool(row["unsure"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path} line {number}: not a mapping row ({exc})") from exc
        if label not in (0, 1):
            raise ValueError(f"{path} line {number}: label must be 0 or 1, got {label}")
        mapping[key] = {**row, "label": label, "unsure": unsure}
    return mapping


def mapped_figures(scores: list[float], flagged: list[bool], keys: list[str], mapping: dict[str, dict]) -> str:
    """The line reporting ROC AUC and flags under wildwatch's label policy (and without the unsure rows)."""
    from sklearn.metrics import roc_auc_score

    rows = [(s, f, mapping[k]) for s, f, k in zip(scores, flagged, keys) if k in mapping]
    unmapped = len(keys) - len(rows)
    labels = [m["label"] for _, _, m in rows]
    offers = sum(labels)
    line = f"  under wildwatch's label policy: {offers} offers of {len(rows)}"
    if unmapped:
        line += f" ({unmapped} rows have no mapped label and are left out)"
    if len(set(labels)) < 2:
        return line + ": needs both labels"
    line += (f", ROC AUC {roc_auc_score(labels, [s for s, _, _ in rows]):.3f}; flagged "
             f"{sum(f for _, f, m in rows if m['label'])} of {offers} offers and "
             f"{sum(f for _, f, m in rows if not m['label'])} of {len(rows) - offers} others")
    sure = [(s, m["label"]) for s, _, m in rows if not m["unsure"]]
    if len({y for _, y in sure}) == 2 and len(sure) < len(rows):
        line += (f"; without the {len(rows) - len(sure)} rows marked unsure: ROC AUC "
                 f"{roc_auc_score([y for _, y in sure], [s for s, _ in sure]):.3f} "
                 f"({sum(y for _, y in sure)} offers of {len(sure)})")
    return line


def find(root: Path, name: str) -> Path | None:
    for candidate in (root / name, root / "data_use_cases" / name):
        if candidate.is_file():
            return candidate
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", type=Path, help="a checkout of VIDA-NYU/LTS, or the folder holding its CSV files")
    parser.add_argument("--models", type=Path, default=Path("models"), help="models root or version folder")
    parser.add_argument("--mapping", type=Path, default=MAPPING,
                        help="folder of <file stem>.jsonl with wildwatch's labels for the peer rows")
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
        records, labels, keys = read_listings(path, columns)
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
        mapping_file = args.mapping / f"{Path(name).stem}.jsonl"
        if mapping_file.is_file():
            print(mapped_figures([r.score for r in results], [r.flagged for r in results], keys,
                                 read_mapping(mapping_file)))
        else:
            print(f"  under wildwatch's label policy: no mapping ({mapping_file} not found)")
    return 0 if found else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""Training from analysts' decisions: `wildwatch train --with-reviews`.

Current decisions become labels (confirmed and escalated = 1, false positive
= 0; needs expert is no label yet). They are appended to the labelled CSV as a
new file under data/training/ (kept: the model's metadata points at it), a new
model is trained on it without being activated, and both the new and the
active model are scored on the same held-out rows: the labelled set's held-out
part (the split is a stable hash of the id, so it is the same rows as before)
plus the reviewed listings that fall on the held-out side.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy.engine import Engine

from classifier.artifacts import ModelIncompatibleError, resolve_version_dir, write_active
from classifier.evaluation import evaluate
from classifier.labelled import LabelledRow, is_test_id, read_labelled
from classifier.scorer import Scorer
from classifier.train import TrainReport, train
from store.db import session_scope
from store.decisions import reviewed_listings
from wildwatch.resources import HELD_BACK_DIR

LABELS = {"confirmed": 1, "escalated": 1, "false_positive": 0}  # needs_expert: not a label yet
COLUMNS = ("id", "title", "description", "price", "currency", "label", "group", "category", "lang", "source")
REVIEW_PREFIX = "review:"


@dataclass
class ReviewTraining:
    report: TrainReport
    data_path: Path
    n_reviewed: int
    n_reviewed_test: int
    old_version: str | None
    comparison: dict[str, dict[str, dict | None]]  # subset -> {"old": metrics, "new": metrics}
    activated: bool

    def lines(self) -> list[str]:
        out = [f"training data: {self.data_path} ({self.n_reviewed} reviewed listings added, "
               f"{self.n_reviewed_test} of them held out)",
               f"new model {self.report.version} vs active {self.old_version or '(none)'}, same held-out rows:"]
        for subset, pair in self.comparison.items():
            for name in ("old", "new"):
                m = pair.get(name)
                if m is None:
                    continue
                out.append(f"  {subset:<9} {name}: n {m['n']}, precision {m['precision']:.3f}, recall {m['recall']:.3f}, "
                           f"F1 {m['f1']:.3f}, ROC AUC {m['roc_auc']}")
        out.append(f"activated {self.report.version}" if self.activated else
                   f"not activated: run `wildwatch train --with-reviews --activate`, or point models/ACTIVE at "
                   f"{self.report.version}")
        return out


def review_rows(engine: Engine) -> list[dict[str, str]]:
    """One labelled-CSV row per listing whose current decision is a label."""
    with session_scope(engine) as session:
        reviewed = reviewed_listings(session)
    rows = []
    for r in reviewed:
        if r.decision not in LABELS:
            continue
        species = r.species or []
        rows.append({
            "id": f"{REVIEW_PREFIX}{r.marketplace}:{r.external_id}",
            "title": r.title or "", "description": r.description or "",
            "price": "" if r.price is None else str(r.price), "currency": r.currency or "",
            "label": str(LABELS[r.decision]), "group": species[0] if species else "",
            "category": "", "lang": "", "source": f"review:{r.decision}",
        })
    return [row for row in rows if row["title"].strip()]


def write_training_csv(base_csv: Path, extra: list[dict[str, str]], out_dir: Path) -> Path:
    """The labelled CSV with the reviewed rows appended, as a new file (the original is never edited)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"with-reviews-{datetime.now(timezone.utc):%Y%m%d-%H%M%S}.csv"
    n = 1
    while path.exists():
        n += 1
        path = out_dir / f"with-reviews-{datetime.now(timezone.utc):%Y%m%d-%H%M%S}-{n}.csv"
    with open(base_csv, encoding="utf-8-sig", newline="") as source, open(path, "w", encoding="utf-8", newline="") as out:
        reader = csv.DictReader(source)
        fields = list(reader.fieldnames or COLUMNS)
        fields += [c for c in COLUMNS if c not in fields]
        writer = csv.DictWriter(out, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        for row in reader:
            writer.writerow(row)
        for row in extra:
            writer.writerow(row)
    return path


def _metrics(scorer: Scorer, rows: list[LabelledRow]) -> dict | None:
    if not rows:
        return None
    labels = [r.label for r in rows]
    results = scorer.score_many([r.record() for r in rows])
    return evaluate(labels, [r.score for r in results], scorer.threshold)


def train_with_reviews(engine: Engine, base_csv: Path, models_dir: Path, data_dir: Path, *,
                       activate: bool = False, seed: int = 0, semantic: bool | None = None) -> ReviewTraining:
    """Train on labelled data plus decisions, compare with the active model, activate only when asked.

    ``semantic``: as ``classifier.train.train`` (None: the semantic stage where its package is installed)."""
    extra = review_rows(engine)
    data_path = write_training_csv(Path(base_csv), extra, Path(data_dir) / "training")
    try:
        old = Scorer.load(resolve_version_dir(Path(models_dir)))
    except (FileNotFoundError, ModelIncompatibleError):  # no usable active model: report the new one alone
        old = None
    report = train(data_path, models_dir, activate=False, seed=seed, held_back_dir=HELD_BACK_DIR,
                   semantic=semantic, embedding_cache=Path(data_dir) / "cache")
    new = Scorer.load(report.version_dir)
    rows, _problems = read_labelled(data_path)
    held_out = [r for r in rows if is_test_id(r.id, seed=seed)]
    subsets = {
        "all": held_out,
        "labelled": [r for r in held_out if not r.id.startswith(REVIEW_PREFIX)],
        "reviewed": [r for r in held_out if r.id.startswith(REVIEW_PREFIX)],
    }
    comparison = {
        name: {"old": _metrics(old, subset) if old else None, "new": _metrics(new, subset)}
        for name, subset in subsets.items() if subset
    }
    if activate:
        write_active(Path(models_dir), report.version)
    return ReviewTraining(report=report, data_path=data_path, n_reviewed=len(extra),
                          n_reviewed_test=len(subsets["reviewed"]), old_version=old.version if old else None,
                          comparison=comparison, activated=activate)

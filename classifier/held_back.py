"""Choose the flag threshold on listings nobody trained on or read: the held-back writers.

Why: the threshold used to be the score keeping 90% of the training offers above it, out of fold.
The lexicon's new terms are read from those same rows' misses, so every round of terms raised their
scores and the threshold with them (0.0114 -> 0.0145 in one session), and on text the terms do not
name that gave recall back.  Held-back writers (``data/independent/calibration``) were written under
the same brief as the training and evaluation writers, and their rows are only ever scored: never
trained on, listed or read, and no term comes from them.  The threshold is the one with the best F1
on them, taking the bars into account.

The bars do not move with the threshold: a listing that answers to a bar (no wildlife evidence, no
offer signal, neither) is flagged when its score before the adjustment reaches both the bar and the
threshold (``no_evidence_shift`` puts the bar on the threshold), so its *effective* score is its own
score when that reaches its bar, and nothing otherwise.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from classifier.assess import EvalRow, read_eval_data
from classifier.evaluation import f1_curve, midpoint_below
from classifier.inference import BARE, NO_EVIDENCE, NO_OFFER, logit

__all__ = ["HeldBackChoice", "F1_TOLERANCE", "read_held_back", "effective_logits", "choose_held_back_threshold", "bars_by_kind"]

# F1 near its best is a flat, jagged curve over a thousand rows: one row moves the argmax a long way.
# The threshold is the median (in log-odds) of every candidate within this much of the best F1.
F1_TOLERANCE = 0.005


@dataclass(frozen=True)
class HeldBackChoice:
    """The threshold chosen on the held-back rows (at the training prevalence) and what it gives there."""

    threshold: float
    n: int
    n_offers: int
    f1: float
    precision: float
    recall: float
    files: tuple[str, ...]

    def to_dict(self) -> dict:
        return {"threshold_at_training_prevalence": self.threshold, "n": self.n, "offers": self.n_offers,
                "f1": round(self.f1, 4), "precision": round(self.precision, 4), "recall": round(self.recall, 4),
                "files": list(self.files)}


def read_held_back(folder: Path | None) -> tuple[list[EvalRow], list[str], tuple[str, ...]]:
    """(rows, problems, file names) of ``folder/*.jsonl``; nothing when the folder is missing (a data folder of its own)."""
    if folder is None or not Path(folder).is_dir():
        return [], [], ()
    rows: list[EvalRow] = []
    problems: list[str] = []
    files = tuple(sorted(Path(folder).glob("*.jsonl")))
    for path in files:
        file_rows, file_problems = read_eval_data(path)
        rows += file_rows
        problems += file_problems
    return rows, problems, tuple(p.name for p in files)


def effective_logits(fitted_logits: np.ndarray, kinds: np.ndarray, bars: dict[int, float]) -> np.ndarray:
    """Each row's log-odds at the training prevalence, or -inf where it stays under its bar (never flagged)."""
    z = np.asarray(fitted_logits, dtype=float)
    floor = np.full_like(z, -np.inf)
    for kind, bar in bars.items():
        floor[np.asarray(kinds) == kind] = logit(bar)
    return np.where(z >= floor, z, -np.inf)


def choose_held_back_threshold(y: np.ndarray, fitted_logits: np.ndarray, kinds: np.ndarray,
                               bars: dict[int, float], files: tuple[str, ...] = (),
                               tolerance: float = F1_TOLERANCE) -> HeldBackChoice:
    """The threshold (probability at the training prevalence) with the best F1 on the held-back rows.

    ``fitted_logits`` are the model's log-odds at the training prevalence before any bar; ``kinds`` say
    which bar each row answers to (``inference.missing_evidence_kind``); ``bars`` map those kinds to
    their bars (BARE to the larger of its two).
    """
    y = np.asarray(y, dtype=int)
    if y.min() == y.max():
        raise ValueError("the held-back rows need both labels to choose a threshold")
    e = effective_logits(fitted_logits, kinds, bars)
    finite = np.isfinite(e)
    # precision_recall_curve takes finite scores only: a row under its bar sits below every other row
    scores = np.where(finite, e, e[finite].min() - 50.0 if finite.any() else -50.0)
    f1, _recall, thresholds = f1_curve(y, scores)
    near = thresholds[f1 >= f1.max() - tolerance]
    chosen_logit = float(np.median([midpoint_below(scores, float(t)) for t in near]))
    flagged = scores >= chosen_logit
    tp = int(np.sum(flagged & (y == 1)))
    fp = int(np.sum(flagged & (y == 0)))
    fn = int(np.sum(~flagged & (y == 1)))
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return HeldBackChoice(threshold=float(1.0 / (1.0 + np.exp(-chosen_logit))), n=len(y), n_offers=int(y.sum()),
                          f1=2 * p * r / (p + r) if p + r else 0.0, precision=p, recall=r, files=files)


def bars_by_kind(no_evidence_bar: float, no_offer_bar: float, bare_bar: float) -> dict[int, float]:
    """The bar each kind of listing answers to (a bare listing: the larger of the two that apply)."""
    return {NO_EVIDENCE: no_evidence_bar, NO_OFFER: no_offer_bar, BARE: max(no_evidence_bar, bare_bar)}

"""Held-out metrics and threshold choice, kept apart from training so both are testable alone."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np
from sklearn.metrics import (
    average_precision_score,
    confusion_matrix,
    f1_score,
    precision_recall_curve,
    precision_score,
    recall_score,
    roc_auc_score,
)

__all__ = ["choose_threshold", "evaluate", "f1_curve", "midpoint_below"]


def choose_threshold(
    y_true: Sequence[int], proba: Sequence[float], *, recall_floor: float = 0.9, sample_weight: Sequence[float] | None = None
) -> float:
    """The highest threshold that keeps recall >= ``recall_floor``: the most precise operating point at the floor.

    Missing a trafficking listing costs more than an analyst's glance at a false alarm, hence the floor; past it,
    on a marketplace where offers are about 1% of listings, precision decides whether analysts use the queue.
    The point where recall reaches the floor is a quantile of the positives' scores, so it moves little when the
    lexicon or the training data change; the best F1 above the floor sits on a flat curve and jumped with them
    (2026-12-06: 0.474, 0.456, 0.449, 0.450, 0.412 at the training prevalence over five retrains of one day).
    If no threshold reaches the floor, the one with the best F1 overall is used.  Call it with out-of-fold
    probabilities from the training folds, never with the test set.
    """
    y = np.asarray(y_true)
    p = np.asarray(proba, dtype=float)
    if y.min() == y.max():
        raise ValueError("choose_threshold needs both classes in y_true")
    f1, recall, thresholds = f1_curve(y, p, sample_weight=sample_weight)
    allowed = recall >= recall_floor
    # thresholds ascend; recall falls as they rise: the last allowed one is the highest that keeps the floor
    best = int(np.where(allowed)[0].max()) if allowed.any() else int(np.argmax(f1))
    return midpoint_below(p, float(thresholds[best]))


def f1_curve(y: np.ndarray, scores: np.ndarray, sample_weight: Sequence[float] | None = None
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(F1, recall, threshold) at every distinct score, thresholds ascending (precision_recall_curve's points)."""
    precision, recall, thresholds = precision_recall_curve(y, scores, sample_weight=sample_weight)
    precision, recall = precision[:-1], recall[:-1]  # the last point has no threshold
    f1 = np.where(precision + recall > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-12), 0.0)
    return f1, recall, thresholds


def midpoint_below(scores: np.ndarray, chosen: float) -> float:
    """Halfway from ``chosen`` (a score) to the next lower score, or ``chosen`` when none is lower.

    Every threshold between the two flags the same rows; the midpoint leaves a margin on both sides instead
    of sitting exactly on the weakest row it keeps.
    """
    below = scores[scores < chosen]
    return (chosen + float(below.max())) / 2 if below.size else chosen


TOP_K = (50, 100)
REALISTIC_PREVALENCE = 0.01


def _precision_at_prevalence(tp: int, fn: int, fp: int, tn: int, prevalence: float) -> float | None:
    if tp + fn == 0 or fp + tn == 0:
        return None
    tpr, fpr = tp / (tp + fn), fp / (fp + tn)
    flagged = tpr * prevalence + fpr * (1 - prevalence)
    return round(tpr * prevalence / flagged, 4) if flagged else None


def _precision_at(y: np.ndarray, p: np.ndarray, k: int) -> float | None:
    """Share of label 1 among the k highest scores (ties broken by position); None below k rows."""
    if len(y) < k:
        return None
    top = np.argsort(-p, kind="stable")[:k]
    return round(float(y[top].mean()), 4)


def _rate(flags: list[bool]) -> float | None:
    return round(float(np.mean(flags)), 4) if flags else None


def evaluate(
    y_true: Sequence[int],
    proba: Sequence[float],
    threshold: float,
    *,
    categories: Sequence[str] | None = None,
    groups: Sequence[str] | None = None,
    langs: Sequence[str] | None = None,
) -> dict:
    """Precision, recall, F1, ROC AUC, PR AUC, confusion matrix; per-category, per-group and per-language tables.

    ``coded_recall`` (recall on category "coded") and ``hard_negative_fpr``
    (false-positive rate on category "hard_negative") are lifted to the top
    level: they are the figures the project's targets name.
    """
    y = np.asarray(y_true, dtype=int)
    p = np.asarray(proba, dtype=float)
    pred = (p >= threshold).astype(int)
    tn, fp, fn, tp = confusion_matrix(y, pred, labels=[0, 1]).ravel()
    metrics: dict = {
        "n": int(len(y)),
        "n_positive": int(y.sum()),
        "threshold": round(float(threshold), 6),
        "precision": round(float(precision_score(y, pred, zero_division=0)), 4),
        "recall": round(float(recall_score(y, pred, zero_division=0)), 4),
        "f1": round(float(f1_score(y, pred, zero_division=0)), 4),
        "roc_auc": round(float(roc_auc_score(y, p)), 4) if 0 < y.sum() < len(y) else None,
        "pr_auc": round(float(average_precision_score(y, p)), 4) if 0 < y.sum() < len(y) else None,
        "confusion_matrix": {"tn": int(tn), "fp": int(fp), "fn": int(fn), "tp": int(tp)},
        # What an analyst queue feels: false alarms per 10,000 negatives, and how clean its top is.
        "false_alarms_per_10k": round(10_000 * float(fp) / max(1, int((y == 0).sum())), 1),
        **{f"precision_at_{k}": _precision_at(y, p, k) for k in TOP_K},
        # Offers are well under 1% of what a marketplace lists: the precision this recall and
        # false-positive rate would give at that base rate.
        "precision_at_1pct_prevalence": _precision_at_prevalence(tp, fn, fp, tn, REALISTIC_PREVALENCE),
    }
    if categories is not None:
        per_category: dict[str, dict] = {}
        buckets: dict[str, list[int]] = defaultdict(list)
        for i, c in enumerate(categories):
            buckets[c or "(none)"].append(i)
        for category, idx in sorted(buckets.items()):
            pos = [bool(pred[i]) for i in idx if y[i] == 1]
            neg = [bool(pred[i]) for i in idx if y[i] == 0]
            per_category[category] = {
                "n": len(idx),
                "n_positive": len(pos),
                "recall": _rate(pos),
                "false_positive_rate": _rate(neg),
                "false_alarms_per_10k": None if not neg else round(10_000 * sum(neg) / len(neg), 1),
            }
        metrics["per_category"] = per_category
        metrics["coded_recall"] = per_category.get("coded", {}).get("recall")
        metrics["hard_negative_fpr"] = per_category.get("hard_negative", {}).get("false_positive_rate")
        metrics["ordinary_false_alarms_per_10k"] = per_category.get("ordinary", {}).get("false_alarms_per_10k")
    if groups is not None:
        per_group: dict[str, dict] = {}
        buckets = defaultdict(list)
        for i, g in enumerate(groups):
            if y[i] == 1:
                buckets[g or "(none)"].append(i)
        for group, idx in sorted(buckets.items()):
            per_group[group] = {"n_positive": len(idx), "recall": _rate([bool(pred[i]) for i in idx])}
        metrics["per_group_recall"] = per_group
        per_group_all: dict[str, dict] = {}
        buckets = defaultdict(list)
        for i, g in enumerate(groups):
            buckets[g or "(none)"].append(i)
        for group, idx in sorted(buckets.items()):
            per_group_all[group] = _slice(y, pred, idx)
        metrics["per_group"] = per_group_all
    if langs is not None:
        buckets = defaultdict(list)
        for i, lang in enumerate(langs):
            buckets[lang or "(none)"].append(i)
        metrics["per_language"] = {lang: _slice(y, pred, idx) for lang, idx in sorted(buckets.items())}
    return metrics


def _slice(y: np.ndarray, pred: np.ndarray, idx: list[int]) -> dict:
    """Counts and rates for one slice (a group or a language) of an evaluation."""
    tp = sum(1 for i in idx if y[i] == 1 and pred[i] == 1)
    fp = sum(1 for i in idx if y[i] == 0 and pred[i] == 1)
    fn = sum(1 for i in idx if y[i] == 1 and pred[i] == 0)
    n_pos = tp + fn
    n_neg = len(idx) - n_pos
    precision = round(tp / (tp + fp), 4) if tp + fp else None
    recall = round(tp / n_pos, 4) if n_pos else None
    f1 = round(2 * tp / (2 * tp + fp + fn), 4) if tp + fp + fn else None
    return {
        "n": len(idx),
        "n_positive": n_pos,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "false_positive_rate": round(fp / n_neg, 4) if n_neg else None,
        "tp": tp, "fp": fp, "fn": fn,
    }

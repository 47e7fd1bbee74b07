"""Render MODEL_CARD.md from a model's metadata: what it is, data, metrics, limits."""
from __future__ import annotations

from typing import Any

__all__ = ["render_model_card"]


def _pct(value: Any) -> str:
    return "n/a" if value is None else f"{100 * float(value):.1f}%"


def render_model_card(meta: dict[str, Any]) -> str:
    """Markdown for people deciding whether to trust this model version."""
    test = meta["metrics"]["test"]
    cm = test["confusion_matrix"]
    lines = [
        f"# Model card: {meta['version']}",
        "",
        "## What it is",
        "A text classifier that scores online marketplace listings for *suspected* illegal wildlife trade.",
        "It **flags suspicious listings for an analyst; it never decides that a listing is illegal.**",
        "Legality depends on species, age, permits and jurisdiction, none of which the text proves.",
        "",
        "Model: lexicon rule evidence (term hits, intent co-occurrence, exclusions) + character n-gram",
        "TF-IDF on normalised title and description, combined in a logistic regression (balanced class weights).",
        f"Decision threshold: **{meta['threshold']:.4f}** (chosen by {meta['threshold_method']}).",
        "",
        "## Data",
        f"- Training file: `{meta['training_data']['path']}` (sha256 `{meta['training_data']['sha256'][:16]}…`)",
        f"- Rows used: {meta['n_train']} train, {meta['n_test']} held out (stable hash split by id);"
        f" {meta['n_skipped']} row(s) skipped as invalid.",
        f"- Lexicon version: `{meta['lexicon_version']}` ({meta['lexicon_terms']} terms).",
        "",
        "## Held-out metrics",
        f"- Precision {_pct(test['precision'])}, recall {_pct(test['recall'])}, F1 {_pct(test['f1'])},"
        f" ROC AUC {test['roc_auc']}",
        f"- Confusion matrix: TP {cm['tp']}, FP {cm['fp']}, FN {cm['fn']}, TN {cm['tn']}",
        "",
        "| category | n | recall | false-positive rate |",
        "|---|---|---|---|",
    ]
    for category, row in test.get("per_category", {}).items():
        lines.append(f"| {category} | {row['n']} | {_pct(row['recall'])} | {_pct(row['false_positive_rate'])} |")
    lines += ["", "| group | positives | recall |", "|---|---|---|"]
    for group, row in test.get("per_group_recall", {}).items():
        lines.append(f"| {group} | {row['n_positive']} | {_pct(row['recall'])} |")
    lines += [
        "",
        "## Limits",
        "- Text only: listings that carry the offer in images, voice or private chat score low.",
        "- Code words change monthly; terms missing from the lexicon are caught only if the character",
        "  n-grams resemble training examples. Retrain after each lexicon update.",
        "- The held-out set comes from the same curated data as the training set; real marketplace",
        "  text will score worse. Measure precision on reviewed flags before trusting these numbers.",
        "- Legal lookalikes (mammoth, walrus, antiques with permits, farmed bear bile) are scored",
        "  by the same rules; an analyst must check provenance.",
        "- Price and currency are not used.",
        "",
        "## Reproduce",
        f"`wildwatch train` with the same data and lexicon (seed {meta['seed']}); versions:"
        f" {', '.join(f'{k} {v}' for k, v in meta['versions'].items())}.",
        "",
    ]
    return "\n".join(lines)

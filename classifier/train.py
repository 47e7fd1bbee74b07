"""Train, evaluate and save a model version: ``wildwatch train`` calls ``train``.

Split by a stable hash of the id (80/20); fit on the training part, where the
classifier calibrates its probabilities on out-of-fold scores from GroupKFold
over the training data's phrase pools (``source``), so each fold is scored by a
model that never saw its pool's wording; choose the decision threshold on those
calibrated out-of-fold probabilities (best precision with recall >= 0.95);
report on the held-out 20% exactly as ``wildwatch evaluate`` does; write
``models/<version>/``.  Where the 'semantic' extra is installed, the semantic second stage
(``classifier.semantic``) is fitted on the out-of-fold scores before the threshold is chosen, so the
threshold and the reports are the stacked scores'.
"""
from __future__ import annotations

import hashlib
import platform
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import jieba
import numpy as np
import sklearn
from classifier.artifacts import save_model, sha256_file, write_active
from classifier.card import render_model_card
from classifier.evaluation import choose_threshold, evaluate
from classifier.features import (BARE_WORDING_BAR, DEFAULT_MODEL_CONFIG, NO_EVIDENCE_BAR, NO_OFFER_BAR, adjust_for_missing_evidence,
                                 build_pipeline, inference_model, no_evidence_shift, shift_probability)
from classifier.held_back import bars_by_kind, choose_held_back_threshold, read_held_back
from classifier.inference import logit, missing_evidence_kind
from classifier.labelled import LabelledDataError, LabelledRow, extra_sets, is_test_id, read_training_sets
from classifier.lexicon import load_lexicon
from classifier.semantic import SemanticStage, available as semantic_available, fit_semantic_stage, semantic_text
from wildwatch.resources import LABELLED_CSV, LEXICON_DIR

__all__ = ["TrainReport", "train", "RECALL_FLOOR"]

# Recall kept on the (weighted) out-of-fold training scores when choosing the threshold: 0.95 let
# every species word in news and merchandise through on independent text; 0.90 trades a little
# recall for precision that an analyst queue can live with.
RECALL_FLOOR = 0.90
# Rows written without the lexicon in view (data/independent/train) are the closest thing to the
# real distribution the training data has; each counts as this many synthetic rows.
INDEPENDENT_WEIGHT = 4.0


def row_weight(row: LabelledRow, independent_weight: float = INDEPENDENT_WEIGHT) -> float:
    """Training weight of one row: independent writers' rows count more than the synthetic pools."""
    return independent_weight if row.source.startswith("independent:") else 1.0
CV_FOLDS = 5
EVALUATE_COMMAND = "wildwatch evaluate {data} --split test"


@dataclass
class TrainReport:
    """What a training run produced; ``metrics`` holds held-out and cross-validated figures."""

    version: str
    version_dir: Path
    threshold: float
    metrics: dict
    n_train: int
    n_test: int
    activated: bool
    skipped: list[str] = field(default_factory=list)

    def summary(self) -> str:
        t = self.metrics["test"]
        return (
            f"{self.version}: held-out precision {t['precision']:.3f}, recall {t['recall']:.3f}, "
            f"F1 {t['f1']:.3f}, ROC AUC {t['roc_auc']}, threshold {self.threshold:.3f} "
            f"({self.n_train} train / {self.n_test} test, {len(self.skipped)} skipped)"
        )


def _new_version_dir(models_dir: Path, data_sha: str) -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    base = f"wildwatch-{stamp}-{data_sha[:8]}"
    candidate, n = models_dir / base, 1
    while candidate.exists():  # two runs in one second (tests, scripts) must not collide
        n += 1
        candidate = models_dir / f"{base}-{n}"
    return candidate


def _versions() -> dict[str, str]:
    return {
        "python": platform.python_version(),
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "jieba": jieba.__version__,
        "scipy": __import__("scipy").__version__,
        "joblib": __import__("joblib").__version__,
    }


def _labels(rows: list[LabelledRow]) -> np.ndarray:
    return np.asarray([r.label for r in rows], dtype=int)


def _base_rate_proba(rest, analyses, rows, semantic: SemanticStage | None) -> np.ndarray:
    """What the Scorer gives before the bars: stage one's probability at the base rate, then the semantic
    stage's where the model has one."""
    proba = rest.predict_proba(analyses)[:, 1]
    if semantic is not None:
        proba, _ = semantic.rescore(proba, [semantic_text(r.title, r.description) for r in rows])
    return proba


def _held_back_choice(folder: Path | None, analyzer, rest, prior_shift: float, semantic: SemanticStage | None = None):
    """The threshold chosen on the held-back writers' rows, or None when there are none of both labels."""
    rows, _problems, files = read_held_back(folder)
    if not rows or len({r.label for r in rows}) < 2:
        return None
    analyses = analyzer.transform([r.record() for r in rows])
    fitted_logits = logit(_base_rate_proba(rest, analyses, rows, semantic)) - prior_shift  # at the training prevalence
    kinds = np.asarray([missing_evidence_kind(a) for a in analyses])
    return choose_held_back_threshold(np.asarray([r.label for r in rows]), fitted_logits, kinds,
                                      bars_by_kind(NO_EVIDENCE_BAR, NO_OFFER_BAR, BARE_WORDING_BAR), files)


def train(
    labelled_csv: Path = LABELLED_CSV,
    models_dir: Path | None = None,
    *,
    activate: bool = True,
    seed: int = 0,
    lexicon_dir: Path = LEXICON_DIR,
    recall_floor: float = RECALL_FLOOR,
    include_extra: bool = True,
    independent_weight: float = INDEPENDENT_WEIGHT,
    held_back_dir: Path | None = None,
    semantic: bool | None = None,
    embedding_cache: Path | None = None,
) -> TrainReport:
    """Train one model version from the labelled CSV and the lexicon into ``models_dir``; see the module
    docstring. The labelled data and the lexicon default to the ones shipped with wildwatch; where models go
    is the caller's (the CLI passes Settings.models_dir). With ``held_back_dir`` (JSON Lines of writers nobody
    trained on or read, ``data/independent/calibration``) the threshold is chosen on those rows
    (``classifier.held_back``); without it, or when it holds no rows of both labels, by the recall floor on
    the out-of-fold training scores. ``semantic``: fit the semantic second stage (``classifier.semantic``);
    None fits it when its package is installed; ``embedding_cache``: the folder that keeps the training rows'
    embeddings between trainings (the CLI passes ``<data dir>/cache``), None to embed them every time."""
    if models_dir is None:
        raise TypeError("train() needs models_dir: the folder the new model version goes in")
    labelled_csv, models_dir = Path(labelled_csv), Path(models_dir)
    files = [labelled_csv] + (extra_sets(labelled_csv) if include_extra else [])
    rows, skipped = read_training_sets(files)
    lexicon = load_lexicon(lexicon_dir)
    skipped += [f"lexicon: {issue}" for issue in lexicon.issues if issue.severity == "error"]
    train_rows = [r for r in rows if not is_test_id(r.id, seed=seed)]
    test_rows = [r for r in rows if is_test_id(r.id, seed=seed)]
    y_train, y_test = _labels(train_rows), _labels(test_rows)
    for name, y in (("training", y_train), ("held-out", y_test)):
        if len(set(y.tolist())) < 2:
            raise LabelledDataError(f"{labelled_csv}: the {name} split needs both labels 0 and 1")

    pipeline = build_pipeline(lexicon, seed=seed)
    analyzer = pipeline.named_steps["analyze"].fit()
    # Analysis (normalise + rules) learns nothing from data, so it runs once and
    # is shared by fitting and the held-out report.
    train_analyses = analyzer.transform([r.record() for r in train_rows])
    test_analyses = analyzer.transform([r.record() for r in test_rows])
    rest = pipeline[1:]
    if int(np.bincount(y_train).min()) < 2:
        raise LabelledDataError(f"{labelled_csv}: too few examples of one label to cross-validate")
    rest.fit(train_analyses, y_train, model__groups=[r.pool for r in train_rows],
             model__sample_weight=[row_weight(r, independent_weight) for r in train_rows])
    model = pipeline.named_steps["model"]
    oof = model.oof_proba_
    prior_shift = float(getattr(model, "prior_shift_", 0.0))
    stage: SemanticStage | None = None
    semantic_skipped = None if (semantic_available() if semantic is None else semantic) else "not asked for"
    if semantic_skipped is None:
        try:
            stage, oof_logits = fit_semantic_stage(
                [semantic_text(r.title, r.description) for r in train_rows], y_train,
                logit(oof), groups=[r.pool for r in train_rows],
                sample_weight=np.asarray([row_weight(r, independent_weight) for r in train_rows]),
                prior_shift=prior_shift, cache_dir=embedding_cache, seed=seed)
        except ValueError as exc:  # too little data for it (a small test set): stage one alone, and the reason
            if semantic:
                raise LabelledDataError(f"{labelled_csv}: {exc}") from exc
            semantic_skipped = str(exc)
        else:
            oof = 1.0 / (1.0 + np.exp(-oof_logits))  # the stacked out-of-fold scores, at the training prevalence
    # Threshold and bars are chosen where the sigmoid was fitted (the training rows' share of offers);
    # the model's scores are for the marketplace base rate, so the threshold moves by the same log-odds
    # (prior_shift_) and every flag decision stays as it was chosen (CalibratedLogisticRegression).
    oof_threshold = choose_threshold(y_train, oof, recall_floor=recall_floor,
                                     sample_weight=[row_weight(r, independent_weight) for r in train_rows])
    held_back = _held_back_choice(held_back_dir, analyzer, rest, prior_shift, stage)
    fitted_threshold = held_back.threshold if held_back else oof_threshold
    shift = no_evidence_shift(fitted_threshold)
    offer_shift = no_evidence_shift(fitted_threshold, NO_OFFER_BAR)
    bare_shift = no_evidence_shift(fitted_threshold, BARE_WORDING_BAR)
    threshold = shift_probability(fitted_threshold, prior_shift)
    test_proba = adjust_for_missing_evidence(_base_rate_proba(rest, test_analyses, test_rows, stage), test_analyses,
                                             shift, offer_shift, bare_shift)
    oof = adjust_for_missing_evidence(shift_probability(oof, prior_shift), train_analyses, shift, offer_shift, bare_shift)

    metrics = {
        "test": evaluate(
            y_test,
            test_proba,
            threshold,
            categories=[r.category for r in test_rows],
            groups=[r.group for r in test_rows],
            langs=[r.lang for r in test_rows],
        ),
        "cross_validated_train": evaluate(y_train, oof, threshold, categories=[r.category for r in train_rows]),
    }
    folds = model.cv_
    params = pipeline.get_params()
    ngrams = dict(params["features"].transformer_list)["chars"].steps[1][1]  # the n-gram vectorizer
    data_sha = sha256_file(labelled_csv)
    if len(files) > 1:
        data_sha = hashlib.sha256("".join(sha256_file(f) for f in files).encode()).hexdigest()
    version_dir = _new_version_dir(models_dir, data_sha)
    metadata = {
        "version": version_dir.name,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "versions": _versions(),
        "training_data": {
            "path": str(labelled_csv),
            "sha256": data_sha,
            "files": [{"path": str(f), "sha256": sha256_file(f)} for f in files],
        },
        "lexicon_version": lexicon.version,
        "lexicon_dir": str(lexicon_dir),
        "lexicon_terms": len(lexicon.entries),
        "threshold": threshold,
        "threshold_at_training_prevalence": fitted_threshold,
        "base_rate": model.base_rate,
        "training_prevalence": getattr(model, "fit_prevalence_", None),
        "prior_logit_shift": prior_shift,
        "no_evidence_logit_shift": shift,
        "no_evidence_bar": NO_EVIDENCE_BAR,
        "no_offer_logit_shift": offer_shift,
        "no_offer_bar": NO_OFFER_BAR,
        "bare_wording_logit_shift": bare_shift,
        "bare_wording_bar": BARE_WORDING_BAR,
        "model_config": {
            **DEFAULT_MODEL_CONFIG,
            "analyzer": ngrams.analyzer,
            "ngram_range": list(ngrams.ngram_range),
            "C": params["model__C"],
            "class_weight": params["model__class_weight"],
            "word_features": "words" in dict(params["features"].transformer_list),
            "transformer_weights": params["features"].transformer_weights,
            "calibration": (f"Platt sigmoid on out-of-fold decision values, {folds}, moved from the training rows' "
                            f"share of offers ({getattr(model, 'fit_prevalence_', 0):.3f}, weighted) to the base rate "
                            f"{model.base_rate} ({prior_shift:+.3f} log-odds)"),
        },
        "semantic": ({"encoder": stage.encoder, "encoder_version": stage.encoder_version,
                      "embedding_model": stage.embedding_model,
                      "candidate_logit": stage.candidate_logit, "stack_stage_one": stage.stack_stage_one,
                      "stack_semantic": stage.stack_semantic, "stack_intercept": stage.stack_intercept,
                      "n_candidates": stage.n_candidates, "n_fitted": stage.n_fitted,
                      "min_known_share": stage.min_known_share}
                     if stage else {"skipped": semantic_skipped}),
        "threshold_by_recall_floor": oof_threshold,
        "held_back": held_back.to_dict() if held_back else None,
        "threshold_method": (
            (f"the best F1 on {held_back.n} held-back writers' listings nobody trained on or read "
             f"({', '.join(held_back.files)}: F1 {held_back.f1:.3f}, precision {held_back.precision:.3f}, recall "
             f"{held_back.recall:.3f}; {fitted_threshold:.4f} at the training prevalence, {threshold:.4f} at the base "
             f"rate {model.base_rate}; the recall floor {recall_floor} on out-of-fold training probabilities would "
             f"give {oof_threshold:.4f} there)"
             if held_back else
             f"the highest threshold keeping recall >= {recall_floor} on calibrated out-of-fold training "
             f"probabilities ({folds}; {fitted_threshold:.3f} there, {threshold:.4f} at the base rate {model.base_rate})")
            + f"; a listing with no wildlife evidence is flagged only from a model score "
            f"of {NO_EVIDENCE_BAR} (its log-odds lowered by {shift:.3f}), one whose wildlife evidence has no trade-offer "
            f"signal (or one kind only, beside a mention or depiction) only from {NO_OFFER_BAR} (lowered by {offer_shift:.3f}), one with neither only from {BARE_WORDING_BAR} "
            f"(lowered by {bare_shift:.3f})"
        ),
        "evaluate_command": EVALUATE_COMMAND.format(data=labelled_csv),
        "metrics": metrics,
        "n_train": len(train_rows),
        "n_test": len(test_rows),
        "n_skipped": len(skipped),
        "seed": seed,
    }
    models_dir.mkdir(parents=True, exist_ok=True)
    metadata = save_model(pipeline, version_dir, metadata, render_model_card(metadata),
                          inference=inference_model(pipeline), semantic=stage)
    if activate:
        write_active(models_dir, version_dir.name)
    return TrainReport(
        version=version_dir.name,
        version_dir=version_dir,
        threshold=threshold,
        metrics=metrics,
        n_train=len(train_rows),
        n_test=len(test_rows),
        activated=activate,
        skipped=skipped,
    )

"""The model: listing → (normalised text, rule evidence, price) → features → calibrated logistic regression.

Training fits one scikit-learn ``Pipeline`` (the lexicon's rules, the feature union, the calibrated
regression), saved as one artifact with the exact feature layout.  Scoring does not need scikit-learn:
``inference_model`` exports the fitted numbers into a ``classifier.inference.InferenceModel``, and the
transformers here call the same feature functions (classifier.inference) that it calls.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, StratifiedKFold, cross_val_predict
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import FunctionTransformer

from classifier.inference import (
    BARE_WORDING_BAR, CNY_PER_UNIT, NO_EVIDENCE_BAR, NO_OFFER_BAR, PRICE_CHEAP_BELOW, PRICE_DEAR_FROM, PRICE_FEATURE_NAMES,
    TAXON_NAME_WEIGHT, Analysis, CharNgramCounter, CharTfidf, FeatureBlock, InferenceModel, PlattSigmoid, logit,
    adjust_for_missing_evidence, analyse, analyse_records, analysis_texts, evidence_feature_names, evidence_matrix,
    no_evidence_shift, offer_is_weak, price_in_cny, price_matrix, records_from, shift_probability,
    taxon_name_evidence,
)
from classifier.lexicon import Lexicon
from classifier.rules import RuleSet
from classifier.text import JiebaTokenizer

# The feature code lives in classifier.inference (scoring imports no scikit-learn); its names stay importable
# from here for the code and the pickled pipelines that refer to them (classifier.features.PlattSigmoid).
__all__ = [
    "CNY_PER_UNIT",
    "NO_EVIDENCE_BAR",
    "shift_probability",
    "NO_OFFER_BAR",
    "BARE_WORDING_BAR",
    "offer_is_weak",
    "no_evidence_shift",
    "adjust_for_missing_evidence",
    "Analysis",
    "ListingAnalyzer",
    "EvidenceFeatures",
    "PriceFeatures",
    "PlattSigmoid",
    "CalibratedLogisticRegression",
    "CharNgramCounter",
    "TAXON_NAME_WEIGHT",
    "taxon_name_evidence",
    "DEFAULT_MODEL_CONFIG",
    "analysis_texts",
    "build_pipeline",
    "inference_model",
    "PipelineScoring",
    "scoring_model",
    "price_in_cny",
    "records_from",
]

# Hyper-parameters chosen by grouped cross-validation (``python -m classifier.tune``;
# docs/classifier.md records the run).  Char n-grams are down-weighted against the
# rule features so that seller style alone cannot carry a listing over the threshold.
DEFAULT_MODEL_CONFIG: dict[str, Any] = {"C": 3.0, "char_weight": 1.0, "word_weight": 0.0, "rule_weight": 1.0, "hashing": False}


class ListingAnalyzer(TransformerMixin, BaseEstimator):
    """Records → ``Analysis`` objects.  Stateless on data: ``fit`` only compiles the lexicon."""

    def __init__(self, lexicon: Lexicon | None = None) -> None:
        self.lexicon = lexicon

    def fit(self, X: Any = None, y: Any = None) -> "ListingAnalyzer":
        if self.lexicon is None:
            raise ValueError("ListingAnalyzer needs a lexicon (load one with classifier.lexicon.load_lexicon)")
        self.rules_ = RuleSet(self.lexicon)
        self.lexicon_version_ = self.lexicon.version
        return self

    def analyse(self, title: str, description: str = "", price_cny: float | None = None) -> Analysis:
        return analyse(self.rules_, title, description, price_cny)

    def transform(self, X: Any) -> list[Analysis]:
        return analyse_records(self.rules_, X)


class EvidenceFeatures(TransformerMixin, BaseEstimator):
    """Rule evidence → numbers: per-kind counts and confidences, exclusions, co-occurrence, per-group strength.

    ``fit`` learns the group list (groups seen in training evidence), so the
    column layout is fixed in the artifact; unseen groups at scoring time still
    count in the kind and strength columns.
    """

    def __init__(self, per_group: bool = True) -> None:
        self.per_group = per_group

    def fit(self, X: Sequence[Analysis], y: Any = None) -> "EvidenceFeatures":
        groups = {e.group for a in X for e in a.evidence if e.group != "*"} if self.per_group else set()
        self.groups_ = tuple(sorted(groups))
        self.n_features_out_ = len(self.get_feature_names_out())
        return self

    def transform(self, X: Sequence[Analysis]) -> sparse.csr_matrix:
        return sparse.csr_matrix(self.dense(X))

    def dense(self, X: Sequence[Analysis]) -> np.ndarray:
        """The features as a dense array (``transform`` without the sparse wrapper)."""
        return evidence_matrix(X, self.groups_)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.asarray(evidence_feature_names(self.groups_), dtype=object)


def _char_tfidf(analyzer: str, ngram_range: tuple[int, int], hashing: bool) -> Pipeline:
    """Character n-gram TF-IDF on the normalised text.

    ``hashing=True`` counts n-grams with ``HashingVectorizer`` (its inner loop
    is compiled, the vocabulary lookup of ``TfidfVectorizer`` is not), which
    scores faster at the cost of readable feature names.
    """
    text = ("text", FunctionTransformer(analysis_texts))
    if hashing:
        counts = HashingVectorizer(
            analyzer=analyzer,
            ngram_range=ngram_range,
            n_features=2**20,
            alternate_sign=False,
            norm=None,
            dtype=np.float32,
        )
        steps: list[tuple[str, Any]] = [text, ("counts", counts), ("tfidf", TfidfTransformer(sublinear_tf=True))]
    else:
        tfidf = TfidfVectorizer(
            analyzer=analyzer,
            ngram_range=ngram_range,
            min_df=2,
            sublinear_tf=True,
            max_features=300_000,
            dtype=np.float32,
        )
        steps = [text, ("tfidf", tfidf)]
    return Pipeline(steps)


class PriceFeatures(TransformerMixin, BaseEstimator):
    """Price band × evidence: a "tiger" item at 30 CNY is a toy or a snack, at 30,000 CNY it is not.

    Every column is zero when the price is unknown, so a missing price (common
    for "价格面议" / "PM for price", and for callers that send none) never
    moves the score by itself.  Bands are in CNY (``price_in_cny``).
    """

    cheap_below = PRICE_CHEAP_BELOW
    dear_from = PRICE_DEAR_FROM

    def fit(self, X: Sequence[Analysis], y: Any = None) -> "PriceFeatures":
        self.n_features_out_ = len(self.get_feature_names_out())
        return self

    def transform(self, X: Sequence[Analysis]) -> sparse.csr_matrix:
        return sparse.csr_matrix(self.dense(X))

    def dense(self, X: Sequence[Analysis]) -> np.ndarray:
        """The features as a dense array (``transform`` without the sparse wrapper)."""
        return price_matrix(X, self.cheap_below, self.dear_from)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.asarray(PRICE_FEATURE_NAMES, dtype=object)


# The share of offers the scores are for.  Offers are "well under 1%" of a marketplace's listings
# (issue 12); 1% was used until the independent writers' read sets joined training (2026-12-06) and the
# model grew surer of clear offers: at 1% the demo night's top 100 read 1.00 for 69 of them, at 0.5%
# for about half, as before.  0.3% since the third session of that day, for the same reason: with eight more
# writers in training 67 of the top 100 read 1.00 at 0.5% (five distinct values), 56 at 0.3% (eight); one
# offer in 333 listings is still generous for a general marketplace.  A constant log-odds shift: the order and
# every flag stay as they are.  ``wildwatch evaluate`` still reports precision at 1% offers
# (REALISTIC_PREVALENCE), the kinder end.
SCORE_BASE_RATE = 0.003


class CalibratedLogisticRegression(ClassifierMixin, BaseEstimator):
    """Logistic regression whose probabilities are Platt-calibrated on out-of-fold scores.

    ``fit(X, y, groups=...)`` computes out-of-fold decision values with
    ``GroupKFold`` over ``groups`` (the training data's phrase pools, so a fold
    never sees the pool it is scored on; without groups, stratified folds),
    fits a sigmoid on them, and refits the regression on all rows.  One model
    at prediction time.  ``oof_proba_`` keeps the calibrated out-of-fold
    probabilities so the decision threshold can be chosen on them.

    **Base rate.**  The sigmoid is fitted where offers are the (weighted) share of the training rows
    (``fit_prevalence_``, about 27%); on a marketplace they are well under 1%: ``base_rate`` is
    ``SCORE_BASE_RATE``, one offer in 333 listings.  After fitting, the sigmoid's
    intercept is moved by ``prior_shift_`` = logit(base_rate) − logit(fit_prevalence_) (the prior
    correction of Saerens et al. 2002): ``predict_proba`` is then the probability that a listing is an
    offer on such a marketplace.  It moves every score by the same log-odds, so the order of the queue
    and, with the threshold moved the same way (classifier.train), every flag decision are unchanged;
    what changes is that a clear offer reads 0.9 rather than 0.9998, so the top of the queue is no
    longer a wall of 1.00.  ``oof_proba_`` stays on the training prevalence's scale (the threshold and
    the bars are chosen there); ``base_rate=None`` keeps the training prevalence.
    """

    def __init__(self, C: float = 1.0, class_weight: Any = "balanced", n_splits: int = 5, random_state: int = 0,
                 base_rate: float | None = SCORE_BASE_RATE):
        self.C = C
        self.class_weight = class_weight
        self.n_splits = n_splits
        self.random_state = random_state
        self.base_rate = base_rate

    def _base(self) -> LogisticRegression:
        # liblinear: about 10x faster than lbfgs on these sparse, wide matrices; the
        # large intercept_scaling keeps its penalty on the intercept negligible.
        return LogisticRegression(
            C=self.C, class_weight=self.class_weight, solver="liblinear", intercept_scaling=10.0,
            max_iter=5000, random_state=self.random_state,
        )

    def fit(self, X: Any, y: Any, groups: Any = None, sample_weight: Any = None) -> "CalibratedLogisticRegression":
        y = np.asarray(y, dtype=int)
        self.classes_ = np.unique(y)
        if len(self.classes_) != 2:
            raise ValueError("CalibratedLogisticRegression needs both labels 0 and 1")
        n_splits = max(2, min(self.n_splits, int(np.bincount(y).min())))
        if groups is not None and len(set(groups)) >= n_splits:
            cv: Any = GroupKFold(n_splits=n_splits)
            self.cv_ = f"GroupKFold({n_splits}) over {len(set(groups))} groups"
        else:
            groups = None
            cv = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=self.random_state)
            self.cv_ = f"StratifiedKFold({n_splits})"
        params = {} if sample_weight is None else {"sample_weight": np.asarray(sample_weight, dtype=float)}
        oof = cross_val_predict(self._base(), X, y, cv=cv, groups=groups, method="decision_function", params=params)
        self.calibrator_ = PlattSigmoid().fit(oof, y, sample_weight=params.get("sample_weight"))
        self.oof_proba_ = self.calibrator_.predict_proba(oof.reshape(-1, 1))[:, 1]
        weights = params.get("sample_weight", np.ones(len(y)))
        self.fit_prevalence_ = float(np.sum(weights * y) / np.sum(weights))
        self.prior_shift_ = 0.0 if self.base_rate is None else logit(self.base_rate) - logit(self.fit_prevalence_)
        self.calibrator_.intercept_ += self.prior_shift_
        self.model_ = self._base().fit(X, y, **params)
        # The refit model sees every row, so its decision values on training-like text are more
        # extreme than the out-of-fold ones the sigmoid was fitted on; without this the queue's
        # top is a wall of 1.00.  Shrink them to the out-of-fold spread before calibrating.
        refit = self.model_.decision_function(X)
        self.spread_ = float(min(1.0, np.std(oof) / max(float(np.std(refit)), 1e-9)))
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        return self.model_.decision_function(X)

    def predict_proba(self, X: Any) -> np.ndarray:
        spread = getattr(self, "spread_", 1.0)
        return self.calibrator_.predict_proba((self.decision_function(X) * spread).reshape(-1, 1))

    def predict(self, X: Any) -> np.ndarray:
        return self.classes_[(self.predict_proba(X)[:, 1] >= 0.5).astype(int)]


def build_pipeline(
    lexicon: Lexicon,
    *,
    ngram_range: tuple[int, int] = (1, 3),
    analyzer: str = "char_wb",
    words: bool | None = None,
    hashing: bool | None = None,
    C: float | None = None,
    char_weight: float | None = None,
    word_weight: float | None = None,
    rule_weight: float | None = None,
    seed: int = 0,
) -> Pipeline:
    """The unfitted model.  Defaults come from ``DEFAULT_MODEL_CONFIG``.

    Word features (jieba tokens with the lexicon as dictionary) are on when
    ``word_weight > 0`` or ``words=True``; they cost about 2x in scoring speed.
    """
    cfg = dict(DEFAULT_MODEL_CONFIG)
    for key, value in (("C", C), ("char_weight", char_weight), ("word_weight", word_weight),
                       ("rule_weight", rule_weight)):
        if value is not None:
            cfg[key] = value
    if hashing is None:
        hashing = bool(cfg.get("hashing", False))
    if words is True and cfg["word_weight"] <= 0:
        cfg["word_weight"] = 1.0
    if words is False:
        cfg["word_weight"] = 0.0
    text_features: list[tuple[str, Any]] = [
        ("evidence", EvidenceFeatures()),
        ("price", PriceFeatures()),
        ("chars", _char_tfidf(analyzer, ngram_range, hashing)),
    ]
    weights = {"evidence": cfg["rule_weight"], "price": cfg["rule_weight"], "chars": cfg["char_weight"]}
    if cfg["word_weight"] > 0:
        tokenizer = JiebaTokenizer(e.normalised for e in lexicon.entries)
        text_features.append(
            (
                "words",
                Pipeline(
                    [
                        ("text", FunctionTransformer(analysis_texts)),
                        (
                            "tfidf",
                            TfidfVectorizer(
                                tokenizer=tokenizer,
                                token_pattern=None,
                                lowercase=False,
                                ngram_range=(1, 1),
                                min_df=2,
                                sublinear_tf=True,
                                dtype=np.float32,
                            ),
                        ),
                    ]
                ),
            )
        )
        weights["words"] = cfg["word_weight"]
    return Pipeline(
        [
            ("analyze", ListingAnalyzer(lexicon)),
            ("features", FeatureUnion(text_features, transformer_weights=weights)),
            ("model", CalibratedLogisticRegression(C=cfg["C"], class_weight="balanced", random_state=seed)),
        ]
    )


def _char_block(step: Any) -> CharTfidf | None:
    """A ``_char_tfidf`` pipeline's fitted numbers, when ``char_tfidf_values`` reproduces its transform."""
    if not isinstance(step, Pipeline) or len(step.steps) != 2:
        return None
    (_, text), (_, tfidf) = step.steps
    if not (isinstance(text, FunctionTransformer) and text.func is analysis_texts and text.kw_args is None):
        return None
    if type(tfidf) is not TfidfVectorizer or not hasattr(tfidf, "vocabulary_"):
        return None
    if not (tfidf.analyzer == "char_wb" and tfidf.input == "content" and tfidf.preprocessor is None
            and not tfidf.strip_accents and not tfidf.binary and tfidf.norm in ("l2", None)
            and tuple(tfidf.ngram_range)[1] <= CharNgramCounter.max_n):
        return None
    transformer = tfidf._tfidf
    counter = CharNgramCounter(tfidf.vocabulary_, tuple(tfidf.ngram_range), tfidf.lowercase, tfidf.dtype)
    idf = np.asarray(transformer.idf_, dtype=np.float64) if transformer.use_idf else None
    return CharTfidf(counter, idf, bool(transformer.sublinear_tf), transformer.norm == "l2")


def inference_model(pipeline: Pipeline) -> InferenceModel | None:
    """The fitted pipeline's numbers as an ``InferenceModel`` (scores without scikit-learn), or None for a
    layout it does not reproduce (word features, hashed n-grams, another classifier): such a model is
    scored through its pipeline (``PipelineScoring``)."""
    steps = dict(pipeline.named_steps)
    analyzer, union, model = steps.get("analyze"), steps.get("features"), steps.get("model")
    if len(pipeline.steps) != 3 or not isinstance(analyzer, ListingAnalyzer) or not isinstance(union, FeatureUnion):
        return None
    if type(model) is not CalibratedLogisticRegression or union.n_jobs not in (None, 1):
        return None
    coef = np.asarray(model.model_.coef_, dtype=np.float64)
    if coef.shape[0] != 1:
        return None
    coef = coef[0]
    weights = union.transformer_weights or {}
    blocks: list[FeatureBlock] = []
    offset = 0
    for name, transformer in union.transformer_list:
        if transformer in ("drop", None):
            continue
        if type(transformer) is EvidenceFeatures:
            block = FeatureBlock("evidence", np.empty(0), weights.get(name), groups=tuple(transformer.groups_))
        elif type(transformer) is PriceFeatures and (transformer.cheap_below, transformer.dear_from) == (
                PRICE_CHEAP_BELOW, PRICE_DEAR_FROM):
            block = FeatureBlock("price", np.empty(0), weights.get(name))
        else:
            chars = _char_block(transformer)
            if chars is None:
                return None
            block = FeatureBlock("chars", np.empty(0), weights.get(name), chars=chars)
        width = block.width()
        block.coef = coef[offset : offset + width].copy()
        offset += width
        blocks.append(block)
    if offset != len(coef):
        raise ValueError(f"the feature blocks have {offset} columns, the model was fitted on {len(coef)}")
    return InferenceModel(analyzer.lexicon, analyzer.rules_, blocks, float(model.model_.intercept_[0]),
                          float(getattr(model, "spread_", 1.0)), model.calibrator_)


class PipelineScoring:
    """A fitted pipeline behind ``InferenceModel``'s interface, for layouts ``inference_model`` does not export."""

    def __init__(self, pipeline: Pipeline) -> None:
        analyzer = pipeline.named_steps["analyze"]
        self.lexicon: Lexicon = analyzer.lexicon
        self.rules: RuleSet = analyzer.rules_
        self._analyzer = analyzer
        self._rest = pipeline[1:]
        self.uses_words = "words" in dict(self._rest.named_steps["features"].transformer_list)

    def analyse(self, records: Any) -> list[Analysis]:
        return self._analyzer.transform(records)

    def predict_proba(self, analyses: Sequence[Analysis]) -> np.ndarray:
        if not analyses:
            return np.zeros(0)
        return self._rest.predict_proba(analyses)[:, 1]


def scoring_model(pipeline: Pipeline) -> "InferenceModel | PipelineScoring":
    """What scores a fitted pipeline: its ``InferenceModel`` where the layout exports, else the pipeline."""
    return inference_model(pipeline) or PipelineScoring(pipeline)

"""The model: listing → (normalised text, rule evidence, price) → features → calibrated logistic regression.

Everything is one scikit-learn ``Pipeline`` so one fitted object, saved as one
artifact, carries the lexicon it was trained with (no lexicon file is read at
scoring time) and the exact feature layout.  The first step, ``ListingAnalyzer``,
is exposed separately so the scorer computes evidence once per batch and
reuses it for both the features and the explanation shown to analysts.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import math

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, StratifiedKFold, cross_val_predict
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import FunctionTransformer

from classifier.evidence import Evidence
from classifier.lexicon import HIT_KINDS, Lexicon
from classifier.rules import HIT_RULES, RuleSet, group_strengths
from classifier.text import MAX_DESCRIPTION_CHARS, MAX_TITLE_CHARS, JiebaTokenizer, normalise

__all__ = [
    "Analysis",
    "ListingAnalyzer",
    "EvidenceFeatures",
    "PriceFeatures",
    "CalibratedLogisticRegression",
    "DEFAULT_MODEL_CONFIG",
    "analysis_texts",
    "build_pipeline",
    "price_in_cny",
    "records_from",
]

# Hyper-parameters chosen by grouped cross-validation (``python -m classifier.tune``;
# docs/classifier.md records the run).  Char n-grams are down-weighted against the
# rule features so that seller style alone cannot carry a listing over the threshold.
DEFAULT_MODEL_CONFIG: dict[str, Any] = {"C": 3.0, "char_weight": 1.0, "word_weight": 0.0, "rule_weight": 1.0}

# Rough CNY per unit, for price features only (order of magnitude is what matters:
# a 20 CNY "ivory" item is a colour or a copy, a 20,000 CNY one is not).
CNY_PER_UNIT = {
    "CNY": 1.0, "RMB": 1.0, "USD": 7.2, "EUR": 7.8, "GBP": 9.1, "HKD": 0.92, "TWD": 0.22, "SGD": 5.3,
    "MYR": 1.55, "JPY": 0.048, "KRW": 0.0052, "THB": 0.2, "VND": 0.00028, "AUD": 4.7, "CAD": 5.2,
    "PHP": 0.125, "IDR": 0.00045,
}

_HIT_AND_INTENT = (*HIT_KINDS, "intent")


@dataclass(frozen=True)
class Analysis:
    """One listing after normalisation and rule matching: the input to every feature."""

    text: str  # normalised "title | description"
    evidence: tuple[Evidence, ...]
    price_cny: float | None = None  # approximate price in CNY; None when unknown


def _field(record: Mapping[str, Any], name: str, index: int) -> str:
    value = record.get(name)
    if value is None:
        return ""
    if isinstance(value, float) and value != value:  # NaN from pandas
        return ""
    if not isinstance(value, str):
        raise ValueError(f"record {index}: field '{name}' must be text, got {type(value).__name__}")
    return value


def price_in_cny(price: Any, currency: Any) -> float | None:
    """Price converted to CNY with ``CNY_PER_UNIT``; None when missing, not a number, or the currency is unknown.

    A price without a currency is taken as CNY (most listings without one are
    on Chinese-language marketplaces).
    """
    if price is None or isinstance(price, bool):
        return None
    try:
        value = float(price)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(value) or value < 0:
        return None
    code = currency.strip().upper() if isinstance(currency, str) and currency.strip() else "CNY"
    rate = CNY_PER_UNIT.get(code)
    return None if rate is None else value * rate


def records_from(X: Any) -> list[Mapping[str, Any]]:
    """Accept a DataFrame or an iterable of mappings (title, description)."""
    if hasattr(X, "to_dict") and hasattr(X, "columns"):
        return X.to_dict("records")
    return list(X)


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
        # Capped before any work, so a hostile megabyte costs no more than a long honest listing.
        title_n = normalise(title[:MAX_TITLE_CHARS])
        description_n = normalise(description[:MAX_DESCRIPTION_CHARS])
        evidence = self.rules_.evaluate(title_n, description_n)
        return Analysis(f"{title_n} | {description_n}" if description_n else title_n, evidence, price_cny)

    def transform(self, X: Any) -> list[Analysis]:
        return [
            self.analyse(
                _field(r, "title", i), _field(r, "description", i), price_in_cny(r.get("price"), r.get("currency"))
            )
            for i, r in enumerate(records_from(X))
        ]


def analysis_texts(analyses: Sequence[Analysis]) -> list[str]:
    """The normalised text of each analysis (module-level so the pipeline pickles)."""
    return [a.text for a in analyses]


def _evidence_row(evidence: Iterable[Evidence], groups: Sequence[str]) -> list[float]:
    evidence = list(evidence)
    row: list[float] = []
    terms = [e for e in evidence if e.rule in HIT_RULES]
    for kind in _HIT_AND_INTENT:
        of_kind = [e.weight for e in terms if e.kind == kind]
        in_title = any(e.field == "title" for e in terms if e.kind == kind)
        row += [np.log1p(len(of_kind)), max(of_kind, default=0.0), float(in_title)]
    exclusions = [e for e in evidence if e.rule == "exclusion"]
    row += [
        np.log1p(len(exclusions)),
        max((e.weight for e in exclusions), default=0.0),
        float(any(e.group == "*" for e in exclusions)),
    ]
    for rule in ("negated", "denied", "context", "pinyin"):
        weights = [e.weight for e in evidence if e.rule == rule]
        row += [np.log1p(len(weights)), max(weights, default=0.0)]
    cooc = [e.weight for e in evidence if e.rule == "cooccurrence"]
    row += [float(bool(cooc)), max(cooc, default=0.0)]
    raw = group_strengths(evidence, apply_exclusions=False)
    adjusted = group_strengths(evidence)
    row += [
        max(raw.values(), default=0.0),
        max(adjusted.values(), default=0.0),
        float(len(raw)),
        float(not evidence),
        float(not raw),  # nothing points at any wildlife group (intent talk alone is not a hit)
    ]
    row += [adjusted.get(g, 0.0) for g in groups]
    row += [raw.get(g, 0.0) - adjusted.get(g, 0.0) for g in groups]  # how much exclusions took away
    return row


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
        rows = [_evidence_row(a.evidence, self.groups_) for a in X]
        matrix = np.asarray(rows, dtype=np.float64).reshape(len(rows), self.n_features_out_)
        return sparse.csr_matrix(matrix)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        names = [f"{k}_{s}" for k in _HIT_AND_INTENT for s in ("count", "max", "in_title")]
        names += ["exclusion_count", "exclusion_max", "exclusion_any_group"]
        names += [f"{r}_{s}" for r in ("negated", "denied", "context", "pinyin") for s in ("count", "max")]
        names += ["cooccurrence", "cooccurrence_max", "group_raw_max", "group_adjusted_max", "n_groups", "no_evidence",
                  "no_wildlife_hit"]
        names += [f"group_{g}" for g in self.groups_]
        names += [f"excluded_{g}" for g in self.groups_]
        return np.asarray(names, dtype=object)


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

    cheap_below = 100.0
    dear_from = 3000.0

    def fit(self, X: Sequence[Analysis], y: Any = None) -> "PriceFeatures":
        self.n_features_out_ = len(self.get_feature_names_out())
        return self

    def transform(self, X: Sequence[Analysis]) -> sparse.csr_matrix:
        rows = []
        for a in X:
            price = a.price_cny
            if price is None:
                rows.append([0.0] * 5)
                continue
            strength = max(group_strengths(a.evidence).values(), default=0.0)
            cheap = float(price < self.cheap_below)
            dear = float(price >= self.dear_from)
            rows.append([cheap, dear, strength * cheap, strength * dear, math.log10(1.0 + price) / 6.0])
        return sparse.csr_matrix(np.asarray(rows, dtype=np.float64).reshape(len(rows), 5))

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.asarray(
            ["price_cheap", "price_dear", "strength_x_cheap", "strength_x_dear", "log_price"], dtype=object
        )


class CalibratedLogisticRegression(ClassifierMixin, BaseEstimator):
    """Logistic regression whose probabilities are Platt-calibrated on out-of-fold scores.

    ``fit(X, y, groups=...)`` computes out-of-fold decision values with
    ``GroupKFold`` over ``groups`` (the training data's phrase pools, so a fold
    never sees the pool it is scored on; without groups, stratified folds),
    fits a sigmoid on them, and refits the regression on all rows.  One model
    at prediction time.  ``oof_proba_`` keeps the calibrated out-of-fold
    probabilities so the decision threshold can be chosen on them.
    """

    def __init__(self, C: float = 1.0, class_weight: Any = "balanced", n_splits: int = 5, random_state: int = 0):
        self.C = C
        self.class_weight = class_weight
        self.n_splits = n_splits
        self.random_state = random_state

    def _base(self) -> LogisticRegression:
        # liblinear: about 10x faster than lbfgs on these sparse, wide matrices; the
        # large intercept_scaling keeps its penalty on the intercept negligible.
        return LogisticRegression(
            C=self.C, class_weight=self.class_weight, solver="liblinear", intercept_scaling=10.0,
            max_iter=5000, random_state=self.random_state,
        )

    def fit(self, X: Any, y: Any, groups: Any = None) -> "CalibratedLogisticRegression":
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
        oof = cross_val_predict(self._base(), X, y, cv=cv, groups=groups, method="decision_function")
        self.calibrator_ = LogisticRegression(C=1e4, max_iter=1000).fit(oof.reshape(-1, 1), y)
        self.oof_proba_ = self.calibrator_.predict_proba(oof.reshape(-1, 1))[:, 1]
        self.model_ = self._base().fit(X, y)
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        return self.model_.decision_function(X)

    def predict_proba(self, X: Any) -> np.ndarray:
        return self.calibrator_.predict_proba(self.decision_function(X).reshape(-1, 1))

    def predict(self, X: Any) -> np.ndarray:
        return self.classes_[(self.predict_proba(X)[:, 1] >= 0.5).astype(int)]


def build_pipeline(
    lexicon: Lexicon,
    *,
    ngram_range: tuple[int, int] = (1, 3),
    analyzer: str = "char_wb",
    words: bool | None = None,
    hashing: bool = False,
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

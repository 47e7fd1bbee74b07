"""The model: listing → (normalised text, rule evidence) → features → logistic regression.

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

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import FunctionTransformer

from classifier.evidence import Evidence
from classifier.lexicon import HIT_KINDS, Lexicon
from classifier.rules import RuleSet, group_strengths
from classifier.text import JiebaTokenizer, normalise

__all__ = [
    "Analysis",
    "ListingAnalyzer",
    "EvidenceFeatures",
    "analysis_texts",
    "build_pipeline",
    "records_from",
]

_HIT_AND_INTENT = (*HIT_KINDS, "intent")


@dataclass(frozen=True)
class Analysis:
    """One listing after normalisation and rule matching: the input to every feature."""

    text: str  # normalised "title | description"
    evidence: tuple[Evidence, ...]


def _field(record: Mapping[str, Any], name: str, index: int) -> str:
    value = record.get(name)
    if value is None:
        return ""
    if isinstance(value, float) and value != value:  # NaN from pandas
        return ""
    if not isinstance(value, str):
        raise ValueError(f"record {index}: field '{name}' must be text, got {type(value).__name__}")
    return value


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

    def analyse(self, title: str, description: str = "") -> Analysis:
        title_n, description_n = normalise(title), normalise(description)
        evidence = self.rules_.evaluate(title_n, description_n)
        return Analysis(f"{title_n} | {description_n}" if description_n else title_n, evidence)

    def transform(self, X: Any) -> list[Analysis]:
        return [
            self.analyse(_field(r, "title", i), _field(r, "description", i))
            for i, r in enumerate(records_from(X))
        ]


def analysis_texts(analyses: Sequence[Analysis]) -> list[str]:
    """The normalised text of each analysis (module-level so the pipeline pickles)."""
    return [a.text for a in analyses]


def _evidence_row(evidence: Iterable[Evidence], groups: Sequence[str]) -> list[float]:
    evidence = list(evidence)
    row: list[float] = []
    terms = [e for e in evidence if e.rule == "term"]
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
    cooc = [e.weight for e in evidence if e.rule == "cooccurrence"]
    row += [float(bool(cooc)), max(cooc, default=0.0)]
    raw = group_strengths(evidence, apply_exclusions=False)
    adjusted = group_strengths(evidence)
    row += [
        max(raw.values(), default=0.0),
        max(adjusted.values(), default=0.0),
        float(len(raw)),
        float(not evidence),
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
        names += ["cooccurrence", "cooccurrence_max", "group_raw_max", "group_adjusted_max", "n_groups", "no_evidence"]
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


def build_pipeline(
    lexicon: Lexicon,
    *,
    ngram_range: tuple[int, int] = (1, 3),
    analyzer: str = "char_wb",
    words: bool = False,
    hashing: bool = False,
    C: float = 16.0,
    seed: int = 0,
) -> Pipeline:
    """The unfitted model.  ``words=True`` adds jieba word TF-IDF (about 2x slower to score)."""
    text_features: list[tuple[str, Any]] = [
        ("evidence", EvidenceFeatures()),
        ("chars", _char_tfidf(analyzer, ngram_range, hashing)),
    ]
    if words:
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
                                ngram_range=(1, 2),
                                min_df=2,
                                sublinear_tf=True,
                                dtype=np.float32,
                            ),
                        ),
                    ]
                ),
            )
        )
    return Pipeline(
        [
            ("analyze", ListingAnalyzer(lexicon)),
            ("features", FeatureUnion(text_features)),
            (
                "model",
                LogisticRegression(class_weight="balanced", C=C, max_iter=5000, random_state=seed),
            ),
        ]
    )

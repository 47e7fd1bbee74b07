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

from classifier.evaluation import REALISTIC_PREVALENCE
from classifier.evidence import Evidence
from classifier.lexicon import ANY_GROUP, HIT_KINDS, Lexicon
from classifier.rules import HIT_RULES, RuleSet, group_strengths
from classifier.signals import SIGNAL_FAMILIES, signal_labels
from classifier.text import MAX_DESCRIPTION_CHARS, MAX_TITLE_CHARS, JiebaTokenizer, normalise_cached

__all__ = [
    "NO_EVIDENCE_BAR",
    "shift_probability",
    "NO_OFFER_BAR",
    "offer_is_weak",
    "no_evidence_shift",
    "adjust_for_missing_evidence",
    "Analysis",
    "ListingAnalyzer",
    "EvidenceFeatures",
    "PriceFeatures",
    "CalibratedLogisticRegression",
    "FastModel",
    "CharNgramCounter",
    "char_tfidf_matrix",
    "DEFAULT_MODEL_CONFIG",
    "analysis_texts",
    "build_pipeline",
    "price_in_cny",
    "records_from",
]

# Hyper-parameters chosen by grouped cross-validation (``python -m classifier.tune``;
# docs/classifier.md records the run).  Char n-grams are down-weighted against the
# rule features so that seller style alone cannot carry a listing over the threshold.
DEFAULT_MODEL_CONFIG: dict[str, Any] = {"C": 3.0, "char_weight": 1.0, "word_weight": 0.0, "rule_weight": 1.0, "hashing": False}

# Rough CNY per unit, for price features only (order of magnitude is what matters:
# a 20 CNY "ivory" item is a colour or a copy, a 20,000 CNY one is not).
CNY_PER_UNIT = {
    "CNY": 1.0, "RMB": 1.0, "USD": 7.2, "EUR": 7.8, "GBP": 9.1, "HKD": 0.92, "TWD": 0.22, "SGD": 5.3,
    "MYR": 1.55, "JPY": 0.048, "KRW": 0.0052, "THB": 0.2, "VND": 0.00028, "AUD": 4.7, "CAD": 5.2,
    "PHP": 0.125, "IDR": 0.00045,
}

_HIT_AND_INTENT = (*HIT_KINDS, "intent")
_RULE_COLUMNS = ("negated", "denied", "context", "pinyin", "homophone", "initials", "split")
SIGNAL_LABELS = tuple((family, label) for family in SIGNAL_FAMILIES for label in signal_labels(family))


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


# A protected animal named by its standard name in the taxon table (苍鹰, 红腹锦鸡: data/taxa/names.csv, names
# not marked ambiguous) is species evidence for its group, at this confidence, when the lexicon found no
# wildlife evidence and the listing shows a trade-offer signal.  0 turns it off.
TAXON_NAME_WEIGHT = 0.5


def taxon_name_evidence(title_n: str, description_n: str) -> tuple[Evidence, ...]:
    """Species evidence from the taxon table's unambiguous standard names of protected animals."""
    from classifier.taxa import default_matcher

    matcher = default_matcher()
    table = matcher.table
    found: dict[str, Evidence] = {}
    for field, text in (("title", title_n), ("description", description_n)):
        if not text:
            continue
        for span in matcher._matcher.find(text):
            for name in table.names.get(span.term, ()):
                taxon = table.taxa[name.taxon_id]
                if (name.how != "name" or name.ambiguous or taxon.kingdom != "Animalia"
                        or taxon.protection.rank > 1 or len(span.term) < 2):
                    continue
                found.setdefault(span.term, Evidence("term", taxon.name_zh or taxon.scientific_name, span.term,
                                                     taxon.group, "species", field, TAXON_NAME_WEIGHT))
    return tuple(found.values())


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
        title_n = normalise_cached(title[:MAX_TITLE_CHARS])
        description_n = normalise_cached(description[:MAX_DESCRIPTION_CHARS])
        evidence = self.rules_.evaluate(title_n, description_n)
        if price_cny is not None and price_cny > 0 and not any(e.term == "offer:price" for e in evidence):
            # An asking price in its own field is the plainest trade signal a listing has.
            evidence += (Evidence("signal", "offer:price", "price field", "*", "offer", "price", 1.0),)
        if TAXON_NAME_WEIGHT > 0 and not group_strengths(evidence) and any(
                e.rule == "signal" and e.kind == "offer" for e in evidence):
            evidence += taxon_name_evidence(title_n, description_n)
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


_HIT_RULE_SET = frozenset(HIT_RULES)
_STRENGTH_RULES = frozenset((*HIT_RULES, "cooccurrence"))
_HIT_KIND_SET = frozenset(HIT_KINDS)
_LOG1P = tuple(np.log1p(n) for n in range(64))  # np.log1p of small counts, looked up


def _log1p(n: int) -> float:
    return _LOG1P[n] if n < len(_LOG1P) else np.log1p(n)


def _strengths(evidence: Sequence[Evidence]) -> tuple[dict[str, float], dict[str, float]]:
    """``group_strengths(evidence, apply_exclusions=False)`` and ``group_strengths(evidence)`` in one pass."""
    miss: dict[str, float] = {}
    excluded: dict[str, float] = {}
    for ev in evidence:
        if ev.rule == "exclusion":
            excluded[ev.group] = max(excluded.get(ev.group, 0.0), ev.weight)
        elif ev.rule in _STRENGTH_RULES and ev.kind in _HIT_KIND_SET and ev.group != ANY_GROUP:
            miss[ev.group] = miss.get(ev.group, 1.0) * (1.0 - ev.weight)
    raw, adjusted = {}, {}
    for group, remaining in miss.items():
        strength = 1.0 - remaining
        raw[group] = round(strength, 6)
        adjusted[group] = round(strength * (1.0 - max(excluded.get(group, 0.0), excluded.get(ANY_GROUP, 0.0))), 6)
    return raw, adjusted


def _evidence_row(evidence: Iterable[Evidence], groups: Sequence[str]) -> list[float]:
    """One listing's evidence columns (``EvidenceFeatures.get_feature_names_out`` order), in one pass over it."""
    evidence = tuple(evidence)
    kind_weights: dict[str, list[float]] = {kind: [] for kind in _HIT_AND_INTENT}
    kind_in_title: set[str] = set()
    rule_weights: dict[str, list[float]] = {rule: [] for rule in _RULE_COLUMNS}
    exclusion_weights: list[tuple[str, float]] = []  # (group, weight)
    exclusion_any_group = False
    hit_groups: set[str] = set()
    cooccurrence: list[float] = []
    signals: dict[str, list[str]] = {}
    for e in evidence:
        rule = e.rule
        if rule in _HIT_RULE_SET:
            if e.kind in _HIT_KIND_SET:
                hit_groups.add(e.group)
            weights = kind_weights.get(e.kind)
            if weights is not None:
                weights.append(e.weight)
                if e.field == "title":
                    kind_in_title.add(e.kind)
        if rule in rule_weights:
            rule_weights[rule].append(e.weight)
        elif rule == "exclusion":
            exclusion_weights.append((e.group, e.weight))
            exclusion_any_group = exclusion_any_group or e.group == ANY_GROUP
        elif rule == "cooccurrence":
            cooccurrence.append(e.weight)
        elif rule == "signal":  # as classifier.signals.signal_summary
            label = e.term.split(":", 1)[1]
            labels = signals.setdefault(e.kind, [])
            if label not in labels:
                labels.append(label)
    row: list[float] = []
    for kind in _HIT_AND_INTENT:
        weights = kind_weights[kind]
        row += [_log1p(len(weights)), max(weights, default=0.0), float(kind in kind_in_title)]
    # An exclusion for a group nothing points at says nothing about this listing: 猫 (a tortoiseshell
    # cat, hawksbill) beside 大猫骨, "beads" (agarwood retail) beside ivory beads.
    exclusions = [weight for group, weight in exclusion_weights if group == ANY_GROUP or group in hit_groups]
    row += [_log1p(len(exclusions)), max(exclusions, default=0.0), float(exclusion_any_group)]
    for rule in _RULE_COLUMNS:
        weights = rule_weights[rule]
        row += [_log1p(len(weights)), max(weights, default=0.0)]
    row += [float(bool(cooccurrence)), max(cooccurrence, default=0.0)]
    raw, adjusted = _strengths(evidence)
    strongest = max(adjusted.values(), default=0.0)
    row += [max(raw.values(), default=0.0), strongest, float(len(raw)), float(not evidence), float(not raw)]
    # Offer or mention: the same species evidence means something else in a seizure report, on a
    # T-shirt or with a captive-breeding permit than next to a price and a WeChat ID.
    for family in SIGNAL_FAMILIES:
        # "undocumented" counts through its own column below (scaled by the wildlife evidence) only
        labels = [label for label in signals.get(family, []) if label != "undocumented"]
        row += [float(len(labels)), strongest * float(bool(labels))]
    row += [strongest * float(not signals.get("offer"))]
    # "No papers" says a wildlife item is undocumented; beside a watch, a car or a dog it says nothing
    # about wildlife, so it counts only as strongly as the wildlife evidence it stands next to.
    raw_max = max(raw.values(), default=0.0)
    row += [float(label in signals.get(family, ())) * (raw_max if label == "undocumented" else 1.0)
            for family, label in SIGNAL_LABELS]
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
        return sparse.csr_matrix(self.dense(X))

    def dense(self, X: Sequence[Analysis]) -> np.ndarray:
        """The features as a dense array (``transform`` without the sparse wrapper)."""
        rows = [_evidence_row(a.evidence, self.groups_) for a in X]
        return np.asarray(rows, dtype=np.float64).reshape(len(rows), self.n_features_out_)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        names = [f"{k}_{s}" for k in _HIT_AND_INTENT for s in ("count", "max", "in_title")]
        names += ["exclusion_count", "exclusion_max", "exclusion_any_group"]
        names += [f"{r}_{s}" for r in _RULE_COLUMNS for s in ("count", "max")]
        names += ["cooccurrence", "cooccurrence_max", "group_raw_max", "group_adjusted_max", "n_groups", "no_evidence",
                  "no_wildlife_hit"]
        names += [f"{f}_{s}" for f in SIGNAL_FAMILIES for s in ("signals", "x_strength")]
        names += ["strength_without_offer"]
        names += [f"signal_{family}_{label}" for family, label in SIGNAL_LABELS]
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


_CODE_BITS = 21  # a code point + 1 fits in 21 bits, so up to three of them pack into one uint64


def _ngram_key(gram: str) -> int:
    key = 0
    for char in gram:
        key = (key << _CODE_BITS) | (ord(char) + 1)
    return key


class CharNgramCounter:
    """Counts a fitted char_wb ``TfidfVectorizer``'s n-grams (n up to 3) for a batch of texts, in numpy.

    The same count matrix as ``CountVectorizer._count_vocab`` (sorted column ids, the vectorizer's
    dtype): every whitespace-separated word is padded with one space either side and cut into its
    n-grams.  Here the padded words of all texts are joined into one string whose code points are
    packed into integer keys, one per position and n, and looked up in the vocabulary
    (a hash table, ``columns``).  The extra n-grams that straddle two words (or two texts) contain two
    spaces, which no char_wb n-gram does, so they find no key.  A padded word is at least three
    characters, so scikit-learn's "a word shorter than n counts once" never applies for n <= 3.
    scikit-learn's per-n-gram Python loop was a third of the scoring path.
    """

    max_n = 3

    def __init__(self, vocabulary: Mapping[str, int], ngram_range: tuple[int, int], lowercase: bool, dtype: Any):
        min_n, max_n = ngram_range
        if not 1 <= min_n <= max_n <= self.max_n:
            raise ValueError(f"CharNgramCounter handles n-grams of 1 to {self.max_n} characters, not {ngram_range}")
        self.ngram_range = (min_n, max_n)
        self.lowercase = lowercase
        self.dtype = dtype
        self.n_features = len(vocabulary)
        grams = [(g, i) for g, i in vocabulary.items() if "  " not in g and 0 < len(g) <= max_n]
        keys = np.fromiter((_ngram_key(g) for g, _ in grams), dtype=np.uint64, count=len(grams))
        order = np.argsort(keys, kind="stable")
        self.keys = keys[order]
        self.ids = np.fromiter((i for _, i in grams), dtype=np.int32, count=len(grams))[order]
        self._build_table()

    # An open-addressing hash table over the keys (multiplicative hashing, linear probing, load
    # under 1/2): a batch's n-grams find their column in one or two vectorised probes, where a
    # binary search (searchsorted) took 17 dependent steps each. 30 -> 15 us a listing.
    _HASH = np.uint64(0x9E3779B97F4A7C15)
    _PROBES = 2  # vectorised probe rounds before the rest are looked up by binary search

    def _build_table(self) -> None:
        bits = max(4, (2 * len(self.keys)).bit_length())
        size = 1 << bits
        self._shift = np.uint64(64 - bits)
        self._mask = size - 1
        slots = ((self.keys * self._HASH) >> self._shift).tolist() if len(self.keys) else []
        table_keys = [0] * size  # 0 is no key: every key packs at least one code point + 1
        table_ids = [-1] * size
        for key, column, slot in zip(self.keys.tolist(), self.ids.tolist(), slots):
            while table_keys[slot]:
                slot = (slot + 1) & self._mask
            table_keys[slot], table_ids[slot] = key, column
        self._table_keys = np.asarray(table_keys, dtype=np.uint64)
        self._table_ids = np.asarray(table_ids, dtype=np.int32)

    def columns(self, keys: np.ndarray) -> np.ndarray:
        """The vocabulary column of every packed n-gram key, -1 where it is not in the vocabulary."""
        out = np.full(len(keys), -1, dtype=np.int32)
        if not len(keys) or not len(self.keys):
            return out
        slot = ((keys * self._HASH) >> self._shift).astype(np.intp)
        index = np.arange(len(keys))
        for _ in range(self._PROBES):
            stored = self._table_keys[slot]
            hit = stored == keys
            out[index[hit]] = self._table_ids[slot[hit]]
            going = ~hit & (stored != 0)  # a different key there: probe the next slot
            index, keys, slot = index[going], keys[going], (slot[going] + 1) & self._mask
            if not len(index):
                return out
        # The few keys still unresolved (long probe chains are rare but exist): a binary search, so a
        # batch of one text does not pay a dozen rounds of array calls.
        where = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        found = self.keys[where] == keys
        out[index[found]] = self.ids[where[found]]
        return out

    def counts(self, texts: Sequence[str]) -> sparse.csr_matrix:
        padded = []
        for text in texts:
            words = (text.lower() if self.lowercase else text).split()
            padded.append(" " + "  ".join(words) + " " if words else "")
        encoded = "".join(padded).encode("utf-32-le", "surrogatepass")  # a lone surrogate is a character too
        codes = np.frombuffer(encoded, dtype=np.uint32).astype(np.uint64) + 1
        docs = np.repeat(np.arange(len(padded), dtype=np.int32), [len(p) for p in padded])
        size = len(codes)
        keys, rows = [], []
        min_n, max_n = self.ngram_range
        for n in range(min_n, max_n + 1):
            if size < n:
                break
            key = codes[: size - n + 1].copy()
            for j in range(1, n):
                key <<= np.uint64(_CODE_BITS)
                key |= codes[j : size - n + 1 + j]
            keys.append(key)
            rows.append(docs[: size - n + 1])
        if keys and len(self.keys):
            key, row = np.concatenate(keys), np.concatenate(rows)
            columns = self.columns(key)
            found = columns >= 0
            columns, row = columns[found], row[found]
        else:
            columns = row = np.zeros(0, dtype=np.int32)
        matrix = sparse.csr_matrix((np.ones(len(columns), dtype=self.dtype), (row, columns)),
                                   shape=(len(padded), self.n_features))
        matrix.sum_duplicates()  # repeats add up; each row's column ids sorted
        return matrix


def _fast_char_tfidf(step: Any) -> tuple[Any, CharNgramCounter] | None:
    """(fitted TfidfTransformer, counter) of a ``_char_tfidf`` pipeline when ``FastModel`` reproduces it."""
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
    counter = CharNgramCounter(tfidf.vocabulary_, tuple(tfidf.ngram_range), tfidf.lowercase, tfidf.dtype)
    return tfidf._tfidf, counter


def char_tfidf_matrix(transformer: Any, counter: CharNgramCounter, texts: Sequence[str]) -> sparse.csr_matrix:
    """A fitted char_wb ``TfidfVectorizer``'s ``transform(texts)``: its counts, then its ``TfidfTransformer``'s
    steps in their order (log + 1 when sublinear, times idf, row l2 norm), in place."""
    from sklearn.utils.sparsefuncs_fast import inplace_csr_row_normalize_l2

    counts = counter.counts(texts)
    if transformer.sublinear_tf:
        np.log(counts.data, counts.data)
        counts.data += 1.0
    if transformer.use_idf:
        counts.data *= transformer.idf_[counts.indices]
    if transformer.norm == "l2":
        inplace_csr_row_normalize_l2(counts)
    return counts


class FastModel:
    """A fitted ``features`` + ``model`` pipeline's probabilities, without scikit-learn's per-call checks.

    The scorer's hot path: the same numbers as ``pipeline.predict_proba(analyses)[:, 1]`` up to
    rounding (tests/classifier/test_classifier_fast_path.py), computed with the fitted parts directly: the
    feature union's transformers one after another (the char n-gram TF-IDF through
    ``char_tfidf_matrix``, the evidence and price columns as dense arrays), each block weighted as
    ``FeatureUnion`` does and multiplied by its slice of the regression's coefficients, then the
    Platt sigmoid.  Validation and joblib dispatch cost about 2 ms a
    call, which made scoring one listing at a time three times dearer than scoring in batches.
    ``for_pipeline`` returns None for a layout it does not know, and the caller keeps the pipeline.
    """

    def __init__(self, parts: list[tuple[Any, tuple[Any, CharNgramCounter] | None, float | None]],
                 model: "CalibratedLogisticRegression") -> None:
        self.parts = parts
        base = model.model_
        self.coef = np.asarray(base.coef_, dtype=np.float64).T
        self.intercept = np.asarray(base.intercept_, dtype=np.float64)
        self.spread = float(getattr(model, "spread_", 1.0))
        self.calibrator = model.calibrator_

    @classmethod
    def for_pipeline(cls, rest: Pipeline) -> "FastModel | None":
        steps = dict(rest.named_steps)
        union, model = steps.get("features"), steps.get("model")
        if len(rest.steps) != 2 or not isinstance(union, FeatureUnion):
            return None
        if type(model) is not CalibratedLogisticRegression:
            return None
        if union.n_jobs not in (None, 1) or getattr(model.model_, "coef_", np.empty((0, 0))).shape[0] != 1:
            return None
        weights = union.transformer_weights or {}
        parts = []
        for name, transformer in union.transformer_list:
            if transformer in ("drop", None):
                continue
            if transformer == "passthrough" or not isinstance(transformer, (EvidenceFeatures, PriceFeatures, Pipeline)):
                return None
            parts.append((transformer, _fast_char_tfidf(transformer), weights.get(name)))
        return cls(parts, model)

    def _blocks(self, analyses: Sequence[Analysis]) -> Iterable[tuple[Any, float | None]]:
        texts = None
        for transformer, tfidf, weight in self.parts:
            if tfidf is not None:
                texts = analysis_texts(analyses) if texts is None else texts
                yield char_tfidf_matrix(*tfidf, texts), weight
            elif isinstance(transformer, (EvidenceFeatures, PriceFeatures)):
                yield transformer.dense(analyses), weight
            else:
                yield transformer.transform(analyses), weight

    def features(self, analyses: Sequence[Analysis]) -> sparse.csr_matrix:
        """The feature matrix, as the pipeline's ``features`` step builds it."""
        return sparse.hstack([sparse.csr_matrix(b) if weight is None else sparse.csr_matrix(b) * weight
                              for b, weight in self._blocks(analyses)]).tocsr()

    def decision_function(self, analyses: Sequence[Analysis]) -> np.ndarray:
        """The regression's decision values: each block times its slice of the coefficients, summed.

        Equal to the stacked matrix times the coefficients up to the order of the additions
        (about 1e-15), and without building the stacked matrix.
        """
        decision = np.full(len(analyses), float(self.intercept[0]))
        offset = 0
        for block, weight in self._blocks(analyses):
            width = block.shape[1]
            part = block @ self.coef[offset : offset + width, 0]
            decision += np.asarray(part).reshape(-1) * (1.0 if weight is None else weight)
            offset += width
        if offset != self.coef.shape[0]:
            raise ValueError(f"the features have {offset} columns, the model was fitted on {self.coef.shape[0]}")
        return decision

    def predict_proba(self, analyses: Sequence[Analysis]) -> np.ndarray:
        """P(suspicious) per analysis: the positive column of the pipeline's ``predict_proba``."""
        if not analyses:
            return np.zeros(0)
        decision = self.decision_function(analyses)
        return self.calibrator.predict_proba((decision * self.spread).reshape(-1, 1))[:, 1]


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
        return sparse.csr_matrix(self.dense(X))

    def dense(self, X: Sequence[Analysis]) -> np.ndarray:
        """The features as a dense array (``transform`` without the sparse wrapper)."""
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
        return np.asarray(rows, dtype=np.float64).reshape(len(rows), 5)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.asarray(
            ["price_cheap", "price_dear", "strength_x_cheap", "strength_x_dear", "log_price"], dtype=object
        )


class PlattSigmoid:
    """Platt's sigmoid, fitted with his smoothed targets: positives (N+ + 1)/(N+ + 2), negatives 1/(N- + 2).

    Fitting to hard 0/1 targets lets the sigmoid's slope grow until the most confident training
    rows sit at exactly 1.00; the smoothed targets (Platt 1999, as scikit-learn's sigmoid
    calibration does) say "no finite sample makes us certain", which keeps the scores at the top
    of the queue apart.  ``predict_proba`` has the scikit-learn shape.
    """

    def fit(self, decision: np.ndarray, y: np.ndarray, sample_weight: Any = None) -> "PlattSigmoid":
        from scipy.optimize import minimize

        d = np.asarray(decision, dtype=float)
        y = np.asarray(y, dtype=int)
        w = np.ones_like(d) if sample_weight is None else np.asarray(sample_weight, dtype=float)
        n_pos, n_neg = float(w[y == 1].sum()), float(w[y == 0].sum())
        target = np.where(y == 1, (n_pos + 1.0) / (n_pos + 2.0), 1.0 / (n_neg + 2.0))

        def loss(params: np.ndarray) -> tuple[float, np.ndarray]:
            a, b = params
            z = a * d + b
            p = 1.0 / (1.0 + np.exp(-z))
            eps = 1e-12
            value = -np.sum(w * (target * np.log(p + eps) + (1 - target) * np.log(1 - p + eps)))
            grad_z = w * (p - target)
            return float(value), np.array([float(np.sum(grad_z * d)), float(np.sum(grad_z))])

        result = minimize(loss, np.array([1.0, 0.0]), jac=True, method="L-BFGS-B")
        self.coef_, self.intercept_ = float(result.x[0]), float(result.x[1])
        return self

    def predict_proba(self, decision: np.ndarray) -> np.ndarray:
        z = self.coef_ * np.asarray(decision, dtype=float).reshape(-1) + self.intercept_
        p = 1.0 / (1.0 + np.exp(-np.clip(z, -500, 500)))
        return np.column_stack([1.0 - p, p])


class CalibratedLogisticRegression(ClassifierMixin, BaseEstimator):
    """Logistic regression whose probabilities are Platt-calibrated on out-of-fold scores.

    ``fit(X, y, groups=...)`` computes out-of-fold decision values with
    ``GroupKFold`` over ``groups`` (the training data's phrase pools, so a fold
    never sees the pool it is scored on; without groups, stratified folds),
    fits a sigmoid on them, and refits the regression on all rows.  One model
    at prediction time.  ``oof_proba_`` keeps the calibrated out-of-fold
    probabilities so the decision threshold can be chosen on them.

    **Base rate.**  The sigmoid is fitted where offers are the (weighted) share of the training rows
    (``fit_prevalence_``, about 27%); on a marketplace they are about ``base_rate`` (1%, the same
    share ``wildwatch evaluate`` reports "precision at 1% offers" for).  After fitting, the sigmoid's
    intercept is moved by ``prior_shift_`` = logit(base_rate) − logit(fit_prevalence_) (the prior
    correction of Saerens et al. 2002): ``predict_proba`` is then the probability that a listing is an
    offer on such a marketplace.  It moves every score by the same log-odds, so the order of the queue
    and, with the threshold moved the same way (classifier.train), every flag decision are unchanged;
    what changes is that a clear offer reads 0.9 rather than 0.9998, so the top of the queue is no
    longer a wall of 1.00.  ``oof_proba_`` stays on the training prevalence's scale (the threshold and
    the bars are chosen there); ``base_rate=None`` keeps the training prevalence.
    """

    def __init__(self, C: float = 1.0, class_weight: Any = "balanced", n_splits: int = 5, random_state: int = 0,
                 base_rate: float | None = REALISTIC_PREVALENCE):
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
        self.prior_shift_ = 0.0 if self.base_rate is None else _logit(self.base_rate) - _logit(self.fit_prevalence_)
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


# A listing with no wildlife evidence at all (no term, code, homophone, context...) is flagged only
# when the model is this sure before the adjustment below.  Writers of training data favour coded
# offers, so the model learned that seller talk alone can mean an offer; on a real marketplace,
# where offers are well under 1% and nearly every listing has a price and shipping, that turned
# into false alarms on ordinary goods (measured on the independent dev sets: ordinary rows flagged
# 1.8% -> 0.3%, coded recall 0.94 -> 0.89 at this bar; docs/classifier.md).
NO_EVIDENCE_BAR = 0.7


# A listing whose wildlife evidence comes with no trade-offer signal at all (no price, quantity,
# contact, shipping, haggling, 出/收, "for sale", "DM"), or with a single one inside a mention or a
# depiction (news, advocacy, a question, a print, a sighting: "shark spotted off Cape Cod"), or that
# is documented legal trade (captive-bred with papers, ring or chip: label policy, legal), is
# flagged only when the model is this sure before the adjustment below: a species word alone is not
# an offer.  Real posts around the trade are mostly news shares, craft talk, jokes and everyday life
# full of animal and material words; coded offers with no trade signal at all are rare by
# comparison (docs/classifier.md).
NO_OFFER_BAR = 0.85


def offer_is_weak(analysis: Analysis) -> bool:
    """No trade-offer signal (text or price field), only one kind of it next to a mention or depiction,
    or documented legal trade (captive-bred *and* papers, no "no papers" anywhere)."""
    offers: set[str] = set()
    legal: set[str] = set()
    context = False
    for e in analysis.evidence:
        if e.rule == "signal":
            if e.kind == "offer":
                offers.add(e.term)
            elif e.kind == "legal":
                legal.add(e.term)
            elif e.kind in ("mention", "depiction"):
                context = True
    documented = {"legal:captive_bred", "legal:papers"} <= legal and "offer:undocumented" not in offers
    return not offers or (context and len(offers) < 2) or documented


def _logit(p: float) -> float:
    p = min(max(p, 1e-12), 1 - 1e-12)
    return math.log(p / (1 - p))


def shift_probability(probability: Any, log_odds: float) -> Any:
    """``probability`` (a number or an array) with ``log_odds`` added to its log-odds."""
    if not log_odds:
        return probability
    if np.ndim(probability) == 0:
        return 1.0 / (1.0 + math.exp(-(_logit(float(probability)) + log_odds)))
    p = np.clip(np.asarray(probability, dtype=float), 1e-12, 1 - 1e-12)
    return 1.0 / (1.0 + np.exp(-(np.log(p / (1 - p)) + log_odds)))


def no_evidence_shift(threshold: float, bar: float = NO_EVIDENCE_BAR) -> float:
    """The log-odds taken off a listing without wildlife evidence, so that ``bar`` lands on ``threshold``."""
    return max(0.0, _logit(bar) - _logit(threshold))


def adjust_for_missing_evidence(probabilities: Sequence[float], analyses: Sequence[Analysis],
                                shift: float, no_offer_shift: float = 0.0) -> np.ndarray:
    """Probabilities with ``shift`` log-odds taken off every listing that no rule ties to a wildlife group,
    and ``no_offer_shift`` off every listing whose wildlife evidence comes with no (or a weak) offer signal."""
    p = np.asarray(probabilities, dtype=float).copy()
    if shift <= 0 and no_offer_shift <= 0:
        return p
    for i, analysis in enumerate(analyses):
        if not group_strengths(analysis.evidence):
            taken = shift
        elif offer_is_weak(analysis):
            taken = no_offer_shift
        else:
            continue
        if taken > 0:
            p[i] = 1.0 / (1.0 + math.exp(-(_logit(float(p[i])) - taken)))
    return p


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

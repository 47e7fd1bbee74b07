"""The scorer's fast path (classifier.features.FastModel, CharNgramCounter) gives the pipeline's numbers."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.feature_extraction.text import CountVectorizer

from classifier.features import CharNgramCounter, FastModel, build_pipeline
from classifier.lexicon import load_lexicon
from classifier.labelled import read_labelled

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "classifier"

TRICKY = [
    "象牙手镯 老货 私聊",
    "IVORY  Bangle\tpre-ban\u3000dm  for price",
    "a b  c",  # one-letter words: the padded word is exactly three characters
    "",
    "   ",
    "x\x1cy\u2028z",  # separators that str.split() and the regex \s both treat as whitespace
    "⟨emoji:elephant⟩ 🐘🐘 犀牛角",
    "ÄÖÜ ǅ straße",  # lower() changes lengths and letters
    "bad \ud800 surrogate",  # a lone surrogate (normalise removes them; the counter must not fail on one)
    "𠀀𪚥 astral",  # characters beyond the BMP
]


@pytest.mark.parametrize("ngram_range", [(1, 3), (2, 3), (1, 1), (3, 3), (1, 2)])
@pytest.mark.parametrize("lowercase", [True, False])
def test_char_ngram_counts_equal_scikit_learns(ngram_range, lowercase) -> None:
    vectorizer = CountVectorizer(analyzer="char_wb", ngram_range=ngram_range, lowercase=lowercase, dtype=np.float32)
    vectorizer.fit(TRICKY + ["象牙 ivory a"])
    counter = CharNgramCounter(vectorizer.vocabulary_, ngram_range, lowercase, np.float32)
    texts = TRICKY + ["unseen words only qqq", "象牙象牙象牙 ivory ivory"]
    expected = vectorizer.transform(texts)
    got = counter.counts(texts)
    assert got.shape == expected.shape and got.dtype == expected.dtype
    assert (got != expected).nnz == 0
    assert got.has_sorted_indices


def test_counter_refuses_ngrams_longer_than_three() -> None:
    with pytest.raises(ValueError, match="1 to 3"):
        CharNgramCounter({"abcd": 0}, (1, 4), True, np.float32)


def _analyses(scorer, records):
    return scorer._analyzer.transform(records)


def test_fast_model_gives_the_pipelines_probabilities(trained_scorer) -> None:
    assert trained_scorer._fast is not None, "the shipped model layout must take the fast path"
    records = [{"title": t, "description": d, "price": p, "currency": c} for t, d, p, c in [
        ("象牙手镯 老货", "懂的私聊 ivory bangle", 8800, "CNY"),
        ("iPhone 15 手机壳", "全新 包邮", 29, None),
        ("Tiger Balm 19.4g", "", None, None),
        ("", "", None, None),
        ("穿山甲片 批发", "not resin, real", 120, "USD"),
    ]]
    analyses = _analyses(trained_scorer, records)
    pipeline_features = trained_scorer._rest.named_steps["features"].transform(analyses)
    assert (trained_scorer._fast.features(analyses) != pipeline_features).nnz == 0
    expected = trained_scorer._rest.predict_proba(analyses)[:, 1]
    np.testing.assert_allclose(trained_scorer._fast.predict_proba(analyses), expected, rtol=0, atol=1e-12)
    one_by_one = [trained_scorer._fast.predict_proba([a])[0] for a in analyses]
    np.testing.assert_allclose(one_by_one, expected, rtol=0, atol=1e-12)
    assert trained_scorer._fast.predict_proba([]).shape == (0,)


@pytest.mark.parametrize("options", [{"hashing": True}, {"words": True}])
def test_fast_model_falls_back_per_block_for_other_layouts(options) -> None:
    rows, _ = read_labelled(FIXTURES / "listings.csv")
    model = build_pipeline(load_lexicon(FIXTURES / "lexicon"), **options)
    analyses = model.named_steps["analyze"].fit().transform([r.record() for r in rows])
    model[1:].fit(analyses, np.array([int(r.label) for r in rows]))
    fast = FastModel.for_pipeline(model[1:])
    assert fast is not None
    np.testing.assert_allclose(fast.predict_proba(analyses), model[1:].predict_proba(analyses)[:, 1],
                               rtol=0, atol=1e-12)

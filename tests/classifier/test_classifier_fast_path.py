"""The scorer's model without scikit-learn (classifier.inference.InferenceModel) gives the pipeline's numbers."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.feature_extraction.text import CountVectorizer

from classifier.artifacts import load_model
from classifier.features import PipelineScoring, build_pipeline, inference_model
from classifier.inference import CharNgramCounter, InferenceModel, char_tfidf_values
from classifier.lexicon import load_lexicon
from classifier.labelled import read_labelled
from classifier.scorer import Scorer

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "classifier"

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


def test_char_ngram_counts_are_the_same_from_the_word_memo_cold_warm_or_off() -> None:
    """Each word's columns are kept after their first use: a batch counted from the memo, from scratch or with
    the memos switched off (as the benchmark measures) is the same matrix, and the memo never pickles."""
    import pickle

    from classifier.text import TextCache, clear_text_caches

    vectorizer = CountVectorizer(analyzer="char_wb", ngram_range=(1, 3), dtype=np.float32)
    vectorizer.fit(TRICKY + ["象牙 ivory a"])
    counter = CharNgramCounter(vectorizer.vocabulary_, (1, 3), True, np.float32)
    texts = TRICKY + ["ivory ivory IVORY", "象牙象牙象牙 ivory ivory", "ivory"]
    expected = vectorizer.transform(texts)
    clear_text_caches()
    cold = counter.counts(texts)
    warm = counter.counts(texts[::-1])[::-1]  # the same words, now from the memo, in another order
    assert (cold != expected).nnz == 0 and (warm != expected).nnz == 0
    assert counter._word_cache().get("ivory") is not None
    TextCache.enabled = False
    try:
        clear_text_caches()
        assert (counter.counts(texts) != expected).nnz == 0
        assert counter._word_cache().get("ivory") is None  # nothing kept while the memos are off
    finally:
        TextCache.enabled = True
    counter.counts(texts)
    assert "_word_columns" not in pickle.loads(pickle.dumps(counter)).__dict__


def test_counter_refuses_ngrams_longer_than_three() -> None:
    with pytest.raises(ValueError, match="1 to 3"):
        CharNgramCounter({"abcd": 0}, (1, 4), True, np.float32)


RECORDS = [{"title": t, "description": d, "price": p, "currency": c} for t, d, p, c in [
    ("象牙手镯 老货", "懂的私聊 ivory bangle", 8800, "CNY"),
    ("iPhone 15 手机壳", "全新 包邮", 29, None),
    ("Tiger Balm 19.4g", "", None, None),
    ("", "", None, None),
    ("穿山甲片 批发", "not resin, real", 120, "USD"),
    *[(t, t, None, None) for t in TRICKY],
]]


def test_inference_model_gives_the_pipelines_probabilities(trained_scorer, trained_models_dir) -> None:
    assert isinstance(trained_scorer.model, InferenceModel), "the shipped model layout must score without sklearn"
    pipeline = PipelineScoring(load_model(trained_models_dir)[0])
    analyses = trained_scorer.model.analyse(RECORDS)
    assert analyses == pipeline.analyse(RECORDS)
    expected = pipeline.predict_proba(analyses)
    np.testing.assert_allclose(trained_scorer.model.predict_proba(analyses), expected, rtol=0, atol=1e-12)
    one_by_one = [trained_scorer.model.predict_proba([a])[0] for a in analyses]
    np.testing.assert_allclose(one_by_one, expected, rtol=0, atol=1e-12)
    assert trained_scorer.model.predict_proba([]).shape == (0,)


def test_char_tfidf_values_are_the_vectorizers_bits(trained_models_dir) -> None:
    pipeline = load_model(trained_models_dir)[0]
    vectorizer = dict(pipeline.named_steps["features"].transformer_list)["chars"].steps[1][1]
    chars = next(b.chars for b in inference_model(pipeline).blocks if b.kind == "chars")
    texts = [a.text for a in PipelineScoring(pipeline).analyse(RECORDS)]
    expected = vectorizer.transform(texts)
    rows, columns, values = char_tfidf_values(chars.counter, chars.idf, chars.sublinear_tf, chars.l2_norm, texts)
    assert values.dtype == expected.dtype
    assert (np.diff(expected.indptr) == np.bincount(rows, minlength=len(texts))).all()
    assert (columns == expected.indices).all() and (values == expected.data).all()


def test_a_scorer_loads_and_scores_without_importing_scikit_learn(trained_models_dir) -> None:
    code = (f"import sys; from pathlib import Path; from classifier.scorer import Scorer; "
            f"r = Scorer.load(Path({str(trained_models_dir)!r})).score('象牙手镯 私聊', price=8800); "
            f"print(r.score, sorted(m for m in ('sklearn', 'scipy', 'pandas') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    score, loaded = out.split(" ", 1)
    assert 0 < float(score) < 1 and loaded.strip() == "[]"


@pytest.mark.parametrize("options", [{"hashing": True}, {"words": True}])
def test_other_layouts_are_scored_through_their_pipeline(options, tmp_path) -> None:
    rows, _ = read_labelled(FIXTURES / "listings.csv")
    model = build_pipeline(load_lexicon(FIXTURES / "lexicon"), **options)
    records = [r.record() for r in rows]
    model.fit(records, np.array([int(r.label) for r in rows]))
    assert inference_model(model) is None
    scoring = Scorer(model, {"version": "v", "threshold": 0.5}).model
    assert isinstance(scoring, PipelineScoring)
    analyses = scoring.analyse(records)
    np.testing.assert_allclose(scoring.predict_proba(analyses), model.predict_proba(records)[:, 1], rtol=0, atol=0)


def test_evidence_columns_land_under_their_names() -> None:
    """The evidence row is written sparsely (only the columns a listing's evidence touches): every value must
    still sit under the name ``evidence_feature_names`` gives it, and an empty listing reads as one."""
    from classifier.evidence import Evidence
    from classifier.inference import _evidence_row, evidence_feature_names

    groups = ("ivory", "pangolin", "tiger")
    names = evidence_feature_names(groups)
    evidence = (
        Evidence("term", "象牙", "象牙", "ivory", "product", "title", 0.7),
        Evidence("homophone", "象牙", "橡芽", "ivory", "coded", "description", 0.3),
        Evidence("exclusion", "plush", "plush", "*", "exclusion", "title", 0.5),
        Evidence("signal", "offer:price", "¥800", "*", "offer", "title", 1.0),
        Evidence("signal", "offer:undocumented", "无证", "*", "offer", "title", 1.0),
        Evidence("signal", "mention:enforcement", "海关", "*", "mention", "description", 1.0),
    )
    row = dict(zip(names, _evidence_row(evidence, groups), strict=True))
    raw = 1 - (1 - 0.7) * (1 - 0.3)
    assert row["product_max"] == 0.7 and row["product_in_title"] == 1.0
    assert row["coded_max"] == 0.3 and row["coded_in_title"] == 0.0 and row["homophone_max"] == 0.3
    assert row["exclusion_any_group"] == 1.0 and row["exclusion_max"] == 0.5
    assert row["group_raw_max"] == round(raw, 6) and row["group_ivory"] == round(raw * 0.5, 6)
    assert row["excluded_ivory"] == round(raw, 6) - round(raw * 0.5, 6) and row["group_tiger"] == 0.0
    assert row["offer_signals"] == 1.0 and row["offer_x_strength"] == round(raw * 0.5, 6)  # undocumented not counted
    assert row["signal_offer_undocumented"] == round(raw, 6) and row["signal_offer_price"] == 1.0
    assert row["mention_signals"] == 1.0 and row["strength_without_offer"] == 0.0
    assert row["no_evidence"] == 0.0 and row["no_wildlife_hit"] == 0.0
    empty = dict(zip(names, _evidence_row((), groups), strict=True))
    assert empty["no_evidence"] == 1.0 and empty["no_wildlife_hit"] == 1.0
    assert sum(empty.values()) == 2.0

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

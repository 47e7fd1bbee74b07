"""`wildwatch train --with-reviews`: decisions become labels (needs expert does not), the new model is
compared with the active one on the same held-out rows, and it is activated only when asked."""
from __future__ import annotations

import csv

import pytest

from classifier.labelled import is_test_id
from classifier.train import train
from support.cli import database_url_for, invoke, wildwatch_env
from review.learning import REVIEW_PREFIX, review_rows
from support.review_support import evidence, listing, migrated_engine, seed, standard_users
from store.db import session_scope
from store.decisions import decide, get_user
from wildwatch.config import LABELLED_DIR

pytestmark = pytest.mark.db


@pytest.fixture
def small_labelled(tmp_path):
    """Every 5th labelled row: enough for both labels in both splits, quick to train."""
    source = LABELLED_DIR / "listings.csv"
    with open(source, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    path = tmp_path / "small.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows[::5])
    return path


@pytest.fixture
def reviewed(tmp_path):
    data_dir = tmp_path / "data"
    engine = migrated_engine(database_url_for(data_dir))
    standard_users(engine)
    items = [(listing(f"P{i}", f"犀角杯 老货 私聊 {i}", "懂的来"), 0.9, [evidence("犀角", group="rhino_horn")])
             for i in range(30)]
    items += [(listing(f"N{i}", f"Tiger Balm ointment pack {i}", "pain relief"), 0.6, [evidence("tiger", group="tiger")])
              for i in range(30)]
    items += [(listing("E1", "unclear carving", ""), 0.5, [])]
    ids = seed(engine, items)
    with session_scope(engine) as session:
        alice = get_user(session, "alice")
        for i in range(30):
            decide(session, ids[f"P{i}"], alice, "confirmed" if i % 2 else "escalated")
            decide(session, ids[f"N{i}"], alice, "false_positive")
        decide(session, ids["E1"], alice, "needs_expert")
    yield engine, data_dir
    engine.dispose()


def test_review_rows_turn_decisions_into_labels(reviewed):
    engine, _ = reviewed
    rows = review_rows(engine)
    labels = {row["id"]: row["label"] for row in rows}
    assert len(rows) == 60 and f"{REVIEW_PREFIX}shop:E1" not in labels  # needs expert is no label
    assert labels[f"{REVIEW_PREFIX}shop:P1"] == "1" and labels[f"{REVIEW_PREFIX}shop:P2"] == "1"
    assert labels[f"{REVIEW_PREFIX}shop:N3"] == "0"
    assert {row["group"] for row in rows if row["label"] == "1"} == {"rhino_horn"}


def test_train_with_reviews_compares_on_the_same_held_out_rows_and_activates_only_when_asked(
        reviewed, small_labelled, tmp_path, report):
    engine, data_dir = reviewed
    models_dir = tmp_path / "models"
    # the training rows' embeddings (classifier.semantic) kept where `wildwatch train` keeps them: embedded once
    old = train(small_labelled, models_dir, activate=True, embedding_cache=data_dir / "cache")
    env = wildwatch_env(data_dir, models_dir)

    result = invoke(["train", "--with-reviews", "--data", str(small_labelled)], env)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert (models_dir / "ACTIVE").read_text().strip() == old.version  # not activated
    assert "not activated" in out and f"vs active {old.version}" in out
    for subset in ("all", "labelled"):
        assert f"{subset:<9} old:" in out and f"{subset:<9} new:" in out
    report("[train --with-reviews] " + " | ".join(line.strip() for line in out.splitlines() if " old:" in line or " new:" in line))

    (training_csv,) = (data_dir / "training").glob("with-reviews-*.csv")
    with open(training_csv, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    reviewed_rows = [r for r in rows if r["id"].startswith(REVIEW_PREFIX)]
    with open(small_labelled, encoding="utf-8", newline="") as handle:
        n_labelled = len(list(csv.DictReader(handle)))
    assert len(reviewed_rows) == 60 and len(rows) == 60 + n_labelled
    # the labelled held-out rows are the same ones the old model was measured on
    held_out_labelled = [r for r in rows if not r["id"].startswith(REVIEW_PREFIX) and is_test_id(r["id"])]
    assert f"labelled  old: n {len(held_out_labelled)}," in out
    assert old.metrics["test"]["n"] == len(held_out_labelled)

    activated = invoke(["train", "--with-reviews", "--data", str(small_labelled), "--activate"], env)
    assert activated.returncode == 0, activated.stderr
    active = (models_dir / "ACTIVE").read_text().strip()
    assert active != old.version and f"activated {active}" in activated.stdout


def test_train_with_reviews_needs_a_migrated_database(tmp_path, small_labelled):
    env = wildwatch_env(tmp_path / "empty", tmp_path / "models")
    result = invoke(["train", "--with-reviews", "--data", str(small_labelled)], env)
    assert result.returncode == 2 and "wildwatch db upgrade" in result.stderr

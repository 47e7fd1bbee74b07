"""listings_frame: one row per listing with its latest score, and every filter."""
from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest
from sqlalchemy import select

from crawler.items import ListingItem
from store import db
from store import repository as repo
from store.models import Listing
from store.queries import FRAME_COLUMNS, evidence_summary


def item(market: str, listing_id: str, day: int, title: str = "象牙手镯") -> dict:
    listing = ListingItem(market, listing_id, f"http://127.0.0.1/{market}/{listing_id}", title,
                          description="=HYPERLINK(\"http://evil\")", price=99.5, currency="CNY",
                          crawled_at=f"2026-01-{day:02d}T08:00:00+08:00")
    return {**listing.to_dict(), "content_hash": listing.content_hash()}


def verdict(value: float, flagged: bool, *evidence: dict) -> dict:
    return {"score": value, "flagged": flagged, "species": ["ivory"], "evidence": list(evidence),
            "model_version": "m1", "threshold": 0.5}


@pytest.fixture
def scenario(engine):
    """demo: a (flagged, then cleared), b (flagged 0.8), c (unscored), d (flagged 0.6, seen in run 2);
    other: x (flagged 0.95)."""
    with db.session_scope(engine) as s:
        demo = repo.get_or_create_marketplace(s, "demo")
        other = repo.get_or_create_marketplace(s, "other")
        run1, run_x = repo.start_run(s, demo), repo.start_run(s, other)
        ids = repo.upsert_listings(s, run1, demo, [item("demo", "a", 1), item("demo", "b", 1), item("demo", "c", 1)])
        run2 = repo.start_run(s, demo)
        ids |= repo.upsert_listings(s, run2, demo, [item("demo", "d", 5)])
        ids |= repo.upsert_listings(s, run_x, other, [item("other", "x", 3)])
        model = repo.ensure_model_version(s, "m1", {})
        ev = {"kind": "coded", "term": "象牙", "species": "ivory"}
        repo.record_scores(s, run1, model, [(ids["a"], verdict(0.9, True, ev)), (ids["b"], verdict(0.8, True, ev)),
                                            (ids["d"], verdict(0.6, True)), (ids["x"], verdict(0.95, True, ev))])
        repo.record_scores(s, None, model, [(ids["a"], verdict(0.1, False))])  # rescored: now cleared
        return {"run1": run1.id, "run2": run2.id, "run_x": run_x.id}


def ids_of(frame: pd.DataFrame) -> list[str]:
    return frame["listing_id"].tolist()


def test_flagged_only_uses_the_latest_score(engine, scenario):
    frame = repo.listings_frame(engine)
    assert ids_of(frame) == ["x", "b", "d"]  # highest score first; "a" was cleared by its newer score
    assert list(frame.columns) == list(FRAME_COLUMNS)


def test_all_listings_include_unscored_ones(engine, scenario):
    frame = repo.listings_frame(engine, flagged_only=False)
    assert ids_of(frame) == ["x", "b", "d", "a", "c"]
    row_a = frame.set_index("listing_id").loc["a"]
    assert row_a["score"] == 0.1 and not row_a["flagged"]
    row_c = frame.set_index("listing_id").loc["c"]
    assert pd.isna(row_c["score"]) and pd.isna(row_c["flagged"]) and pd.isna(row_c["model_version"])


def test_latest_score_tie_on_time_goes_to_the_newest_row(engine, scenario):
    with db.session_scope(engine) as s:
        model = repo.ensure_model_version(s, "m1", {})
        row_id = _ids(s)["c"]
        # Same batch, same scored_at: the later entry (higher id) is the current one.
        repo.record_scores(s, None, model, [(row_id, verdict(0.99, True)), (row_id, verdict(0.7, True))])
    frame = repo.listings_frame(engine)
    assert frame.set_index("listing_id").loc["c", "score"] == 0.7


def _ids(session) -> dict[str, int]:
    return dict(session.execute(select(Listing.external_id, Listing.id)).all())


def test_filters(engine, scenario):
    assert ids_of(repo.listings_frame(engine, min_score=0.8)) == ["x", "b"]
    assert ids_of(repo.listings_frame(engine, marketplace="demo")) == ["b", "d"]
    assert ids_of(repo.listings_frame(engine, marketplace="nowhere")) == []
    assert ids_of(repo.listings_frame(engine, since=datetime(2026, 1, 3, tzinfo=UTC))) == ["x", "d"]
    # a naive `since` is UTC: 2026-01-03 00:00 UTC is before x's 2026-01-03 00:00 UTC sighting (08:00+08:00)
    assert ids_of(repo.listings_frame(engine, since=datetime(2026, 1, 3))) == ["x", "d"]
    assert ids_of(repo.listings_frame(engine, since=datetime(2026, 1, 3, 0, 0, 1))) == ["d"]
    assert ids_of(repo.listings_frame(engine, run_ids=[scenario["run2"]])) == ["d"]
    assert ids_of(repo.listings_frame(engine, run_ids=[scenario["run1"], scenario["run_x"]])) == ["x", "b"]
    assert ids_of(repo.listings_frame(engine, run_ids=[])) == []
    unflagged_too = repo.listings_frame(engine, flagged_only=False, min_score=0.05, marketplace="demo")
    assert ids_of(unflagged_too) == ["b", "d", "a"]


def test_values_and_types(engine, scenario):
    with db.session_scope(engine) as session:  # a Session works as well as an Engine
        frame = repo.listings_frame(session, marketplace="other")
    row = frame.iloc[0]
    assert row["marketplace"] == "other" and row["title"] == "象牙手镯" and row["currency"] == "CNY"
    assert row["price"] == 99.5 and row["score"] == 0.95 and bool(row["flagged"]) is True
    assert row["species"] == "ivory" and row["model_version"] == "m1"
    assert row["evidence"] == "coded:象牙 [ivory]"
    assert row["evidence_json"] == '[{"kind": "coded", "term": "象牙", "species": "ivory"}]'
    assert row["first_seen_at"] == pd.Timestamp("2026-01-03T00:00:00Z")
    assert pd.isna(row["gone_at"])
    assert str(frame["first_seen_at"].dtype).endswith("UTC]")


def test_empty_frame_keeps_columns(engine):
    frame = repo.listings_frame(engine)
    assert frame.empty and list(frame.columns) == list(FRAME_COLUMNS)


@pytest.mark.parametrize(
    ("evidence", "expected"),
    [
        ([{"kind": "coded", "term": "广角", "species": "rhino_horn"}, {"kind": "intent", "term": "私聊"}],
         "coded:广角 [rhino_horn]; intent:私聊"),
        ([{"rule": "price", "match": "面议", "species": ["ivory", "rhino_horn"]}], "price:面议 [ivory, rhino_horn]"),
        ([{"term": "老货"}], "老货"),
        # classifier.evidence.Evidence.to_dict(): group "*" means no species; co-occurrence is implied
        ([{"rule": "term", "term": "广角", "matched": "广角", "group": "rhino_horn", "kind": "coded",
           "field": "title", "weight": 0.9},
          {"rule": "term", "term": "私聊", "matched": "私聊", "group": "*", "kind": "intent",
           "field": "description", "weight": 0.5},
          {"rule": "cooccurrence", "term": "广角+私聊", "matched": "", "group": "rhino_horn", "kind": "intent",
           "field": "description", "weight": 0.3},
          {"rule": "term", "term": "广角", "matched": "广角", "group": "rhino_horn", "kind": "coded",
           "field": "description", "weight": 0.9}],
         "coded:广角 [rhino_horn]; intent:私聊"),
        ([{"kind": "coded", "term": f"t{n}"} for n in range(10)],
         "; ".join(f"coded:t{n}" for n in range(8)) + "; +2 more"),
        ([{"weight": 0.3}], '{"weight": 0.3}'),
        ([], ""),
        (None, ""),
    ],
)
def test_evidence_summary(evidence, expected):
    assert evidence_summary(evidence) == expected


def test_evidence_summary_agrees_with_the_classifier():
    evidence_mod = pytest.importorskip("classifier.evidence")
    scorer_mod = pytest.importorskip("classifier.scorer")
    Evidence, ScoreResult = evidence_mod.Evidence, scorer_mod.ScoreResult
    evidence = tuple(Evidence("term", f"词{n}", f"词{n}", "ivory" if n % 2 else "*", "coded", "title", 0.5)
                     for n in range(12))
    evidence += (Evidence("cooccurrence", "a+b", "", "ivory", "intent", "description", 0.2),)
    result = ScoreResult(0.9, True, "ivory", evidence, "m1", 0.5)
    assert evidence_summary(result.to_dict()["evidence"]) == result.evidence_summary()

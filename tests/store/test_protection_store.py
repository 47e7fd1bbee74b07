"""A score's taxon and protection through the store: kept on the score, mirrored on the listing, filtered and
sorted in the queue, exported, written into evidence packages and counted on the dashboard."""
from __future__ import annotations

import json
from dataclasses import replace

import pytest

from classifier.taxa import TaxonMatch, load_taxa
from crawler.items import ListingItem
from review.dashboard import load_dashboard
from review.evidence import build_package
from store import repository
from store.db import session_scope
from store.errors import RecordError
from store.models import Listing, Score
from store.queries import listings_frame
from store.decisions import QueueFilters, flagged_protection_counts, queue_rows
from wildwatch.config import Settings

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def taxa():
    return load_taxa().taxa


def _taxon(taxa, taxon_id, matched="x"):
    return TaxonMatch(taxa[taxon_id], matched, "name").to_dict()


def _store(engine, rows, run_ids=None):
    """rows: (external id, score, taxon dict or None); returns external id -> listing id and the run id."""
    with session_scope(engine) as session:
        market = repository.get_or_create_marketplace(session, "shop", "http://shop.test")
        run = repository.start_run(session, market)
        items = []
        for external, _score, _taxon in rows:
            item = ListingItem(marketplace="shop", listing_id=external, url=f"http://shop.test/{external}",
                               title=f"listing {external}")
            data = item.to_dict() | {"content_hash": item.content_hash(), "marketplace": "shop"}
            items.append(data)
        ids = repository.upsert_listings(session, run, market, items)
        model = repository.ensure_model_version(session, "m1", {"threshold": 0.5})
        repository.record_scores(session, run, model, [
            (ids[external], {"score": score, "flagged": score >= 0.5, "threshold": 0.5, "species": [],
                             "evidence": [], **({"taxon": taxon} if taxon else {})})
            for external, score, taxon in rows])
        repository.finish_run(session, run, "succeeded", {})
        if run_ids is not None:
            run_ids.append(run.id)
    return ids


def test_protection_is_stored_mirrored_sorted_filtered_and_counted(engine, taxa):
    run_ids: list[int] = []
    ids = _store(engine, [
        ("bear", 0.99, _taxon(taxa, "garrulax_canorus")),        # China II, CITES II (画眉)
        ("none", 0.98, None),                                   # no taxon named
        ("pangolin", 0.70, _taxon(taxa, "manis_pentadactyla")),  # China I, CITES I
        ("ivory", 0.80, _taxon(taxa, "loxodonta_africana")),     # CITES I/II only
        ("quiet", 0.10, _taxon(taxa, "manis_pentadactyla")),     # not flagged
    ], run_ids)
    with session_scope(engine) as session:
        pangolin = session.get(Listing, ids["pangolin"])
        assert (pangolin.current_protection_rank, pangolin.current_china_class, pangolin.current_cites_appendix,
                pangolin.current_taxon_id) == (0, "I", "I", "manis_pentadactyla")
        score = session.get(Score, pangolin.current_score_id)
        assert score.taxon["protection"] == "China Class I, CITES Appendix I" and score.protection_rank == 0
        ordered = [r.id for r in queue_rows(session, QueueFilters(order="protection"), limit=10)]
        assert ordered == [ids["ivory"], ids["pangolin"], ids["bear"], ids["none"]]  # rank 0 by score, II, none
        strict = queue_rows(session, QueueFilters(protection="I"), limit=10)
        assert {r.id for r in strict} == {ids["ivory"], ids["pangolin"]}
        unassessed = queue_rows(session, QueueFilters(protection="none"), limit=10)
        assert [r.id for r in unassessed] == [ids["none"]]
        counts = flagged_protection_counts(session, run_ids)
    assert counts == {"china_I": 1, "rank0": 2, "rank1": 1, "rank2": 0, "rank3": 0, "unassessed": 1, "flagged": 4}
    board = load_dashboard(engine)
    assert board.per_protection.loc["0 China Class I or CITES Appendix I", "flagged"] == 2
    assert board.per_protection.loc["4 not assessed", "flagged"] == 1
    # A newer score that names no taxon clears the listing's protection (it follows the current score).
    _store(engine, [("pangolin", 0.95, None)])
    with session_scope(engine) as session:
        again = session.get(Listing, ids["pangolin"])
        assert again.current_protection_rank is None and again.current_taxon_id is None


def test_export_and_evidence_package_carry_the_protection_and_legal_basis(engine, taxa, tmp_path):
    ids = _store(engine, [("pangolin", 0.9, _taxon(taxa, "manis_pentadactyla", "穿山甲片"))])
    frame = listings_frame(engine)
    row = frame.iloc[0]
    assert row["protection"] == "China Class I, CITES Appendix I"
    assert (row["china_class"], row["cites_appendix"], row["taxon"]) == ("I", "I", "穿山甲 Manis pentadactyla")
    assert row["legal_basis"].startswith("China Class I: 国家重点保护野生动物名录")
    with session_scope(engine) as session:
        repository.add_decision(session, ids["pangolin"], "alice", "confirmed")
    settings = replace(Settings.from_env(), database_url=engine.url.render_as_string(hide_password=False),
                       data_dir=tmp_path / "data")
    out = tmp_path / "package"
    build_package(engine, ids["pangolin"], out, settings, actor="alice", capture=False)
    score = json.loads((out / "score.json").read_text(encoding="utf-8"))["latest"]
    assert score["protection"] == "China Class I, CITES Appendix I"
    assert score["taxon"]["scientific_name"] == "Manis pentadactyla" and "2021年第3号" in score["legal_basis"]
    readme = (out / "README.txt").read_text(encoding="utf-8")
    assert "Protection: China Class I, CITES Appendix I (Manis pentadactyla 穿山甲)." in readme


def test_a_malformed_taxon_is_refused_with_the_field_named(engine):
    errors: list[RecordError] = []
    with session_scope(engine) as session:
        market = repository.get_or_create_marketplace(session, "shop", "http://shop.test")
        model = repository.ensure_model_version(session, "m1", {})
        stored = repository.record_scores(session, None, model, [
            (1, {"score": 0.9, "flagged": True, "taxon": {"taxon_id": "manis", "protection_rank": 7}}),
            (1, {"score": 0.9, "flagged": True, "taxon": "Manis"}),
        ], errors=errors)
        assert market.id and stored == 0
    assert len(errors) == 2 and all(e.field == "taxon" for e in errors)
    assert "protection_rank must be 0, 1, 2 or 3" in str(errors[0])

"""scripts/measure_peer_listings.py reads the peer project's CSV layout (written here, not copied) and reports
ROC AUC and flags; a folder without the files is an error, not a silent zero."""
from __future__ import annotations

import csv
import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SPEC = importlib.util.spec_from_file_location("measure_peer_listings", ROOT / "scripts" / "measure_peer_listings.py")
peer = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(peer)

SHARKS = [  # the layout of validation_sharks.csv, rows written for this test
    {"id": "a1", "title": "Real tiger shark jaw 14 inch, genuine taxidermy | eBay", "description": "real jaw, all teeth",
     "price": "250.0", "currency": "USD", "label": "1"},
    {"id": "a2", "title": "Shark fin antenna cover for cars | eBay", "description": "", "price": "12.5",
     "currency": "USD", "label": "0"},
    {"id": "a3", "title": "Baby shark plush toy | eBay", "description": "", "price": "nan", "currency": "nan",
     "label": "0"},
    {"id": "a4", "title": "broken row", "description": "", "price": "", "currency": "", "label": "maybe"},
]


def _write(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_reads_the_peer_layout(tmp_path: Path) -> None:
    _write(tmp_path / "validation_sharks.csv", SHARKS)
    records, labels, keys = peer.read_listings(tmp_path / "validation_sharks.csv", peer.SETS["validation_sharks.csv"])
    assert labels == [1, 0, 0] and keys == ["a1", "a2", "a3"]  # the row without a 0/1 label is skipped
    assert records[0]["title"] == "Real tiger shark jaw 14 inch, genuine taxidermy"  # " | eBay" cut
    assert (records[0]["price"], records[0]["currency"]) == (250.0, "USD")
    assert (records[2]["price"], records[2]["currency"]) == (None, None)  # pandas' "nan" is no price


def test_reports_auc_for_each_set_found(tmp_path: Path, trained_models_dir: Path, capsys) -> None:
    folder = tmp_path / "LTS" / "data_use_cases"
    folder.mkdir(parents=True)
    _write(folder / "validation_sharks.csv", SHARKS)
    mapping = tmp_path / "mapping"
    mapping.mkdir()
    (mapping / "validation_sharks.jsonl").write_text("".join(
        json.dumps({"key": key, "label": label, "unsure": unsure}) + "\n"
        for key, label, unsure in (("a1", 1, False), ("a2", 0, False), ("a3", 0, True))))
    assert peer.main([str(tmp_path / "LTS"), "--models", str(trained_models_dir), "--mapping", str(mapping)]) == 0
    out = capsys.readouterr()
    assert "validation_sharks.csv: 3 listings (1 of animal origin), ROC AUC" in out.out
    assert "under wildwatch's label policy: 1 offers of 3, ROC AUC 1.000" in out.out
    assert "without the 1 rows marked unsure: ROC AUC 1.000 (1 offers of 2)" in out.out
    assert "leather_validation.csv: not found" in out.err


def test_the_shipped_mapping_labels_every_peer_row_once() -> None:
    """data/real/lts-mapping: one row per peer listing with a 0/1 label (499 and 500), each with a reason."""
    for name, rows in (("validation_sharks", 499), ("leather_validation", 500)):
        mapping = peer.read_mapping(peer.MAPPING / f"{name}.jsonl")
        assert len(mapping) == rows
        assert all(m["note"] and m["category"] in {"explicit", "coded", "hard_negative", "mention", "legal", "ordinary"}
                   and (m["label"] == 1) == (m["category"] in {"explicit", "coded"}) for m in mapping.values())


def test_a_broken_mapping_row_names_its_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "validation_sharks.jsonl"
    path.write_text('{"key": "a1", "label": 1, "unsure": false}\n{"key": "a2", "label": "yes", "unsure": false}\n')
    with pytest.raises(ValueError, match=r"validation_sharks.jsonl line 2"):
        peer.read_mapping(path)


def test_a_folder_without_the_files_fails(tmp_path: Path, trained_models_dir: Path) -> None:
    assert peer.main([str(tmp_path), "--models", str(trained_models_dir)]) == 1

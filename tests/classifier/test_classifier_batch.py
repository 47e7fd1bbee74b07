"""classify_file: JSONL and CSV in, scored CSV out; bad rows reported and skipped."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from classifier.batch import OUTPUT_COLUMNS, classify_file
from classifier.scorer import Scorer
from classifier.train import train
import support

FIXTURES = support.FIXTURES / "classifier"


@pytest.fixture(scope="module")
def scorer(tmp_path_factory: pytest.TempPathFactory) -> Scorer:
    models = tmp_path_factory.mktemp("models")
    train(FIXTURES / "listings.csv", models, lexicon_dir=FIXTURES / "lexicon")
    return Scorer.load(models)


def _read(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_jsonl_good_and_bad_rows(tmp_path: Path, scorer: Scorer) -> None:
    lines = [
        json.dumps({"id": "a1", "title": "穿山甲片 批发", "description": "懂行的私聊", "price": 800, "currency": "CNY"}),
        "{not json",
        json.dumps({"id": "a3", "description": "no title"}),
        json.dumps({"id": 4, "title": "Tiger Balm 19.4g", "seller": "ignored"}),
        json.dumps({"title": "no id"}),
        json.dumps({"id": "a6", "title": 12}),
        json.dumps({"id": "a7", "title": "象牙白 手机壳", "price": "cheap"}),
        "",
        json.dumps(["not", "an", "object"]),
        json.dumps({"id": "a10", "title": "mammoth ivory pendant", "price": "1200.50"}),
    ]
    source = tmp_path / "input.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out" / "scored.csv"
    stats = classify_file(source, out, scorer, batch_size=2)
    assert stats.errors == [
        "input.jsonl line 2: bad JSON (Expecting property name enclosed in double quotes at column 2)",
        "input.jsonl line 3: missing field 'title'",
        "input.jsonl line 5: missing field 'id'",
        "input.jsonl line 6: field 'title' must be text, got int",
        "input.jsonl line 7: field 'price' must be a number, got 'cheap'",
        "input.jsonl line 9: expected an object, got list",
    ]
    assert (stats.read, stats.scored, stats.skipped) == (9, 3, 6)
    rows = _read(out)
    assert list(rows[0]) == list(OUTPUT_COLUMNS)
    assert [r["id"] for r in rows] == ["a1", "4", "a10"]
    first = rows[0]
    assert first["flagged"] == "1" and first["species"] == "pangolin"
    assert first["evidence"].startswith("product:穿山甲片 [pangolin]")
    assert first["model_version"] == scorer.version
    assert json.loads(first["evidence_json"])[0]["term"] == "穿山甲片"
    assert stats.flagged == sum(int(r["flagged"]) for r in rows) == 1
    assert rows[1]["flagged"] == "0" and rows[1]["species"] == ""


def test_csv_input(tmp_path: Path, scorer: Scorer) -> None:
    source = tmp_path / "input.csv"
    with open(source, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "title", "description", "price", "currency", "url"])
        writer.writerow(["c1", "犀角杯 老货", "私聊\n懂行的来", "", "", "http://x"])
        writer.writerow(["c2", "", "empty title", "", "", ""])
        writer.writerow(["c3", "wooden chopsticks set", "", "12", "USD", ""])
        writer.writerow(["c4", "too", "many", "1", "USD", "u", "extra"])
    out = tmp_path / "scored.csv"
    stats = classify_file(source, out, scorer)
    # Line numbers are file lines: the quoted newline makes c1 span lines 2-3.
    assert stats.errors == ["input.csv line 4: missing field 'title'", "input.csv line 6: more fields than the header has"]
    rows = _read(out)
    assert [r["id"] for r in rows] == ["c1", "c3"]
    assert rows[0]["flagged"] == "1" and rows[1]["flagged"] == "0"


def test_unsupported_extension_and_missing_file(tmp_path: Path, scorer: Scorer) -> None:
    (tmp_path / "input.xml").write_text("<x/>")
    with pytest.raises(ValueError, match=r"unsupported input type \.xml"):
        classify_file(tmp_path / "input.xml", tmp_path / "o.csv", scorer)
    with pytest.raises(FileNotFoundError, match="input file not found"):
        classify_file(tmp_path / "nope.jsonl", tmp_path / "o.csv", scorer)
    with pytest.raises(ValueError, match="batch_size"):
        classify_file(tmp_path / "input.xml", tmp_path / "o.csv", scorer, batch_size=0)
    assert not (tmp_path / "o.csv").exists()


def test_bad_encoding_is_reported_not_fatal(tmp_path: Path, scorer: Scorer) -> None:
    source = tmp_path / "input.jsonl"
    good = json.dumps({"id": "1", "title": "ok"}).encode()
    source.write_bytes(b"\xef\xbb\xbf" + good + b"\n\xff\xfe broken\n" + good + b"\n")
    stats = classify_file(source, tmp_path / "o.csv", scorer)
    assert stats.scored == 2
    assert stats.errors == ["input.jsonl line 2: not valid UTF-8"]
    csv_source = tmp_path / "input.csv"
    csv_source.write_bytes(b"id,title\n1,ok\n2,bad \xff\n3,fine\n")
    stats = classify_file(csv_source, tmp_path / "o.csv", scorer)
    assert stats.scored == 2
    assert stats.errors == ["input.csv line 3: not valid UTF-8"]


def test_empty_input_gives_header_only(tmp_path: Path, scorer: Scorer) -> None:
    source = tmp_path / "input.jsonl"
    source.write_text("", encoding="utf-8")
    stats = classify_file(source, tmp_path / "o.csv", scorer)
    assert (stats.read, stats.scored, stats.errors) == (0, 0, [])
    assert (tmp_path / "o.csv").read_text(encoding="utf-8").strip() == ",".join(OUTPUT_COLUMNS)

"""Exports: CSV/XLSX/Parquet round trips, formula neutralisation, atomic writes, bad formats."""
from __future__ import annotations

import os

import pandas as pd
import pytest

from crawler.items import ListingItem
from store import db
from store import repository as repo
from wildwatch.export import FORMULA_PREFIXES, export_frame, export_listings, neutralise_formula

KEY = b"k" * 40  # a pseudonym key (the CLI reads the real one from the settings)

DANGEROUS = ["=1+1", "+86 138", "-cmd|' /C calc'!A0", "@SUM(A1)", "\tTAB", "\rCR"]


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "title": pd.Series(["犀角杯 广角", "象牙手镯 老货", *DANGEROUS], dtype="string"),
            "note": ["鹤顶红", None, "line\rbreak", "line\nbreak", "ok", "ok", "ok", "ok"],
            "price": [12.5, None, -3.0, 1, 2, 3, 4, 5],
            "seen_at": pd.to_datetime(["2026-01-01T08:00:00+08:00"] * 8, utc=True),
        }
    )


def read_back(path, fmt):
    if fmt == "csv":
        return pd.read_csv(path, encoding="utf-8-sig", keep_default_na=False, na_values=[""])
    if fmt == "xlsx":
        return pd.read_excel(path, engine="openpyxl")
    return pd.read_parquet(path)


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet"])
def test_round_trip_keeps_chinese_and_neutralises_formulas_in_spreadsheets(tmp_path, frame, fmt):
    path = export_frame(frame, tmp_path / "out" / f"listings.{fmt}")
    assert path == tmp_path / "out" / f"listings.{fmt}" and path.is_file()
    back = read_back(path, fmt)
    assert back["title"].tolist()[:2] == ["犀角杯 广角", "象牙手镯 老货"]
    assert back["note"].tolist()[0] == "鹤顶红"
    if fmt != "xlsx":  # Excel cells normalise line breaks
        assert back["note"].tolist()[2:4] == ["line\rbreak", "line\nbreak"]
    assert back["price"].tolist()[0] == 12.5 and pd.isna(back["price"].tolist()[1])
    assert back["price"].tolist()[2] == -3.0  # numbers are numbers, not "text formulas"
    titles = back["title"].tolist()[2:]
    if fmt == "parquet":
        assert titles == DANGEROUS
        assert back["seen_at"].iloc[0] == pd.Timestamp("2026-01-01T00:00:00Z")
    elif fmt == "csv":
        assert titles == ["'" + value for value in DANGEROUS]
    else:
        # Excel normalises a lone CR inside a cell; the apostrophe is what matters.
        assert all(t.startswith("'") for t in titles) and titles[:4] == ["'" + v for v in DANGEROUS[:4]]
        assert "seen_at_utc" in back.columns
        assert back["seen_at_utc"].iloc[0] == pd.Timestamp("2026-01-01T00:00:00")


def test_csv_has_a_byte_order_mark_for_excel(tmp_path, frame):
    path = export_frame(frame, tmp_path / "x.csv")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and "犀角杯".encode() in raw


def test_format_argument_overrides_suffix(tmp_path, frame):
    path = export_frame(frame, tmp_path / "listings.data", fmt="PARQUET")
    assert pd.read_parquet(path)["title"].iloc[0] == "犀角杯 广角"


@pytest.mark.parametrize(("name", "fmt", "named"), [("x.json", None, "'.json'"), ("x", None, "''"),
                                                      ("x.csv", "xls", "'xls'")])
def test_bad_format_is_named(tmp_path, frame, name, fmt, named):
    with pytest.raises(ValueError, match="unsupported export") as info:
        export_frame(frame, tmp_path / name, fmt)
    assert named in str(info.value) and "csv, xlsx, parquet" in str(info.value)
    assert not list(tmp_path.iterdir())


def test_failed_write_keeps_the_old_file_and_leaves_no_temp(tmp_path, frame):
    target = tmp_path / "listings.parquet"
    export_frame(frame, target)
    before = target.read_bytes()
    unwritable = pd.DataFrame({"mixed": [1, "two", object()]})  # pyarrow cannot store this column
    with pytest.raises((TypeError, ValueError)):
        export_frame(unwritable, target)
    assert target.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["listings.parquet"]


def test_xlsx_drops_control_characters_openpyxl_rejects(tmp_path):
    df = pd.DataFrame({"text": ["象牙\x01\x1b手镯", "a" * 40_000]})
    back = read_back(export_frame(df, tmp_path / "x.xlsx"), "xlsx")
    assert back["text"].iloc[0] == "象牙手镯"
    assert len(back["text"].iloc[1]) == 32_767


def test_neutralise_formula():
    for prefix in FORMULA_PREFIXES:
        assert neutralise_formula(prefix + "x") == "'" + prefix + "x"
    assert neutralise_formula("犀角") == "犀角"
    assert neutralise_formula("") == ""
    assert neutralise_formula(-5) == -5
    assert neutralise_formula(None) is None


def test_export_listings_writes_the_flagged_listings(engine, tmp_path):
    with db.session_scope(engine) as s:
        market = repo.get_or_create_marketplace(s, "demo")
        run = repo.start_run(s, market)
        items = []
        for listing_id, title in (("1", "=犀角杯"), ("2", "普通茶杯")):
            listing = ListingItem("demo", listing_id, f"http://127.0.0.1/{listing_id}", title)
            items.append({**listing.to_dict(), "content_hash": listing.content_hash()})
        ids = repo.upsert_listings(s, run, market, items)
        model = repo.ensure_model_version(s, "m1", {})
        repo.record_scores(s, run, model, [
            (ids["1"], {"score": 0.9, "flagged": True, "evidence": [
                {"kind": "coded", "term": "广角"},  # an old shape: shown in the summary, not read
                {"rule": "term", "term": "犀角杯", "matched": "犀角杯", "group": "rhino_horn", "kind": "product",
                 "field": "title", "weight": 0.9},
                {"rule": "signal", "term": "offer:contact", "matched": "微信", "group": "*", "kind": "offer",
                 "field": "description", "weight": 1.0}]}),
            (ids["2"], {"score": 0.1, "flagged": False}),
        ])
    with pytest.raises(ValueError, match="pseudonym_key is required"):
        export_listings(engine, tmp_path / "nokey.csv")  # handles are never written in clear by omission
    path, rows = export_listings(engine, tmp_path / "exports" / "flagged.csv", pseudonym_key=KEY)
    assert rows == 1
    back = pd.read_csv(path, encoding="utf-8-sig")
    assert back["title"].tolist() == ["'=犀角杯"] and back["evidence"].tolist()[0].startswith("coded:广角; product:犀角杯")
    # Why it is an offer, beside the evidence it is read from.
    assert back["reading"].tolist() == ["Offer: rhino_horn (犀角杯), with contact."]
    assert list(back.columns).index("reading") == list(back.columns).index("evidence") + 1
    path, rows = export_listings(engine, tmp_path / "all.parquet", flagged_only=False, pseudonym_key=KEY)
    assert rows == 2 and sorted(pd.read_parquet(path)["title"]) == ["=犀角杯", "普通茶杯"]
    path, rows = export_listings(engine, tmp_path / "none.xlsx", marketplace="other", pseudonym_key=KEY)
    assert rows == 0 and list(pd.read_excel(path).columns)[:2] == ["marketplace", "listing_id"]
    with pytest.raises(ValueError, match=r"'\.txt'"):
        export_listings(engine, tmp_path / "x.txt", pseudonym_key=KEY)

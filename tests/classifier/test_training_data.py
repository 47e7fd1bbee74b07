"""Data-quality checks for data/labelled/listings.csv and its generator.

The classifier trains on this file, so its promises (schema, class bands,
group coverage, traditional-character and obfuscation shares, no label
give-aways in seller talk, byte-for-byte reproducibility) are tested here
rather than trusted.
"""
from __future__ import annotations

import csv
import importlib.util
import re
import subprocess
import sys
from collections import Counter

import opencc
import pytest
import support

ROOT = support.ROOT
CSV_PATH = ROOT / "data" / "labelled" / "listings.csv"
CARD_PATH = ROOT / "data" / "labelled" / "README.md"
SCRIPT = ROOT / "scripts" / "build_training_data.py"
COLUMNS = ["id", "title", "description", "price", "currency", "label", "group", "category",
           "lang", "source"]
BANDS = {"positive": (0.35, 0.45), "hard_negative": (0.25, 0.35), "ordinary": (0.25, 0.35)}
# Terms that may appear with separators inside them (象-牙, i.v.o.r.y).
SENSITIVE = ("象牙", "犀角", "犀牛角", "穿山甲", "山甲", "虎骨", "虎皮", "豹皮", "玳瑁", "鹤顶红",
             "熊胆", "羚羊角", "麝香", "珊瑚", "海龟", "鹦鹉", "陆龟", "画眉", "鱼翅", "海马", "广角",
             "ivory", "rhino", "pangolin", "tiger", "leopard", "hornbill", "turtle", "coral",
             "musk", "loris", "tortoise", "bone", "unicorn", "hawksbill", "shark")
SEPARATOR_RE = re.compile(r"[\s\-._*·/丨]+")
LEET = str.maketrans("013@5", "oieas")


def _load_script():
    spec = importlib.util.spec_from_file_location("build_training_data", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module       # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    with CSV_PATH.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == COLUMNS, f"{CSV_PATH}: columns {reader.fieldnames}"
        return list(reader)


@pytest.fixture(scope="module")
def builder():
    return _load_script()


def test_schema_and_values(rows):
    assert len(rows) >= 2400
    for n, row in enumerate(rows, start=2):      # line 1 is the header
        where = f"{CSV_PATH.name} line {n}"
        assert row["id"] == f"TR-{n - 1:05d}", where
        assert row["label"] in {"0", "1"}, where
        assert row["title"].strip(), f"{where}: empty title"
        assert row["lang"] in {"zh", "zh-Hant", "en", "mixed"}, where
        assert row["source"].startswith("synthetic:v2:"), where
        expected_cats = {"plain", "coded"} if row["label"] == "1" else {"hard_negative", "ordinary"}
        assert row["category"] in expected_cats, where
        if row["price"]:
            assert float(row["price"]) >= 0, where
        else:
            assert row["currency"] == "", f"{where}: currency without price"
        assert row["currency"] == "" or re.fullmatch(r"[A-Z]{3}", row["currency"]), where


def test_class_balance_within_bands(rows):
    n = len(rows)
    shares = {
        "positive": sum(r["label"] == "1" for r in rows) / n,
        "hard_negative": sum(r["category"] == "hard_negative" for r in rows) / n,
        "ordinary": sum(r["category"] == "ordinary" for r in rows) / n,
    }
    for cls, (lo, hi) in BANDS.items():
        assert lo <= shares[cls] <= hi, f"{cls} share {shares[cls]:.3f} outside [{lo}, {hi}]"
    coded = sum(r["category"] == "coded" for r in rows) / sum(r["label"] == "1" for r in rows)
    assert 0.25 <= coded <= 0.6, f"coded share of positives {coded:.2f}"


def test_groups_cover_the_trade(rows):
    positives = [r for r in rows if r["label"] == "1"]
    assert all(r["group"] for r in positives), "every positive needs a group"
    counts = Counter(r["group"] for r in positives)
    assert len(counts) >= 18, sorted(counts)
    thin = {g: c for g, c in counts.items() if c < 15}
    assert not thin, f"groups with too few positives: {thin}"
    assert all(r["group"] == "" for r in rows if r["category"] == "ordinary")
    hard_groups = {r["group"] for r in rows if r["category"] == "hard_negative"}
    assert len(hard_groups) >= 15, "hard negatives should mimic most positive groups"


def test_no_duplicates(rows):
    keys = Counter((r["title"], r["description"]) for r in rows)
    dupes = [k for k, c in keys.items() if c > 1]
    assert not dupes, f"duplicate (title, description) pairs: {dupes[:3]}"
    assert len({r["id"] for r in rows}) == len(rows)


def test_traditional_rows_are_really_traditional(rows):
    t2s = opencc.OpenCC("t2s")
    zh = [r for r in rows if r["lang"] == "zh"]
    hant = [r for r in rows if r["lang"] == "zh-Hant"]
    share = len(hant) / (len(zh) + len(hant))
    assert 0.10 <= share <= 0.20, f"traditional share of Chinese rows {share:.3f}"
    changed = sum(t2s.convert(r["title"] + r["description"]) != r["title"] + r["description"]
                  for r in hant)
    assert changed / len(hant) >= 0.9, "zh-Hant rows must contain traditional characters"
    unchanged = sum(t2s.convert(r["title"] + r["description"]) == r["title"] + r["description"]
                    for r in zh)
    assert unchanged / len(zh) >= 0.95, "zh rows should be simplified"
    assert {r["label"] for r in hant} == {"0", "1"}, "traditional script must not predict the label"


def _obfuscated(row: dict[str, str]) -> bool:
    text = (row["title"] + " " + row["description"]).lower()
    folded = SEPARATOR_RE.sub("", text).translate(LEET)
    return any(term in folded and term not in text for term in SENSITIVE)


def test_separator_share_in_positives(rows):
    positives = [r for r in rows if r["label"] == "1"]
    share = sum(_obfuscated(r) for r in positives) / len(positives)
    assert 0.05 <= share <= 0.30, f"obfuscated positives {share:.3f}"


def test_seller_talk_is_no_giveaway(rows):
    """Intent and shipping words must occur in both classes at similar rates."""
    by_label = {lab: [r["title"] + " " + r["description"] for r in rows if r["label"] == lab]
                for lab in ("0", "1")}
    for word in ("包邮", "私聊", "加微信", "DM me", "懂的来", "顺丰"):
        rates = {lab: sum(word in t for t in texts) / len(texts) for lab, texts in by_label.items()}
        assert rates["0"] > 0 and rates["1"] > 0, f"{word!r} only in one class: {rates}"
        ratio = max(rates.values()) / min(rates.values())
        assert ratio < 4, f"{word!r} separates the classes: {rates}"
    emoji = re.compile("[\U0001F300-\U0001FAFF]")
    for lab, texts in by_label.items():
        assert sum(bool(emoji.search(t)) for t in texts) / len(texts) > 0.05, f"label {lab}: emoji"


def test_label_policy_examples(rows):
    mammoth = [r for r in rows if "猛犸" in r["title"] or "mammoth" in r["title"].lower()]
    assert mammoth and all(r["label"] == "0" for r in mammoth), "mammoth ivory is label 0"
    licensed = [r for r in rows if "国药准字" in r["title"] + r["description"]]
    assert licensed and all(r["label"] == "0" for r in licensed), "licensed bear bile is 0"
    ivory_colour = [r for r in rows if r["title"].startswith("象牙白")]
    assert ivory_colour and all(r["label"] == "0" for r in ivory_colour)


def test_generator_is_deterministic(tmp_path):
    out = tmp_path / "listings.csv"
    subprocess.run([sys.executable, str(SCRIPT), "--out", str(out), "--no-card"],
                   check=True, cwd=ROOT, capture_output=True)
    assert out.read_bytes() == CSV_PATH.read_bytes(), \
        "listings.csv is stale: rerun scripts/build_training_data.py"


def test_card_table_is_current(rows, builder):
    card = CARD_PATH.read_text(encoding="utf-8")
    start = card.index(builder.CARD_BEGIN) + len(builder.CARD_BEGIN)
    end = card.index(builder.CARD_END)
    assert card[start:end].strip() == builder.balance_table(rows).strip()


def test_card_without_markers_fails_clearly(tmp_path, builder):
    card = tmp_path / "README.md"
    card.write_text("# no markers here\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="README.md: markers"):
        builder.update_card(card, "table")


def test_rejects_tiny_row_counts(tmp_path):
    result = subprocess.run([sys.executable, str(SCRIPT), "--out", str(tmp_path / "x.csv"),
                             "--no-card", "--rows", "5"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode != 0
    assert "--rows must be at least 100" in result.stderr


def test_other_seeds_also_build_clean_data(builder):
    rows = builder.Generator(7).build(600)
    assert len({(r["title"], r["description"]) for r in rows}) == 600
    assert {r["label"] for r in rows} == {"0", "1"}

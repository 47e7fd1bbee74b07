"""Each normalisation transform on its own, then the composition and the tokenizer."""
from __future__ import annotations

import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from classifier import text as T


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("ｉｖｏｒｙ", "ivory"), ("象牙　手镯", "象牙 手镯"), ("１２３", "123"), ("ＩＶＯＲＹ", "IVORY")],
)
def test_fold_width_turns_full_width_into_ascii(raw: str, expected: str) -> None:
    assert T.fold_width(raw) == expected


@pytest.mark.parametrize("invisible", ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\ufe0f"])
def test_strip_invisible_removes_zero_width_and_format_chars(invisible: str) -> None:
    assert T.strip_invisible(f"象{invisible}牙") == "象牙"
    assert T.strip_invisible(f"iv{invisible}ory") == "ivory"


def test_strip_invisible_keeps_line_breaks() -> None:
    assert T.strip_invisible("a\nb\tc") == "a\nb\tc"


@pytest.mark.parametrize(
    ("raw", "expected"), [("鶴頂紅", "鹤顶红"), ("犀牛角 轉讓", "犀牛角 转让"), ("穿山甲", "穿山甲"), ("ivory", "ivory")]
)
def test_to_simplified_converts_traditional_characters(raw: str, expected: str) -> None:
    assert T.to_simplified(raw) == expected


def test_lower() -> None:
    assert T.lower("Tiger BALM") == "tiger balm"


def test_map_emoji_gives_a_stable_named_token() -> None:
    assert T.map_emoji("🐘") == " ⟨emoji:elephant⟩ "
    assert T.map_emoji("a🦏b") == "a ⟨emoji:rhinoceros⟩ b"
    assert T.map_emoji("no emoji 象牙") == "no emoji 象牙"


@pytest.mark.parametrize("raw", ["象-牙", "象 牙", "象.牙", "象*牙", "象_牙", "象·牙", "象 - 牙", "象/牙"])
def test_join_cjk_separators(raw: str) -> None:
    assert T.join_cjk_separators(raw) == "象牙"


def test_join_cjk_separators_leaves_sentence_punctuation_and_latin_alone() -> None:
    assert T.join_cjk_separators("象牙,私聊") == "象牙,私聊"
    assert T.join_cjk_separators("象牙。私聊") == "象牙。私聊"
    assert T.join_cjk_separators("wedding dress") == "wedding dress"


@pytest.mark.parametrize("raw", ["i.v.o.r.y", "i-v-o-r-y", "i v o r y", "i_v_o_r_y", "i*v*o*r*y"])
def test_join_spelled_latin(raw: str) -> None:
    assert T.join_spelled_latin(f"old {raw} bangle") == "old ivory bangle"


def test_join_spelled_latin_needs_three_letters_and_one_separator_kind() -> None:
    assert T.join_spelled_latin("a b") == "a b"
    assert T.join_spelled_latin("a.b-c") == "a.b-c"
    assert T.join_spelled_latin("ox b o n e") == "ox bone"


def test_spelled_letters_may_be_look_alike_digits_but_numbers_stay() -> None:
    assert T.normalise("i-v-0-r-y chopsticks") == "ivory chopsticks"
    assert T.normalise("r h 1 n 0 horn") == "rhino horn"
    # three real letters and a letter first, or it is a number, a date or a phone
    assert T.join_spelled_latin("call 1-800-555") == "call 1-800-555"
    assert T.join_spelled_latin("v 1 0") == "v 1 0"
    assert T.join_spelled_latin("x.1.5.a") == "x.1.5.a"


@pytest.mark.parametrize(("raw", "expected"), [("sa1g@", "saiga"), ("iv0ry", "ivory"), ("rh1n0 horn", "rhino horn")])
def test_decode_leet(raw: str, expected: str) -> None:
    assert T.decode_leet(raw) == expected


@pytest.mark.parametrize("kept", ["rtx3060", "19.4g", "24mm", "h2o", "a7", "$15788", "5g"])
def test_decode_leet_keeps_model_numbers_and_prices(kept: str) -> None:
    assert T.decode_leet(kept) == kept


def test_collapse_repeats_keeps_digits() -> None:
    assert T.collapse_repeats("ivoryyyy") == "ivory"
    assert T.collapse_repeats("象象象牙") == "象牙"
    assert T.collapse_repeats("1000元") == "1000元"
    assert T.collapse_repeats("good") == "good"  # doubles are ordinary spelling


def test_apply_variants_maps_homophones_but_not_ordinary_words() -> None:
    assert T.apply_variants("正宗像牙手镯") == "正宗象牙手镯"
    assert T.apply_variants("穿山夹") == "穿山甲"
    assert T.apply_variants("像牙齿一样白") == "像牙齿一样白"
    assert T.apply_variants("好像牙") == "好像牙"
    assert T.apply_variants("鹤顶宏 挂件") == "鹤顶红 挂件"
    assert T.apply_variants("玳冒手镯") == "玳瑁手镯"
    assert T.apply_variants("羚羊脚 整支") == "羚羊角 整支"
    assert T.apply_variants("穿山贾片") == "穿山甲片"
    assert T.apply_variants("熊旦粉") == "熊旦粉"  # curated as a lexicon row of its own


def test_collapse_whitespace() -> None:
    assert T.collapse_whitespace("  mammoth \n\t ivory  ") == "mammoth ivory"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("象-牙 手镯", "象牙手镯"),
        ("ＩＶＯＲＹ bangle", "ivory bangle"),
        ("鶴頂紅 掛件", "鹤顶红挂件"),
        ("象\u200b牙", "象牙"),
        ("I.V.O.R.Y", "ivory"),
        ("🐘🐘 私聊", "⟨emoji:elephant⟩ ⟨emoji:elephant⟩ 私聊"),
        ("", ""),
    ],
)
def test_normalise_composes_the_transforms(raw: str, expected: str) -> None:
    assert T.normalise(raw) == expected


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_normalise_is_idempotent(raw: str) -> None:
    once = T.normalise(raw)
    assert T.normalise(once) == once


def test_jieba_tokenizer_keeps_lexicon_terms_whole_and_pickles() -> None:
    tokenizer = T.JiebaTokenizer(["穿山甲片", "鹤顶红", "mammoth ivory"])
    assert "mammoth ivory" not in tokenizer.terms  # jieba cannot hold spaced terms
    tokens = tokenizer(T.normalise("正宗穿山甲片 鹤顶红挂件"))
    assert "穿山甲片" in tokens and "鹤顶红" in tokens
    restored = pickle.loads(pickle.dumps(tokenizer))
    assert restored == tokenizer and restored._tokenizer is None
    assert restored("穿山甲片") == ["穿山甲片"]


def test_jieba_tokenizer_does_not_touch_the_global_tokenizer() -> None:
    import jieba

    T.JiebaTokenizer(["鳄蜥幼崽特价"])("鳄蜥幼崽特价")
    assert "鳄蜥幼崽特价" not in jieba.lcut("鳄蜥幼崽特价")


def test_module_level_tokenize_normalises_and_uses_the_project_lexicon() -> None:
    from wildwatch.config import LEXICON_DIR

    if not (LEXICON_DIR / "terms.csv").is_file():
        pytest.skip("project lexicon not written yet")
    tokens = T.tokenize("正宗穿山甲片 鶴頂紅")
    assert "穿山甲片" in tokens and "鹤顶红" in tokens
    assert pickle.loads(pickle.dumps(T.tokenize)) is T.tokenize  # picklable by reference

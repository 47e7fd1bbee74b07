"""The scoring path's shortcuts give exactly what the plain computation gives.

Each speed-up of the analysis (memos of repeated field texts, one scan for Latin words shared by three
matchers, look-ahead-led signal alternations, cheaper normalisation regexes, the n-gram hash table) is
compared here with the straightforward version on a varied sample: the labelled fixture rows plus
hostile texts (separators inside words, emoji, traditional characters, invisible characters, lone
surrogates, very long text).  scripts/classify_digest.py checks the same on every listing of the
project's data sets.
"""
from __future__ import annotations

import importlib.util
import json
import pickle
import re
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from sklearn.feature_extraction.text import CountVectorizer

from classifier import text as T
from classifier.inference import CharNgramCounter
from classifier.rules import latin_words
from classifier.signals import SignalMatcher, _split_top_level
from classifier.text import TextCache, clear_text_caches, normalise

ROOT = Path(__file__).resolve().parents[2]


def _hostile(n: int) -> list[dict]:
    spec = importlib.util.spec_from_file_location("classify_digest", ROOT / "scripts" / "classify_digest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.hostile_records(n)


HOSTILE = _hostile(160)
EXTRA = [
    "象-牙 象 牙 象.牙 象*牙 i.v.o.r.y i-v-o-r-y iv0ry sa1g@ ivoryyyy 象象象牙 a1a1a1a12 rtx3060 19.4g",
    "犀牛角 鶴頂紅 象牙手鐲 🐘🐘🐘 👍🏽 ☎️ ＩＶＯＲＹ ５８００ \u200b象\u200d牙\ufeff \x00 \ud800 x\x1cy\u2028z\u3000w",
    "ling yang jiao lingyangjiao xiang ya csj 川山假 像芽 ivo ry pango-lin hammer head ab1 abc1x2 xyz",
    "不是象牙 非象牙 象牙平替 not ivory ivory-free alternative to ivory 无证 no papers 价格: 300 ¥5800 +86 138 1234 5678",
    "",
    "   ",
]
TEXTS = [t for r in HOSTILE for t in (r["title"], r["description"])] + EXTRA


def _reference_normalise(text: str) -> str:
    """normalise as first written: the whitespace regex, the look-alike callback on every Latin word,
    repeats as \\1{2,}."""
    if not text:
        return ""
    ws = lambda s: re.sub(r"\s+", " ", s).strip()  # noqa: E731
    leet_word = re.compile(r"(?<![\w@$])[a-z][a-z013457@$]*+(?![\w@$])")
    text = unicodedata.normalize("NFKC", text)
    text = T.strip_invisible(text)
    text = T.to_simplified(text)
    text = T.map_emoji(text)
    text = text.lower()
    text = ws(text)
    text = T.join_cjk_separators(text)
    text = T.join_spelled_latin(text)
    text = leet_word.sub(T._decode_word, text)
    text = re.sub(r"([^\d\s])\1{2,}", r"\1", text)
    text = T.apply_variants(text)
    return ws(text)


def test_normalise_equals_the_reference_composition() -> None:
    for text in TEXTS:
        assert normalise(text) == _reference_normalise(text), repr(text[:80])
        assert T.normalise_cached(text) == normalise(text)


def test_collapse_whitespace_agrees_with_the_regex_on_every_space_character() -> None:
    spaces = "".join(chr(c) for c in range(0x110000) if chr(c).isspace() or re.fullmatch(r"\s", chr(c)))
    text = f"{spaces}a{spaces}b c\x1c\x1dd{spaces}"
    assert T.collapse_whitespace(text) == re.sub(r"\s+", " ", text).strip() == "a b c d"


def test_text_cache_is_bounded_and_skips_long_texts() -> None:
    cache = TextCache(size=3, max_chars=5)
    for i in range(3):
        cache.put(i, i, "x")
    cache.put("long", 1, "x" * 6)
    assert cache.get("long") is None and len(cache.data) == 3
    cache.put(9, 9, "x")  # full: emptied, then kept
    assert cache.data == {9: 9}
    assert "_cache" not in pickle.loads(pickle.dumps(_rules_with_cache())).__dict__


def _rules_with_cache():
    from classifier.lexicon import load_lexicon
    from classifier.rules import RuleSet

    rules = RuleSet(load_lexicon(ROOT / "tests" / "fixtures" / "classifier" / "lexicon"))
    rules.evaluate(normalise("象牙 私聊"), normalise("出 象牙手镯"))
    assert rules.__dict__.get("_cache") is not None
    return rules


def _result_lines(results) -> list[str]:
    out = []
    for r in results:
        data = r.to_dict()
        data["score"] = float(data["score"]).hex()
        out.append(json.dumps(data, ensure_ascii=False, sort_keys=True))
    return out


def test_memos_change_nothing(trained_scorer) -> None:
    records = [{k: r[k] for k in ("title", "description", "price", "currency")} for r in HOSTILE]
    records += [{"title": t, "description": t} for t in EXTRA]
    clear_text_caches()
    TextCache.enabled = False
    try:
        plain = _result_lines(trained_scorer.score_many(records))
    finally:
        TextCache.enabled = True
    clear_text_caches()
    first = _result_lines(trained_scorer.score_many(records))
    again = _result_lines(trained_scorer.score_many(records))  # every field from the memos now
    assert first == plain
    assert again == plain
    # the rule set's own evidence, field by field, equals the uncached computation
    rules = trained_scorer.model.rules
    for text in TEXTS[:120]:
        n = normalise(text)
        if n:
            for offer in (False, True):
                expected = tuple(tuple(part) for part in rules._field_evidence("description", n, offer))
                assert rules._cached_field_evidence("description", n, offer) == expected


def test_shared_latin_words_give_each_matchers_own_findings(trained_scorer) -> None:
    rules = trained_scorer.model.rules
    for text in TEXTS + [normalise(t) for t in TEXTS]:
        words = latin_words(text)
        assert rules.pinyin.find(text, words) == rules.pinyin.find(text)
        assert rules.split_latin.find(text, words) == rules.split_latin.find(text)
        assert rules.initials.find(text, words) == rules.initials.find(text)


def test_look_ahead_alternations_match_like_the_plain_ones() -> None:
    matcher = SignalMatcher()
    for pattern in (matcher.digit_pattern, matcher.other_pattern):
        assert pattern.pattern.startswith("(?=")
        plain = re.compile("|".join(_split_top_level(pattern.pattern[pattern.pattern.index("(?:") + 3 : -1])))
        for text in TEXTS + [normalise(t) for t in TEXTS]:
            assert ([(m.span(), m.lastgroup) for m in pattern.finditer(text)]
                    == [(m.span(), m.lastgroup) for m in plain.finditer(text)])
    # a matcher pickled before the look-ahead forms (inside an older model) gets them on load
    old = SignalMatcher()
    old.digit_pattern = re.compile(matcher.digit_pattern.pattern[matcher.digit_pattern.pattern.index("(?:") + 3 : -1])
    loaded = pickle.loads(pickle.dumps(old))
    assert loaded.digit_pattern.pattern == matcher.digit_pattern.pattern


@pytest.mark.parametrize("ngram_range", [(1, 3), (2, 3)])
def test_ngram_hash_table_finds_every_column(ngram_range) -> None:
    texts = [normalise(t) for t in TEXTS]
    vectorizer = CountVectorizer(analyzer="char_wb", ngram_range=ngram_range, dtype=np.float32)
    vectorizer.fit(texts[: len(texts) // 2])
    counter = CharNgramCounter(vectorizer.vocabulary_, ngram_range, True, np.float32)
    expected = vectorizer.transform(texts)
    got = counter.counts(texts)
    assert (got != expected).nnz == 0 and got.has_sorted_indices
    # every vocabulary key finds its own column, an unknown key none
    assert (counter.columns(counter.keys) == counter.ids).all()
    assert (counter.columns(counter.keys + np.uint64(1 << 63)) == -1).all()
    # keys left after the probe rounds are found by binary search: all of them when there are none
    counter._PROBES = 0
    assert (counter.counts(texts) != expected).nnz == 0
    assert (counter.columns(counter.keys) == counter.ids).all()

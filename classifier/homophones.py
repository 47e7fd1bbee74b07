"""Codes the lexicon never listed: homophones, pinyin initials and split Latin words.

Sellers rename a product faster than curators add rows, but the new name
usually still *sounds* like the old one (象牙 → 像芽, 穿山甲 → 川山假), shortens
it to pinyin initials (csj), or splits an English word (ivo ry).  Three matchers
derive those spellings from the lexicon itself:

* ``HomophoneMatcher``: every run of Chinese characters whose toneless pinyin
  reads like a Chinese term.  Text and terms are mapped character by character
  to one symbol per syllable (``str.translate``, so positions stay aligned) and
  searched with the same trie regex as the terms.  A run that is itself a
  common word of jieba's dictionary (西郊 for 犀角) is ordinary language, not a
  code, and is skipped, as is a run that cuts through a common two-character word at an end
  (好像呀: 像呀 reads like 象牙, but 好像 is a word);
* ``InitialsMatcher``: a Latin word that spells the pinyin initials of a term of
  three or more characters (csj → 穿山甲).  Consonants only, so English words
  cannot collide; the rule set counts it only next to a trade-offer signal;
* ``SplitLatinMatcher``: two to four adjacent Latin fragments that join into an
  English term ("ivo ry", "pango lin").

Each finding names the term it decoded, so the analyst sees "像芽 reads as 象牙".
"""
from __future__ import annotations

import importlib.util
import json
import os
import re
import sys
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from classifier.lexicon import HIT_KINDS, LexiconEntry
from classifier.matching import LazyAutomaton, Span

__all__ = ["HomophoneMatcher", "InitialsMatcher", "MaskedMatcher", "SplitLatinMatcher", "syllable_table"]

_CJK_TERM = re.compile("^[\u3400-\u9fff]+$")
_HAS_CJK = re.compile("[\u3400-\u9fff]")
_SYLLABLE_BASE = 0xF0000  # Supplementary Private Use Area A: never in normalised listing text
_COMMON_WORD_MIN_FREQ = 3
_COMMON_PAIR_MIN_FREQ = 50


def _toneless(reading: str) -> str:
    decomposed = unicodedata.normalize("NFD", reading)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return plain.replace("ü", "v").lower()


def _single_character_readings() -> dict[int, str]:
    """pypinyin's readings per character (code point → "reading,reading"), as ``pypinyin.pinyin_dict`` has them.

    Read from the package's ``pinyin_dict.json`` without importing pypinyin when it is not imported
    yet: importing the package also loads its phrase dictionary, about 50 MB of memory and half a
    second that scoring never uses (only training derives phrase spellings).
    """
    loaded = sys.modules.get("pypinyin.pinyin_dict")
    if loaded is not None:
        return loaded.pinyin_dict
    spec = importlib.util.find_spec("pypinyin")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    path = Path(locations[0]) / "pinyin_dict.json" if locations else None
    if path is None or not path.is_file():  # a pypinyin that keeps its table elsewhere: ask it
        from pypinyin.pinyin_dict import pinyin_dict

        return pinyin_dict
    return {int(code): readings for code, readings in json.loads(path.read_text(encoding="utf-8")).items()}


@lru_cache(maxsize=1)
def syllable_table() -> tuple[dict[int, int], dict[str, int]]:
    """(character → syllable symbol, syllable → symbol) from pypinyin's single-character readings.

    Each character takes its first (most common) reading; built once per process
    (about 40,000 characters, under 0.1 s) and never pickled with a model.
    """
    pinyin_dict = _single_character_readings()
    symbols: dict[str, int] = {}
    table: dict[int, int] = {}
    for code, readings in pinyin_dict.items():
        first = _toneless(readings.split(",", 1)[0])
        if not first.isalpha():
            continue
        symbol = symbols.setdefault(first, _SYLLABLE_BASE + len(symbols))
        table[code] = symbol
    return table, symbols


def _encode(text: str) -> str:
    return text.translate(syllable_table()[0])


def _term_spellings(term: str) -> set[str]:
    """The syllable encodings of a term: by its own characters' first readings and by its phrase pinyin."""
    from pypinyin import Style, lazy_pinyin

    table, symbols = syllable_table()
    spellings = {_encode(term)}
    phrase = lazy_pinyin(term, style=Style.NORMAL, errors="ignore")
    if len(phrase) == len(term) and all(s in symbols for s in phrase):
        spellings.add("".join(chr(symbols[s]) for s in phrase))
    return {s for s in spellings if all(ord(c) >= _SYLLABLE_BASE for c in s)}


def _jieba_words() -> Iterable[tuple[str, int]]:
    import jieba

    path = os.path.join(os.path.dirname(jieba.__file__), "dict.txt")
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            parts = line.split(" ", 2)
            if len(parts) >= 2 and 2 <= len(parts[0]) <= 6:
                yield parts[0], int(parts[1])


class HomophoneMatcher:
    """Finds runs of characters that read like a Chinese lexicon term but are written otherwise.

    ``find`` returns candidates; ``plausible`` rejects a candidate that cuts through a common
    two-character word at either end; callers run it on the few candidates no other rule explains.
    """

    def __init__(self, entries: Iterable[LexiconEntry]) -> None:
        by_spelling: dict[str, dict[str, LexiconEntry]] = defaultdict(dict)
        for entry in entries:
            term = entry.normalised
            if entry.kind not in HIT_KINDS or entry.lang != "zh" or len(term) < 2 or not _CJK_TERM.match(term):
                continue
            for spelling in _term_spellings(term):
                best = by_spelling[spelling].get(entry.group)
                if best is None or entry.confidence > best.confidence:
                    by_spelling[spelling][entry.group] = entry
        self.entries = {s: tuple(g[k] for k in sorted(g)) for s, g in by_spelling.items()}
        surfaces = {e.normalised for es in self.entries.values() for e in es}
        # Common words that happen to sound like a term are ordinary language (西郊, 洗脚 for 犀角).
        self.common_words = frozenset(
            word for word, freq in _jieba_words()
            if freq >= _COMMON_WORD_MIN_FREQ and word not in surfaces and _encode(word) in self.entries
        )
        # Two-character words common enough that a candidate cutting through one is chance:
        # 好像呀 reads xiang-ya, but 好像 is a word, so 像呀 straddles two words.
        self.common_pairs = frozenset(
            word for word, freq in _jieba_words() if len(word) == 2 and freq >= _COMMON_PAIR_MIN_FREQ
        )
        # A trie regex over ~700 spellings starting with ~400 syllables tested a branch per syllable
        # at every position (185 us a listing, measured); one automaton pass finds them all.
        self.search = LazyAutomaton({spelling: spelling for spelling in self.entries})

    def plausible(self, text: str, span: Span) -> bool:
        """False when the run's first or last character forms a common word with its neighbour outside it."""
        before = text[span.start - 1 : span.start + 1] if span.start else ""
        after = text[span.end - 1 : span.end + 1]
        return before not in self.common_pairs and after not in self.common_pairs

    def find(self, text: str) -> list[tuple[Span, LexiconEntry]]:
        """Every run that reads like a term (longest per end position), except common words and the term itself."""
        if not self.entries or not _HAS_CJK.search(text):
            return []
        encoded = _encode(text)
        found = []
        for end, spelling in self.search.iter(encoded):
            start = end + 1 - len(spelling)
            surface = text[start : end + 1]
            if surface in self.common_words:
                continue
            for entry in self.entries[spelling]:
                if surface != entry.normalised:
                    found.append((Span(start, end + 1, surface), entry))
        return found


_MASK = re.compile(r"(?<![a-z0-9])x(?![a-z0-9])|[*×✕☓□■○●]")
MASKED_MIN_CONFIDENCE = 0.5
MASKED_MIN_MARGIN = 0.1


class MaskedMatcher:
    """A Chinese term with one character masked: "x牙" or "×牙" for 象牙, "犀x" for 犀角, "x掌" for 熊掌.

    Sellers write around keyword filters by hiding one character behind a letter or a symbol (x, *, ×, □,
    ○, ●).  Only terms of two to four characters with confidence >= 0.5 are derived, and only masks that
    one term reads as clearly (the strongest entry beats every other group's by 0.1: "x牙" is ivory (0.7), not a leopard's or
    tiger's tooth).  A kept character that forms a common word with its neighbour outside the term ("x牙刷",
    a toothbrush) is ordinary text.  Question marks are not masks ("是象？" asks).
    """

    def __init__(self, entries: Iterable[LexiconEntry], common_pairs: frozenset[str] = frozenset()) -> None:
        by_key: dict[str, list[LexiconEntry]] = defaultdict(list)
        for entry in entries:
            term = entry.normalised
            if (entry.kind not in HIT_KINDS or entry.lang != "zh" or not 2 <= len(term) <= 4
                    or not _CJK_TERM.match(term) or entry.confidence < MASKED_MIN_CONFIDENCE):
                continue
            for i in range(len(term)):
                by_key[term[:i] + "\0" + term[i + 1:]].append(entry)
        self.entries: dict[str, LexiconEntry] = {}
        for key, candidates in by_key.items():
            best = max(candidates, key=lambda e: (e.confidence, e.term))
            rivals = [e.confidence for e in candidates if e.group != best.group]
            # rounded: 0.7 - 0.6 is 0.0999… in floating point, and confidences have two decimals
            if not rivals or round(best.confidence - max(rivals), 6) >= MASKED_MIN_MARGIN:
                self.entries[key] = best
        self.common_pairs = common_pairs

    def find(self, text: str) -> list[tuple[Span, LexiconEntry]]:
        if not self.entries or not _HAS_CJK.search(text):
            return []
        found = []
        for mask in _MASK.finditer(text):
            at = mask.start()
            for length in (2, 3, 4):
                for pos in range(length):  # where the mask sits in the term
                    start, end = at - pos, at - pos + length
                    if start < 0 or end > len(text):
                        continue
                    window = text[start:end]
                    if not all(_HAS_CJK.match(c) for j, c in enumerate(window) if j != pos):
                        continue
                    entry = self.entries.get(window[:pos] + "\0" + window[pos + 1:])
                    if entry is None:
                        continue
                    if text[end - 1:end + 1] in self.common_pairs or (start and text[start - 1:start + 1] in self.common_pairs):
                        continue
                    found.append((Span(start, end, window), entry))
        return found


_ASCII_DIGITS = "0123456789"
_ASCII_DIGITS_SET = frozenset(_ASCII_DIGITS)  # text[end:end + 1] is "" at the end: not in the set
_VOWELS = set("aeiou")
_INITIAL_STOPWORDS = frozenset(
    "pcs dvd cd bbq tv mm cm kg ml mg pm dm vs ps nb hd sd bt ct xl xxl xxxl lcd led usb gps nfc pvc abs tpu diy "
    "ltd llc bmw std mp dj vr wtb wts obo ono bnwt bnib nwt nwot ftw hmm pls plz thx thnx ty np ngl tbh smh lmk "
    "btw idk jk lgbt nsfw sfw rn ppl gf bf ny nyc sf dc la vip rsvp fyi asap cpr srs sdk "
    # English words and abbreviations of ordinary posts and ads (full service history, for f's sake, DMs, ...)
    "fsh ffs sly dms bnw hrc chd dbs".split()
)


class InitialsMatcher:
    """Latin words that spell the pinyin initials of a Chinese term of three or more characters."""

    def __init__(self, entries: Iterable[LexiconEntry]) -> None:
        from pypinyin import Style, lazy_pinyin

        by_initials: dict[str, dict[str, LexiconEntry]] = defaultdict(dict)
        for entry in entries:
            term = entry.normalised
            if entry.kind not in HIT_KINDS or entry.lang != "zh" or len(term) < 3 or not _CJK_TERM.match(term):
                continue
            syllables = lazy_pinyin(term, style=Style.NORMAL, errors="ignore")
            if len(syllables) != len(term) or not all(syllables):
                continue
            initials = "".join(s[0] for s in syllables)
            if _VOWELS & set(initials) or initials in _INITIAL_STOPWORDS:
                continue
            best = by_initials[initials].get(entry.group)
            if best is None or entry.confidence > best.confidence:
                by_initials[initials][entry.group] = entry
        self.entries = {i: tuple(g[k] for k in sorted(g)) for i, g in by_initials.items()}
        self._word = re.compile(r"(?<![a-z0-9])[a-z]{3,6}(?![a-z0-9])")

    def find(self, text: str, words: list[tuple[int, int, str]] | None = None) -> list[tuple[Span, LexiconEntry]]:
        """``words``: every maximal run of a-z in ``text`` as (start, end, word), when the caller has
        them (``classifier.rules.latin_words``); a run of 3-6 letters with no digit either side is
        exactly what ``_word`` matches."""
        if not self.entries:
            return []
        if words is None:
            return [
                (Span(m.start(), m.end(), m.group()), entry)
                for m in self._word.finditer(text)
                for entry in self.entries.get(m.group(), ())
            ]
        found = []
        entries = self.entries
        for start, end, word in words:
            if 3 <= end - start <= 6 and word in entries and not (
                    (start and text[start - 1] in _ASCII_DIGITS) or text[end : end + 1] in _ASCII_DIGITS_SET):
                found += [(Span(start, end, word), entry) for entry in entries[word]]
        return found


def _natural_compound(text: str, fragments: list[tuple[int, int, str]]) -> bool:
    """Whole words joined by plain spaces ("hammer head", "sea horse"): ordinary English, not a split.

    A split word has a fragment of three letters or fewer ("ivo ry", "rhi no") or a separator
    that is not a space ("pango-lin", "i.vory").
    """
    gaps = [text[a[1] : b[0]] for a, b in zip(fragments, fragments[1:])]
    return all(len(w) >= 4 for _, _, w in fragments) and all(g == " " for g in gaps)


class SplitLatinMatcher:
    """Two to four adjacent Latin fragments that join into a one-word English term ("ivo ry" → ivory)."""

    max_fragments = 4
    min_letters = 5

    def __init__(self, entries: Iterable[LexiconEntry]) -> None:
        by_word: dict[str, dict[str, LexiconEntry]] = defaultdict(dict)
        for entry in entries:
            term = entry.normalised
            if entry.kind not in HIT_KINDS or not re.fullmatch(r"[a-z]+", term) or len(term) < self.min_letters:
                continue
            best = by_word[term].get(entry.group)
            if best is None or entry.confidence > best.confidence:
                by_word[term][entry.group] = entry
        self.entries = {w: tuple(g[k] for k in sorted(g)) for w, g in by_word.items()}
        self.prefixes = frozenset(w[:i] for w in self.entries for i in range(1, len(w) + 1))
        self._fragment = re.compile(r"[a-z]+")

    def find(self, text: str, words: list[tuple[int, int, str]] | None = None) -> list[tuple[Span, LexiconEntry]]:
        """``words``: every maximal run of a-z in ``text`` as (start, end, word), when the caller has them."""
        if not self.entries:
            return []
        if words is None:
            words = [(m.start(), m.end(), m.group()) for m in self._fragment.finditer(text)]
        found = []
        i = 0
        while i < len(words):
            joined, best = words[i][2], 0
            n = 1
            while joined in self.prefixes and i + n < len(words) and n < self.max_fragments:
                gap = text[words[i + n - 1][1] : words[i + n][0]]
                if len(gap) > 2 or gap.strip(" -._*'/|") or "\n" in gap:  # fragments must touch, with a separator
                    break
                joined += words[i + n][2]
                n += 1
                if joined in self.entries:
                    best = n
            if best >= 2 and not _natural_compound(text, words[i : i + best]):
                start, end = words[i][0], words[i + best - 1][1]
                term = "".join(w for _, _, w in words[i : i + best])
                found += [(Span(start, end, text[start:end]), e) for e in self.entries[term]]
                i += best
            else:
                i += 1
        return found

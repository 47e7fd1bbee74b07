"""Text normalisation against evasion, and a lexicon-aware jieba tokenizer.

Sellers dodge keyword filters with full-width letters, zero-width characters,
traditional characters, separators inside words (象-牙, i.v.o.r.y), repeated
characters and emoji.  Each transform below undoes one trick and is tested on
its own; ``normalise`` composes them in a fixed order.  The lexicon's terms go
through the same ``normalise`` so text and terms always meet in one form.
"""
from __future__ import annotations

import logging
import re
import threading
import unicodedata
import weakref
from collections.abc import Iterable

import jieba

jieba.setLogLevel(logging.WARNING)

__all__ = [
    "MAX_TITLE_CHARS",
    "MAX_DESCRIPTION_CHARS",
    "fold_width",
    "strip_invisible",
    "to_simplified",
    "lower",
    "map_emoji",
    "join_cjk_separators",
    "join_spelled_latin",
    "decode_leet",
    "collapse_repeats",
    "apply_variants",
    "collapse_whitespace",
    "normalise",
    "normalise_cached",
    "TextCache",
    "clear_text_caches",
    "is_cjk",
    "JiebaTokenizer",
    "tokenize",
]

# Scoring reads at most this much of a listing: matching and n-gram extraction are linear, so
# one hostile megabyte-long listing costs what a long honest one does (the crawler stores the
# same lengths: crawler.pipelines.MAX_LENGTHS).
MAX_TITLE_CHARS = 1_000
MAX_DESCRIPTION_CHARS = 20_000

# --- character classes -------------------------------------------------------

# CJK unified ideographs (basic + extension A + compatibility ideographs).
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RE = re.compile(f"[{_CJK}]")


def is_cjk(char: str) -> bool:
    """True for a single CJK ideograph (the script that needs substring matching)."""
    return bool(_CJK_RE.fullmatch(char))


# --- transforms ----------------------------------------------------------------


def fold_width(text: str) -> str:
    """NFKC: full-width Ａ→A, ５→5, ligatures and compatibility forms to plain ones."""
    return unicodedata.normalize("NFKC", text)


# Variation selectors and emoji skin-tone modifiers carry no meaning for matching.
_EXTRA_INVISIBLE = re.compile("[\ufe00-\ufe0f\U000e0100-\U000e01ef\U0001f3fb-\U0001f3ff]")


def _code_point_ranges(code_points: Iterable[int]) -> str:
    """A regex character-class body for these code points, consecutive ones as ranges (a-z)."""
    parts: list[str] = []
    run: list[int] = []
    for code in sorted(code_points):
        if run and code == run[-1] + 1:
            run.append(code)
            continue
        if run:
            parts.append(re.escape(chr(run[0])) + (f"-{re.escape(chr(run[-1]))}" if len(run) > 1 else ""))
        run = [code]
    if run:
        parts.append(re.escape(chr(run[0])) + (f"-{re.escape(chr(run[-1]))}" if len(run) > 1 else ""))
    return "".join(parts)


# Every format (Cf) character in Unicode, as one character class built once.
_FORMAT_CHARS = _code_point_ranges(
    c for c in (*range(0x20000), *range(0xE0000, 0xE0080))  # Cf exists only in these ranges
    if unicodedata.category(chr(c)) == "Cf"
)
_FORMAT_CHARS_RE = re.compile(f"[{_FORMAT_CHARS}]")


# Control characters other than whitespace (NUL, ESC, DEL, C1) and lone surrogates (JSON's "\\ud800"
# escapes decode to them): invisible like format characters, and a lone surrogate cannot be encoded
# as UTF-8 at all, so it would crash the Chinese converter, the database driver and every file writer.
_CONTROL_OR_SURROGATE = "\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\ud800-\udfff"
_CONTROL_OR_SURROGATE_RE = re.compile(f"[{_CONTROL_OR_SURROGATE}]")
# All three kinds in one class: removing single characters does not depend on the order of the
# passes, and one scan costs a seventh of three (measured on the bench listings).
_INVISIBLE_RE = re.compile(f"[{_FORMAT_CHARS}{_EXTRA_INVISIBLE.pattern[1:-1]}{_CONTROL_OR_SURROGATE}]")


def strip_invisible(text: str) -> str:
    """Remove zero-width and other format characters (U+200B, U+200D, U+FEFF, soft hyphen...).

    Inserted between characters they split a keyword without changing how it
    looks.  Non-whitespace control characters (NUL, ESC...) and lone surrogates
    go too, for the same reason; line breaks and tabs are kept.
    """
    return _INVISIBLE_RE.sub("", text)


_opencc_lock = threading.Lock()
_opencc_converter = None


def _converter():
    """The OpenCC t2s converter, built once (construction reads its config files)."""
    global _opencc_converter
    if _opencc_converter is None:
        with _opencc_lock:
            if _opencc_converter is None:
                import opencc

                _opencc_converter = opencc.OpenCC("t2s")
    return _opencc_converter


def to_simplified(text: str) -> str:
    """Traditional → simplified Chinese (象牙 and 象牙 must be one term; the lexicon is simplified)."""
    if not _CJK_RE.search(text):
        return text
    return _converter().convert(text)


def lower(text: str) -> str:
    """Lower-case so IVORY, Ivory and ivory match one lexicon entry."""
    return text.lower()


# Pictographic ranges: misc symbols, dingbats, and the supplementary emoji planes.
_EMOJI_RE = re.compile("[\u2600-\u27bf\u2b00-\u2bff\U0001f000-\U0001faff]")


def _emoji_token(match: re.Match[str]) -> str:
    char = match.group(0)
    name = unicodedata.name(char, "")
    if not name:
        return " "
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    return f" ⟨emoji:{slug}⟩ "


def map_emoji(text: str) -> str:
    """Replace each emoji by a stable token, 🐘 → " ⟨emoji:elephant⟩ ".

    A named token survives the rest of normalisation, is readable in evidence,
    and gives the char n-gram model something to learn from.  Lexicon emoji
    terms are normalised the same way, so they match these tokens.
    """
    return _EMOJI_RE.sub(_emoji_token, text)


# Separators people put inside a word to break keyword filters.  Sentence
# punctuation (, 。 、 ; :) is deliberately absent: joining across it would glue
# unrelated words together and invent matches.
_SEP = r"[\s\-\.\*_·•/\\|~+=#'\"`^]{1,3}"
_CJK_SEP_RE = re.compile(f"(?<=[{_CJK}]){_SEP}(?=[{_CJK}])")


def join_cjk_separators(text: str) -> str:
    """象-牙, 象 牙, 象.牙, 象*牙, 象_牙 → 象牙: drop short separator runs between CJK characters."""
    return _CJK_SEP_RE.sub("", text)


# Three or more single Latin letters separated by one kind of separator:
# i.v.o.r.y, i-v-o-r-y, i v o r y.  The separator must repeat (backreference),
# so ordinary text such as "a b-c" is left alone.
# A spelled letter may be a look-alike digit (i-v-0-r-y), as long as three of them are letters and the
# first one is: phone numbers and dates (1-800-2, 3.5.7) stay as they are.
_SPELLED_RE = re.compile(
    r"(?<![A-Za-z0-9])[A-Za-z](?P<sep>[.\-_*·]|\s)[A-Za-z013457](?:(?P=sep)[A-Za-z013457])+(?![A-Za-z0-9])"
)


def _join_letters(match: re.Match[str]) -> str:
    spelled = match.group(0)[::2]
    if sum(ch.isalpha() for ch in spelled) < 3:
        return match.group(0)
    return spelled


def join_spelled_latin(text: str) -> str:
    """i.v.o.r.y / i-v-o-r-y / i v o r y / i-v-0-r-y → ivory / iv0ry (three or more spelled-out letters;
    decode_leet then reads the digits)."""
    return _SPELLED_RE.sub(_join_letters, text)


# Look-alike digits/symbols inside Latin words: sa1g@ → saiga, iv0ry → ivory.
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"})
# A whole run of letters and look-alikes; possessive (*+), so a long run followed by another word
# character ("a1a1...a12") fails at once instead of backtracking over every split: linear, not quadratic.
# Only runs with at least one look-alike match (a run of letters alone is left as it is anyway), so the
# replacement callback runs on the few words it may change, not on every Latin word (9 -> 4 us a listing).
_LEET_WORD_RE = re.compile(r"(?<![\w@$])[a-z][a-z]*+[013457@$][a-z013457@$]*+(?![\w@$])")


def _decode_word(match: re.Match[str]) -> str:
    word = match.group(0)
    if word.isalpha():
        return word
    letters = sum(ch.isalpha() for ch in word)
    digits = sum(ch.isdigit() for ch in word)
    # Model numbers (rtx3060, a7s) keep their digits: need 3+ letters and few digits.
    if letters < 3 or digits > 2 or digits > letters // 2 + 1:
        return word
    return word.translate(_LEET)


def decode_leet(text: str) -> str:
    """sa1g@ → saiga, iv0ry → ivory: digits and @/$ standing in for letters inside a Latin word.

    Only words that start with a letter, have at least three letters and at
    most two look-alike digits are decoded, so prices and model numbers
    (19.4g, rtx3060, 24mm) survive.  Expects lower-case text.
    """
    return _LEET_WORD_RE.sub(_decode_word, text)


# A character (not a digit: prices such as 1000 must survive) repeated 3+ times.
_REPEAT_RE = re.compile(r"([^\d\s])\1\1+")  # \1{2,}, spelled so the regex engine tries it faster


def collapse_repeats(text: str) -> str:
    """ivoryyyy → ivory, 象象象牙 → 象牙: runs of 3+ identical non-digit characters become one."""
    return _REPEAT_RE.sub(r"\1", text)


# Homophones and look-alike characters for core terms.  UNVERIFIED: these are
# patterns from Chinese censorship evasion (domain-notes §3.3), not documented
# wildlife code words.  Each pattern has a guard so ordinary words survive
# (像牙齿一样白 "white like teeth" must not become 象牙).  Homophones that the
# curators keep as lexicon rows of their own (象芽, 熊旦, 虎古酒: a deliberate
# misspelling is itself a signal) are not folded here.
_VARIANTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?<!好)[像橡]牙(?![齿科膏刷医龈床签])"), "象牙"),
    (re.compile(r"穿山夹"), "穿山甲"),
    (re.compile(r"犀牛脚"), "犀牛角"),
    (re.compile(r"玳帽"), "玳瑁"),
    (re.compile(r"鹤顶[洪宏]"), "鹤顶红"),
    (re.compile(r"玳冒"), "玳瑁"),
    (re.compile(r"羚羊脚"), "羚羊角"),
    (re.compile(r"穿山贾"), "穿山甲"),
)


# Every variant pattern needs one of these characters: a text without any is left as it is, in one scan.
_VARIANT_CHARS_RE = re.compile("[像橡夹脚帽洪宏冒贾]")


def apply_variants(text: str) -> str:
    """Map a few homophone/variant spellings to the lexicon's form (像牙 → 象牙); see _VARIANTS."""
    if not _VARIANT_CHARS_RE.search(text):
        return text
    for pattern, replacement in _VARIANTS:
        text = pattern.sub(replacement, text)
    return text


_WS_RE = re.compile(r"\s+")


def collapse_whitespace(text: str) -> str:
    """Runs of whitespace → one space, ends stripped, so multi-word terms match.

    ``str.split()`` and the regex ``\\s`` (``_WS_RE``) take the same characters for whitespace
    (``str.isspace``), so this is ``_WS_RE.sub(" ", text).strip()`` at a third of the cost.
    """
    return " ".join(text.split())


def normalise(text: str) -> str:
    """All transforms in order; the one form in which text meets the lexicon.

    Order matters: width folding before everything (full-width separators and
    letters become ASCII), invisible characters before separator joining,
    simplified conversion before variants (variants are written simplified),
    emoji mapping before repeat collapsing (🐘🐘🐘 → three tokens, not one char).
    """
    if not text:
        return ""
    text = fold_width(text)
    text = strip_invisible(text)
    text = to_simplified(text)
    text = map_emoji(text)
    text = lower(text)
    # One plain space between words before the joins: "a\fa\ra" must join like "a a a", or a
    # second pass would join what the first did not (normalise must be idempotent).
    text = collapse_whitespace(text)
    text = join_cjk_separators(text)
    text = join_spelled_latin(text)
    text = decode_leet(text)
    text = collapse_repeats(text)
    text = apply_variants(text)
    return collapse_whitespace(text)


class TextCache:
    """A bounded memo of work per field text: a listing's title or description seen before in this
    process (a seller's re-posts, the same item on several pages, a re-crawl in the same process)
    is not matched again.  Values must be immutable (tuples of frozen evidence).  Emptied when full,
    so no bookkeeping runs per hit; texts longer than ``max_chars`` are not kept, so a cache holds
    at most ``size`` x ``max_chars`` characters of keys (about 8 MB at worst, 1-2 MB for ordinary
    listings).  Never pickled with a model.
    """

    enabled = True  # class-wide switch: the benchmark measures the path with and without memos

    def __init__(self, size: int = 4096, max_chars: int = 500) -> None:
        self.size = size
        self.max_chars = max_chars
        self.data: dict = {}
        _CACHES.add(self)

    def get(self, key):
        return self.data.get(key)

    def put(self, key, value, text: str) -> None:
        """Keep ``value`` under ``key`` unless ``text`` (what the key holds) is too long to keep."""
        if len(text) > self.max_chars or not TextCache.enabled:
            return
        if len(self.data) >= self.size:
            self.data.clear()
        self.data[key] = value


_CACHES: "weakref.WeakSet[TextCache]" = weakref.WeakSet()


def clear_text_caches() -> None:
    """Forget every memoised text (the benchmark scores the same listings several times)."""
    for cache in list(_CACHES):
        cache.data.clear()


_normalised = TextCache()


def normalise_cached(text: str) -> str:
    """``normalise(text)``, memoised for texts seen recently in this process (repeated titles)."""
    found = _normalised.get(text)
    if found is None:
        found = normalise(text)
        _normalised.put(text, found, text)
    return found


# --- tokenizer -------------------------------------------------------------------

_TOKEN_KEEP_RE = re.compile(r"\w|⟨", re.UNICODE)


class JiebaTokenizer:
    """A picklable word tokenizer that keeps every lexicon term whole.

    Holds a dedicated ``jieba.Tokenizer`` (the global one is never touched),
    built lazily on first call and dropped when pickled, so a fitted pipeline
    that uses it saves as a few bytes of term list and rebuilds on load.
    """

    def __init__(self, terms: Iterable[str] = ()) -> None:
        self.terms: tuple[str, ...] = tuple(sorted({t for t in terms if t and " " not in t}))
        self._tokenizer: jieba.Tokenizer | None = None
        self._lock = threading.Lock()

    def _build(self) -> jieba.Tokenizer:
        tokenizer = jieba.Tokenizer()
        tokenizer.initialize()
        for term in self.terms:
            # High frequency so jieba prefers the whole term over its parts.
            tokenizer.add_word(term, freq=100_000)
        return tokenizer

    @property
    def tokenizer(self) -> jieba.Tokenizer:
        if self._tokenizer is None:
            with self._lock:
                if self._tokenizer is None:
                    self._tokenizer = self._build()
        return self._tokenizer

    def __call__(self, text: str) -> list[str]:
        """Tokens of already-normalised text, whitespace and punctuation dropped."""
        return [
            tok
            for tok in self.tokenizer.lcut(text, HMM=False)
            if not tok.isspace() and _TOKEN_KEEP_RE.search(tok)
        ]

    def __getstate__(self) -> dict:
        return {"terms": self.terms}

    def __setstate__(self, state: dict) -> None:
        self.terms = tuple(state["terms"])
        self._tokenizer = None
        self._lock = threading.Lock()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, JiebaTokenizer) and other.terms == self.terms

    def __hash__(self) -> int:
        return hash(self.terms)

    def __repr__(self) -> str:
        return f"JiebaTokenizer(<{len(self.terms)} terms>)"


_default_tokenizer: JiebaTokenizer | None = None


def tokenize(text: str) -> list[str]:
    """Module-level word tokenizer (picklable by reference) with the default lexicon's terms.

    Reads the shipped lexicon (``wildwatch.resources.LEXICON_DIR``) once; for a model
    that must not depend on files at load time use a ``JiebaTokenizer`` built
    from the lexicon instead.
    """
    global _default_tokenizer
    if _default_tokenizer is None:
        from classifier.lexicon import load_lexicon  # local: avoid an import cycle

        try:
            terms = [e.normalised for e in load_lexicon().entries]
        except Exception:  # noqa: BLE001 - no lexicon yet: plain jieba still tokenizes
            logging.getLogger(__name__).warning("lexicon unavailable; tokenizing without lexicon terms")
            terms = []
        _default_tokenizer = JiebaTokenizer(terms)
    return _default_tokenizer(normalise(text))

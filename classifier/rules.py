"""Lexicon rules: term hits, pinyin, gated codes, negation, intent co-occurrence and exclusions.

The lexicon compiles once into a single trie-shaped regular expression, so one
C-level scan of the normalised text finds every term (CJK by substring, Latin
on word boundaries).  No I/O: texts in, evidence out.  The same evidence feeds
the model's features, the analysts' explanation and the curators' rule report.

Rule families (``Evidence.rule``):

* ``term``: a species/product/coded/intent term found;
* ``pinyin``: the toneless pinyin of a Chinese term, written with or without
  spaces between syllables (``lingyang jiao``, ``xiangya``).  Derived, never
  curated, and unverified (domain-notes §3.3), so it carries half the term's
  confidence, at most 0.3;
* ``context``: a documented but ambiguous code (小猫 = red panda, 老白 = ivory)
  that counts only when one of its context words is in the same listing
  (``contexts.csv``);
* ``description``: an animal or part described by its features without a
  name (交叉纹 + 白色 + 手镯; "fish-roe texture" + cup), in a listing that
  offers something and that no other rule ties to a group
  (``descriptions.csv``, ``RuleSet.description_evidence``);
* ``exclusion``: context that marks a hard negative; it suppresses hits it
  overlaps and scales its group's strength down, it never deletes the listing;
* ``negated``: a hit that the text denies or compares against ("不是象牙",
  "和象牙很好区分", "not ivory", "ivory alternative"); it no longer counts as a hit;
* ``denied``: an exclusion the text denies ("不是水牛角", "not resin"), a
  classic claim of the real thing; the exclusion no longer applies;
* ``part``: a part word of ``parts.csv`` joined to a species name the lexicon knows ("piel de leopardo",
  "kulit python", "pangolin scales"), where no curated term names that product (``classifier.parts``);
* ``cooccurrence``: a group's strongest hit together with a trade-intent term.
"""
from __future__ import annotations

import re
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable
from operator import itemgetter

from classifier.evidence import Evidence
from classifier.lexicon import ANY_GROUP, HIT_KINDS, ContextRule, DescriptionRule, Lexicon, LexiconEntry
from classifier.homophones import HomophoneMatcher, InitialsMatcher, MaskedMatcher, SplitLatinMatcher
from classifier.matching import Span, TermMatcher
from classifier.parts import PartComposer, may_pair, spaced_species
from classifier.signals import NEGATION_WORDS_LATIN, SignalMatcher
from classifier.text import TextCache

__all__ = [
    "Span",
    "TermMatcher",
    "PinyinMatcher",
    "RuleSet",
    "group_strengths",
    "group_strengths_both",
    "best_group",
    "FIELDS",
    "HIT_RULES",
    "is_negated",
    "latin_words",
]

# Rules whose evidence counts as a hit for a group (co-occurrence is added separately).
HIT_RULES = ("term", "pinyin", "context", "homophone", "initials", "split", "masked", "description", "part")
# Derived codes (classifier.homophones): the text spells a term another way.  They carry a
# share of the term's confidence; initials need a trade-offer signal in the same listing.
DERIVED_RULE_CAPS = {"homophone": 0.3, "initials": 0.25, "split": 1.0, "masked": 0.3}
# A two-character homophone is far likelier to be chance than a three-character one.
SHORT_HOMOPHONE_CAP = 0.15

FIELDS = ("title", "description")
def _drop_contained(items: list[tuple[Span, LexiconEntry]]) -> list[tuple[Span, LexiconEntry]]:
    """Keep only maximal spans: 穿山甲片 wins over the 穿山甲 inside it.

    One sweep in start order (longer first on ties): a span is inside an
    earlier one when some earlier span reaches at least as far.  Linear after
    sorting, so a hostile 20,000-character listing stays cheap.
    """
    if len(items) < 2:  # nothing to be inside of (most fields)
        return list(items)
    contained: set[Span] = set()
    reach = -1
    for span in sorted({span for span, _ in items}, key=lambda sp: (sp.start, -sp.end)):
        if span.end <= reach:
            contained.add(span)
        reach = max(reach, span.end)
    return [(s, e) for s, e in items if s not in contained]


def _partition(pairs: list[tuple[Span, LexiconEntry]], test) -> tuple[list, list]:
    """(pairs for which test(span, entry) holds, the others), each in the original order."""
    yes: list[tuple[Span, LexiconEntry]] = []
    no: list[tuple[Span, LexiconEntry]] = []
    for span, entry in pairs:
        (yes if test(span, entry) else no).append((span, entry))
    return yes, no


_span_start = itemgetter(0)  # Span.start


class _SpanIndex:
    """Whether a span overlaps any indexed span of some groups, by binary search.

    Per group, spans sorted by start with the running maximum of their ends: some span
    starting before ``span.end`` reaches past ``span.start`` exactly when that maximum does.
    """

    def __init__(self, pairs: Iterable[tuple[Span, LexiconEntry]]) -> None:
        self._starts: dict[str, list[int]] = {}
        self._reach: dict[str, list[int]] = {}
        if not pairs:  # most fields: nothing to index
            return
        by_group: dict[str, list[Span]] = {}
        for span, entry in pairs:
            spans = by_group.get(entry.group)
            if spans is None:
                by_group[entry.group] = [span]
            else:
                spans.append(span)
        for group, spans in by_group.items():
            if len(spans) > 1:
                spans.sort(key=_span_start)
            self._starts[group] = [sp[0] for sp in spans]
            reach, furthest = [], -1
            for sp in spans:  # running maximum of the ends
                if sp[1] > furthest:
                    furthest = sp[1]
                reach.append(furthest)
            self._reach[group] = reach

    def overlaps(self, span: Span, groups: Iterable[str]) -> bool:
        if not self._starts:
            return False
        for group in groups:
            starts = self._starts.get(group)
            if starts:
                before = bisect_left(starts, span.end)
                if before and self._reach[group][before - 1] > span.start:
                    return True
        return False


# Denial and comparison context, checked right before and right after a hit in
# normalised (simplified, lower-case) text.  CJK markers may sit up to two
# characters away ("不是真的象牙" is rare; "不是象牙", "非象牙", "和象牙很好区分"
# are common); Latin markers are whole words.
_NEG_BEFORE_CJK = re.compile(
    r"(?:(?:不是|并非|绝非|而非|不含|区别于|有别于|唔系|唔是|不系|(?<!收)不收|(?<!卖)不卖|(?<!出)不出|不掺|没掺|未掺|无掺|不混)\s?[^\s,，。;；!！?？]{0,2}"
    r"|(?:非|代替|替代|取代|媲美|比|冒充|充当))$"
)
# "区分", "平替" after the term; or the term asked and denied at once ("熊胆？不是，是牛胆").
_NEG_AFTER_CJK = re.compile(r"^(?:[^\s,，。;；!！?？]{0,4}?(?:区分|区别|分辨|分开|分得清|替代品|代用品|平替|一样|似的)"
                            r"|\s?[?？]\s?(?:不是|不|no\b))")
# The other markets' "not"/"without" too (signals.NEGATION_WORDS_LATIN): "bukan resin", "sin resina", "pas de
# résine", "não é osso", "kein Kunststoff", "không phải nhựa" (a seller denying the lookalike, or the real thing),
# and comparisons ("instead of", "than", "looks like").
_NEG_BEFORE_LATIN = re.compile(
    rf"(?:{NEGATION_WORDS_LATIN}|\binstead of|\balternative to|\bsubstitute for|\bunlike"
    r"|\bthan|\bsimilar to|\bresembl\w*|\blooks? like|\bvs\.?)"
    r"\s+(?:(?:real|genuine|actual|any|an?|the|es|de|la|el|le|les|du|des|d'|l'|é|e|ist|aus|là|của)\s*){0,2}$"
)
_NEG_AFTER_LATIN = re.compile(r"^(?:(?:-|\s)?(?:free\b|alternative\b|substitute\b|look-?alike\b|lookalike\b|effect\b)"
                              r"|\s?\?\s?(?:no|nope|not)\b"  # "bear gall? no, ox bile"
                              # South Asia's languages deny after the word, a little word between at most:
                              # "प्लास्टिक नहीं", "प्लास्टिक वाली नहीं", "প্লাস্টিক না", "پلاسٹک نہیں", "plastic nahi"
                              r"|\s(?:[^\s,.!?।]{1,5}\s)?(?:नहीं|नही|नाहीं|नाही|होइन|हैन|নয়|না|نہیں|نہ|ਨਹੀਂ|નથી"
                              r"|નહીં|নাই|নেই|இல்லை|அல்ல|නෑ|නැහැ|නැත|nahi|nahin|nai|nahiṃ)(?![^\W\d_]))")
_CJK_CHAR = re.compile("[\u3400-\u9fff]")


def is_negated(text: str, span: Span) -> bool:
    """True when ``text`` denies or compares against the term at ``span``.

    "不是象牙" / "非象牙" / "和象牙很好区分" / "象牙平替" / "not ivory" /
    "ivory-free" / "alternative to ivory": the seller says what the item is
    *not*.  Works on normalised text.
    """
    before = text[max(0, span.start - 24) : span.start]
    after = text[span.end : span.end + 12]
    if _CJK_CHAR.match(span.term):
        return bool(_NEG_BEFORE_CJK.search(before) or _NEG_AFTER_CJK.search(after))
    return bool(_NEG_BEFORE_LATIN.search(before) or _NEG_AFTER_LATIN.search(after))


_LATIN_WORD = re.compile(r"[a-z]+")


def latin_words(text: str) -> list[tuple[int, int, str]]:
    """(start, end, word) of every maximal run of the letters a-z in ``text``."""
    return [(m.start(), m.end(), m[0]) for m in _LATIN_WORD.finditer(text)]
PINYIN_MAX_WORDS = 4
PINYIN_MAX_CONFIDENCE = 0.3


def _pinyin(term: str) -> list[str] | None:
    """Toneless pinyin syllables of an all-CJK term, or None (pypinyin is imported lazily)."""
    if not term or not all(_CJK_CHAR.match(ch) for ch in term):
        return None
    from pypinyin import Style, lazy_pinyin

    syllables = lazy_pinyin(term, style=Style.NORMAL, errors="ignore")
    return syllables if len(syllables) == len(term) and all(syllables) else None


class PinyinMatcher:
    """Finds Chinese lexicon terms written in toneless pinyin, with or without spaces.

    "lingyang jiao", "lingyangjiao" and "ling yang jiao" all find 羚羊角.  Only
    terms of two or more syllables and six or more letters are derived, and a
    match must cover whole Latin words, so English text ("a", "long", "ban")
    does not turn into Chinese terms.
    """

    min_letters = 6

    def __init__(self, entries: Iterable[LexiconEntry]) -> None:
        by_pinyin: dict[str, list[LexiconEntry]] = defaultdict(list)
        for entry in entries:
            if entry.kind not in HIT_KINDS or entry.lang != "zh" or len(entry.normalised) < 2:
                continue
            syllables = _pinyin(entry.normalised)
            if syllables is None:
                continue
            joined = "".join(syllables)
            if len(joined) >= self.min_letters:
                by_pinyin[joined].append(entry)
        # The strongest entry per (pinyin, group): 象牙 and 橡牙 share "xiangya".
        self.entries: dict[str, tuple[LexiconEntry, ...]] = {}
        for joined, entries_ in by_pinyin.items():
            best: dict[str, LexiconEntry] = {}
            for e in entries_:
                if e.group not in best or e.confidence > best[e.group].confidence:
                    best[e.group] = e
            self.entries[joined] = tuple(best[g] for g in sorted(best))

    def _prefixes(self) -> frozenset[str]:
        prefixes = getattr(self, "_prefix_set", None)
        if prefixes is None:
            prefixes = frozenset(t[:i] for t in self.entries for i in range(1, len(t) + 1))
            self._prefix_set = prefixes
        return prefixes

    def find(self, text: str, words: list[tuple[int, int, str]] | None = None) -> list[tuple[Span, LexiconEntry]]:
        """Longest run of up to PINYIN_MAX_WORDS adjacent Latin words that spells a term, scanning left to right.

        ``words``: ``latin_words(text)`` when the caller has it already."""
        if not self.entries:
            return []
        if words is None:
            words = latin_words(text)
        if not words:
            return []
        prefixes = self._prefixes()
        found = []
        i = 0
        while i < len(words):
            joined, best, n = "", 0, 0
            # Extend while the joined words are still the start of some term (cheap set lookups).
            while i + n < len(words) and n < PINYIN_MAX_WORDS:
                if n and words[i + n][0] - words[i + n - 1][1] > 1:  # words must be adjacent
                    break
                joined += words[i + n][2]
                if joined not in prefixes:
                    break
                n += 1
                if joined in self.entries:
                    best = n
            if best:
                start, end = words[i][0], words[i + best - 1][1]
                joined = "".join(w for _, _, w in words[i : i + best])
                found += [(Span(start, end, text[start:end]), entry) for entry in self.entries[joined]]
                i += best
            else:
                i += 1
        return found


class RuleSet:
    """The lexicon compiled into named rules; ``evaluate`` returns a listing's evidence.

    Evidence comes out in a fixed order: exclusions, denied exclusions, hits
    (term, pinyin), negated hits, gated context codes, co-occurrences.  See the
    module docstring for what each rule means.
    """

    # Matching cost is linear; this bound keeps one pathological listing cheap.
    max_chars = 20_000

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon_version = lexicon.version
        # Entries that normalise to one term for one group are one rule: 象-牙 and
        # 象牙 must not both fire.  Keep the canonical spelling, else the most
        # confident; a hit and an exclusion for the same term both stay (the
        # validation report lists that conflict).
        chosen: dict[tuple[str, str, bool], LexiconEntry] = {}
        for entry in lexicon.entries:
            key = (entry.normalised, entry.group, entry.kind == "exclusion")
            rank = (entry.term == entry.normalised, entry.confidence)
            current = chosen.get(key)
            if current is None or rank > (current.term == current.normalised, current.confidence):
                chosen[key] = entry
        by_term: dict[str, list[LexiconEntry]] = defaultdict(list)
        for entry in chosen.values():
            by_term[entry.normalised].append(entry)
        self.entries_by_term = {t: tuple(es) for t, es in by_term.items()}
        self.matcher = TermMatcher(self.entries_by_term)
        # Derived pinyin; where curators wrote the same spelling as a pinyin row,
        # the curated hit wins (see _field_evidence).
        self.pinyin = PinyinMatcher(chosen.values())
        self.homophones = HomophoneMatcher(chosen.values())
        self.masked = MaskedMatcher(chosen.values(), self.homophones.common_pairs)
        self.initials = InitialsMatcher(chosen.values())
        self.split_latin = SplitLatinMatcher(chosen.values())
        self.signals = SignalMatcher()
        self.contexts: tuple[ContextRule, ...] = tuple(getattr(lexicon, "contexts", ()))
        context_words = {w for rule in self.contexts for w in (rule.code, *rule.context)}
        self.context_matcher = TermMatcher(context_words) if context_words else None
        self.descriptions: tuple[DescriptionRule, ...] = tuple(getattr(lexicon, "descriptions", ()))
        description_words = {w for r in self.descriptions for w in (*r.features, *r.objects, *r.unless)}
        self.description_matcher = TermMatcher(description_words) if description_words else None
        parts = tuple(getattr(lexicon, "parts", ()))
        self.parts = PartComposer(parts, getattr(lexicon, "animals", ())) if parts else None

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "_cache"}  # the memo stays in the process

    @property
    def cache(self) -> TextCache:
        cache = self.__dict__.get("_cache")
        if cache is None:
            cache = self._cache = TextCache()
        return cache

    def _field_signals(self, field: str, text: str) -> tuple[tuple[Evidence, ...], tuple[Span, ...]]:
        """(signal evidence, context-word spans) of one field, memoised by the field's text."""
        key = ("signals", field, text)
        found = self.cache.get(key)
        if found is None:
            spans = tuple(self.context_matcher.find(text)) if self.context_matcher is not None else ()
            found = (tuple(self.signals.find(field, text)), spans)
            self.cache.put(key, found, text)
        return found

    def _cached_field_evidence(self, field: str, text: str, offer: bool) -> tuple[tuple[Evidence, ...], ...]:
        """``_field_evidence`` memoised by (field, text, offer)."""
        key = ("evidence", field, text, offer)
        found = self.cache.get(key)
        if found is None:
            found = tuple(tuple(part) for part in self._field_evidence(field, text, offer))
            self.cache.put(key, found, text)
        return found

    def _field_evidence(self, field: str, text: str, offer: bool = True) -> tuple[list[Evidence], ...]:
        """(hits, exclusions, negated hits, denied exclusions) in one field.

        ``offer``: whether the listing shows a trade-offer signal; pinyin initials count only then.
        """
        text = text[: self.max_chars]
        items = [
            (span, entry)
            for span in self.matcher.find(text)
            for entry in self.entries_by_term[span.term]
        ]
        # The runs of Latin letters, found once for the pinyin, split-word and initials matchers.
        words = latin_words(text)
        pinyin_items = self.pinyin.find(text, words)
        exclusions = _drop_contained([(s, e) for s, e in items if e.kind == "exclusion"])
        # Partitions and interval look-ups, never pair-by-pair scans: a listing that repeats a
        # term thousands of times ("不是象牙不是象牙...") must cost linear time, not quadratic.
        denied, exclusions = _partition(exclusions, lambda s, e: is_negated(text, s))
        excluded = _SpanIndex(exclusions)
        hits = [
            (s, e)
            for s, e in items
            if e.kind != "exclusion" and not excluded.overlaps(s, (ANY_GROUP, e.group))
        ]
        hits = _drop_contained(hits)
        negated, hits = _partition(hits, lambda s, e: e.kind in HIT_KINDS and is_negated(text, s))
        hit_index = _SpanIndex(hits)
        pinyin_hits = [
            (s, e)
            for s, e in pinyin_items
            if not excluded.overlaps(s, (ANY_GROUP, e.group)) and not hit_index.overlaps(s, (e.group,))
        ]

        def evidence(rule: str, pairs: list[tuple[Span, LexiconEntry]], cap: float = 1.0) -> list[Evidence]:
            seen: dict[tuple, Evidence] = {}
            for span, entry in pairs:
                key = (entry.term, entry.group, entry.kind)
                if key not in seen:
                    weight = entry.confidence if cap >= 1.0 else round(min(cap, entry.confidence / 2), 4)
                    seen[key] = Evidence(rule, entry.term, span.term, entry.group, entry.kind, field, weight)
            return list(seen.values())

        pinyin_evidence = [
            Evidence("pinyin", ev.term, ev.matched, ev.group, "coded", field, ev.weight)
            for ev in evidence("pinyin", pinyin_hits, cap=PINYIN_MAX_CONFIDENCE)
        ]
        taken = _SpanIndex(hits + pinyin_hits)
        derived: list[Evidence] = []
        derived_matchers = [("homophone", self.homophones), ("split", self.split_latin)]
        if offer:
            derived_matchers.append(("initials", self.initials))
            if getattr(self, "masked", None) is not None:  # absent from rules pickled before 2026-12-06
                derived_matchers.append(("masked", self.masked))
        for rule, matcher in derived_matchers:
            pairs = [
                (s, e) for s, e in (matcher.find(text) if rule in ("homophone", "masked") else matcher.find(text, words))
                if not excluded.overlaps(s, (ANY_GROUP, e.group)) and not taken.overlaps(s, (e.group,))
                and not is_negated(text, s)
            ]
            if rule == "homophone":
                pairs = [(s, e) for s, e in pairs if self.homophones.plausible(text, s)]
            for span, entry in _drop_contained(pairs):
                cap = DERIVED_RULE_CAPS[rule]
                if rule == "homophone" and span.end - span.start < 3:
                    cap = SHORT_HOMOPHONE_CAP
                weight = entry.confidence if cap >= 1.0 else round(min(cap, entry.confidence / 2), 4)
                ev = Evidence(rule, entry.term, span.term, entry.group, "coded", field, weight)
                if ev not in derived:
                    derived.append(ev)
        composer = getattr(self, "parts", None)  # absent from rules pickled before 2026-12-07
        if composer is not None and may_pair(text, words):
            named = _SpanIndex([(s, e) for s, e in hits if e.kind != "species"])
            for span, part, entry in composer.find(text, spaced_species(hits)):
                if excluded.overlaps(span, (ANY_GROUP, entry.group)) or named.overlaps(span, (entry.group,)) \
                        or is_negated(text, span):
                    continue
                ev = Evidence("part", f"{part.term}+{entry.term}", span.term, entry.group, "product", field,
                              part.confidence)
                if ev not in derived:
                    derived.append(ev)
        return (
            evidence("term", hits) + pinyin_evidence + derived,
            evidence("exclusion", exclusions),
            evidence("negated", negated),
            evidence("denied", denied),
        )

    def _context_evidence(self, fields: dict[str, str], exclusions: list[Evidence],
                          spans: dict[str, tuple[Span, ...]] | None = None) -> list[Evidence]:
        """Gated codes: the code word and one of its context words anywhere in the listing.

        ``spans``: the context matcher's spans per field when the caller has them already."""
        if self.context_matcher is None:
            return []
        found: dict[str, tuple[str, str]] = {}  # word -> (field, matched)
        for field, text in fields.items():
            for span in (spans[field] if spans is not None else self.context_matcher.find(text)):
                found.setdefault(span.term, (field, span.term))
        excluded = {e.group for e in exclusions}
        out = []
        for rule in self.contexts:
            if rule.code not in found or rule.group in excluded or ANY_GROUP in excluded:
                continue
            context = next((w for w in rule.context if w in found and w != rule.code), None)
            if context is None:
                continue
            field, _ = found[rule.code]
            out.append(
                Evidence("context", f"{rule.code}+{context}", f"{rule.code}+{context}", rule.group, "coded", field,
                         rule.confidence)
            )
        return out

    def description_evidence(self, title: str, description: str,
                             evidence: Iterable[Evidence] = ()) -> tuple[Evidence, ...]:
        """Codes no term names: an animal or part described by its features (descriptions.csv).

        ``title`` and ``description`` are normalised; ``evidence`` is what the other rules found (a group
        they exclude is not described).  The caller decides when to ask: ``analyse`` asks only for listings
        that offer something and that no rule ties to a wildlife group.  One record per rule that fires,
        its ``matched`` the words that made it ("交叉纹+白色+手镯").
        """
        matcher = getattr(self, "description_matcher", None)
        if matcher is None:
            return ()
        found: dict[str, str] = {}  # word -> field of its first undenied occurrence
        for field, text in (("title", title), ("description", description)):
            if not text:
                continue
            for span in matcher.find(text):
                # "不是牛骨" does not make it bone; "not celluloid" not plastic
                if not is_negated(text, span):
                    found.setdefault(span.term, field)
        if not found:
            return ()
        excluded = {e.group for e in evidence if e.rule == "exclusion"}
        out = []
        for rule in self.descriptions:
            if rule.group in excluded or ANY_GROUP in excluded or any(w in found for w in rule.unless):
                continue
            features = [w for w in rule.features if w in found]
            if len(features) < rule.min_features:
                continue
            objects = [w for w in rule.objects if w in found and w not in features]
            if rule.objects and not objects:
                continue
            words = features + objects[:1]
            out.append(Evidence("description", rule.name, "+".join(words), rule.group, "coded",
                                found[features[0]], rule.confidence))
        return tuple(out)

    def evaluate(self, title: str, description: str = "") -> tuple[Evidence, ...]:
        """Evidence for one listing whose title and description are already normalised."""
        hits: list[Evidence] = []
        exclusions: list[Evidence] = []
        negated: list[Evidence] = []
        denied: list[Evidence] = []
        fields = {}
        for field, text in zip(FIELDS, (title, description)):
            if text:
                fields[field] = text[: self.max_chars]
        signals: list[Evidence] = []
        context_spans: dict[str, tuple[Span, ...]] = {}
        for field, text in fields.items():
            field_signals, context_spans[field] = self._field_signals(field, text)
            signals += field_signals
        offer = any(s.kind == "offer" for s in signals)
        for field, text in fields.items():
            if text:
                field_hits, field_exclusions, field_negated, field_denied = self._cached_field_evidence(
                    field, text, offer)
                hits += field_hits
                exclusions += field_exclusions
                negated += field_negated
                denied += field_denied
        composer = getattr(self, "parts", None)
        if composer is not None and any(h.rule == "part" for h in hits) \
                and any(composer.stops(text, is_negated) for text in fields.values()):
            hits = [h for h in hits if h.rule != "part"]  # a copy, a print or a pastry, in either field
        contexts = self._context_evidence(fields, exclusions, context_spans) if fields else []
        # "不是树脂" claims the real thing only where something real is named: a denied exclusion with no
        # hit for its group (any group for "*") is a sentence about something else ("对比小说").
        if denied:
            hit_groups = {e.group for e in hits + contexts if e.kind in HIT_KINDS}
            denied = [d for d in denied if (hit_groups if d.group == ANY_GROUP else d.group in hit_groups)]
        return tuple(
            exclusions + denied + hits + negated + contexts + _cooccurrences(hits + contexts) + signals
        )


def _cooccurrences(hits: list[Evidence]) -> list[Evidence]:
    """Per group: its strongest species/product/coded hit paired with the strongest intent term.

    "Species + commerce term" is the signal platforms themselves warn on
    (domain-notes §5); a listing can mention a tiger or offer to sell, but both
    together are worth more than either.
    """
    intents = [h for h in hits if h.kind == "intent"]
    hits = [h for h in hits if h.rule in HIT_RULES]
    if not intents:
        return []
    intent = max(intents, key=lambda h: h.weight)
    best: dict[str, Evidence] = {}
    for hit in hits:
        if hit.kind in HIT_KINDS and (hit.group not in best or hit.weight > best[hit.group].weight):
            best[hit.group] = hit
    return [
        Evidence(
            "cooccurrence",
            f"{hit.term}+{intent.term}",
            f"{hit.matched}+{intent.matched}",
            group,
            hit.kind,
            hit.field,
            round(hit.weight * intent.weight, 4),
        )
        for group, hit in sorted(best.items())
    ]


# The evidence that counts towards a group's strength, as sets: group_strengths runs several times per listing,
# and classifier.inference reads the same sets for its feature rows.
STRENGTH_RULES = frozenset((*HIT_RULES, "cooccurrence"))
HIT_KIND_SET = frozenset(HIT_KINDS)


def group_strengths(evidence: Iterable[Evidence], *, apply_exclusions: bool = True) -> dict[str, float]:
    """How strongly the evidence points at each group, in [0, 1].

    Hits combine by noisy-or (two independent 0.5 hits → 0.75), co-occurrence
    adds in the same way, and the strongest exclusion for the group or for "*"
    scales the result down by its confidence: exclusion context lowers a
    group's weight rather than deleting it.
    """
    raw, excluded = group_strengths_both(evidence)
    return excluded if apply_exclusions else raw


def group_strengths_both(evidence: Iterable[Evidence]) -> tuple[dict[str, float], dict[str, float]]:
    """(``group_strengths(evidence, apply_exclusions=False)``, ``group_strengths(evidence)``) in one pass: the
    evidence features need both for every listing."""
    miss: dict[str, float] = {}
    excluded: dict[str, float] = {}
    for ev in evidence:
        if ev.rule == "exclusion":
            excluded[ev.group] = max(excluded.get(ev.group, 0.0), ev.weight)
        elif ev.rule in STRENGTH_RULES and ev.kind in HIT_KIND_SET and ev.group != ANY_GROUP:
            miss[ev.group] = miss.get(ev.group, 1.0) * (1.0 - ev.weight)
    raw, adjusted = {}, {}
    for group, remaining in miss.items():
        strength = 1.0 - remaining
        raw[group] = round(strength, 6)
        adjusted[group] = round(strength * (1.0 - max(excluded.get(group, 0.0), excluded.get(ANY_GROUP, 0.0))), 6)
    return raw, adjusted


def best_group(evidence: Iterable[Evidence]) -> str | None:
    """The group with the strongest non-excluded evidence; None when nothing points anywhere.

    A group is excluded when an exclusion for it, or for "*", fired anywhere in
    the listing ("pangolin plush toy" names no species).  The evidence still
    lists the hits and the exclusion, so an analyst sees both.
    """
    evidence = list(evidence)
    excluded = {ev.group for ev in evidence if ev.rule == "exclusion"}
    if ANY_GROUP in excluded:
        return None
    strengths = {
        g: s for g, s in group_strengths(evidence, apply_exclusions=False).items() if s > 0 and g not in excluded
    }
    if not strengths:
        return None
    return max(sorted(strengths), key=lambda g: strengths[g])

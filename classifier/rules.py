"""Lexicon rules: term hits, intent co-occurrence and exclusions, as ``Evidence``.

The lexicon compiles once into a single trie-shaped regular expression, so one
C-level scan of the normalised text finds every term (CJK by substring, Latin
on word boundaries).  No I/O: texts in, evidence out.  The same evidence feeds
the model's features, the analysts' explanation and the curators' rule report.
"""
from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from classifier.evidence import Evidence
from classifier.lexicon import ANY_GROUP, HIT_KINDS, Lexicon, LexiconEntry

__all__ = ["Span", "TermMatcher", "RuleSet", "group_strengths", "best_group", "FIELDS"]

FIELDS = ("title", "description")
_WORD = "a-z0-9"
_WORDCHAR = re.compile(f"[{_WORD}]")


def _trie_regex(terms: Iterable[str]) -> str:
    """One regex for many terms, shaped as a trie, longest match preferred.

    Latin terms get word-boundary checks at the ends that are letters/digits,
    so "ivory" does not match inside "ivorycoast" while 象牙 matches anywhere.
    A terminal node tries its children before ending, so the regex engine
    returns the longest term at a position and backtracks to shorter ones when
    a boundary check fails ("tiger bones": "tiger bone" fails, "tiger" holds).
    Every top-level branch starts with a literal (the start-boundary check
    comes after the first character), which lets the regex engine skip
    through text using the set of first characters.
    """
    trie: dict = {}
    for term in terms:
        node = trie
        for char in term:
            node = node.setdefault(char, {})
        node[""] = {}

    def emit(node: dict, last: str) -> str:
        alternatives = [
            re.escape(char) + emit(child, char) for char, child in sorted(node.items()) if char
        ]
        if "" in node:
            alternatives.append(f"(?![{_WORD}])" if _WORDCHAR.fullmatch(last) else "")
        if len(alternatives) == 1:
            return alternatives[0]
        return "(?:" + "|".join(alternatives) + ")"

    top = []
    for char, child in sorted(trie.items()):
        # (?<![a-z0-9].) after the first char: "the char before it is not a letter/digit".
        guard = f"(?<![{_WORD}].)" if _WORDCHAR.fullmatch(char) else ""
        top.append(re.escape(char) + guard + emit(child, char))
    return "|".join(top)


@dataclass(frozen=True)
class Span:
    """Where a (normalised) term was found in a (normalised) text."""

    start: int
    end: int
    term: str  # normalised term

    def overlaps(self, other: "Span") -> bool:
        return self.start < other.end and other.start < self.end


class TermMatcher:
    """Finds lexicon terms in normalised text: for every position, the longest term starting there."""

    def __init__(self, terms: Iterable[str]) -> None:
        unique = sorted({t for t in terms if t})
        if not unique:
            raise ValueError("TermMatcher needs at least one term")
        self.pattern = re.compile(_trie_regex(unique))

    def find(self, text: str) -> list[Span]:
        """Overlapping matches: after each match, search again one character after its start."""
        spans = []
        search = self.pattern.search
        match = search(text)
        while match is not None:
            start = match.start()
            spans.append(Span(start, match.end(), match.group()))
            match = search(text, start + 1)
        return spans


def _drop_contained(items: list[tuple[Span, LexiconEntry]]) -> list[tuple[Span, LexiconEntry]]:
    """Keep only maximal spans: 穿山甲片 wins over the 穿山甲 inside it.

    One sweep in start order (longer first on ties): a span is inside an
    earlier one when some earlier span reaches at least as far.  Linear after
    sorting, so a hostile 20,000-character listing stays cheap.
    """
    contained: set[Span] = set()
    reach = -1
    for span in sorted({span for span, _ in items}, key=lambda sp: (sp.start, -sp.end)):
        if span.end <= reach:
            contained.add(span)
        reach = max(reach, span.end)
    return [(s, e) for s, e in items if s not in contained]


class RuleSet:
    """The lexicon compiled into named rules; ``evaluate`` returns a listing's evidence.

    Rules, in order: ``exclusion`` (an exclusion term found; it suppresses any hit
    of its group, or of every group for "*", that it overlaps: "mammoth ivory"
    hides "ivory"), ``term`` (a species/product/coded/intent term found), and
    ``cooccurrence`` (a group's strongest hit and an intent term in one listing).
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

    def _field_evidence(self, field: str, text: str) -> tuple[list[Evidence], list[Evidence]]:
        """(hits, exclusions) in one field after suppression and de-duplication."""
        items = [
            (span, entry)
            for span in self.matcher.find(text[: self.max_chars])
            for entry in self.entries_by_term[span.term]
        ]
        exclusions = _drop_contained([(s, e) for s, e in items if e.kind == "exclusion"])
        hits = [
            (s, e)
            for s, e in items
            if e.kind != "exclusion"
            and not any(x.overlaps(s) and xe.group in (ANY_GROUP, e.group) for x, xe in exclusions)
        ]
        hits = _drop_contained(hits)

        def evidence(rule: str, pairs: list[tuple[Span, LexiconEntry]]) -> list[Evidence]:
            seen: dict[tuple, Evidence] = {}
            for span, entry in pairs:
                key = (entry.term, entry.group, entry.kind)
                if key not in seen:
                    seen[key] = Evidence(rule, entry.term, span.term, entry.group, entry.kind, field, entry.confidence)
            return list(seen.values())

        return evidence("term", hits), evidence("exclusion", exclusions)

    def evaluate(self, title: str, description: str = "") -> tuple[Evidence, ...]:
        """Evidence for one listing whose title and description are already normalised."""
        hits: list[Evidence] = []
        exclusions: list[Evidence] = []
        for field, text in zip(FIELDS, (title, description)):
            if text:
                field_hits, field_exclusions = self._field_evidence(field, text)
                hits += field_hits
                exclusions += field_exclusions
        return tuple(exclusions + hits + _cooccurrences(hits))


def _cooccurrences(hits: list[Evidence]) -> list[Evidence]:
    """Per group: its strongest species/product/coded hit paired with the strongest intent term.

    "Species + commerce term" is the signal platforms themselves warn on
    (domain-notes §5); a listing can mention a tiger or offer to sell, but both
    together are worth more than either.
    """
    intents = [h for h in hits if h.kind == "intent"]
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


def group_strengths(evidence: Iterable[Evidence], *, apply_exclusions: bool = True) -> dict[str, float]:
    """How strongly the evidence points at each group, in [0, 1].

    Hits combine by noisy-or (two independent 0.5 hits → 0.75), co-occurrence
    adds in the same way, and the strongest exclusion for the group or for "*"
    scales the result down by its confidence: exclusion context lowers a
    group's weight rather than deleting it.
    """
    miss: dict[str, float] = {}
    excluded: dict[str, float] = defaultdict(float)
    for ev in evidence:
        if ev.rule == "exclusion":
            excluded[ev.group] = max(excluded[ev.group], ev.weight)
        elif ev.kind in HIT_KINDS and ev.group != ANY_GROUP:
            miss[ev.group] = miss.get(ev.group, 1.0) * (1.0 - ev.weight)
    strengths = {}
    for group, remaining in miss.items():
        strength = 1.0 - remaining
        if apply_exclusions:
            strength *= 1.0 - max(excluded.get(group, 0.0), excluded.get(ANY_GROUP, 0.0))
        strengths[group] = round(strength, 6)
    return strengths


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

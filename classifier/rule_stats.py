"""Which lexicon terms earn their keep: coverage and precision of each rule on labelled data.

For curators (``wildwatch lexicon check`` can print it next to the validation
report): a hit term that fires mostly on negatives needs an exclusion or a
lower confidence; a term that never fires is either rare or misspelled.
Returns data only.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from classifier.inference import analyse
from classifier.lexicon import Lexicon
from classifier.rules import RuleSet

__all__ = ["TermStat", "FamilyStat", "term_stats", "family_stats", "write_term_stats", "RULE_FAMILIES"]

# Every rule family ``RuleSet.evaluate`` emits, in the order the report shows them.
RULE_FAMILIES = ("term", "pinyin", "context", "homophone", "initials", "split", "masked", "description", "part",
                 "cooccurrence",
                 "exclusion", "negated", "denied")


@dataclass(frozen=True)
class TermStat:
    """How one (term, group, kind) rule behaved on labelled listings."""

    term: str
    group: str
    kind: str
    rule: str  # "term", "exclusion", "pinyin", "context", "negated" or "denied"
    positives: int  # listings labelled 1 where it fired
    negatives: int  # listings labelled 0 where it fired

    @property
    def fired(self) -> int:
        return self.positives + self.negatives

    @property
    def precision(self) -> float | None:
        """Share of positives among the listings it fired on (for exclusions, lower is better)."""
        return round(self.positives / self.fired, 4) if self.fired else None


def _evidence(rules: RuleSet, listings: Iterable[tuple[str, str, int]]):
    """Each listing's evidence as scoring sees it (``analyse``: the rules, then descriptions and standard names)."""
    for title, description, label in listings:
        yield analyse(rules, title, description).evidence, label


def term_stats(lexicon: Lexicon, listings: Iterable[tuple[str, str, int]]) -> list[TermStat]:
    """One ``TermStat`` per lexicon rule, including rules that never fired, most-fired first.

    ``listings`` are (title, description, label) triples.  Besides plain term
    and exclusion hits, derived pinyin hits, gated context codes, negated hits
    and denied exclusions get rows of their own (rule column), so a curator sees
    e.g. that 象牙 fires 40 times negated on hard negatives.
    """
    rules = RuleSet(lexicon)
    counts: dict[tuple[str, str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for entries in rules.entries_by_term.values():
        for e in entries:
            counts[(e.term, e.group, e.kind, "exclusion" if e.kind == "exclusion" else "term")]
    for rule in rules.contexts:
        counts[(rule.code, rule.group, "coded", "context")]
    for rule in getattr(rules, "descriptions", ()):
        counts[(rule.name, rule.group, "coded", "description")]
    for evidence, label in _evidence(rules, listings):
        fired = set()
        for ev in evidence:
            if ev.rule == "cooccurrence":
                continue
            term = ev.term.split("+", 1)[0] if ev.rule == "context" else ev.term
            fired.add((term, ev.group, ev.kind, ev.rule))
        for key in fired:
            counts[key][0 if label == 1 else 1] += 1
    stats = [TermStat(t, g, k, r, pos, neg) for (t, g, k, r), (pos, neg) in counts.items()]
    return sorted(stats, key=lambda s: (-s.fired, s.term, s.group, s.rule))


@dataclass(frozen=True)
class FamilyStat:
    """One rule family over labelled listings: coverage (share of listings it fires on) and precision."""

    rule: str
    listings: int  # listings evaluated
    positives: int  # label-1 listings it fired on
    negatives: int  # label-0 listings it fired on
    total_positives: int

    @property
    def fired(self) -> int:
        return self.positives + self.negatives

    @property
    def coverage(self) -> float:
        return round(self.fired / self.listings, 4) if self.listings else 0.0

    @property
    def precision(self) -> float | None:
        return round(self.positives / self.fired, 4) if self.fired else None

    @property
    def recall(self) -> float | None:
        """Share of label-1 listings it fires on (for exclusions/negations: how many positives it touches)."""
        return round(self.positives / self.total_positives, 4) if self.total_positives else None


def family_stats(lexicon: Lexicon, listings: Iterable[tuple[str, str, int]]) -> list[FamilyStat]:
    """Per rule family: on how many labelled listings it fires, and how many of those are label 1."""
    rules = RuleSet(lexicon)
    fired: dict[str, list[int]] = {r: [0, 0] for r in RULE_FAMILIES}
    n = n_pos = 0
    for evidence, label in _evidence(rules, listings):
        n += 1
        n_pos += label == 1
        for rule in {ev.rule if ev.kind != "intent" or ev.rule != "term" else "intent" for ev in evidence}:
            fired.setdefault(rule, [0, 0])[0 if label == 1 else 1] += 1
    order = ("term", "intent", *RULE_FAMILIES[1:])
    return [FamilyStat(r, n, *fired.get(r, [0, 0]), n_pos) for r in order]


def write_term_stats(stats: list[TermStat], path) -> None:
    """Every term's row as CSV (UTF-8 with BOM so spreadsheets show Chinese)."""
    import csv
    from pathlib import Path

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["term", "group", "kind", "rule", "fired", "positives", "negatives", "precision"])
        for s in stats:
            writer.writerow([s.term, s.group, s.kind, s.rule, s.fired, s.positives, s.negatives,
                             "" if s.precision is None else s.precision])

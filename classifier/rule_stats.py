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

from classifier.lexicon import Lexicon
from classifier.rules import RuleSet
from classifier.text import normalise

__all__ = ["TermStat", "term_stats"]


@dataclass(frozen=True)
class TermStat:
    """How one (term, group, kind) rule behaved on labelled listings."""

    term: str
    group: str
    kind: str
    rule: str  # "term" or "exclusion"
    positives: int  # listings labelled 1 where it fired
    negatives: int  # listings labelled 0 where it fired

    @property
    def fired(self) -> int:
        return self.positives + self.negatives

    @property
    def precision(self) -> float | None:
        """Share of positives among the listings it fired on (for exclusions, lower is better)."""
        return round(self.positives / self.fired, 4) if self.fired else None


def term_stats(lexicon: Lexicon, listings: Iterable[tuple[str, str, int]]) -> list[TermStat]:
    """One ``TermStat`` per lexicon rule, including rules that never fired, most-fired first.

    ``listings`` are (title, description, label) triples.
    """
    rules = RuleSet(lexicon)
    counts: dict[tuple[str, str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for entries in rules.entries_by_term.values():
        for e in entries:
            counts[(e.term, e.group, e.kind, "exclusion" if e.kind == "exclusion" else "term")]
    for title, description, label in listings:
        fired = {
            (ev.term, ev.group, ev.kind, ev.rule)
            for ev in rules.evaluate(normalise(title), normalise(description))
            if ev.rule in ("term", "exclusion")
        }
        for key in fired:
            counts[key][0 if label == 1 else 1] += 1
    stats = [TermStat(t, g, k, r, pos, neg) for (t, g, k, r), (pos, neg) in counts.items()]
    return sorted(stats, key=lambda s: (-s.fired, s.term, s.group))

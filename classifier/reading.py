"""One sentence for an analyst: why a listing was read as an offer, or why it was not.

The evidence list says *what* fired; this says what it adds up to, in the terms the model is built on: wildlife
evidence (a term, a code, a description), trade-offer signals (price, contact, shipping …), and the context that
makes a species word a mention instead (news, advocacy, a print, a sighting, documented legal trade).  A flag
whose text also reads like news says which offer signals outweighed it; an unflagged listing with wildlife words
says whether it was the missing offer, the mention or the lookalike that kept it out.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import fields
from typing import Any

from classifier.evidence import Evidence
from classifier.rules import HIT_RULES, group_strengths
from classifier.signals import signal_summary

__all__ = ["offer_reading", "as_evidence"]

_CONTEXT_WORDS = {
    "mention": {"enforcement": "enforcement news", "advocacy": "advocacy", "news": "news or research",
                "question": "a question"},
    "depiction": {"motif": "a motif or print", "merchandise": "merchandise", "name": "a name or brand",
                  "sighting": "a sighting"},
    "legal": {"captive_bred": "captive-bred", "papers": "papers or permits"},
}
_MAX_TERMS = 3
_EVIDENCE_FIELDS = tuple(f.name for f in fields(Evidence))  # the keys of Evidence.to_dict


def as_evidence(items: Iterable[Evidence | Mapping[str, Any]] | None) -> tuple[Evidence, ...]:
    """Evidence records from records or their stored dicts (``Evidence.to_dict``); other shapes are skipped."""
    out = []
    for item in items or ():
        if isinstance(item, Evidence):
            out.append(item)
        elif isinstance(item, Mapping):
            try:
                out.append(Evidence(**{k: item[k] for k in _EVIDENCE_FIELDS}))
            except (KeyError, TypeError):
                continue
    return tuple(out)


def _wildlife(evidence: tuple[Evidence, ...]) -> str:
    strengths = group_strengths(evidence)
    if not strengths:
        return ""
    parts = []
    for group in sorted(strengths, key=strengths.get, reverse=True)[:2]:
        terms: list[str] = []
        for e in sorted((e for e in evidence if e.group == group and e.rule in HIT_RULES), key=lambda e: -e.weight):
            word = f"described: {e.matched}" if e.rule == "description" else (e.matched if e.rule == "part" else e.term)
            if word not in terms:
                terms.append(word)
        parts.append(f"{group} ({', '.join(terms[:_MAX_TERMS])})")
    return "; ".join(parts)


def _context(signals: dict[str, list[str]]) -> list[str]:
    return [_CONTEXT_WORDS[family].get(label, label)
            for family in ("mention", "depiction", "legal") for label in signals.get(family, ())]


def offer_reading(evidence: Iterable[Evidence | Mapping[str, Any]] | None, flagged: bool) -> str:
    """"Offer: ivory (象牙) with price, contact." / "Not an offer: ivory (象牙) in enforcement news, no trade signal."."""
    evidence = as_evidence(evidence)
    signals = signal_summary(evidence)
    offers = [label for label in signals.get("offer", ()) if label != "undocumented"]
    undocumented = "undocumented" in signals.get("offer", ())
    context = _context(signals)
    wildlife = _wildlife(evidence)
    lookalikes = sorted({e.term for e in evidence if e.rule == "exclusion"})
    denied = sorted({e.term for e in evidence if e.rule == "negated"})
    trade = ", ".join(offers + (["no papers"] if undocumented else [])) or "no trade signal"
    semantic = next((e.weight for e in evidence if e.rule == "semantic"), None)  # classifier.semantic
    if flagged:
        what = wildlife or "no wildlife term or description (the wording alone)"
        sentence = f"Offer: {what}, with {trade}."
        if context:
            sentence += f" Also reads as {', '.join(context)}; the offer signals outweigh it."
        if not offers and not undocumented:
            sentence += " No trade signal: check that it is an offer."
        if semantic is not None:
            sentence += (f" The sentence model reads it as an offer ({semantic:+.1f})." if semantic > 0 else
                         f" The sentence model does not read it as an offer ({semantic:+.1f}); the evidence above "
                         f"carried it.")
        return sentence
    if not wildlife:
        if lookalikes:
            return (f"Not a wildlife offer: the wildlife words are another thing here "
                    f"({', '.join(lookalikes[:_MAX_TERMS])}).")
        if denied:
            return f"Not a wildlife offer: the text denies {', '.join(denied[:_MAX_TERMS])}."
        return "Not a wildlife offer: no wildlife term or description."
    reasons = []
    if context:
        reasons.append(f"reads as {', '.join(context)}")
    if lookalikes:
        reasons.append(f"lookalike or legal context ({', '.join(lookalikes[:_MAX_TERMS])})")
    if not offers:
        reasons.append("no trade signal: a species word alone is not an offer")
    if semantic is not None and semantic < 0:
        reasons.append(f"the sentence model does not read it as an offer ({semantic:+.1f})")
    if not reasons:
        reasons.append(f"{trade} not enough beside this evidence")
    return f"Not an offer: {wildlife}; {'; '.join(reasons)}."

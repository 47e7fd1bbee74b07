"""The one interface the crawler, the CLI and the store use to score listings.

A ``Scorer`` wraps one trained model version.  It flags listings as
*suspicious* for an analyst; it never decides that a listing is illegal.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from classifier.artifacts import load_scoring_model
from classifier.evidence import Evidence
from classifier.inference import Analysis, InferenceModel, adjust_for_missing_evidence
from classifier.rules import best_group
from classifier.semantic import SemanticStage, semantic_text
from classifier.reading import offer_reading
from classifier.signals import SIGNAL_FAMILIES
from classifier.taxa import TaxonMatch, TaxonMatcher, default_matcher

__all__ = ["Evidence", "ScoreResult", "Scorer"]

_SUMMARY_ITEMS = 8
MIN_SCORE, MAX_SCORE = 1e-9, 1 - 1e-9


@dataclass(frozen=True)
class ScoreResult:
    """A listing's score, decision and the evidence behind it."""

    score: float  # probability-like, in [0, 1]
    flagged: bool  # score >= threshold
    species: str | None  # best group id, None when no group evidence
    evidence: tuple[Evidence, ...]
    model_version: str
    threshold: float
    taxon: TaxonMatch | None = None  # the most specific taxon named, with its protection

    @property
    def semantic(self) -> float | None:
        """The semantic second stage's log-odds that the text reads as an offer (``classifier.semantic``), kept
        as an evidence record (rule "semantic") so that the store keeps it; None where the stage did not run
        (no stage in the model, or stage one put the listing below its candidates)."""
        return next((e.weight for e in self.evidence if e.rule == "semantic"), None)

    def to_dict(self) -> dict:
        return {
            "score": self.score,
            "flagged": self.flagged,
            "species": self.species,
            "evidence": [e.to_dict() for e in self.evidence],
            "model_version": self.model_version,
            "threshold": self.threshold,
            "taxon": self.taxon.to_dict() if self.taxon else None,
            "semantic": self.semantic,
            "reading": self.reading,
        }

    @property
    def reading(self) -> str:
        """One sentence: why this reads as an offer, or why it does not (``classifier.reading``)."""
        return offer_reading(self.evidence, self.flagged)

    def evidence_summary(self) -> str:
        """Short text for a table cell, e.g. "coded:广角 [rhino_horn]; intent:私聊; exclusion:仿".

        Rules other than plain hits say so: "pinyin:羚羊角", "not:象牙" (the text denies it),
        "denied:水牛角" (the text denies the substitute), "coded:小猫+环尾" (a gated code),
        "homophone:像芽→象牙" (a derived code), "described:红皮+黄肉+素牌 [hornbill]" (features without a
        name), and the context signals that say whether the text
        is an offer or a mention: "offer:contact", "mention:enforcement", "legal:papers", and the semantic
        stage's reading where it ran ("semantic:+2.1", log-odds that the text reads as an offer).
        """
        parts: list[str] = []
        for ev in self.evidence:
            if ev.rule in ("cooccurrence", "semantic"):
                continue  # implied by the hit and intent parts already listed; the semantic reading goes last
            if ev.rule == "signal":
                part = ev.term  # "offer:contact", "mention:enforcement", "legal:papers"
            elif ev.rule in ("homophone", "initials", "split", "masked"):
                part = f"{ev.rule}:{ev.matched}→{ev.term} [{ev.group}]"
            elif ev.rule == "description":
                part = f"described:{ev.matched} [{ev.group}]"  # the features that describe it, no name
            elif ev.rule == "part":
                part = f"part:{ev.matched} [{ev.group}]"  # a part word beside a species name ("piel de leopardo")
            else:
                label = {"negated": "not", "denied": "denied", "pinyin": "pinyin"}.get(ev.rule, ev.kind)
                part = f"{label}:{ev.term}" + (f" [{ev.group}]" if ev.group != "*" else "")
            if part not in parts:
                parts.append(part)
        # The context signals say why this is (or is not) an offer: never cut them off.
        signals = [p for p in parts if p.split(":", 1)[0] in SIGNAL_FAMILIES]
        parts = [p for p in parts if p not in signals]
        if len(parts) > _SUMMARY_ITEMS:
            parts = parts[:_SUMMARY_ITEMS] + [f"+{len(parts) - _SUMMARY_ITEMS} more"]
        semantic = [f"semantic:{ev.term}" for ev in self.evidence if ev.rule == "semantic"][:1]
        return "; ".join(parts + signals + semantic)


def _validate_threshold(value: float, where: str) -> float:
    number = float(value)
    if not 0.0 <= number <= 1.0:
        raise ValueError(f"{where}: threshold {value!r} must lie between 0 and 1")
    return number


class Scorer:
    """Scores listings with one model version; build it with ``Scorer.load``."""

    def __init__(self, model: Any, metadata: Mapping[str, Any], threshold: float | None = None,
                 semantic: SemanticStage | None = None) -> None:
        """``model``: an ``InferenceModel`` (what ``load`` reads: no scikit-learn), or a fitted pipeline;
        ``semantic``: the version's semantic second stage, if it has one (``load`` reads it)."""
        if not isinstance(model, InferenceModel) and hasattr(model, "named_steps"):
            from classifier.features import scoring_model  # imports scikit-learn: only for a pipeline

            model = scoring_model(model)
        # analyse(records) -> analyses, predict_proba(analyses), .rules, .lexicon
        self.model = model
        self.metadata = dict(metadata)
        self.version: str = str(metadata["version"])
        chosen = metadata["threshold"] if threshold is None else threshold
        self.threshold: float = _validate_threshold(chosen, "Scorer")
        # Recorded at training (classifier.features.no_evidence_shift); models from before have none.
        self.no_evidence_shift = float(metadata.get("no_evidence_logit_shift", 0.0))
        self.no_offer_shift = float(metadata.get("no_offer_logit_shift", 0.0))
        self.bare_shift = float(metadata.get("bare_wording_logit_shift", 0.0))
        self.semantic = semantic
        self._taxa: TaxonMatcher | None = None

    @property
    def taxa(self) -> TaxonMatcher:
        """The taxon table's matcher (data/taxa), loaded on first score."""
        if self._taxa is None:
            self._taxa = default_matcher()
        return self._taxa

    @classmethod
    def load(cls, models_dir: Path, threshold: float | None = None) -> "Scorer":
        """Load a version directory, or the active version under a models root.

        ``threshold`` None keeps the model's own. The caller supplies both: the CLI, the nightly job and
        the crawl pass ``Settings.models_dir`` and ``Settings.threshold`` (WILDWATCH_MODELS_DIR,
        WILDWATCH_THRESHOLD); the classifier reads no environment.
        """
        model, metadata, semantic = load_scoring_model(Path(models_dir))
        return cls(model, metadata, threshold, semantic=semantic)

    def _result(self, analysis: Analysis, probability: float, semantic: float | None = None) -> ScoreResult:
        # A model score is never certainty either way, and rounding would tie the top of the queue
        # at 1.0: kept at full precision inside [MIN_SCORE, MAX_SCORE].
        score = min(MAX_SCORE, max(MIN_SCORE, float(probability)))
        species = best_group(analysis.evidence)
        evidence = analysis.evidence
        if semantic is not None:
            evidence += (Evidence("semantic", f"{semantic:+.1f}", f"{semantic:+.4f}", "*", "semantic", "text",
                                  round(semantic, 4)),)
        return ScoreResult(
            score=score,
            flagged=score >= self.threshold,
            species=species,
            evidence=evidence,
            model_version=self.version,
            threshold=self.threshold,
            taxon=self.taxa.identify(analysis.text, analysis.evidence, species),
        )

    def score(
        self,
        title: str,
        description: str = "",
        *,
        price: float | None = None,
        currency: str | None = None,
    ) -> ScoreResult:
        """Score one listing.  Price (with its currency, CNY when absent) feeds the model's price-band features."""
        return self.score_many([{"title": title, "description": description, "price": price, "currency": currency}])[0]

    def score_many(self, records: Iterable[Mapping[str, Any]]) -> list[ScoreResult]:
        """Score a batch with one transform and one predict call (the fast path for crawls and files).

        Records need ``title`` (text) and may have ``description``; a record whose
        title or description is not text raises ``ValueError`` naming its index.
        """
        records = list(records)
        if not records:
            return []
        analyses = self.model.analyse(records)
        probabilities = self.model.predict_proba(analyses)
        semantic = [None] * len(records)
        if self.semantic is not None:
            texts = [semantic_text(r.get("title"), r.get("description")) for r in records]
            probabilities, logits = self.semantic.rescore(probabilities, texts)
            semantic = [None if np.isnan(v) else float(v) for v in logits]
        probabilities = adjust_for_missing_evidence(probabilities, analyses, self.no_evidence_shift,
                                                    self.no_offer_shift, self.bare_shift)
        return [self._result(a, p, s) for a, p, s in zip(analyses, probabilities, semantic)]

    def __repr__(self) -> str:
        return f"Scorer(version={self.version!r}, threshold={self.threshold})"

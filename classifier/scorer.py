"""The one interface the crawler, the CLI and the store use to score listings.

A ``Scorer`` wraps one trained model version.  It flags listings as
*suspicious* for an analyst; it never decides that a listing is illegal.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from classifier.artifacts import load_model
from classifier.evidence import Evidence
from classifier.features import Analysis
from classifier.rules import best_group

__all__ = ["Evidence", "ScoreResult", "Scorer"]

_SUMMARY_ITEMS = 8


@dataclass(frozen=True)
class ScoreResult:
    """A listing's score, decision and the evidence behind it."""

    score: float  # probability-like, in [0, 1]
    flagged: bool  # score >= threshold
    species: str | None  # best group id, None when no group evidence
    evidence: tuple[Evidence, ...]
    model_version: str
    threshold: float

    def to_dict(self) -> dict:
        return {
            "score": self.score,
            "flagged": self.flagged,
            "species": self.species,
            "evidence": [e.to_dict() for e in self.evidence],
            "model_version": self.model_version,
            "threshold": self.threshold,
        }

    def evidence_summary(self) -> str:
        """Short text for a table cell, e.g. "coded:广角 [rhino_horn]; intent:私聊; exclusion:仿".

        Rules other than plain hits say so: "pinyin:羚羊角", "not:象牙" (the text denies it),
        "denied:水牛角" (the text denies the substitute), "coded:小猫+环尾" (a gated code).
        """
        parts: list[str] = []
        for ev in self.evidence:
            if ev.rule == "cooccurrence":
                continue  # implied by the hit and intent parts already listed
            label = {"negated": "not", "denied": "denied", "pinyin": "pinyin"}.get(ev.rule, ev.kind)
            part = f"{label}:{ev.term}" + (f" [{ev.group}]" if ev.group != "*" else "")
            if part not in parts:
                parts.append(part)
        if len(parts) > _SUMMARY_ITEMS:
            parts = parts[:_SUMMARY_ITEMS] + [f"+{len(parts) - _SUMMARY_ITEMS} more"]
        return "; ".join(parts)


def _validate_threshold(value: float, where: str) -> float:
    number = float(value)
    if not 0.0 <= number <= 1.0:
        raise ValueError(f"{where}: threshold {value!r} must lie between 0 and 1")
    return number


class Scorer:
    """Scores listings with one model version; build it with ``Scorer.load``."""

    def __init__(self, model: Any, metadata: Mapping[str, Any], threshold: float | None = None) -> None:
        self._analyzer = model.named_steps["analyze"]
        self._rest = model[1:]  # features + classifier, fed the analyzer's output
        self.metadata = dict(metadata)
        self.version: str = str(metadata["version"])
        chosen = metadata["threshold"] if threshold is None else threshold
        self.threshold: float = _validate_threshold(chosen, "Scorer")

    @classmethod
    def load(cls, models_dir: Path | None = None, threshold: float | None = None) -> "Scorer":
        """Load a version directory, or the active version under a models root.

        Defaults come from the environment (``WILDWATCH_MODELS_DIR``,
        ``WILDWATCH_THRESHOLD``) via ``wildwatch.config.Settings``; explicit
        arguments win.
        """
        if models_dir is None or threshold is None:
            from wildwatch.config import Settings

            settings = Settings.from_env()
            models_dir = settings.models_dir if models_dir is None else models_dir
            threshold = settings.threshold if threshold is None else threshold
        model, metadata = load_model(Path(models_dir))
        return cls(model, metadata, threshold)

    def _result(self, analysis: Analysis, probability: float) -> ScoreResult:
        score = min(1.0, max(0.0, float(probability)))
        return ScoreResult(
            score=round(score, 6),
            flagged=score >= self.threshold,
            species=best_group(analysis.evidence),
            evidence=analysis.evidence,
            model_version=self.version,
            threshold=self.threshold,
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
        analyses = self._analyzer.transform(records)
        probabilities = self._rest.predict_proba(analyses)[:, 1]
        return [self._result(a, p) for a, p in zip(analyses, probabilities)]

    def __repr__(self) -> str:
        return f"Scorer(version={self.version!r}, threshold={self.threshold})"

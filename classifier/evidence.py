"""The Evidence record: why a listing scored as it did (shared by rules, scorer and store)."""
from __future__ import annotations

from dataclasses import asdict, dataclass

__all__ = ["Evidence"]


@dataclass(frozen=True)
class Evidence:
    """One rule firing on one listing; analysts read these, so every field is plain text."""

    rule: str  # rule name: "term", "cooccurrence", "exclusion"
    term: str  # the lexicon term as curated
    matched: str  # the text matched (normalised)
    group: str  # group id or "*"
    kind: str  # species|product|coded|intent|exclusion
    field: str  # "title" | "description"
    weight: float  # confidence used

    def to_dict(self) -> dict:
        return asdict(self)

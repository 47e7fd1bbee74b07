"""The Evidence record: why a listing scored as it did (shared by rules, scorer and store)."""
from __future__ import annotations

from dataclasses import asdict, dataclass

__all__ = ["Evidence"]


_set = object.__setattr__


@dataclass(frozen=True, init=False)
class Evidence:
    """One rule firing on one listing; analysts read these, so every field is plain text.

    A frozen dataclass whose ``__init__`` sets all fields in one step: the generated one sets them one
    ``object.__setattr__`` at a time (3 us against 1.3 us each, and a listing makes 15-20 of these).
    Fields, equality, hashing, repr, ``asdict`` and pickling are the dataclass's.
    """

    rule: str  # rule name: "term", "cooccurrence", "exclusion"
    term: str  # the lexicon term as curated
    matched: str  # the text matched (normalised)
    group: str  # group id or "*"
    kind: str  # species|product|coded|intent|exclusion
    field: str  # "title" | "description"
    weight: float  # confidence used

    def __init__(self, rule: str, term: str, matched: str, group: str, kind: str, field: str, weight: float) -> None:
        _set(self, "__dict__", {"rule": rule, "term": term, "matched": matched, "group": group, "kind": kind,
                                "field": field, "weight": weight})

    def to_dict(self) -> dict:
        return asdict(self)

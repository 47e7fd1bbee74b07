"""Find the evidence terms in the listing's original text, so the page can mark them.

The classifier matched on normalised text (full-width folded, traditional to
simplified, lower-cased, separators inside words removed), so its `matched`
strings are often not substrings of what the seller wrote. Here both the text
and each term are folded character by character the same way, keeping a map
from every folded character back to its position in the original; a hit in
the folded text becomes a span of the original. What still cannot be located
(leetspeak, emoji codes) is listed beside the text instead.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterable

from classifier.text import to_simplified


@dataclass(frozen=True)
class Segment:
    text: str
    mark: bool = False
    label: str = ""  # what the mark stands for, e.g. "coded: 广角 [rhino_horn]"


@lru_cache(maxsize=20_000)
def _fold_char(char: str) -> str:
    """One character's comparable form, or "" when it is a separator (space, punctuation, invisible)."""
    category = unicodedata.category(char)
    if category[0] in "ZPC" or category in ("Sk", "Sm"):
        return ""
    folded = unicodedata.normalize("NFKC", char)
    if len(folded) == 1:
        folded = to_simplified(folded)
    folded = folded.lower()
    return folded if len(folded) == 1 else char.lower()


def _skeleton(text: str) -> tuple[str, list[int]]:
    chars: list[str] = []
    positions: list[int] = []
    for index, char in enumerate(text):
        folded = _fold_char(char)
        if folded:
            chars.append(folded)
            positions.append(index)
    return "".join(chars), positions


def _needle(term: str) -> str:
    return "".join(_fold_char(c) for c in term)


def _label(entry: dict[str, Any]) -> str:
    group = entry.get("group")
    suffix = f" [{group}]" if group and group != "*" else ""
    return f"{entry.get('kind') or entry.get('rule') or 'term'}: {entry.get('term') or entry.get('matched')}{suffix}"


def find_spans(text: str, evidence: Iterable[Any], field: str) -> tuple[list[tuple[int, int, str]], list[str]]:
    """(spans in `text` as (start, end, label), labels of this field's evidence that were not found)."""
    skeleton, positions = _skeleton(text or "")
    spans: list[tuple[int, int, str]] = []
    missing: list[str] = []
    for entry in evidence or ():
        if not isinstance(entry, dict) or entry.get("rule") == "cooccurrence":
            continue
        if entry.get("field") not in (None, field):
            continue
        label = _label(entry)
        found = False
        for candidate in dict.fromkeys(c for c in (entry.get("matched"), entry.get("term")) if isinstance(c, str)):
            needle = _needle(candidate)
            if not needle:
                continue
            start = skeleton.find(needle)
            while start != -1:
                end = start + len(needle)
                spans.append((positions[start], positions[end - 1] + 1, label))
                found = True
                start = skeleton.find(needle, end)
        if not found and label not in missing:
            missing.append(label)
    return _merge(spans), missing


def _merge(spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Overlapping spans become one, with both labels."""
    merged: list[tuple[int, int, str]] = []
    for start, end, label in sorted(spans):
        if merged and start < merged[-1][1]:
            last_start, last_end, last_label = merged[-1]
            labels = last_label if label in last_label.split("; ") else f"{last_label}; {label}"
            merged[-1] = (last_start, max(last_end, end), labels)
        else:
            merged.append((start, end, label))
    return merged


def segments(text: str, evidence: Iterable[Any], field: str) -> tuple[list[Segment], list[str]]:
    """The text cut into plain and marked segments (templates escape each), and the unlocated evidence."""
    text = text or ""
    spans, missing = find_spans(text, evidence, field)
    out: list[Segment] = []
    cursor = 0
    for start, end, label in spans:
        if start > cursor:
            out.append(Segment(text[cursor:start]))
        out.append(Segment(text[start:end], True, label))
        cursor = end
    if cursor < len(text):
        out.append(Segment(text[cursor:]))
    return out, missing

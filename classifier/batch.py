"""Score a file of listings (JSONL or CSV) into a CSV: ``wildwatch classify INPUT -o OUTPUT``.

A bad row (broken JSON, missing id/title, a field of the wrong type) is
reported as "input.jsonl line 17: missing field 'title'" and skipped; the rest
of the file is still scored.  Rows are scored in batches so one
transform/predict call serves many listings.
"""
from __future__ import annotations

import csv
import json
import math
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from classifier.scorer import Scorer

__all__ = ["ClassifyStats", "classify_file", "read_listings", "OUTPUT_COLUMNS"]

OUTPUT_COLUMNS = ("id", "score", "flagged", "species", "evidence", "model_version", "evidence_json",
                  "taxon", "protection", "reading")
_JSONL_SUFFIXES = {".jsonl", ".ndjson"}
_CSV_SUFFIXES = {".csv"}


@dataclass
class ClassifyStats:
    """Counts for the CLI to print; ``errors`` holds one message per skipped row."""

    read: int = 0
    scored: int = 0
    flagged: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def skipped(self) -> int:
        return len(self.errors)


def _text(value: Any, name: str, *, required: bool) -> str:
    if value is None or value == "":
        if required:
            raise ValueError(f"missing field '{name}'")
        return ""
    if not isinstance(value, str):
        raise ValueError(f"field '{name}' must be text, got {type(value).__name__}")
    return value


def _price(value: Any) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"field 'price' must be a number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"field 'price' must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"field 'price' must be a finite number, got {value!r}")
    return number


def _listing(raw: Any) -> dict[str, Any]:
    """Validate one input row into {id, title, description, price, currency}; raise ValueError why not."""
    if not isinstance(raw, dict):
        raise ValueError(f"expected an object, got {type(raw).__name__}")
    listing_id = raw.get("id")
    if isinstance(listing_id, (int, str)) and not isinstance(listing_id, bool) and str(listing_id).strip():
        # A lone surrogate (JSON "\ud800") cannot be written to the UTF-8 output: replace it.
        listing_id = re.sub("[\ud800-\udfff]", "\ufffd", str(listing_id).strip())
    elif listing_id is None or listing_id == "":
        raise ValueError("missing field 'id'")
    else:
        raise ValueError(f"field 'id' must be text or an integer, got {type(listing_id).__name__}")
    return {
        "id": listing_id,
        "title": _text(raw.get("title"), "title", required=True),
        "description": _text(raw.get("description"), "description", required=False),
        "price": _price(raw.get("price")),
        "currency": _text(raw.get("currency"), "currency", required=False) or None,
    }


def _decoded_lines(fh: Any, bad_lines: set[int]) -> Iterator[str]:
    """Text lines from a binary file; a line that is not UTF-8 is noted in ``bad_lines``, not fatal."""
    for number, raw in enumerate(fh, start=1):
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError:
            bad_lines.add(number)
            yield raw.decode("utf-8", errors="replace")


def _raw_rows(path: Path) -> Iterator[tuple[int, Any]]:
    """(line number, parsed row or the exception that says why the row is unusable)."""
    bad_lines: set[int] = set()
    with open(path, "rb") as fh:
        lines = _decoded_lines(fh, bad_lines)
        if path.suffix.lower() in _JSONL_SUFFIXES:
            for number, line in enumerate(lines, start=1):
                if number in bad_lines:
                    yield number, ValueError("not valid UTF-8")
                elif line.strip():
                    try:
                        yield number, json.loads(line)
                    except json.JSONDecodeError as exc:
                        yield number, ValueError(f"bad JSON ({exc.msg} at column {exc.colno})")
        else:
            reader = csv.DictReader(lines)
            previous = 1
            for row in reader:
                spanned = range(previous + 1, reader.line_num + 1)
                previous = reader.line_num
                if any(n in bad_lines for n in spanned):
                    yield reader.line_num, ValueError("not valid UTF-8")
                elif None in row:
                    yield reader.line_num, ValueError("more fields than the header has")
                else:
                    yield reader.line_num, row


def read_listings(path: Path, errors: list[str]) -> Iterator[dict[str, Any]]:
    """Valid listings from a JSONL or CSV file; each bad row appends a message to ``errors``."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in _JSONL_SUFFIXES | _CSV_SUFFIXES:
        raise ValueError(f"{path}: unsupported input type {suffix or '(none)'}; use .jsonl, .ndjson or .csv")
    for number, row in _raw_rows(path):
        try:
            if isinstance(row, Exception):
                raise row
            yield _listing(row)
        except ValueError as exc:
            errors.append(f"{path.name} line {number}: {exc}")


def _output_row(listing: dict[str, Any], result: Any) -> dict[str, Any]:
    return {
        "id": listing["id"],
        "score": f"{result.score:.6f}",
        "flagged": int(result.flagged),
        "species": result.species or "",
        "evidence": result.evidence_summary(),
        "model_version": result.model_version,
        "evidence_json": json.dumps([e.to_dict() for e in result.evidence], ensure_ascii=False),
        # The taxon named (classifier.taxa) and its protection, e.g. "China Class I, CITES Appendix I".
        "taxon": result.taxon.taxon.display if result.taxon else "",
        "protection": result.taxon.protection.label if result.taxon else "",
        # Why it reads as an offer, or why not, in one sentence (classifier.reading).
        "reading": result.reading,
    }


def classify_file(input_path: Path, output_path: Path, scorer: Scorer, *, batch_size: int = 512) -> ClassifyStats:
    """Score every valid row of ``input_path`` into ``output_path`` (written atomically)."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    input_path, output_path = Path(input_path), Path(output_path)
    if not input_path.is_file():
        raise FileNotFoundError(f"{input_path}: input file not found")
    stats = ClassifyStats()
    output_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=output_path.parent, prefix=f".{output_path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=OUTPUT_COLUMNS)
            writer.writeheader()
            batch: list[dict[str, Any]] = []

            def flush() -> None:
                for listing, result in zip(batch, scorer.score_many(batch)):
                    writer.writerow(_output_row(listing, result))
                    stats.scored += 1
                    stats.flagged += int(result.flagged)
                batch.clear()

            for listing in read_listings(input_path, stats.errors):
                stats.read += 1
                batch.append(listing)
                if len(batch) >= batch_size:
                    flush()
            if batch:
                flush()
        stats.read += len(stats.errors)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; the output is for people to open
        os.replace(tmp, output_path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return stats

"""Precision and recall of the handle extractor on a labelled JSONL file.

    python -m classifier.handles_eval FILE.jsonl [--errors N]

Each row: ``{"id": ..., "text": ..., "handles": [{"type": ..., "value": ..., "surface": ...}]}``.
A handle counts as found when its type and normalised value match a labelled one in the same
row (labelled values go through ``normalise_value`` first, so "+86 138-1234-5678" and
"+8613812345678" are one phone; the surface is the labeller's note and is not compared).
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from classifier.handles import HANDLE_TYPES, extract_handles, normalise_value

__all__ = ["Counts", "Report", "evaluate", "load_rows", "format_report", "main"]


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Report:
    rows: int = 0
    overall: Counts = field(default_factory=Counts)
    per_type: dict[str, Counts] = field(default_factory=dict)
    # (row id, type, value) of each miss and false alarm, for reading the errors.
    missed: list[tuple[str, str, str]] = field(default_factory=list)
    false_alarms: list[tuple[str, str, str]] = field(default_factory=list)


def load_rows(path: Path) -> list[dict]:
    """The labelled rows; a line that is not a JSON object with "text" and "handles" is an error."""
    rows = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{number}: not JSON ({exc.msg})") from None
            if not (
                isinstance(row, dict) and isinstance(row.get("text"), str) and isinstance(row.get("handles"), list)
            ):
                raise ValueError(f"{path}:{number}: a row needs a string 'text' and a list 'handles'")
            for labelled in row["handles"]:
                if not (
                    isinstance(labelled, dict) and labelled.get("type") in HANDLE_TYPES
                    and isinstance(labelled.get("value"), str)
                ):
                    raise ValueError(
                        f"{path}:{number}: each handle needs a 'type' in {HANDLE_TYPES} and a string 'value'"
                    )
            rows.append(row)
    return rows


def evaluate(rows: list[dict]) -> Report:
    """Match extracted against labelled handles per row, as sets of (type, normalised value)."""
    report = Report()
    per_type: dict[str, Counts] = {kind: Counts() for kind in HANDLE_TYPES}
    for index, row in enumerate(rows):
        row_id = str(row.get("id", index))
        gold = {(h["type"], normalise_value(h["type"], h["value"])) for h in row["handles"]}
        found = {(h.type, h.value) for h in extract_handles(row["text"])}
        for kind, _ in found & gold:
            per_type[kind].tp += 1
        for kind, value in sorted(found - gold):
            per_type[kind].fp += 1
            report.false_alarms.append((row_id, kind, value))
        for kind, value in sorted(gold - found):
            per_type[kind].fn += 1
            report.missed.append((row_id, kind, value))
        report.rows += 1
    report.per_type = {kind: counts for kind, counts in per_type.items() if counts.tp + counts.fp + counts.fn}
    total = Counter()
    for counts in per_type.values():
        total.update(tp=counts.tp, fp=counts.fp, fn=counts.fn)
    report.overall = Counts(total["tp"], total["fp"], total["fn"])
    return report


def format_report(report: Report, errors: int = 0) -> str:
    header = f"{'type':<10} {'precision':>9} {'recall':>7} {'f1':>6} {'tp':>5} {'fp':>5} {'fn':>5}"
    lines = [f"{report.rows} rows", header]

    def line(name: str, c: Counts) -> str:
        return f"{name:<10} {c.precision:>9.3f} {c.recall:>7.3f} {c.f1:>6.3f} {c.tp:>5} {c.fp:>5} {c.fn:>5}"

    lines.append(line("overall", report.overall))
    for kind, counts in report.per_type.items():
        lines.append(line(kind, counts))
    if errors:
        lines += ["", "missed:"] + [f"  {r}: {k} {v}" for r, k, v in report.missed[:errors]]
        lines += ["false alarms:"] + [f"  {r}: {k} {v}" for r, k, v in report.false_alarms[:errors]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m classifier.handles_eval", description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path, help="labelled JSONL: id, text, handles [{type, value, surface}]")
    parser.add_argument("--errors", type=int, default=0, metavar="N", help="also list up to N misses and false alarms")
    args = parser.parse_args(argv)
    try:
        rows = load_rows(args.file)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(format_report(evaluate(rows), args.errors))
    return 0


if __name__ == "__main__":
    sys.exit(main())

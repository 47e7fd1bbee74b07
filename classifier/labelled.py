"""Read the labelled training CSV (data/labelled/listings.csv) and split it reproducibly.

Bad rows are reported ("listings.csv line 17: label 'x' is not 0 or 1") and
skipped so one typo does not block a retrain; the report keeps every reason.
"""
from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

from wildwatch.errors import UserError

__all__ = ["LabelledRow", "LabelledDataError", "read_labelled", "read_training_sets", "extra_sets", "read_utf8",
           "is_test_id"]

REQUIRED_COLUMNS = ("id", "title", "label")
# plain/coded/hard_negative/ordinary as in the synthetic file; mention (news, advocacy, questions about
# the trade) and legal (documented legal trade) come with the independent writers' rows.
CATEGORIES = frozenset({"plain", "coded", "hard_negative", "ordinary", "mention", "legal"})


class LabelledDataError(UserError, ValueError):
    """The labelled file cannot be used at all (missing, no header, no usable rows)."""


@dataclass(frozen=True)
class LabelledRow:
    id: str
    title: str
    description: str
    label: int
    group: str
    category: str
    lang: str
    line: int
    source: str = ""
    price: float | None = None
    currency: str = ""

    def record(self) -> dict[str, object]:
        return {"title": self.title, "description": self.description, "price": self.price, "currency": self.currency}

    @property
    def pool(self) -> str:
        """The unit grouped cross-validation keeps together: the phrase pool of a synthetic row
        (``synthetic:v2:ivory.coded.cn_codes`` → ``ivory.coded.cn_codes``), else the row's own id."""
        if self.source.startswith("synthetic:"):
            return self.source.rsplit(":", 1)[-1]
        return self.id


def read_utf8(path: Path) -> str:
    """The file's text without a BOM; a byte that is not UTF-8 raises LabelledDataError naming its line."""
    data = Path(path).read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise LabelledDataError(f"{Path(path).name} line {line}: not UTF-8 ({exc.reason} at byte {exc.start})") \
            from None


def read_labelled(path: Path) -> tuple[list[LabelledRow], list[str]]:
    """(valid rows, problems).  Duplicate ids keep the first row: a split by id must be unambiguous."""
    path = Path(path)
    if not path.is_file():
        raise LabelledDataError(f"{path}: labelled data not found")
    with io.StringIO(read_utf8(path), newline="") as fh:
        reader = csv.DictReader(fh)
        header = [h.strip() for h in (reader.fieldnames or [])]
        missing = [c for c in REQUIRED_COLUMNS if c not in header]
        if missing:
            raise LabelledDataError(f"{path.name} line 1: missing column(s) {', '.join(missing)}")
        reader.fieldnames = header
        rows: list[LabelledRow] = []
        problems: list[str] = []
        seen: dict[str, int] = {}
        for raw in reader:
            line = reader.line_num
            where = f"{path.name} line {line}"
            if None in raw:
                problems.append(f"{where}: too many fields; quote values that contain commas")
                continue
            values = {k: (v or "").strip() for k, v in raw.items()}
            if not values.get("id"):
                problems.append(f"{where}: missing field 'id'")
                continue
            if not values.get("title"):
                problems.append(f"{where}: missing field 'title'")
                continue
            if values["label"] not in ("0", "1"):
                problems.append(f"{where}: field 'label' is {values['label']!r}, not 0 or 1")
                continue
            if values["id"] in seen:
                problems.append(f"{where}: duplicate id {values['id']!r} (first on line {seen[values['id']]})")
                continue
            category = values.get("category", "")
            if category and category not in CATEGORIES:
                problems.append(f"{where}: field 'category' is {category!r} (kept; expected one of {sorted(CATEGORIES)})")
            price: float | None = None
            if values.get("price"):
                try:
                    price = float(values["price"])
                except ValueError:
                    problems.append(f"{where}: field 'price' is {values['price']!r}, not a number (kept without price)")
            seen[values["id"]] = line
            rows.append(
                LabelledRow(
                    id=values["id"],
                    title=values["title"],
                    description=values.get("description", ""),
                    label=int(values["label"]),
                    group=values.get("group", ""),
                    category=category,
                    lang=values.get("lang", ""),
                    line=line,
                    source=values.get("source", ""),
                    price=price,
                    currency=values.get("currency", ""),
                )
            )
    if not rows:
        raise LabelledDataError(f"{path}: no usable rows ({len(problems)} problem(s))")
    return rows, problems


def extra_sets(labelled_csv: Path) -> list[Path]:
    """The extra training files beside the main one: ``<dir>/extra/*.csv``, in name order.

    The synthetic file teaches the lexicon's phrasing; the extras add text nobody on the
    project wrote with the lexicon in view (independent writers, real reviews), see
    data/labelled/README.md.
    """
    folder = Path(labelled_csv).parent / "extra"
    return sorted(folder.glob("*.csv")) if folder.is_dir() else []


def read_training_sets(paths: list[Path]) -> tuple[list[LabelledRow], list[str]]:
    """Rows of several labelled files; an id seen in an earlier file wins (reported)."""
    rows: list[LabelledRow] = []
    problems: list[str] = []
    seen: set[str] = set()
    for path in paths:
        file_rows, file_problems = read_labelled(path)
        problems += file_problems
        for row in file_rows:
            if row.id in seen:
                problems.append(f"{Path(path).name} line {row.line}: id {row.id!r} already read from an earlier file")
                continue
            seen.add(row.id)
            rows.append(row)
    return rows, problems


def is_test_id(listing_id: str, *, test_fraction: float = 0.2, seed: int = 0) -> bool:
    """Stable hash split: a listing stays on its side whatever else is added to the file."""
    digest = hashlib.sha256(f"{seed}:{listing_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < test_fraction

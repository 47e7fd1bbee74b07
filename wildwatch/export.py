"""Write listing frames to the files analysts and partners open: CSV, Excel, Parquet.

Listing text is written by sellers, so it is untrusted: in CSV and XLSX a cell
that starts with = + - @ (or a tab or carriage return) would run as a formula
when opened in a spreadsheet, so it gets a leading apostrophe (the OWASP
"CSV injection" advice). Parquet is read by programs, not spreadsheets, and
keeps the text exactly. Files appear atomically: a reader never sees half a
file, and a failed export leaves any previous file in place.
"""
from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pandas as pd
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from sqlalchemy.engine import Engine

from store.queries import listings_frame

FORMATS = ("csv", "xlsx", "parquet")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
XLSX_MAX_ROWS = 1_048_576 - 1  # one row for the header
XLSX_MAX_CELL_CHARS = 32_767


def resolve_format(output: Path, fmt: str | None) -> str:
    """The export format: `fmt` if given, else the file suffix; ValueError names a bad one."""
    chosen = fmt if fmt is not None else output.suffix.lstrip(".")
    normalised = chosen.strip().lower()
    if normalised not in FORMATS:
        source = f"format {fmt!r}" if fmt is not None else f"file suffix {output.suffix!r} of {str(output)!r}"
        raise ValueError(f"unsupported export {source}: choose one of {', '.join(FORMATS)}")
    return normalised


# Spreadsheets skip leading spaces, and control or zero-width characters may be dropped on the way
# (openpyxl removes control characters), so " =cmd" and "\x01=cmd" are formulas too.
_LEADING_IGNORABLE_RE = re.compile(r"^[\s\x00-\x1f\x7f\u200b-\u200f\u2060\ufeff]+")


def neutralise_formula(value: object) -> object:
    """Text a spreadsheet would run as a formula, prefixed with an apostrophe; other values unchanged.

    Looks past leading whitespace, control and zero-width characters (a tab or CR at the very start
    counts as a formula prefix itself, as OWASP advises).
    """
    if isinstance(value, str) and (value.startswith(FORMULA_PREFIXES)
                                   or _LEADING_IGNORABLE_RE.sub("", value).startswith(FORMULA_PREFIXES)):
        return "'" + value
    return value


def _text_columns(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns if pd.api.types.is_object_dtype(df[c]) or pd.api.types.is_string_dtype(df[c])]


def _for_spreadsheet(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for column in _text_columns(out):
        out[column] = out[column].map(neutralise_formula, na_action="ignore")
    return out


def _excel_safe(value: object) -> object:
    # openpyxl refuses control characters, and Excel truncates longer cells with a repair warning.
    # Control characters go before the formula check: "\x01=cmd" must not become "=cmd".
    if not isinstance(value, str):
        return value
    text = neutralise_formula(ILLEGAL_CHARACTERS_RE.sub("", value))
    if len(text) > XLSX_MAX_CELL_CHARS:
        text = text[: XLSX_MAX_CELL_CHARS - 1] + "…"
    return text


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    # utf-8-sig: the BOM makes Excel read Chinese text as UTF-8 instead of the local code page.
    # CRLF rows (RFC 4180) also make the writer quote fields holding a bare CR,
    # which sellers' descriptions do contain; with "\n" such a row would split.
    _for_spreadsheet(df).to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\r\n")


def _write_xlsx(df: pd.DataFrame, path: Path) -> None:
    if len(df) > XLSX_MAX_ROWS:
        raise ValueError(f"{len(df)} rows do not fit in one Excel sheet (limit {XLSX_MAX_ROWS}); export CSV or Parquet")
    out = df.copy()
    for column in _text_columns(out):
        out[column] = out[column].map(_excel_safe, na_action="ignore")
    for column in out.columns:
        # Excel has no time zones: write UTC wall-clock times (the header says so).
        if isinstance(out[column].dtype, pd.DatetimeTZDtype):
            out[column] = out[column].dt.tz_convert("UTC").dt.tz_localize(None)
            out = out.rename(columns={column: f"{column}_utc"})
    out.to_excel(path, index=False, engine="openpyxl", sheet_name="listings")


def _write_parquet(df: pd.DataFrame, path: Path) -> None:
    df.to_parquet(path, index=False, engine="pyarrow")


_WRITERS: dict[str, Callable[[pd.DataFrame, Path], None]] = {
    "csv": _write_csv,
    "xlsx": _write_xlsx,
    "parquet": _write_parquet,
}


def export_frame(df: pd.DataFrame, output: Path, fmt: str | None = None) -> Path:
    """Write `df` to `output` as csv, xlsx or parquet (from the suffix when fmt is None).

    Creates missing parent directories and replaces `output` atomically. XLSX
    time columns become naive UTC and are renamed `<name>_utc`.
    """
    output = Path(output)
    chosen = resolve_format(output, fmt)
    output.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".tmp", dir=output.parent)
    os.close(handle)
    temp = Path(temp_name)
    try:
        _WRITERS[chosen](df, temp)
        with temp.open("rb+") as written:
            os.fsync(written.fileno())
        temp.chmod(0o644)
        os.replace(temp, output)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return output


def export_listings(
    engine: Engine,
    output: Path,
    fmt: str | None = None,
    *,
    flagged_only: bool = True,
    since: datetime | None = None,
    min_score: float | None = None,
    marketplace: str | None = None,
    run_ids: list[int] | None = None,
) -> tuple[Path, int]:
    """Export listings with their latest score (see store.queries.listings_frame); returns (path, rows)."""
    output = Path(output)
    resolve_format(output, fmt)  # fail on a bad format before querying
    frame = listings_frame(
        engine, flagged_only=flagged_only, since=since, min_score=min_score, marketplace=marketplace, run_ids=run_ids
    )
    return export_frame(frame, output, fmt), len(frame)

"""Write listing frames to the files analysts and partners open: CSV, Excel, Parquet.

Listing text is written by sellers, so it is untrusted: in CSV and XLSX a cell
that starts with = + - @ (or a tab or carriage return) would run as a formula
when opened in a spreadsheet, so it gets a leading apostrophe (the OWASP
"CSV injection" advice). Parquet is read by programs, not spreadsheets, and
keeps the text exactly. Files appear atomically: a reader never sees half a
file, and a failed export leaves any previous file in place.
"""
from __future__ import annotations

import json
import os
import tempfile
import unicodedata
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pandas as pd
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from sqlalchemy.engine import Engine

from store.queries import listings_frame

FORMATS = ("csv", "xlsx", "parquet")
# ASCII, full-width (＝＋－＠) and small-form (﹦﹢﹣﹫) spellings: spreadsheets fold them to the ASCII sign.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20",
                    "\ufe66", "\ufe62", "\ufe63", "\ufe6b")
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


# Spreadsheets skip leading spaces, and control, format or invisible characters may be dropped on
# the way (openpyxl removes control characters), so " =cmd", "\x01=cmd", "\u202e=cmd" (a bidi override)
# and "\u034f=cmd" are formulas too. Invisible but not Cc/Cf: the combining grapheme joiner, Hangul and
# Khmer fillers, Mongolian variation selectors, braille blank, variation selectors.
_INVISIBLE = set("\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180e\u180f\u3164\uffa0\u2800") | {
    chr(c) for c in range(0xFE00, 0xFE10)}


def _ignorable(ch: str) -> bool:
    return ch.isspace() or ch in _INVISIBLE or unicodedata.category(ch) in ("Cc", "Cf", "Zs", "Zl", "Zp")


def _without_leading_ignorable(value: str) -> str:
    start = 0
    while start < len(value) and _ignorable(value[start]):
        start += 1
    return value[start:]


def neutralise_formula(value: object) -> object:
    """Text a spreadsheet would run as a formula, prefixed with an apostrophe; other values unchanged.

    Looks past leading whitespace, control, format (soft hyphen, bidi controls, U+061C, zero-width)
    and other invisible characters; full-width signs count (a tab or CR at the very start counts as a
    formula prefix itself, as OWASP advises).
    """
    if isinstance(value, str) and (value.startswith(FORMULA_PREFIXES)
                                   or _without_leading_ignorable(value).startswith(FORMULA_PREFIXES)):
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
        temp.chmod(0o600)  # exports carry seller names and analyst notes: owner only
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
    pseudonym_key: bytes | None = None,
    reveal_handles: bool = False,
) -> tuple[Path, int]:
    """Export listings with their latest score (see store.queries.listings_frame); returns (path, rows).

    Contact handles in the text columns are pseudonymised (wildwatch.pseudonym) with `pseudonym_key`
    (the CLI passes the data dir's key); `reveal_handles=True` (a lead's export, checked by the caller) keeps them.
    """
    output = Path(output)
    resolve_format(output, fmt)  # fail on a bad format before querying
    frame = listings_frame(
        engine, flagged_only=flagged_only, since=since, min_score=min_score, marketplace=marketplace, run_ids=run_ids
    )
    frame = with_reading(frame)
    key = _key_for(pseudonym_key, reveal_handles)
    if key is not None:
        frame = pseudonymise_frame(frame, key)
    return export_frame(frame, output, fmt), len(frame)


def with_reading(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with a `reading` column after `evidence`: why each listing reads as an offer or not, in one
    sentence (classifier.reading), from its stored evidence and flag; empty for a listing never scored."""
    from classifier.reading import offer_reading

    if "evidence_json" not in frame.columns or "reading" in frame.columns:
        return frame
    readings = []
    for evidence, flagged in zip(frame["evidence_json"].tolist(), frame["flagged"].tolist()):
        if evidence is None or (isinstance(evidence, float) and evidence != evidence) or pd.isna(flagged):
            readings.append(None)
            continue
        readings.append(offer_reading(json.loads(evidence) if isinstance(evidence, str) else evidence, bool(flagged)))
    out = frame.copy()
    out.insert(out.columns.get_loc("evidence") + 1, "reading", pd.Series(readings, index=out.index, dtype="string"))
    return out


#: Listing columns that may hold a seller's contact handles.
HANDLE_COLUMNS = ("title", "description", "seller_name", "location", "price_text")


def _key_for(pseudonym_key: bytes | None, reveal_handles: bool) -> bytes | None:
    """The key handles are pseudonymised with; the caller supplies it (the CLI reads it from the settings)."""
    if reveal_handles:
        return None
    if not pseudonym_key:
        raise ValueError("pseudonym_key is required unless reveal_handles is set (wildwatch.pseudonym.pseudonym_key)")
    return pseudonym_key


def pseudonymise_frame(frame: pd.DataFrame, key: bytes, columns: tuple[str, ...] = HANDLE_COLUMNS) -> pd.DataFrame:
    """A copy of `frame` with every contact handle in `columns` replaced by [type:pseudonym]."""
    from wildwatch.pseudonym import pseudonymise_text

    out = frame.copy()
    for column in columns:
        if column in out.columns:
            out[column] = out[column].map(lambda value: pseudonymise_text(value, key), na_action="ignore")
    return out


def export_sellers(engine: Engine, output: Path, fmt: str | None = None, *, all_networks: bool = False,
                   min_risk: float | None = None, marketplace: str | None = None, since: datetime | None = None,
                   pseudonym_key: bytes | None = None, reveal_handles: bool = False) -> tuple[Path, int]:
    """Export the seller networks, one row per account (see wildwatch.seller_export.sellers_frame); returns (path, rows).

    Handles (link keys, each account's handles, and any in seller names) are pseudonymised unless
    `reveal_handles` (a lead's export, checked by the caller).
    """
    from wildwatch.seller_export import sellers_frame

    output = Path(output)
    resolve_format(output, fmt)
    key = _key_for(pseudonym_key, reveal_handles)
    frame = sellers_frame(engine, key, all_networks=all_networks, min_risk=min_risk, marketplace=marketplace,
                          since=since)
    return export_frame(frame, output, fmt), len(frame)

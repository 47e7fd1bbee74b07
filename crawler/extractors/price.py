"""Prices as sellers write them: ¥1,280 / 1280元 / RMB 1280.00 / US$45 / €12,50 / 价格面议."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Longest markers first so "US$" wins over "$" and "RMB" over "RM".
_CURRENCY_MARKERS: tuple[tuple[str, str], ...] = (
    ("US$", "USD"), ("USD", "USD"), ("HK$", "HKD"), ("HKD", "HKD"), ("NT$", "TWD"), ("TWD", "TWD"),
    ("NTD", "TWD"), ("S$", "SGD"), ("SGD", "SGD"), ("AU$", "AUD"), ("A$", "AUD"), ("AUD", "AUD"),
    ("CA$", "CAD"), ("C$", "CAD"), ("CAD", "CAD"), ("CN¥", "CNY"), ("RMB", "CNY"), ("CNY", "CNY"),
    ("人民币", "CNY"), ("元", "CNY"), ("块", "CNY"), ("JP¥", "JPY"), ("JPY", "JPY"), ("円", "JPY"),
    ("EUR", "EUR"), ("€", "EUR"), ("GBP", "GBP"), ("£", "GBP"), ("RM", "MYR"), ("MYR", "MYR"),
    ("₫", "VND"), ("VND", "VND"), ("฿", "THB"), ("THB", "THB"), ("₹", "INR"), ("INR", "INR"),
    ("港币", "HKD"), ("美元", "USD"), ("台币", "TWD"), ("欧元", "EUR"), ("英镑", "GBP"),
)
_DOLLAR_CURRENCIES = {"USD", "HKD", "TWD", "SGD", "AUD", "CAD"}
_YEN_SIGNS = ("¥", "￥")
_NUMBER_RE = re.compile(r"\d[\d,.\s]*\d|\d")
_MULTIPLIERS = {"万": 10_000, "千": 1_000, "k": 1_000, "K": 1_000}


@dataclass(frozen=True)
class Price:
    amount: float | None
    currency: str | None


def parse_price(text: str | None, default_currency: str | None = None) -> Price:
    """Amount and ISO currency from a price text; (None, None) when there is no number.

    A bare "$" is US dollars unless the site's default currency is another dollar;
    a bare "¥" is yuan unless the site says yen. The first number wins in ranges.
    """
    if not text:
        return Price(None, None)
    folded = unicodedata.normalize("NFKC", str(text)).strip()
    match = _NUMBER_RE.search(folded)
    if not match:
        return Price(None, None)
    amount = _to_number(match.group(0).replace(" ", "").replace("\u00a0", ""))
    if amount is None:
        return Price(None, None)
    tail = folded[match.end():match.end() + 2].strip()
    if tail[:1] in _MULTIPLIERS:
        amount *= _MULTIPLIERS[tail[:1]]
    return Price(round(amount, 2), _currency(folded, default_currency))


def _currency(text: str, default_currency: str | None) -> str | None:
    upper = text.upper()
    for marker, code in _CURRENCY_MARKERS:
        if marker.isascii() and marker.isalpha():
            # Letter codes must stand alone: "RM" is not the start of "RMB" or "FORM".
            if re.search(rf"(?<![A-Z]){marker}(?![A-Z])", upper):
                return code
        elif marker in text:
            return code
    if any(sign in text for sign in _YEN_SIGNS):
        return "JPY" if default_currency == "JPY" else "CNY"
    if "$" in text:
        return default_currency if default_currency in _DOLLAR_CURRENCIES else "USD"
    return default_currency


def _to_number(raw: str) -> float | None:
    raw = raw.strip(",.")
    if not raw:
        return None
    commas, dots = raw.count(","), raw.count(".")
    if commas and dots:
        # Whichever separator comes last is the decimal mark: 1,280.50 or 1.280,50.
        if raw.rfind(",") > raw.rfind("."):
            raw = raw.replace(".", "").replace(",", ".")
        else:
            raw = raw.replace(",", "")
    elif commas:
        head, _, last = raw.rpartition(",")
        raw = f"{head.replace(',', '')}.{last}" if commas == 1 and len(last) in (1, 2) else raw.replace(",", "")
    elif dots > 1 or (dots == 1 and len(raw.rpartition(".")[2]) == 3 and len(raw) > 4 and raw[0] != "0"):
        raw = raw.replace(".", "")  # 1.280.000 or 12.500 as thousands
    try:
        return float(raw)
    except ValueError:
        return None

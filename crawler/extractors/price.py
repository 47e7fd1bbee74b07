"""Prices as sellers write them: ¥1,280 / 1280元 / RMB 1280.00 / US$45 / €12,50 / 1 299 Kč / R$ 89,90 /
CHF 1'299.– / 24.990 CLP / 30,000원 / 价格面议.

Measured against price-parser 0.5 on the Zyte benchmark pages (`wildwatch bench --only extraction`):
the separators are read by currency as well as by shape (dot-thousands in pesos, three decimals in
dinars), and a "K" is thousands only when it is not the start of a currency (kr, Kč, Kn).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Longest markers first so "US$" wins over "$", "R$" over "$" and "RMB" over "RM".
_CURRENCY_MARKERS: tuple[tuple[str, str], ...] = (
    ("US$", "USD"), ("USD", "USD"), ("HK$", "HKD"), ("HKD", "HKD"), ("NT$", "TWD"), ("TWD", "TWD"),
    ("NTD", "TWD"), ("S$", "SGD"), ("SGD", "SGD"), ("AU$", "AUD"), ("A$", "AUD"), ("AUD", "AUD"),
    ("CA$", "CAD"), ("C$", "CAD"), ("CAD", "CAD"), ("MX$", "MXN"), ("MXN", "MXN"), ("R$", "BRL"), ("BRL", "BRL"),
    ("CLP", "CLP"), ("ARS", "ARS"), ("COP", "COP"), ("PEN", "PEN"), ("S/", "PEN"),
    ("CN¥", "CNY"), ("RMB", "CNY"), ("CNY", "CNY"), ("人民币", "CNY"), ("块", "CNY"), ("JP¥", "JPY"),
    ("JPY", "JPY"), ("円", "JPY"), ("₩", "KRW"), ("원", "KRW"), ("KRW", "KRW"),
    ("EUR", "EUR"), ("€", "EUR"), ("GBP", "GBP"), ("£", "GBP"), ("CHF", "CHF"), ("Fr.", "CHF"),
    ("RM", "MYR"), ("MYR", "MYR"), ("₫", "VND"), ("VND", "VND"), ("฿", "THB"), ("THB", "THB"),
    ("₹", "INR"), ("INR", "INR"), ("PKR", "PKR"), ("₨", "PKR"),
    ("Kč", "CZK"), ("CZK", "CZK"), ("zł", "PLN"), ("PLN", "PLN"), ("Ft", "HUF"), ("HUF", "HUF"),
    ("kn", "HRK"), ("Kn", "HRK"), ("HRK", "HRK"), ("lei", "RON"), ("RON", "RON"), ("лв", "BGN"), ("BGN", "BGN"),
    ("₽", "RUB"), ("руб", "RUB"), ("RUB", "RUB"), ("₴", "UAH"), ("грн", "UAH"), ("UAH", "UAH"),
    ("₸", "KZT"), ("тг", "KZT"), ("KZT", "KZT"), ("₺", "TRY"), ("TRY", "TRY"), ("TL", "TRY"),
    ("₪", "ILS"), ("ש״ח", "ILS"), ("ILS", "ILS"), ("AED", "AED"), ("د.إ", "AED"), ("SAR", "SAR"),
    ("ر.س", "SAR"), ("SEK", "SEK"), ("NOK", "NOK"), ("DKK", "DKK"), ("ISK", "ISK"), ("ZAR", "ZAR"), ("KWD", "KWD"), ("BHD", "BHD"), ("OMR", "OMR"), ("JOD", "JOD"), ("TND", "TND"),
    ("PHP", "PHP"), ("₱", "PHP"), ("IDR", "IDR"), ("Rp", "IDR"), ("NZD", "NZD"), ("NZ$", "NZD"),
    ("港币", "HKD"), ("美元", "USD"), ("台币", "TWD"), ("新台幣", "TWD"), ("欧元", "EUR"), ("英镑", "GBP"),
)
# Signs shared by several currencies: the site's own currency decides, else the commonest one.
_DOLLAR_CURRENCIES = {"USD", "HKD", "TWD", "SGD", "AUD", "CAD", "MXN", "CLP", "ARS", "COP", "NZD"}
_KRONA_CURRENCIES = {"SEK", "NOK", "DKK", "ISK"}
_YUAN_CURRENCIES = {"CNY", "TWD", "HKD"}
# Currencies with no minor unit (24.990 is twenty-four thousand) and with three decimals (1.250 is one and a quarter).
_ZERO_DECIMALS = {"CLP", "COP", "ISK", "JPY", "KRW", "VND", "IDR", "PYG", "UGX", "HUF", "KZT", "TWD"}
_THREE_DECIMALS = {"BHD", "KWD", "OMR", "JOD", "TND", "IQD", "LYD"}

_GROUPED = r"\d{1,3}(?:[ \u00a0\u2009\u202f'’]\d{3})+(?:[.,]\d{1,2}(?!\d))?"
_NUMBER_RE = re.compile(rf"{_GROUPED}(?![\d.,])|\d[\d,.]*\d|\d")
_MULTIPLIERS = {"万": 10_000, "萬": 10_000, "千": 1_000, "k": 1_000, "K": 1_000}


@dataclass(frozen=True)
class Price:
    amount: float | None
    currency: str | None


def parse_price(text: str | None, default_currency: str | None = None) -> Price:
    """Amount and ISO currency from a price text; (None, None) when there is no number.

    A bare "$" is US dollars unless the site's default currency is another dollar (or peso);
    a bare "¥" is yuan unless the site says yen; "kr" is the site's krona. The number next to a
    currency marker wins ("2 for $45" is 45), else the first number (ranges give their low end).
    """
    if not text:
        return Price(None, None)
    folded = unicodedata.normalize("NFKC", str(text)).strip()
    currency = _currency(folded, default_currency)
    numbers = list(_NUMBER_RE.finditer(folded))
    if not numbers:
        return Price(None, None)
    match = next((m for m in numbers if _beside_marker(folded, m)), numbers[0])
    raw = re.sub(r"[ \u00a0\u2009\u202f'’]", "", match.group(0))
    amount = _to_number(raw, currency)
    if amount is None:
        return Price(None, None)
    tail = folded[match.end():match.end() + 3].lstrip()
    if tail[:1] in _MULTIPLIERS and not (tail[:1] in "kK" and tail[1:2].isalpha()):
        amount *= _MULTIPLIERS[tail[:1]]  # 1.2万, 5k; not 199 kr, 1 299 Kč, 270,00 Kn
    return Price(round(amount, 2), currency)


def currency_of(text: str) -> str | None:
    """The currency a text names (a sign, a code or a word), or None."""
    return _currency(unicodedata.normalize("NFKC", text), None) if text else None


def _beside_marker(text: str, match: re.Match) -> bool:
    before = text[max(0, match.start() - 4):match.start()].rstrip()
    after = text[match.end():match.end() + 4].lstrip()
    return bool(before and not before[-1].isdigit() and _marker_at(before, end=True)) or \
        bool(after and _marker_at(after, end=False))


def _marker_at(text: str, end: bool) -> bool:
    for marker, _code in _CURRENCY_MARKERS:
        if (text.endswith(marker) if end else text.startswith(marker)):
            return True
    return (text[-1] if end else text[0]) in "$¥元"


# Letter codes must stand alone ("RM" is not the start of "RMB" or "FORM", "TL" not of "TOTAL"); three-letter
# codes are matched in any case ("usd 45"), the others as written ("5 ft" is not forints). One regex each, and
# the marker listed first wins, as if they were tried in order.
_ORDER = {marker: i for i, (marker, _) in enumerate(_CURRENCY_MARKERS)}
_CODES = dict(_CURRENCY_MARKERS)
_ISO = [m for m, _ in _CURRENCY_MARKERS if m.isascii() and m.isalpha() and m.isupper() and len(m) == 3]
_WORDS = [m for m, _ in _CURRENCY_MARKERS if m.isascii() and m.isalpha() and m not in _ISO]
_SIGNS = [m for m, _ in _CURRENCY_MARKERS if not (m.isascii() and m.isalpha())]
_ISO_RE = re.compile(rf"(?<![A-Z])({'|'.join(_ISO)})(?![A-Z])")
_WORD_RE = re.compile(rf"(?<![A-Za-z])({'|'.join(_WORDS)})(?![A-Za-z])")


def _currency(text: str, default_currency: str | None) -> str | None:
    default = default_currency.upper() if isinstance(default_currency, str) and default_currency.strip() else None
    found = [m for m in _SIGNS if m in text]
    found += _ISO_RE.findall(text.upper()) + _WORD_RE.findall(text)
    if found:
        return _CODES[min(found, key=_ORDER.__getitem__)]
    if re.search(r"(?<![A-Za-z])kr\.?(?![A-Za-z])", text, re.I):
        return default if default in _KRONA_CURRENCIES else "SEK"
    if "元" in text:
        return default if default in _YUAN_CURRENCIES else "CNY"
    if "¥" in text:
        return "JPY" if default == "JPY" else "CNY"
    if "$" in text:
        return default if default in _DOLLAR_CURRENCIES else "USD"
    if re.search(r"(?<![A-Za-z])Rs\.?(?![A-Za-z])", text):
        return default if default in {"PKR", "INR", "LKR", "NPR"} else "INR"
    return default


def _to_number(raw: str, currency: str | None = None) -> float | None:
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
    elif commas or dots:
        mark = "," if commas else "."
        head, _, last = raw.rpartition(mark)
        single = raw.count(mark) == 1
        if single and len(last) in (1, 2):
            raw = f"{head}.{last}"  # 12,50 / 12.5
        elif single and len(last) == 3 and (currency in _THREE_DECIMALS or head == "0"):
            raw = f"{head}.{last}"  # 1.250 dinars, 0.500
        else:
            raw = raw.replace(mark, "")  # 1,280 / 24.990 / 1.280.000
    try:
        return float(raw)
    except ValueError:
        return None

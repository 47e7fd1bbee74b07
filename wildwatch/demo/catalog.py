"""The Demo Bazaar's content: one validated record per line of listings.jsonl.

The catalog is the single source both the demo web shop and the tests read, so a
malformed line must fail loudly with the file, line and field that are wrong,
instead of silently producing a shop that differs from what the tests expect.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable

from wildwatch.errors import UserError

log = logging.getLogger(__name__)

STYLES = ("jsonld", "html", "js")
LANGS = ("zh", "zh-Hant", "en", "mixed")
KINDS = ("ordinary", "wildlife", "coded", "hard_negative")
CURRENCIES = ("CNY", "USD", "HKD", "EUR", "GBP", "TWD")
GROUPS = (
    "ivory", "rhino_horn", "pangolin", "tiger", "big_cats", "hawksbill", "hornbill",
    "bear_bile", "saiga", "totoaba", "shark_fin", "sea_turtle", "primates", "parrots",
    "tortoises", "reptiles", "songbirds", "coral", "musk", "other",
)

# Display names for the shop's categories (slug -> (Chinese, English)).
CATEGORY_NAMES: dict[str, tuple[str, str]] = {
    "phones": ("手机数码", "Phones & Electronics"),
    "clothing": ("服饰鞋包", "Clothing & Accessories"),
    "tea": ("茶叶茗茶", "Tea"),
    "books": ("图书音像", "Books & Media"),
    "furniture": ("家具家居", "Furniture & Home"),
    "toys": ("玩具模型", "Toys & Models"),
    "jewelry": ("珠宝首饰", "Jewellery"),
    "antiques": ("古玩收藏", "Antiques & Collectibles"),
    "crafts": ("文玩雕刻", "Crafts & Carvings"),
    "health": ("滋补养生", "Health & Traditional Remedies"),
    "pets": ("宠物花鸟", "Pets & Live Animals"),
    "food": ("食品干货", "Food & Dried Goods"),
    "beauty": ("美妆个护", "Beauty & Personal Care"),
    "art": ("字画艺术", "Art & Prints"),
    "stamps": ("邮票钱币", "Stamps & Coins"),
    "services": ("商务服务", "Business Services"),
}

ID_RE = re.compile(r"^DB-\d{4}$")
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
SELLER_RE = re.compile(r"^[A-Za-z0-9_-]+$")
IMAGE_RE = re.compile(r"^/img/[A-Za-z0-9._-]+\.(png|jpg|jpeg|gif|webp)$")


class CatalogError(UserError, ValueError):
    """Bad catalog content; `problems` holds one "file:line: field: message" per fault."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        shown = "\n".join(self.problems[:20])
        more = f"\n... and {len(self.problems) - 20} more" if len(self.problems) > 20 else ""
        super().__init__(f"{len(self.problems)} problem(s) in the demo catalog:\n{shown}{more}")


@dataclass(frozen=True)
class DemoListing:
    """One listing of the demo shop, with its ground truth (kind, label, group).

    `first_night`/`last_night` say on which nightly runs the listing is online,
    so the crawler can be tested against listings that appear and disappear.
    """

    id: str
    title: str
    description: str
    price_text: str
    price: float | None
    currency: str | None
    category: str
    seller_id: str
    seller_name: str
    location: str
    posted: str
    images: tuple[str, ...]
    style: str
    lang: str
    kind: str
    label: int
    group: str | None
    first_night: int = 1
    last_night: int | None = None

    def is_live(self, night: int) -> bool:
        """Whether the shop shows this listing on the given night (nights count from 1)."""
        return self.first_night <= night and (self.last_night is None or night <= self.last_night)

    @property
    def detail_path(self) -> str:
        """The one URL path of this listing's detail page (JS-rendered listings live under /app)."""
        return f"/app/item/{self.id}" if self.style == "js" else f"/item/{self.id}"

    def to_dict(self) -> dict[str, Any]:
        record = asdict(self)
        record["images"] = list(self.images)
        return record


# Field name -> (accepted types, required). bool is excluded from numbers explicitly below.
_FIELDS: dict[str, tuple[tuple[type, ...], bool]] = {
    "id": ((str,), True),
    "title": ((str,), True),
    "description": ((str,), True),
    "price_text": ((str,), True),
    "price": ((int, float, type(None)), True),
    "currency": ((str, type(None)), True),
    "category": ((str,), True),
    "seller_id": ((str,), True),
    "seller_name": ((str,), True),
    "location": ((str,), True),
    "posted": ((str,), True),
    "images": ((list,), True),
    "style": ((str,), True),
    "lang": ((str,), True),
    "kind": ((str,), True),
    "label": ((int,), True),
    "group": ((str, type(None)), True),
    "first_night": ((int,), False),
    "last_night": ((int, type(None)), False),
}


def _check_record(record: dict[str, Any]) -> list[tuple[str, str]]:
    """Every (field, message) wrong with one decoded line; empty when the line is valid."""
    faults: list[tuple[str, str]] = []
    for name in sorted(set(record) - set(_FIELDS)):
        faults.append((name, "unknown field"))
    for name, (types, required) in _FIELDS.items():
        if name not in record:
            if required:
                faults.append((name, "missing"))
            continue
        value = record[name]
        if isinstance(value, bool) or not isinstance(value, types):
            faults.append((name, f"has type {type(value).__name__}, expected "
                                 + " or ".join("null" if t is type(None) else t.__name__ for t in types)))
    if faults:
        return faults  # value checks below assume the types are right

    def bad(name: str, message: str) -> None:
        faults.append((name, message))

    if not ID_RE.match(record["id"]):
        bad("id", f"{record['id']!r} does not look like DB-0001")
    for name in ("title", "description", "price_text", "seller_name", "location"):
        if not record[name].strip():
            bad(name, "is empty")
    if not SLUG_RE.match(record["category"]):
        bad("category", f"{record['category']!r} is not a lowercase slug")
    if not SELLER_RE.match(record["seller_id"]):
        bad("seller_id", f"{record['seller_id']!r} may only hold letters, digits, '_' and '-'")
    try:
        dt.date.fromisoformat(record["posted"])
    except ValueError:
        bad("posted", f"{record['posted']!r} is not an ISO date (YYYY-MM-DD)")
    if not record["images"]:
        bad("images", "needs at least one image path")
    for image in record["images"]:
        if not isinstance(image, str) or not IMAGE_RE.match(image):
            bad("images", f"{image!r} is not a path like /img/DB-0001-1.png")
    for name, allowed in (("style", STYLES), ("lang", LANGS), ("kind", KINDS)):
        if record[name] not in allowed:
            bad(name, f"{record[name]!r} is not one of {', '.join(allowed)}")
    if record["label"] not in (0, 1):
        bad("label", f"{record['label']!r} must be 0 or 1")
    price, currency = record["price"], record["currency"]
    if price is not None and (price < 0 or price != price):
        bad("price", f"{price!r} must be a non-negative number or null")
    if currency is not None and currency not in CURRENCIES:
        bad("currency", f"{currency!r} is not one of {', '.join(CURRENCIES)}")
    if (price is None) != (currency is None):
        bad("currency", "price and currency must both be set or both be null")
    group = record["group"]
    if group is not None and group not in GROUPS:
        bad("group", f"{group!r} is not a known group")
    if record["label"] == 1 and group is None:
        bad("group", "a suspicious listing (label 1) needs a group")
    if record["kind"] in ("wildlife", "coded") and record["label"] != 1:
        bad("label", f"kind {record['kind']!r} listings are suspicious and need label 1")
    if record["kind"] in ("ordinary", "hard_negative") and record["label"] != 0:
        bad("label", f"kind {record['kind']!r} listings need label 0")
    if record["kind"] == "ordinary" and group is not None:
        bad("group", "ordinary listings have no group")
    first = record.get("first_night", 1)
    last = record.get("last_night")
    if first < 1:
        bad("first_night", f"{first} must be 1 or more")
    if last is not None and last < first:
        bad("last_night", f"{last} is before first_night {first}")
    return faults


def _to_listing(record: dict[str, Any]) -> DemoListing:
    values = dict(record)
    values["images"] = tuple(values["images"])
    if isinstance(values["price"], int):
        values["price"] = float(values["price"])
    return DemoListing(**values)


def parse_lines(lines: Iterable[str], source: str = "<catalog>") -> tuple[list[DemoListing], list[str]]:
    """Valid listings and the problems of the invalid lines, without raising.

    Blank lines are allowed; ids must be unique across the file.
    """
    listings: list[DemoListing] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{source}:{number}: <line>: not valid JSON ({exc.msg} at column {exc.colno})")
            continue
        if not isinstance(record, dict):
            problems.append(f"{source}:{number}: <line>: expected a JSON object, got {type(record).__name__}")
            continue
        faults = _check_record(record)
        if not faults and record["id"] in seen:
            faults.append(("id", f"{record['id']} already used on line {seen[record['id']]}"))
        if faults:
            problems.extend(f"{source}:{number}: {name}: {message}" for name, message in faults)
            continue
        seen[record["id"]] = number
        listings.append(_to_listing(record))
    return listings, problems


def load_catalog(path: Path, *, skip_invalid: bool = False) -> list[DemoListing]:
    """Read and validate listings.jsonl (plus the planted traders of traders.json beside it), ordered by id.

    By default any bad line raises `CatalogError` listing every problem (file,
    line, field), because a demo shop that differs from its file would make the
    tests lie. With `skip_invalid=True` bad lines are logged and skipped.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CatalogError([f"{path}: <file>: not found"]) from None
    except UnicodeDecodeError as exc:
        raise CatalogError([f"{path}: <file>: not UTF-8 ({exc.reason} at byte {exc.start})"]) from None
    listings, problems = parse_lines(text.splitlines(), source=str(path))
    if problems and not skip_invalid:
        raise CatalogError(problems)
    for problem in problems:
        log.warning("skipped catalog line: %s", problem)
    from wildwatch.demo.traders import bazaar_listings, traders_path  # planted seller networks (issue 14)

    if path.name == "listings.jsonl" and traders_path(path).is_file():
        listings += bazaar_listings(traders_path(path))
    return sorted(listings, key=lambda item: item.id)


def live_listings(catalog: Iterable[DemoListing], night: int) -> list[DemoListing]:
    """The listings online on `night`, in catalog order."""
    return [item for item in catalog if item.is_live(night)]


def category_name(slug: str) -> str:
    """A bilingual display name ("手机数码 Phones & Electronics"), or the slug itself if unknown."""
    names = CATEGORY_NAMES.get(slug)
    return f"{names[0]} {names[1]}" if names else slug

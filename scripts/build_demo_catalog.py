"""Build (or check) the Demo Bazaar catalog: data/demo_marketplace/listings.jsonl.

Seeded random composition over the hand-written phrase pools in
data/demo_marketplace/phrases.yaml, so rerunning gives byte-identical output and
the committed file can always be rebuilt:

    python scripts/build_demo_catalog.py            # rewrite listings.jsonl
    python scripts/build_demo_catalog.py --check    # exit 1 if the file is stale or the mix is off
    python scripts/build_demo_catalog.py --out /tmp/x.jsonl
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import random
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import opencc
import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # the project is run from a checkout, not installed
    sys.path.insert(0, str(ROOT))

from wildwatch.demo.catalog import DemoListing, parse_lines  # noqa: E402

SEED = 20261125
PHRASES = ROOT / "data" / "demo_marketplace" / "phrases.yaml"
OUTPUT = ROOT / "data" / "demo_marketplace" / "listings.jsonl"
KIND_COUNTS = {"ordinary": 158, "wildlife": 64, "coded": 96, "hard_negative": 82}
LANG_WEIGHTS = {"zh": 50, "en": 27, "zh-Hant": 12, "mixed": 11}
NULL_PRICE_RATE = {"ordinary": 0.05, "wildlife": 0.2, "coded": 0.35, "hard_negative": 0.05}
DISCREET_RATE = {"ordinary": 0.06, "wildlife": 0.35, "coded": 0.55, "hard_negative": 0.08}
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
GONE_AFTER_NIGHT_1 = 15
NEW_ON_NIGHT_2 = 10
LAST_POSTED = dt.date(2026, 11, 24)
FIELD_ORDER = (
    "id", "title", "description", "price_text", "price", "currency", "category", "seller_id",
    "seller_name", "location", "posted", "images", "style", "lang", "kind", "label", "group",
    "first_night", "last_night",
)
# Rough CNY -> currency factors, only so that prices look plausible in each currency.
RATES = {"CNY": 1.0, "USD": 0.14, "HKD": 1.09, "EUR": 0.13, "GBP": 0.11, "TWD": 4.5}
NULL_PRICE_TEXT = {
    "zh": ["价格面议", "私聊", "面议", "私聊询价", "议价"],
    "zh-Hant": ["價格面議", "私訊詢價", "面議"],
    "en": ["Price on request", "DM for price", "Make an offer", "POA"],
}


@dataclass(frozen=True)
class Seller:
    id: str
    name: str
    lang: str
    profile: str
    location: str
    currency: str


class SlotDecks:
    """Draws slot values in turn, in the order phrases.yaml lists them, so every term gets used."""

    def __init__(self, slots: dict[str, list[str]]):
        self._slots = slots
        self._decks: dict[str, list[str]] = {}

    def draw(self, key: str) -> str:
        if key not in self._slots:
            raise KeyError(f"phrases.yaml: unknown slot {{{key}}}")
        deck = self._decks.get(key)
        if not deck:
            deck = self._decks[key] = list(reversed(self._slots[key]))  # YAML order: documented terms first
        return deck.pop()


class SlotFiller(dict):
    """Fills {slot} placeholders, one value per slot per listing, so title and text agree."""

    def __init__(self, decks: SlotDecks):
        super().__init__()
        self._decks = decks

    def __missing__(self, key: str) -> str:
        value = self._decks.draw(key)
        self[key] = value
        return value


# ------------------------------------------------------------------ prices
def _digits(value: float, decimals: int | None = None, group: str = "", point: str = ".") -> str:
    """A number as a seller would type it: decimals only when needed unless forced."""
    if decimals is None:
        decimals = 0 if value == int(value) else 2
    text = f"{value:,.{decimals}f}" if group else f"{value:.{decimals}f}"
    return text.replace(",", "\0").replace(".", point).replace("\0", group)


PRICE_FORMATS: dict[str, list[Callable[[float], str]]] = {
    "CNY": [
        lambda v: "¥" + _digits(v, group=","),
        lambda v: "¥" + _digits(v),
        lambda v: _digits(v) + "元",
        lambda v: "RMB " + _digits(v, 2),
        lambda v: "CNY " + _digits(v),
        lambda v: "￥" + _digits(v),
        lambda v: _digits(v, group=",") + " 元",
        lambda v: "¥ " + _digits(v, 2),
    ],
    "USD": [
        lambda v: "US$" + _digits(v),
        lambda v: "$" + _digits(v, 2),
        lambda v: "USD " + _digits(v, group=","),
        lambda v: "$" + _digits(v, group=","),
    ],
    "HKD": [
        lambda v: "HK$ " + _digits(v, group=","),
        lambda v: "HK$" + _digits(v),
        lambda v: "HKD " + _digits(v, group=","),
        lambda v: "港幣 " + _digits(v) + " 元",
    ],
    "EUR": [
        lambda v: "€" + _digits(v, 2, group=".", point=","),
        lambda v: _digits(v, 2, group=".", point=",") + " €",
        lambda v: "EUR " + _digits(v, 2),
        lambda v: "€ " + _digits(v, group=".", point=","),
    ],
    "GBP": [
        lambda v: "£" + _digits(v, group=","),
        lambda v: "£" + _digits(v, 2),
        lambda v: "GBP " + _digits(v),
    ],
    "TWD": [
        lambda v: "NT$" + _digits(v, group=","),
        lambda v: "NT$ " + _digits(v),
        lambda v: "新台幣 " + _digits(v, group=",") + " 元",
        lambda v: "TWD " + _digits(v),
    ],
}


def _nice_amount(cny: float, currency: str, rng: random.Random) -> float:
    """Convert and round the way shops price things: 1280, 1299, 45.99, 12.50."""
    value = max(cny * RATES[currency], 1.0)
    step = 10 ** max(math.floor(math.log10(value)) - 1, 0)
    rounded = max(round(value / step) * step, 1)
    roll = rng.random()
    if currency in ("USD", "EUR", "GBP") and value < 200 and roll < 0.3:
        return round(rounded - 0.01, 2)
    if currency == "EUR" and value < 100 and roll < 0.5:
        return round(value * 2) / 2 or 0.5  # 12.50, 13.00
    if rounded >= 20 and roll < 0.35:
        return float(rounded - 1)  # 1299, 99
    return float(rounded)


def _price(kind: str, lang: str, seller: Seller, bounds: list[float], rng: random.Random) -> tuple[str, float | None, str | None]:
    if rng.random() < NULL_PRICE_RATE[kind]:
        key = lang if lang in NULL_PRICE_TEXT else rng.choice(sorted(NULL_PRICE_TEXT))
        return rng.choice(NULL_PRICE_TEXT[key]), None, None
    low, high = bounds
    cny = math.exp(rng.uniform(math.log(low), math.log(high)))
    amount = _nice_amount(cny, seller.currency, rng)
    return rng.choice(PRICE_FORMATS[seller.currency])(amount), amount, seller.currency


# ------------------------------------------------------------------ text
class Composer:
    """Turns one theme into listing text in the requested language."""

    def __init__(self, pools: dict[str, Any], rng: random.Random):
        self.pools = pools
        self.rng = rng
        self.to_tw = opencc.OpenCC("s2tw")
        self.to_hk = opencc.OpenCC("s2hk")
        self.decks = SlotDecks(pools["slots"])

    def _title(self, theme: dict, lang: str, fill: SlotFiller) -> str:
        affix = self.pools["affixes"][theme["affix"]]
        rng = self.rng

        def wrap(core: str, prefixes: list[str], suffixes: list[str]) -> str:
            prefix, suffix = rng.choice(prefixes), rng.choice(suffixes)
            prefix = "" if prefix.strip() and prefix.strip().lower() in core.lower() else prefix
            suffix = "" if suffix.strip() and suffix.strip().lower() in core.lower() else suffix
            return f"{prefix}{core}{suffix}".strip()

        if lang == "en":
            return wrap(rng.choice(theme["en_titles"]).format_map(fill), affix["en_prefix"], affix["en_suffix"])
        if lang == "mixed":
            if rng.random() < 0.5:
                return wrap(rng.choice(theme["zh_titles"]).format_map(fill), [""], [" " + t for t in self.pools["mixed_tags"]])
            return wrap(rng.choice(theme["en_titles"]).format_map(fill), [""], [s for s in affix["zh_suffix"] if s])
        return wrap(rng.choice(theme["zh_titles"]).format_map(fill), affix["zh_prefix"], affix["zh_suffix"])

    def _sentences(self, theme: dict, lang: str, fill: SlotFiller) -> list[tuple[str, str]]:
        """(language, sentence) pairs: theme sentences, then maybe one generic line."""
        rng = self.rng
        if lang == "mixed":
            picked = [("zh", rng.choice(theme["zh_desc"])), ("en", rng.choice(theme["en_desc"]))]
            rng.shuffle(picked)
        else:
            base = "en" if lang == "en" else "zh"
            pool = theme[f"{base}_desc"]
            count = rng.randint(1, min(3, len(pool)))
            picked = [(base, s) for s in rng.sample(pool, count)]
        base = "en" if lang == "en" or (lang == "mixed" and rng.random() < 0.5) else "zh"
        generic = self.pools["generic"]
        discreet = DISCREET_RATE[theme["kind"]] + (0.15 if theme["profile"] == "collector" else 0)
        if len(picked) < 4 and rng.random() < discreet:
            picked.append((base, rng.choice(generic[f"discreet_{base}"])))
        elif len(picked) < 4 and rng.random() < 0.45:
            picked.append((base, rng.choice(generic[f"ship_{base}"])))
        return [(language, sentence.format_map(fill)) for language, sentence in picked]

    def _join(self, sentences: list[tuple[str, str]]) -> str:
        text = ""
        for index, (language, sentence) in enumerate(sentences):
            if index:
                if self.rng.random() < 0.25:
                    text += "\n"
                elif language == "en" or sentences[index - 1][0] == "en":
                    text += " "
            text += sentence
        return text

    def compose(self, theme: dict, lang: str, seller: Seller) -> tuple[str, str]:
        fill = SlotFiller(self.decks)
        title = self._title(theme, lang, fill)
        description = self._join(self._sentences(theme, lang, fill))
        if lang == "zh-Hant":
            convert = self.to_hk if seller.location.startswith("香港") else self.to_tw
            title, description = convert.convert(title), convert.convert(description)
        return title, description


# ------------------------------------------------------------------ catalog
def _pick_seller(sellers: list[Seller], theme: dict, lang: str, rng: random.Random) -> Seller:
    profile = theme["profile"]
    if profile in ("market", "collector") and rng.random() < 0.15:
        profile = "collector" if profile == "market" else "market"
    wanted_langs = {"zh": {"zh"}, "zh-Hant": {"zh-Hant"}, "en": {"en"}, "mixed": {"zh-Hant", "en", "zh"}}[lang]
    for candidates in (
        [s for s in sellers if s.lang in wanted_langs and s.profile == profile],
        [s for s in sellers if s.lang in wanted_langs and s.profile == theme["profile"]],
        [s for s in sellers if s.lang in wanted_langs],
    ):
        if candidates:
            return rng.choice(candidates)
    raise ValueError(f"phrases.yaml: no seller for language {lang}")


def _allocate(themes: list[dict], total: int, rng: random.Random) -> list[dict]:
    """`total` themes drawn in proportion to their weight (default 1), so no theme dominates its kind."""
    order = [theme for theme in themes for _ in range(theme.get("weight", 1))]
    rng.shuffle(order)
    picks = order * (total // len(order)) + order[: total % len(order)]
    rng.shuffle(picks)
    return picks


# The listing whose product is named only in its picture (images.json, decisive_only_in_image) says nothing of it in
# its text, not even in a code: its composed text was a coded offer that the classifier learned to read (2026-12-07),
# and then the picture decided nothing.  The text that replaced it ("雕件 … 有緣人得 / 家裏老人留下的": a carving, for
# the one fated to have it, left by the old folks) was still the antique trade's provenance talk, and four of six
# models trained that day read it as an offer; now it names an ornament and its height only.  (DB-0080's text, a
# coded offer of piano keys, is read as one too; its picture now only adds the product's name and a handle.)
PICTURE_ONLY_TEXT = {"DB-0142": ("桌面小擺件 高12公分", "實物拍攝，詳情看圖。不包郵，運費到付。")}


def build(pools: dict[str, Any], seed: int = SEED) -> list[dict[str, Any]]:
    """The whole catalog as JSON-ready records, ordered by id."""
    rng = random.Random(seed)
    sellers = [Seller(*row) for row in pools["sellers"]]
    composer = Composer(pools, rng)
    langs, weights = zip(*LANG_WEIGHTS.items())
    records: list[dict[str, Any]] = []
    titles: set[str] = set()
    for kind, count in KIND_COUNTS.items():
        themes = [t for t in pools["themes"] if t["kind"] == kind]
        for theme in _allocate(themes, count, rng):
            for _attempt in range(60):
                lang = rng.choices(langs, weights)[0]
                seller = _pick_seller(sellers, theme, lang, rng)
                title, description = composer.compose(theme, lang, seller)
                if title not in titles:
                    break
            else:
                raise ValueError(f"phrases.yaml: theme {theme['key']} cannot produce another distinct title")
            titles.add(title)
            if lang == "en" and CJK.search(title + description):
                lang = "mixed"  # an English listing that carries Chinese terms is honestly mixed
            price_text, price, currency = _price(kind, lang, seller, theme["price"], rng)
            records.append({
                "title": title, "description": description, "price_text": price_text,
                "price": int(price) if price is not None and price == int(price) else price,
                "currency": currency, "category": theme["category"], "seller_id": seller.id,
                "seller_name": seller.name, "location": seller.location,
                "posted": (LAST_POSTED - dt.timedelta(days=rng.randint(0, 110))).isoformat(),
                "lang": lang, "kind": kind, "label": 1 if kind in ("wildlife", "coded") else 0,
                "group": theme.get("group"), "first_night": 1, "last_night": None,
            })
    rng.shuffle(records)
    for number, record in enumerate(records, start=1):
        record["id"] = f"DB-{number:04d}"
        record["images"] = [f"/img/{record['id']}-{k}.png" for k in range(1, rng.choices([1, 2, 3, 4], [35, 30, 20, 15])[0] + 1)]
        if record["id"] in PICTURE_ONLY_TEXT:
            record["title"], record["description"] = PICTURE_ONLY_TEXT[record["id"]]
    for kind in KIND_COUNTS:  # an equal share of each style within every kind
        same_kind = [r for r in records if r["kind"] == kind]
        rng.shuffle(same_kind)
        for index, record in enumerate(same_kind):
            record["style"] = ("jsonld", "html", "js")[index % 3]
    changing = rng.sample(records, GONE_AFTER_NIGHT_1 + NEW_ON_NIGHT_2)
    for record in changing[:GONE_AFTER_NIGHT_1]:
        record["last_night"] = 1
    for record in changing[GONE_AFTER_NIGHT_1:]:
        record["first_night"] = 2
    return [{name: record[name] for name in FIELD_ORDER} for record in records]


def render(records: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def mix_problems(listings: list[DemoListing]) -> list[str]:
    """Where the catalog misses the mix the demo promises (see the README)."""
    total = len(listings)
    kinds = Counter(item.kind for item in listings)
    styles = Counter(item.style for item in listings)
    problems = []
    if total < 320:
        problems.append(f"only {total} listings, need at least 320")
    for kind, share in (("wildlife", 0.15), ("coded", 0.20), ("hard_negative", 0.20)):
        if kinds[kind] < share * total:
            problems.append(f"{kind}: {kinds[kind]} of {total} is below {share:.0%}")
    if not 0.35 <= kinds["ordinary"] / total <= 0.45:
        problems.append(f"ordinary: {kinds['ordinary']} of {total} is not about 40%")
    for style in ("jsonld", "html", "js"):
        if abs(styles[style] - total / 3) > total * 0.05:
            problems.append(f"style {style}: {styles[style]} of {total} is not about a third")
    if sum(1 for i in listings if i.style == "js" and i.label == 1) < 12:
        problems.append("fewer than 12 suspicious listings in the js style")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUTPUT, help="where to write (default: %(default)s)")
    parser.add_argument("--phrases", type=Path, default=PHRASES, help="phrase pools (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--check", action="store_true", help="compare with --out instead of writing")
    args = parser.parse_args(argv)

    pools = yaml.safe_load(args.phrases.read_text(encoding="utf-8"))
    text = render(build(pools, args.seed))
    listings, problems = parse_lines(text.splitlines(), source="<generated>")
    problems += mix_problems(listings)
    if problems:
        print("generated catalog is invalid:\n" + "\n".join(problems), file=sys.stderr)
        return 1
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        if current != text:
            print(f"{args.out} is out of date; rerun scripts/build_demo_catalog.py", file=sys.stderr)
            return 1
        print(f"{args.out}: up to date, {len(listings)} listings")
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {len(listings)} listings to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

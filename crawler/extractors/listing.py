"""One detail page -> one listing's fields. Pure: HTML in, fields out, no network.

Field by field, each from the best source that has it, the others filling the gaps:
the site's own selectors, then schema.org Product (JSON-LD, microdata), then
OpenGraph, then heuristics (which always run: structured data often lacks the price
or the description the page shows). The source of each field is kept. So a site
config with no selectors still works, and a page whose layout changed still yields
what its structured data carries. One exception to the order: when the structured
price is the page's struck-through list price, the price shown beside the buy
control wins and the structured one is kept as `list_price`.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

import html_text
from parsel import Selector

from crawler.extractors.heuristics import clean_title, extract_heuristic
from crawler.extractors.price import parse_price
from crawler.extractors.structured import extract_structured
from crawler.siteconfig import FieldRule, SiteConfig

LIST_FIELDS = {"images"}
URL_FIELDS = {"seller_url", "images"}


class ExtractionError(ValueError):
    """A page that yields no listing (no title could be found anywhere)."""


@dataclass
class Extraction:
    fields: dict[str, Any]
    sources: dict[str, str] = field(default_factory=dict)  # field -> method that filled it

    @property
    def method(self) -> str:
        """The method that supplied the title: the page's main source."""
        return self.sources.get("title", "")


def apply_rule(selector: Selector, rule: FieldRule, many: bool = False) -> Any:
    """Run one configured selector; text of matched elements, regex-filtered when configured."""
    if rule.selector.startswith("xpath:"):
        nodes = selector.xpath(rule.selector[len("xpath:"):])
    else:
        nodes = selector.css(rule.selector)
    values = []
    for node in nodes:
        raw = node.get()
        if raw is None:
            continue
        # Element nodes (no ::text / ::attr) become their visible text, paragraphs kept.
        text = html_text.extract_text(raw, guess_layout=True) if raw.lstrip().startswith("<") else raw
        text = text.strip()
        if rule.regex:
            match = re.search(rule.regex, text)
            if not match:
                continue
            text = (match.groupdict().get("value") or match.group(1) or "").strip()
        if text:
            values.append(text)
        if values and not many:
            break
    if many:
        return values
    return values[0] if values else None


def listing_id_from_url(url: str, site: SiteConfig | None) -> str | None:
    pattern = site.links.listing_url_pattern if site else None
    if pattern:
        match = re.search(pattern, url)
        if match:
            return match.groupdict().get("id") or (match.group(1) if match.groups() else None)
    return None


def fallback_listing_id(url: str) -> str:
    """A stable id for sites that show none: a hash of the URL without fragment and tracking
    parameters (utm_*, ref, spm ...), keeping the query that names the page (detail.php?id=7)."""
    from crawler.extractors.discovery import canonical_url

    canonical = canonical_url(url)
    parts = canonical.split("?", 1)
    canonical = parts[0].rstrip("/") + ("?" + parts[1] if len(parts) > 1 and parts[1] else "")
    return "url-" + hashlib.sha1(canonical.encode("utf-8")).hexdigest()[:16]


def extract_listing(html: str, url: str, site: SiteConfig | None = None) -> Extraction:
    """Extract a listing's fields from a detail page; raises ExtractionError when no title is found."""
    selector = Selector(text=html or "<html></html>")
    fields: dict[str, Any] = {}
    sources: dict[str, str] = {}

    def fill(values: dict[str, Any], method: str) -> None:
        for name, value in values.items():
            if value not in (None, "", []) and fields.get(name) in (None, "", []):
                fields[name] = value
                sources[name] = method

    if site:
        fill({name: apply_rule(selector, rule, many=name in LIST_FIELDS) for name, rule in site.fields.items()},
             "selectors")
    from crawler.extractors.discovery import document_base

    base = document_base(selector, url)
    structured, method = extract_structured(html, base)
    fill(structured, method)
    heuristic = extract_heuristic(selector, have=fields)
    _prefer_shown_price(fields, sources, heuristic)
    fill(heuristic, "heuristic")
    if not fields.get("title"):
        raise ExtractionError("no title found (selectors, structured data and heuristics all empty)")
    fields["title"] = clean_title(fields["title"], selector) or fields["title"]
    if not fields.get("listing_id"):
        from_url = listing_id_from_url(url, site)
        fill({"listing_id": from_url or fallback_listing_id(url)}, "url")
    for name in URL_FIELDS & fields.keys():
        value = fields[name]
        fields[name] = [urljoin(base, v) for v in value] if isinstance(value, list) else urljoin(base, value)
    return Extraction(fields=fields, sources=sources)


def _prefer_shown_price(fields: dict[str, Any], sources: dict[str, str], heuristic: dict[str, Any]) -> None:
    """Structured data that gives a higher price the page also shows (its struck-through list price, or an
    undiscounted price beside the offer) while the buy box sells for less: the buy box's price wins, and the
    structured one is kept as the list price."""
    shown, struck = heuristic.get("price"), heuristic.get("list_price")
    others = heuristic.pop("_shown_prices", None) or []
    if not (shown and fields.get("price")) or sources.get("price") == "selectors":
        return
    currency = fields.get("currency")
    given = parse_price(str(fields["price"]), currency).amount
    offer = parse_price(shown, currency).amount
    if given is None or offer is None or offer >= given:
        return
    if (struck and given == parse_price(struck, currency).amount) or \
            any(parse_price(text, currency).amount == given for text in others):
        fields["list_price"], sources["list_price"] = fields["price"], sources["price"]
        fields["price"], sources["price"] = shown, "heuristic"
        heuristic.pop("list_price", None)

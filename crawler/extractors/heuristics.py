"""Last-resort extraction for pages with neither selectors nor structured data."""
from __future__ import annotations

import re
from typing import Any

import html_text
from parsel import Selector

_PRICE_TEXT_RE = re.compile(
    r"(?:US\$|HK\$|NT\$|S\$|A\$|C\$|CN¥|JP¥|RMB|CNY|USD|HKD|EUR|GBP|[¥￥$€£])\s?\d[\d,.]*"
    r"|\d[\d,.]*\s?(?:元|块|RMB|CNY|USD|EUR|GBP|€)"
)
_MAX_DESCRIPTION = 20_000


def extract_heuristic(selector: Selector) -> dict[str, Any]:
    """Title from h1/<title>, description from meta or main text, price from an element or text pattern."""
    fields: dict[str, Any] = {}
    title = _first_text(selector, ["h1", "title"])
    if title:
        fields["title"] = title
    description = selector.css('meta[name="description"]::attr(content)').get("").strip()
    if not description:
        main = selector.css("main, article, [role=main], #content, .content").get()
        if main:
            description = html_text.extract_text(main, guess_layout=True)
    if description:
        fields["description"] = description[:_MAX_DESCRIPTION]
    price_text = _first_text(selector, ['[itemprop="price"]', '[class*="price"]', '[id*="price"]'])
    if not price_text or not re.search(r"\d", price_text):
        body = " ".join(selector.css("body *::text").getall()[:2000])
        match = _PRICE_TEXT_RE.search(body)
        price_text = match.group(0) if match else None
    if price_text:
        fields["price"] = price_text
    images = selector.css('meta[property="og:image"]::attr(content)').getall()
    if images:
        fields["images"] = images
    return fields


def _first_text(selector: Selector, css_list: list[str]) -> str | None:
    for css in css_list:
        for node in selector.css(css):
            text = " ".join(t.strip() for t in node.css("::text").getall() if t.strip())
            if text:
                return text
    return None

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
    """Title from the heading the page's <title> repeats (else h1, else <title>), description from a
    description element, else the page's main block of text, else the meta description; price
    from an element or a text pattern."""
    fields: dict[str, Any] = {}
    title = _title(selector)
    if title:
        fields["title"] = title
    description = _description(selector, title)
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


# Page furniture: never the listing's title or text.
_CHROME_TAGS = {"header", "nav", "footer", "aside", "form", "script", "style", "noscript", "template", "button",
                "select", "svg", "iframe"}
_CHROME_NAMES = re.compile(
    r"(^|[-_\s])(nav|navbar|menu|header|footer|foot|bottom|topbar|top-bar|breadcrumbs?|crumbs|sidebar|side-bar|"
    r"cookies?|banner|copyright|legal|related|recommend\w*|similar|share|social|comments?|reviews?|pager|"
    r"pagination|login|signup|newsletter)([-_\s]|$)", re.I)
_DESCRIPTION_CSS = ('[itemprop="description"]', '[class*="description"]', '[id*="description"]', '[class*="desc"]',
                    '[id*="desc"]', '[class*="detail-text"]', '[class*="item-body"]', '[class*="post-body"]')
_INLINE = {"a", "b", "i", "em", "strong", "span", "small", "br", "font", "u", "sup", "sub", "code", "mark", "abbr",
           "time", "label", "wbr", "s", "del", "ins", "q", "cite"}
_BLOCKS = {"div", "section", "article", "main", "td", "dd", "li", "p", "blockquote", "pre", "body"}
_SEPARATORS = re.compile(r"\s+(?:[|\-–—:_·]|::|»)\s+")


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


def _in_chrome(node) -> bool:
    for element in [node, *node.iterancestors()]:
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag in _CHROME_TAGS:
            return True
        names = f"{element.get('class') or ''} {element.get('id') or ''} {element.get('role') or ''}"
        if names.strip() and _CHROME_NAMES.search(names):
            return True
    return False


def _title(selector: Selector) -> str | None:
    """The h1 (or h2) whose text the <title> repeats; else the first h1 outside the page chrome; else
    the first h1; else the <title> without its " - Site name" part."""
    page_title = _clean(" ".join(selector.css("title::text").getall()))
    headings = []
    for css in ("h1", "h2"):
        for node in selector.css(css):
            text = _clean(" ".join(node.css("::text").getall()))
            if text:
                headings.append((css, text, node))
    folded = page_title.casefold()
    for _, text, _node in headings:
        if len(text) >= 2 and folded and text.casefold() in folded:
            return text
    h1s = [(text, node) for css, text, node in headings if css == "h1"]
    for text, node in h1s:
        if not _in_chrome(node.root):
            return text
    if h1s:
        return h1s[0][0]
    if page_title:
        first = _SEPARATORS.split(page_title)[0].strip()
        return first if len(first) >= 2 else page_title
    return None


def _own_text(element) -> str:
    """Text of an element without its block-level children (inline children included).

    Walks with its own stack, not by recursion: a hostile page nests inline tags thousands deep."""
    parts = [element.text or ""]
    stack = [(iter(element), "")]  # children still to visit, and the tail that follows them
    while stack:
        children, tail = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            parts.append(tail)
            continue
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag == "br":
            parts.append("\n" + (child.tail or ""))
        elif tag in _INLINE:
            parts.append(child.text or "")
            stack.append((iter(child), child.tail or ""))
        else:
            parts.append(child.tail or "")
    return "".join(parts)


def _link_text(element) -> int:
    return sum(len(_clean(a.text_content())) for a in element.iter("a"))


def _description(selector: Selector, title: str | None) -> str | None:
    for css in _DESCRIPTION_CSS:
        for node in selector.css(css):
            if node.root.tag in ("meta", "script", "style") or _in_chrome(node.root):
                continue
            text = html_text.extract_text(node.get(), guess_layout=True).strip()
            if len(text) >= 10 and text != title:
                return text
    block = _main_block(selector, title)
    if block is not None:
        return block
    meta = selector.css('meta[name="description"]::attr(content), meta[property="og:description"]::attr(content)')
    return (meta.get() or "").strip() or None


def _main_block(selector: Selector, title: str | None) -> str | None:
    """The block with the most running text: its own text plus that of its direct <p> children,
    outside page chrome, not mostly links, not the title."""
    root = selector.root
    if not hasattr(root, "iter"):
        return None
    best, best_score = None, 0
    folded_title = _clean(title or "").casefold()
    for element in root.iter(*_BLOCKS):
        if element.tag == "p" and element.getparent() is not None and element.getparent().tag in _BLOCKS:
            continue  # counted with its parent
        own = _clean(_own_text(element))
        paragraphs = [_clean(_own_text(child)) for child in element if child.tag == "p"]
        texts = [t for t in [own, *paragraphs] if t and t.casefold() != folded_title]
        score = sum(len(t) for t in texts)
        if score < 20 or score <= best_score:
            continue
        if _link_text(element) > 0.5 * max(1, len(_clean(element.text_content()))):
            continue
        if _in_chrome(element):
            continue
        best, best_score = element, score
    if best is None:
        return None
    lines = []
    own_lines = [line.strip() for line in _own_text(best).split("\n")]
    lines.extend(line for line in own_lines if line)
    for child in best:
        if child.tag == "p":
            text = _clean(_own_text(child))
            if text:
                lines.append(text)
    text = "\n".join(_clean(line) for line in lines if _clean(line).casefold() != folded_title)
    return text or None

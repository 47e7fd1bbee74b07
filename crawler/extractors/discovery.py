"""Finding listings on a site with no config: which links lead to listings, which to the next
page, and whether a fetched page is a listing, an index, or an empty JavaScript shell.

Pure: HTML and URLs in, decisions out, no network. The spider (`crawler.spiders.marketplace`,
discovery mode) decides what to request from these answers; `tests/test_discovery.py` checks
them against small pages of the shapes real shops use.
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from parsel import Selector

# Query parameters that track the visitor, not the page: dropped so one listing has one URL.
_TRACKING_PARAMS = re.compile(
    r"^(utm(_\w+)?|ref|referrer|from|source|src|spm|scm|fbclid|gclid|yclid|mc_\w+|_ga|sessionid|sid|"
    r"phpsessid|jsessionid|trk|track|tracking|campaign|affiliate|aff|share|shared)$", re.I)

# File types that are never listing or index pages.
_NOT_PAGES = re.compile(
    r"\.(jpe?g|png|gif|webp|svg|ico|bmp|css|js|mjs|map|json|xml|rss|atom|pdf|zip|gz|rar|7z|exe|dmg|apk|"
    r"mp[34]|m4a|wav|avi|mov|webm|woff2?|ttf|otf|eot|txt|csv|xlsx?|docx?)$", re.I)

# Paths of account, cart and policy pages: nothing to read there, and some change state.
_NOISE = re.compile(
    r"(^|/)(log-?in|log-?out|sign-?in|sign-?up|sign-?out|register|account|my|profile|settings|cart|basket|"
    r"bag|checkout|order|orders|wishlist|favou?rites?|compare|help|faq|about|contact|privacy|terms|legal|"
    r"cookies?|imprint|careers|jobs|press|sitemap|feedback|report|share|print|download|subscribe|"
    r"newsletter|auth|oauth|password|admin|wp-admin|wp-login\.php|cgi-bin)(/|$|\.|\?)", re.I)

# A path segment that names a listing, followed by an id-like token (digits, or a long slug).
_LISTING_PATH = re.compile(
    r"(^|/)(item|items|product|products|prod|p|pd|dp|goods|good|listing|listings|ad|ads|advert|adverts|"
    r"offer|offers|detail|details|lot|lots|auction|auctions|sku|i|classified|classifieds|deal|deals|"
    r"shangpin|shop/item|view|show)[/_-]+([^/?#]*\d[^/?#]*|[a-z0-9][a-z0-9_-]{5,})/?$", re.I)
# item.htm?id=123, detail.php?goods_id=9, product.aspx?pid=7
_LISTING_SCRIPT = re.compile(r"(item|product|goods|detail|listing|offer|lot|view|show|ad)\w*(\.\w+)?$", re.I)
_ID_PARAMS = {"id", "itemid", "item_id", "item", "pid", "productid", "product_id", "goodsid", "goods_id", "gid",
              "sku", "listing", "listingid", "listing_id", "lot", "lotid", "adid", "ad_id", "aid", "offerid"}
# /12345.html, /carved-box-12345.html, /12345
_LISTING_FILE = re.compile(r"/([a-z0-9_-]*[-_])?\d+\.(s?html?|php|aspx?)$|/([a-z0-9_-]+[-_])?\d{3,}/?$", re.I)

_PAGE_PARAMS = {"page", "p", "pg", "pageno", "page_no", "pagenum", "pn", "paged", "offset", "start", "from_page"}
_PAGE_PATH = re.compile(r"(/page/\d+/?$|/p\d+/?$|[-_/]page[-_]?\d+(\.s?html?)?/?$|_\d+\.s?html?$|/list[-_]\d+)", re.I)
_NEXT_TEXT = re.compile(
    r"^(next( page)?|more( results)?|older( posts| entries)?|load more|下一?[页頁]|下一?[张張]|后[页頁]|後[页頁]|"
    r"翻[页頁]|更多|[>›»→]+|next\s*[>›»→]+|[>›»→]+\s*next)$", re.I)
_NUMBER_TEXT = re.compile(r"^\[?\d{1,4}\]?$")
# Containers whose links are not the page's own results.
_CHROME = "ancestor::*[self::header or self::footer or self::nav or self::aside or self::form]"
_RELATED = re.compile(r"related|recommend|similar|also|others|rec-|upsell|cross|more-from|more-like|like-this|suggest", re.I)

# Mount points of single-page apps, empty until their script runs.
_MOUNT_IDS = ("app", "root", "__next", "__nuxt", "main", "application", "page", "container", "content")
_JS_NOTICE = re.compile(r"enable javascript|requires javascript|javascript (is )?(required|disabled)|"
                        r"启用\s*javascript|开启\s*javascript|請啟用|请启用|loading|加载中|載入中", re.I)


def canonical_url(url: str) -> str:
    """The URL without fragment, tracking parameters or a trailing `?`; query keys sorted."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING_PARAMS.match(k)]
    query.sort()
    path = parts.path or "/"
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, urlencode(query), ""))


def lower_scheme(url: str) -> str:
    """`url` with its scheme in lower case: pages write HTTP:// or Https:// too, and the same page must get
    the same listing id, fingerprint and resume key whichever way its link was written."""
    scheme, colon, rest = url.partition(":")
    return scheme.lower() + colon + rest if colon and scheme.isascii() and scheme.isalpha() else url


def is_http_url(url: str) -> bool:
    """An absolute http(s) URL, whatever the case of its scheme: the only kind the crawler fetches or stores."""
    return url.lower().startswith(("http://", "https://"))


def same_site(url: str, base: str) -> bool:
    """Same host and port as `base` (the crawl never leaves the site it was pointed at)."""
    a, b = urlsplit(url), urlsplit(base)
    return a.scheme in ("http", "https") and (a.hostname, a.port) == (b.hostname, b.port)


def is_fetchable(url: str) -> bool:
    """A page worth requesting: http(s), not a file download, not an account/cart/policy page."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return False
    return not _NOT_PAGES.search(parts.path) and not _NOISE.search(parts.path)


def looks_like_listing_url(url: str) -> bool:
    """URL shapes shops give detail pages: /item/123, /p/carved-box-991, detail.php?id=7, /12345.html."""
    parts = urlsplit(url)
    path = parts.path
    if _LISTING_PATH.search(path) or _LISTING_FILE.search(path):
        return not _PAGE_PATH.search(path)
    keys = {k.lower() for k, _ in parse_qsl(parts.query)}
    if keys & _ID_PARAMS:
        last = path.rstrip("/").rsplit("/", 1)[-1]
        return bool(_LISTING_SCRIPT.search(last)) or "." in last or not last
    return False


def looks_like_pagination_url(url: str) -> bool:
    parts = urlsplit(url)
    keys = {k.lower() for k, v in parse_qsl(parts.query) if v.isdigit()}
    return bool(keys & _PAGE_PARAMS) or bool(_PAGE_PATH.search(parts.path))


def url_shape(url: str) -> str:
    """A URL with its variable parts masked: /shop/{v}?cat={n}. Links of one shape are one kind of page:
    digits are masked everywhere, and the last path segment (the slug or id of the page) entirely."""
    parts = urlsplit(url)
    segments = [re.sub(r"\d+", "{n}", segment) for segment in parts.path.split("/")]
    if len(segments) > 1 and segments[-1]:
        extension = re.search(r"\.[a-z]{2,5}$", segments[-1])
        segments[-1] = "{v}" + (extension.group(0) if extension else "")
    keys = sorted(k for k, _ in parse_qsl(parts.query))
    return "/".join(segments) + ("?" + "&".join(keys) if keys else "")


@dataclass
class PageLinks:
    """Same-site links of one page, by what they probably lead to."""

    listings: list[str] = field(default_factory=list)
    next_pages: list[str] = field(default_factory=list)
    others: list[str] = field(default_factory=list)


def classify_links(selector: Selector, page_url: str, base_url: str) -> PageLinks:
    """Listing candidates, next pages and other same-site links of a page.

    A link is a listing candidate when its URL has a listing shape, or when it belongs to a
    group of at least four links of one URL shape in the page's content (the result cards of
    an index page), not in the header, footer, navigation or a form.
    Next pages: rel=next, "next"/"下一页"/"»" links, page numbers and ?page=N URLs.
    """
    result = PageLinks()
    seen: set[str] = set()
    content_groups: dict[str, list[str]] = defaultdict(list)
    candidates: list[tuple[str, str]] = []  # (url, kind)

    for href in selector.css("link[rel~=next]::attr(href)").getall():
        url = canonical_url(urljoin(page_url, href.strip()))
        if same_site(url, base_url) and is_fetchable(url):
            candidates.append((url, "next"))

    for anchor in selector.css("a[href]"):
        href = (anchor.attrib.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:", "tel:", "data:")):
            continue
        url = canonical_url(urljoin(page_url, href))
        if not same_site(url, base_url) or not is_fetchable(url) or url == canonical_url(page_url):
            continue
        rel = (anchor.attrib.get("rel") or "").lower().split()
        text = " ".join(t.strip() for t in anchor.css("::text").getall() if t.strip())
        label = " ".join(filter(None, (text, anchor.attrib.get("aria-label", ""), anchor.attrib.get("title", ""))))
        classes = (anchor.attrib.get("class") or "") + " " + (anchor.attrib.get("id") or "")
        if "next" in rel or _NEXT_TEXT.match(text.strip()) or re.search(r"\bnext\b", classes, re.I) \
                or re.search(r"^next\b|下一?[页頁]", label.strip(), re.I):
            candidates.append((url, "next"))
            continue
        if "prev" in rel or "nofollow" in rel and not looks_like_listing_url(url):
            continue
        if _NUMBER_TEXT.match(text) and looks_like_pagination_url(url):
            candidates.append((url, "next"))
            continue
        if looks_like_listing_url(url):
            candidates.append((url, "listing"))
            continue
        if looks_like_pagination_url(url):
            candidates.append((url, "next"))
            continue
        in_chrome = bool(anchor.xpath(_CHROME))
        if not in_chrome:
            content_groups[url_shape(url)].append(url)
        candidates.append((url, "other"))

    # Result cards: four or more distinct links of one shape in the page's content.
    card_shapes = {shape for shape, urls in content_groups.items() if len(set(urls)) >= 4}
    for url, kind in candidates:
        if url in seen:
            continue
        seen.add(url)
        if kind == "other" and url_shape(url) in card_shapes:
            kind = "listing"
        {"listing": result.listings, "next": result.next_pages, "other": result.others}[kind].append(url)
    return result


# ---- what kind of page is this? ------------------------------------------------------------------

def visible_text_length(selector: Selector) -> int:
    texts = selector.xpath("//body//text()[not(ancestor::script or ancestor::style or ancestor::noscript "
                           "or ancestor::template)]").getall()
    return sum(len(t.strip()) for t in texts)


def looks_like_js_shell(selector: Selector) -> bool:
    """A page whose content arrives by JavaScript: scripts, and an empty mount point or almost no text.

    `<div id="app"></div>`, `<div id="root">Loading…</div>`, a Next/Nuxt root, or a body with under
    200 characters of text beside its scripts.
    """
    if not selector.xpath("//script"):
        return False
    for mount_id in _MOUNT_IDS:
        node = selector.xpath(f"//*[@id='{mount_id}']")
        if node:
            text = " ".join(t.strip() for t in node[0].xpath(".//text()[not(ancestor::script)]").getall()).strip()
            if len(text) < 40 and (not text or _JS_NOTICE.search(text)):
                return True
    if selector.xpath("//*[@data-reactroot or @ng-app or @data-v-app or @data-server-rendered='false']"):
        if visible_text_length(selector) < 400:
            return True
    noscript = " ".join(selector.xpath("//noscript//text()").getall())
    return visible_text_length(selector) < 200 or bool(noscript and _JS_NOTICE.search(noscript)
                                                       and visible_text_length(selector) < 600)


def content_listing_links(selector: Selector, page_url: str, base_url: str) -> int:
    """How many listing candidates sit in the page's own content (not chrome, not a related-items box)."""
    count = 0
    for anchor in selector.css("a[href]"):
        if anchor.xpath(_CHROME):
            continue
        boxes = " ".join(anchor.xpath("ancestor::*/@class | ancestor::*/@id").getall())
        if _RELATED.search(boxes):
            continue
        url = canonical_url(urljoin(page_url, anchor.attrib.get("href", "")))
        if same_site(url, base_url) and looks_like_listing_url(url):
            count += 1
    return count

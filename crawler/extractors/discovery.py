"""Finding listings on a site with no config: which links lead to listings, which to the next
page, and whether a fetched page is a listing, an index, or an empty JavaScript shell.

Pure: HTML and URLs in, decisions out, no network. The spider (`crawler.spiders.marketplace`,
discovery mode) decides what to request from these answers; `tests/crawler/test_discovery.py` checks
them against small pages of the shapes real shops use.
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from parsel import Selector

from crawler.extractors.heuristics import (
    main_heading, main_image_elements as main_images, main_prices, title_element, tree_distance,
)

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
# "list_2.html" is page 2; "favorable_1409.html" is item 1409 (a page number has at most three digits).
_PAGE_PATH = re.compile(r"(/page/\d+/?$|/p\d+/?$|[-_/]page[-_]?\d+(\.s?html?)?/?$|_\d{1,3}\.s?html?$|/list[-_]\d+)",
                        re.I)
_NEXT_TEXT = re.compile(
    r"^(next( page)?|more( results)?|older( posts| entries)?|load more|下一?[页頁]|下一?[张張]|后[页頁]|後[页頁]|"
    r"翻[页頁]|更多|[>›»→]+|next\s*[>›»→]+|[>›»→]+\s*next)$", re.I)
_NUMBER_TEXT = re.compile(r"^\[?\d{1,4}\]?$")
# Containers whose links are not the page's own results.
_CHROME = "ancestor::*[self::header or self::footer or self::nav or self::aside or self::form]"
_RELATED = re.compile(r"related|recommend|similar|also|others|rec-|upsell|cross|more-from|more-like|like-this|suggest|"
                      r"carousel|slider|swiper|bought|viewed|sponsored", re.I)

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


def document_base(selector: Selector, page_url: str) -> str:
    """The URL the page's relative links are relative to: its first `<base href>` (itself relative to the
    page URL), else the page URL. Joining to the page URL instead sends every relative link of a page
    with `<base href>` to a page that does not exist."""
    href = (selector.xpath("//base[@href][1]/@href").get() or "").strip()
    if href:
        base = urljoin(page_url, href)
        if is_http_url(base):
            return base
    return page_url


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
    link_base = document_base(selector, page_url)
    content_groups: dict[str, list[str]] = defaultdict(list)
    candidates: list[tuple[str, str]] = []  # (url, kind)

    for href in selector.css("link[rel~=next]::attr(href)").getall():
        url = canonical_url(urljoin(link_base, href.strip()))
        if same_site(url, base_url) and is_fetchable(url):
            candidates.append((url, "next"))

    for anchor in selector.css("a[href]"):
        href = (anchor.attrib.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:", "tel:", "data:")):
            continue
        url = canonical_url(urljoin(link_base, href))
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
    link_base = document_base(selector, page_url)
    for anchor in selector.css("a[href]"):
        if anchor.xpath(_CHROME):
            continue
        boxes = " ".join(anchor.xpath("ancestor::*/@class | ancestor::*/@id").getall())
        if _RELATED.search(boxes):
            continue
        url = canonical_url(urljoin(link_base, anchor.attrib.get("href", "")))
        if same_site(url, base_url) and looks_like_listing_url(url):
            count += 1
    return count


def is_listing_page(page: Selector | str, url: str, base_url: str, extraction, hinted: bool) -> bool:
    """Is this page one listing (`extraction` is what the extractor read from it)?

    Recognised by what it is, not by how few links it carries or how it was linked. Product data
    (JSON-LD, microdata, og:type=product) makes a listing; so does one main product shown on the page
    (a heading, and a price beside it or beside a buy/contact control; "customers also bought" rows
    around it do not matter). Otherwise the page must be linked like a listing (or have a listing-shaped
    URL), carry a title and a description or a price, and not be an index itself (four or more listing
    links in its own content).
    """
    selector = Selector(text=page) if isinstance(page, str) else getattr(page, "selector", page)  # or a Response
    if extraction.method in ("jsonld", "microdata"):
        return True
    og_type = (selector.css('meta[property="og:type"]::attr(content)').get() or "").lower()
    if og_type.startswith("product"):
        return True
    if not extraction.fields.get("title"):
        return False
    linked_as_listing = hinted or looks_like_listing_url(url)
    if has_main_product(selector, url, base_url, described=bool(extraction.fields.get("description")),
                        by_picture=linked_as_listing, title=extraction.fields.get("title")):
        return True
    if not linked_as_listing:
        return False
    if not (extraction.fields.get("description") or extraction.fields.get("price")):
        return False
    return content_listing_links(selector, url, base_url) < 4


# A grid of products has a buy button per card; a product page one of each (add to cart, buy now).
_MAX_MAIN_BUTTONS = 3
_MAX_PRICE_DISTANCE = 12  # tree steps from the heading or buy control to the price (or picture) beside it
_MAX_PICTURE_DISTANCE = 20  # the gallery sits in its own column, often nested deep
_CARD_DEPTH = 3  # a card of an index page: a price or picture and, within three levels up, a listing link


def has_main_product(selector: Selector, url: str, base_url: str, described: bool = False,
                     by_picture: bool = False, title: str | None = None) -> bool:
    """One main product on the page: a heading (else the element showing `title`), with a price beside it
    or beside the buy/contact control nearest it (the controls not repeated card after card as in a grid),
    or (`by_picture`: for a page linked like a listing, with a description; an out-of-stock product shows
    no price) the product's main picture near it. Neither may sit in a card that links to another listing:
    an index page's heading has only its cards' prices and pictures near it."""
    prices = main_prices(selector)
    heading = prices.heading if prices.heading is not None else main_heading(selector)
    if heading is None:  # no h1: the element showing the extracted title stands for it
        heading = title_element(selector, title)
        if heading is None:
            return False
        prices = main_prices(selector, heading)
    link_base, page = document_base(selector, url), canonical_url(url)

    shared_with_heading = {heading, *heading.iterancestors()}

    def in_card(element) -> bool:
        """A listing link in the few boxes around `element` that the heading is not in."""
        boxes = []
        for node in [element, *element.iterancestors()]:
            if node in shared_with_heading:
                break
            boxes.append(node)
        for node in boxes[:_CARD_DEPTH]:
            for href in node.xpath(".//a/@href"):
                target = canonical_url(urljoin(link_base, str(href).strip()))
                if target != page and same_site(target, base_url) and looks_like_listing_url(target):
                    return True
        return False

    if prices.price is not None and prices.element is not None:
        near_heading = tree_distance(prices.element, heading) <= _MAX_PRICE_DISTANCE
        near_buy = prices.near_buy and prices.buttons <= _MAX_MAIN_BUTTONS and \
            (prices.distance or 0) <= _MAX_PRICE_DISTANCE
        if (near_heading or near_buy) and not in_card(prices.element):
            return True
    if described and by_picture:
        for image in main_images(selector):
            if tree_distance(image, heading) <= _MAX_PICTURE_DISTANCE and not in_card(image):
                return True
    return False


def link_pattern(url: str) -> str:
    """A coarser `url_shape` for counting dead links: every path segment that is not a short plain word
    (an id, a slug, a name with digits) is masked, so /Some-Name/dp/B07FW264WL/ref=x and
    /Other-Name/dp/B08LNDXM65/ref=y are one pattern, /{v}/dp/{v}/{v}."""
    parts = urlsplit(url)
    segments = [s if re.fullmatch(r"[A-Za-z_]{1,12}", s) else "{v}" for s in parts.path.split("/") if s]
    keys = sorted({k for k, _ in parse_qsl(parts.query, keep_blank_values=True)})
    return "/" + "/".join(segments) + ("?" + "&".join(keys) if keys else "")


class DeadLinkPatterns:
    """Link patterns (`link_pattern`) that, on one kind of page (the pattern of the page they were found on),
    answer mostly 404/410: following more of them spends the page budget on pages that do not exist (a
    template that writes wrong links, a `<base href>` misread). The same pattern found on other kinds of
    pages is still followed: a dead "related items" template does not stop the index's own links.

    A pattern is dead after `min_answers` answers of which at least `dead_share` were 404/410."""

    def __init__(self, min_answers: int = 8, dead_share: float = 0.75):
        self.min_answers, self.dead_share = min_answers, dead_share
        self.answers: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # key -> [answers, missing]

    @staticmethod
    def key(url: str, found_on: str | None = None) -> str:
        return f"{link_pattern(found_on) if found_on else '?'} -> {link_pattern(url)}"

    def record(self, url: str, status: int, found_on: str | None = None) -> bool:
        """Count one answer; True when this answer made its pattern dead (the moment to say so)."""
        was_dead = self.is_dead(url, found_on)
        counts = self.answers[self.key(url, found_on)]
        counts[0] += 1
        counts[1] += status in (404, 410)
        return not was_dead and self.is_dead(url, found_on)

    def is_dead(self, url: str, found_on: str | None = None) -> bool:
        answers, missing = self.answers.get(self.key(url, found_on), (0, 0))
        return answers >= self.min_answers and missing >= self.dead_share * answers

    def describe(self, url: str, found_on: str | None = None) -> str:
        answers, missing = self.answers.get(self.key(url, found_on), (0, 0))
        return f"{link_pattern(url)} on pages like {link_pattern(found_on) if found_on else '?'} " \
               f"({missing} of {answers} answered 404/410)"

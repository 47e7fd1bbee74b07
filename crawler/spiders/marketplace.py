"""The one generic marketplace spider. It only decides which URLs to visit;
turning a page into a listing is `crawler.extractors.listing.extract_listing`.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any, AsyncIterator, Iterable

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy_playwright.page import PageMethod

from crawler.browser import BrowserNotFoundError
from crawler.extractors.listing import ExtractionError, apply_rule, extract_listing, listing_id_from_url
from crawler.extractors.price import parse_price
from crawler.items import ListingItem
from crawler.siteconfig import FieldRule, SiteConfig

STAT = "wildwatch/"


class MarketplaceSpider(scrapy.Spider):
    """Walks hub and result pages of one configured marketplace and extracts each detail page.

    Subclasses bound to a site config are made by `crawler.spiderloader`; the
    `base_url` argument points the same config at another host (the demo site).
    """

    name = "marketplace"
    site: SiteConfig | None = None

    def __init__(self, *args: Any, site: SiteConfig | None = None, base_url: str | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        site = site or type(self).site
        if site is None:
            raise ValueError("MarketplaceSpider needs a site config (use `wildwatch crawl SITE`)")
        self.site = site.with_base_url(base_url) if base_url else site
        self.allowed_domains = self.site.domains()
        self._deny = [re.compile(pattern) for pattern in self.site.links.deny]
        # Listing ids linked from result pages: what the marketplace still offers tonight.
        self.discovered_ids: set[str] = set()
        self.gone_ids: set[str] = set()
        self.seen_pages: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler, *args: Any, **kwargs: Any):
        problem = crawler.settings.get("WILDWATCH_BROWSER_ERROR")
        if problem:
            raise BrowserNotFoundError(problem)
        return super().from_crawler(crawler, *args, **kwargs)

    # ---- requests -------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.site.absolute_start_urls():
            yield self._request(url, self.parse_index)

    def _request(self, url: str, callback, **meta: Any) -> scrapy.Request:
        js = self.site.javascript
        if js.needs_browser(url):
            meta["playwright"] = True
            if js.wait_for:
                meta["playwright_page_methods"] = [PageMethod("wait_for_selector", js.wait_for, timeout=js.timeout_ms)]
        return scrapy.Request(url, callback=callback, errback=self.on_error, meta=meta)

    def _allowed(self, url: str) -> bool:
        return url.startswith(("http://", "https://")) and not any(p.search(url) for p in self._deny)

    def _links(self, response: Response, selectors: Iterable[str]) -> list[str]:
        links = []
        for css in selectors:
            for value in apply_rule(response, FieldRule(selector=css), many=True):
                url = response.urljoin(value)
                if self._allowed(url):
                    links.append(url)
        return links

    # ---- callbacks ------------------------------------------------------------------------

    def parse_index(self, response: Response):
        """A hub or result page: follow hubs and next pages, request every listing."""
        if not _is_text(response):
            self._count("pages_skipped/not_html")
            return
        self._count("index_pages")
        self._count_rendered(response)
        for url in self._links(response, self.site.links.listing):
            listing_id = listing_id_from_url(url, self.site)
            if listing_id:
                self.discovered_ids.add(listing_id)
            yield self._request(url, self.parse_listing, listing_id=listing_id)
        for url in self._links(response, [*self.site.links.follow, *self.site.links.next_page]):
            yield self._request(url, self.parse_index)

    def parse_listing(self, response: Response):
        """A detail page: one listing, or a counted, logged error that never stops the crawl."""
        self._count("listing_pages")
        self._count_rendered(response)
        if not _is_text(response):
            self._count("pages_skipped/not_html")
            self.logger.warning("skipped %s: not an HTML page (%s)", response.url,
                                response.headers.get("Content-Type", b"?").decode("latin-1"))
            return None
        try:
            extraction = extract_listing(response.text, response.url, self.site)
        except ExtractionError as exc:
            self._count("extraction_errors")
            self.logger.warning("no listing extracted from %s: %s", response.url, exc)
            return None
        fields = extraction.fields
        listing_id = str(fields.pop("listing_id"))
        price = parse_price(fields.get("price"), self.site.currency)
        currency = fields.get("currency") or price.currency
        item = ListingItem(
            marketplace=self.site.name,
            listing_id=listing_id,
            url=response.url,
            title=fields["title"],
            description=fields.get("description") or "",
            price=price.amount,
            currency=currency.upper() if isinstance(currency, str) else None,
            price_text=fields.get("price"),
            seller_id=fields.get("seller_id"),
            seller_name=fields.get("seller_name"),
            seller_url=fields.get("seller_url"),
            location=fields.get("location"),
            images=list(fields.get("images") or []),
            posted_at=fields.get("posted_at"),
            category=fields.get("category"),
            extraction=extraction.method,
            rendered=bool(response.meta.get("playwright")),
            crawled_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        )
        self.discovered_ids.add(listing_id)
        self._count("listings_extracted")
        return item

    def on_error(self, failure):
        """Download and HTTP errors are counted and logged; a missing detail page means the listing is gone."""
        request = failure.request
        if failure.check(IgnoreRequest) and not failure.check(HttpError):
            # robots.txt, offsite and size limits: refused on purpose, counted apart from errors.
            self._count("requests_ignored")
            self.logger.debug("not fetched %s: %s", request.url, failure.value)
            return
        if failure.check(HttpError) and failure.value.response.status in (404, 410) \
                and request.callback == self.parse_listing:
            listing_id = request.meta.get("listing_id")
            if listing_id:
                self.gone_ids.add(listing_id)
            self._count("listings_unavailable")
            self.logger.info("listing gone: %s (%s)", request.url, failure.value.response.status)
            return
        self._count("download_errors")
        if request.callback == self.parse_index:
            self._count("index_errors")  # listings behind this page were not seen tonight
        reason = failure.value.response.status if failure.check(HttpError) else repr(failure.value)
        self.logger.warning("failed to fetch %s: %s", request.url, reason)

    def _count_rendered(self, response: Response) -> None:
        if response.meta.get("playwright"):
            self._count("rendered_pages")

    def _count(self, key: str) -> None:
        if self.crawler and self.crawler.stats:
            self.crawler.stats.inc_value(STAT + key)

    def live_listing_ids(self) -> set[str]:
        """Ids the marketplace still offers: linked tonight and not answered with 404/410."""
        return self.discovered_ids - self.gone_ids


def _is_text(response: Response) -> bool:
    return isinstance(response, scrapy.http.TextResponse)

"""Baseline spiders: they fetch what wildwatch fetches and do nothing with it.

``BareSpider`` walks the same hub, result and detail pages as the marketplace
spider (the same link selectors from the same site config) and extracts,
scores and stores nothing: the rate Scrapy itself reaches on these pages.
``RenderSpider`` loads a fixed list of JavaScript pages through
scrapy-playwright and waits for the listing to appear, nothing else.
"""
from __future__ import annotations

import re
from typing import Any, AsyncIterator

import scrapy

from crawler.siteconfig import SiteConfig

__all__ = ["BareSpider", "RenderSpider"]


class BareSpider(scrapy.Spider):
    name = "bench_bare"

    def __init__(self, site: SiteConfig, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.site = site
        self.allowed_domains = site.domains()
        self._deny = [re.compile(p) for p in site.links.deny]
        self.detail_pages = 0
        self.latencies: list[float] = []  # seconds from request sent to response headers, per page

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.site.absolute_start_urls():
            yield scrapy.Request(url, callback=self.parse_index)

    def _links(self, response, selectors: list[str]) -> list[str]:
        urls = (response.urljoin(href) for css in selectors for href in response.css(css).getall())
        return [u for u in urls if u.startswith(("http://", "https://")) and not any(p.search(u) for p in self._deny)]

    def parse_index(self, response):
        self.latencies.append(response.meta.get("download_latency", 0.0))
        for url in self._links(response, self.site.links.listing):
            yield scrapy.Request(url, callback=self.parse_detail)
        for url in self._links(response, [*self.site.links.follow, *self.site.links.next_page]):
            yield scrapy.Request(url, callback=self.parse_index)

    def parse_detail(self, response):
        self.latencies.append(response.meta.get("download_latency", 0.0))
        self.detail_pages += 1  # fetched; nothing else


class RenderSpider(scrapy.Spider):
    """Renders each URL in Chromium and waits for ``wait_for``; ``contexts`` > 1 spreads pages over contexts."""

    name = "bench_render"

    def __init__(self, urls: list[str], wait_for: str, timeout_ms: int = 15000, contexts: int = 1,
                 wait_until: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.urls = urls
        self.wait_for = wait_for
        self.timeout_ms = timeout_ms
        self.contexts = max(1, contexts)
        self.wait_until = wait_until
        self.rendered = 0
        self.missing = 0

    async def start(self) -> AsyncIterator[scrapy.Request]:
        from scrapy_playwright.page import PageMethod

        for n, url in enumerate(self.urls):
            meta: dict[str, Any] = {
                "playwright": True,
                "playwright_page_methods": [PageMethod("wait_for_selector", self.wait_for, timeout=self.timeout_ms)],
            }
            if self.contexts > 1:
                meta["playwright_context"] = f"ctx{n % self.contexts}"
            if self.wait_until:
                meta["playwright_page_goto_kwargs"] = {"wait_until": self.wait_until}
            yield scrapy.Request(url, callback=self.parse, meta=meta, errback=self.failed, dont_filter=True)

    def parse(self, response):
        if response.css(self.wait_for):
            self.rendered += 1
        else:
            self.missing += 1

    def failed(self, failure):
        self.missing += 1
        self.logger.warning("render failed: %s", failure.value)

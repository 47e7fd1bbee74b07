"""Crawl health: notice the morning after when a marketplace silently stops yielding listings."""
from __future__ import annotations

import logging

from scrapy import signals
from scrapy.exceptions import NotConfigured

logger = logging.getLogger(__name__)


class CrawlHealth:
    """Logs an error and records `wildwatch/health/*` stats when a crawl looks broken:
    too few listings (a changed layout), or most detail pages failing extraction."""

    def __init__(self, crawler, min_listings: int):
        self.crawler = crawler
        self.min_listings = min_listings

    @classmethod
    def from_crawler(cls, crawler):
        min_listings = crawler.settings.getint("WILDWATCH_MIN_LISTINGS", 1)
        if min_listings < 0:
            raise NotConfigured("WILDWATCH_MIN_LISTINGS is negative")
        extension = cls(crawler, min_listings)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_closed(self, spider, reason):
        stats = self.crawler.stats
        listings = stats.get_value("wildwatch/listings_extracted", 0)
        pages = stats.get_value("wildwatch/listing_pages", 0)
        failed = stats.get_value("wildwatch/extraction_errors", 0)
        problems = []
        if listings < self.min_listings:
            problems.append(f"only {listings} listings (expected at least {self.min_listings}): "
                            "has the site's layout changed?")
        if pages >= 10 and failed > pages / 2:
            problems.append(f"{failed} of {pages} detail pages yielded no listing: check the field selectors")
        for problem in problems:
            logger.error("crawl health [%s]: %s", spider.name, problem)
        stats.set_value("wildwatch/health/ok", not problems)
        if problems:
            stats.set_value("wildwatch/health/problems", problems)

"""Makes one spider class per site config file, so `scrapy list` and `scrapy crawl <site>` work.

A broken config file is logged and left out; the other sites still load.
"""
from __future__ import annotations

import logging
from pathlib import Path

from scrapy import Request, Spider
from scrapy.settings import BaseSettings

from crawler.browser import BrowserNotFoundError, launch_options
from crawler.siteconfig import SiteConfig, load_all_sites
from crawler.spiders.marketplace import MarketplaceSpider

logger = logging.getLogger(__name__)


def spider_settings(site: SiteConfig, chromium_path: str | None = None) -> dict:
    """Per-site politeness, limits and browser settings, applied as the spider's custom_settings.

    `chromium_path`: WILDWATCH_CHROMIUM from the crawl's settings (None: Playwright's own Chromium)."""
    politeness = site.politeness
    settings: dict = {
        "DOWNLOAD_DELAY": politeness.download_delay,
        "CONCURRENT_REQUESTS_PER_DOMAIN": politeness.concurrency,
        "AUTOTHROTTLE_ENABLED": politeness.autothrottle,
        "ROBOTSTXT_OBEY": politeness.obey_robots,
    }
    limits = site.limits
    settings.update({
        "DOWNLOAD_MAXSIZE": int(limits.max_page_mb * 1024 * 1024),
        "DOWNLOAD_WARNSIZE": int(limits.warn_page_mb * 1024 * 1024),
        "DOWNLOAD_TIMEOUT": limits.timeout_seconds,
        "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": limits.timeout_seconds * 1000,
    })
    if politeness.max_pages:
        settings["CLOSESPIDER_PAGECOUNT"] = politeness.max_pages
    if site.needs_browser_at_all():
        try:
            settings["PLAYWRIGHT_LAUNCH_OPTIONS"] = launch_options(chromium_path)
        except BrowserNotFoundError as exc:
            # Raised when the spider starts, so `scrapy list` still works without a browser.
            settings["WILDWATCH_BROWSER_ERROR"] = f"site {site.name!r} needs JavaScript: {exc}"
    return settings


def spider_class_for(site: SiteConfig, chromium_path: str | None = None) -> type[MarketplaceSpider]:
    """A MarketplaceSpider subclass named after the site and bound to its config (and `chromium_path`,
    WILDWATCH_CHROMIUM, for the sites that need a browser)."""
    class_name = "".join(part.capitalize() for part in site.name.replace("-", "_").split("_")) + "Spider"
    return type(class_name, (MarketplaceSpider,), {
        "name": site.name,
        "site": site,
        "custom_settings": spider_settings(site, chromium_path),
        "__doc__": f"Marketplace spider for {site.name} ({site.source_path}).",
    })


class SiteSpiderLoader:
    def __init__(self, settings: BaseSettings):
        from crawler.settings import required

        sites, errors = load_all_sites(Path(required(settings, "WILDWATCH_SITES_DIR")))
        for error in errors:
            logger.error("site config left out: %s", error)
        self._spiders: dict[str, type[Spider]] = {site.name: spider_class_for(site, settings.get("WILDWATCH_CHROMIUM"))
                                                  for site in sites}

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> "SiteSpiderLoader":
        return cls(settings)

    def load(self, spider_name: str) -> type[Spider]:
        try:
            return self._spiders[spider_name]
        except KeyError:
            raise KeyError(f"Spider not found: {spider_name}") from None

    def list(self) -> list[str]:
        return sorted(self._spiders)

    def find_by_request(self, request: Request) -> list[str]:
        return [name for name, cls in self._spiders.items() if cls.handles_request(request)]

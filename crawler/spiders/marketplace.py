"""The one generic marketplace spider. It only decides which URLs to visit;
turning a page into a listing is `crawler.extractors.listing.extract_listing`.

Three ways in, combinable: the site config's start pages and link selectors, search pages
(the site's search URL queried with lexicon terms, `crawler.search`), and discovery mode for a
site with no config at all (`crawler.extractors.discovery` tells listing links, next pages and
JavaScript shells apart; `wildwatch crawl --url`).
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, AsyncIterator, Iterable

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy_playwright.page import PageMethod

from crawler.browser import BrowserNotFoundError
from crawler.extractors.discovery import (
    DeadLinkPatterns, classify_links, content_listing_links, is_http_url, is_listing_page, looks_like_js_shell, lower_scheme,
)
from crawler.extractors.listing import (
    Extraction, ExtractionError, apply_rule, extract_listing, fallback_listing_id, listing_id_from_url,
)
from crawler.items import ListingItem, listing_from_fields
from crawler.jsonreplay import EXTRACTION as JSON_EXTRACTION, JsonReplay
from crawler.pageguard import SIZE_GUARD_JS, describe_skip, skip_reason, tree_was_cut
from crawler.resume import CrawlJournal, ResumeState, page_key
from crawler.siteconfig import FieldRule, SiteConfig
from crawler.stats import STAT

REQUIRED_FIELDS = ("title", "description")

# Waits, inside the browser, until a client-rendered page has settled: its mount point filled,
# a heading or Product data present (or plenty of text), and the text unchanged for 400 ms.
SETTLE_JS = """(timeoutMs) => new Promise((resolve) => {
  const deadline = Date.now() + timeoutMs;
  let last = -1, stableSince = Date.now();
  const mount = ["app", "root", "__next", "__nuxt"].map((id) => document.getElementById(id)).find(Boolean);
  const tick = () => {
    const text = document.body ? document.body.innerText : "";
    if (text.length !== last) { last = text.length; stableSince = Date.now(); }
    const mounted = !mount || mount.innerText.trim().length > 40 ||
      mount.querySelector("h1, [itemprop], script[type='application/ld+json']");
    const h1 = document.querySelector("h1");
    const ready = mounted && ((h1 && h1.textContent.trim()) ||
      document.querySelector("script[type='application/ld+json']") || text.length > 400);
    if ((ready && Date.now() - stableSince >= 400) || Date.now() > deadline) { resolve(text.length); return; }
    setTimeout(tick, 100);
  };
  tick();
})"""


class MarketplaceSpider(scrapy.Spider):
    """Walks hub, search and result pages of one marketplace and extracts each detail page.

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
        # Resuming a killed crawl (crawler.resume): set up in from_crawler, confirmed by the store pipeline.
        self.journal: CrawlJournal | None = None
        self.resume: ResumeState | None = None
        self.search_terms: list[str] = []
        # Discovery mode: link shapes that mostly lead to 404/410 are no longer followed.
        self.dead_links = DeadLinkPatterns()
        # JavaScript pages read from their learned JSON endpoint (crawler.jsonreplay); set up in from_crawler.
        self.json_replay: JsonReplay | None = None

    @classmethod
    def from_crawler(cls, crawler, *args: Any, **kwargs: Any):
        problem = crawler.settings.get("WILDWATCH_BROWSER_ERROR")
        if problem:
            raise BrowserNotFoundError(problem)
        spider = super().from_crawler(crawler, *args, **kwargs)
        if crawler.settings.getbool("WILDWATCH_JSON_REPLAY", True) and spider.site.needs_browser_at_all():
            spider.json_replay = JsonReplay(spider, max_failures=crawler.settings.getint(
                "WILDWATCH_JSON_REPLAY_MAX_FAILURES", 3), wait_seconds=2 * spider.site.javascript.timeout_ms / 1000)
        state_dir = crawler.settings.get("WILDWATCH_STATE_DIR")
        # A distributed crawl (crawler.distributed) resumes from its shared state in Redis instead.
        if state_dir and not crawler.settings.get("WILDWATCH_REDIS_URL"):
            max_age = timedelta(hours=crawler.settings.getfloat("WILDWATCH_RESUME_MAX_AGE_HOURS", 24))
            spider.journal = CrawlJournal(Path(state_dir), spider.site.name, max_age=max_age)
            spider.resume = spider.journal.load()
        return spider

    # ---- requests -------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[scrapy.Request]:
        discover = self.site.discover.enabled
        for url in self.site.absolute_start_urls():
            if discover:
                yield self._request(url, self.parse_page, hops=0, chain=0)
            else:
                yield self._request(url, self.parse_index)
        for request in self._search_requests():
            yield request

    def _search_requests(self) -> list[scrapy.Request]:
        search = self.site.search
        if search is None or not self.crawler:
            return []
        from classifier.lexicon import LexiconError, load_lexicon
        from crawler.search import night_index, search_url, tonight_queries

        settings = self.crawler.settings
        try:
            lexicon = load_lexicon(settings.get("WILDWATCH_LEXICON_DIR")) if settings.get("WILDWATCH_LEXICON_DIR") \
                else load_lexicon()
        except LexiconError as exc:
            self.logger.error("search-seeded crawl skipped: %s", exc)
            self._count("search_errors")
            return []
        night = night_index(settings.get("WILDWATCH_NIGHT_INDEX"))
        self.search_terms = tonight_queries(search, lexicon, night)
        self.logger.info("searching %s for %d lexicon terms tonight (rotation %d): %s", self.site.name,
                         len(self.search_terms), night, ", ".join(self.search_terms[:20]))
        callback = self.parse_page if self.site.discover.enabled else self.parse_index
        requests = []
        for term in self.search_terms:
            self._count("search_queries")
            url = search_url(search, self.site.base_url, term)
            requests.append(self._request(url, callback, search_term=term, search_page=1, hops=1, chain=0))
        return requests

    def _request(self, url: str, callback, *, render: bool | None = None, **meta: Any) -> scrapy.Request:
        if render is None:
            render = self._wants_browser(url)
        if render:
            meta["playwright"] = True
            meta["dont_cache"] = True  # the browser fetches the page itself; no conditional headers
            js = self.site.javascript
            if self.site.discover.enabled or not js.wait_for:
                meta["playwright_page_methods"] = [PageMethod("evaluate", SETTLE_JS, js.timeout_ms)]
            else:
                meta["playwright_page_methods"] = [PageMethod("wait_for_selector", js.wait_for, timeout=js.timeout_ms)]
            # The rendered DOM is checked against the size limit inside the browser (crawler.pageguard).
            limit = self.crawler.settings.getint("DOWNLOAD_MAXSIZE") if self.crawler else 0
            if limit:
                meta["playwright_page_methods"].append(PageMethod("evaluate", SIZE_GUARD_JS, limit))
        priority = {self.parse_listing: 10}.get(callback, 0)
        if callback == self.parse_page:
            # Discovery: listings first, then pages nearer the start, so the page budget goes to what the
            # start pages link before the links of the links.
            priority = (10 if meta.get("listing_hint") else 0) - meta.get("hops", 0)
        detail = callback == self.parse_listing or bool(meta.get("listing_hint"))
        meta["wildwatch_page"] = "detail" if detail else "index"  # page guards act on the spider's pages only
        return scrapy.Request(url, callback=callback, errback=self.on_error, meta=meta, priority=priority,
                              dont_filter=bool(meta.pop("refetch", False)))

    def _wants_browser(self, url: str) -> bool:
        if self.site.discover.enabled:
            return self.site.discover.render == "always"
        return self.site.javascript.needs_browser(url)

    def _allowed(self, url: str) -> bool:
        return is_http_url(url) and not any(p.search(url) for p in self._deny)

    def _links(self, response: Response, selectors: Iterable[str]) -> list[str]:
        links = []
        for css in selectors:
            for value in apply_rule(response, FieldRule(selector=css), many=True):
                url = lower_scheme(response.urljoin(value))
                if self._allowed(url):
                    links.append(url)
        return links

    def _already_stored(self, url: str) -> str | None:
        """The listing id when a resumed crawl stored this detail page before it was killed."""
        if self.resume is None:
            return None
        key = page_key(url)
        listing_id = self.resume.stored.get(key)
        if listing_id is not None:
            self.discovered_ids.add(listing_id)
            if key not in self.seen_pages:
                self.seen_pages.add(key)
                self._count("listings_resumed")
        return listing_id

    # ---- callbacks: configured sites ------------------------------------------------------

    def parse_index(self, response: Response):
        """A hub, search or result page: follow hubs and next pages, request every listing."""
        if not _is_text(response):
            self._count("skipped/not_html")
            return
        self._count("index_pages")
        self._count_rendered(response)
        self._check_depth(response)
        listing_links = self._links(response, self.site.links.listing)
        for url in listing_links:
            listing_id = listing_id_from_url(url, self.site)
            if listing_id:
                self.discovered_ids.add(listing_id)
            if self._already_stored(url) is not None:
                continue
            yield self._request(url, self.parse_listing, listing_id=listing_id)
        next_meta = self._next_search_meta(response)
        if next_meta is None:
            return
        digest = page_digest(listing_links)
        if response.meta.get("chain", 0) > 0 and digest == response.meta.get("previous_digest"):
            # The same results as the page before: a "next" link that goes nowhere new (a calendar, a
            # page parameter the site ignores). Its next pages would repeat it forever.
            self._count("skipped/pagination_trap")
            self.logger.warning("not following next pages of %s: it repeats the page before (pagination trap)",
                                response.url)
            next_pages: list[str] = []
        else:
            next_pages = self._links(response, self.site.links.next_page)
        follow = [] if response.meta.get("search_term") else self._links(response, self.site.links.follow)
        for url in follow:
            yield self._request(url, self.parse_index, **{**next_meta, "chain": 0})
        for url in next_pages:
            yield self._request(url, self.parse_index, previous_digest=digest, **next_meta)

    def _next_search_meta(self, response: Response) -> dict | None:
        """Meta for pages after this one; None when a search has used its page allowance."""
        term = response.meta.get("search_term")
        if not term:
            return {"hops": response.meta.get("hops", 0), "chain": response.meta.get("chain", 0) + 1}
        page = response.meta.get("search_page", 1)
        if self.site.search and page >= self.site.search.max_pages_per_query:
            return None
        return {"search_term": term, "search_page": page + 1, "hops": response.meta.get("hops", 1),
                "chain": response.meta.get("chain", 0) + 1}

    def parse_listing(self, response: Response):
        """A detail page: one listing, or a counted, logged error that never stops the crawl."""
        self._count("listing_pages")
        self._count_rendered(response)
        if not _is_text(response):
            self._learn_from_render(response, None)
            self._count("skipped/not_html")
            self.logger.warning("skipped %s: not an HTML page (%s)", response.url,
                                response.headers.get("Content-Type", b"?").decode("latin-1"))
            return None
        self._check_depth(response)
        try:
            extraction = extract_listing(response.text, response.url, self.site)
        except ExtractionError as exc:
            self._learn_from_render(response, None)
            self._count("extraction_errors")
            self._count("missing/title")
            self.logger.warning("no listing extracted from %s: %s", response.url, exc)
            return None
        self._learn_from_render(response, extraction)
        return self._item(response, extraction)

    # ---- JavaScript pages read from their JSON endpoint (crawler.jsonreplay) -------------------

    async def record_json_response(self, response) -> None:
        """Playwright `response` handler of a page whose template is being learned (named in the request's
        meta, so requests stay serialisable)."""
        if self.json_replay is not None:
            await self.json_replay.on_response(response)

    def _learn_from_render(self, response: Response, extraction: Extraction | None) -> None:
        if self.json_replay is not None and response.meta.get("jsonapi_record"):
            self.json_replay.learned_from_render(response, extraction)

    async def parse_json_listing(self, response: Response):
        """A learned endpoint's answer: the listing built through the learned mapping, or the page rendered."""
        replay = self.json_replay
        page_url = response.meta["jsonapi_page"]
        key = response.meta["jsonapi_key"]
        if replay is None:
            return
        fields, reason = replay.read(response)
        if reason == "template_unconfirmed" and await replay.wait_confirmed(key):
            # Answered while one page's render told the template's transforms apart: read it now, not again.
            fields, reason = replay.read(response)
        if fields is None:
            relearning = reason in ("ambiguous", "template_unconfirmed")
            replay.failed(key, reason, page_url, counts_against=not relearning)
            # An ambiguous answer puts the template back to "candidate": the page goes through routing again,
            # where one recorded render tells the transforms apart while the template's other pages wait.
            yield self._render_instead(response.request, route=relearning)
            return
        replay.succeeded(key)
        self._count("listing_pages")
        template = replay.templates[key]
        if template.url_fields and not fields.get("listing_id"):
            fields["listing_id"] = listing_id_from_url(page_url, self.site) or fallback_listing_id(page_url)
        extraction = Extraction(fields=fields, sources={name: JSON_EXTRACTION for name in fields})
        yield self._item(response, extraction, url=page_url)

    def on_json_error(self, failure):
        """An endpoint that could not be read: robots.txt refusal, HTTP error, network failure. The page is rendered."""
        request = failure.request
        replay = self.json_replay
        if failure.check(HttpError):
            status = failure.value.response.status
            reason, against = ("endpoint_gone", False) if status in (404, 410) else (f"http_{status}", True)
            detail = f"HTTP {status}"
        elif failure.check(IgnoreRequest):
            # Refused on purpose (robots.txt, offsite, a size limit): this endpoint is not fetched again.
            reason = skip_reason(failure) or ("robots" if "robots" in str(failure.value).lower() else "refused")
            against, detail = False, str(failure.value)[:200]
        else:
            reason, against, detail = "download_error", True, repr(failure.value)[:200]
        if replay is not None:
            replay.failed(request.meta["jsonapi_key"], reason, request.meta["jsonapi_page"], counts_against=against,
                          detail=detail)
        return self._render_instead(request)

    def _render_instead(self, endpoint_request: scrapy.Request, route: bool = False) -> scrapy.Request:
        meta = {key: endpoint_request.meta[key] for key in ("listing_id", "listing_hint", "hops", "chain",
                                                            "search_term", "search_page", "found_on")
                if key in endpoint_request.meta}
        callback = getattr(self, endpoint_request.meta.get("jsonapi_callback") or "parse_listing")
        if not route:
            meta["jsonapi_render"] = True  # rendered, not routed to the endpoint again
        return self._request(endpoint_request.meta["jsonapi_page"], callback, render=True, refetch=True, **meta)

    # ---- callbacks: discovery mode (no config) ----------------------------------------------

    def parse_page(self, response: Response):
        """Any page of a site with no config: maybe a listing, maybe an index; its links are classified."""
        if not _is_text(response):
            self._learn_from_render(response, None)
            self._count("skipped/not_html")
            return
        self._check_depth(response)
        rendered = bool(response.meta.get("playwright"))
        hinted = bool(response.meta.get("listing_hint"))
        self._count_rendered(response)
        can_render = self.site.discover.render == "auto" and not rendered
        if can_render and looks_like_js_shell(response):
            self._count("render_retries")
            self.logger.info("rendering %s in Chromium: its HTML is an empty JavaScript shell", response.url)
            yield self._rerender(response)
            return

        extraction = self._listing_extraction(response, hinted)
        self._learn_from_render(response, extraction)
        if extraction is not None:
            self._count("listing_pages")
            yield self._item(response, extraction)
        elif hinted and can_render and response.xpath("//script") \
                and content_listing_links(response, response.url, self.site.base_url) < 4:
            # Linked like a listing, not an index, scripts on the page, but no listing in the raw HTML.
            self._count("render_retries")
            self.logger.info("rendering %s in Chromium: no listing in its raw HTML", response.url)
            yield self._rerender(response)
            return
        else:
            self._count("index_pages")
            if hinted:
                self._count("listing_candidates_rejected")

        hops = response.meta.get("hops", 0)
        chain = response.meta.get("chain", 0)
        links = classify_links(response, response.url, self.site.base_url)
        here = response.url
        for url in links.listings:
            if not self._follow(url, here) or self._already_stored(url) is not None:
                continue
            yield self._request(url, self.parse_page, listing_hint=True, hops=hops, chain=0, found_on=here)
        next_meta = self._next_search_meta(response)
        if next_meta is not None and chain < self.site.discover.max_pages_per_chain:
            for url in links.next_pages:
                if self._follow(url, here):
                    yield self._request(url, self.parse_page, found_on=here, **next_meta)
        if hops < self.site.discover.max_depth and extraction is None:
            for url in links.others:
                if self._follow(url, here):
                    yield self._request(url, self.parse_page, hops=hops + 1, chain=0, found_on=here)

    def _follow(self, url: str, found_on: str) -> bool:
        """A discovered link worth a request: allowed, and not of a pattern whose pages mostly do not exist."""
        if not self._allowed(url):
            return False
        if self.dead_links.is_dead(url, found_on):
            self._count("skipped/dead_link_pattern")
            return False
        return True

    def _listing_extraction(self, response: Response, hinted: bool) -> Extraction | None:
        """The page's listing when it is a listing page (`discovery.is_listing_page` decides), else None."""
        try:
            extraction = extract_listing(response.text, response.url, self.site)
        except ExtractionError:
            return None
        if is_listing_page(response, response.url, self.site.base_url, extraction, hinted):
            return extraction
        return None

    def _rerender(self, response: Response) -> scrapy.Request:
        meta = {key: response.meta[key] for key in ("listing_hint", "hops", "chain", "search_term", "search_page",
                                                     "found_on") if key in response.meta}
        return self._request(response.url, self.parse_page, render=True, refetch=True, **meta)

    # ---- items and errors -----------------------------------------------------------------

    def _item(self, response: Response, extraction: Extraction, url: str | None = None) -> ListingItem:
        fields = extraction.fields
        for name in REQUIRED_FIELDS:
            if not fields.get(name):
                self._count(f"missing/{name}")
        item = listing_from_fields(
            fields, marketplace=self.site.name, url=url or response.url, extraction=extraction.method,
            rendered=bool(response.meta.get("playwright")), crawled_at=datetime.now(timezone.utc),
            default_currency=self.site.currency,
        )
        listing_id = item.listing_id
        self.discovered_ids.add(listing_id)
        self._count("listings_extracted")
        return item

    def on_error(self, failure):
        """Download and HTTP errors are counted and logged; a missing detail page means the listing is gone."""
        request = failure.request
        if self.json_replay is not None and request.meta.get("jsonapi_record"):
            self.json_replay.abandon(request)
        is_detail = request.callback == self.parse_listing or request.meta.get("listing_hint")
        reason = skip_reason(failure)
        if reason == "dead_link_pattern":  # said once, when the pattern died (below); counted per request
            self._count(f"skipped/{reason}")
            return
        if reason is not None:
            # A page past a limit or a hostile page: skipped on purpose, counted by reason, not an error.
            self._count(f"skipped/{reason}")
            self.logger.warning("%s", describe_skip(reason, request.url, failure))
            if not is_detail:
                self._count("index_errors")  # listings behind this page were not seen: mark none gone
            return
        if failure.check(IgnoreRequest) and not failure.check(HttpError):
            # robots.txt, offsite and size limits: refused on purpose, counted apart from errors.
            self._count("requests_ignored")
            self.logger.debug("not fetched %s: %s", request.url, failure.value)
            return
        if failure.check(HttpError) and failure.value.response.status in (404, 410) and is_detail:
            listing_id = request.meta.get("listing_id")
            if listing_id:
                self.gone_ids.add(listing_id)
            self._count("listings_unavailable")
            self.logger.info("listing gone: %s (%s)", request.url, failure.value.response.status)
            return
        self._count("download_errors")
        if request.callback in (self.parse_index, self.parse_page):
            # Listings behind this page were not seen tonight. (In discovery mode a failed detail page
            # counts too: its listing's id is only known from the page, so it cannot be kept alive.)
            self._count("index_errors")
        reason = failure.value.response.status if failure.check(HttpError) else repr(failure.value)
        self.logger.warning("failed to fetch %s: %s", request.url, reason)

    def _check_depth(self, response: Response) -> None:
        """Count a page nested deeper than the parser's limit: it is read only as far as that."""
        if tree_was_cut(response.selector):
            self._count("repaired/too_deep")
            self.logger.warning("%s: markup nested deeper than the parser's limit; read as far as the limit",
                                response.url)

    def _count_rendered(self, response: Response) -> None:
        if response.meta.get("playwright"):
            self._count("rendered_pages")

    def _count(self, key: str) -> None:
        if self.crawler and self.crawler.stats:
            self.crawler.stats.inc_value(STAT + key)

    def live_listing_ids(self) -> set[str]:
        """Ids the marketplace still offers: linked tonight and not answered with 404/410."""
        return self.discovered_ids - self.gone_ids


def page_digest(links: list[str]) -> str:
    """What a result page offers: its listing links, in any order (for the pagination-trap check)."""
    import hashlib

    return hashlib.sha1("\n".join(sorted(set(links))).encode("utf-8")).hexdigest()


def _is_text(response: Response) -> bool:
    return isinstance(response, scrapy.http.TextResponse)

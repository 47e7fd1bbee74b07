"""Listing images, fetched after the listing is stored and through the same politeness as pages.

`ImagesPipeline` comes after the store pipeline: it hands the listing on at once and asks the engine to
fetch its pictures as ordinary low-priority requests, so robots.txt, AutoThrottle, the per-site delay and
concurrency, retries with backoff and the conditional-request cache apply to images exactly as to pages,
and listing pages are fetched first. Each answer is checked (wildwatch.images.inspect: limits, type,
decodes, SHA-256, pHash) in a worker thread, and written in batches to the store (store.images): the file
once by content hash, the listing↔picture row against the listing's newest snapshot. A refused picture
(404, an HTML page served as image/png, over the size limit, corrupt, over the per-listing count) is
counted as `wildwatch/images/refused/<reason>` and recorded with its reason; the listing is never touched.

At most WILDWATCH_IMAGES_QUEUED picture requests are in Scrapy's scheduler or downloader at once; the
pictures wanted beyond that wait as bare URLs and are requested as answers come back (and when the crawl
would otherwise go idle), so a night's memory does not grow by a Request per picture.

Settings: WILDWATCH_IMAGES (on unless "0"/"false"; `--no-images`, or the environment variable),
WILDWATCH_IMAGES_MAX_PER_LISTING, WILDWATCH_IMAGES_MAX_MB, WILDWATCH_IMAGES_TYPES (comma-separated),
WILDWATCH_IMAGES_QUEUED.
"""
from __future__ import annotations

import logging
import time
from collections import defaultdict, deque
from pathlib import Path
from urllib.parse import urlsplit

from scrapy import Request, signals
from scrapy.exceptions import DontCloseSpider, IgnoreRequest
from twisted.internet import threads

from crawler.items import ListingItem
from crawler.stats import IMAGES, RUN_ID
from wildwatch.images.inspect import ImageLimits, Refusal, check_image

logger = logging.getLogger(__name__)
META = "wildwatch_image"
#: Below every page request (the spider's priorities are >= 0): pictures wait until pages are fetched.
PRIORITY = -100


def images_enabled(settings) -> bool:
    """WILDWATCH_IMAGES from the Scrapy settings (set from the environment by crawler.settings)."""
    from crawler.settings import required

    return required(settings, "WILDWATCH_IMAGES", "getbool")


def limits_from(settings) -> ImageLimits:
    """The per-listing picture limits of the crawl's settings (their defaults: crawler.settings)."""
    from crawler.settings import required

    types = required(settings, "WILDWATCH_IMAGES_TYPES")
    if isinstance(types, str):
        types = [t.strip().lower() for t in types.split(",") if t.strip()]
    return ImageLimits(
        max_per_listing=required(settings, "WILDWATCH_IMAGES_MAX_PER_LISTING", "getint"),
        max_bytes=int(required(settings, "WILDWATCH_IMAGES_MAX_MB", "getfloat") * 1024 * 1024),
        allowed_types=tuple(types),
    )


def _keep_page_budget_for_pages(crawler) -> None:
    """A site's page budget (CLOSESPIDER_PAGECOUNT) counts pages, not their pictures.

    Scrapy's CloseSpider extension counts every response; its counter is fed only the non-image ones, so
    turning images on never cuts a crawl short (a partial crawl marks no listing gone).
    """
    from scrapy.extensions.closespider import CloseSpider

    for extension in getattr(crawler.extensions, "middlewares", ()):
        if isinstance(extension, CloseSpider) and extension.close_on.get("pagecount"):
            crawler.signals.disconnect(extension.page_count, signal=signals.response_received)

            def page_count(response, request, spider, _extension=extension):
                if META not in request.meta:
                    _extension.page_count(response, request, spider)

            crawler.signals.connect(page_count, signal=signals.response_received, weak=False)


class ImagesPipeline:
    """Schedules each stored listing's pictures and writes what came back; never holds a listing up."""

    def __init__(self, crawler, database_url: str, data_dir: Path, limits: ImageLimits, enabled: bool,
                 batch_size: int = 200, flush_seconds: float = 5.0, queued: int = 64):
        self.crawler = crawler
        self.database_url = database_url
        self.data_dir = Path(data_dir)
        self.limits = limits
        self.enabled = enabled
        self.batch_size = batch_size
        self.flush_seconds = flush_seconds
        self.buffer: list = []  # store.images.ImageObservation
        self.last_flush = time.monotonic()
        self.results: dict[str, object] = {}  # url -> CheckedImage | Refusal, for pictures shared by listings
        self.waiting: dict[str, list[tuple[str, int]]] = defaultdict(list)  # url -> (listing id, position)
        self.max_queued = max(1, queued)  # picture requests in Scrapy's hands at once
        self.in_scrapy = 0
        self.held: deque[str] = deque()  # picture URLs not requested yet, oldest first
        self.engine = None
        self.marketplace_id: int | None = None

    @classmethod
    def from_crawler(cls, crawler):
        from crawler.settings import required

        settings = crawler.settings
        enabled = images_enabled(settings)
        if enabled and settings.get("WILDWATCH_REDIS_URL"):
            # Shared Redis queues serialise requests by spider method; pictures of distributed crawls are
            # fetched by the next single-process crawl of the site instead.
            logger.info("listing images are not fetched by distributed crawl workers")
            enabled = False
        pipeline = cls(crawler, required(settings, "WILDWATCH_DATABASE_URL"), required(settings, "WILDWATCH_DATA_DIR"),
                       limits_from(settings), enabled,
                       flush_seconds=required(settings, "WILDWATCH_STORE_FLUSH_SECONDS", "getfloat"),
                       queued=required(settings, "WILDWATCH_IMAGES_QUEUED", "getint"))
        if enabled:
            _keep_page_budget_for_pages(crawler)
            crawler.signals.connect(pipeline.spider_idle, signal=signals.spider_idle)
            # Connected after the store pipeline's handler (pipelines are built in order): the last
            # listings are in the database before the last pictures are linked to them.
            crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    @property
    def stats(self):
        return self.crawler.stats

    def _count(self, key: str, value: int = 1) -> None:
        if self.stats is not None:
            self.stats.inc_value(IMAGES + key, value)

    def process_item(self, item: ListingItem) -> ListingItem:
        if not self.enabled or not item.images:
            return item
        urls = [url for url in item.images if urlsplit(url).scheme in ("http", "https")]
        for url in item.images:
            if url not in urls:
                self._observe(item.listing_id, url, item.images.index(url), refusal=Refusal("not_http", url[:100]))
        for position, url in enumerate(urls):
            if position >= self.limits.max_per_listing:
                self._observe(item.listing_id, url, position,
                              refusal=Refusal("over_count", f"limit {self.limits.max_per_listing} per listing"))
                continue
            self._want(item.listing_id, url, position)
        return item

    def _want(self, listing_id: str, url: str, position: int) -> None:
        if url in self.results:  # the same picture URL on another listing of this crawl: fetched once
            self._deliver(url, [(listing_id, position)])
            return
        first = url not in self.waiting
        self.waiting[url].append((listing_id, position))
        if first:
            self.held.append(url)
            self._release()

    def _release(self) -> None:
        """Hand held picture URLs to Scrapy while fewer than `max_queued` of its requests are pictures."""
        while self.held and self.in_scrapy < self.max_queued:
            url = self.held.popleft()
            request = Request(url, callback=self._on_response, errback=self._on_error, priority=PRIORITY,
                              dont_filter=True,
                              meta={META: True, "download_maxsize": self.limits.max_bytes,
                                    "handle_httpstatus_all": True})
            self.in_scrapy += 1
            self._count("requested")
            if self.stats is not None:
                self.stats.max_value(IMAGES + "most_requested_at_once", self.in_scrapy)
            self.crawler.engine.crawl(request)

    def _answered(self) -> None:
        self.in_scrapy = max(0, self.in_scrapy - 1)
        self._release()

    def spider_idle(self, spider) -> None:
        """Pictures still held when the pages are done: request them, and keep the crawl open for them.

        An idle engine has no request left, so none of ours is in Scrapy's hands whatever the count says
        (a request dropped without its callback or errback would otherwise hold a place for good)."""
        if self.held:
            self.in_scrapy = 0
            self._release()
            raise DontCloseSpider

    async def _on_response(self, response):
        from scrapy.utils.defer import maybe_deferred_to_future

        try:
            self._count("responses")
            if "cached" in response.flags:  # revalidated (304): counted apart from the pages' 304s
                self._count("not_modified")
            if response.status != 200:
                result = Refusal(f"http_{response.status}", f"HTTP {response.status}")
            else:
                content_type = response.headers.get(b"Content-Type")
                # Decoding and hashing run in a thread: a large photo never stalls the crawl's event loop.
                result = await maybe_deferred_to_future(
                    threads.deferToThread(check_image, bytes(response.body), content_type, self.limits))
            self.results[response.request.url] = result
            self._deliver(response.request.url, self.waiting.pop(response.request.url, []))
        finally:
            self._answered()
        return None

    def _on_error(self, failure):
        from crawler.pageguard import skip_reason

        request = failure.request
        if failure.check(IgnoreRequest):
            reason = "robots" if "robots" in str(failure.value).lower() or not str(failure.value) else "refused"
        else:
            reason = "too_large" if skip_reason(failure) == "too_large" else "download_error"
        result = Refusal(reason, f"{failure.type.__name__}: {str(failure.value)[:160]}")
        try:
            self.results[request.url] = result
            self._deliver(request.url, self.waiting.pop(request.url, []))
        finally:
            self._answered()

    def _deliver(self, url: str, wanted: list[tuple[str, int]]) -> None:
        result = self.results[url]
        for listing_id, position in wanted:
            if isinstance(result, Refusal):
                self._observe(listing_id, url, position, refusal=result)
            else:
                self._observe(listing_id, url, position, image=result)

    def _observe(self, listing_id: str, url: str, position: int, *, image=None, refusal=None) -> None:
        from store.columns import utcnow
        from store.images import ImageObservation

        if refusal is not None:
            self._count(f"refused/{refusal.reason}")
            logger.info("image refused (%s): %s %s", refusal.reason, url, refusal.detail)
        else:
            self._count("fetched")
        self.buffer.append(ImageObservation(listing_id, url, position, image=image, refusal=refusal,
                                            seen_at=utcnow()))
        if len(self.buffer) >= self.batch_size or time.monotonic() - self.last_flush >= self.flush_seconds:
            self.flush()

    def flush(self, final: bool = False) -> None:
        """Write buffered observations; those whose listing is not in the database yet wait for the next flush."""
        from store.db import describe_error, make_engine
        from store.images import record_observations
        from store.retry import run_in_transaction

        self.last_flush = time.monotonic()
        if not self.buffer:
            return
        run_id = self.stats.get_value(RUN_ID) if self.stats else None
        if run_id is None:
            return  # the crawl run is not open yet (or could not be): nothing to link to
        batch, self.buffer = self.buffer, []
        try:
            if self.engine is None:
                self.engine = make_engine(self.database_url)
            marketplace_id = self._marketplace_id()
            pending = run_in_transaction(
                self.engine,
                lambda session: record_observations(session, marketplace_id, run_id, batch, self.data_dir),
                what=f"storing {len(batch)} listing images of crawl run {run_id}")
        except Exception as exc:  # the pictures are lost for tonight; the listings are not affected
            logger.warning("listing images not stored (%d): %s", len(batch), describe_error(exc))
            self._count("store_errors")
            return
        stored = len(batch) - len(pending)
        self._count("recorded", stored)
        self._let_go_of_bytes(batch, pending)
        if final and pending:
            self._count("unlinked", len(pending))
            logger.warning("%d listing images belong to listings that were not stored", len(pending))
        elif pending:
            self.buffer.extend(pending)

    def _let_go_of_bytes(self, batch: list, pending: list) -> None:
        """Keep a body-less record of each picture whose file is written: a picture shared by later listings
        needs only its hash and size, and a night of thousands of listings must not hold every picture's bytes."""
        waiting = {id(observation) for observation in pending}
        for observation in batch:
            image = observation.image
            if image is not None and id(observation) not in waiting and self.results.get(observation.url) is image:
                self.results[observation.url] = image.without_body()

    def _marketplace_id(self) -> int:
        from sqlalchemy import select

        from store.db import session_scope
        from store.models import Marketplace

        if self.marketplace_id is None:
            with session_scope(self.engine) as session:
                self.marketplace_id = session.scalar(
                    select(Marketplace.id).where(Marketplace.name == self.crawler.spider.site.name))
        return self.marketplace_id

    def close_spider(self) -> None:
        """Pictures of the last listings are linked before the crawl run is closed, so its stats count them.

        Pipelines close in reverse order (this one before the store): the store's last batch is written
        first, then every picture that waits for it.
        """
        if not self.enabled:
            return
        for pipeline in self.crawler.engine.scraper.itemproc.middlewares if self.crawler.engine else ():
            if pipeline is not self and hasattr(pipeline, "flush") and hasattr(pipeline, "spool_pending"):
                try:
                    pipeline.flush()
                except Exception:  # the store reports its own failures when it closes
                    logger.debug("store flush before images failed", exc_info=True)
        self.flush()

    def spider_closed(self, spider, reason: str) -> None:
        try:
            self.flush(final=True)
        finally:
            if self.engine is not None:
                self.engine.dispose()
                self.engine = None

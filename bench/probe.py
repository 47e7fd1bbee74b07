"""A Scrapy extension for the benchmarks: when the first and last responses of a crawl arrived.

Scrapy's own start/finish times include start-up and the idle wait before a
spider closes, a fixed few seconds that would flatter any slow stage of a short
crawl.  Pages divided by (last response - first response) is the crawl's
steady rate.  Enabled only in benchmark runs, via ``BENCH_CLOCK_FILE``.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

from scrapy import signals
from scrapy.exceptions import NotConfigured

__all__ = ["ResponseClock", "steady_rate"]


class ResponseClock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.first: float | None = None
        self.last: float | None = None
        self.count = 0
        # Pages apart from listing images (crawler.images): images are fetched after the pages, so the
        # steady page rate says whether fetching them slows the crawl of pages down.
        self.page_first: float | None = None
        self.page_last: float | None = None
        self.pages = 0
        self.images = 0

    @classmethod
    def from_crawler(cls, crawler):
        path = crawler.settings.get("BENCH_CLOCK_FILE")
        if not path:
            raise NotConfigured("BENCH_CLOCK_FILE is not set")
        clock = cls(Path(path))
        crawler.signals.connect(clock.response_received, signal=signals.response_received)
        crawler.signals.connect(clock.spider_closed, signal=signals.spider_closed)
        return clock

    def response_received(self, *args, **kwargs) -> None:
        now = time.perf_counter()
        if self.first is None:
            self.first = now
        self.last = now
        self.count += 1
        request = kwargs.get("request")
        if request is not None and "wildwatch_image" in request.meta:
            self.images += 1
            return
        if self.page_first is None:
            self.page_first = now
        self.page_last = now
        self.pages += 1

    def spider_closed(self, *args, **kwargs) -> None:
        span = (self.last - self.first) if self.first is not None and self.last is not None else None
        page_span = (self.page_last - self.page_first) if self.page_first is not None else None
        self.path.write_text(json.dumps({"responses": self.count, "span_seconds": span, "page_responses": self.pages,
                                         "page_span_seconds": page_span, "image_responses": self.images}),
                             encoding="utf-8")


def steady_rate(clock: dict) -> float | None:
    """Page responses per second between the first and the last page (None for fewer than two).

    Listing images are left out: they are not pages, and a crawl fetches them after its pages.
    """
    if "page_responses" in clock:
        span, count = clock.get("page_span_seconds"), clock.get("page_responses", 0)
    else:
        span, count = clock.get("span_seconds"), clock.get("responses", 0)
    if not span or count < 2:
        return None
    return (count - 1) / span

"""The images pipeline hands Scrapy at most WILDWATCH_IMAGES_QUEUED picture requests at once; the rest wait as
bare URLs and go out as answers come back, or when the crawl would otherwise go idle (tests/e2e/test_images_crawl.py
runs the whole thing against a shop)."""
from __future__ import annotations

import pytest
from scrapy.exceptions import DontCloseSpider, IgnoreRequest
from twisted.python.failure import Failure

from crawler.images import ImagesPipeline
from crawler.items import ListingItem
from crawler.stats import IMAGES
from wildwatch.images.inspect import ImageLimits


class _Stats:
    def __init__(self) -> None:
        self.values: dict[str, int] = {}

    def inc_value(self, key, count=1):
        self.values[key] = self.values.get(key, 0) + count

    def max_value(self, key, value):
        self.values[key] = max(self.values.get(key, value), value)


class _Engine:
    def __init__(self) -> None:
        self.requests = []

    def crawl(self, request):
        self.requests.append(request)


class _Crawler:
    def __init__(self) -> None:
        self.stats, self.engine = _Stats(), _Engine()


def _pipeline(tmp_path, queued: int) -> ImagesPipeline:
    limits = ImageLimits(max_per_listing=5)
    return ImagesPipeline(_Crawler(), f"sqlite:///{tmp_path / 'w.db'}", tmp_path, limits, True, queued=queued,
                          batch_size=1000)


def _refuse(pipeline: ImagesPipeline, request) -> None:
    failure = Failure(IgnoreRequest("robots.txt"))
    failure.request = request
    pipeline._on_error(failure)


def test_at_most_the_set_number_of_picture_requests_are_in_scrapys_hands(tmp_path):
    pipeline = _pipeline(tmp_path, queued=2)
    sent = pipeline.crawler.engine.requests
    pipeline.process_item(ListingItem(marketplace="shop", listing_id="L1", url="http://shop.test/1", title="t",
                                      images=[f"http://shop.test/{n}.png" for n in range(4)]))
    pipeline.process_item(ListingItem(marketplace="shop", listing_id="L2", url="http://shop.test/2", title="t",
                                      images=["http://shop.test/0.png", "http://shop.test/9.png"]))  # 0 shared
    assert [r.url for r in sent] == ["http://shop.test/0.png", "http://shop.test/1.png"]
    assert list(pipeline.held) == ["http://shop.test/2.png", "http://shop.test/3.png", "http://shop.test/9.png"]
    _refuse(pipeline, sent[0])  # an answer frees a place: the oldest held URL goes out
    assert [r.url for r in sent][2:] == ["http://shop.test/2.png"]
    assert {(o.external_id, o.url) for o in pipeline.buffer} == {("L1", "http://shop.test/0.png"),
                                                               ("L2", "http://shop.test/0.png")}
    while len(sent) < 5:
        _refuse(pipeline, sent[len(sent) - 2])
    assert not pipeline.held and [r.url for r in sent][3:] == ["http://shop.test/3.png", "http://shop.test/9.png"]
    assert pipeline.crawler.stats.values[IMAGES + "most_requested_at_once"] == 2
    assert pipeline.crawler.stats.values[IMAGES + "requested"] == 5  # each URL once


def test_held_pictures_keep_an_idle_crawl_open_until_they_are_requested(tmp_path):
    pipeline = _pipeline(tmp_path, queued=1)
    pipeline.process_item(ListingItem(marketplace="shop", listing_id="L1", url="http://shop.test/1", title="t",
                                      images=["http://shop.test/a.png", "http://shop.test/b.png"]))
    assert len(pipeline.crawler.engine.requests) == 1 and list(pipeline.held) == ["http://shop.test/b.png"]
    # The first request vanished without an answer (the engine is idle): its place is not held for good.
    with pytest.raises(DontCloseSpider):
        pipeline.spider_idle(None)
    assert [r.url for r in pipeline.crawler.engine.requests] == ["http://shop.test/a.png", "http://shop.test/b.png"]
    pipeline.spider_idle(None)  # nothing held: the crawl may close

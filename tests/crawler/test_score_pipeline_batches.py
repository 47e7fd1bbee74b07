"""ScorePipeline scores listings in batches (one score_many call each) and keeps per-listing behaviour."""
from __future__ import annotations

import pytest
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler

from crawler.items import ListingItem
from crawler.pipelines import ScorePipeline


def item(n: int, title: str = "出售 犀牛角 整只 私聊") -> ListingItem:
    return ListingItem(marketplace="demo", listing_id=str(n), url=f"http://127.0.0.1/item/{n}", title=title,
                       description="", price=1200.0, currency="CNY")


def stats():
    return MemoryStatsCollector(get_crawler())


class CountingScorer:
    """The trained scorer, counting how it is called; a listing titled "boom" fails to score."""

    def __init__(self, scorer):
        self.inner = scorer
        self.batches: list[int] = []
        self.single = 0

    def score_many(self, records):
        records = list(records)
        self.batches.append(len(records))
        if any(r["title"] == "boom" for r in records):
            raise RuntimeError("boom")
        return self.inner.score_many(records)

    def score(self, title, description="", **kwargs):
        self.single += 1
        if title == "boom":
            raise RuntimeError("boom")
        return self.inner.score(title, description, **kwargs)


def _submit(pipeline: ScorePipeline, items: list[ListingItem]) -> list:
    """process_item for each; returns the Deferreds the pipeline step waits on (its awaitables closed)."""
    for it in items:
        awaitable = pipeline.process_item(it)
        assert awaitable is not it  # the listing waits for its batch
        awaitable.close()
    return [waiting for _, waiting in pipeline.pending]


def test_a_full_batch_is_scored_in_one_call_and_each_listing_gets_its_own_score(trained_scorer, monkeypatch):
    timers = []
    monkeypatch.setattr("twisted.internet.reactor.callLater",
                        lambda delay, fn: timers.append((delay, fn)) or _Timer())
    scorer, collector = CountingScorer(trained_scorer), stats()
    pipeline = ScorePipeline(scorer, collector, batch_size=3, wait_seconds=0.5)
    items = [item(1), item(2, "iPhone 15 手机壳 全新"), item(3, "象牙手镯 老货")]
    waits = _submit(pipeline, items[:2])
    assert timers and timers[0][0] == 0.5  # the first waiting listing starts the clock
    assert not any(w.called for w in waits) and all(i.score is None for i in items[:2])
    last = pipeline.process_item(items[2])  # the batch is full: scored at once
    last.close()
    assert scorer.batches == [3] and scorer.single == 0
    assert all(w.called for w in waits) and not pipeline.pending
    for it in items:
        expected = trained_scorer.score(it.title, it.description, price=it.price, currency=it.currency)
        got, want = dict(it.score), expected.to_dict()
        # A batch's matrix product may round the last bit differently from a batch of one.
        assert got.pop("score") == pytest.approx(want.pop("score"), abs=1e-12)
        assert got == want  # evidence, flag, species, taxon: identical
    assert collector.get_value("wildwatch/listings_flagged") == sum(i.score["flagged"] for i in items)


class _Timer:
    def __init__(self):
        self.cancelled = False

    def active(self):
        return not self.cancelled

    def cancel(self):
        self.cancelled = True


def test_a_listing_that_fails_is_counted_and_the_others_are_scored(trained_scorer, monkeypatch):
    monkeypatch.setattr("twisted.internet.reactor.callLater", lambda delay, fn: _Timer())
    scorer, collector = CountingScorer(trained_scorer), stats()
    pipeline = ScorePipeline(scorer, collector, batch_size=10)
    items = [item(1), item(2, "boom"), item(3, "象牙手镯 老货")]
    waits = _submit(pipeline, items)
    pipeline.close_spider()  # the spider closes with a partial batch: it is scored, not lost
    assert scorer.batches == [3] and scorer.single == 3
    assert all(w.called for w in waits)
    assert items[1].score is None and items[0].score and items[2].score
    assert collector.get_value("wildwatch/score_errors") == 1


def test_the_timer_scores_a_partial_batch(trained_scorer, monkeypatch):
    timers = []
    monkeypatch.setattr("twisted.internet.reactor.callLater", lambda delay, fn: timers.append(fn) or _Timer())
    pipeline = ScorePipeline(CountingScorer(trained_scorer), stats(), batch_size=100)
    waits = _submit(pipeline, [item(1), item(2)])
    assert len(timers) == 1  # one clock per batch, not one per listing
    timers[0]()
    assert all(w.called for w in waits) and pipeline.pending == []


def test_batch_size_one_scores_synchronously(trained_scorer):
    it = item(1)
    assert ScorePipeline(trained_scorer, stats()).process_item(it) is it
    assert it.score["species"] == "rhino_horn"


@pytest.mark.parametrize("options", [{"batch_size": 0}, {"wait_seconds": 0}])
def test_bad_settings_are_refused(options):
    with pytest.raises(ValueError, match="WILDWATCH_SCORE_"):
        ScorePipeline(object(), **options)

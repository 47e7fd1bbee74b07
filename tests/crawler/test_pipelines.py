"""Each pipeline called directly: what it changes, what it drops and why."""
import pytest
from scrapy.exceptions import DropItem
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler

from crawler.items import ListingItem
from crawler.pipelines import DeduplicatePipeline, NormalisePipeline, ScorePipeline, ValidatePipeline, clean_text


def item(**overrides) -> ListingItem:
    fields = dict(marketplace="m", listing_id="1", url="http://127.0.0.1/item/1", title="t")
    fields.update(overrides)
    return ListingItem(**fields)


def stats():
    return MemoryStatsCollector(get_crawler())


def test_clean_text_removes_controls_and_folds_spaces():
    assert clean_text("  a\x00b \t\u3000 c \n d ") == "ab c d"
    assert clean_text("p1\r\n\r\n\r\n  p2  ", multiline=True) == "p1\n\np2"
    assert clean_text(None) is None


def test_normalise_caps_lengths_and_dedupes_images():
    result = NormalisePipeline().process_item(item(
        title="x" * 5000, description="d\x07", images=["a", "a", "", "b"], currency=" usd ", seller_name="  ",
    ))
    assert len(result.title) == 1000
    assert result.description == "d"
    assert result.images == ["a", "b"]
    assert result.currency == "USD"
    assert result.seller_name is None


@pytest.mark.parametrize("overrides,reason", [
    ({"title": ""}, "missing_title"),
    ({"listing_id": ""}, "missing_id"),
    ({"url": "file:///etc/passwd"}, "bad_url"),
])
def test_validate_drops_and_counts(overrides, reason):
    collector = stats()
    with pytest.raises(DropItem):
        ValidatePipeline(collector).process_item(item(**overrides))
    assert collector.get_value(f"wildwatch/dropped/{reason}") == 1


def test_validate_blanks_an_impossible_price():
    assert ValidatePipeline().process_item(item(price=float("nan"))).price is None
    assert ValidatePipeline().process_item(item(price=-3.0)).price is None
    assert ValidatePipeline().process_item(item(price=12.5)).price == 12.5


def test_deduplicate_drops_second_sighting_only_within_marketplace():
    collector = stats()
    pipeline = DeduplicatePipeline(collector)
    pipeline.process_item(item())
    pipeline.process_item(item(marketplace="other"))
    with pytest.raises(DropItem):
        pipeline.process_item(item(url="http://127.0.0.1/item/1?ref=related"))
    assert collector.get_value("wildwatch/dropped/duplicate") == 1


class ExplodingScorer:
    version = "x"

    def score(self, *args, **kwargs):
        raise RuntimeError("boom")


def test_score_failure_is_counted_and_the_listing_kept():
    collector = stats()
    result = ScorePipeline(ExplodingScorer(), collector).process_item(item())
    assert result.score is None
    assert collector.get_value("wildwatch/score_errors") == 1


def test_score_attaches_evidence(trained_scorer):
    collector = stats()
    result = ScorePipeline(trained_scorer, collector).process_item(item(title="出售 犀牛角 整只 私聊"))
    assert result.score["flagged"] is True
    assert result.score["species"] == "rhino_horn"
    assert any(e["term"] for e in result.score["evidence"])
    assert collector.get_value("wildwatch/listings_flagged") == 1


def test_content_hash_changes_with_content_only():
    a, b = item(crawled_at="2026-01-01"), item(crawled_at="2026-02-02")
    assert a.content_hash() == b.content_hash()
    assert item(price=1.0).content_hash() != a.content_hash()
    assert item(images=["http://img1.cdn.example/p/1.jpg"]).content_hash() == \
        item(images=["http://img7.cdn.example/p/1.jpg"]).content_hash()
    assert item(images=["http://cdn.example/p/1.jpg"]).content_hash() != \
        item(images=["http://cdn.example/p/2.jpg"]).content_hash()

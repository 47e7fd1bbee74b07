"""Search-term rotation, the resume journal and the politeness middlewares, each on its own."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse, Request
from scrapy.settings import Settings

from crawler.middlewares import RevalidatePolicy, retry_after_seconds
from crawler.resume import CrawlJournal
from crawler.search import pick_terms, search_url, terms_by_group
from crawler.siteconfig import Search, SiteConfigError, load_site_config

GROUPS = {"ivory": ["象牙", "牙雕", "ivory", "猛犸"], "pangolin": ["穿山甲", "山甲片"], "tiger": ["虎骨", "虎牙", "虎皮"]}


def test_terms_rotate_by_night_within_the_cap_and_every_group_gets_a_turn():
    tonight = pick_terms(GROUPS, per_night=3, night=0)
    assert len(tonight) == 3 and len(set(tonight)) == 3
    assert {group for group, terms in GROUPS.items() if set(terms) & set(tonight)} == set(GROUPS)
    seen = set()
    for night in range(6):
        terms = pick_terms(GROUPS, per_night=3, night=night)
        assert len(terms) == 3
        seen.update(terms)
    assert seen == {t for terms in GROUPS.values() for t in terms}  # a week covers the whole list
    assert pick_terms(GROUPS, 3, 0) == pick_terms(GROUPS, 3, 0)     # deterministic
    assert pick_terms(GROUPS, 3, 0) != pick_terms(GROUPS, 3, 1)
    assert pick_terms({}, 5, 1) == [] and len(pick_terms(GROUPS, 100, 2)) == 9


def test_terms_come_from_the_lexicon_by_group_and_kind():
    from classifier.lexicon import load_lexicon

    lexicon = load_lexicon()
    by_group = terms_by_group(lexicon, ["pangolin"], ["product", "species", "coded"])
    assert list(by_group) == ["pangolin"] and "穿山甲" in by_group["pangolin"]
    excluded = {e.term for e in lexicon.entries if e.group == "pangolin" and e.kind in ("exclusion", "intent")}
    assert not excluded & set(by_group["pangolin"])


def test_search_terms_are_in_the_sites_languages_and_its_encoding_can_write_them():
    from classifier.lexicon import load_lexicon

    lexicon = load_lexicon()
    everything = terms_by_group(lexicon, ["rhino_horn"], ["product"])["rhino_horn"]
    assert "sừng tê giác" in everything and "犀角" in everything
    chinese_shop = terms_by_group(lexicon, ["rhino_horn"], ["product"], ["zh", "en"], "gbk")["rhino_horn"]
    assert "犀角" in chinese_shop and "rhino horn" in chinese_shop
    assert "sừng tê giác" not in chinese_shop and "cuerno de rinoceronte" not in chinese_shop
    # A language asked for whose terms the encoding cannot write: left out, not garbled.
    assert "sừng tê giác" not in terms_by_group(lexicon, ["rhino_horn"], ["product"], ["vi"], "gbk").get("rhino_horn", [])
    assert "sừng tê giác" in terms_by_group(lexicon, ["rhino_horn"], ["product"], ["vi"], "utf-8")["rhino_horn"]
    assert Search(url_template="/s?q={query}").langs == ["zh", "en", "pinyin", "emoji"]
    with pytest.raises(ValueError, match="unknown lexicon language"):
        Search(url_template="/s?q={query}", langs=["klingon"])


def test_search_url_encodes_the_query_in_the_sites_charset():
    gbk = Search(url_template="/search.php?kw={query}&p={page}", encoding="gbk")
    assert search_url(gbk, "http://shop.test", "象牙", page=2) == "http://shop.test/search.php?kw=%CF%F3%D1%C0&p=2"
    utf8 = Search(url_template="https://other.test/s?q={query}")
    assert search_url(utf8, "http://shop.test", "ivory carving") == "https://other.test/s?q=ivory%20carving"


@pytest.mark.parametrize("search,needle", [
    ("  url_template: /search?q=x\n", "{query}"),
    ("  url_template: /search?q={query}&x={other}\n", "placeholders"),
    ("  url_template: /s?q={query}\n  encoding: klingon\n", "unknown encoding"),
    ("  url_template: /s?q={query}\n  kinds: [exclusion]\n", "search.kinds"),
    ("  url_template: /s?q={query}\n  terms_per_night: 0\n", "search.terms_per_night"),
])
def test_bad_search_config_names_key_and_reason(tmp_path, search, needle):
    path = tmp_path / "s.yaml"
    path.write_text("name: s\nbase_url: http://shop.test\nstart_urls: [/]\nsearch:\n" + search, encoding="utf-8")
    with pytest.raises(SiteConfigError) as info:
        load_site_config(path)
    assert str(path) in str(info.value) and needle in str(info.value)


def test_journal_round_trip_survives_a_cut_off_last_line(tmp_path):
    journal = CrawlJournal(tmp_path, "shop")
    assert journal.load() is None
    journal.begin(7)
    journal.record_stored([("http://shop.test/item/1?utm_source=x", "1"), ("http://shop.test/item/2", "2")], pages=5)
    journal.close()
    with journal.path.open("a", encoding="utf-8") as handle:
        handle.write('{"stored": [["http://shop.test/item/3", "3"]')  # the kill hit mid-write
    state = CrawlJournal(tmp_path, "shop").load()
    assert state.run_id == 7 and state.pages == 5
    assert state.stored == {"/item/1": "1", "/item/2": "2"}  # keyed without host: a new port still matches
    journal.finish()
    assert not journal.path.exists() and CrawlJournal(tmp_path, "shop").load() is None


def test_a_stale_journal_is_not_resumed(tmp_path):
    journal = CrawlJournal(tmp_path, "shop", max_age=timedelta(hours=24))
    journal.directory.mkdir(parents=True)
    old = (datetime.now(timezone.utc) - timedelta(days=2)).isoformat()
    journal.path.write_text('{"run_id": 3, "started_at": "%s"}\n' % old, encoding="utf-8")
    assert journal.load() is None
    journal.path.write_text("not json at all\n", encoding="utf-8")
    assert journal.load() is None


def test_retry_after_header_forms():
    assert retry_after_seconds(b"120") == 120.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=datetime(2015, 10, 21, 7, 27, tzinfo=timezone.utc).timestamp()) == 60.0
    assert retry_after_seconds(None) is None and retry_after_seconds("soon") is None


def _response(url: str, status: int = 200, **headers) -> HtmlResponse:
    return HtmlResponse(url, status=status, body=b"<html></html>", headers=headers, request=Request(url))


def test_cache_policy_keeps_validated_pages_and_always_revalidates():
    policy = RevalidatePolicy(Settings())
    request = Request("http://shop.test/item/1")
    assert policy.should_cache_response(_response(request.url, ETag='"abc"'), request)
    assert policy.should_cache_response(_response(request.url, **{"Last-Modified": "Wed, 21 Oct 2015 07:28:00 GMT"}), request)
    assert not policy.should_cache_response(_response(request.url), request)                 # nothing to revalidate with
    assert not policy.should_cache_response(_response(request.url, 404, ETag='"x"'), request)
    cached = _response(request.url, ETag='"abc"', **{"Cache-Control": "max-age=86400"})
    assert not policy.is_cached_response_fresh(cached, request)                              # always asks the site
    assert request.headers.get("If-None-Match") == b'"abc"'
    assert policy.is_cached_response_valid(cached, _response(request.url, 304), request)
    assert not policy.is_cached_response_valid(cached, _response(request.url, 503), request)  # errors stay errors


def test_state_dir_is_per_site(tmp_path):
    a, b = CrawlJournal(tmp_path, "a"), CrawlJournal(tmp_path, "b")
    a.begin(1)
    a.close()
    assert b.load() is None and isinstance(a.load().started_at, datetime)
    assert Path(a.path).parent.name == "a"

"""The crawl's HTTP cache storage (crawler.middlewares.SiteCacheStorage): one file per page, read back as the
same response at tonight's address, Scrapy's older layout still read, and a bad entry or a full disk never
stops a crawl. The nightly end-to-end tests check the 304s it gives a second night."""
from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import pytest
from scrapy.extensions.httpcache import FilesystemCacheStorage
from scrapy.http import HtmlResponse, Request, Response
from scrapy.settings import Settings

from crawler.middlewares import SiteCacheStorage
from crawler.stats import STAT

PAGE = ("<html><head><title>象牙手镯</title></head><body>" + "<p>老料 包邮 私聊</p>" * 200 + "</body></html>").encode()
PICTURE = bytes(range(256)) * 64  # binary: stored as it came


class _Stats:
    def __init__(self) -> None:
        self.values: dict[str, int] = {}

    def get_value(self, key, default=None):
        return self.values.get(key, default)

    def inc_value(self, key, count=1):
        self.values[key] = self.values.get(key, 0) + count


class _Crawler:
    def __init__(self) -> None:
        self.stats = _Stats()


class _Spider:
    name = "shop"

    def __init__(self) -> None:
        self.crawler = _Crawler()


def _storage(cachedir: Path, **settings) -> SiteCacheStorage:
    return SiteCacheStorage(Settings({"HTTPCACHE_DIR": str(cachedir), "HTTPCACHE_GZIP": True,
                                      "HTTPCACHE_EXPIRATION_SECS": 0, **settings}))


def _page(url: str = "http://127.0.0.1:8001/item/1?x=2") -> tuple[Request, HtmlResponse]:
    response = HtmlResponse(url, body=PAGE, status=200, headers={
        "Content-Type": "text/html; charset=utf-8", "ETag": '"v1"', "Last-Modified": "Sat, 05 Dec 2026 10:00:00 GMT",
        "Set-Cookie": ["a=1", "b=2"]}, protocol="HTTP/1.1")
    return Request(url), response


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_a_page_is_one_file_and_comes_back_whole_at_tonights_address(tmp_path):
    storage, spider = _storage(tmp_path), _Spider()
    request, response = _page()
    storage.store_response(spider, request, response)
    files = _files(tmp_path)
    assert len(files) == 1 and files[0].name.endswith(".response")
    assert files[0].stat().st_size < len(PAGE) / 3  # text is compressed

    tonight = Request("http://127.0.0.1:9999/item/1?x=2")  # the shop on another port: same entry
    cached = storage.retrieve_response(spider, tonight)
    assert isinstance(cached, HtmlResponse)
    assert cached.url == "http://127.0.0.1:9999/item/1?x=2" and cached.status == 200 and cached.body == PAGE
    assert cached.headers.getlist("Set-Cookie") == [b"a=1", b"b=2"]
    assert cached.headers[b"ETag"] == b'"v1"' and cached.protocol == "HTTP/1.1"
    assert "象牙手镯" in cached.css("title::text").get()
    assert tonight.meta["cache_timestamp"] == pytest.approx(time.time(), abs=60)
    assert storage.retrieve_response(spider, Request("http://127.0.0.1:8001/item/2")) is None  # another page


def test_a_picture_is_stored_as_it_came(tmp_path):
    storage, spider = _storage(tmp_path), _Spider()
    request = Request("http://127.0.0.1:8001/img/a.png")
    storage.store_response(spider, request, Response(request.url, body=PICTURE, headers={
        "Content-Type": "image/png", "ETag": '"p"'}))
    (entry,) = _files(tmp_path)
    assert entry.read_bytes().endswith(PICTURE)  # not gzipped: pictures are compressed already
    assert storage.retrieve_response(spider, request).body == PICTURE


def test_an_entry_in_scrapys_layout_is_read_and_replaced(tmp_path):
    storage, spider = _storage(tmp_path), _Spider()
    request, response = _page()
    FilesystemCacheStorage.store_response(storage, spider, request, response)  # what an earlier version left
    legacy = [p for p in tmp_path.rglob("*") if p.is_dir() and (p / "pickled_meta").exists()]
    assert len(legacy) == 1 and len(_files(tmp_path)) == 7
    cached = storage.retrieve_response(spider, request)
    assert cached is not None and cached.body == PAGE and cached.headers[b"ETag"] == b'"v1"'
    storage.store_response(spider, request, response)
    assert not legacy[0].exists() and len(_files(tmp_path)) == 1
    assert storage.retrieve_response(spider, request).body == PAGE


@pytest.mark.parametrize("damage", ["truncated", "not json", "other format"])
def test_an_unreadable_entry_means_a_full_fetch_and_a_warning(tmp_path, caplog, damage):
    storage, spider = _storage(tmp_path), _Spider()
    request, response = _page()
    storage.store_response(spider, request, response)
    (entry,) = _files(tmp_path)
    raw = entry.read_bytes()
    entry.write_bytes({"truncated": raw[: len(raw) - 40], "not json": b"{oops\n" + PAGE,
                       "other format": raw.replace(b'"format": 1', b'"format": 99', 1)}[damage])
    with caplog.at_level(logging.WARNING, logger="crawler.middlewares"):
        assert storage.retrieve_response(spider, request) is None
    assert "cannot be read" in caplog.text and entry.name in caplog.text


def test_an_expired_entry_is_not_used(tmp_path):
    storage, spider = _storage(tmp_path, HTTPCACHE_EXPIRATION_SECS=60), _Spider()
    request, response = _page()
    storage.store_response(spider, request, response)
    (entry,) = _files(tmp_path)
    assert storage.retrieve_response(spider, request) is not None
    old = time.time() - 3600
    os.utime(entry, (old, old))
    assert storage.retrieve_response(spider, request) is None


def test_a_cache_that_cannot_be_written_is_counted_and_the_crawl_goes_on(tmp_path, caplog):
    (tmp_path / "shop").write_text("a file where the site's cache folder should be", encoding="utf-8")
    storage, spider = _storage(tmp_path), _Spider()
    request, response = _page()
    with caplog.at_level(logging.WARNING, logger="crawler.middlewares"):
        storage.store_response(spider, request, response)
        storage.store_response(spider, *_page("http://127.0.0.1:8001/item/2"))
    assert spider.crawler.stats.values[STAT + "cache_write_errors"] == 2
    assert caplog.text.count("HTTP cache not written") == 1  # said once, counted each time
    assert storage.retrieve_response(spider, request) is None
    assert [p.name for p in tmp_path.iterdir()] == ["shop"]  # no temporary file left behind


def test_a_write_that_fails_halfway_leaves_no_entry(tmp_path, monkeypatch):
    storage, spider = _storage(tmp_path), _Spider()
    request, response = _page()
    storage.store_response(spider, request, response)
    (entry,) = _files(tmp_path)
    before = entry.read_bytes()

    def disk_full(source, target):  # the new entry was written to its temporary name; the rename fails
        assert Path(source).stat().st_size > 0
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    storage.store_response(spider, request, response.replace(body=PAGE + b"<!-- changed -->"))
    assert _files(tmp_path) == [entry] and entry.read_bytes() == before  # yesterday's entry stands whole
    assert spider.crawler.stats.values[STAT + "cache_write_errors"] == 1

"""Downloader middlewares that make the crawl polite and cheap to repeat night after night.

- `LoggingRobotsTxtMiddleware`: obeys robots.txt like Scrapy's, and says so in the log for every
  URL it refuses (Scrapy only logs that at DEBUG).
- `BackoffRetryMiddleware`: retries 429 and 5xx answers like Scrapy's, and also slows the whole
  site down: it honours Retry-After and otherwise doubles the delay on each retry.
- `DeadLinkMiddleware`: in discovery mode, drops queued requests of a link shape whose answers
  turned out mostly 404/410 (the spider keeps the count).
- `RevalidatePolicy`: an HTTP cache policy for nightly crawls: keep pages that carry an ETag or
  Last-Modified and revalidate every one of them on each crawl (If-None-Match/If-Modified-Since),
  so an unchanged page costs the site a 304 and no body.
"""
from __future__ import annotations

import gzip
import hashlib
import ipaddress
import json
import logging
import os
import shutil
import time
import zlib
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlsplit

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.downloadermiddlewares.httpcache import HttpCacheMiddleware
from scrapy.extensions.httpcache import FilesystemCacheStorage, RFC2616Policy
from scrapy.utils.response import response_from_dict

from crawler.stats import STAT

logger = logging.getLogger(__name__)


class LoggingRobotsTxtMiddleware(RobotsTxtMiddleware):
    """RobotsTxtMiddleware plus one INFO line per URL that robots.txt disallows."""

    def process_request_2(self, rp, request) -> None:
        try:
            super().process_request_2(rp, request)
        except IgnoreRequest:
            logger.info("robots.txt disallows %s: not fetched", request.url)
            raise


def retry_after_seconds(value: bytes | str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: a number of seconds or an HTTP date."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class BackoffRetryMiddleware(RetryMiddleware):
    """Retries like RetryMiddleware; on 429/503 (and other retried codes) the site's download slot
    waits Retry-After seconds, else RETRY_BACKOFF_BASE * 2^retries, capped at RETRY_BACKOFF_MAX.
    The delay falls back to the configured one, halving on each good answer."""

    def __init__(self, settings):
        super().__init__(settings)
        self.base = settings.getfloat("RETRY_BACKOFF_BASE", 1.0)
        self.cap = settings.getfloat("RETRY_BACKOFF_MAX", 60.0)
        self.normal_delay: dict[str, float] = {}

    def process_response(self, request, response, spider=None):
        slot = self._slot(request)
        if response.status in self.retry_http_codes and not request.meta.get("dont_retry", False):
            retries = request.meta.get("retry_times", 0)
            wait = retry_after_seconds(response.headers.get(b"Retry-After"))
            wait = min(self.cap, wait if wait is not None else self.base * 2 ** retries)
            if slot is not None:
                key, slot_obj = slot
                self.normal_delay.setdefault(key, slot_obj.delay)
                if wait > slot_obj.delay:
                    logger.info("%s answered %s: waiting %.1fs between requests to %s", request.url,
                                response.status, wait, key)
                    slot_obj.delay = wait
                    if self.crawler.stats:
                        self.crawler.stats.inc_value(STAT + "backoffs")
        elif slot is not None and slot[0] in self.normal_delay and response.status < 400:
            key, slot_obj = slot
            slot_obj.delay = max(self.normal_delay[key], slot_obj.delay / 2)
            if slot_obj.delay == self.normal_delay[key]:
                del self.normal_delay[key]
        return super().process_response(request, response)

    def _slot(self, request):
        engine = getattr(self.crawler, "engine", None)
        downloader = getattr(engine, "downloader", None)
        if downloader is None:
            return None
        key = downloader.get_slot_key(request)
        slot = downloader.slots.get(key)
        return (key, slot) if slot is not None else None


class RevalidatePolicy(RFC2616Policy):
    """Store only responses with a validator; never trust a stored page without asking the site.

    A cached page is sent back with If-None-Match / If-Modified-Since; a 304 answer uses the stored
    copy (counted as `httpcache/revalidate`). A 5xx is *not* papered over with the stored copy, so
    errors still show in the crawl's health.
    """

    def should_cache_response(self, response, request) -> bool:
        has_validator = b"ETag" in response.headers or b"Last-Modified" in response.headers
        return has_validator and response.status == 200 and super().should_cache_response(response, request)

    def is_cached_response_fresh(self, cachedresponse, request) -> bool:
        self._set_conditional_validators(request, cachedresponse)
        return False

    def is_cached_response_valid(self, cachedresponse, response, request) -> bool:
        return response.status == 304


#: The format of a cache entry written by SiteCacheStorage (the JSON line's "format").
CACHE_FORMAT = 1
#: Bodies worth compressing: text. Pictures and other binary bodies are compressed already.
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/xhtml", "application/javascript",
               "application/ld+json")


def _is_text(content_type: bytes | None) -> bool:
    kind = (content_type or b"").split(b";")[0].strip().lower().decode("latin-1")
    return not kind or kind.startswith(_TEXT_TYPES) or kind.endswith(("+json", "+xml"))


class SiteCacheStorage(FilesystemCacheStorage):
    """The filesystem cache, keyed by method, path, query and body, not by host and port; one file per page.

    The cache is kept per site (spider name) already; keying without the host keeps it valid when a
    site is crawled at another address (the demo shops get a new loopback port every run; a
    marketplace may move between www. and m. mirrors of the same pages).

    Scrapy's storage writes seven files per response (request headers and body, a metadata repr and
    pickle, ...), each through gzip at level 9, pictures included: a third of a demo night's crawl CPU,
    and seven inodes per page on a marketplace of millions. Here an entry is one file: a JSON line with
    what revalidation and the rebuilt response need (status, URLs, headers, when it was stored), then the
    body, gzipped (level 6) only when it is text. It is written under a temporary name and renamed, so
    a crawl killed mid-write never leaves half a page to be served after tomorrow's 304; an entry that
    cannot be read is logged and the page fetched in full. Entries in Scrapy's layout, left by an
    earlier version, are still read, and replaced when the page is stored again.
    """

    def retrieve_response(self, spider, request):
        path = self._entry_path(spider, request)
        try:
            response = self._read_entry(path, request)
        except FileNotFoundError:
            response = super().retrieve_response(spider, request)  # Scrapy's layout, from before
        except (OSError, ValueError, KeyError, TypeError, EOFError, zlib.error) as exc:
            logger.warning("HTTP cache entry %s cannot be read (%s): the page is fetched in full", path, exc)
            return None
        if response is None:
            return None
        # The stored URL names the host it came from; links must resolve against tonight's address.
        stored, asked = urlsplit(response.url), urlsplit(request.url)
        return response.replace(url=stored._replace(scheme=asked.scheme, netloc=asked.netloc).geturl())

    def store_response(self, spider, request, response) -> None:
        """Keep the page for revalidation; a cache that cannot be written (full or read-only disk) costs only
        the 304s of the next crawl, so the page is still crawled and the failure is logged once and counted."""
        try:
            self._write_entry(self._entry_path(spider, request), request, response)
        except OSError as exc:
            stats = getattr(getattr(spider, "crawler", None), "stats", None)
            if stats is not None:
                if not stats.get_value(STAT + "cache_write_errors"):
                    logger.warning("HTTP cache not written under %s (%s): pages are crawled, not kept for "
                                   "revalidation", self.cachedir, exc.strerror or exc)
                stats.inc_value(STAT + "cache_write_errors")

    def _get_request_path(self, spider, request) -> str:
        parts = urlsplit(request.url)
        digest = hashlib.sha1()
        for piece in (request.method, parts.path or "/", parts.query, request.body or b""):
            digest.update(piece if isinstance(piece, bytes) else piece.encode("utf-8"))
            digest.update(b"\0")
        key = digest.hexdigest()
        return str(Path(self.cachedir, spider.name, key[:2], key))

    def _entry_path(self, spider, request) -> Path:
        """Scrapy's layout keeps a folder at the key's path; an entry here is a file beside it."""
        return Path(self._get_request_path(spider, request) + ".response")

    def _read_entry(self, path: Path, request):
        with open(path, "rb") as f:
            if 0 < self.expiration_secs < time.time() - os.fstat(f.fileno()).st_mtime:
                return None
            head, newline, body = f.read().partition(b"\n")
        meta = json.loads(head)
        if not newline or meta.get("format") != CACHE_FORMAT:
            raise ValueError(f"not a cache entry of format {CACHE_FORMAT}")
        if meta["gzip"]:
            body = gzip.decompress(body)
        data = {"url": meta["response_url"], "status": meta["status"], "body": body, "flags": meta["flags"],
                "protocol": meta["protocol"],
                "headers": {k.encode("latin-1"): [v.encode("latin-1") for v in vs] for k, vs in meta["headers"]}}
        if meta.get("ip_address"):
            data["ip_address"] = ipaddress.ip_address(meta["ip_address"])
        if meta.get("encoding"):
            data["encoding"] = meta["encoding"]
        if str(meta.get("class") or "").startswith("scrapy.http."):  # never a class from elsewhere
            data["_class"] = meta["class"]
        request.meta["cache_timestamp"] = meta["timestamp"]
        return response_from_dict(data)

    def _write_entry(self, path: Path, request, response) -> None:
        data = response.to_dict()
        compress = self.use_gzip and _is_text(response.headers.get(b"Content-Type"))
        ip = data.get("ip_address")
        meta = {
            "format": CACHE_FORMAT, "url": request.url, "method": request.method, "status": response.status,
            "response_url": response.url, "timestamp": time.time(), "gzip": compress,
            "headers": [[k.decode("latin-1"), [v.decode("latin-1") for v in vs]] for k, vs in response.headers.items()],
            "flags": list(data.get("flags") or []), "protocol": data.get("protocol"),
            "ip_address": str(ip) if ip is not None else None, "encoding": data.get("encoding"),
            "class": data.get("_class"),
        }
        body = gzip.compress(response.body, compresslevel=6) if compress else response.body
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        try:
            with open(temporary, "wb") as f:
                f.write(json.dumps(meta, ensure_ascii=True).encode("ascii") + b"\n" + body)
            os.replace(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
        legacy = path.with_suffix("")  # the same page in Scrapy's layout, from an earlier version
        if legacy.is_dir():
            shutil.rmtree(legacy, ignore_errors=True)


class RevalidatingCacheMiddleware(HttpCacheMiddleware):
    """Scrapy's HTTP cache middleware without its "error recovery": when a site cannot be reached,
    the crawl must see the error (and its health check fail), not last night's copy of the page."""

    def process_exception(self, request, exception, spider=None):
        request.meta.pop("cached_response", None)
        return None


class DeadLinkMiddleware:
    """Drops queued page requests of a link shape the spider has found mostly dead (404/410) since they
    were queued: in discovery mode a wrong guess about a site's links (e.g. a `<base href>` misread) can
    fill the queue with thousands of them, and each would spend the page budget."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request, spider=None):
        from crawler.pageguard import SkippedPage, is_page_request

        spider = spider or getattr(self.crawler, "spider", None)
        dead = getattr(spider, "dead_links", None)
        found_on = request.meta.get("found_on")
        if dead is not None and is_page_request(request) and dead.is_dead(request.url, found_on):
            raise SkippedPage("dead_link_pattern", f"{request.url}: {dead.describe(request.url, found_on)}")
        return None

    def process_response(self, request, response, spider=None):
        """Counts the answer as soon as it arrives, not when the spider gets round to it: the spider's
        callbacks can lag many downloads behind, and every download before the count is one more
        request of a dead shape let through."""
        from crawler.pageguard import is_page_request

        spider = spider or getattr(self.crawler, "spider", None)
        dead = getattr(spider, "dead_links", None)
        site = getattr(spider, "site", None)
        if dead is None or site is None or not site.discover.enabled or not is_page_request(request):
            return response
        found_on = request.meta.get("found_on")
        if dead.record(request.url, response.status, found_on):
            spider.logger.warning("not following more links like %s: the site has no such pages",
                                  dead.describe(request.url, found_on))
        return response

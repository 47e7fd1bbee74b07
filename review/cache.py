"""A short memory for the queue's filter menus and counts, forgotten when an analyst's action changes them.

Every queue page shows the marketplace and species menus and the queue totals;
at 100k listings those reads cost more than the page of rows itself, yet they
change only when a crawl scores listings or an analyst decides or tips. The
app clears what such an action changes at once (a decision: only the counts
that depend on decisions); anything else (a nightly crawl, a second app
process) shows within `ttl` seconds.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import TypeVar

from cachetools import TTLCache

T = TypeVar("T")
_MISSING = object()

#: How long counts are reused, in seconds (menus: MENU_CACHE_SECONDS; they change only when listings are scored).
QUEUE_CACHE_SECONDS = 5.0
MENU_CACHE_SECONDS = 60.0


class QueueCache:
    """Thread-safe TTL memo; `clear()` also stops a read that began before it from storing its stale result.

    Concurrent misses of one key compute it once (the others wait for that
    result): twenty analysts opening the queue at nine must not all count
    100k listings at the same moment.
    """

    def __init__(self, ttl: float = QUEUE_CACHE_SECONDS, maxsize: int = 512,
                 timer: Callable[[], float] = time.monotonic) -> None:
        self._cache: TTLCache = TTLCache(maxsize=maxsize, ttl=ttl, timer=timer)
        self._lock = threading.Lock()
        self._computing: dict[Hashable, threading.Lock] = {}
        self._generation = 0

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The cached value for `key`, else `compute()` (outside the cache's lock: other keys do not wait)."""
        # One lookup, never "key in cache" then "cache[key]": the entry may expire between the two.
        with self._lock:
            value = self._cache.get(key, _MISSING)
            if value is not _MISSING:
                return value
            computing = self._computing.setdefault(key, threading.Lock())
        with computing:
            with self._lock:
                value = self._cache.get(key, _MISSING)  # another thread computed it while this one waited
                if value is not _MISSING:
                    return value
                generation = self._generation
            try:
                value = compute()
                with self._lock:
                    if generation == self._generation:
                        self._cache[key] = value
            finally:
                with self._lock:
                    self._computing.pop(key, None)
        return value

    def clear(self, which: Callable[[Hashable], bool] | None = None) -> None:
        """Forget every value, or those whose key `which` accepts."""
        with self._lock:
            for key in [k for k in self._cache if which is None or which(k)]:
                del self._cache[key]
            self._generation += 1

"""Login throttling: after a few wrong passwords an account, or an address, must wait, doubling each time.

Kept in memory, per app process (the review app is one process; a restart forgets, which only
helps the owner of a locked account). A refused attempt is answered before the Argon2 hash is
computed, so guessing also stops costing the server CPU. Free attempts and the longest wait are
per kind: an address (many analysts behind one NAT) gets more free attempts than one account.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass


@dataclass
class _Entry:
    failures: int = 0
    blocked_until: float = 0.0
    last: float = 0.0


@dataclass(frozen=True)
class Limit:
    free: int           # failures allowed before any wait
    base_s: float       # first wait; doubles with every further failure
    max_s: float        # longest wait


ACCOUNT_LIMIT = Limit(free=5, base_s=2.0, max_s=900.0)
ADDRESS_LIMIT = Limit(free=20, base_s=2.0, max_s=900.0)
FORGET_AFTER_S = 24 * 3600
MAX_ENTRIES = 100_000


class LoginThrottle:
    def __init__(self, account: Limit = ACCOUNT_LIMIT, address: Limit = ADDRESS_LIMIT, clock=time.monotonic) -> None:
        self.limits = {"account": account, "address": address}
        self._clock = clock
        self._entries: dict[tuple[str, str], _Entry] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _keys(name: str, address: str | None) -> list[tuple[str, str]]:
        return [("account", name.strip().lower()[:100]), ("address", address or "?")]

    def wait_seconds(self, name: str, address: str | None) -> float:
        """Seconds until this name from this address may try again (0: now)."""
        now = self._clock()
        with self._lock:
            return max([e.blocked_until - now for k in self._keys(name, address)
                        if (e := self._entries.get(k)) is not None] + [0.0])

    def failed(self, name: str, address: str | None) -> None:
        now = self._clock()
        with self._lock:
            if len(self._entries) >= MAX_ENTRIES:
                self._prune(now)
            for key in self._keys(name, address):
                entry = self._entries.setdefault(key, _Entry())
                limit = self.limits[key[0]]
                entry.failures += 1
                entry.last = now
                over = entry.failures - limit.free + 1  # the attempt after the free ones already waits
                if over > 0:
                    entry.blocked_until = now + min(limit.max_s, limit.base_s * 2 ** min(over - 1, 30))

    def succeeded(self, name: str, address: str | None) -> None:
        """The account's count starts again; the address keeps its count (one good login must not reset guessing)."""
        with self._lock:
            self._entries.pop(self._keys(name, address)[0], None)

    def _prune(self, now: float) -> None:
        for key in [k for k, e in self._entries.items() if now - e.last > FORGET_AFTER_S or e.blocked_until < now]:
            del self._entries[key]

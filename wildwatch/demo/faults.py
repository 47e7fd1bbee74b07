"""Fault injection for the demo shops: 500s, 429s, stalls and connection resets on a share of requests.

Deterministic per URL and attempt: whether the n-th request for a URL fails, and how, follows from a
hash of (seed, URL, n), so a run can be repeated exactly. Only the first `faulty_attempts` requests
for a URL can fail, so a crawler that retries enough times gets every page; one that does not
retry, or gives up too early, loses pages and shows it. robots.txt is never faulted (a crawler
that cannot read it must not crawl, which would test nothing else).

    wildwatch demo --faults 0.2 --fault-seed 7
    wildwatch nightly --demo --demo-faults 0.2
"""
from __future__ import annotations

import hashlib
import io
import socket
import struct
import threading
import time
from collections import Counter
from http import HTTPStatus

KINDS = ("500", "429", "timeout", "reset")
EXEMPT = ("/robots.txt",)


class FaultInjector:
    """Decides and performs faults for one shop (thread-safe: the shop answers in parallel)."""

    def __init__(self, rate: float, seed: int = 0, *, stall_seconds: float = 40.0, faulty_attempts: int = 2,
                 kinds: tuple[str, ...] = KINDS):
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"fault rate {rate!r} must lie between 0 and 1")
        unknown = set(kinds) - set(KINDS)
        if not kinds or unknown:
            raise ValueError(f"fault kinds must be among {', '.join(KINDS)}; got {', '.join(kinds) or 'none'}")
        if stall_seconds <= 0 or faulty_attempts < 1:
            raise ValueError("stall_seconds must be positive and faulty_attempts at least 1")
        self.rate = rate
        self.seed = seed
        self.stall_seconds = stall_seconds
        self.faulty_attempts = faulty_attempts
        self.kinds = tuple(kinds)
        self._attempts: Counter[str] = Counter()
        self.injected: Counter[str] = Counter()  # kind -> faults performed
        self._lock = threading.Lock()

    def decide(self, key: str) -> str | None:
        """The fault for the next request of `key` (path and query), or None to answer normally."""
        if key.split("?", 1)[0] in EXEMPT:
            return None
        with self._lock:
            attempt = self._attempts[key]
            self._attempts[key] += 1
        if attempt >= self.faulty_attempts:
            return None
        digest = hashlib.sha256(f"{self.seed}|{key}|{attempt}".encode("utf-8")).digest()
        if int.from_bytes(digest[:4], "big") / 2 ** 32 >= self.rate:
            return None
        return self.kinds[digest[4] % len(self.kinds)]

    def inject(self, handler, key: str) -> bool:
        """Perform the fault for this request, if any; True when the request was answered (or not) by a fault."""
        kind = self.decide(key)
        if kind is None:
            return False
        with self._lock:
            self.injected[kind] += 1
        handler.close_connection = True
        if kind in ("500", "429"):
            status = HTTPStatus.INTERNAL_SERVER_ERROR if kind == "500" else HTTPStatus.TOO_MANY_REQUESTS
            body = f"injected fault: {status.value} {status.phrase}\n".encode("utf-8")
            try:
                handler.send_response(status)
                handler.send_header("Content-Type", "text/plain; charset=utf-8")
                handler.send_header("Content-Length", str(len(body)))
                if kind == "429":
                    handler.send_header("Retry-After", "1")
                handler.end_headers()
                handler.wfile.write(body)
            except OSError:
                pass
            return True
        if kind == "timeout":
            time.sleep(self.stall_seconds)  # longer than the crawler waits: it times out and retries
        _reset(handler)
        return True

    def summary(self) -> dict[str, int]:
        with self._lock:
            return dict(self.injected)


def _reset(handler) -> None:
    """Close the connection with a TCP reset and no answer at all."""
    connection = handler.connection
    try:
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        connection.close()
    except OSError:
        pass
    handler.wfile = io.BytesIO()  # what http.server still flushes goes nowhere

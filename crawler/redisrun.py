"""The shared state of one site's distributed crawl, kept in Redis under one key prefix.

Several `wildwatch crawl SITE --workers redis://...` processes, on any machines, crawl one site
together: they share scrapy-redis's request queue (a sorted set) and duplicate filter, plus the
keys below, which make the crawl safe against a worker that dies:

- ``run``: the crawl run in the database that every worker stores into (one run per distributed
  crawl; each worker's own figures go into its stats under ``workers``).
- ``workers`` and ``lease:<worker>``: who takes part; a lease expires when its worker stops
  renewing it (killed, frozen, cut off).
- ``inflight:<worker>``: every request a worker took from the queue and has not yet finished.
  Taking a request and recording it here is one atomic step (a Lua script), and a worker removes
  it ("acks") only after the request's listings are committed to the database and the requests it
  led to are in the queue. When a lease expires, any live worker moves that worker's in-flight
  requests back to the queue (``sweep``), so a SIGKILL loses nothing; at worst a few pages are
  fetched twice, and storing is idempotent (upserts, plus the ``stored`` set below).
- ``discovered`` / ``gone``: listing ids linked from result pages, and detail pages answered
  404/410, from every worker, so gone-marking covers the whole crawl and happens once.
- ``stored``: listing ids committed in this run, so a page fetched again after a worker died
  does not score and store its listing a second time.
- ``worker_stats`` / ``worker_state``: each worker's counters (written at every checkpoint, so a
  killed worker's work up to its last checkpoint still shows) and how it ended.
- ``pages``: pages fetched by all workers, for the site's page budget.
- ``finalizing``: set by the last worker to leave a drained crawl, which then closes the run
  (gone-marking, stats) and deletes every key of the prefix.

Scripts run against one Redis server (not Redis Cluster): they touch keys named from the prefix.
"""
from __future__ import annotations

import json
import logging
import re
import time
from datetime import datetime, timezone

import redis

logger = logging.getLogger(__name__)

PREFIX_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,120}$")


class DistributedCrawlError(RuntimeError):
    """Redis cannot be used for a distributed crawl (bad URL, unreachable, bad key prefix)."""


def redact_redis_url(url: str) -> str:
    """The URL without its password, for logs and messages."""
    from store.db import redact

    return redact(url)


def connect(url: str) -> redis.Redis:
    """A client for `url` (redis://, rediss:// or unix://) that answered PING, or DistributedCrawlError."""
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=30, health_check_interval=30)
    except ValueError as exc:
        raise DistributedCrawlError(f"--workers {redact_redis_url(url)!r}: not a Redis URL ({exc}); "
                                    "use redis://HOST:6379/0") from None
    try:
        client.ping()
    except redis.RedisError as exc:
        raise DistributedCrawlError(f"Redis at {redact_redis_url(url)} is not reachable: {exc}") from None
    return client


def check_prefix(prefix: str) -> str:
    if not PREFIX_RE.match(prefix or ""):
        raise DistributedCrawlError(f"Redis key prefix {prefix!r}: use 1-120 letters, digits and _ . : -")
    return prefix


# Take the best-priority request and record it as ours, in one step.
_POP = """
local popped = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #popped == 0 then return false end
redis.call('ZREM', KEYS[1], popped[1])
redis.call('ZADD', KEYS[2], popped[2], popped[1])
return popped
"""

# Move the in-flight requests of every worker whose lease expired back to the queue.
_SWEEP = """
local prefix, queue, workers = ARGV[1], KEYS[1], KEYS[2]
local moved, lost = 0, {}
for _, worker in ipairs(redis.call('SMEMBERS', workers)) do
  if redis.call('EXISTS', prefix .. ':lease:' .. worker) == 0 then
    local inflight = prefix .. ':inflight:' .. worker
    local entries = redis.call('ZRANGE', inflight, 0, -1, 'WITHSCORES')
    for i = 1, #entries, 2 do
      redis.call('ZADD', queue, entries[i + 1], entries[i])
      moved = moved + 1
    end
    redis.call('DEL', inflight)
    redis.call('SREM', workers, worker)
    redis.call('HSET', prefix .. ':worker_state', worker, 'lost')
    table.insert(lost, worker)
  end
end
return {moved, lost}
"""

# Nothing queued and nothing in flight anywhere: the crawl is done.
_DRAINED = """
if redis.call('ZCARD', KEYS[1]) > 0 then return 0 end
for _, worker in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  if redis.call('ZCARD', ARGV[1] .. ':inflight:' .. worker) > 0 then return 0 end
end
return 1
"""

# Join the current run, or claim the right to create it. Returns {"join", run_id}, {"claim"} or {"wait"}.
_JOIN = """
local run, claim, workers, finalizing = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local worker, lease_key, lease_ms = ARGV[1], ARGV[2], ARGV[3]
if redis.call('EXISTS', finalizing) == 1 then return {'wait'} end
local run_id = redis.call('HGET', run, 'run_id')
if run_id then
  redis.call('SADD', workers, worker)
  redis.call('SET', lease_key, '1', 'PX', lease_ms)
  return {'join', run_id}
end
if redis.call('SET', claim, worker, 'NX', 'PX', ARGV[4]) then return {'claim'} end
return {'wait'}
"""

# Leave a crawl; the last worker out of a finished crawl becomes the one that closes the run.
_LEAVE = """
local workers, finalizing, lease_key, states = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local worker, state = ARGV[1], ARGV[2]
redis.call('SREM', workers, worker)
redis.call('DEL', lease_key)
redis.call('HSET', states, worker, state)
if redis.call('SCARD', workers) == 0 and redis.call('SET', finalizing, worker, 'NX') then return 1 end
return 0
"""

# After leaving: close the run when no worker is left in it (nobody else did so first).
_TRY_FINALIZE = """
if redis.call('HGET', KEYS[3], 'run_id') ~= ARGV[2] then return 0 end
if redis.call('SCARD', KEYS[1]) == 0 and redis.call('SET', KEYS[2], ARGV[1], 'NX') then return 1 end
return 0
"""

# Leave without finishing (interrupted): this worker's in-flight requests go back to the queue.
_SUSPEND = """
local queue, inflight, workers, lease_key, states = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local entries = redis.call('ZRANGE', inflight, 0, -1, 'WITHSCORES')
for i = 1, #entries, 2 do redis.call('ZADD', queue, entries[i + 1], entries[i]) end
redis.call('DEL', inflight)
redis.call('SREM', workers, ARGV[1])
redis.call('DEL', lease_key)
redis.call('HSET', states, ARGV[1], ARGV[2])
return #entries / 2
"""


class RedisRun:
    """One worker's handle on the distributed crawl stored under `prefix`."""

    def __init__(self, client: redis.Redis, prefix: str, worker_id: str, lease_seconds: float = 30.0):
        self.client = client
        self.prefix = check_prefix(prefix)
        self.worker_id = worker_id
        self.lease_ms = max(1000, int(lease_seconds * 1000))
        self.queue_key = self.key("requests")
        self.dupefilter_key = self.key("dupefilter")
        self._pop = client.register_script(_POP)
        self._sweep = client.register_script(_SWEEP)
        self._drained = client.register_script(_DRAINED)
        self._join = client.register_script(_JOIN)
        self._leave = client.register_script(_LEAVE)
        self._suspend = client.register_script(_SUSPEND)
        self._try_finalize = client.register_script(_TRY_FINALIZE)

    def key(self, name: str) -> str:
        return f"{self.prefix}:{name}"

    def lease_key(self, worker: str | None = None) -> str:
        return self.key(f"lease:{worker or self.worker_id}")

    def inflight_key(self, worker: str | None = None) -> str:
        return self.key(f"inflight:{worker or self.worker_id}")

    # ---- joining -------------------------------------------------------------------------------

    def join(self) -> tuple[str, int | None]:
        """("join", run id) when a run is open, ("claim", None) when this worker must create it, else ("wait", None)."""
        answer = self._join(keys=[self.key("run"), self.key("claim"), self.key("workers"), self.key("finalizing")],
                            args=[self.worker_id, self.lease_key(), self.lease_ms, 120_000])
        kind = answer[0].decode()
        return kind, (int(answer[1]) if kind == "join" else None)

    def publish(self, run_id: int) -> None:
        """The claimed run now exists in the database: open it to every worker, this one included."""
        started = datetime.now(timezone.utc).isoformat(timespec="seconds")
        pipe = self.client.pipeline()
        pipe.hset(self.key("run"), mapping={"run_id": run_id, "started_at": started, "founder": self.worker_id})
        pipe.sadd(self.key("workers"), self.worker_id)
        pipe.set(self.lease_key(), "1", px=self.lease_ms)
        pipe.delete(self.key("claim"))
        pipe.execute()

    def wait_for_run(self, timeout: float = 120.0, interval: float = 0.2) -> tuple[str, int | None]:
        """Join, waiting while another worker creates the run or the previous run is being closed."""
        deadline = time.monotonic() + timeout
        while True:
            kind, run_id = self.join()
            if kind != "wait":
                return kind, run_id
            if time.monotonic() > deadline:
                raise DistributedCrawlError(
                    f"no distributed crawl run appeared under {self.prefix!r} within {timeout:.0f} s "
                    "(another worker claimed it and did not finish creating it)")
            time.sleep(interval)

    def run_info(self) -> dict[str, str]:
        return {k.decode(): v.decode() for k, v in self.client.hgetall(self.key("run")).items()}

    # ---- the worker's lease and its requests ----------------------------------------------------

    def heartbeat(self) -> bool:
        """Renew this worker's lease; False when it had expired (its requests may have been re-queued)."""
        pipe = self.client.pipeline()
        pipe.set(self.lease_key(), "1", px=self.lease_ms, xx=True)
        pipe.sadd(self.key("workers"), self.worker_id)
        renewed, _ = pipe.execute()
        if not renewed:
            self.client.set(self.lease_key(), "1", px=self.lease_ms)
            self.client.hset(self.key("worker_state"), self.worker_id, "running")
        return bool(renewed)

    def pop(self) -> tuple[bytes, float] | None:
        """The best-priority request (serialised) and its score, now recorded as in flight for this worker."""
        popped = self._pop(keys=[self.queue_key, self.inflight_key()])
        if not popped:
            return None
        return popped[0], float(popped[1])

    def ack(self, members: list[bytes]) -> None:
        """These in-flight requests are finished: their listings committed, their links queued."""
        if members:
            self.client.zrem(self.inflight_key(), *members)

    def sweep(self) -> tuple[int, list[str]]:
        """Re-queue the in-flight requests of workers whose lease expired; (requests moved, workers lost)."""
        moved, lost = self._sweep(keys=[self.queue_key, self.key("workers")], args=[self.prefix])
        lost = [worker.decode() for worker in lost]
        if lost:
            logger.warning("distributed crawl %s: worker(s) %s stopped answering; %d in-flight requests re-queued",
                           self.prefix, ", ".join(lost), moved)
        return int(moved), lost

    def queue_size(self) -> int:
        return int(self.client.zcard(self.queue_key))

    def inflight_size(self, worker: str | None = None) -> int:
        return int(self.client.zcard(self.inflight_key(worker)))

    def drained(self) -> bool:
        return bool(self._drained(keys=[self.queue_key, self.key("workers")], args=[self.prefix]))

    def workers(self) -> set[str]:
        return {w.decode() for w in self.client.smembers(self.key("workers"))}

    def leave(self, state: str) -> bool:
        """Leave the crawl; True when this worker was the last one out and must close the run."""
        return bool(self._leave(keys=[self.key("workers"), self.key("finalizing"), self.lease_key(),
                                      self.key("worker_state")], args=[self.worker_id, state]))

    def try_finalize(self, run_id: int) -> bool:
        """True when no worker is left in run `run_id`'s crawl (still open) and this one now closes it."""
        return bool(self._try_finalize(keys=[self.key("workers"), self.key("finalizing"), self.key("run")],
                                       args=[self.worker_id, str(run_id)]))

    def is_open(self, run_id: int) -> bool:
        """False once run `run_id` was closed (its keys deleted) or another run took its place."""
        value = self.client.hget(self.key("run"), "run_id")
        return value is not None and value.decode() == str(run_id)

    def finalizing(self) -> str | None:
        """The worker closing the run, if one is."""
        value = self.client.get(self.key("finalizing"))
        return value.decode() if value else None

    def suspend(self, state: str) -> int:
        """Leave an unfinished crawl (interrupted): in-flight requests go back for the others or the next start."""
        return int(self._suspend(keys=[self.queue_key, self.inflight_key(), self.key("workers"), self.lease_key(),
                                       self.key("worker_state")], args=[self.worker_id, state]))

    # ---- what the crawl found -------------------------------------------------------------------

    def add_ids(self, name: str, ids: set[str]) -> None:
        if ids:
            self.client.sadd(self.key(name), *sorted(ids))

    def ids(self, name: str) -> set[str]:
        return {value.decode() for value in self.client.sscan_iter(self.key(name), count=1000)}

    def live_ids(self) -> set[str]:
        """Listing ids linked tonight by any worker and not answered 404/410."""
        return self.ids("discovered") - self.ids("gone")

    def is_stored(self, listing_id: str) -> bool:
        return bool(self.client.sismember(self.key("stored"), listing_id))

    def add_pages(self, count: int) -> int:
        if count:
            return int(self.client.incrby(self.key("pages"), count))
        return int(self.client.get(self.key("pages")) or 0)

    def record_stats(self, stats: dict, state: str = "running") -> None:
        record = {"stats": stats, "updated": time.time()}
        pipe = self.client.pipeline()
        pipe.hset(self.key("worker_stats"), self.worker_id, json.dumps(record, default=str))
        pipe.hsetnx(self.key("worker_state"), self.worker_id, state)
        pipe.execute()

    def worker_stats(self) -> dict[str, dict]:
        states = {k.decode(): v.decode() for k, v in self.client.hgetall(self.key("worker_state")).items()}
        result = {}
        for worker, raw in self.client.hgetall(self.key("worker_stats")).items():
            worker = worker.decode()
            record = json.loads(raw)
            result[worker] = {"state": states.get(worker, "running"), **record}
        return result

    # ---- the end ------------------------------------------------------------------------------------

    def keys(self) -> list[bytes]:
        return list(self.client.scan_iter(match=f"{self.prefix}:*", count=1000))

    def clear(self) -> int:
        """Delete every key of this crawl; returns how many there were."""
        keys = self.keys()
        for start in range(0, len(keys), 500):
            self.client.delete(*keys[start:start + 500])
        return len(keys)

"""Captures (tips, evidence) run in a small pool of their own, never in the web server's threads.

A capture starts Chromium and may take its whole time cap; eight tips to a slow page used to hold
eight of the server's request threads and stall the queue for everyone. Here at most `workers`
captures run at once, each user may have at most `per_user` waiting or running, and the whole queue
holds at most `max_waiting`; beyond that a submission is refused at once (the app answers 429).
"""
from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

log = logging.getLogger(__name__)


class QueueFull(RuntimeError):
    """The user (or everyone) already has as many captures waiting as allowed."""


@dataclass
class Job:
    id: int
    user: str
    what: str
    submitted_at: datetime
    state: str = "waiting"  # waiting -> running -> done | failed
    future: Future = field(default_factory=Future, repr=False)


class CaptureQueue:
    """See the module docstring; `submit` returns the Job, whose `future` holds the result."""

    def __init__(self, workers: int = 2, per_user: int = 2, max_waiting: int = 20) -> None:
        self.per_user, self.max_waiting = per_user, max_waiting
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="capture")
        self._lock = threading.Lock()
        self._jobs: dict[int, Job] = {}
        self._ids = itertools.count(1)

    def submit(self, user: str, what: str, work: Callable[[], Any]) -> Job:
        with self._lock:
            open_jobs = [j for j in self._jobs.values() if j.state in ("waiting", "running")]
            if sum(j.user == user for j in open_jobs) >= self.per_user:
                raise QueueFull(f"you already have {self.per_user} captures waiting or running; "
                                "try again when one has finished")
            if len(open_jobs) >= self.max_waiting:
                raise QueueFull(f"{len(open_jobs)} captures are waiting; try again in a minute")
            job = Job(id=next(self._ids), user=user, what=what, submitted_at=datetime.now(timezone.utc))
            self._jobs[job.id] = job
            self._forget_old()
        self._pool.submit(self._run, job, work)
        return job

    def _run(self, job: Job, work: Callable[[], Any]) -> None:
        job.state = "running"
        try:
            result = work()
        except BaseException as exc:  # noqa: BLE001 - the failure travels to whoever waits on the job
            job.state = "failed"
            log.warning("capture job %s (%s) failed: %s", job.id, job.what, exc)
            job.future.set_exception(exc)
        else:
            job.state = "done"
            job.future.set_result(result)

    def _forget_old(self, keep: int = 200) -> None:
        finished = [i for i, j in self._jobs.items() if j.state in ("done", "failed")]
        for job_id in finished[:-keep] if len(finished) > keep else []:
            del self._jobs[job_id]

    def open_jobs(self) -> list[Job]:
        """Jobs waiting or running, oldest first (the tips page lists them)."""
        with self._lock:
            return [j for j in self._jobs.values() if j.state in ("waiting", "running")]

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

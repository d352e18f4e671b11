"""Shadow work in a gevent worker: after the primary answer, below every primary request.

Each worker holds one bounded queue of shadow jobs (registry.shadow) and one greenlet that runs
them. The greenlet waits for an empty event loop (``gevent.idle``: no request ready to read, no
answer ready to write) before each job, so a primary request never waits behind a queued shadow,
only, at worst, behind the one job already running. Work is shed first: a job past the queue's
bound (jobs or rows) or older than ``MAX_AGE_S`` when its turn comes is dropped, and its rows are
counted ``dropped``. A shadow's failure is counted ``error`` and goes no further.

Outside a worker (the Flask test client, a script) no runner is installed and a job runs at once.
What becomes of each job goes to the recorder the app factory sets (api.metrics counts it).
"""

from __future__ import annotations

import collections
import logging
import time
from collections.abc import Callable

import gevent
from gevent.event import Event

from registry.shadow import DROPPED, ShadowJob, ShadowOutcome, run_shadow

log = logging.getLogger(__name__)

MAX_QUEUED_JOBS = 64  # per worker
MAX_QUEUED_ROWS = 100_000  # per worker: the columns held for shadows
MAX_AGE_S = 2.0  # a job not started by then is dropped: the worker is too busy for shadows

Record = Callable[[ShadowJob, ShadowOutcome], None]


class ShadowRunner:
    """One worker's shadow queue and the greenlet that drains it when the loop is idle."""

    def __init__(
        self, max_jobs: int = MAX_QUEUED_JOBS, max_rows: int = MAX_QUEUED_ROWS, max_age_s: float = MAX_AGE_S
    ) -> None:
        self.max_jobs, self.max_rows, self.max_age_s = max_jobs, max_rows, max_age_s
        self.queue: collections.deque[ShadowJob] = collections.deque()
        self.queued_rows = 0
        self.ready = Event()
        self.greenlet: gevent.Greenlet | None = None

    def submit(self, job: ShadowJob) -> None:
        """Queue ``job``, or count its rows dropped when the queue is full."""
        if len(self.queue) >= self.max_jobs or self.queued_rows + job.rows > self.max_rows:
            record(job, dropped(job))
            return
        self.queue.append(job)
        self.queued_rows += job.rows
        self.ready.set()
        if self.greenlet is None or self.greenlet.dead:
            self.greenlet = gevent.spawn(self._drain)

    def _drain(self) -> None:
        while True:
            if not self.queue:
                self.ready.clear()
                self.ready.wait()
                continue
            gevent.idle()  # every ready request first
            job = self.queue.popleft()
            self.queued_rows -= job.rows
            if time.monotonic() - job.queued_at > self.max_age_s:
                record(job, dropped(job))
            else:
                record(job, run_shadow(job))


def dropped(job: ShadowJob) -> ShadowOutcome:
    """The outcome of a job shed before it ran: every row ``dropped``."""
    return ShadowOutcome({DROPPED: job.rows}, 0.0)


def _ignore(job: ShadowJob, outcome: ShadowOutcome) -> None:
    return None


_runner: ShadowRunner | None = None
_record: Record = _ignore


def set_recorder(record: Record) -> None:
    """Send what becomes of every job (run, failed or dropped) to ``record``."""
    global _record
    _record = record


def record(job: ShadowJob, outcome: ShadowOutcome) -> None:
    """Report ``outcome`` to the recorder; a recorder's failure never reaches a request."""
    try:
        _record(job, outcome)
    except Exception:
        log.exception("recording a shadow outcome failed")


def install(runner: ShadowRunner | None) -> None:
    """Make ``runner`` this process's (a worker calls it once booted; None removes it)."""
    global _runner
    _runner = runner


def submit(job: ShadowJob) -> None:
    """Hand ``job`` to this worker's runner; without one, run it now and record it."""
    if _runner is not None:
        _runner.submit(job)
    else:
        record(job, run_shadow(job))

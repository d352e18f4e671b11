"""Shadow work in a gevent worker: after the primary answer, below every primary request.

Each worker holds one bounded queue of shadow jobs (registry.shadow) and one greenlet that runs
them. The greenlet waits for an empty event loop (``gevent.idle``: no request ready to read, no
answer ready to write) before each job, so a primary request never waits behind a queued shadow,
only, at worst, behind the one job already running. And shadows get only the time primaries
leave: the worker keeps a decayed sum of the seconds it spent on each (``Busy``), and a job whose
turn comes while primaries and shadows together took more than ``BUSY_LIMIT`` of the last second,
or shadows alone more than ``SHADOW_LIMIT``, is not run. Work is shed first: a job past the
queue's bound (jobs or rows), older than ``MAX_AGE_S``, or over those limits when its turn comes
is dropped, and its rows are counted ``dropped``. A shadow's failure is counted ``error`` and goes
no further.

Outside a worker (the Flask test client, a script) no runner is installed and a job runs at once.
What becomes of each job goes to the recorder the app factory sets (api.observability.metrics counts it).
"""

from __future__ import annotations

import collections
import logging
import math
import time
from collections.abc import Callable

import gevent
from gevent.event import Event

from registry.shadow import DROPPED, ShadowJob, ShadowOutcome, run_shadow

log = logging.getLogger(__name__)

MAX_QUEUED_JOBS = 64  # per worker
MAX_QUEUED_ROWS = 100_000  # per worker: the columns held for shadows
MAX_AGE_S = 2.0  # a job not started by then is dropped: the worker is too busy for shadows
BUSY_LIMIT = 0.6  # primaries and shadows, share of the last second past which shadows are shed
SHADOW_LIMIT = 0.4  # shadows alone, share of the last second
BUSY_TAU_S = 1.0  # time constant of the decayed sums

Record = Callable[[ShadowJob, ShadowOutcome], None]


class Busy:
    """Seconds of work in the recent past: a sum decayed with the time constant ``tau`` seconds,
    so ``share`` is about the fraction of the last ``tau`` seconds spent working."""

    def __init__(self, tau: float = BUSY_TAU_S) -> None:
        self.tau, self.level, self.at = tau, 0.0, time.monotonic()

    def add(self, seconds: float, now: float) -> None:
        self.level = self.level * math.exp((self.at - now) / self.tau) + seconds
        self.at = now

    def share(self, now: float) -> float:
        return self.level * math.exp((self.at - now) / self.tau) / self.tau


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
        self.primaries, self.shadows = Busy(), Busy()

    def note_primary(self, seconds: float) -> None:
        """Count ``seconds`` the worker just spent on a primary request."""
        self.primaries.add(seconds, time.monotonic())

    def has_room(self, now: float) -> bool:
        """Whether the last second left time for a shadow (``BUSY_LIMIT``, ``SHADOW_LIMIT``)."""
        shadows = self.shadows.share(now)
        return shadows < SHADOW_LIMIT and self.primaries.share(now) + shadows < BUSY_LIMIT

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
            now = time.monotonic()
            if now - job.queued_at > self.max_age_s or not self.has_room(now):
                record(job, dropped(job))
                continue
            outcome = run_shadow(job)
            self.shadows.add(outcome.seconds, time.monotonic())
            record(job, outcome)


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


def note_primary(seconds: float) -> None:
    """Tell this worker's runner (if any) it spent ``seconds`` on a primary request."""
    if _runner is not None:
        _runner.note_primary(seconds)


def submit(job: ShadowJob) -> None:
    """Hand ``job`` to this worker's runner; without one, run it now and record it."""
    if _runner is not None:
        _runner.submit(job)
    else:
        record(job, run_shadow(job))

"""The soak's clients: threads sending the mix and judging each answer, and the counting of what they got."""

from __future__ import annotations

import http.client
import json
import math
import threading
import time
from array import array
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from bench.soak.cases import Case, Mix
from bench.soak.server import Reload

REQUEST_TIMEOUT_S = 30.0
# what became of one request
OK, WRONG_STATUS, WRONG_BODY, NO_ANSWER = 0, 1, 2, 3


def judge(case: Case, status: int, body: bytes) -> int:
    """OK, WRONG_STATUS or WRONG_BODY: whether an answer is the one ``case`` must get."""
    if status != case.status:
        return WRONG_STATUS
    try:
        answer = json.loads(body)
    except ValueError:
        return WRONG_BODY
    if not isinstance(answer, dict):
        return WRONG_BODY
    if not case.good:
        return OK if answer.get("code") == status else WRONG_BODY
    if case.rows is None:
        return OK
    served_right = answer.get("version") in case.versions and len(answer.get("predictions", ())) == case.rows
    return OK if served_right else WRONG_BODY


def exchange(connection: http.client.HTTPConnection, case: Case) -> tuple[int, bytes]:
    """Send ``case`` and return the answer's status and body; raises ``OSError`` or
    ``http.client.HTTPException`` if no answer came.

    The server answers a body over its limit (413) and closes before reading it all, so the send
    fails with a broken pipe or a reset; the answer is then read all the same.
    """
    headers = {"Content-Type": case.content_type} if case.content_type else {}
    try:
        connection.request(case.method, case.path, body=case.body, headers=headers)
    except (BrokenPipeError, ConnectionResetError):
        pass
    response = connection.getresponse()
    return response.status, response.read()


class Request(NamedTuple):
    """One request: when it started (s after the load began), its latency, case, status, outcome."""

    started_s: float
    latency_ms: float
    case: int
    status: int
    outcome: int


class ClientLog:
    """What one client thread sent and got, in compact arrays (status 0: no answer)."""

    def __init__(self) -> None:
        self.started_s, self.latency_ms = array("d"), array("d")
        self.case, self.status, self.outcome = array("H"), array("H"), array("B")
        self.not_ok = 0
        self.errors: Counter[str] = Counter()
        self.crash: BaseException | None = None

    def add(self, request: Request) -> None:
        """Record one request."""
        self.started_s.append(request.started_s)
        self.latency_ms.append(request.latency_ms)
        self.case.append(request.case)
        self.status.append(request.status)
        self.outcome.append(request.outcome)
        self.not_ok += request.outcome != OK

    def __len__(self) -> int:
        return len(self.case)

    def requests(self) -> Iterator[Request]:
        """Every request recorded, in the order sent."""
        columns = (self.started_s, self.latency_ms, self.case, self.status, self.outcome)
        return (Request(*values) for values in zip(*columns, strict=True))


def client(
    port: int, mix: Mix, began: float, deadline: float, stop: threading.Event, record: ClientLog
) -> None:
    """Send requests back to back until ``deadline`` (monotonic) or ``stop``, recording each.

    One http.client connection, kept alive and reopened whenever the server closed it (after its
    keep-alive time, or after a 413); a request with no answer is recorded with the error's name.
    """
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_S)
    try:
        while not stop.is_set() and time.monotonic() < deadline:
            index = mix.next()
            case = mix.cases[index]
            started = time.monotonic()
            try:
                status, body = exchange(connection, case)
                outcome = judge(case, status, body)
            except (OSError, http.client.HTTPException) as error:
                connection.close()
                status, outcome = 0, NO_ANSWER
                record.errors[f"{case.name}: {type(error).__name__}"] += 1
            finished = time.monotonic()
            record.add(Request(started - began, 1000 * (finished - started), index, status, outcome))
    except BaseException as error:  # a bug here must not pass for a quiet client
        record.crash = error
    finally:
        connection.close()


def start_clients(
    count: int, port: int, mix: Mix, began: float, deadline: float, stop: threading.Event
) -> tuple[list[threading.Thread], list[ClientLog]]:
    """``count`` client threads, started, and the logs they write."""
    logs = [ClientLog() for _ in range(count)]
    threads = [
        threading.Thread(target=client, args=(port, mix, began, deadline, stop, record), name=f"client-{i}")
        for i, record in enumerate(logs)
    ]
    for thread in threads:
        thread.start()
    return threads, logs


def failed(case: Case, request: Request) -> bool:
    """A failure in the issue's sense: a good request without its 200 and right predictions, or a bad
    request answered other than 4xx; no answer at all is a failure for both."""
    if case.good:
        return request.outcome != OK
    return not 400 <= request.status < 500


@dataclass
class Totals:
    """Requests counted together: per status (0: no answer), failures, answers not as expected,
    and latencies."""

    statuses: Counter[int] = field(default_factory=Counter)
    failures: int = 0
    not_ok: int = 0
    latency_ms: list[float] = field(default_factory=list)

    @property
    def sent(self) -> int:
        return sum(self.statuses.values())

    def add(self, case: Case, request: Request) -> None:
        """Count one request of ``case``."""
        self.statuses[request.status] += 1
        self.failures += failed(case, request)
        self.not_ok += request.outcome != OK
        self.latency_ms.append(request.latency_ms)

    def percentile(self, q: float) -> float | None:
        """The nearest-rank ``q``-th percentile of the latencies in ms, or ``None`` if there were none."""
        if not self.latency_ms:
            return None
        ordered = sorted(self.latency_ms)
        return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]

    def statuses_text(self) -> str:
        """``200: 1,234, 400: 56``, with ``no answer`` for requests that got none."""
        found = sorted(self.statuses.items())
        return ", ".join(f"{'no answer' if s == 0 else s}: {n:,}" for s, n in found) or "—"


def combined(parts: Sequence[Totals]) -> Totals:
    """The totals of ``parts`` together."""
    total = Totals()
    for part in parts:
        total.statuses.update(part.statuses)
        total.failures += part.failures
        total.not_ok += part.not_ok
        total.latency_ms += part.latency_ms
    return total


@dataclass
class Tally:
    """Every request counted: per case, in the reload window, and the errors of requests with no answer."""

    cases: list[Case]
    per_case: list[Totals]
    window: Totals
    errors: Counter[str]

    def of(self, kind: str | None = None) -> Totals:
        """The totals of the good or bad cases, or of all when ``kind`` is ``None``."""
        return combined(
            [t for case, t in zip(self.cases, self.per_case, strict=True) if kind in (None, case.kind)]
        )


def tally(cases: Sequence[Case], logs: Sequence[ClientLog], reload: Reload | None) -> Tally:
    """Count every request of every client."""
    counts = Tally(list(cases), [Totals() for _ in cases], Totals(), Counter())
    start, end = reload.window if reload is not None else (math.inf, -math.inf)
    for record in logs:
        counts.errors.update(record.errors)
        for request in record.requests():
            case = cases[request.case]
            counts.per_case[request.case].add(case, request)
            if start <= request.started_s <= end:
                counts.window.add(case, request)
    return counts

"""``make soak``: mixed good and bad requests against ``--workers 2`` for ten minutes, one reload midway.

Run from the repository root as ``.venv/bin/python -m bench.soak [options]`` (``--help`` lists them).
The example store is copied to a temporary folder and served from there on 127.0.0.1, so that the
reload (a version added to the copied config, then SIGHUP to the master) never touches the repository.
Client threads send a fixed mix of requests, each with the answer it must get; the server's RSS and
PSS are read from /proc. The markdown report goes to bench/results/soak-<date>.md (or ``--output``)
and to stdout; the exit status is 1 if a request failed, the reload did not reach every worker or
the server's total RSS or anonymous PSS grew by 5 % or more.
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import itertools
import json
import math
import os
import random
import shlex
import shutil
import signal
import sys
import tempfile
import threading
import time
import urllib.request
from array import array
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from bench.machine import ROOT, busy_percent, machine_facts
from bench.procs import (
    CLOCK_TICKS,
    Server,
    ServerError,
    _kb_field,
    _stat_fields,
    children,
    cpu_seconds,
    free_port,
    machine_busy_seconds,
    memory_mb,
    start_server,
    stop_server,
)
from bench.report import BUSY_MACHINE_PERCENT, number, table
from bench.run import ours_command
from bench.scenarios import Row, Scenario, iris_rows, penguin_rows, repeat_rows

WORKERS = 2
MAX_GROWTH_PERCENT = 5.0
RELOAD_MARGIN_S = 5.0
RELOAD_TIMEOUT_S = 60.0
CHECKS_IN_A_ROW = 20
REQUEST_TIMEOUT_S = 30.0
OVERSIZE_BYTES = 9_000_000
FIRST_OVERSIZE_S = 5.0
SHUFFLE_SEED = 5
RELOADED_MODEL, SOURCE_VERSION, NEW_VERSION = "penguins", "2", "3"
JSON_TYPE = "application/json"

# phases a case is sent in: all the run, only before the reload is confirmed, only after
BOTH, BEFORE, AFTER = "both", "before", "after"
# what became of one request
OK, WRONG_STATUS, WRONG_BODY, NO_ANSWER = 0, 1, 2, 3


def log(message: str) -> None:
    """Progress on stderr, so that stdout holds only the report."""
    print(f"soak: {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- the requests


@dataclass(frozen=True)
class Case:
    """One kind of request: what is sent, the status it must get, and its share of the mix.

    A good case expects 200 and, for a prediction, ``rows`` predictions served by one of
    ``versions``; a bad case expects ``status`` (a 4xx) with a JSON error whose ``code`` is that
    status. ``weight`` is how many times the case stands in the mix's deck (0: sent on a timer only).
    """

    name: str
    status: int
    path: str
    body: bytes | None = None
    content_type: str | None = JSON_TYPE
    method: str = "POST"
    weight: int = 1
    phase: str = BOTH
    rows: int | None = None
    versions: frozenset[str] = frozenset()

    @property
    def good(self) -> bool:
        return self.status == 200

    @property
    def kind(self) -> str:
        return "good" if self.good else "bad"


@cache
def diabetes_rows() -> tuple[Row, ...]:
    """The 442 diabetes rows from scikit-learn, unscaled, age and sex as integers (as the model was fit)."""
    from sklearn.datasets import load_diabetes

    frame = load_diabetes(as_frame=True, scaled=False).data.astype({"age": "int64", "sex": "int64"})
    return tuple(frame.to_dict("records"))


def to_json(payload: Any) -> bytes:
    """Compact JSON bytes."""
    return json.dumps(payload, separators=(",", ":")).encode()


def predict(
    model: str, version: str, shape: str, rows: Sequence[Row], versions: set[str], weight: int, **extra: Any
) -> Case:
    """A good prediction request of ``rows`` in ``shape`` (``row``, ``instances`` or ``inputs``)."""
    scenario = Scenario("", "", model, version, shape, tuple(rows))
    count = 1 if shape == "row" else len(rows)
    name = f"{model}/{version}, {count:,} {'row' if shape == 'row' else shape}"
    if extra.get("phase", BOTH) != BOTH:
        name += f" ({extra['phase']} the reload)"
    fields = {"path": scenario.path, "body": scenario.body(), "rows": count, **extra}
    return Case(name, 200, weight=weight, versions=frozenset(versions), **fields)


def good_cases() -> list[Case]:
    """Valid predictions on every example model, by version, alias and default, in all three shapes,
    and metadata reads; penguins version 3 and ``latest`` pinned to 3 only after the reload."""
    iris, penguins, diabetes = iris_rows(), penguin_rows(), diabetes_rows()
    default = {"path": "/models/penguins/predict"}
    return [
        predict("iris", "1", "row", iris[7:8], {"1"}, 4),
        predict("iris", "1", "instances", repeat_rows(iris, 100), {"1"}, 2),
        predict("iris", "1", "inputs", repeat_rows(iris, 1000), {"1"}, 1),
        predict("penguins", "1", "row", penguins[20:21], {"1"}, 2),
        predict("penguins", "stable", "row", penguins[200:201], {"1"}, 2),
        predict("penguins", "2", "row", penguins[100:101], {"2"}, 3),
        predict("penguins", "latest", "row", penguins[300:301], {"2", NEW_VERSION}, 2, phase=BEFORE),
        predict("penguins", "latest", "row", penguins[300:301], {NEW_VERSION}, 2, phase=AFTER),
        predict("penguins", "default", "row", penguins[50:51], {"2"}, 1, **default),
        predict("penguins", "2", "instances", repeat_rows(penguins, 100), {"2"}, 1),
        predict("penguins", "1", "inputs", repeat_rows(penguins, 200), {"1"}, 1),
        predict("penguins", NEW_VERSION, "row", penguins[150:151], {NEW_VERSION}, 2, phase=AFTER),
        predict(
            "penguins", NEW_VERSION, "instances", repeat_rows(penguins, 100), {NEW_VERSION}, 1, phase=AFTER
        ),
        predict("diabetes", "1", "row", diabetes[0:1], {"1"}, 2),
        predict("diabetes", "1", "inputs", repeat_rows(diabetes, 100), {"1"}, 1),
        Case("GET /models", 200, "/models", method="GET", content_type=None),
        Case("GET /models/penguins/2", 200, "/models/penguins/2", method="GET", content_type=None),
    ]


def bad(name: str, path: str, payload: Any, status: int = 400, **extra: Any) -> Case:
    """A bad request: ``payload`` as JSON (or as is, when it is bytes), expected to get ``status``."""
    body = payload if isinstance(payload, bytes) else to_json(payload)
    return Case(name, status, path, body, **extra)


def bad_cases() -> list[Case]:
    """One request for each kind of mistake a client makes, each with the 4xx it must get."""
    iris_path, penguin_path = "/models/iris/1/predict", "/models/penguins/2/predict"
    iris, penguin, diabetes = iris_rows()[0], penguin_rows()[0], diabetes_rows()[0]
    missing = {name: value for name, value in iris.items() if name != "petal_width_cm"}
    one_bad_row = [*repeat_rows(iris_rows(), 9), {**iris, "petal_length_cm": -1}]
    no_type = {"content_type": None}
    get = {"method": "GET", "content_type": None}
    return [
        bad("invalid category", penguin_path, {**penguin, "island": "Atlantis"}),
        bad("invalid category code", "/models/diabetes/1/predict", {**diabetes, "sex": 3}),
        bad("missing feature", iris_path, missing),
        bad("string for a number", iris_path, {**iris, "sepal_length_cm": "5.1"}),
        bad("boolean for a number", iris_path, {**iris, "petal_width_cm": True}),
        bad("out of range", penguin_path, {**penguin, "flipper_length_mm": 999}),
        bad("unknown field", iris_path, {**iris, "colour": "blue"}),
        bad("one bad row of 10 instances", iris_path, {"instances": one_bad_row}),
        bad("empty instances", iris_path, {"instances": []}),
        bad("invalid JSON (truncated)", iris_path, b'{"instances": ['),
        bad("invalid JSON (NaN)", iris_path, to_json(iris).replace(b"5.1", b"NaN", 1)),
        bad("wrong Content-Type (text/plain)", iris_path, iris, 415, content_type="text/plain"),
        bad("no Content-Type", iris_path, iris, 415, **no_type),
        bad("unknown model", "/models/unicorn/1/predict", iris, 404),
        bad("unknown version", "/models/iris/9/predict", iris, 404),
        bad("unknown alias", "/models/penguins/beta/predict", penguin, 404),
        Case("GET unknown path", 404, "/nothing/here", **get),
        Case("GET on a predict path", 405, iris_path, **get),
    ]


def oversize_case() -> Case:
    """A valid-looking iris batch of over ``OVERSIZE_BYTES`` (the limit is 8 MiB), sent on a timer."""
    row = to_json(iris_rows()[0])
    count = OVERSIZE_BYTES // (len(row) + 1) + 1
    body = b'{"instances":[' + b",".join([row] * count) + b"]}"
    return Case(f"{len(body) / 1e6:.1f} MB body (limit 8 MiB)", 413, "/models/iris/1/predict", body, weight=0)


def build_cases(oversize: bool) -> list[Case]:
    """Every case of the mix, good ones first; the oversize one last when it is sent at all."""
    return [*good_cases(), *bad_cases(), *([oversize_case()] if oversize else [])]


def deck(cases: Sequence[Case], phase: str) -> list[int]:
    """Indices of the cases sent in ``phase``, each ``weight`` times, in a fixed shuffled order."""
    indices = [i for i, case in enumerate(cases) if case.phase in (BOTH, phase) for _ in range(case.weight)]
    random.Random(SHUFFLE_SEED).shuffle(indices)
    return indices


class Mix:
    """Which case each request sends: the deck of the current phase in turn, shared by all clients,
    and the timed case (the oversize body) instead whenever it is due."""

    def __init__(self, cases: Sequence[Case], timed: int | None, every_s: float, first_at: float) -> None:
        self.cases = list(cases)
        self._decks = {phase: deck(cases, phase) for phase in (BEFORE, AFTER)}
        self._deck = self._decks[BEFORE]
        self._turn = itertools.count()
        self._timed, self._every_s, self._due = timed, every_s, first_at
        self._lock = threading.Lock()

    def next(self) -> int:
        """The index of the case to send now."""
        if self._timed is not None and time.monotonic() >= self._due:
            with self._lock:
                if time.monotonic() >= self._due:
                    self._due = time.monotonic() + self._every_s
                    return self._timed
        current = self._deck
        return current[next(self._turn) % len(current)]

    def after_reload(self) -> None:
        """Switch to the cases that need the reloaded set (penguins version 3)."""
        self._deck = self._decks[AFTER]


# ---------------------------------------------------------------- the clients


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

    One http.client connection, reopened whenever the server closed it (gunicorn's sync workers
    close after every answer); a request with no answer is recorded with the error's name.
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


# ---------------------------------------------------------------- the server: store, reload, /proc


def copy_store(config: Path, folder: Path) -> Path:
    """Copy ``config`` and the store folder it names into ``folder``; the copy's config path."""
    store = yaml.safe_load(config.read_text()).get("store", "model_store")
    if Path(store).is_absolute():
        raise ValueError(f"{config}: the soak copies the store, so 'store' must be relative (got {store})")
    shutil.copytree(config.parent / store, folder / store)
    shutil.copy2(config, folder / config.name)
    return folder / config.name


def add_version(config: Path) -> None:
    """Declare penguins version 3 in ``config``: version 2's artifact and sha256 under a new number."""
    data = yaml.safe_load(config.read_text())
    versions = data["models"][RELOADED_MODEL]["versions"]
    versions[NEW_VERSION] = {
        **versions[SOURCE_VERSION],
        "description": "Version 2's artifact, added by the soak.",
    }
    staged = config.with_name(config.name + ".new")
    staged.write_text(yaml.safe_dump(data, sort_keys=False))
    os.replace(staged, config)


def listed_versions(server: Server) -> list[str]:
    """The versions ``GET /models/penguins`` lists (none if it did not answer 200)."""
    try:
        with urllib.request.urlopen(server.url(f"/models/{RELOADED_MODEL}"), timeout=5) as response:
            return [version["version"] for version in json.load(response)["versions"]]
    except (OSError, ValueError, KeyError, TypeError):
        return []


@dataclass
class Reload:
    """The one reload: when SIGHUP was sent and when every worker was seen on the new set (s after
    the load began), how many checks that took, and the workers before and after."""

    sent_s: float
    settled_s: float | None = None
    checks: int = 0
    old_workers: list[int] = field(default_factory=list)
    new_workers: list[int] = field(default_factory=list)

    @property
    def window(self) -> tuple[float, float]:
        """From ``RELOAD_MARGIN_S`` before SIGHUP to as long after every worker was on the new set."""
        end = self.settled_s if self.settled_s is not None else self.sent_s + RELOAD_TIMEOUT_S
        return self.sent_s - RELOAD_MARGIN_S, end + RELOAD_MARGIN_S


def reload_server(server: Server, config: Path, began: float) -> Reload:
    """Add penguins version 3 to the copied config, SIGHUP the master, and wait until every worker serves it.

    Settled means both: none of the workers from before the reload is alive and ``WORKERS`` are (gunicorn
    replaced them by forks of the reloaded master), and ``CHECKS_IN_A_ROW`` answers in a row of
    ``GET /models/penguins`` list version 3. ``settled_s`` stays ``None`` if that takes over
    ``RELOAD_TIMEOUT_S``.
    """
    old = children(server.pid)
    add_version(config)
    sent = time.monotonic()
    server.process.send_signal(signal.SIGHUP)
    reload = Reload(sent - began, old_workers=old)
    in_a_row = 0
    while time.monotonic() - sent < RELOAD_TIMEOUT_S:
        workers = children(server.pid)
        reload.checks += 1
        in_a_row = in_a_row + 1 if NEW_VERSION in listed_versions(server) else 0
        if in_a_row >= CHECKS_IN_A_ROW and len(workers) == WORKERS and not set(workers) & set(old):
            reload.settled_s, reload.new_workers = time.monotonic() - began, workers
            break
        time.sleep(0.05)
    return reload


class ProcessMemory(NamedTuple):
    """One process's memory in MB: RSS (VmRSS), PSS and its anonymous part (None if unreadable).

    PSS splits each shared page between the processes that map it, anywhere on the machine: the
    library files the server maps are shared with any other Python process using the same .venv, so
    total PSS moves when such processes start or stop. Anonymous pages (the heap, and what the workers
    inherit copy-on-write) are shared only within the server, so their PSS is the server's own.
    """

    rss: float
    pss: float | None
    pss_anon: float | None


def process_memory(pid: int) -> ProcessMemory:
    """RSS and PSS of ``pid`` (``procs.memory_mb``) and its anonymous PSS from smaps_rollup."""
    rss, pss = memory_mb(pid)
    try:
        anon = _kb_field(Path(f"/proc/{pid}/smaps_rollup"), "Pss_Anon:") / 1024
    except (OSError, ValueError):
        anon = None
    return ProcessMemory(rss, pss, anon)


def summed(values: Sequence[float | None]) -> float | None:
    """The sum, or ``None`` if any value is unknown."""
    return None if any(v is None for v in values) else sum(v for v in values if v is not None)


@dataclass(frozen=True)
class Footprint:
    """Memory of the server at one moment, the master's and each current worker's, with how many
    requests were done by then and the CPU others used since the previous sample."""

    at_s: float
    master: ProcessMemory
    workers: tuple[ProcessMemory, ...]
    requests: int
    other_cpu_percent: float | None = None

    def total(self, figure: str) -> float | None:
        """``rss``, ``pss`` or ``pss_anon`` of the master and workers summed."""
        return summed([getattr(process, figure) for process in (self.master, *self.workers)])

    def workers_total(self, figure: str) -> float | None:
        """``rss``, ``pss`` or ``pss_anon`` of the workers summed."""
        return summed([getattr(process, figure) for process in self.workers])


def read_memory(master: int) -> tuple[ProcessMemory, tuple[ProcessMemory, ...]]:
    """The memory of the master and of its current workers, read again if a worker went away meanwhile."""
    readings = None
    for _ in range(10):
        try:
            readings = (process_memory(master), tuple(process_memory(pid) for pid in children(master)))
        except OSError:
            continue
        if summed([m.pss for m in (readings[0], *readings[1])]) is not None:
            break
        time.sleep(0.05)
    if readings is None:
        raise ServerError(f"could not read the memory of server {master} and its workers")
    return readings


@dataclass(frozen=True)
class CpuReading:
    """CPU seconds used so far: the whole machine (busy), this process (the clients), and the server."""

    at: float
    machine_s: float
    own_s: float
    server_s: float


def server_cpu_seconds(master: int) -> float:
    """CPU seconds the server has used: the master, its live workers, and the workers it has reaped
    (their time is in the master's cutime and cstime)."""
    for _ in range(10):
        try:
            fields = _stat_fields(master)
            return (
                cpu_seconds([master, *children(master)]) + (int(fields[13]) + int(fields[14])) / CLOCK_TICKS
            )
        except (OSError, ServerError):
            continue  # a worker went away while we read: read again
    raise ServerError(f"could not read the CPU time of server {master} and its workers")


def read_cpu(master: int) -> CpuReading:
    """The CPU readings now."""
    return CpuReading(
        time.monotonic(), machine_busy_seconds(), time.process_time(), server_cpu_seconds(master)
    )


def cpu_percents(before: CpuReading, after: CpuReading) -> tuple[float, float, float]:
    """CPU of the clients, of the server, and of everything else between two readings, % of one core."""
    wall = max(after.at - before.at, 1e-9)
    own, server = after.own_s - before.own_s, after.server_s - before.server_s
    other = max(0.0, after.machine_s - before.machine_s - own - server)
    return 100 * own / wall, 100 * server / wall, 100 * other / wall


# ---------------------------------------------------------------- the run


@dataclass
class Soak:
    """Everything one soak measured, with the facts needed to read it."""

    command: str
    facts: list[tuple[str, str]]
    cases: list[Case]
    duration_s: float
    connections: int
    busy_before_percent: float
    logs: list[ClientLog] = field(default_factory=list)
    samples: list[Footprint] = field(default_factory=list)
    end: Footprint | None = None
    reload: Reload | None = None
    load_s: float = 0.0
    cpu: tuple[float, float, float] = (0.0, 0.0, 0.0)
    server_log: Counter[str] = field(default_factory=Counter)


def sample(server: Server, logs: Sequence[ClientLog], at_s: float, other_cpu: float | None) -> Footprint:
    """The server's memory now, with the requests done so far."""
    master, workers = read_memory(server.pid)
    return Footprint(at_s, master, workers, sum(len(record) for record in logs), other_cpu)


def check_running(server: Server, threads: Sequence[threading.Thread], logs: Sequence[ClientLog]) -> None:
    """Raise ``ServerError`` if the server exited, ``RuntimeError`` if a client thread stopped early."""
    if server.process.poll() is not None:
        raise ServerError(
            f"the server exited ({server.process.returncode}); its log ends:\n{server.log_tail()}"
        )
    for thread, record in zip(threads, logs, strict=True):
        if record.crash is not None or not thread.is_alive():
            raise RuntimeError(f"{thread.name} stopped early: {record.crash!r}")


def follow(
    soak: Soak,
    server: Server,
    config: Path,
    mix: Mix,
    clients: Sequence[threading.Thread],
    began: float,
    args: argparse.Namespace,
) -> None:
    """Until the end of the load: sample memory every ``--sample-every`` s from ``--warmup`` on, and
    reload once at half time (then send the cases that need version 3)."""
    end, reload_at, next_sample = began + soak.duration_s, began + soak.duration_s / 2, began + args.warmup
    last_cpu = read_cpu(server.pid)
    while (now := time.monotonic()) < end - 0.5:
        check_running(server, clients, soak.logs)
        if soak.reload is None and now >= reload_at:
            log(f"reloading at {now - began:.0f} s: penguins/{NEW_VERSION} added, SIGHUP to {server.pid}")
            soak.reload = reload_server(server, config, began)
            if soak.reload.settled_s is not None:
                mix.after_reload()
            log(f"reload: {reload_outcome(soak.reload)[0]}, workers {soak.reload.new_workers}")
        elif now >= next_sample:
            cpu = read_cpu(server.pid)
            soak.samples.append(sample(server, soak.logs, now - began, cpu_percents(last_cpu, cpu)[2]))
            last_cpu, next_sample = cpu, next_sample + args.sample_every
            progress(soak)
        else:
            pending = [end, next_sample, *([reload_at] if soak.reload is None else [])]
            time.sleep(max(0.0, min(1.0, min(pending) - now)))


def progress(soak: Soak) -> None:
    """One line on stderr about the latest sample."""
    latest = soak.samples[-1]
    not_ok = sum(record.not_ok for record in soak.logs)
    log(
        f"{latest.at_s:.0f} s: {latest.requests:,} requests, {not_ok} not as expected, "
        f"RSS {number(latest.total('rss'))} MB, PSS {number(latest.total('pss'))} MB, "
        f"anonymous PSS {number(latest.total('pss_anon'))} MB"
    )


def load(soak: Soak, server: Server, config: Path, args: argparse.Namespace) -> None:
    """Run the clients for the whole duration, following them; then stop them, take the last sample."""
    stop = threading.Event()
    before = read_cpu(server.pid)
    began = before.at
    oversize = None if args.oversize_every <= 0 else len(soak.cases) - 1
    mix = Mix(soak.cases, oversize, args.oversize_every, began + FIRST_OVERSIZE_S)
    threads, soak.logs = start_clients(
        args.connections, server.port, mix, began, began + soak.duration_s, stop
    )
    try:
        follow(soak, server, config, mix, threads, began, args)
    finally:
        stop.set()  # the clients stop at the deadline by themselves; this is for an early exit
        for thread in threads:
            thread.join()
    check_running(server, [], [])
    after = read_cpu(server.pid)
    soak.load_s, soak.cpu = after.at - began, cpu_percents(before, after)
    soak.end = sample(server, soak.logs, soak.load_s, None)


def scan_log(path: Path) -> Counter[str]:
    """What the server's log says about its workers: boots, timeouts, tracebacks, errors."""
    text = path.read_text(errors="replace")
    return Counter(
        {
            "workers booted": text.count("Booting worker"),
            "worker timeouts": text.count("WORKER TIMEOUT"),
            "tracebacks": text.count("Traceback"),
            "ERROR or CRITICAL lines": sum(
                "[ERROR]" in line or " ERROR " in line or "CRITICAL" in line for line in text.splitlines()
            ),
        }
    )


def run_soak(args: argparse.Namespace, soak: Soak) -> None:
    """Copy the store, start the server, run the load with its reload, stop the server (by PID)."""
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        folder = Path(tmp)
        config = copy_store(args.config, folder)
        port = free_port()
        log(
            f"starting model-registry serve --workers {WORKERS} on 127.0.0.1:{port} "
            f"(store copied to {folder})"
        )
        command = ours_command(config, WORKERS, port)
        server = start_server("model-registry", command, port, folder / "server.log", WORKERS, ROOT)
        try:
            log(f"server {server.pid} ready; {args.connections} clients for {soak.duration_s:.0f} s")
            load(soak, server, config, args)
        finally:
            stop_server(server)
            soak.server_log = scan_log(server.log)


# ---------------------------------------------------------------- counting


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


def tally(soak: Soak) -> Tally:
    """Count every request of every client."""
    counts = Tally(soak.cases, [Totals() for _ in soak.cases], Totals(), Counter())
    start, end = soak.reload.window if soak.reload is not None else (math.inf, -math.inf)
    for record in soak.logs:
        counts.errors.update(record.errors)
        for request in record.requests():
            case = soak.cases[request.case]
            counts.per_case[request.case].add(case, request)
            if start <= request.started_s <= end:
                counts.window.add(case, request)
    return counts


def growth(start: float | None, end: float | None) -> float | None:
    """The change from ``start`` to ``end`` in percent of ``start``."""
    if start is None or end is None or start <= 0:
        return None
    return 100 * (end - start) / start


# ---------------------------------------------------------------- the report


def verdicts(soak: Soak, counts: Tally) -> list[tuple[str, str, bool]]:
    """(criterion, measured, passed) for each pass/fail criterion."""
    everything = counts.of()
    other_4xx = everything.not_ok - everything.failures
    rss, anon = (memory_growth(soak, figure) for figure in ("rss", "pss_anon"))
    reload_text, settled = reload_outcome(soak.reload)
    limit = f"< {MAX_GROWTH_PERCENT:.0f} %"
    return [
        (
            "0 failures (good: non-200 or wrong predictions; bad: non-4xx; either: no answer)",
            f"{everything.failures:,} of {everything.sent:,}",
            everything.failures == 0,
        ),
        (
            "every bad request got its own expected 4xx and JSON error",
            f"{other_4xx:,} others",
            other_4xx == 0,
        ),
        (f"the reload reached every worker within {RELOAD_TIMEOUT_S:.0f} s", reload_text, settled),
        (f"total RSS growth {limit}", percent_text(rss), rss is not None and rss < MAX_GROWTH_PERCENT),
        (
            f"total anonymous PSS growth {limit}",
            percent_text(anon),
            anon is not None and anon < MAX_GROWTH_PERCENT,
        ),
    ]


def memory_growth(soak: Soak, figure: str) -> float | None:
    """Growth of the server's total ``figure`` (``rss``, ``pss``, ``pss_anon``) from start to end, %."""
    if not soak.samples or soak.end is None:
        return None
    return growth(soak.samples[0].total(figure), soak.end.total(figure))


def reload_outcome(reload: Reload | None) -> tuple[str, bool]:
    """How the reload went, in words, and whether it reached every worker in time."""
    if reload is None:
        return "no reload happened", False
    if reload.settled_s is None:
        return f"not settled {RELOAD_TIMEOUT_S:.0f} s after SIGHUP", False
    return f"settled {reload.settled_s - reload.sent_s:.1f} s after SIGHUP", True


def percent_text(value: float | None) -> str:
    """``+1.23 %``, or a dash when unknown."""
    return "—" if value is None else f"{value:+.2f} %"


def verdict_section(soak: Soak, counts: Tally) -> list[str]:
    """The PASS/FAIL lines."""
    found = verdicts(soak, counts)
    lines = ["## Verdict", ""] + [
        f"- **{'PASS' if ok else 'FAIL'}** {name}: {got}" for name, got, ok in found
    ]
    pss = percent_text(memory_growth(soak, "pss"))
    return [
        *lines,
        f"- (not judged) total PSS growth: {pss}; it includes library pages shared with other processes on "
        "the machine, so it moves when they start or stop (see Memory).",
    ]


def requests_section(soak: Soak, counts: Tally) -> list[str]:
    """Totals per kind and status with latencies, the throughput, and the no-answer errors."""
    rows = []
    for kind in ("good", "bad", None):
        totals = counts.of(kind)
        figures = [totals.sent, totals.failures, totals.not_ok]
        latencies = [number(totals.percentile(50)), number(totals.percentile(99))]
        rows.append([kind or "all", totals.statuses_text(), *(f"{n:,}" for n in figures), *latencies])
    header = ["kind", "per status", "requests", "failures", "not as expected", "p50 ms", "p99 ms"]
    sent = counts.of().sent
    errors = ", ".join(f"{name} × {n}" for name, n in counts.errors.most_common()) or "none"
    return [
        "## Requests",
        "",
        *table(header, rows),
        "",
        f"{sent:,} requests in {soak.load_s:.1f} s: {sent / max(soak.load_s, 1e-9):,.1f} req/s over "
        f"{soak.connections} connections. A good request expects 200 with as many predictions as rows, "
        "from the right version; a bad one its own 4xx with a JSON error. 'Failures' are the issue's "
        "(good: anything else; bad: not 4xx; either: no answer); 'not as expected' adds bad requests "
        "answered with another 4xx.",
        "",
        f"Requests with no answer (connection errors, timeouts), counted as failures: {errors}.",
    ]


def cases_section(counts: Tally) -> list[str]:
    """Per case: the request, what it expects, the statuses it got, its median latency."""
    rows = [
        [
            case.kind,
            case.name,
            f"`{case.method} {case.path}`",
            str(case.status),
            totals.statuses_text(),
            f"{totals.not_ok:,}",
            number(totals.percentile(50)),
        ]
        for case, totals in zip(counts.cases, counts.per_case, strict=True)
    ]
    header = ["kind", "case", "request", "expects", "got", "not as expected", "p50 ms"]
    note = (
        "Cases marked before/after the reload are sent only until/from the moment it settled; the "
        "oversize body is sent by whichever client is next once it is due."
    )
    return ["## Requests per case", "", *table(header, rows), "", note]


def reload_section(soak: Soak, counts: Tally) -> list[str]:
    """When the reload happened, how long it took to reach every worker, and the requests around it."""
    reload = soak.reload
    if reload is None:
        return ["## Reload", "", "No reload happened (the run ended first)."]
    start, end = reload.window
    settled = "never (within the timeout)" if reload.settled_s is None else f"at {reload.settled_s:.1f} s"
    window = counts.window
    return [
        "## Reload",
        "",
        f"- penguins/{NEW_VERSION} (version {SOURCE_VERSION}'s artifact and sha256) added to the copied "
        f"config, SIGHUP to the master at {reload.sent_s:.1f} s.",
        f"- every worker on the new set {settled}: workers {reload.old_workers} replaced by "
        f"{reload.new_workers}, and {CHECKS_IN_A_ROW} answers in a row of `GET /models/{RELOADED_MODEL}` "
        f"listing version {NEW_VERSION} ({reload.checks} checks in all, not counted as load).",
        f"- requests started from {start:.1f} s to {end:.1f} s ({RELOAD_MARGIN_S:.0f} s before SIGHUP to "
        f"{RELOAD_MARGIN_S:.0f} s after it settled): {window.sent:,} ({window.statuses_text()}), failed "
        f"{window.failures}, not as expected {window.not_ok}; p50 {number(window.percentile(50))} ms, "
        f"p99 {number(window.percentile(99))} ms.",
    ]


def memory_section(soak: Soak) -> list[str]:
    """Memory at start and end with growth, and the samples every ``--sample-every`` s."""
    if not soak.samples or soak.end is None:
        return ["## Memory", "", "No memory readings (the run ended before the warm-up did)."]
    start, end = soak.samples[0], soak.end
    rows = []
    for figure, title in (("rss", "RSS"), ("pss", "PSS"), ("pss_anon", "anonymous PSS")):
        figures = [
            (f"master {title}", getattr(start.master, figure), getattr(end.master, figure)),
            (f"workers {title}", start.workers_total(figure), end.workers_total(figure)),
            (f"**total {title}**", start.total(figure), end.total(figure)),
        ]
        rows += [[name, number(a), number(b), percent_text(growth(a, b))] for name, a, b in figures]
    header = ["MB", f"start ({start.at_s:.0f} s)", f"end ({end.at_s:.0f} s)", "growth"]
    return [
        "## Memory (the master and its current workers, from /proc)",
        "",
        *table(header, rows),
        "",
        "RSS counts a page shared by the master and the workers once in each. PSS splits every shared "
        "page between all the processes mapping it, on the whole machine: the library files the server "
        "maps are also mapped by any other Python process using this .venv (tests, other servers), so "
        "total PSS falls when such processes start and rises when they stop. Anonymous PSS (heap, and "
        "the pages the workers share copy-on-write with the master) is shared only within the server: "
        "that is where a leak shows, and what the verdict judges with RSS.",
        "",
        "Samples (the first is the start; req/s and others' CPU are since the previous sample):",
        "",
        *samples_table([*soak.samples, end]),
    ]


def samples_table(samples: Sequence[Footprint]) -> list[str]:
    """One row per memory sample."""
    rows = []
    for previous, footprint in zip([None, *samples], samples, strict=False):
        rate = None
        if previous is not None:
            rate = (footprint.requests - previous.requests) / max(footprint.at_s - previous.at_s, 1e-9)
        figures = [
            footprint.master.rss,
            footprint.total("rss"),
            footprint.master.pss,
            footprint.total("pss"),
            footprint.master.pss_anon,
            footprint.total("pss_anon"),
        ]
        rows.append(
            [
                f"{footprint.at_s:.0f}",
                f"{footprint.requests:,}",
                number(rate),
                str(len(footprint.workers)),
                *map(number, figures),
                number(footprint.other_cpu_percent),
            ]
        )
    header = ["s", "requests", "req/s", "workers", "master RSS", "total RSS", "master PSS", "total PSS"]
    return table([*header, "master anon PSS", "total anon PSS", "others' CPU %"], rows)


def machine_section(soak: Soak) -> list[str]:
    """How busy the machine was, and what the server's log says."""
    clients, server, other = soak.cpu
    busiest = max((s.other_cpu_percent or 0.0 for s in soak.samples), default=0.0)
    lines = [
        "## Machine and server log",
        "",
        f"- before the start: {soak.busy_before_percent:.0f}% of a core busy (over 1 s).",
        f"- during the load, % of one core ({os.cpu_count()} cores): server {server:.0f}, clients (this "
        f"process) {clients:.0f}, everything else {other:.0f} (at most {busiest:.0f} between two samples).",
    ]
    if max(other, soak.busy_before_percent, busiest) > BUSY_MACHINE_PERCENT:
        lines.append(
            f"- **The machine was busy:** other work used over {BUSY_MACHINE_PERCENT}% of a core, so "
            "throughput and latency are lower and noisier than on a quiet machine; that excuses neither "
            "failures nor memory growth."
        )
    else:
        lines.append(f"- the machine was quiet: other work stayed under {BUSY_MACHINE_PERCENT}% of a core.")
    found = ", ".join(f"{name} {count}" for name, count in soak.server_log.items())
    lines.append(
        f"- server log: {found} (expected {2 * WORKERS} boots: {WORKERS} at start, {WORKERS} on reload)."
    )
    return lines


def render(soak: Soak, counts: Tally) -> str:
    """The whole report as markdown."""
    head = [
        "# Soak: mixed good and bad requests, one reload, memory over time",
        "",
        f"Command: `{soak.command}`",
        "",
        *(f"- {name}: {value}" for name, value in soak.facts),
    ]
    sections = [
        head,
        verdict_section(soak, counts),
        requests_section(soak, counts),
        reload_section(soak, counts),
        memory_section(soak),
        machine_section(soak),
        cases_section(counts),
    ]
    return "\n\n".join("\n".join(section) for section in sections) + "\n"


# ---------------------------------------------------------------- the command line


# flag, type, default, help
OPTIONS: list[tuple[str, type, Any, str]] = [
    ("--duration", float, 600, "seconds of load (the reload is at half time)"),
    ("--connections", int, 4, "client threads, one connection each"),
    ("--warmup", float, 10, "seconds of load before the start memory reading"),
    ("--sample-every", float, 30, "seconds between memory samples"),
    ("--oversize-every", float, 30, "seconds between 9 MB bodies (0: none)"),
    ("--config", Path, ROOT / "config.yaml", "the store to copy and serve"),
    ("--output", Path, None, "report path (default: bench/results/soak-<date>.md)"),
]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line; the defaults are the issue's soak (ten minutes, 4 connections)."""
    parser = argparse.ArgumentParser(prog="soak", description=__doc__.splitlines()[0])
    for flag, kind, default, text in OPTIONS:
        parser.add_argument(flag, type=kind, default=default, help=text)
    args = parser.parse_args(argv)
    if args.connections < 1 or args.sample_every <= 0:
        parser.error("--connections must be at least 1 and --sample-every positive")
    if not 0 < args.warmup < args.duration / 2:
        parser.error("--warmup must be positive and shorter than half of --duration (the reload)")
    return args


def command_line(argv: Sequence[str]) -> str:
    """The command that ran this soak (``make soak`` runs ``python -m bench.soak $(SOAK_ARGS)``)."""
    via_make = " (run by make soak)" if os.environ.get("MAKELEVEL") else ""
    return shlex.join([os.path.relpath(sys.executable, ROOT), "-m", "bench.soak", *argv]) + via_make


def facts(args: argparse.Namespace) -> list[tuple[str, str]]:
    """The machine facts, with how the load was driven and the run's timeline."""
    load_generator = (
        f"{args.connections} Python threads, http.client, one connection each, closed loop "
        "(reconnecting after every answer: gunicorn sync workers close the connection)"
    )
    oversize = (
        f"a 9 MB body every {args.oversize_every:g} s" if args.oversize_every > 0 else "no oversize body"
    )
    runs = (
        f"{args.duration:g} s of load on model-registry serve --workers {WORKERS}; memory at "
        f"{args.warmup:g} s (start) and at the end, sampled every {args.sample_every:g} s; reload at "
        f"{args.duration / 2:g} s; {oversize}"
    )
    return machine_facts(load_generator, runs, with_ceiling=False)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the soak; 0 if every criterion passed, 1 if one failed or the server broke, 130 if interrupted."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    busy = busy_percent()
    if busy > BUSY_MACHINE_PERCENT:
        log(f"warning: the machine is busy before we start ({busy:.0f}% of a core); the report will say so")
    soak = Soak(
        command_line(argv),
        facts(args),
        build_cases(args.oversize_every > 0),
        args.duration,
        args.connections,
        busy,
    )
    try:
        run_soak(args, soak)
    except KeyboardInterrupt:
        log("interrupted; the server and the clients were stopped")
        return 130
    except (ServerError, RuntimeError, OSError, ValueError) as exc:
        print(f"soak failed: {exc}", file=sys.stderr)
        return 1
    counts = tally(soak)
    report = render(soak, counts)
    output = args.output or ROOT / "bench" / "results" / f"soak-{datetime.date.today().isoformat()}.md"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(report)
    print(report)
    log(f"report written to {output}")
    return 0 if all(ok for _, _, ok in verdicts(soak, counts)) else 1


if __name__ == "__main__":
    sys.exit(main())

"""One measured run: wrk against a server, with the server workers' CPU read from /proc around it."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.harness import Server, ServerError, cpu_seconds, machine_busy_seconds
from bench.load.loadgen import Load, WrkResult, run_wrk
from bench.scenarios import Scenario


@dataclass(frozen=True)
class Run:
    """What one run measured: wrk's figures, its wall time, and the CPU the server's workers used."""

    wrk: WrkResult
    wall_s: float
    server_cpu_s: float
    rows_per_request: int
    connections: int
    machine_cpu_s: float

    @property
    def requests_per_s(self) -> float:
        return self.wrk.requests_per_s

    @property
    def rows_per_s(self) -> float:
        return self.wrk.requests_per_s * self.rows_per_request

    @property
    def cpu_ms_per_request(self) -> float:
        return 1000 * self.server_cpu_s / self.wrk.requests

    @property
    def worker_cpu_percent(self) -> float:
        """CPU the workers used, as a percentage of one core over the run."""
        return 100 * self.server_cpu_s / self.wall_s

    @property
    def wrk_cpu_percent(self) -> float:
        """CPU wrk itself used, as a percentage of one core over the run."""
        return 100 * self.wrk.cpu_s / self.wall_s

    @property
    def other_cpu_percent(self) -> float:
        """CPU that neither the workers nor wrk used (other processes, the kernel), % of one core."""
        return max(0.0, 100 * (self.machine_cpu_s - self.server_cpu_s - self.wrk.cpu_s) / self.wall_s)


@dataclass(frozen=True)
class Settings:
    """How wrk is driven: the wrk binary, seconds per run, connections per server worker, threads."""

    wrk: str
    duration_s: int
    connections_per_worker: int
    threads: int = 1


def measure(settings: Settings, server: Server, scenario: Scenario, body_file: Path) -> Run:
    """Run wrk once on ``scenario`` against ``server``; raises ``ServerError`` on any non-2xx answer.

    wrk opens ``connections_per_worker`` connections for each of the server's workers.
    """
    connections = settings.connections_per_worker * len(server.worker_pids)
    load = Load(server.url + scenario.path, body_file, settings.duration_s, connections, settings.threads)
    before, machine_before = cpu_seconds(server.worker_pids), machine_busy_seconds()
    started = time.perf_counter()
    result = run_wrk(settings.wrk, load)
    wall_s = time.perf_counter() - started
    server_cpu_s = cpu_seconds(server.worker_pids) - before
    machine_cpu_s = machine_busy_seconds() - machine_before
    if result.non_2xx or not result.requests:
        raise ServerError(
            f"{server.name} answered {result.non_2xx} of {result.requests} requests with a non-2xx "
            f"status on '{scenario.title}'; its log ends:\n{server.log_tail()}"
        )
    return Run(result, wall_s, server_cpu_s, len(scenario.rows), connections, machine_cpu_s)


def median_of(runs: Sequence[Run], figure: Callable[[Run], float]) -> float:
    """The median of ``figure`` over ``runs``."""
    return statistics.median(figure(run) for run in runs)


def ratios(numerators: Sequence[Run], denominators: Sequence[Run]) -> list[float]:
    """req/s ratios run by run: each repetition's run against the other server's in the same repetition."""
    return [a.requests_per_s / b.requests_per_s for a, b in zip(numerators, denominators, strict=True)]

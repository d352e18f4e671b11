"""The soak's readings from /proc: the server's RSS and PSS (master and current workers), and CPU use."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from bench.harness import (
    CLOCK_TICKS,
    ServerError,
    children,
    cpu_seconds,
    kb_field,
    machine_busy_seconds,
    memory_mb,
    stat_fields,
)


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
    """RSS and PSS of ``pid`` (``harness.memory_mb``) and its anonymous PSS from smaps_rollup."""
    rss, pss = memory_mb(pid)
    try:
        anon = kb_field(Path(f"/proc/{pid}/smaps_rollup"), "Pss_Anon:") / 1024
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
            fields = stat_fields(master)
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

"""The soak's run: the server on a copied store, the clients, memory samples and the reload, in order."""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.harness import Server, ServerError, free_port, serve_command, start_server, stop_server
from bench.machine import ROOT
from bench.report_text import number
from bench.soak.cases import NEW_VERSION, Case, Mix
from bench.soak.client import ClientLog, start_clients
from bench.soak.memory import Footprint, cpu_percents, read_cpu, read_memory
from bench.soak.server import WORKERS, Reload, copy_store, reload_outcome, reload_server, scan_log

FIRST_OVERSIZE_S = 5.0


def log(message: str) -> None:
    """Progress on stderr, so that stdout holds only the report."""
    print(f"soak: {message}", file=sys.stderr, flush=True)


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
        command = serve_command(config, port, WORKERS)
        server = start_server("model-registry", command, port, folder / "server.log", WORKERS, ROOT)
        try:
            log(f"server {server.pid} ready; {args.connections} clients for {soak.duration_s:.0f} s")
            load(soak, server, config, args)
        finally:
            stop_server(server)
            soak.server_log = scan_log(server.log)

"""make attack: hold a server's connections the way slow or hostile clients do, and measure whether a
well-behaved client still gets answers.

Against one running server (started here, or ``--url`` of one already up) it opens, for ``--hold``
seconds: idle sockets that send nothing, clients that send their headers or their body one byte at a
time, clients that ask for a large answer and never read it, and clients that send most of an 8 MB
body and stall. Meanwhile a probe sends a one-row predict every 0.2 s with a 1 s timeout, and the
workers' resident memory is watched. Success: at least 98 % of the probes answered 200 within 1 s,
and no worker grew by more than ``--max-growth-mb``. ``--scenario`` picks the mix: the default
(``mixed``), ``idle-flood`` (1,100 idle sockets re-opened as they are closed, more than a worker's
1,000 connections), ``never-read`` (150 clients asking for 9 MB answers) or ``stalled-body`` (100).
Every loop here is bounded in count and time, and traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from bench.attack_memory import MemoryWatch
from bench.procs import free_port, start_server, stop_server

ROOT = Path(__file__).resolve().parents[1]
IRIS_ROW = {"sepal_length_cm": 5.1, "sepal_width_cm": 3.5, "petal_length_cm": 1.4, "petal_width_cm": 0.2}
PROBE_PATH = "/models/iris/1/predict"
PROBE_INTERVAL_S = 0.2
PROBE_TIMEOUT_S = 1.0
REQUIRED_SHARE = 0.98
BIG_ROWS = 60_000  # a columnar request whose answer (about 7 MB) outgrows the socket buffers


@dataclass
class Attack:
    """How many hostile clients of each kind to hold open, and for how long."""

    idle: int = 50
    slow_headers: int = 5
    slow_body: int = 5
    never_read: int = 3
    stalled_body: int = 0
    hold_s: float = 20.0


SCENARIOS = {
    "mixed": Attack(),
    "idle-flood": Attack(idle=1100, slow_headers=0, slow_body=0, never_read=0),
    "never-read": Attack(idle=0, slow_headers=0, slow_body=0, never_read=150),
    "stalled-body": Attack(idle=0, slow_headers=0, slow_body=0, never_read=0, stalled_body=100),
}
STALLED_BODY_BYTES = 8 * 1024 * 1024 - 1024  # just under the default max_body_bytes


@dataclass
class ProbeResult:
    """What the well-behaved client saw while the attack held."""

    sent: int = 0
    answered: int = 0  # 200 within the timeout
    latencies_ms: list[float] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)
    growth_mb: float | None = None  # the largest rise of one worker's RSS (when watched)

    @property
    def share(self) -> float:
        return self.answered / self.sent if self.sent else 0.0

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def run_attack(host: str, port: int, attack: Attack, master: int | None = None) -> ProbeResult:
    """Hold the hostile clients open against ``host:port`` and probe it meanwhile; with ``master``
    (the server's gunicorn master PID), watch its workers' memory too."""
    watch = MemoryWatch(master).start() if master is not None else None
    stop = threading.Event()
    hostile: list[threading.Thread] = []
    kinds: list[tuple[int, Callable[[str, int, threading.Event], None]]] = [
        (attack.idle, _idle),
        (attack.slow_headers, _slow_headers),
        (attack.slow_body, _slow_body),
        (attack.never_read, _never_read),
        (attack.stalled_body, _stalled_body),
    ]
    for count, target in kinds:
        for _ in range(count):
            thread = threading.Thread(target=target, args=(host, port, stop), daemon=True)
            thread.start()
            hostile.append(thread)
    time.sleep(1.0)  # let every hostile client get its hold first
    result = _probe(host, port, attack.hold_s)
    stop.set()
    for thread in hostile:
        thread.join(timeout=5)
    if watch is not None:
        watch.stop()
        result.growth_mb = watch.growth_mb
    return result


def _connect(host: str, port: int) -> socket.socket:
    sock = socket.create_connection((host, port), timeout=5)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # small, so a server's send fills it
    return sock


def _idle(host: str, port: int, stop: threading.Event) -> None:
    """Connect and send nothing; reconnect when the server closes, as an attacker would."""
    while not stop.is_set():
        try:
            with _connect(host, port) as sock:
                sock.settimeout(0.5)
                while not stop.is_set():
                    try:
                        if sock.recv(1024) == b"":
                            break  # closed by the server: come back
                    except TimeoutError:
                        continue
        except OSError:
            stop.wait(0.2)


def _drip(host: str, port: int, stop: threading.Event, head: bytes, drip: bytes) -> None:
    """Send ``head`` at once, then ``drip`` one byte a second; reconnect when cut off."""
    while not stop.is_set():
        try:
            with _connect(host, port) as sock:
                sock.sendall(head)
                for byte in drip:
                    if stop.wait(1.0):
                        return
                    sock.sendall(bytes([byte]))
        except OSError:
            stop.wait(0.2)


def _slow_headers(host: str, port: int, stop: threading.Event) -> None:
    request = f"POST {PROBE_PATH} HTTP/1.1\r\nHost: {host}\r\n" + "X-Pad: a\r\n" * 200
    _drip(host, port, stop, b"", request.encode())


def _slow_body(host: str, port: int, stop: threading.Event) -> None:
    body = json.dumps(IRIS_ROW).encode() * 10
    head = (
        f"POST {PROBE_PATH} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    _drip(host, port, stop, head, body)


def big_request(host: str) -> bytes:
    """A valid columnar iris predict of ``BIG_ROWS`` rows, whose answer is several megabytes."""
    columns = {name: [value] * BIG_ROWS for name, value in IRIS_ROW.items()}
    body = json.dumps({"inputs": columns}).encode()
    head = (
        f"POST {PROBE_PATH} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    return head + body


def _never_read(host: str, port: int, stop: threading.Event) -> None:
    """Ask for a large answer and never read a byte of it."""
    request = big_request(host)
    while not stop.is_set():
        try:
            with _connect(host, port) as sock:
                sock.sendall(request)
                stop.wait()  # hold the connection, reading nothing
                return
        except OSError:
            stop.wait(0.5)


def _stalled_body(host: str, port: int, stop: threading.Event) -> None:
    """Announce a body just under 8 MB, send all of it but the last 1,024 bytes, and stall;
    reconnect when cut off or answered."""
    head = (
        f"POST {PROBE_PATH} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {STALLED_BODY_BYTES}\r\n\r\n"
    ).encode()
    sent = b" " * (STALLED_BODY_BYTES - 1024)
    while not stop.is_set():
        try:
            with socket.create_connection((host, port), timeout=5) as sock:
                sock.sendall(head)
                sock.settimeout(0.5)
                for start in range(0, len(sent), 65536):  # stop sending once the server answers
                    if stop.is_set():
                        return
                    sock.sendall(sent[start : start + 65536])
                while not stop.is_set():
                    try:
                        if sock.recv(65536) == b"":
                            break
                    except TimeoutError:
                        continue
        except OSError:
            stop.wait(0.2)


def _probe(host: str, port: int, seconds: float) -> ProbeResult:
    """A one-row predict every 0.2 s for ``seconds``, each with a 1 s timeout, on a new connection."""
    result = ProbeResult()
    body = json.dumps(IRIS_ROW).encode()
    url = f"http://{host}:{port}{PROBE_PATH}"
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.monotonic()
        result.sent += 1
        request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=PROBE_TIMEOUT_S) as response:
                response.read()
                elapsed = time.monotonic() - started
                if response.status == 200 and elapsed <= PROBE_TIMEOUT_S:
                    result.answered += 1
                    result.latencies_ms.append(elapsed * 1000)
        except urllib.error.HTTPError as error:
            key = f"HTTP {error.code}"
            result.failures[key] = result.failures.get(key, 0) + 1
        except OSError as error:
            key = type(error).__name__
            result.failures[key] = result.failures.get(key, 0) + 1
        time.sleep(max(0.0, PROBE_INTERVAL_S - (time.monotonic() - started)))
    return result


def describe(result: ProbeResult, attack: Attack, label: str) -> str:
    """One report line for a run."""
    verdict = "PASS" if result.share >= REQUIRED_SHARE else "FAIL"
    memory = "" if result.growth_mb is None else f"; largest worker growth {result.growth_mb:.0f} MB"
    return (
        f"{label}: {attack.idle} idle, {attack.slow_headers} slow-header, {attack.slow_body} slow-body, "
        f"{attack.never_read} never-read, {attack.stalled_body} stalled-body "
        f"for {attack.hold_s:.0f} s{memory}: {result.answered}/{result.sent} probes "
        f"answered within 1 s ({result.share:.1%}; p50 {result.percentile(0.5):.1f} ms, "
        f"p99 {result.percentile(0.99):.1f} ms) failures {result.failures or 'none'} [{verdict}]"
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.attack", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="attack a server already running here (http://127.0.0.1:PORT)")
    parser.add_argument("--config", default=str(ROOT / "config.yaml"))
    parser.add_argument(
        "--workers", type=int, action="append", help="worker counts to try (default: the default, and 2)"
    )
    parser.add_argument("--hold", type=float, default=20.0, help="seconds to hold the attack (default 20)")
    parser.add_argument("--serve-arg", action="append", default=[], help="extra argument for serve")
    parser.add_argument(
        "--scenario", choices=list(SCENARIOS), default="mixed", help="the hostile mix (default mixed)"
    )
    parser.add_argument(
        "--max-growth-mb",
        type=float,
        default=400.0,
        help="fail when a worker's RSS grows more than this (default 400; servers started here only)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the attack against each server setup; exit 1 if any probe share is under 98 % or a
    worker grew more than allowed."""
    args = _parser().parse_args(argv)
    attack = replace(SCENARIOS[args.scenario], hold_s=args.hold)
    results = []
    if args.url:
        host_port = args.url.split("//", 1)[-1].rstrip("/")
        host, port = host_port.rsplit(":", 1)
        results.append(("given server", run_attack(host, int(port), attack)))
    else:
        for workers in args.workers or [None, 2]:
            results.append(_against_new_server(args, workers, attack))
    ok = True
    for label, result in results:
        print(describe(result, attack, label), flush=True)
        ok &= result.share >= REQUIRED_SHARE
        ok &= result.growth_mb is None or result.growth_mb <= args.max_growth_mb
    return 0 if ok else 1


def _against_new_server(
    args: argparse.Namespace, workers: int | None, attack: Attack
) -> tuple[str, ProbeResult]:
    port = free_port()
    command = [sys.executable, "-m", "api", "serve", "--config", args.config, "--port", str(port)]
    if workers is not None:
        command += ["--workers", str(workers)]
    command += args.serve_arg
    log = Path(f"/tmp/attack-server-{port}.log")
    server = start_server("ours", [*command], port, log, workers or os.cpu_count() or 1, ROOT)
    try:
        label = f"--workers {workers}" if workers else "default workers"
        return label, run_attack("127.0.0.1", port, attack, master=server.pid)
    finally:
        stop_server(server)


if __name__ == "__main__":
    sys.exit(main())

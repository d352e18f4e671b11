"""One attack: the hostile clients held open against a server while a well-behaved probe predicts,
and what the probe saw."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.attack.clients import IRIS_ROW, PROBE_PATH, idle, never_read, slow_body, slow_headers, stalled_body
from bench.attack.memory import MemoryWatch

PROBE_INTERVAL_S = 0.2
PROBE_TIMEOUT_S = 1.0
REQUIRED_SHARE = 0.98


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
        (attack.idle, idle),
        (attack.slow_headers, slow_headers),
        (attack.slow_body, slow_body),
        (attack.never_read, never_read),
        (attack.stalled_body, stalled_body),
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

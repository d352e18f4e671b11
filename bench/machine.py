"""Facts about the machine and software a report was measured on."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

from bench.harness import machine_busy_seconds

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("flask", "flask-smorest", "marshmallow", "gunicorn", "orjson", "pandas", "numpy", "scikit-learn")
# Over this share of one core used by other work, a run warns that the machine was not quiet.
BUSY_MACHINE_PERCENT = 25
SPIN = "n = 0\nwhile n < 8_000_000:\n    n += 1\n"


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo."""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def git_revision() -> str:
    """The commit the working tree is on, and whether tracked files have uncommitted changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "diff", "--name-only", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    if not changed:
        return f"git {head}"
    more = f" and {len(changed) - 5} more" if len(changed) > 5 else ""
    return f"git {head}, with uncommitted changes to {', '.join(changed[:5])}{more}"


def _spin_seconds(processes: int, attempts: int = 2) -> float:
    """Best wall seconds, of ``attempts``, for ``processes`` copies of a CPU-bound loop run side by side."""
    best = float("inf")
    for _ in range(attempts):
        started = time.perf_counter()
        running = [subprocess.Popen([sys.executable, "-c", SPIN]) for _ in range(processes)]
        for process in running:
            process.wait(timeout=120)
        best = min(best, time.perf_counter() - started)
    return best


def parallel_ceiling(processes: int = 2) -> float:
    """How many times one process's throughput ``processes`` CPU-bound processes reach together.

    On a machine whose cores are all real and idle this is ``processes``; it bounds what
    ``--workers 2`` can gain over one worker.
    """
    return processes * _spin_seconds(1) / _spin_seconds(processes)


def busy_percent(seconds: float = 1.0) -> float:
    """How much of one core the machine spent busy over the next ``seconds`` (before we load it)."""
    before = machine_busy_seconds()
    time.sleep(seconds)
    return 100 * (machine_busy_seconds() - before) / seconds


def machine_facts(load_generator: str, runs: str, with_ceiling: bool = True) -> list[tuple[str, str]]:
    """Date, code, machine, software versions and the run settings, as (name, value) pairs.

    ``with_ceiling`` adds the parallel ceiling (a few seconds of measuring), which only the scaling
    figure needs.
    """
    versions = ", ".join(f"{name} {metadata.version(name)}" for name in PACKAGES)
    cores = os.cpu_count() or 1
    facts = [
        ("date", datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")),
        ("code", git_revision()),
        ("machine", f"{cores} cores ({len(os.sched_getaffinity(0))} usable), {cpu_model()}"),
        ("system", f"Linux {platform.release()}, Python {platform.python_version()}"),
        ("packages", versions),
        ("load generator", load_generator),
        ("runs", runs),
    ]
    if with_ceiling:
        ceiling = (
            f"{cores} CPU-bound processes side by side run at {parallel_ceiling(cores):.2f}× one "
            f"(the most --workers {cores} could gain here)"
        )
        facts.insert(3, ("parallel ceiling", ceiling))
    return facts

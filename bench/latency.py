"""The single-connection latency probes: each run set against an in-process floor timed just before it.

Per repetition: the floor, then each server at one connection. Besides the baseline and ours, the
servers include a canned answer (bench/canned.py): our own answer to the probe's body, sent by a
server that computes nothing. What it takes is what moving those bytes over this machine's loopback
costs by itself, which no server that computes before it answers can go below.
"""

from __future__ import annotations

from collections.abc import Sequence

from bench.floor import Floor, LoadedVersion, measure_floor
from bench.measure import Run
from bench.plan import Plan, log
from bench.procs import Server
from bench.scenarios import Scenario


def measure_latency(
    plan: Plan, servers: Sequence[Server], probe: Scenario, version: LoadedVersion, floor_seconds: float
) -> tuple[list[Floor], dict[tuple[str, str], list[Run]]]:
    """The floor of each repetition, and the single-connection runs keyed (scenario, server).

    This machine's speed drifts by 2x within minutes, so a floor timed once, half a minute before
    the last run set against it, can make the ratio off by more than the target's margin.
    """
    plan.warm_up(servers, [probe], connections=1)
    floors: list[Floor] = []
    runs: dict[tuple[str, str], list[Run]] = {(probe.name, server.name): [] for server in servers}
    for rep in range(1, plan.reps + 1):
        floors.append(measure_floor(version, probe, floor_seconds))
        log(f"rep {rep}/{plan.reps} {probe.title}: in-process floor {1000 * floors[-1].full_s:.2f} ms")
        measured = plan.measure(servers, [probe], connections=1, rep=rep)
        for key, kept in measured.items():
            runs[key].extend(kept)
    return floors, runs

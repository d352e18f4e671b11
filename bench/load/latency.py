"""The single-connection latency probes: each server's latency on a large request against the floor.

Per repetition: the floor, then each server at one connection (wrk). Besides the baseline and ours,
the servers include a canned answer (bench/load/canned.py): our own answer to the probe's body, sent by
a server that computes nothing. What it takes is what moving those bytes over this machine's
loopback costs by itself, which no server that computes before it answers can go below.

Then the ratio the target reads: the floor and requests to each kept-alive server (ours, the
canned answer) alternated in short bursts, so that each ratio divides figures of the same moments
(this machine's speed drifts within a minute; bench/README.md says by how much). Each side is timed
warm, as wrk's back-to-back requests and the floor's loop time it: the first calls after the other
side's burst are slower, so a burst's timed calls come after untimed ones.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence

from bench.harness import Server
from bench.load.alternate import Alternated, KeptAlive, alternate_calls, post_request
from bench.load.floor import Floor, LoadedVersion, floor_call, measure_floor
from bench.load.measure import Run
from bench.load.plan import Plan, log
from bench.load.results import FLOOR
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


def alternate_with_floor(
    ports: dict[str, int],
    probe: Scenario,
    version: LoadedVersion,
    seconds: float,
    blocks: int = 5,
    burst: int = 10,
    settle: int = 2,
) -> Alternated:
    """The in-process floor (named ``FLOOR``) and the probe's request to each server of ``ports``
    (name -> port, each on one kept-alive connection), alternated in bursts of ``burst`` timed
    calls, each after ``settle`` untimed ones, for about ``seconds``, in ``blocks`` blocks of
    rounds. The servers must keep connections alive."""
    body = probe.body()
    request = post_request(probe.path, body)
    connections = {name: KeptAlive(port) for name, port in ports.items()}
    try:
        calls: dict[str, Callable[[], object]] = {FLOOR: functools.partial(floor_call(probe), version, body)}
        for name, connection in connections.items():
            calls[name] = functools.partial(connection.roundtrip, request)
        rounds = max(2 * blocks, int(seconds / ((settle + burst) * round_seconds(calls))))
        names = ", ".join(ports)
        log(f"{probe.title}: the floor and {names} alternated, {rounds} rounds of {burst} calls each")
        return alternate_calls(calls, rounds, blocks, warmup_rounds=0, burst=burst, settle=settle)
    finally:
        for connection in connections.values():
            connection.close()


def round_seconds(calls: dict[str, Callable[[], object]], rounds: int = 10) -> float:
    """Seconds one round of ``calls`` takes, timed over ``rounds`` rounds after one (which also warms up)."""
    for call in calls.values():
        call()
    started = time.perf_counter()
    for _ in range(rounds):
        for call in calls.values():
            call()
    return (time.perf_counter() - started) / rounds

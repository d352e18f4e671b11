"""How the bench's runs are made: each server warmed up, then measured interleaved, rep by rep."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from bench.harness import Server
from bench.load.measure import Run, Settings, measure
from bench.load.results import BASELINE
from bench.scenarios import Scenario


def log(message: str) -> None:
    """Progress on stderr, so that stdout holds only the report."""
    print(f"bench: {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Plan:
    """How every measurement of one bench run is made: the bodies, wrk settings, repetitions, warm-up."""

    bodies: dict[str, Path]
    settings: Settings
    reps: int
    warmup_s: int

    def measure(
        self,
        servers: Sequence[Server],
        scenarios: Sequence[Scenario],
        connections: int | None = None,
        rep: int | None = None,
    ) -> dict[tuple[str, str], list[Run]]:
        """Warm each server up on each scenario, then measure them interleaved; keyed (scenario, server).

        ``connections`` (per worker) overrides the plan's, for the single-connection latency runs.
        With ``rep``, only that one repetition is measured, with no warm-up: for a caller that does
        something else between repetitions.
        """
        if rep is None:
            self.warm_up(servers, scenarios, connections)
        reps = range(1, self.reps + 1) if rep is None else range(rep, rep + 1)
        settings = self.with_connections(connections)
        return measure_pairs(settings, servers, scenarios, self.bodies, reps, self.reps)

    def warm_up(
        self, servers: Sequence[Server], scenarios: Sequence[Scenario], connections: int | None = None
    ) -> None:
        """One discarded run of the warm-up's length per scenario and server."""
        settings = replace(self.with_connections(connections), duration_s=self.warmup_s)
        warm_up(settings, servers, scenarios, self.bodies)

    def with_connections(self, connections: int | None) -> Settings:
        """The plan's wrk settings, with ``connections`` per worker when given."""
        if connections is None:
            return self.settings
        return replace(self.settings, connections_per_worker=connections)


def measure_pairs(
    settings: Settings,
    servers: Sequence[Server],
    scenarios: Sequence[Scenario],
    bodies: dict[str, Path],
    reps: range,
    of: int,
) -> dict[tuple[str, str], list[Run]]:
    """Each repetition (numbered in ``reps``, out of ``of``), each scenario: one run per server in
    order (A B A B); keyed (scenario, server)."""
    runs: dict[tuple[str, str], list[Run]] = {(s.name, srv.name): [] for s in scenarios for srv in servers}
    for rep in reps:
        for scenario in scenarios:
            for server in servers:
                run = measure(settings, server, *sent_to(server, scenario, bodies))
                runs[(scenario.name, server.name)].append(run)
                log(
                    f"rep {rep}/{of} {scenario.title}, {server.name} at -c{run.connections}: "
                    f"{run.requests_per_s:,.1f} req/s, p50 {run.wrk.p50_ms:.2f} ms"
                )
    return runs


def warm_up(
    settings: Settings, servers: Sequence[Server], scenarios: Sequence[Scenario], bodies: dict[str, Path]
) -> None:
    """One discarded run per scenario and server."""
    for scenario in scenarios:
        for server in servers:
            log(f"warm-up {scenario.title}, {server.name}")
            measure(settings, server, *sent_to(server, scenario, bodies))


def sent_to(server: Server, scenario: Scenario, bodies: dict[str, Path]) -> tuple[Scenario, Path]:
    """The request ``server`` gets for ``scenario`` (the baseline: V2 rows as ``inputs``), and its body."""
    sent = scenario.for_baseline() if server.name == BASELINE else scenario
    return sent, bodies[sent.name]


def write_bodies(scenarios: Sequence[Scenario], folder: Path) -> dict[str, Path]:
    """Each scenario's request body (and the baseline's, where it differs) in a file for wrk's script."""
    bodies = {}
    for scenario in {s.name: s for x in scenarios for s in (x, x.for_baseline())}.values():
        bodies[scenario.name] = folder / f"{scenario.name}.json"
        bodies[scenario.name].write_bytes(scenario.body())
    return bodies

"""What one bench run measured: the servers' names, and the runs, floors, start-ups and memory."""

from __future__ import annotations

from dataclasses import dataclass, field

from bench.load.alternate import Alternated
from bench.load.floor import Floor
from bench.load.measure import Run
from bench.scenarios import Scenario

BASELINE = "baseline"
OURS = "ours"
CANNED = "canned answer"  # bench/load/canned.py: our answer, sent without computing anything
FLOOR = "in-process floor"  # bench/load/floor.py: the server's own computation, without HTTP


@dataclass(frozen=True)
class Memory:
    """RSS of master and workers, and PSS (shared pages split between sharers) of them together, MB."""

    master_rss: float
    worker_rss: float
    total_pss: float | None

    def footprint(self) -> tuple[float, str]:
        """The server's memory, MB, and what was counted: PSS when the kernel gives it, else RSS summed."""
        if self.total_pss is not None:
            return self.total_pss, "PSS"
        return self.master_rss + self.worker_rss, "RSS"


@dataclass
class Results:
    """Everything one bench run measured, with the facts needed to read it."""

    command: str
    facts: list[tuple[str, str]]
    scenarios: list[Scenario]
    runs: dict[tuple[str, str], list[Run]] = field(default_factory=dict)
    latency: dict[tuple[str, str], list[Run]] = field(default_factory=dict)  # (scenario, server)
    scaling: dict[int, list[Run]] = field(default_factory=dict)
    # OURS_RATIO_TARGETS' scenarios on our server alone, back to back in each repetition
    paired: dict[tuple[str, str], list[Run]] = field(default_factory=dict)
    # the same scenarios alternated request by request on one connection (bench.load.alternate)
    alternated: Alternated | None = None
    floors: dict[str, Floor] = field(default_factory=dict)
    # latency probe -> the floor timed just before each repetition of its single-connection runs
    latency_floors: dict[str, list[Floor]] = field(default_factory=dict)
    # latency probe -> the floor and single requests to ours and the canned answer, alternated
    probe_alternated: dict[str, Alternated] = field(default_factory=dict)
    startups: dict[str, list[float]] = field(default_factory=dict)
    memory: dict[str, Memory] = field(default_factory=dict)

    def probes(self) -> list[Scenario]:
        """The scenarios whose single-connection latency was measured, to set against the floor."""
        return [s for s in self.scenarios if s.name in self.latency_floors and (s.name, OURS) in self.latency]

    def all_runs(self) -> list[Run]:
        """Every kept run (warm-ups are not kept)."""
        groups = [*self.runs.values(), *self.latency.values(), *self.scaling.values(), *self.paired.values()]
        return [run for group in groups for run in group]

"""The markdown report: throughput table, in-process floor (bench.load.report_latency), start-up/memory/
scaling, and the targets."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from bench.load.measure import median_of, ratios
from bench.load.report_latency import floor_section, target_floor_ratios
from bench.load.results import BASELINE, OURS, Results
from bench.machine import BUSY_MACHINE_PERCENT
from bench.report_text import number, ratio_text, table
from bench.scenarios import Scenario

# scenario name -> minimum median ratio ours/baseline req/s (the targets)
RATIO_TARGETS = {
    "iris-1": 1.0,
    "iris-1000-instances": 2.0,
    "iris-1000-inputs": 2.5,
    "penguins-1": 1.0,
    "penguins-1000-instances": 1.0,
    "iris-1000-v2": 2.5,
}
# latency probe -> maximum single-request latency at one connection over the in-process floor
MAX_FLOOR_RATIOS = {"penguins-10000-inputs": 2.0, "iris-10000-v2": 1.5}
# (scenario, reference): the most our one-row V2 latency may be over our one-row /models latency
OURS_RATIO_TARGETS = {("iris-1-v2", "iris-1"): 1.03}
MAX_STARTUP_S = 2.0
MAX_MEMORY_MB = 250.0
MIN_SCALING = 1.7


def paired_scenarios(scenarios: Sequence[Scenario]) -> list[Scenario]:
    """The scenarios of OURS_RATIO_TARGETS present in this run, each pair in order."""
    names = {s.name: s for s in scenarios}
    pairs = [(a, b) for a, b in OURS_RATIO_TARGETS if a in names and b in names]
    return [names[name] for pair in pairs for name in pair]


def throughput_section(results: Results) -> list[str]:
    """Per scenario and server: medians over repetitions, and our ratio to the baseline."""
    header = [
        "scenario",
        "server",
        "req/s",
        "rows/s",
        "p50 ms",
        "p99 ms",
        "server CPU ms/req",
        "worker CPU %",
        "wrk CPU %",
        "ours ÷ baseline req/s, median (min–max)",
    ]
    rows = []
    for scenario in results.scenarios:
        for server in (BASELINE, OURS):
            runs = results.runs[(scenario.name, server)]
            ratio = (
                ratio_text(ratios(runs, results.runs[(scenario.name, BASELINE)])) if server == OURS else ""
            )
            figures = [
                median_of(runs, lambda r: r.requests_per_s),
                median_of(runs, lambda r: r.rows_per_s),
                median_of(runs, lambda r: r.wrk.p50_ms),
                median_of(runs, lambda r: r.wrk.p99_ms),
                median_of(runs, lambda r: r.cpu_ms_per_request),
                median_of(runs, lambda r: r.worker_cpu_percent),
                median_of(runs, lambda r: r.wrk_cpu_percent),
            ]
            rows.append([scenario.title, server, *map(number, figures), ratio])
    return ["## Throughput and latency under load (medians over repetitions)", "", *table(header, rows)]


def extras_section(results: Results) -> list[str]:
    """Start-up to ready, memory after load, and the workers-2 to workers-1 scaling."""
    rows = []
    for server in (OURS, BASELINE):
        times = results.startups.get(server)
        if times:
            spread = f" ({min(times):.2f}–{max(times):.2f}, {len(times)} starts)" if len(times) > 1 else ""
            value = f"{statistics.median(times):.2f}{spread}"
            rows.append([f"{server}: start-up to first 200 on /health/ready, s", value])
    for server, memory in results.memory.items():
        value = f"{memory.master_rss:.0f} / {memory.worker_rss:.0f}"
        rows.append([f"{server}: RSS after load, master / worker, MB", value])
        rows.append([f"{server}: PSS after load, master + worker, MB", number(memory.total_pss)])
    for workers, runs in results.scaling.items():
        value = number(median_of(runs, lambda r: r.requests_per_s))
        rows.append([f"ours, iris 1 row, --workers {workers}, req/s", value])
    if results.scaling:
        value = ratio_text(ratios(results.scaling[2], results.scaling[1]))
        rows.append(["ours, workers 2 ÷ workers 1, median (min–max)", value])
    if results.alternated is not None:
        for index, name in enumerate(results.alternated.names):
            medians = [block[index] * 1e6 for block in results.alternated.block_medians]
            value = f"{statistics.median(medians):.0f} ({min(medians):.0f}–{max(medians):.0f})"
            rows.append([f"ours, {name}, alternated one by one: median µs per request (blocks)", value])
    return ["## Start-up, memory, scaling", "", *table(["measure", "value"], rows)]


def target_rows(results: Results) -> list[tuple[str, str, str, bool]]:
    """(target, goal, measured, met) for each target whose figures were measured."""
    found: list[tuple[str, str, str, bool]] = []
    for scenario in results.scenarios:
        if scenario.name in RATIO_TARGETS:
            goal = RATIO_TARGETS[scenario.name]
            values = ratios(results.runs[(scenario.name, OURS)], results.runs[(scenario.name, BASELINE)])
            met = statistics.median(values) >= goal
            found.append((f"{scenario.title}: req/s vs baseline", f"≥ {goal}×", ratio_text(values), met))
    for (name, reference), goal in OURS_RATIO_TARGETS.items():
        alternated, runs = results.alternated, results.paired or results.runs
        if alternated is not None and {name, reference} <= set(alternated.names):
            title = f"{name} vs {reference}: our latency, requests alternated one by one"
            values = alternated.ratios(name, reference)
        elif (name, OURS) in runs and (reference, OURS) in runs:
            values = ratios(runs[(reference, OURS)], runs[(name, OURS)])  # req/s: its rate ÷ ours
            title = f"{name} vs {reference}: our latency, from req/s"
        else:
            continue
        found.append((title, f"≤ {goal}×", ratio_text(values), statistics.median(values) <= goal))
    for probe in results.probes():
        values = target_floor_ratios(results, probe)
        goal = MAX_FLOOR_RATIOS.get(probe.name, 2.0)
        how = "alternated in bursts" if probe.name in results.probe_alternated else "wrk p50"
        name = f"{probe.title}: end-to-end latency vs in-process floor, {how}"
        found.append((name, f"≤ {goal}×", ratio_text(values), statistics.median(values) <= goal))
    if results.startups.get(OURS):
        startup = statistics.median(results.startups[OURS])
        name = "start-up to ready, example store"
        found.append((name, f"≤ {MAX_STARTUP_S} s", f"{startup:.2f} s", startup <= MAX_STARTUP_S))
    if OURS in results.memory:
        used, what = results.memory[OURS].footprint()
        name = "memory with one worker, master + worker"
        found.append((name, f"≤ {MAX_MEMORY_MB:.0f} MB", f"{used:.0f} MB {what}", used <= MAX_MEMORY_MB))
    if results.scaling:
        values = ratios(results.scaling[2], results.scaling[1])
        met = statistics.median(values) >= MIN_SCALING
        found.append(("--workers 2 vs 1, iris 1 row", f"≥ {MIN_SCALING}×", ratio_text(values), met))
    return found


def targets_section(results: Results) -> list[str]:
    """The issue's targets, each marked PASS or MISS with the measured figure."""
    rows = [
        [name, goal, measured, "PASS" if met else "MISS"]
        for name, goal, measured, met in target_rows(results)
    ]
    return ["## Targets", "", *table(["target", "goal", "measured", "result"], rows)]


def notes_section(results: Results) -> list[str]:
    """How to read the figures: wrk's own CPU, other load on the machine, what latency includes."""
    runs = results.all_runs()
    wrk_cpu = [run.wrk_cpu_percent for run in runs]
    other_cpu = [run.other_cpu_percent for run in runs]
    socket_errors = sum(run.wrk.socket_errors for run in runs)
    lines = [
        "## Notes",
        "",
        f"- wrk's own CPU (user + system, from its rusage) over the {len(runs)} kept runs: median "
        f"{statistics.median(wrk_cpu):.0f}%, at most {max(wrk_cpu):.0f}% of one core. A one-worker "
        "server's 'worker CPU %' near 100 means the worker, not wrk, was the limit.",
        f"- CPU used by everything else (other processes, gunicorn masters, the kernel's loopback work) "
        f"during the runs: median {statistics.median(other_cpu):.0f}%, "
        f"at most {max(other_cpu):.0f}% of one core.",
        "- p50/p99 under load include queueing: with N connections on one sync worker, latency is about "
        "N × the service time. The single-connection latency is in the floor table.",
        "- The baseline's sync worker closes the connection after each response and wrk reconnects; "
        "ours (gevent) keeps it alive.",
        "- Ratios are taken within each repetition (baseline, then ours, back to back), then the "
        "median and min–max over repetitions are shown. Our one-row V2 latency is set against our "
        "one-row /models latency with the two requests alternated one by one on one connection "
        "(bench/load/alternate.py; the ratio is V2's median latency ÷ /models', per block of rounds: "
        "back-to-back wrk runs of the two moved by ±20 % here). A latency probe's target reads the "
        "floor and single requests alternated in bursts (bench/load/latency.py); its wrk runs are each "
        "set against a floor timed just before them. This machine's speed drifts by more than the "
        "differences measured within a few minutes: set against floors timed before the runs, the "
        "same server read from 1.11× to 2.15× within one bench.",
        f"- wrk socket errors (connect/read/write/timeout) over all kept runs: {socket_errors}.",
    ]
    if statistics.median(other_cpu) > BUSY_MACHINE_PERCENT:
        lines.append(
            f"- **Warning:** other work took over {BUSY_MACHINE_PERCENT}% of a core during most runs; "
            "the machine was not quiet, so absolute figures are low and ratios noisy. "
            "Rerun on an idle machine."
        )
    return lines


def render(results: Results) -> str:
    """The whole report as markdown."""
    lines = [
        "# Benchmark: model-registry against a naive Flask baseline",
        "",
        f"Command: `{results.command}`",
        "",
    ]
    lines += [f"- {name}: {value}" for name, value in results.facts]
    for section in (throughput_section, floor_section, extras_section, targets_section, notes_section):
        lines += ["", *section(results)]
    return "\n".join(lines) + "\n"

"""The report's latency-probe section: in-process floors, and one request's end-to-end latency
(and a canned answer's) against them."""

from __future__ import annotations

import statistics

from bench.load.floor import Floor
from bench.load.measure import median_of
from bench.load.results import BASELINE, CANNED, FLOOR, OURS, Results
from bench.report_text import DASH, number, ratio_text, table
from bench.scenarios import Scenario


def end_to_end_s(results: Results, probe: Scenario, server: str = OURS) -> float:
    """The median single-connection p50 latency of ``server`` on a probe scenario, in seconds."""
    return median_of(results.latency[(probe.name, server)], lambda r: r.wrk.p50_ms) / 1000


def probe_floors(results: Results, probe: Scenario) -> list[Floor]:
    """The floors of a probe's repetitions, each timed just before its runs."""
    return results.latency_floors[probe.name]


def floor_ratios(results: Results, probe: Scenario, server: str = OURS) -> list[float]:
    """Each repetition's single-connection p50 of ``server`` over the floor timed just before it."""
    runs = results.latency[(probe.name, server)]
    floors = probe_floors(results, probe)
    return [run.wrk.p50_ms / 1000 / floor.full_s for run, floor in zip(runs, floors, strict=True)]


def target_floor_ratios(results: Results, probe: Scenario) -> list[float]:
    """The ratios the probe's target reads: our latency over the floor per block of the two
    alternated in bursts, or (without that measurement) per repetition of the wrk runs."""
    alternated = results.probe_alternated.get(probe.name)
    if alternated is not None:
        return alternated.ratios(OURS, FLOOR)
    return floor_ratios(results, probe)


def floor_section(results: Results) -> list[str]:
    """In-process floors per scenario, and the probe's end-to-end latency against its floor."""
    probes = results.probes()
    rows = []
    for scenario in results.scenarios:
        floor = results.floors[scenario.name]
        full_s, predict_s = floor.full_s, floor.predict_s
        e2e = ratio = canned = DASH
        if scenario in probes:
            predict_s = statistics.median(f.predict_s for f in probe_floors(results, scenario))
            ratio = ratio_text(target_floor_ratios(results, scenario))
            alternated = results.probe_alternated.get(scenario.name)
            if alternated is not None:
                full_s = statistics.median(alternated.medians(FLOOR))
                e2e = number(1000 * statistics.median(alternated.medians(OURS)))
                if CANNED in alternated.names:
                    canned = number(1000 * statistics.median(alternated.medians(CANNED)))
            else:
                full_s = statistics.median(f.full_s for f in probe_floors(results, scenario))
                e2e = number(1000 * end_to_end_s(results, scenario))
                if (scenario.name, CANNED) in results.latency:
                    canned = number(1000 * end_to_end_s(results, scenario, CANNED))
        rows.append([scenario.title, number(1000 * full_s), number(1000 * predict_s), e2e, ratio, canned])
    header = [
        "scenario",
        "parse + validate + DataFrame + predict, ms",
        "predict_proba alone, ms",
        "ours end-to-end at 1 connection, ms",
        "end-to-end ÷ floor, median (min–max)",
        "canned answer at 1 connection, ms",
    ]
    lines = ["## In-process floor (no HTTP; median per call)", "", *table(header, rows)]
    if any(probe.name in results.probe_alternated for probe in probes):
        lines += [
            "",
            "For a latency probe, the floor, ours and the canned answer were alternated in bursts of "
            "ten timed calls, each after two untimed ones (one request at a time on one kept-alive "
            "connection each; bench/load/latency.py): each figure is the median over blocks of rounds, and "
            "the ratio is ours ÷ the floor per block.",
        ]
    for probe in probes:
        lines += ["", wrk_sentence(results, probe)]
        if (probe.name, CANNED) in results.latency:
            lines += ["", transport_sentence(results, probe)]
    return lines


def wrk_sentence(results: Results, probe: Scenario) -> str:
    """The probe's wrk runs at one connection: each server's p50, and ours over the floor timed
    just before each repetition."""
    floors = probe_floors(results, probe)
    servers = [server for server in (OURS, BASELINE, CANNED) if (probe.name, server) in results.latency]
    p50s = ", ".join(f"{name} {number(1000 * end_to_end_s(results, probe, name))} ms" for name in servers)
    sent = " (the baseline is sent the same rows as inputs columns)" if probe.shape == "v2" else ""
    return (
        f"wrk at 1 connection on '{probe.title}'{sent}, p50: {p50s}. Set against the floor timed just "
        f"before each repetition ({', '.join(number(1000 * f.full_s) for f in floors)} ms), ours read "
        f"{ratio_text(floor_ratios(results, probe))}."
    )


def transport_sentence(results: Results, probe: Scenario) -> str:
    """What the canned answer shows: the share of the probe's latency that is moving its bytes."""
    alternated = results.probe_alternated.get(probe.name)
    if alternated is not None and CANNED in alternated.names:
        canned_ms = number(1000 * statistics.median(alternated.medians(CANNED)))
        floor_s, canned_s = alternated.medians(FLOOR), alternated.medians(CANNED)
        bound = [(f + c) / f for f, c in zip(floor_s, canned_s, strict=True)]
        how = "in bursts alternated with the floor's"
    else:
        floors = probe_floors(results, probe)
        canned = results.latency[(probe.name, CANNED)]
        canned_ms = number(1000 * end_to_end_s(results, probe, CANNED))
        bound = [(f.full_s + run.wrk.p50_ms / 1000) / f.full_s for run, f in zip(canned, floors, strict=True)]
        how = "p50 at 1 connection"
    return (
        f"Transport alone on '{probe.title}': a server that computes nothing and sends our own answer "
        f"to the same body (bench/load/canned.py) took {canned_ms} ms ({how}). A server that computes its "
        "answer and then sends it cannot measure much below (floor + that) ÷ floor here: "
        f"{ratio_text(bound)}."
    )

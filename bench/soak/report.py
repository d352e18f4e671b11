"""The soak's markdown report and its pass/fail verdicts."""

from __future__ import annotations

import os
from collections.abc import Sequence

from bench.machine import BUSY_MACHINE_PERCENT
from bench.report_text import number, table
from bench.soak.cases import NEW_VERSION, RELOADED_MODEL, SOURCE_VERSION
from bench.soak.client import Tally
from bench.soak.memory import Footprint
from bench.soak.run import Soak
from bench.soak.server import (
    CHECKS_IN_A_ROW,
    RELOAD_MARGIN_S,
    RELOAD_TIMEOUT_S,
    WORKERS,
    reload_outcome,
)

MAX_GROWTH_PERCENT = 5.0


def growth(start: float | None, end: float | None) -> float | None:
    """The change from ``start`` to ``end`` in percent of ``start``."""
    if start is None or end is None or start <= 0:
        return None
    return 100 * (end - start) / start


def verdicts(soak: Soak, counts: Tally) -> list[tuple[str, str, bool]]:
    """(criterion, measured, passed) for each pass/fail criterion."""
    everything = counts.of()
    other_4xx = everything.not_ok - everything.failures
    rss, anon = (memory_growth(soak, figure) for figure in ("rss", "pss_anon"))
    reload_text, settled = reload_outcome(soak.reload)
    limit = f"< {MAX_GROWTH_PERCENT:.0f} %"
    return [
        (
            "0 failures (good: non-200 or wrong predictions; bad: non-4xx; either: no answer)",
            f"{everything.failures:,} of {everything.sent:,}",
            everything.failures == 0,
        ),
        (
            "every bad request got its own expected 4xx and JSON error",
            f"{other_4xx:,} others",
            other_4xx == 0,
        ),
        (f"the reload reached every worker within {RELOAD_TIMEOUT_S:.0f} s", reload_text, settled),
        (f"total RSS growth {limit}", percent_text(rss), rss is not None and rss < MAX_GROWTH_PERCENT),
        (
            f"total anonymous PSS growth {limit}",
            percent_text(anon),
            anon is not None and anon < MAX_GROWTH_PERCENT,
        ),
    ]


def memory_growth(soak: Soak, figure: str) -> float | None:
    """Growth of the server's total ``figure`` (``rss``, ``pss``, ``pss_anon``) from start to end, %."""
    if not soak.samples or soak.end is None:
        return None
    return growth(soak.samples[0].total(figure), soak.end.total(figure))


def percent_text(value: float | None) -> str:
    """``+1.23 %``, or a dash when unknown."""
    return "—" if value is None else f"{value:+.2f} %"


def verdict_section(soak: Soak, counts: Tally) -> list[str]:
    """The PASS/FAIL lines."""
    found = verdicts(soak, counts)
    lines = ["## Verdict", ""] + [
        f"- **{'PASS' if ok else 'FAIL'}** {name}: {got}" for name, got, ok in found
    ]
    pss = percent_text(memory_growth(soak, "pss"))
    return [
        *lines,
        f"- (not judged) total PSS growth: {pss}; it includes library pages shared with other processes on "
        "the machine, so it moves when they start or stop (see Memory).",
    ]


def requests_section(soak: Soak, counts: Tally) -> list[str]:
    """Totals per kind and status with latencies, the throughput, and the no-answer errors."""
    rows = []
    for kind in ("good", "bad", None):
        totals = counts.of(kind)
        figures = [totals.sent, totals.failures, totals.not_ok]
        latencies = [number(totals.percentile(50)), number(totals.percentile(99))]
        rows.append([kind or "all", totals.statuses_text(), *(f"{n:,}" for n in figures), *latencies])
    header = ["kind", "per status", "requests", "failures", "not as expected", "p50 ms", "p99 ms"]
    sent = counts.of().sent
    errors = ", ".join(f"{name} × {n}" for name, n in counts.errors.most_common()) or "none"
    return [
        "## Requests",
        "",
        *table(header, rows),
        "",
        f"{sent:,} requests in {soak.load_s:.1f} s: {sent / max(soak.load_s, 1e-9):,.1f} req/s over "
        f"{soak.connections} connections. A good request expects 200 with as many predictions as rows, "
        "from the right version; a bad one its own 4xx with a JSON error. 'Failures' are the issue's "
        "(good: anything else; bad: not 4xx; either: no answer); 'not as expected' adds bad requests "
        "answered with another 4xx.",
        "",
        f"Requests with no answer (connection errors, timeouts), counted as failures: {errors}.",
    ]


def cases_section(counts: Tally) -> list[str]:
    """Per case: the request, what it expects, the statuses it got, its median latency."""
    rows = [
        [
            case.kind,
            case.name,
            f"`{case.method} {case.path}`",
            str(case.status),
            totals.statuses_text(),
            f"{totals.not_ok:,}",
            number(totals.percentile(50)),
        ]
        for case, totals in zip(counts.cases, counts.per_case, strict=True)
    ]
    header = ["kind", "case", "request", "expects", "got", "not as expected", "p50 ms"]
    note = (
        "Cases marked before/after the reload are sent only until/from the moment it settled; the "
        "oversize body is sent by whichever client is next once it is due."
    )
    return ["## Requests per case", "", *table(header, rows), "", note]


def reload_section(soak: Soak, counts: Tally) -> list[str]:
    """When the reload happened, how long it took to reach every worker, and the requests around it."""
    reload = soak.reload
    if reload is None:
        return ["## Reload", "", "No reload happened (the run ended first)."]
    start, end = reload.window
    settled = "never (within the timeout)" if reload.settled_s is None else f"at {reload.settled_s:.1f} s"
    window = counts.window
    return [
        "## Reload",
        "",
        f"- penguins/{NEW_VERSION} (version {SOURCE_VERSION}'s artifact and sha256) added to the copied "
        f"config, SIGHUP to the master at {reload.sent_s:.1f} s.",
        f"- every worker on the new set {settled}: workers {reload.old_workers} replaced by "
        f"{reload.new_workers}, and {CHECKS_IN_A_ROW} answers in a row of `GET /models/{RELOADED_MODEL}` "
        f"listing version {NEW_VERSION} ({reload.checks} checks in all, not counted as load).",
        f"- requests started from {start:.1f} s to {end:.1f} s ({RELOAD_MARGIN_S:.0f} s before SIGHUP to "
        f"{RELOAD_MARGIN_S:.0f} s after it settled): {window.sent:,} ({window.statuses_text()}), failed "
        f"{window.failures}, not as expected {window.not_ok}; p50 {number(window.percentile(50))} ms, "
        f"p99 {number(window.percentile(99))} ms.",
    ]


def memory_section(soak: Soak) -> list[str]:
    """Memory at start and end with growth, and the samples every ``--sample-every`` s."""
    if not soak.samples or soak.end is None:
        return ["## Memory", "", "No memory readings (the run ended before the warm-up did)."]
    start, end = soak.samples[0], soak.end
    rows = []
    for figure, title in (("rss", "RSS"), ("pss", "PSS"), ("pss_anon", "anonymous PSS")):
        figures = [
            (f"master {title}", getattr(start.master, figure), getattr(end.master, figure)),
            (f"workers {title}", start.workers_total(figure), end.workers_total(figure)),
            (f"**total {title}**", start.total(figure), end.total(figure)),
        ]
        rows += [[name, number(a), number(b), percent_text(growth(a, b))] for name, a, b in figures]
    header = ["MB", f"start ({start.at_s:.0f} s)", f"end ({end.at_s:.0f} s)", "growth"]
    return [
        "## Memory (the master and its current workers, from /proc)",
        "",
        *table(header, rows),
        "",
        "RSS counts a page shared by the master and the workers once in each. PSS splits every shared "
        "page between all the processes mapping it, on the whole machine: the library files the server "
        "maps are also mapped by any other Python process using this .venv (tests, other servers), so "
        "total PSS falls when such processes start and rises when they stop. Anonymous PSS (heap, and "
        "the pages the workers share copy-on-write with the master) is shared only within the server: "
        "that is where a leak shows, and what the verdict judges with RSS.",
        "",
        "Samples (the first is the start; req/s and others' CPU are since the previous sample):",
        "",
        *samples_table([*soak.samples, end]),
    ]


def samples_table(samples: Sequence[Footprint]) -> list[str]:
    """One row per memory sample."""
    rows = []
    for previous, footprint in zip([None, *samples], samples, strict=False):
        rate = None
        if previous is not None:
            rate = (footprint.requests - previous.requests) / max(footprint.at_s - previous.at_s, 1e-9)
        figures = [
            footprint.master.rss,
            footprint.total("rss"),
            footprint.master.pss,
            footprint.total("pss"),
            footprint.master.pss_anon,
            footprint.total("pss_anon"),
        ]
        rows.append(
            [
                f"{footprint.at_s:.0f}",
                f"{footprint.requests:,}",
                number(rate),
                str(len(footprint.workers)),
                *map(number, figures),
                number(footprint.other_cpu_percent),
            ]
        )
    header = ["s", "requests", "req/s", "workers", "master RSS", "total RSS", "master PSS", "total PSS"]
    return table([*header, "master anon PSS", "total anon PSS", "others' CPU %"], rows)


def machine_section(soak: Soak) -> list[str]:
    """How busy the machine was, and what the server's log says."""
    clients, server, other = soak.cpu
    busiest = max((s.other_cpu_percent or 0.0 for s in soak.samples), default=0.0)
    lines = [
        "## Machine and server log",
        "",
        f"- before the start: {soak.busy_before_percent:.0f}% of a core busy (over 1 s).",
        f"- during the load, % of one core ({os.cpu_count()} cores): server {server:.0f}, clients (this "
        f"process) {clients:.0f}, everything else {other:.0f} (at most {busiest:.0f} between two samples).",
    ]
    if max(other, soak.busy_before_percent, busiest) > BUSY_MACHINE_PERCENT:
        lines.append(
            f"- **The machine was busy:** other work used over {BUSY_MACHINE_PERCENT}% of a core, so "
            "throughput and latency are lower and noisier than on a quiet machine; that excuses neither "
            "failures nor memory growth."
        )
    else:
        lines.append(f"- the machine was quiet: other work stayed under {BUSY_MACHINE_PERCENT}% of a core.")
    found = ", ".join(f"{name} {count}" for name, count in soak.server_log.items())
    lines.append(
        f"- server log: {found} (expected {2 * WORKERS} boots: {WORKERS} at start, {WORKERS} on reload)."
    )
    return lines


def render(soak: Soak, counts: Tally) -> str:
    """The whole report as markdown."""
    head = [
        "# Soak: mixed good and bad requests, one reload, memory over time",
        "",
        f"Command: `{soak.command}`",
        "",
        *(f"- {name}: {value}" for name, value in soak.facts),
    ]
    sections = [
        head,
        verdict_section(soak, counts),
        requests_section(soak, counts),
        reload_section(soak, counts),
        memory_section(soak),
        machine_section(soak),
        cases_section(counts),
    ]
    return "\n\n".join("\n".join(section) for section in sections) + "\n"

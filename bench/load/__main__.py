"""``make bench``: our server against the naive Flask baseline, interleaved, measured with wrk.

Run from the repository root as ``.venv/bin/python -m bench.load [options]`` (``--help`` lists them).
Writes the markdown report to bench/results/bench.md (or ``--output``) and prints it.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

from bench.harness import (
    Server,
    ServerError,
    free_port,
    memory_mb,
    post_bytes,
    serve_command,
    start_server,
    stop_server,
)
from bench.load.agree import LabelMismatch, check_labels
from bench.load.alternate import Alternated, alternate, post_request
from bench.load.floor import Floor, FloorUnavailable, LoadedVersion, load_version, measure_floor
from bench.load.latency import alternate_with_floor, measure_latency
from bench.load.loadgen import WrkMissing, find_wrk, wrk_version
from bench.load.measure import Settings
from bench.load.plan import Plan, log, write_bodies
from bench.load.report import paired_scenarios, render
from bench.load.results import BASELINE, CANNED, OURS, Memory, Results
from bench.machine import BUSY_MACHINE_PERCENT, ROOT, busy_percent, machine_facts
from bench.report_file import report_path, write_report
from bench.scenarios import SCALING_SCENARIO, SPECS, Scenario, build_scenarios

BIN = Path(sys.executable).parent
OURS_TWO = "ours --workers 2"


# The two longest help texts, each kept on its option's line
ROUNDS_HELP = "rounds of one-row V2 and /models requests alternated one by one (0: wrk runs instead)"
PROBE_HELP = "seconds of a latency probe's floor and single requests alternated in bursts"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line; defaults make a full run take about five minutes on two cores."""
    parser = argparse.ArgumentParser(prog="bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--duration", type=int, default=5, help="seconds per measured wrk run (whole seconds)"
    )
    parser.add_argument("--warmup", type=int, default=1, help="seconds of the discarded warm-up run")
    parser.add_argument("--reps", type=int, default=3, help="repetitions of each baseline/ours pair")
    parser.add_argument("--alternate-rounds", type=int, default=10_000, help=ROUNDS_HELP)
    parser.add_argument(
        "--connections", type=int, default=2, help="wrk connections per server worker (closed loop)"
    )
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument(
        "--scenarios", default=",".join(SPECS), help=f"comma-separated subset of: {', '.join(SPECS)}"
    )
    parser.add_argument("--no-scaling", action="store_true", help="skip the --workers 2 vs 1 measurement")
    parser.add_argument("--startup-reps", type=int, default=3, help="starts of our server to time")
    parser.add_argument("--floor-seconds", type=float, default=1.0, help="time budget per in-process floor")
    parser.add_argument("--probe-seconds", type=float, default=10.0, help=PROBE_HELP)
    parser.add_argument("--config", type=Path, default=ROOT / "config.yaml", help="our server's config")
    parser.add_argument("--output", type=Path, help="report path (default: bench/results/bench.md)")
    args = parser.parse_args(argv)
    args.scenarios = [name.strip() for name in args.scenarios.split(",") if name.strip()]
    for name in ("duration", "warmup", "reps", "connections", "threads", "startup_reps"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    return args


def command_line(argv: Sequence[str]) -> str:
    """How this run was started: ``make bench ...`` when make ran it, else the Python command."""
    arguments = shlex.join(argv)
    if os.environ.get("MAKELEVEL"):
        return "make bench" + (f" BENCH_ARGS={shlex.quote(arguments)}" if arguments else "")
    return shlex.join([sys.executable, "-m", "bench.load", *argv])


def facts(args: argparse.Namespace, wrk: str) -> list[tuple[str, str]]:
    """The machine facts, with how wrk was driven and how long each run lasted."""
    load_generator = (
        f"{wrk_version(wrk)}, -t{args.threads}, {args.connections} connections per server worker "
        f"(-c{args.connections} against one worker, -c{2 * args.connections} against two), closed loop"
    )
    runs = (
        f"{args.duration} s each, {args.reps} repetitions (baseline then ours per scenario), a "
        f"{args.warmup} s warm-up run of each discarded; both servers gunicorn with 1 worker "
        "(the baseline's sync, ours gevent)"
    )
    return machine_facts(load_generator, runs, with_ceiling=not args.no_scaling)


def baseline_command(port: int) -> list[str]:
    """gunicorn with one sync worker on the naive app (run from the repository root)."""
    gunicorn = str(BIN / "gunicorn")
    help_text = subprocess.run([gunicorn, "--help"], capture_output=True, text=True, timeout=30).stdout
    # gunicorn 25.1+ opens a control socket at one fixed path per user; a second server would fight over it.
    no_control = ["--no-control-socket"] if "--no-control-socket" in help_text else []
    return [
        gunicorn,
        "-w",
        "1",
        "-k",
        "sync",
        "-b",
        f"127.0.0.1:{port}",
        *no_control,
        "bench.load.baseline_app:app",
    ]


def launch(
    stack: ExitStack, name: str, command: Sequence[str], port: int, workers: int, logs: Path
) -> Server:
    """Start a server that ``stack`` stops (by PID) on the way out."""
    log("starting " + name)
    server = start_server(name, command, port, logs / f"{name.replace(' ', '_')}.log", workers, ROOT)
    stack.callback(stop_server, server)
    return server


def start_ours(stack: ExitStack, args: argparse.Namespace, workers: int, name: str, logs: Path) -> Server:
    """Our server with ``workers`` workers on a free port."""
    port = free_port()
    return launch(stack, name, serve_command(args.config, port, workers), port, workers, logs)


def time_extra_startups(args: argparse.Namespace, logs: Path) -> list[float]:
    """Seconds to ready of ``--startup-reps`` - 1 extra starts of our server (each stopped at once)."""
    times = []
    for _ in range(args.startup_reps - 1):
        with ExitStack() as stack:
            times.append(start_ours(stack, args, 1, "ours (start-up timing)", logs).startup_s)
    return times


def load_versions(
    args: argparse.Namespace, scenarios: Sequence[Scenario]
) -> dict[tuple[str, str], LoadedVersion]:
    """Each (model, version) the scenarios ask for, loaded once, as the server holds it."""
    return {(s.model, s.version): load_version(args.config, s.model, s.version) for s in scenarios}


def measure_floors(
    args: argparse.Namespace, scenarios: Sequence[Scenario], versions: dict[tuple[str, str], LoadedVersion]
) -> dict[str, Floor]:
    """The in-process floors of every scenario, first, so that a broken import fails fast."""
    log("timing the in-process floor")
    return {s.name: measure_floor(versions[(s.model, s.version)], s, args.floor_seconds) for s in scenarios}


def start_canned(stack: ExitStack, ours: Server, probe: Scenario, logs: Path) -> Server:
    """A server that sends our own answer to the probe's body and computes nothing (bench/load/canned.py)."""
    answer = logs / f"{probe.name}-answer.json"
    answer.write_bytes(post_bytes(ours.url + probe.path, probe.body()))
    port = free_port()
    command = [sys.executable, "-m", "bench.load.canned", str(port), str(answer)]
    server = launch(stack, CANNED, command, port, 0, logs)
    server.worker_pids = [server.pid]  # it answers in its own process
    return server


def memory_of(server: Server) -> Memory:
    """RSS of the master and its (single) worker, and their PSS together."""
    master_rss, master_pss = memory_mb(server.pid)
    worker_rss, worker_pss = memory_mb(server.worker_pids[0])
    total_pss = None if master_pss is None or worker_pss is None else master_pss + worker_pss
    return Memory(master_rss, worker_rss, total_pss)


def start_all(
    args: argparse.Namespace, stack: ExitStack, folder: Path, results: Results
) -> tuple[Server, Server, Server | None]:
    """The baseline, our server with one worker and (unless --no-scaling) with two; start-ups recorded."""
    extra_startups = time_extra_startups(args, folder)
    port = free_port()
    baseline = launch(stack, BASELINE, baseline_command(port), port, 1, folder)
    ours = start_ours(stack, args, 1, OURS, folder)
    results.startups = {OURS: [*extra_startups, ours.startup_s], BASELINE: [baseline.startup_s]}
    two = None if args.no_scaling else start_ours(stack, args, 2, OURS_TWO, folder)
    return baseline, ours, two


def run_bench(args: argparse.Namespace, wrk: str, results: Results) -> None:
    """Start the servers, check they agree, measure everything into ``results``; stop the servers."""
    scenarios = results.scenarios
    versions = load_versions(args, scenarios)
    results.floors = measure_floors(args, scenarios, versions)
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp, ExitStack() as stack:
        folder = Path(tmp)
        baseline, ours, two = start_all(args, stack, folder, results)
        scaling = build_scenarios([SCALING_SCENARIO]) if two is not None else []
        bodies = write_bodies([*scenarios, *scaling], folder)
        for scenario in scenarios:
            check_labels(scenario, baseline, [ours])
        for scenario in scaling:
            check_labels(scenario, baseline, [two])
        log("the servers predict the same labels")
        settings = Settings(wrk, args.duration, args.connections, args.threads)
        plan = Plan(bodies, settings, args.reps, args.warmup)
        results.runs = plan.measure([baseline, ours], scenarios)
        # Compared with each other, so measured request by request (or, with --alternate-rounds 0,
        # in wrk runs back to back): this machine's speed drifts by more than the difference within
        # the minute that separates them in the runs above.
        pairs = paired_scenarios(scenarios)
        if args.alternate_rounds > 0:
            results.alternated = alternate_pairs(ours, pairs, args.alternate_rounds)
        else:
            results.paired = plan.measure([ours], pairs)
        for probe in [s for s in scenarios if s.latency_probe]:
            canned = start_canned(stack, ours, probe, folder)
            version = versions[(probe.model, probe.version)]
            servers = [baseline, ours, canned]
            floors, runs = measure_latency(plan, servers, probe, version, args.floor_seconds)
            results.latency_floors[probe.name] = floors
            results.latency.update(runs)
            ports = {server.name: server.port for server in (ours, canned)}
            alternated = alternate_with_floor(ports, probe, version, args.probe_seconds)
            results.probe_alternated[probe.name] = alternated
            stop_server(canned)
        for scenario in scaling:
            runs = plan.measure([ours, two], [scenario])
            results.scaling = {1: runs[(scenario.name, OURS)], 2: runs[(scenario.name, OURS_TWO)]}
        results.memory = {OURS: memory_of(ours), BASELINE: memory_of(baseline)}


def alternate_pairs(ours: Server, scenarios: Sequence[Scenario], rounds: int) -> Alternated | None:
    """The paired scenarios' requests alternated one by one on our server (bench.load.alternate)."""
    if not scenarios:
        return None
    requests = {s.name: post_request(s.path, s.body()) for s in scenarios}
    log(f"alternating {', '.join(requests)} request by request on ours, {rounds} rounds")
    return alternate(ours.port, requests, rounds)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; 0 on success, 1 if a server or the floor failed, 2 if wrk is missing."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    try:
        wrk = find_wrk()
    except WrkMissing as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    busy = busy_percent()
    if busy > BUSY_MACHINE_PERCENT:
        log(f"warning: the machine is busy before we start ({busy:.0f}% of a core); figures will be noisy")
    try:
        results = Results(command_line(argv), facts(args, wrk), build_scenarios(args.scenarios))
        run_bench(args, wrk, results)
    except (ServerError, FloorUnavailable, LabelMismatch, ValueError, RuntimeError) as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        return 1
    report = render(results)
    output = args.output or report_path("bench")
    write_report(output, report)
    print(report)
    log(f"report written to {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

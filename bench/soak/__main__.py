"""``make soak``: mixed good and bad requests against ``--workers 2`` for ten minutes, one reload midway.

Run from the repository root as ``.venv/bin/python -m bench.soak [options]`` (``--help`` lists them).
The example store is copied to a temporary folder and served from there on 127.0.0.1, so that the
reload (a version added to the copied config, then SIGHUP to the master) never touches the repository.
Client threads send a fixed mix of requests, each with the answer it must get; the server's RSS and
PSS are read from /proc. The markdown report goes to bench/results/soak.md (or ``--output``)
and to stdout; the exit status is 1 if a request failed, the reload did not reach every worker or
the server's total RSS or anonymous PSS grew by 5 % or more.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.harness import ServerError
from bench.machine import BUSY_MACHINE_PERCENT, ROOT, busy_percent, machine_facts
from bench.report_file import report_path, write_report
from bench.soak.cases import build_cases
from bench.soak.client import tally
from bench.soak.report import render, verdicts
from bench.soak.run import Soak, log, run_soak
from bench.soak.server import WORKERS

# flag, type, default, help
OPTIONS: list[tuple[str, type, Any, str]] = [
    ("--duration", float, 600, "seconds of load (the reload is at half time)"),
    ("--connections", int, 4, "client threads, one connection each"),
    ("--warmup", float, 10, "seconds of load before the start memory reading"),
    ("--sample-every", float, 30, "seconds between memory samples"),
    ("--oversize-every", float, 30, "seconds between 9 MB bodies (0: none)"),
    ("--config", Path, ROOT / "config.yaml", "the store to copy and serve"),
    ("--output", Path, None, "report path (default: bench/results/soak.md)"),
]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line; the defaults are the issue's soak (ten minutes, 4 connections)."""
    parser = argparse.ArgumentParser(prog="soak", description=__doc__.splitlines()[0])
    for flag, kind, default, text in OPTIONS:
        parser.add_argument(flag, type=kind, default=default, help=text)
    args = parser.parse_args(argv)
    if args.connections < 1 or args.sample_every <= 0:
        parser.error("--connections must be at least 1 and --sample-every positive")
    if not 0 < args.warmup < args.duration / 2:
        parser.error("--warmup must be positive and shorter than half of --duration (the reload)")
    return args


def command_line(argv: Sequence[str]) -> str:
    """The command that ran this soak (``make soak`` runs ``python -m bench.soak $(SOAK_ARGS)``)."""
    via_make = " (run by make soak)" if os.environ.get("MAKELEVEL") else ""
    return shlex.join([os.path.relpath(sys.executable, ROOT), "-m", "bench.soak", *argv]) + via_make


def facts(args: argparse.Namespace) -> list[tuple[str, str]]:
    """The machine facts, with how the load was driven and the run's timeline."""
    load_generator = (
        f"{args.connections} Python threads, http.client, one connection each, closed loop "
        "(kept alive, reopened whenever the server closes it)"
    )
    oversize = (
        f"a 9 MB body every {args.oversize_every:g} s" if args.oversize_every > 0 else "no oversize body"
    )
    runs = (
        f"{args.duration:g} s of load on model-registry serve --workers {WORKERS}; memory at "
        f"{args.warmup:g} s (start) and at the end, sampled every {args.sample_every:g} s; reload at "
        f"{args.duration / 2:g} s; {oversize}"
    )
    return machine_facts(load_generator, runs, with_ceiling=False)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the soak; 0 if every criterion passed, 1 if one failed or the server broke, 130 if interrupted."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    busy = busy_percent()
    if busy > BUSY_MACHINE_PERCENT:
        log(f"warning: the machine is busy before we start ({busy:.0f}% of a core); the report will say so")
    soak = Soak(
        command_line(argv),
        facts(args),
        build_cases(args.oversize_every > 0),
        args.duration,
        args.connections,
        busy,
    )
    try:
        run_soak(args, soak)
    except KeyboardInterrupt:
        log("interrupted; the server and the clients were stopped")
        return 130
    except (ServerError, RuntimeError, OSError, ValueError) as exc:
        print(f"soak failed: {exc}", file=sys.stderr)
        return 1
    counts = tally(soak.cases, soak.logs, soak.reload)
    report = render(soak, counts)
    output = args.output or report_path("soak")
    write_report(output, report)
    print(report)
    log(f"report written to {output}")
    return 0 if all(ok for _, _, ok in verdicts(soak, counts)) else 1


if __name__ == "__main__":
    sys.exit(main())

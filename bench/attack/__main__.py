"""make attack: hold a server's connections the way slow or hostile clients do, and measure whether a
well-behaved client still gets answers.

Against one running server (started here, or ``--url`` of one already up) it opens, for ``--hold``
seconds: idle sockets that send nothing, clients that send their headers or their body one byte at a
time, clients that ask for a large answer and never read it, and clients that send most of an 8 MB
body and stall. Meanwhile a probe sends a one-row predict every 0.2 s with a 1 s timeout, and the
workers' resident memory is watched. Success: at least 98 % of the probes answered 200 within 1 s,
and no worker grew by more than ``--max-growth-mb``. ``--scenario`` picks the mix: the default
(``mixed``), ``idle-flood`` (1,100 idle sockets re-opened as they are closed, more than a worker's
1,000 connections), ``never-read`` (150 clients asking for 9 MB answers) or ``stalled-body`` (100).
Every loop here is bounded in count and time, and traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from bench.attack.run import REQUIRED_SHARE, SCENARIOS, Attack, ProbeResult, describe, run_attack
from bench.harness import free_port, serve_command, start_server, stop_server
from bench.machine import ROOT


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.attack", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="attack a server already running here (http://127.0.0.1:PORT)")
    parser.add_argument("--config", default=str(ROOT / "config.yaml"))
    parser.add_argument(
        "--workers", type=int, action="append", help="worker counts to try (default: the default, and 2)"
    )
    parser.add_argument("--hold", type=float, default=20.0, help="seconds to hold the attack (default 20)")
    parser.add_argument("--serve-arg", action="append", default=[], help="extra argument for serve")
    parser.add_argument(
        "--scenario", choices=list(SCENARIOS), default="mixed", help="the hostile mix (default mixed)"
    )
    parser.add_argument(
        "--max-growth-mb",
        type=float,
        default=400.0,
        help="fail when a worker's RSS grows more than this (default 400; servers started here only)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the attack against each server setup; exit 1 if any probe share is under 98 % or a
    worker grew more than allowed."""
    args = _parser().parse_args(argv)
    attack = replace(SCENARIOS[args.scenario], hold_s=args.hold)
    results = []
    if args.url:
        host_port = args.url.split("//", 1)[-1].rstrip("/")
        host, port = host_port.rsplit(":", 1)
        results.append(("given server", run_attack(host, int(port), attack)))
    else:
        for workers in args.workers or [None, 2]:
            results.append(_against_new_server(args, workers, attack))
    ok = True
    for label, result in results:
        print(describe(result, attack, label), flush=True)
        ok &= result.share >= REQUIRED_SHARE
        ok &= result.growth_mb is None or result.growth_mb <= args.max_growth_mb
    return 0 if ok else 1


def _against_new_server(
    args: argparse.Namespace, workers: int | None, attack: Attack
) -> tuple[str, ProbeResult]:
    port = free_port()
    command = serve_command(Path(args.config), port, workers, args.serve_arg)
    log = Path(f"/tmp/attack-server-{port}.log")
    server = start_server("ours", command, port, log, workers or os.cpu_count() or 1, ROOT)
    try:
        label = f"--workers {workers}" if workers else "default workers"
        return label, run_attack("127.0.0.1", port, attack, master=server.pid)
    finally:
        stop_server(server)


if __name__ == "__main__":
    sys.exit(main())

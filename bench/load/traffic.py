"""The traffic bench: what a split and a shadow cost, as ratios within one run.

Run from the repository root as ``.venv/bin/python -m bench.load.traffic`` (``make bench-traffic``).
Writes bench/results/traffic.md (or ``--output``) and prints it. Four measurements:

* routing: one-row iris requests naming their version, drawn by weight, and routed by
  ``X-Routing-Key``, alternated one by one (bench.load.alternate); version "2" is a copy of "1";
* the split: 10,000 requests drawn 90/10, and the share each version served (X-Model-Version);
* a shadow as costly as the primary (penguins "2", a forest, shadowed by a copy of itself) against
  no shadow, one worker each: at saturation (closed loops), the primary's throughput; at half the
  no-shadow saturation rate (paced), its p50 and p99; and the shadow rows run and dropped.
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import yaml

from bench.harness import Server, free_port, serve_command, start_server, stop_server
from bench.load.alternate import alternate, post_request
from bench.load.paced import LoadResult, run
from bench.load.plan import log
from bench.machine import ROOT
from bench.report_file import report_path, write_report
from bench.scenarios import build_scenarios

SPLIT = {"1": 90, "2": 10}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench.load.traffic", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6000, help="rounds of the routing alternation")
    parser.add_argument("--split-requests", type=int, default=10_000, help="requests counted for the split")
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds per saturation or paced run")
    parser.add_argument("--reps", type=int, default=3, help="repetitions of each shadow/no-shadow pair")
    parser.add_argument("--connections", type=int, default=4, help="connections of each load run")
    parser.add_argument("--config", type=Path, default=ROOT / "config.yaml", help="the example config")
    parser.add_argument("--output", type=Path, help="report path (default: bench/results/traffic.md)")
    return parser.parse_args(argv)


def write_config(source: Path, folder: Path, name: str, model: str, copy_of: str, **traffic: Any) -> Path:
    """``source`` with version "``copy_of``+1" of ``model`` added as a copy of ``copy_of`` and the
    model's ``traffic`` keys set; written into ``folder`` with the store's absolute path."""
    data = yaml.safe_load(source.read_text())
    data["store"] = str((source.parent / data.get("store", "model_store")).resolve())
    entry = data["models"][model]
    entry["versions"][str(int(copy_of) + 1)] = dict(entry["versions"][copy_of])
    entry.update(traffic)
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def start(stack: ExitStack, config: Path, folder: Path, name: str) -> Server:
    port = free_port()
    command = serve_command(config, port, 1, ["--no-access-log"])
    server = start_server(name, command, port, folder / f"{name}.log", 1, ROOT)
    stack.callback(stop_server, server)
    return server


def routing(server: Server, rounds: int) -> dict[str, float]:
    """Median per-block ratios of drawn and keyed one-row requests to named ones."""
    iris = build_scenarios(["iris-1"])[0]
    body = iris.body()
    requests = {
        "named": post_request("/models/iris/1/predict", body),
        "drawn": post_request("/models/iris/predict", body),
        "keyed": post_request("/models/iris/predict", body, {"X-Routing-Key": "customer-4711"}),
    }
    log(f"alternating named, drawn and keyed requests, {rounds} rounds")
    result = alternate(server.port, requests, rounds)
    medians = {name: statistics.median(result.medians(name)) for name in requests}
    return {
        "named_us": medians["named"] * 1e6,
        "drawn_ratio": statistics.median(result.ratios("drawn", "named")),
        "keyed_ratio": statistics.median(result.ratios("keyed", "named")),
    }


def split(server: Server, count: int) -> Counter:
    """Which version served each of ``count`` requests that name none."""
    body = build_scenarios(["iris-1"])[0].body()
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    served: Counter = Counter()
    for _ in range(count):
        connection.request("POST", "/models/iris/predict", body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
        served[response.getheader("X-Model-Version")] += 1
    connection.close()
    return served


def shadow_rows(server: Server) -> dict[str, int]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    connection.request("GET", "/models/penguins")
    rows = yaml.safe_load(connection.getresponse().read())["traffic"]["shadow_rows"]
    connection.close()
    return rows


def shadow_runs(plain: Server, shadowed: Server, args: argparse.Namespace) -> dict[str, list[LoadResult]]:
    """Saturation, then half of the plain server's saturation rate, each pair alternated ``reps`` times."""
    request = post_request("/models/penguins/predict", build_scenarios(["penguins-1"])[0].body())
    runs: dict[str, list[LoadResult]] = {
        "plain-sat": [],
        "shadow-sat": [],
        "plain-half": [],
        "shadow-half": [],
    }
    for server in (plain, shadowed):
        run(server.port, request, args.connections, 1.0)  # warm up
    for rep in range(args.reps):
        log(f"saturation, repetition {rep + 1}")
        runs["plain-sat"].append(run(plain.port, request, args.connections, args.seconds))
        runs["shadow-sat"].append(run(shadowed.port, request, args.connections, args.seconds))
    rate = statistics.median(r.throughput for r in runs["plain-sat"]) / 2
    runs["sat-dropped"] = shadow_rows(shadowed)  # type: ignore[assignment]
    for server in (plain, shadowed):  # the shadow ran little at saturation: warm it too
        run(server.port, request, args.connections, 2.0, rate / 2)
    for rep in range(args.reps):
        log(f"half saturation ({rate:.0f} requests/s), repetition {rep + 1}")
        runs["plain-half"].append(run(plain.port, request, args.connections, args.seconds, rate))
        runs["shadow-half"].append(run(shadowed.port, request, args.connections, args.seconds, rate))
    return runs


def render(routed: dict[str, float], served: Counter, runs: dict[str, Any], rows: dict[str, int]) -> str:
    total = sum(served.values())
    share = 100 * served["2"] / total
    sat = [s.throughput / p.throughput for p, s in zip(runs["plain-sat"], runs["shadow-sat"], strict=True)]
    p50 = [
        s.percentile(50) / p.percentile(50)
        for p, s in zip(runs["plain-half"], runs["shadow-half"], strict=True)
    ]
    p99 = [
        s.percentile(99) / p.percentile(99)
        for p, s in zip(runs["plain-half"], runs["shadow-half"], strict=True)
    ]
    plain_half, shadow_half = runs["plain-half"][0], runs["shadow-half"][0]
    at_sat = runs["sat-dropped"]
    lines = [
        "# Traffic bench",
        "",
        "| measure | figure | target |",
        "| --- | --- | --- |",
        f"| one-row request naming its version (iris) | {routed['named_us']:.0f} µs | |",
        f"| drawn by weight ÷ named | {routed['drawn_ratio']:.3f} | ≤ 1.03 |",
        f"| routed by X-Routing-Key ÷ named | {routed['keyed_ratio']:.3f} | ≤ 1.03 |",
        f"| version 2's share of {total:,} requests split 90/10 | {share:.2f} % | 10 ± 2 |",
        f"| shadowed ÷ plain throughput at saturation (per rep) | {_ratios(sat)} | ≥ 0.90 |",
        f"| shadowed ÷ plain p50 at half saturation (per rep) | {_ratios(p50)} | ≤ 1.25 |",
        f"| shadowed ÷ plain p99 at half saturation (per rep) | {_ratios(p99)} | ≤ 2 |",
        f"| plain: saturation, p50 / p99 at half | {runs['plain-sat'][0].throughput:.0f} req/s, "
        f"{plain_half.percentile(50) * 1e3:.2f} / {plain_half.percentile(99) * 1e3:.2f} ms | |",
        f"| shadowed: p50 / p99 at half | {shadow_half.percentile(50) * 1e3:.2f} / "
        f"{shadow_half.percentile(99) * 1e3:.2f} ms | |",
        f"| shadow rows after the saturation runs | {_rows(at_sat)} | drops counted |",
        f"| shadow rows after every run | {_rows(rows)} | |",
    ]
    return "\n".join(lines) + "\n"


def _ratios(ratios: list[float]) -> str:
    return ", ".join(f"{r:.3f}" for r in ratios) + f" (median {statistics.median(ratios):.3f})"


def _rows(rows: dict[str, int]) -> str:
    return ", ".join(f"{count:,} {result}" for result, count in rows.items())


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-traffic-") as tmp, ExitStack() as stack:
        folder = Path(tmp)
        routed_config = write_config(args.config, folder, "routed", "iris", "1", traffic=SPLIT)
        plain_config = write_config(args.config, folder, "plain", "penguins", "2", default_version="2")
        shadow_config = write_config(
            args.config, folder, "shadowed", "penguins", "2", default_version="2", shadow="3"
        )
        routed_server = start(stack, routed_config, folder, "routed")
        routed = routing(routed_server, args.rounds)
        log(f"counting the split of {args.split_requests} requests")
        served = split(routed_server, args.split_requests)
        stop_server(routed_server)
        plain, shadowed = (
            start(stack, plain_config, folder, "plain"),
            start(stack, shadow_config, folder, "shadowed"),
        )
        runs = shadow_runs(plain, shadowed, args)
        report = render(routed, served, runs, shadow_rows(shadowed))
    output = args.output or report_path("traffic")
    write_report(output, report)
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())

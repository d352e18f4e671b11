"""Smoke test of the benchmark harness: `make bench` end to end with tiny durations (not a benchmark)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TINY = "--duration 1 --warmup 1 --reps 1 --startup-reps 1 --floor-seconds 0.1 --scenarios iris-1,penguins-1"
NUMBER = r"[0-9][0-9,]*(?:\.[0-9]+)?"


def require_wrk() -> None:
    """Skip without wrk on a workstation; fail under CI, where .ci/run installs it."""
    if shutil.which("wrk") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("wrk is required under CI (.ci/run installs Debian's wrk)")
        pytest.skip("wrk is not installed (apt-get install wrk); the benchmark harness was not run")


def saved_results() -> dict[str, float]:
    """The reports in bench/results, with their modification times."""
    return {path.name: path.stat().st_mtime for path in (ROOT / "bench" / "results").glob("*.md")}


def make_bench(
    arguments: str, report: Path, timeout_s: float, traffic: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``make bench`` with ``arguments``, its report written to ``report``, and its traffic part run
    with ``traffic`` as TRAFFIC_ARGS (None: skipped); asserts it exited 0."""
    traffic_args = ["TRAFFIC=0"] if traffic is None else [f"TRAFFIC_ARGS={traffic}"]
    result = subprocess.run(
        [
            "make",
            "--no-print-directory",
            "bench",
            f"BENCH_ARGS={arguments} --no-scaling --output {report}",
            *traffic_args,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def test_make_bench_writes_a_report_with_numbers(tmp_path: Path) -> None:
    require_wrk()
    report = tmp_path / "bench.md"
    results_before = saved_results()
    traffic = tmp_path / "traffic.md"
    tiny_traffic = f"--rounds 30 --split-requests 200 --seconds 1 --reps 1 --output {traffic}"
    result = make_bench(TINY, report, timeout_s=180, traffic=tiny_traffic)
    for measure in ("drawn by weight ÷ named", "routed by X-Routing-Key ÷ named"):
        assert re.search(rf"^\| {measure} \| {NUMBER} \| ≤ 1.03 \|$", traffic.read_text(), re.M), measure
    text = report.read_text()
    assert text in result.stdout  # the report is also printed
    for scenario in ("iris, 1 row", "penguins, 1 row"):
        for server in ("baseline", "ours"):
            row = re.search(rf"^\| {scenario} \| {server} \| ({NUMBER}) \| ({NUMBER}) \|", text, re.MULTILINE)
            assert row, f"no {server} row for {scenario}:\n{text}"
            assert float(row.group(1).replace(",", "")) > 0
    assert re.search(
        rf"^\| iris, 1 row: req/s vs baseline \| ≥ 1.0× \| {NUMBER}× .*\| (PASS|MISS) \|$", text, re.M
    )
    assert "wrk's own CPU" in text
    assert saved_results() == results_before  # --output kept it out of bench/results


@pytest.mark.slow
def test_a_latency_probe_is_set_against_floors_and_a_canned_answer(tmp_path: Path) -> None:
    require_wrk()
    report = tmp_path / "bench.md"
    probe = (
        "--duration 1 --warmup 1 --reps 2 --startup-reps 1 --floor-seconds 0.1 --probe-seconds 1 "
        "--scenarios iris-10000-v2"
    )
    result = make_bench(probe, report, timeout_s=180)
    text = report.read_text()
    # floor, predict_proba, ours end to end, ratio with its spread over the 2 repetitions, canned answer
    row = re.search(
        rf"^\| iris, 10,000 rows \(V2 infer\) \| ({NUMBER}) \| {NUMBER} \| ({NUMBER}) \| "
        rf"({NUMBER})× \({NUMBER}–{NUMBER}\) \| ({NUMBER}) \|$",
        text,
        re.MULTILINE,
    )
    assert row, text
    floor_ms, ours_ms, canned_ms = (float(row.group(i).replace(",", "")) for i in (1, 2, 4))
    assert floor_ms > 0 and ours_ms > 0 and canned_ms > 0  # no order: this machine's speed drifts
    assert len(re.findall(r"rep \d/2 .*: in-process floor", result.stderr)) == 2  # before each rep
    assert len(re.findall(r"rep 2/2 .*, canned answer at -c1", result.stderr)) == 1
    assert re.search(r"the floor and ours, canned answer alternated, \d+ rounds of 10 calls", result.stderr)
    wrk = rf"p50: ours {NUMBER} ms, baseline {NUMBER} ms, canned answer {NUMBER} ms\. Set against the floor"
    assert re.search(wrk, text)
    assert re.search(rf"took {NUMBER} ms \(in bursts alternated with the floor's\)", text)
    target = r"^\| iris, 10,000 rows \(V2 infer\): end-to-end latency vs in-process floor, alternated in "
    measured = rf"bursts \| ≤ 1.5× \| {NUMBER}× \({NUMBER}–{NUMBER}\) \| (PASS|MISS) \|$"
    assert re.search(target + measured, text, re.M)


@pytest.mark.slow
def test_one_row_v2_is_set_against_models_request_by_request(tmp_path: Path) -> None:
    require_wrk()
    report = tmp_path / "bench.md"
    pair = "--duration 1 --warmup 1 --reps 1 --startup-reps 1 --floor-seconds 0.1 --alternate-rounds 600"
    result = make_bench(f"{pair} --scenarios iris-1,iris-1-v2", report, timeout_s=120)
    assert "alternating iris-1-v2, iris-1 request by request" in result.stderr
    text = report.read_text()
    assert re.search(
        rf"^\| iris-1-v2 vs iris-1: our latency, requests alternated one by one \| ≤ 1.03× \| "
        rf"{NUMBER}× \({NUMBER}–{NUMBER}\) \| (PASS|MISS) \|$",
        text,
        re.M,
    ), text
    for name in ("iris-1", "iris-1-v2"):
        assert re.search(rf"^\| ours, {name}, alternated one by one: median µs per request", text, re.M)
    assert "iris-1 again" not in text and "A/A" not in text  # one copy of each request

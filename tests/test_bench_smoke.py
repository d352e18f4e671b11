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


def test_make_bench_writes_a_report_with_numbers(tmp_path: Path) -> None:
    require_wrk()
    report = tmp_path / "bench.md"
    results_before = saved_results()
    result = subprocess.run(
        ["make", "--no-print-directory", "bench", f"BENCH_ARGS={TINY} --no-scaling --output {report}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
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

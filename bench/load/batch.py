"""Time ``model-registry predict`` on a generated iris CSV: rows/s and the child's peak RSS.

``python -m bench.load.batch [--rows 1000000] [--chunk-rows 10000]`` writes the file in a temporary
folder, scores it with the example config's iris/1 into CSV, and prints one line. The command runs
under a small wrapper process so that its peak RSS (``RUSAGE_CHILDREN``) is its own alone.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from bench.machine import ROOT

EXAMPLE_CONFIG = ROOT / "config.yaml"
IRIS_FEATURES = ["sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm"]
_WRAPPER = (
    "import resource, subprocess, sys, time\n"
    "started = time.perf_counter()\n"
    "code = subprocess.run(sys.argv[1:]).returncode\n"
    "elapsed = time.perf_counter() - started\n"
    "print(code, elapsed, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


@dataclass(frozen=True)
class Run:
    """One timed run of the command."""

    rows: int
    exit_code: int
    seconds: float
    peak_rss_kib: int

    def describe(self) -> str:
        """The run as one printed line: rows, seconds, rows/s, peak RSS and exit status."""
        return (
            f"{self.rows:,} rows in {self.seconds:.2f} s: {self.rows_per_second:,.0f} rows/s, "
            f"peak RSS {self.peak_rss_kib / 1024:.0f} MiB (exit {self.exit_code})"
        )

    @property
    def rows_per_second(self) -> float:
        """Rows scored per second of wall time."""
        return self.rows / self.seconds


def write_iris_csv(path: Path, rows: int, seed: int = 0, block: int = 100_000) -> None:
    """``rows`` rows of an id and plausible iris measurements (one decimal), written in blocks."""
    rng = np.random.default_rng(seed)
    for start in range(0, rows, block):
        n = min(block, rows - start)
        values = rng.uniform([4.3, 2.0, 1.0, 0.1], [7.9, 4.4, 6.9, 2.5], size=(n, 4)).round(1)
        frame = pd.DataFrame(values, columns=IRIS_FEATURES)
        frame.insert(0, "id", np.arange(start, start + n))
        frame.to_csv(path, mode="a" if start else "w", header=not start, index=False)


def time_predict(
    source: Path, output: Path, rows: int, chunk_rows: int = 10_000, config: Path = EXAMPLE_CONFIG
) -> Run:
    """Score ``source`` with iris/1 into ``output`` in a fresh process; its time and peak RSS."""
    command = [sys.executable, "-m", "cli", "predict", "iris/1", str(source), "--output", str(output)]
    command += ["--config", str(config), "--chunk-rows", str(chunk_rows)]
    done = subprocess.run(
        [sys.executable, "-c", _WRAPPER, *command], capture_output=True, text=True, check=True
    )
    code, seconds, peak = done.stdout.split()[-3:]
    return Run(rows, int(code), float(seconds), int(peak))


def measure(rows: int, chunk_rows: int = 10_000) -> Run:
    """Generate ``rows`` iris rows in a temporary folder and time scoring them."""
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "iris.csv"
        write_iris_csv(source, rows)
        return time_predict(source, Path(folder) / "scored.csv", rows, chunk_rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--chunk-rows", type=int, default=10_000)
    args = parser.parse_args()
    print(measure(args.rows, args.chunk_rows).describe())


if __name__ == "__main__":
    main()

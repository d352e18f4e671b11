"""What model-registry predict says on stderr: one summary line at the end without a terminal, and a
progress bar with a total and a percentage on one (a pseudo-terminal here), where the input's rows
can be counted up front."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import termios
from pathlib import Path

import pandas as pd
import pytest

from batch import STDIO
from batch.formats import count_rows
from bench.load.batch import IRIS_FEATURES, write_iris_csv
from tests.conftest import EXAMPLE_CONFIG
from tests.live import COMMAND

SUMMARY = re.compile(
    r"model-registry predict: ([\d,]+) rows? scored, ([\d,]+) rows? rejected( \(listed (.+)\))?, "
    r"([\d,]+) rows/s, output: (.+)"
)
BAD_ROWS = [3, 1_500, 2_999]


def iris_with_bad_rows(path: Path, rows: int) -> Path:
    write_iris_csv(path, rows)
    frame = pd.read_csv(path).astype({IRIS_FEATURES[0]: object})
    frame.loc[BAD_ROWS, IRIS_FEATURES[0]] = "n/a"
    frame.to_csv(path, index=False)
    return path


def predict_command(source: Path | str, *args: str) -> list[str]:
    return [str(COMMAND), "predict", "iris", str(source), *args, "--config", str(EXAMPLE_CONFIG)]


@pytest.mark.parametrize("errors", ["file", "stderr"])
def test_without_a_terminal_one_summary_line_ends_stderr(tmp_path: Path, errors: str) -> None:
    source, out = iris_with_bad_rows(tmp_path / "in.csv", 3_000), tmp_path / "scored.parquet"
    extra = ["--errors", str(tmp_path / "rejected.txt")] if errors == "file" else []
    command = predict_command(source, "-o", str(out), "--chunk-rows", "700", *extra)
    done = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    lines = done.stderr.splitlines()
    assert [line.split(":")[0] for line in lines[:-1]] == (
        [] if errors == "file" else ["Row 3", "Row 1500", "Row 2999"]
    )
    summary = SUMMARY.fullmatch(lines[-1])
    assert summary, lines[-1]
    scored, rejected, _, listed, rate, output = summary.groups()
    assert int(scored.replace(",", "")) == 2_997 == len(pd.read_parquet(out))
    assert int(rejected.replace(",", "")) == 3
    assert listed == (f"in {tmp_path / 'rejected.txt'}" if errors == "file" else "above")
    assert int(rate.replace(",", "")) > 0
    assert output == str(out)
    assert "\r" not in done.stderr and "%" not in done.stderr  # no progress bar


def test_the_summary_names_stdout_and_says_nothing_of_rejected_rows_when_none(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    write_iris_csv(source, 1_234)
    done = subprocess.run(
        predict_command("-"), input=source.read_text(), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("\n") == 1
    summary = SUMMARY.fullmatch(done.stderr.rstrip("\n"))
    assert summary, done.stderr
    assert summary.group(1, 2, 3, 6) == ("1,234", "0", None, "stdout")
    assert len(done.stdout.splitlines()) == 1_235


def on_a_terminal(command: list[str], stdin: Path | None = None) -> tuple[int, str]:
    """Run ``command`` with stderr on a pseudo-terminal 120 columns wide; its status and what it drew."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))
    with open(stdin or os.devnull, "rb") as source:
        process = subprocess.Popen(command, stdin=source, stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    drawn = b""
    try:
        while chunk := _read(master):
            drawn += chunk
    finally:
        os.close(master)
        status = process.wait(timeout=120)
    return status, drawn.decode("utf-8", "replace")


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except OSError:  # EIO: the child closed the terminal's last handle
        return b""


@pytest.mark.parametrize("kind", ["csv", "jsonl", "parquet"])
def test_on_a_terminal_the_bar_shows_a_total_and_a_percentage(tmp_path: Path, kind: str) -> None:
    source = tmp_path / "in.csv"
    write_iris_csv(source, 2_500)
    if kind != "csv":
        frame, source = pd.read_csv(source), tmp_path / f"in.{kind}"
        frame.to_parquet(source) if kind == "parquet" else frame.to_json(source, orient="records", lines=True)
    status, drawn = on_a_terminal(
        predict_command(source, "-o", str(tmp_path / "out.csv"), "--chunk-rows", "500")
    )
    assert status == 0, drawn
    assert re.search(r"\b0%\|.*\| 0\.00/2\.50k", drawn), drawn  # the total from the start
    assert re.search(r"100%\|.*\| 2\.50k/2\.50k", drawn), drawn
    assert SUMMARY.search(drawn), drawn


def test_on_a_terminal_stdin_has_no_total(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    write_iris_csv(source, 2_500)
    status, drawn = on_a_terminal(predict_command("-", "-o", str(tmp_path / "out.csv")), stdin=source)
    assert status == 0, drawn
    assert "2.50k rows" in drawn and "%" not in drawn, drawn


def test_rows_are_counted_from_lines_and_parquet_metadata(tmp_path: Path) -> None:
    csv, jsonl, parquet = tmp_path / "a.csv", tmp_path / "a.jsonl", tmp_path / "a.parquet"
    csv.write_bytes(b"x,y\n1,2\n3,4")  # no line break at the end
    jsonl.write_bytes(b'{"x": 1}\n' * 70_000)
    pd.DataFrame({"x": range(12)}).to_parquet(parquet)
    assert [count_rows(str(path)) for path in (csv, jsonl, parquet)] == [2, 70_000, 12]
    assert count_rows(STDIO) is None

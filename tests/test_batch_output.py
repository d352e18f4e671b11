"""model-registry predict's output and errors files appear only when complete: a run that fails, is
interrupted or is terminated leaves neither (and earlier ones as they were), never a truncated one."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest

from bench.load.batch import IRIS_FEATURES, write_iris_csv
from cli.main import main
from tests.conftest import EXAMPLE_CONFIG
from tests.live import COMMAND


def predict(*args: str) -> int:
    return main(["predict", *args, "--config", str(EXAMPLE_CONFIG)])


def leftovers(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir() if ".partial-" in path.name)


@pytest.fixture
def earlier_output(tmp_path: Path) -> Path:
    """A complete scored file from an earlier run, to be left as it was."""
    source, output = tmp_path / "earlier.csv", tmp_path / "scored.parquet"
    write_iris_csv(source, 20)
    assert predict("iris", str(source), "--output", str(output)) == 0
    return output


@pytest.mark.parametrize(
    ("sent", "status", "said"),
    [(signal.SIGTERM, 143, "terminated"), (signal.SIGINT, 130, "interrupted")],
)
def test_a_run_stopped_by_a_signal_leaves_no_output_and_the_earlier_one_as_it_was(
    tmp_path: Path, earlier_output: Path, sent: signal.Signals, status: int, said: str
) -> None:
    before = earlier_output.read_bytes()
    earlier_errors = tmp_path / "rejected.txt"
    earlier_errors.write_text("Row 7: an earlier run's message\n")
    rows = tmp_path / "rows.csv"
    write_iris_csv(rows, 60_000)
    command = [str(COMMAND), "predict", "iris", "-", "--output", str(earlier_output), "--chunk-rows", "1000"]
    command += ["--errors", str(earlier_errors), "--config", str(EXAMPLE_CONFIG)]
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert process.stdin is not None
        process.stdin.write(rows.read_bytes())  # and more is still to come: stdin stays open
        process.stdin.flush()
        staged = tmp_path / f".scored.partial-{process.pid}.parquet"
        deadline = time.monotonic() + 60
        while not (staged.exists() and staged.stat().st_size > 0):
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "the run never started writing"
            time.sleep(0.05)
        process.send_signal(sent)
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
        process.wait()
    assert process.returncode == status, stderr
    assert f"{said} before the last row; {earlier_output} was not written".encode() in stderr
    assert earlier_output.read_bytes() == before
    assert earlier_errors.read_text() == "Row 7: an earlier run's message\n"
    assert leftovers(tmp_path) == []


def test_a_run_that_fails_midway_leaves_no_output(tmp_path: Path) -> None:
    source, output = tmp_path / "rows.csv", tmp_path / "scored.parquet"
    frame = pd.DataFrame([[5.1, 3.5, 1.4, 0.2]] * 300, columns=IRIS_FEATURES)
    frame.insert(0, "note", [str(i) for i in range(299)] + ["not a number"])  # int64, then text
    frame.to_csv(source, index=False)
    errors = tmp_path / "rejected.txt"
    args = ["--output", str(output), "--errors", str(errors), "--chunk-rows", "100"]
    assert predict("iris", str(source), *args) == 2
    assert not output.exists() and not errors.exists()
    assert leftovers(tmp_path) == []


def test_a_finished_run_replaces_the_earlier_output(tmp_path: Path, earlier_output: Path) -> None:
    source = tmp_path / "rows.csv"
    write_iris_csv(source, 2_500, seed=1)
    errors = tmp_path / "rejected.txt"
    errors.write_text("Row 7: an earlier run's message\n")
    args = ["--output", str(earlier_output), "--errors", str(errors), "--chunk-rows", "1000"]
    assert predict("iris", str(source), *args) == 0
    scored = pd.read_parquet(earlier_output)
    assert list(scored["id"]) == list(range(2_500))
    assert errors.read_text() == ""  # this run's: no row failed
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(
    ("output", "errors", "said"),
    [
        ("missing/scored.csv", None, "cannot write {tmp}/missing/scored.csv: there is no folder {tmp}/"),
        ("scored.csv", None, "cannot write {tmp}/scored.csv: it is a folder"),
        ("fine.csv", "missing/rejected.txt", "cannot write {tmp}/missing/rejected.txt: there is no folder"),
    ],
)
def test_an_output_that_cannot_be_written_is_refused_before_any_row_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], output: str, errors: str | None, said: str
) -> None:
    source = tmp_path / "rows.csv"
    write_iris_csv(source, 10)
    (tmp_path / "scored.csv").mkdir()
    extra = ["--errors", str(tmp_path / errors)] if errors else []
    assert predict("iris", str(source), "--output", str(tmp_path / output), *extra) == 2
    assert said.format(tmp=tmp_path) in capsys.readouterr().err
    assert not (tmp_path / "fine.csv").exists()
    assert leftovers(tmp_path) == []

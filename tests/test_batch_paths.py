"""model-registry predict refuses an output or errors path that is the input or the other one, by
the file it reaches rather than by its spelling, and writes nothing when it does."""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from cli.main import main
from tests.test_batch_predict import flowers_rows, write_input

# Each case: the arguments after INPUT (in.csv, in the current folder), built in that folder.
Case = Callable[[Path], list[str]]


def symlink(folder: Path, name: str, to: str) -> str:
    (folder / name).symlink_to(to)
    return name


def hard_link(folder: Path, name: str, to: str) -> str:
    os.link(folder / to, folder / name)
    return name


CLASHES: dict[str, tuple[Case, str, str]] = {
    "output is the input": (lambda d: ["--output", "in.csv"], "INPUT", "--output"),
    "output spelled ./": (lambda d: ["--output", "./in.csv"], "INPUT", "--output"),
    "output spelled absolute": (lambda d: ["--output", str(d / "in.csv")], "INPUT", "--output"),
    "output through ..": (lambda d: ["--output", f"../{d.name}/in.csv"], "INPUT", "--output"),
    "output a symlink to it": (lambda d: ["--output", symlink(d, "link.csv", "in.csv")], "INPUT", "--output"),
    "output a hard link to it": (
        lambda d: ["--output", hard_link(d, "hard.csv", "in.csv")],
        "INPUT",
        "--output",
    ),
    "errors is the input": (lambda d: ["--errors", "in.csv"], "INPUT", "--errors"),
    "errors a symlink to it": (lambda d: ["--errors", symlink(d, "e.txt", "in.csv")], "INPUT", "--errors"),
    "output and errors, new": (lambda d: ["-o", "x.csv", "--errors", "x.csv"], "--output", "--errors"),
    "output and errors, spelled apart": (
        lambda d: ["-o", "x.csv", "--errors", "./x.csv"],
        "--output",
        "--errors",
    ),
    "output and errors, linked": (
        lambda d: ["-o", "x.csv", "--errors", symlink(d, "e.csv", "x.csv")],
        "--output",
        "--errors",
    ),
    "stdout twice": (lambda d: ["--errors", "-"], "--output", "--errors"),
    "stdout twice, said": (lambda d: ["-o", "-", "--errors", "-"], "--output", "--errors"),
}


@pytest.mark.parametrize("case", list(CLASHES))
def test_a_path_that_is_the_input_or_the_other_output_is_refused_and_nothing_is_written(
    tiny_store: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    case: str,
) -> None:
    folder = tmp_path / "work"
    folder.mkdir()
    monkeypatch.chdir(folder)
    source = write_input(flowers_rows(5), folder / "in.csv")
    before = source.read_bytes()
    make_args, first, second = CLASHES[case]
    args = make_args(folder)
    listing = sorted(os.listdir(folder))
    assert main(["predict", "flowers", "in.csv", *args, "--config", str(tiny_store)]) == 2
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("model-registry predict: ")
    assert first in lines[0] and second in lines[0]
    assert captured.out == ""
    assert source.read_bytes() == before
    assert sorted(os.listdir(folder)) == listing  # no output, errors or staged file created


def test_errors_on_stdout_beside_an_output_file(
    tiny_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = flowers_rows(4).astype(object)
    frame.loc[2, "sepal_width"] = "wide"
    source, out = write_input(frame, tmp_path / "in.csv"), tmp_path / "out.csv"
    argv = ["predict", "flowers", str(source), "-o", str(out), "--errors", "-", "--config", str(tiny_store)]
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert captured.out == "Row 2: Invalid values: sepal_width: 'wide' is not a number.\n"
    assert captured.err == ""
    assert len(out.read_text().splitlines()) == 4  # the header and the three good rows
    assert not (tmp_path / "-").exists()


def test_input_from_stdin_may_go_to_any_file(
    tiny_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:

    monkeypatch.setattr(sys, "stdin", io.StringIO(flowers_rows(3).to_csv(index=False)))
    out, errors = tmp_path / "out.csv", tmp_path / "errors.txt"
    argv = ["predict", "flowers", "-", "-o", str(out), "--errors", str(errors), "--config", str(tiny_store)]
    assert main(argv) == 0
    assert len(out.read_text().splitlines()) == 4

"""A second bench or soak run of the day keeps the first run's report under its commit's name."""

from __future__ import annotations

import datetime
from pathlib import Path

from bench.report_file import todays_report, write_report

DAY = datetime.date(2026, 12, 3)


def report(commit: str) -> str:
    return f"# Benchmark\n\n- date: 2026-12-03 03:31 UTC\n- code: git {commit}\n"


def test_the_first_run_of_the_day_takes_the_date(tmp_path: Path) -> None:
    assert todays_report(folder=tmp_path, today=DAY) == tmp_path / "2026-12-03.md"
    assert not list(tmp_path.iterdir())


def test_an_earlier_report_is_kept_under_its_commit(tmp_path: Path) -> None:
    write_report(tmp_path / "2026-12-03.md", report("916395c"))
    path = todays_report(folder=tmp_path, today=DAY)
    write_report(path, report("db2d60d"))
    assert path == tmp_path / "2026-12-03.md"
    assert (tmp_path / "2026-12-03-916395c.md").read_text() == report("916395c")
    assert "db2d60d" in path.read_text()


def test_runs_of_one_commit_are_numbered(tmp_path: Path) -> None:
    for _ in range(3):
        write_report(todays_report("soak-", folder=tmp_path, today=DAY), report("916395c"))
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["soak-2026-12-03-916395c-2.md", "soak-2026-12-03-916395c.md", "soak-2026-12-03.md"]


def test_a_report_without_a_commit_line_is_kept_too(tmp_path: Path) -> None:
    write_report(tmp_path / "2026-12-03.md", "an older format\n")
    todays_report(folder=tmp_path, today=DAY)
    assert (tmp_path / "2026-12-03-earlier.md").read_text() == "an older format\n"


def test_write_report_creates_the_folder(tmp_path: Path) -> None:
    write_report(tmp_path / "results" / "x.md", "text")
    assert (tmp_path / "results" / "x.md").read_text() == "text"

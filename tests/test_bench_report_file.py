"""Each kind of report has one file in bench/results, which the next run of that kind replaces."""

from __future__ import annotations

import re
from pathlib import Path

from bench.report_file import RESULTS, report_path, write_report


def test_each_kind_has_its_own_file_in_the_results_folder() -> None:
    assert report_path("bench") == RESULTS / "bench.md"
    assert report_path("soak") == RESULTS / "soak.md"


def test_a_new_report_replaces_the_latest(tmp_path: Path) -> None:
    write_report(report_path("soak", folder=tmp_path), "first run\n")
    write_report(report_path("soak", folder=tmp_path), "second run\n")
    write_report(report_path("bench", folder=tmp_path), "a bench run\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bench.md", "soak.md"]
    assert (tmp_path / "soak.md").read_text() == "second run\n"


def test_the_docs_link_to_the_latest_reports_that_exist() -> None:
    root = RESULTS.parents[1]
    for doc, prefix in ((root / "README.md", ""), (root / "docs" / "performance.md", "../")):
        links = set(re.findall(r"\]\(((?:\.\./)?bench/results/[^)]+)\)", doc.read_text()))
        assert links >= {f"{prefix}bench/results/bench.md", f"{prefix}bench/results/soak.md"}, doc
        assert all((doc.parent / link).is_file() for link in links), doc


def test_write_report_creates_the_folder(tmp_path: Path) -> None:
    write_report(tmp_path / "results" / "x.md", "text")
    assert (tmp_path / "results" / "x.md").read_text() == "text"

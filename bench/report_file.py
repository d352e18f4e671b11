"""Where a report goes: the latest report of each kind, one file per kind (git keeps the earlier ones)."""

from __future__ import annotations

from pathlib import Path

from bench.machine import ROOT

RESULTS = ROOT / "bench" / "results"


def report_path(kind: str, folder: Path = RESULTS) -> Path:
    """``<folder>/<kind>.md``: the latest report of ``kind`` (``bench``, ``soak``); a new run replaces it."""
    return folder / f"{kind}.md"


def write_report(path: Path, text: str) -> None:
    """Write a report, creating its folder and replacing what was there."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)

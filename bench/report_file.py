"""Where a report goes: today's file, with a report of the same day already there kept under its commit."""

from __future__ import annotations

import datetime
import re
from pathlib import Path

from bench.machine import ROOT

RESULTS = ROOT / "bench" / "results"
_CODE_LINE = re.compile(r"^- code: git ([0-9a-f]{7,40})", re.MULTILINE)


def todays_report(prefix: str = "", folder: Path = RESULTS, today: datetime.date | None = None) -> Path:
    """``<folder>/<prefix><date>.md``. A report already at that path (an earlier run of the day) is
    first renamed to ``<prefix><date>-<its commit>.md``, or ``-<commit>-2`` and so on when that is
    taken, so that a second run of the day does not write over the first."""
    stem = f"{prefix}{(today or datetime.date.today()).isoformat()}"
    path = folder / f"{stem}.md"
    if path.exists():
        found = _CODE_LINE.search(path.read_text(errors="replace"))
        kept = f"{stem}-{found.group(1) if found else 'earlier'}"
        target, n = folder / f"{kept}.md", 1
        while target.exists():
            n += 1
            target = folder / f"{kept}-{n}.md"
        path.rename(target)
    return path


def write_report(path: Path, text: str) -> None:
    """Write a report, creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)

"""An output file that appears only when it is complete.

``predict`` writes OUT under a temporary name beside it (same folder, so the same file system) and
renames it into place when the last row is written: one ``os.replace``, atomic on POSIX. A run that
fails, is interrupted (Ctrl-C) or terminated (SIGTERM) removes its temporary file instead, so OUT
is never a truncated CSV or a Parquet file with no footer, and an OUT from an earlier run is left
as it was. Standard output cannot be staged: it is written as it goes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class StagedOutput:
    """Where a run writes (``staged``) until it moves the file to ``target``."""

    target: Path
    staged: Path

    @classmethod
    def beside(cls, target: str) -> StagedOutput:
        """A temporary name for ``target`` in its folder: hidden, naming this process, same extension."""
        path = Path(target)
        return cls(path, path.with_name(f".{path.stem}.partial-{os.getpid()}{path.suffix}"))

    def publish(self) -> None:
        """Move the finished file to ``target`` (replacing any file there) in one rename."""
        os.replace(self.staged, self.target)

    def discard(self) -> None:
        """Remove the unfinished file, if it was created."""
        self.staged.unlink(missing_ok=True)

"""Copy an artifact into the store so that the copy can be undone exactly."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class StagedCopy:
    """A file copied into the store, and the folders created for it (outermost first)."""

    path: Path
    created: tuple[Path, ...]

    def undo(self) -> None:
        """Remove the copy and every folder made for it, leaving the store as it was."""
        self.path.unlink(missing_ok=True)
        for folder in reversed(self.created):
            folder.rmdir()


def stage_copy(source: Path, store: Path, relative: str) -> StagedCopy:
    """Copy ``source`` to ``store/relative``; raises ``FileExistsError`` rather than overwrite a file."""
    target = store / relative
    if target.exists():
        raise FileExistsError(f"{target} already exists; add never overwrites a file in the store")
    missing = [p for p in reversed(target.parents) if not p.exists()]
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        shutil.copyfile(source, target)
    except OSError:
        StagedCopy(target, tuple(missing)).undo()
        raise
    return StagedCopy(target, tuple(missing))

"""The files ``predict`` is given, checked before anything is read or written.

OUT and ERRFILE are published by a rename over whatever is there (batch.staging), so one that is
INPUT would destroy it, and one that is the other would be overwritten by it. Two names are the
same file when they reach the same inode (a symlink, a hard link, ``./in.csv`` and ``in.csv`` and
an absolute path all do), or, for a file that does not exist yet, when they resolve to the same
path. ``-`` is a stream, not a file: INPUT ``-`` is stdin, an OUT or ERRFILE ``-`` is stdout, so
``--output -`` (the default) with ``--errors -`` would mix the error lines into the scored CSV and
is refused too; leave ``--errors`` out to have them on stderr.
"""

from __future__ import annotations

import os
from itertools import combinations
from pathlib import Path

from batch import STDIO
from batch.formats import BatchUsageError


def refuse_clashing_paths(source: str, target: str, errors_path: str | None) -> None:
    """Raise ``BatchUsageError`` naming both options when two of the three name one file or stream."""
    named = [("INPUT", source, False), ("--output", target, True), ("--errors", errors_path, True)]
    given = [(option, path, written) for option, path, written in named if path is not None]
    for (first, a, a_written), (second, b, b_written) in combinations(given, 2):
        if a == STDIO or b == STDIO:
            if a == b == STDIO and a_written and b_written:
                raise BatchUsageError(
                    f"{first} - and {second} - are both standard output; leave out --errors "
                    "to list failed rows on stderr"
                )
            continue
        if same_file(a, b):
            raise BatchUsageError(
                f"{first} {a} and {second} {b} are the same file; give {second} another path"
            )


def same_file(a: str, b: str) -> bool:
    """Whether two paths name one file: the same inode when both exist, else the same resolved path."""
    try:
        return os.path.samefile(a, b)
    except OSError:  # one does not exist (yet)
        return Path(a).resolve() == Path(b).resolve()


def refuse_unreadable(source: str) -> None:
    """Refuse, before any model is loaded, an INPUT that is missing, a folder or empty."""
    if source == STDIO:
        return
    path = Path(source)
    if path.is_dir():
        raise BatchUsageError(f"cannot read {source}: it is a folder")
    if not path.exists():
        raise BatchUsageError(f"cannot read {source}: there is no such file")
    if path.is_file() and path.stat().st_size == 0:
        raise BatchUsageError(f"cannot read {source}: the file is empty")


def refuse_unwritable(path: str | None) -> None:
    """Refuse, before any row is read, an output or errors file that could not be written."""
    if path is None or path == STDIO:
        return
    file = Path(path)
    if file.is_dir():
        raise BatchUsageError(f"cannot write {path}: it is a folder")
    folder = file.parent
    if not folder.is_dir():
        raise BatchUsageError(f"cannot write {path}: there is no folder {folder}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise BatchUsageError(f"cannot write {path}: the folder {folder} is not writable")

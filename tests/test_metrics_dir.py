"""A server's private metrics folder is removed when it stops, and, when it was killed before it
could (SIGKILL, the OOM killer), by the next server to start; never while one of its processes runs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.observability.metrics_dir import DIR_PREFIX, LOCK_FILE, remove_orphaned_dirs
from tests.conftest import EXAMPLE_CONFIG
from tests.live import serving, worker_pids

HOLD_LOCK = (
    "import sys, time; from api.observability.metrics_dir import _locked; _locked(sys.argv[1]); "
    "print('held', flush=True); "
    "time.sleep(60)"
)


def metrics_folders(root: Path) -> list[Path]:
    return sorted(path for path in root.iterdir() if path.name.startswith(DIR_PREFIX))


def folder(root: Path, name: str, locked: bool = True) -> Path:
    made = root / f"{DIR_PREFIX}{name}"
    made.mkdir()
    (made / "counter_123.db").write_bytes(b"\0" * 64)
    if locked:
        (made / LOCK_FILE).touch()
    return made


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[tuple[Path, subprocess.Popen[str]]]:
    """A folder whose lock another, running process holds, as a live server's master does."""
    live = folder(tmp_path, "live")
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(live / LOCK_FILE)], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None and process.stdout.readline() == "held\n"
    yield live, process
    process.kill()
    process.wait()


def test_only_folders_that_no_process_holds_are_removed(
    tmp_path: Path, holder: tuple[Path, subprocess.Popen[str]]
) -> None:
    live, process = holder
    orphan = folder(tmp_path, "orphan")
    older = folder(tmp_path, "older", locked=False)  # an older release's: it may still be running
    other = tmp_path / "someone-else"
    other.mkdir()
    assert remove_orphaned_dirs(str(tmp_path)) == [str(orphan)]
    assert metrics_folders(tmp_path) == sorted([live, older])
    process.send_signal(signal.SIGKILL)  # its lock ends with it, exit hook or not
    process.wait()
    assert remove_orphaned_dirs(str(tmp_path)) == [str(live)]
    assert metrics_folders(tmp_path) == [older] and other.is_dir()


@pytest.mark.slow
def test_a_killed_servers_folder_is_removed_by_the_next_server_and_a_stopped_ones_by_itself(
    tmp_path: Path,
) -> None:
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    with serving(EXAMPLE_CONFIG, tmp_path, workers=1, env=env) as first:
        (killed,) = metrics_folders(tmp_path)
        assert remove_orphaned_dirs(str(tmp_path)) == []  # a running server holds its own
        for pid in [*worker_pids(first.process.pid), first.process.pid]:
            os.kill(pid, signal.SIGKILL)
        first.process.wait()
    assert metrics_folders(tmp_path) == [killed]  # nothing ran to remove it
    with serving(EXAMPLE_CONFIG, tmp_path, workers=1, env=env):
        (own,) = metrics_folders(tmp_path)
        assert own != killed
    assert metrics_folders(tmp_path) == []

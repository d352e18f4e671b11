"""The metrics directory of prometheus-client's multiprocess mode, one per server.

Under gunicorn the counts live in prometheus-client's multiprocess mode: each process writes its
own files in a directory private to one server, created empty when it starts and removed when it
stops (or, when it was killed before it could, by the next server to start), and a scrape sums
every file there. A worker that dies (replaced after a crash or a
timeout, or retired by a reload) would leave its files behind for good, one set per worker ever
started: the master folds them into one archive file per kind as each worker exits
(``archive_dead_worker``), so what it counted is kept and the directory stays the size of the
live workers.
"""

from __future__ import annotations

import atexit
import fcntl
import os
import shutil
import tempfile
from pathlib import Path

from prometheus_client import multiprocess, values
from prometheus_client.mmap_dict import MmapedDict

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
DIR_PREFIX = "model-registry-metrics-"
LOCK_FILE = ".lock"  # locked by the server whose directory it is, while any of its processes runs
_held_locks: list[int] = []  # the master's lock, open for its life (its workers inherit it)


def enable_multiprocess() -> str:
    """Give this server a private, empty metrics directory and switch prometheus-client to it.

    Call in the master before any instrument exists. The directory is removed when the master
    exits (workers, which inherit the exit hook, leave it alone). Its lock file stays locked
    while the master or any of its workers runs, and the directories of servers killed before
    their exit hook ran (SIGKILL, the OOM killer) are removed here, by the next server to start.
    """
    remove_orphaned_dirs(tempfile.gettempdir())
    path = tempfile.mkdtemp(prefix=DIR_PREFIX)
    _held_locks.append(_locked(os.path.join(path, LOCK_FILE)))
    os.environ[MULTIPROC_ENV] = path
    values.ValueClass = values.get_value_class()
    master = os.getpid()
    atexit.register(lambda: os.getpid() == master and shutil.rmtree(path, ignore_errors=True))
    return path


def remove_orphaned_dirs(root: str) -> list[str]:
    """Remove, from ``root``, this user's metrics directories that no process holds any more;
    returns their paths.

    A server's lock (``flock``) lasts as long as one of its processes runs, whatever its PID or
    PID namespace (a container's master is PID 1 in every run), and ends with it even on SIGKILL.
    A directory without a lock file (made by an older release) is left alone.
    """
    removed = []
    for entry in Path(root).glob(f"{DIR_PREFIX}*"):
        lock = entry / LOCK_FILE
        if entry.is_dir() and entry.stat().st_uid == os.getuid() and lock.is_file():
            try:
                held = _locked(str(lock))
            except BlockingIOError:
                continue  # a running server's
            shutil.rmtree(entry, ignore_errors=True)
            os.close(held)
            removed.append(str(entry))
    return removed


def _locked(path: str) -> int:
    """An open descriptor of ``path`` holding its exclusive lock; BlockingIOError if another has it."""
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BaseException:
        os.close(descriptor)
        raise
    return descriptor


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


def archive_dead_worker(pid: int) -> None:
    """Fold a dead worker's counters and histograms into the archive files, then delete its files."""
    path = multiprocess_dir()
    if path is None:
        return
    multiprocess.mark_process_dead(pid, path)
    for kind in ("counter", "histogram"):
        dead = os.path.join(path, f"{kind}_{pid}.db")
        if not os.path.exists(dead):
            continue
        archive = MmapedDict(os.path.join(path, f"{kind}_archive.db"))
        try:
            for key, value, timestamp, _ in MmapedDict.read_all_values_from_file(dead):
                archive.write_value(key, archive.read_value(key)[0] + value, timestamp)
        finally:
            archive.close()
        os.remove(dead)

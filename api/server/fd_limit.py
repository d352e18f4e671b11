"""How many connections a worker may hold, from how many files the process may open.

Each connection is a file descriptor; past ``RLIMIT_NOFILE`` an ``accept`` fails and so does
opening anything else. The soft limit is raised to the hard one where the system allows it, and
a worker holds at most that minus ``HEADROOM`` connections, leaving room for the listening
socket, model and log files, the metrics files and gevent's own descriptors.
"""

from __future__ import annotations

import logging
import resource

log = logging.getLogger(__name__)

HEADROOM = 128
UNLIMITED_TARGET = 1 << 20  # the soft limit to ask for when the hard one is unlimited


def raise_open_files_limit() -> int:
    """Raise this process's soft open-files limit as far as its hard limit allows (inherited by
    processes forked afterwards); returns the soft limit in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = UNLIMITED_TARGET if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            log.debug("the open-files limit stays at %s", soft)
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def connection_limit(wanted: int) -> int:
    """``wanted`` connections per worker, or fewer when the open-files limit allows fewer (logged)."""
    files = raise_open_files_limit()
    if files == resource.RLIM_INFINITY:
        return wanted
    allowed = max(1, files - HEADROOM)
    if allowed < wanted:
        log.warning(
            "server.max_connections %s lowered to %s per worker: the process may open %s files "
            "(ulimit -n); raise that limit to hold more",
            wanted,
            allowed,
            files,
        )
        return allowed
    return wanted

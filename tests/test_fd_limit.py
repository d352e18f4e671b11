"""A worker's connection limit follows the process's open-files limit (in a child process, whose
limits the test may lower for good)."""

from __future__ import annotations

import resource
import subprocess
import sys

import pytest

PRINT_LIMIT = (
    "import resource; from api.server.fd_limit import connection_limit; "
    "print(connection_limit(1000), resource.getrlimit(resource.RLIMIT_NOFILE)[0])"
)


def limit_in_child(soft: int, hard: int) -> tuple[int, int]:
    """(connection limit, soft open-files limit after it) in a child started with these limits."""
    done = subprocess.run(
        [sys.executable, "-c", PRINT_LIMIT],
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard)),
        capture_output=True,
        text=True,
        check=True,
    )
    connections, files = done.stdout.split()
    return int(connections), int(files)


def hard_limit() -> int:
    return resource.getrlimit(resource.RLIMIT_NOFILE)[1]


@pytest.mark.skipif(hard_limit() < 2000, reason="needs a hard open-files limit of 2,000")
def test_the_soft_limit_is_raised_to_the_hard_one() -> None:
    assert limit_in_child(300, 2000) == (1000, 2000)


def test_a_low_hard_limit_lowers_the_connections_leaving_headroom() -> None:
    assert limit_in_child(300, 300) == (300 - 128, 300)
    assert limit_in_child(1024, 1024) == (1024 - 128, 1024)

"""A real server crowded by connections and by bytes: idle sockets past the connection limit,
clients that never read their answers, bodies stalled before their end.

The limits are lowered in the config so that a few dozen sockets reach them; the attacks at full
scale are the slow tests at the end (and ``make attack ATTACK_ARGS='--scenario ...'``).
"""

from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import yaml

from bench.attack.clients import big_request
from bench.attack.run import SCENARIOS, Attack, describe, run_attack
from tests.conftest import EXAMPLE_CONFIG
from tests.live import LiveServer, serving

PREDICT = "/models/iris/1/predict"
IRIS = {"sepal_length_cm": 5.1, "sepal_width_cm": 3.5, "petal_length_cm": 1.4, "petal_width_cm": 0.2}
MIB = 1024 * 1024


def crowded_config(tmp_path: Path, **server: int) -> Path:
    """The example config with ``server`` settings changed, written in ``tmp_path``."""
    data = yaml.safe_load(EXAMPLE_CONFIG.read_text())
    data["store"] = str(EXAMPLE_CONFIG.parent / data["store"])
    data["server"] = {**data.get("server", {}), **server}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def port_of(live: LiveServer) -> int:
    return int(live.url.rsplit(":", 1)[1])


def shed_count(live: LiveServer, reason: str) -> float:
    text = metrics_text(live)
    found = re.search(rf'^model_registry_connections_shed_total{{reason="{reason}"}} (\S+)$', text, re.M)
    return float(found.group(1)) if found else 0.0


def metrics_text(live: LiveServer) -> str:
    with socket.create_connection(("127.0.0.1", port_of(live)), timeout=10) as sock:
        sock.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        return read_all(sock).decode()


def read_all(sock: socket.socket) -> bytes:
    answer = b""
    while chunk := sock.recv(65536):
        answer += chunk
    return answer


def head_of(length: int) -> bytes:
    return (
        f"POST {PREDICT} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode()


@pytest.fixture
def crowded(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    """One worker with the server settings the test gives (indirectly; ``args``: for serve)."""
    settings: dict[str, Any] = dict(request.param)
    args = settings.pop("args", ())
    with serving(crowded_config(tmp_path, **settings), tmp_path, workers=1, args=args) as live:
        yield live


@pytest.mark.parametrize("crowded", [{"max_connections": 40}], indirect=True)
def test_idle_sockets_past_the_connection_limit_are_shed_and_requests_answered(crowded: LiveServer) -> None:
    """80 idle sockets, re-opened as the server closes them, against a worker holding 40: before
    shedding, its pool filled and stopped accepting, and the probe timed out."""
    attack = Attack(idle=80, slow_headers=0, slow_body=0, never_read=0, hold_s=6)
    result = run_attack("127.0.0.1", port_of(crowded), attack)
    assert result.share >= 0.98, describe(result, attack, "max_connections 40")
    assert shed_count(crowded, "idle") > 0


@pytest.mark.parametrize("crowded", [{"max_body_bytes": MIB, "max_buffered_bytes": 2 * MIB}], indirect=True)
def test_a_body_past_the_buffer_budget_gets_a_503_then_stalled_bodies_make_room(crowded: LiveServer) -> None:
    port = port_of(crowded)
    length = MIB - 1024
    with ExitStack() as stack:
        stalled = []
        for _ in range(2):  # together they hold the whole budget, and stall 1 KiB before their end
            sock = stack.enter_context(socket.create_connection(("127.0.0.1", port), timeout=10))
            sock.sendall(head_of(length) + b" " * (length - 1024))
            stalled.append(sock)
        time.sleep(0.3)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as third:
            third.sendall(head_of(length))
            head, _, body = read_all(third).partition(b"\r\n\r\n")
        assert head.split(b" ")[1] == b"503", head
        assert b"\r\nRetry-After: 1\r\n" in head
        assert "server.max_buffered_bytes" in json.loads(body)["message"]

        time.sleep(1.5)  # the two are now stalled: a new body closes the longest stalled
        row = json.dumps(IRIS).encode()
        with socket.create_connection(("127.0.0.1", port), timeout=10) as fourth:
            fourth.sendall(head_of(length) + row + b" " * (length - len(row)))
            fourth.shutdown(socket.SHUT_WR)
            head, _, body = read_all(fourth).partition(b"\r\n\r\n")
        assert head.split(b" ")[1] == b"200", head
        assert json.loads(body)["predictions"][0]["label"] == "setosa"
        stalled[0].settimeout(5)
        assert stalled[0].recv(1) == b"", "the longest stalled body was not closed"
    assert shed_count(crowded, "buffers") == 1
    assert "model_registry_bodies_refused_total 1.0" in metrics_text(crowded)


@pytest.mark.parametrize("crowded", [{"args": ("--timeout", "3")}], indirect=True)
def test_an_answer_never_read_is_dropped_within_the_timeout(crowded: LiveServer) -> None:
    """The I/O deadline covers the answer waiting in a full send buffer, not only its computation."""
    with socket.create_connection(("127.0.0.1", port_of(crowded)), timeout=10) as sock:
        sock.sendall(big_request("x"))
        time.sleep(5)  # past the deadline, reading nothing
        received = b""
        try:
            while chunk := sock.recv(1 << 20):
                received += chunk
        except ConnectionResetError:
            pass
    head, _, body = received.partition(b"\r\n\r\n")
    length = int(re.search(rb"Content-Length: (\d+)", head).group(1))
    assert head.startswith(b"HTTP/1.1 200") and length > 4 * MIB
    assert len(body) < length, "the answer waited whole for a client that never read"


@pytest.mark.parametrize("crowded", [{"max_buffered_bytes": 16 * MIB}], indirect=True)
def test_never_reading_clients_cannot_run_the_worker_memory_up(crowded: LiveServer) -> None:
    """30 clients asking for 9 MB answers and never reading: about 280 MB held before the budget."""
    attack = Attack(idle=0, slow_headers=0, slow_body=0, never_read=30, hold_s=8)
    result = run_attack("127.0.0.1", port_of(crowded), attack, master=crowded.process.pid)
    assert result.growth_mb is not None and result.growth_mb < 150, describe(result, attack, "budget 16 MiB")
    assert shed_count(crowded, "buffers") > 0


@pytest.mark.slow
@pytest.mark.parametrize("scenario", ["idle-flood", "never-read", "stalled-body"])
def test_the_full_scale_attacks_leave_the_server_answering_in_bounded_memory(
    tmp_path: Path, scenario: str
) -> None:
    """The issue's figures: 1,100 idle sockets, 150 never-reading clients, 100 stalled 8 MB bodies."""
    attack = Attack(**{**SCENARIOS[scenario].__dict__, "hold_s": 15})
    with serving(EXAMPLE_CONFIG, tmp_path, workers=1) as live:
        result = run_attack("127.0.0.1", port_of(live), attack, master=live.process.pid)
    print(describe(result, attack, scenario))
    assert result.growth_mb is not None and result.growth_mb < 400, describe(result, attack, scenario)
    assert result.share >= (0.9 if scenario == "never-read" else 0.98), describe(result, attack, scenario)

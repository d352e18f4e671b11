"""The bench's canned-answer server (bench/load/canned.py): the same bytes for every request, kept alive."""

from __future__ import annotations

import http.client
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.harness import Server, free_port, start_server, stop_server

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def canned(tmp_path: Path) -> Iterator[tuple[Server, bytes]]:
    answer = b'{"outputs": [' + b"0.12345678901234567," * 40_000 + b"1.0]}"
    (tmp_path / "answer.json").write_bytes(answer)
    port = free_port()
    command = [sys.executable, "-m", "bench.load.canned", str(port), str(tmp_path / "answer.json")]
    server = start_server("canned", command, port, tmp_path / "canned.log", 0, ROOT)
    try:
        yield server, answer
    finally:
        stop_server(server)
    assert server.process.returncode is not None


def test_every_request_on_one_connection_gets_the_answer(canned: tuple[Server, bytes]) -> None:
    server, answer = canned
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        bodies = [b'{"inputs": []}', b"x" * 300_000, b""]
        for body in bodies:
            connection.request("POST", "/v2/models/iris/infer", body, {"Content-Type": "application/json"})
            response = connection.getresponse()
            assert response.status == 200
            assert response.getheader("Content-Length") == str(len(answer))
            assert response.read() == answer
        connection.request("GET", "/health/ready")
        assert connection.getresponse().read() == answer
        assert connection.sock is not None  # still the one kept-alive connection
    finally:
        connection.close()


def test_a_client_gone_mid_body_does_not_stop_it(canned: tuple[Server, bytes]) -> None:
    server, answer = canned
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n" + b"0" * 1000)
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request("POST", "/", b"{}", {"Content-Type": "application/json"})
        assert connection.getresponse().read() == answer
    finally:
        connection.close()
    assert server.process.poll() is None

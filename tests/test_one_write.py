"""Headers and body in one send (api.server.one_write): whole answers of every size, on a real server,
and the remainder sent when the socket takes only part."""

from __future__ import annotations

import http.client
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from gunicorn.config import Config
from gunicorn.http import wsgi
from gunicorn.http.parser import RequestParser

from api.server import one_write
from api.server.one_write import OneWriteResponse, send_both
from bench.load.alternate import post_request
from tests.conftest import EXAMPLE_CONFIG
from tests.live import LiveServer, serving

IRIS = {"sepal_length_cm": 5.1, "sepal_width_cm": 3.5, "petal_length_cm": 1.4, "petal_width_cm": 0.2}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with serving(EXAMPLE_CONFIG, tmp_path_factory.mktemp("one-write"), workers=1) as live:
        yield live


def read_slowly(sock: socket.socket, into: bytearray, pause_s: float) -> None:
    time.sleep(pause_s)  # let the sender fill the buffers first
    while chunk := sock.recv(65536):
        into.extend(chunk)


@pytest.mark.parametrize(
    ("head_bytes", "body_bytes"),
    [(10, 20), (300_000, 10), (10, 3_000_000), (200_000, 2_000_000)],
    ids=["both fit", "head larger than the buffers", "body larger", "both larger"],
)
def test_send_both_delivers_every_byte_in_order(head_bytes: int, body_bytes: int) -> None:
    sender, receiver = socket.socketpair()
    sender.settimeout(30)  # as gevent's sockets are: a send that would block sends what fits
    sender.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    receiver.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    head, body = bytes(range(256)) * (head_bytes // 256) + b"h" * (head_bytes % 256), b"b" * body_bytes
    got = bytearray()
    reader = threading.Thread(target=read_slowly, args=(receiver, got, 0.2))
    reader.start()
    send_both(sender, head, body)
    sender.close()
    reader.join(30)
    receiver.close()
    assert bytes(got) == head + body


class RecordingSocket:
    """Stands in for a client connection: records each system call gunicorn's response makes."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, bytes]] = []

    def sendall(self, data: bytes) -> None:
        self.calls.append(("sendall", bytes(data)))

    def sendmsg(self, buffers: list[bytes]) -> int:
        self.calls.append(("sendmsg", b"".join(bytes(b) for b in buffers)))
        return sum(len(b) for b in buffers)

    def wire(self) -> bytes:
        """What the client receives, minus the Date line (it may tick between two answers)."""
        return re.sub(rb"Date: [^\r]*\r\n", b"", b"".join(data for _, data in self.calls))


def respond(
    response_class: type[wsgi.Response] | None, method: str, status: str, headers: list, writes: list[bytes]
) -> RecordingSocket:
    """One answer written by ``response_class`` the way gunicorn's worker writes it."""
    cfg = Config()
    request = next(iter(RequestParser(cfg, [f"{method} /x HTTP/1.1\r\nHost: a\r\n\r\n".encode()], None)))
    sock = RecordingSocket()
    response, _ = wsgi.create(request, sock, ("127.0.0.1", 1), ("127.0.0.1", 8000), cfg, response_class)
    response.start_response(status, headers)
    for data in writes:
        response.write(data)
    response.close()
    return sock


ANSWERS = {
    "a whole body": ("GET", "200 OK", [("Content-Length", "5")], [b"hello"]),
    "a 400": ("POST", "400 BAD REQUEST", [("Content-Length", "2")], [b"{}"]),
    "HEAD": ("HEAD", "200 OK", [("Content-Length", "5")], [b"hello"]),
    "204": ("GET", "204 NO CONTENT", [], [b""]),
    "304": ("GET", "304 NOT MODIFIED", [("Content-Length", "5")], []),
    "a body in two parts": ("GET", "200 OK", [("Content-Length", "10")], [b"hello", b"world"]),
    "chunked": ("GET", "200 OK", [], [b"hello", b"world"]),
}


@pytest.mark.parametrize("case", ANSWERS)
def test_the_client_gets_the_bytes_gunicorn_sends(case: str) -> None:
    ours, theirs = (respond(cls, *ANSWERS[case]) for cls in (OneWriteResponse, wsgi.Response))
    assert ours.wire() == theirs.wire()
    one_call = [name for name, _ in ours.calls] == ["sendmsg"]
    assert one_call == (case in ("a whole body", "a 400"))  # the rest take gunicorn's own path


def test_installed_it_is_the_response_gunicorn_builds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wsgi, "Response", wsgi.Response)  # put back after the test
    one_write.install()
    sock = respond(None, *ANSWERS["a whole body"])
    assert [name for name, _ in sock.calls] == ["sendmsg"]


def answers_on_one_connection(server: LiveServer, requests: list[tuple[str, str, bytes | None]]) -> list:
    """(status, headers, body) of each request, all sent on one kept-alive connection."""
    address = urlsplit(server.url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    answers = []
    for method, path, body in requests:
        connection.request(method, path, body=body, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        answers.append((response.status, dict(response.getheaders()), response.read()))
    connection.close()
    return answers


def test_answers_of_every_size_arrive_whole_on_one_connection(server: LiveServer) -> None:
    one = json.dumps(IRIS).encode()
    many = json.dumps({"instances": [IRIS] * 20_000}).encode()  # an answer of about 2.6 MB
    bad = json.dumps({"sepal_length_cm": "x"}).encode()
    v2 = json.dumps(
        {"inputs": [{"name": k, "shape": [1], "datatype": "FP64", "data": [v]} for k, v in IRIS.items()]}
    ).encode()
    answers = answers_on_one_connection(
        server,
        [
            ("POST", "/models/iris/1/predict", one),
            ("POST", "/models/iris/1/predict", many),
            ("HEAD", "/health/live", None),
            ("POST", "/models/iris/1/predict", bad),
            ("GET", "/openapi.json", None),
            ("POST", "/v2/models/iris/infer", v2),
            ("POST", "/models/iris/1/predict", one),
        ],
    )
    statuses = [status for status, _, _ in answers]
    assert statuses == [200, 200, 200, 400, 200, 200, 200]
    for _, headers, body in answers:
        if "Content-Length" in headers and body:
            assert int(headers["Content-Length"]) == len(body)
    assert answers[2][2] == b""  # HEAD: the length of a body, but no body
    assert json.loads(answers[0][2])["predictions"][0]["label"] == "setosa"
    assert len(json.loads(answers[1][2])["predictions"]) == 20_000
    assert "'x' is not a number" in answers[3][2].decode()
    assert "/models/iris/1/predict" in json.loads(answers[4][2])["paths"]
    assert json.loads(answers[5][2])["outputs"][0]["data"] == ["setosa"]
    assert answers[6][2] == answers[0][2]


def test_a_client_reading_slowly_gets_a_large_answer_whole(server: LiveServer) -> None:
    """An answer of 13 MB, more than a loopback socket holds (4 MB here), so the first send is partial."""
    address = urlsplit(server.url)
    body = json.dumps({"inputs": {name: [value] * 100_000 for name, value in IRIS.items()}}).encode()
    sock = socket.create_connection((address.hostname, address.port), timeout=30)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)  # far less than the answer
    sock.sendall(post_request("/models/iris/1/predict", body, {"Connection": "close"}))
    got = bytearray()
    read_slowly(sock, got, 0.5)
    sock.close()
    head, _, answer = bytes(got).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    lines = head.lower().split(b"\r\n")
    (length,) = [int(line.split(b":")[1]) for line in lines if line.startswith(b"content-length")]
    assert len(answer) == length
    assert len(json.loads(answer)["predictions"]) == 100_000


# Where Linux's struct tcp_info (linux/tcp.h, since 4.6) keeps tcpi_data_segs_in: segments received
# that carried data, whatever the reader made of them.
DATA_SEGS_IN = slice(152, 156)


def data_segments_in(sock: socket.socket) -> int:
    info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
    return int.from_bytes(info[DATA_SEGS_IN], "little")


def test_each_answer_of_a_real_worker_arrives_in_one_segment(server: LiveServer) -> None:
    """The worker installs OneWriteResponse (api/server/worker.py): gunicorn's own path sends the head,
    then the body, as two segments."""
    address = urlsplit(server.url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    one, bad = json.dumps(IRIS).encode(), json.dumps({"sepal_length_cm": "x"}).encode()
    connection.connect()
    segments = []
    for path, body in [("/models/iris/1/predict", one), ("/models/iris/1/predict", bad), ("/v2", None)]:
        before = data_segments_in(connection.sock)
        connection.request(
            "POST" if body else "GET", path, body=body, headers={"Content-Type": "application/json"}
        )
        connection.getresponse().read()
        segments.append(data_segments_in(connection.sock) - before)
    connection.close()
    assert segments == [1, 1, 1], (
        f"data segments per answer: {segments}; is one_write.install() still called?"
    )

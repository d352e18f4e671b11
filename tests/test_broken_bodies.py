"""Bodies that break HTTP's framing, sent over raw sockets to a real server: malformed chunks, a
body shorter than its Content-Length, a byte order mark. Each is the client's error, answered with
a 400 JSON that names the problem and logged as such (no traceback, no 5xx)."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest

from tests.conftest import EXAMPLE_CONFIG
from tests.live import LiveServer, serving

IRIS = {"sepal_length_cm": 5.1, "sepal_width_cm": 3.5, "petal_length_cm": 1.4, "petal_width_cm": 0.2}
BODY = json.dumps(IRIS).encode()
HEAD = b"POST /models/iris/1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
CHUNKED = HEAD + b"Transfer-Encoding: chunked\r\n\r\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with serving(EXAMPLE_CONFIG, tmp_path_factory.mktemp("bodies"), workers=1) as live:
        yield live


def exchange(server: LiveServer, data: bytes, half_close: bool = False) -> tuple[int, dict, bytes]:
    """(status, JSON body, head) of the first answer to ``data`` sent raw; ``half_close``: shut our
    side for writing once sent, as a client that has nothing more to say."""
    port = int(server.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        answer = b""
        while b"\r\n\r\n" not in answer or len(answer.partition(b"\r\n\r\n")[2]) < _length(answer):
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), json.loads(body[: _length(answer)]), head


def _length(answer: bytes) -> int:
    for line in answer.partition(b"\r\n\r\n")[0].split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            return int(value)
    return 1 << 30


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


MALFORMED = {
    "a size that is not hex": (CHUNKED + b"zz\r\n" + BODY + b"\r\n0\r\n\r\n", "Invalid chunk size"),
    "a negative size": (CHUNKED + b"-1\r\n" + BODY + b"\r\n0\r\n\r\n", "Invalid chunk size"),
    "no CRLF after a chunk": (CHUNKED + b"%x\r\n" % len(BODY) + BODY + b"XX0\r\n\r\n", "chunked encoding"),
    "a trailer that is no header": (CHUNKED + chunk(BODY) + b"0\r\nno colon here\r\n\r\n", "chunked"),
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_chunks_are_a_400_naming_the_problem(server: LiveServer, name: str) -> None:
    data, words = MALFORMED[name]
    status, body, head = exchange(server, data)
    assert status == 400, body
    assert b"Content-Type: application/json" in head
    assert body["message"].startswith("The body"), body
    assert words in body["message"], body


def test_a_truncated_chunk_then_a_half_close_is_a_400(server: LiveServer) -> None:
    status, body, _ = exchange(server, CHUNKED + b"%x\r\n" % (len(BODY) + 50) + BODY, half_close=True)
    assert status == 400
    assert body["message"] == "The body ended before its last chunk (chunked encoding)."


def test_a_body_shorter_than_its_content_length_then_a_half_close_is_a_400(server: LiveServer) -> None:
    data = HEAD + b"Content-Length: %d\r\n\r\n" % (len(BODY) + 10) + BODY
    status, body, _ = exchange(server, data, half_close=True)
    assert status == 400
    assert (
        body["message"]
        == f"The body ended after {len(BODY)} of the {len(BODY) + 10} bytes its Content-Length announced."
    )


@pytest.mark.parametrize("rows", [1, 100])  # below and above the size where the fast parser takes over
@pytest.mark.parametrize("v2", [False, True])
def test_a_byte_order_mark_is_one_rule_whatever_the_size(server: LiveServer, rows: int, v2: bool) -> None:
    if v2:
        tensors = [
            {"name": k, "shape": [rows], "datatype": "FP64", "data": [v] * rows} for k, v in IRIS.items()
        ]
        path, payload = b"/v2/models/iris/infer", {"inputs": tensors}
    else:
        path, payload = b"/models/iris/1/predict", {"instances": [IRIS] * rows}
    body = b"\xef\xbb\xbf" + json.dumps(payload).encode()
    head = HEAD.replace(b"/models/iris/1/predict", path)
    status, answer, _ = exchange(server, head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
    assert status == 200, answer
    assert (answer["outputs"][0]["shape"][0] if v2 else len(answer["predictions"])) == rows


def test_none_of_them_is_logged_as_a_server_error(server: LiveServer) -> None:
    for data, _ in MALFORMED.values():
        exchange(server, data)
    log = server.log.read_text()
    assert "Traceback" not in log
    assert " ERROR " not in log
    with socket.create_connection(("127.0.0.1", int(server.url.rsplit(":", 1)[1])), timeout=10) as sock:
        sock.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        metrics = b""
        while data := sock.recv(65536):
            metrics += data
    assert b'code="400"' in metrics
    assert b'code="500"' not in metrics

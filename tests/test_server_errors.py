"""The HTTP server's own errors (400, 414, 431) and the 401 answer in the protocol of the request's
path, like every other error: ``{"error"}`` under /v2, our API's body elsewhere and when the path
cannot be read. Sent as raw bytes to a real server, since gunicorn's parser is what fails."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from gunicorn.config import Config
from gunicorn.http.errors import LimitRequestHeaders, LimitRequestLine
from gunicorn.http.parser import RequestParser

from api.server.http_errors import PATH_ATTRIBUTE, PathKeepingRequest, error_path, path_read
from tests.conftest import EXAMPLE_CONFIG
from tests.live import LiveServer, serving

TOKEN = "server-errors-token"
LONG = "a" * 5000
MANY_HEADERS = "X-A: b\r\n" * 200


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("server-errors")
    (folder / "token").write_text(TOKEN)
    with serving(EXAMPLE_CONFIG, folder, workers=1, args=["--token-file", str(folder / "token")]) as live:
        yield live


def exchange(server: LiveServer, request: bytes) -> tuple[int, dict[str, str], Any]:
    """(status, headers, JSON body) of the answer to ``request``, sent as it is."""
    port = int(server.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
            head, _, body = answer.partition(b"\r\n\r\n")
            length = [line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")]
            if length and len(body) >= int(length[0].split(b":")[1]):
                break
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    assert headers["Content-Type"] == "application/json" and int(headers["Content-Length"]) == len(body)
    return int(lines[0].split(" ")[1]), headers, json.loads(body)


def v2_body(status: int, body: Any) -> bool:
    return set(body) == {"error"} and isinstance(body["error"], str) and bool(body["error"])


def models_body(status: int, body: Any) -> bool:
    return body["code"] == status and {"code", "status", "message"} <= set(body) and "error" not in body


SERVER_ERRORS = [
    # (request, status, the protocol's body)
    (f"GET /v2/models/{LONG} HTTP/1.1\r\nHost: x\r\n\r\n", 414, v2_body),
    (f"GET /models/{LONG} HTTP/1.1\r\nHost: x\r\n\r\n", 414, models_body),
    (f"GET /v2/health/live HTTP/1.1\r\nHost: x\r\n{MANY_HEADERS}\r\n", 431, v2_body),
    (f"GET //v2/%2Fhealth/live HTTP/1.1\r\nHost: x\r\n{MANY_HEADERS}\r\n", 431, v2_body),
    (f"GET /health/live HTTP/1.1\r\nHost: x\r\n{MANY_HEADERS}\r\n", 431, models_body),
    (f"POST /v2/models/iris/infer HTTP/1.1\r\nHost: x\r\n{MANY_HEADERS}\r\n", 431, v2_body),
    ("GET /v2/health/live HTTP/9.9\r\nHost: x\r\n\r\n", 400, v2_body),
    ("GET /models HTTP/9.9\r\nHost: x\r\n\r\n", 400, models_body),
    ("BR@KEN / HTTP/1.1\r\n\r\n", 400, models_body),
    ("\x01\x02\r\n\r\n", 400, models_body),  # no path to read: our API's body
]


@pytest.mark.parametrize(("request_text", "status", "body_of"), SERVER_ERRORS, ids=lambda v: repr(v)[:40])
def test_errors_of_the_http_server_answer_in_the_paths_protocol(
    server: LiveServer, request_text: str, status: int, body_of: Any
) -> None:
    found, headers, body = exchange(server, request_text.encode("latin-1"))
    assert found == status and headers["Connection"] == "close"
    assert body_of(status, body), body


@pytest.mark.parametrize(
    ("path", "body_of"),
    [("/v2/models/iris", v2_body), ("/v2/models/iris/infer", v2_body), ("/models/iris", models_body)],
)
def test_a_missing_token_answers_in_the_paths_protocol(server: LiveServer, path: str, body_of: Any) -> None:
    method = "POST" if path.endswith("infer") else "GET"
    status, headers, body = exchange(server, f"{method} {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert status == 401 and headers["WWW-Authenticate"] == "Bearer"
    assert body_of(401, body), body


@pytest.mark.parametrize(
    ("head", "path"),
    [
        (b"GET /v2/models/iris?x=1 HTTP/1.1\r\n", "/v2/models/iris"),
        (b"GET /v2/models/aaaa", "/v2/models/aaaa"),  # a request line cut short
        (b"GET http://host/v2/x HTTP/1.1", "/v2/x"),
        (b"GET", None),
        (b"", None),
    ],
)
def test_the_path_is_read_from_what_arrived(head: bytes, path: str | None) -> None:
    assert path_read(bytearray(head)) == path


@pytest.mark.parametrize(
    ("request_bytes", "error", "path"),
    [
        (f"GET /v2/{LONG} HTTP/1.1\r\n\r\n".encode(), LimitRequestLine, "/v2/"),
        (f"GET //v2/%2Fready HTTP/1.1\r\n{MANY_HEADERS}\r\n".encode(), LimitRequestHeaders, "/v2/ready"),
    ],
)
def test_gunicorns_parse_errors_carry_the_path(request_bytes: bytes, error: type, path: str) -> None:
    """What api.server.http_errors relies on: the parser builds its ``mesg_class`` and ``parse``
    raises these errors, with ``path`` set on the request once the line is read."""
    parser = type("Parser", (RequestParser,), {"mesg_class": PathKeepingRequest})
    with pytest.raises(error) as raised:
        next(iter(parser(Config(), [request_bytes], None)))
    assert getattr(raised.value, PATH_ATTRIBUTE, None) is not None
    assert error_path(None, raised.value).startswith(path)

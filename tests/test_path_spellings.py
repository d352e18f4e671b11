"""Every spelling of a path is that path: the token guards each spelling of a protected route, and
open routes answer theirs without a redirect. Sent over raw HTTP to a real server, since the
server's own decoding (``%2F`` to ``/``) is part of what is tested.

Also here: a client's path cannot forge a line of the text log.
"""

from __future__ import annotations

import http.client
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.wsgi.auth import is_protected
from api.wsgi.routes import ROUTES as TABLE  # tests/test_routes.py: the app serves exactly these
from tests.conftest import EXAMPLE_CONFIG
from tests.live import LiveServer, serving, wait_until

TOKEN = "path-spelling-token"
IRIS = {"sepal_length_cm": 5.1, "sepal_width_cm": 3.5, "petal_length_cm": 1.4, "petal_width_cm": 0.2}
ARGUMENTS = {"name": "iris", "version": "1", "filename": "swagger-ui.css"}


def spellings(path: str) -> list[str]:
    """Other ways to write ``path`` that a router could take for it."""
    return [
        "/" + path,
        "//" + path,
        "/%2F" + path[1:],
        "/%2f" + path[1:],
        "/." + path,
        "/x/.." + path,
        "/../.." + path,
        path.replace("/", "//"),
        path.replace("/", "/./"),
    ]


def concrete(rule: str) -> str:
    """The rule's path with its arguments filled in: ``/models/iris/1/predict``."""
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: ARGUMENTS[m.group(1)], rule)


ROUTES = sorted({(method, concrete(route.rule)) for route in TABLE for method in route.methods})
PROTECTED = [(method, path) for method, path in ROUTES if is_protected(path)]
OPEN = [(method, path) for method, path in ROUTES if not is_protected(path)]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("spellings")
    token = folder / "token"
    token.write_text(TOKEN)
    with serving(EXAMPLE_CONFIG, folder, workers=1, args=["--token-file", str(token)]) as live:
        yield live


def send(server: LiveServer, method: str, path: str, token: str | None = None) -> tuple[int, bytes, str]:
    """(status, body, Content-Type) of one request sent with ``path`` exactly as written."""
    port = int(server.url.rsplit(":", 1)[1])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    body = None
    if method == "POST":
        tensors = [{"name": k, "shape": [1], "datatype": "FP64", "data": [v]} for k, v in IRIS.items()]
        body = json.dumps({"inputs": tensors} if "v2" in path else IRIS)
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    answer = response.read()
    connection.close()
    return response.status, answer, response.getheader("Content-Type") or ""


def test_the_route_list_covers_both_protocols_and_the_open_routes() -> None:
    paths = {path for _, path in ROUTES}
    assert {"/models", "/models/iris/1/predict", "/v2/models/iris/infer", "/v2/models/iris/ready"} <= paths
    assert {"/health/live", "/metrics", "/openapi.json", "/", "/v2"} <= paths
    assert len(PROTECTED) >= 10


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_no_spelling_of_a_protected_route_passes_without_the_token(
    server: LiveServer, method: str, path: str
) -> None:
    for spelling in [path, *spellings(path)]:
        status, body, content_type = send(server, method, spelling)
        assert status == 401, f"{method} {spelling} answered {status} without the token: {body[:200]!r}"
        assert content_type == "application/json"


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_every_spelling_of_a_protected_route_serves_it_with_the_token(
    server: LiveServer, method: str, path: str
) -> None:
    expected = send(server, method, path, TOKEN)
    assert expected[0] == 200, expected[1][:300]
    for spelling in spellings(path):
        assert send(server, method, spelling, TOKEN) == expected, spelling


@pytest.mark.parametrize(("method", "path"), [route for route in OPEN if route[0] == "GET"])
def test_open_routes_answer_every_spelling_without_a_redirect(
    server: LiveServer, method: str, path: str
) -> None:
    expected_status, expected_body, _ = send(server, method, path)
    assert expected_status == 200
    for spelling in spellings(path):
        status, body, _ = send(server, method, spelling)
        assert status == 200, f"{spelling} answered {status}: {body[:200]!r}"
        if path != "/metrics":  # counts move between two scrapes
            assert body == expected_body, spelling


def test_a_path_cannot_forge_a_log_line(server: LiveServer) -> None:
    forged = "FORGED 200 model=iris"
    status, body, _ = send(server, "GET", "/health/live%0a" + forged.replace(" ", "%20") + "%1b[2J%0d")
    assert status == 404 and json.loads(body)["code"] == 404
    escaped = "/health/live\\nFORGED 200 model=iris\\x1b[2J\\r 404"
    wait_until(lambda: escaped in Path(server.log).read_text(), 10, "no escaped request line")
    lines = Path(server.log).read_text().splitlines()
    assert not any(line.startswith(forged) for line in lines)
    assert "\x1b" not in "".join(lines)

"""End to end: a real `model-registry serve` process (gunicorn) on a free loopback port."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE_CONFIG
from tests.live import chromium_or_skip, request, run_chromium, serving

PENGUIN = {
    "island": "Biscoe",
    "bill_length_mm": 48.6,
    "bill_depth_mm": 16.0,
    "flipper_length_mm": 230,
    "body_mass_g": 5800,
    "sex": "male",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Serve the example store with two workers; stopped by PID at the end."""
    with serving(EXAMPLE_CONFIG, tmp_path_factory.mktemp("server")) as live:
        yield live.url


def test_predict_over_http(server: str) -> None:
    status, body = request(f"{server}/models/penguins/stable/predict", PENGUIN)
    assert status == 200
    assert body["version"] == "1"
    assert body["predictions"][0]["label"] == "Gentoo"


def test_every_worker_serves_the_same_models(server: str) -> None:
    versions = {request(f"{server}/models/penguins/latest/predict", PENGUIN)[1]["version"] for _ in range(20)}
    assert versions == {"2"}


def test_bad_request_over_http(server: str) -> None:
    status, body = request(f"{server}/models/penguins/2/predict", {**PENGUIN, "island": "Atlantis"})
    assert status == 400
    assert body["errors"] == {"island": ["'Atlantis' is not a valid value; valid: Biscoe, Dream, Torgersen."]}


def test_metadata_and_openapi_over_http(server: str) -> None:
    assert request(f"{server}/models/diabetes/1")[1]["task"] == "regression"
    with urllib.request.urlopen(f"{server}/openapi.json", timeout=10) as response:
        assert "/models/penguins/2/predict" in json.load(response)["paths"]


def test_docs_page_renders_in_a_real_browser(server: str, tmp_path: Path) -> None:
    browser = chromium_or_skip("the docs page")
    profile = tmp_path / "profile"
    wait = "--virtual-time-budget=10000"
    dom = run_chromium(browser, profile, wait, "--dump-dom", f"{server}/docs").stdout
    # Swagger UI built the operations from /openapi.json: the page is rendered, not just served.
    assert 'class="swagger-ui' in dom
    assert "opblock-post" in dom
    for path in ["/models/penguins/2/predict", "/models/iris/1/predict", "/models/{name}/{version}/predict"]:
        assert path in dom
    screenshot = tmp_path / "docs.png"
    run_chromium(
        browser, profile, wait, "--window-size=1280,2000", f"--screenshot={screenshot}", f"{server}/docs"
    )
    assert screenshot.stat().st_size > 10_000

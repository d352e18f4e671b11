"""The home page at /: every model, version, status and feature, escaped, with working curl examples."""

from __future__ import annotations

import dataclasses
import html
import json
import re
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask.testing import FlaskClient
from PIL import Image

from api import create_app, create_app_for
from api.wsgi.state import registry_of
from registry.registry import Registry
from tests.conftest import EXAMPLE_CONFIG, FLOWER_FEATURES, PRICE_FEATURES, SHOE_FEATURES
from tests.live import chromium_or_skip, run_chromium, serving

CURL = re.compile(r'<code id="curl-[0-9-]+">(.*?)</code>', re.S)
ORIGIN = '<span class="origin"></span>'  # the page's script writes the browser's origin into it


def page(client: FlaskClient) -> str:
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


def curl_commands(text: str) -> list[list[str]]:
    """Each curl example as the shell would split it."""
    return [shlex.split(html.unescape(code.replace(ORIGIN, ""))) for code in CURL.findall(text)]


def post_like_curl(client: FlaskClient, argv: list[str]) -> Any:
    """Send what ``curl -X POST URL -H ... -d BODY`` would send, through the test client."""
    assert argv[:4] == ["curl", "-s", "-X", "POST"]
    headers = dict(argv[i + 1].split(": ", 1) for i, arg in enumerate(argv) if arg == "-H")
    body = argv[argv.index("-d") + 1]
    return client.post(urlsplit(argv[4]).path, data=body, headers=headers)


def test_home_lists_every_model_version_feature_and_category(client: FlaskClient) -> None:
    text = page(client)
    for name in ["flowers", "shoes", "prices"]:
        assert f"<h2>{name}</h2>" in text
    for title in ["flowers version 1", "flowers version 2", "shoes version 1", "prices version 1"]:
        assert f"<h3>{title}</h3>" in text
    for feature in FLOWER_FEATURES + SHOE_FEATURES + PRICE_FEATURES:
        assert f'data-label="Feature">{feature["name"]}</td>' in text
        for category in feature.get("categories", []):
            assert category in text
    assert 'data-label="Categories">red, green, blue</td>' in text
    assert 'data-label="Bounds">30 to 50</td>' in text  # shoes' size
    assert 'data-label="Bounds">≥ 0</td>' in text  # prices' area has no maximum
    assert 'data-label="Required">no</td>' in text  # shoes' material
    assert "Iris species" in text
    assert "stable → 1, latest → 2" in text
    assert "regression" in text and "classification" in text
    assert 'href="/docs"' in text and 'href="/openapi.json"' in text


def test_home_curl_examples_are_valid_requests(client: FlaskClient) -> None:
    commands = curl_commands(page(client))
    assert len(commands) == 4
    for argv in commands:
        assert argv[4].startswith("/models/")
        response = post_like_curl(client, argv)
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["predictions"]


def test_home_never_writes_the_host_header_into_the_page(client: FlaskClient) -> None:
    response = client.get("/", headers={"Host": "evil.example:666"})
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "evil.example" not in text
    assert text.count(ORIGIN) == 4


def test_home_shows_a_failed_version_with_its_reason(make_store: Callable[..., Path]) -> None:
    def break_shoes(models: dict[str, Any]) -> None:
        models["shoes"]["versions"]["1"]["sha256"] = "f" * 64

    text = page(create_app(make_store(break_shoes)).test_client())
    assert '<span class="badge failed">failed</span>' in text
    assert "Failed to load: sha256: mismatch: the config says ffff" in text
    assert "answers 503 until it loads" in text
    assert len(curl_commands(text)) == 3  # no example for the failed version


def test_home_shows_reload_failures(tiny_store: Path) -> None:
    registry = registry_of(create_app(tiny_store))
    versions = [
        dataclasses.replace(v, reload_error="artifact vanished") if v.model == "prices" else v
        for v in registry.all_versions()
    ]
    broken = dataclasses.replace(Registry.build(registry.config, versions), reload_error="bad <yaml>")
    text = page(create_app_for(broken).test_client())
    assert "the previous load still serves:\n        artifact vanished" in text
    assert "The last reload failed" in text and "bad &lt;yaml&gt;" in text


def test_home_escapes_names_and_descriptions(make_store: Callable[..., Path]) -> None:
    hostile = "<script>alert('x')</script>"

    def hostile_descriptions(models: dict[str, Any]) -> None:
        models["flowers"]["description"] = hostile
        models["shoes"]["versions"]["1"]["description"] = hostile
        models["prices"]["versions"]["1"]["features"][0] = {**PRICE_FEATURES[0], "description": hostile}

    text = page(create_app(make_store(hostile_descriptions)).test_client())
    assert hostile not in text
    assert text.count("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;") == 3
    assert text.count("<script>") == 1  # the page's own copy-button script


def test_home_token_hint_only_with_a_token(tiny_store: Path, client: FlaskClient) -> None:
    assert "Authorization" not in page(client)
    secured = create_app(tiny_store, token="s3cret-token").test_client()
    text = page(secured)  # open without a token, like /docs and /openapi.json
    assert "s3cret-token" not in text
    commands = curl_commands(text)
    assert all("Authorization: Bearer $MODEL_REGISTRY_TOKEN" in argv for argv in commands)
    argv = [arg.replace("$MODEL_REGISTRY_TOKEN", "s3cret-token") for arg in commands[0]]
    assert post_like_curl(secured, argv).status_code == 200
    assert post_like_curl(secured, commands[0]).status_code == 401


def test_home_is_not_in_the_openapi_document(client: FlaskClient) -> None:
    paths = json.loads(client.get("/openapi.json").data)["paths"]
    assert "/" not in paths


def test_home_has_no_external_assets(client: FlaskClient) -> None:
    text = page(client)
    assert not re.search(r'(src|href)="(https?:)?//', text)
    assert "<link" not in text and "@import" not in text and "url(" not in text


def test_home_page_in_a_real_browser(tmp_path: Path) -> None:
    browser = chromium_or_skip("the home page")
    profile = tmp_path / "profile"
    phone, desktop = tmp_path / "phone.png", tmp_path / "desktop.png"
    with serving(EXAMPLE_CONFIG, tmp_path, workers=1) as live:
        dom = run_chromium(browser, profile, "--dump-dom", f"{live.url}/").stdout
        for shot, size in [(phone, "390,1400"), (desktop, "1280,2000")]:
            run_chromium(browser, profile, f"--window-size={size}", f"--screenshot={shot}", f"{live.url}/")
    for title in ["iris version 1", "penguins version 1", "penguins version 2", "diabetes version 1"]:
        assert f"<h3>{title}</h3>" in dom
    assert f'curl -s -X POST <span class="origin">{live.url}</span>/models/penguins/2/predict' in dom
    assert '<button type="button" class="copy" data-copy="curl-1-1">' in dom  # the script un-hid it
    with Image.open(phone) as image:
        assert image.size == (390, 1400)
        assert_rendered_text(image.convert("RGB"))
        assert_nothing_reaches_the_right_edge(image.convert("RGB"))
    with Image.open(desktop) as image:
        assert image.size == (1280, 2000)
        assert_rendered_text(image.convert("RGB"))


def assert_rendered_text(image: Image.Image) -> None:
    """Not blank: antialiased text in many shades, dark glyphs, and the green "available" badge."""
    colours = image.getcolors(maxcolors=1 << 20)
    assert len(colours) > 100
    dark = sum(count for count, rgb in colours if max(rgb) < 100)
    green = sum(count for count, (r, g, b) in colours if g > 100 and g - r > 60 and g - b > 40)
    assert dark > 2000, "no text drawn"
    assert green > 200, "no status badge drawn"


def assert_nothing_reaches_the_right_edge(image: Image.Image) -> None:
    """The page keeps a white margin on the right: anything wider than the screen would cross it."""
    width, height = image.size
    margin = image.crop((width - 8, 0, width, height)).getcolors()
    assert margin == [(8 * height, (255, 255, 255))], "something overflows the phone's width"

"""A version owns what is built from its entry, and every prediction takes the one predict chain
(registry.chain): the API, V2 and the benchmark's floor give the same answers from the same objects."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
import yaml

from api import create_app, reload_app
from api.wsgi.state import registry_of
from bench.load.floor import floor_infer, floor_predict, load_version
from registry.loader import load_registry
from registry.reload import reload_registry
from schemas.validation import RequestValidator
from spec.config import read_config
from spec.errors import InvalidInputError

FLOWER = {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}
ROWS = [FLOWER, {**FLOWER, "petal_length": 4.9, "petal_width": 1.8}]


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """``(model, version)`` of every request validator built in this process from now on."""
    versions: list[tuple[str, str]] = []
    build = RequestValidator.__init__

    def counted(self: RequestValidator, spec: object) -> None:
        versions.append((spec.model, spec.version))  # type: ignore[attr-defined]
        build(self, spec)  # type: ignore[arg-type]

    monkeypatch.setattr(RequestValidator, "__init__", counted)
    return versions


def nested(depth: int) -> object:
    value: object = 1.0
    for _ in range(depth):
        value = [value]
    return value


def test_each_version_builds_its_validator_once_and_a_reload_that_changes_nothing_builds_none(
    tiny_store: Path, built: list[tuple[str, str]]
) -> None:
    app = create_app(tiny_store)  # the app and its docs read the versions' validators
    assert sorted(built) == [("flowers", "1"), ("flowers", "2"), ("prices", "1"), ("shoes", "1")]
    reloaded = reload_app(app)
    assert len(built) == 4
    for version in registry_of(app).all_versions():
        kept = registry_of(reloaded).resolve(version.model, version.version)
        assert kept is version and kept.validator is version.validator
    assert reloaded.test_client().post("/models/flowers/2/predict", json=FLOWER).status_code == 200


def test_a_reload_builds_a_validator_for_the_changed_version_only(
    tiny_store: Path, built: list[tuple[str, str]]
) -> None:
    before = load_registry(read_config(tiny_store))
    built.clear()
    data = yaml.safe_load(tiny_store.read_text())
    data["models"]["flowers"]["versions"]["2"]["description"] = "now described"
    tiny_store.write_text(yaml.safe_dump(data, sort_keys=False))
    after = reload_registry(before)
    assert built == [("flowers", "2")]  # loaded once here (the trial load is in a forked child)
    assert after.resolve("flowers", "2").validator is not before.resolve("flowers", "2").validator
    assert after.resolve("flowers", "1").validator is before.resolve("flowers", "1").validator


def test_a_changed_max_json_depth_applies_to_versions_a_reload_keeps(make_store: Callable[..., Path]) -> None:
    app = create_app(make_store(server={"max_json_depth": 5}))
    client = app.test_client()
    body = {**FLOWER, "petal_width": nested(6)}
    assert client.post("/models/flowers/1/predict", json=body).get_json()["message"] == (
        "The row nests deeper than 5 levels."
    )
    make_store(server={"max_json_depth": 7})  # the same versions, the same files
    reloaded = reload_app(app)
    assert registry_of(reloaded).resolve("flowers", "1") is registry_of(app).resolve("flowers", "1")
    client = reloaded.test_client()
    shallower = client.post("/models/flowers/1/predict", json=body).get_json()["message"]
    assert shallower.startswith("Invalid values: petal_width: ")  # 6 levels are now within the limit
    deeper = client.post("/models/flowers/1/predict", json={**FLOWER, "petal_width": nested(8)})
    assert deeper.get_json()["message"] == "The row nests deeper than 7 levels."


def test_the_floor_answers_what_the_server_answers(tiny_store: Path) -> None:
    client = create_app(tiny_store).test_client()
    loaded = load_version(tiny_store, "flowers", "1")
    body = {"instances": ROWS}
    served = client.post("/models/flowers/1/predict", json=body).get_json()["predictions"]
    floor = orjson.loads(floor_predict(loaded, orjson.dumps(body)))
    assert [p["label"] for p in floor] == [p["label"] for p in served]
    for ours, theirs in zip(floor, served, strict=True):
        assert ours["probabilities"] == pytest.approx(theirs["probabilities"], rel=1e-12)

    infer = {
        "inputs": [
            {"name": k, "datatype": "FP64", "shape": [2], "data": [r[k] for r in ROWS]} for k in FLOWER
        ]
    }
    served_v2 = client.post("/v2/models/flowers/versions/1/infer", json=infer).get_json()
    floor_v2 = orjson.loads(floor_infer(loaded, orjson.dumps(infer)))
    assert floor_v2["outputs"][0] == served_v2["outputs"][0]
    assert floor_v2["outputs"][1]["data"] == pytest.approx(served_v2["outputs"][1]["data"], rel=1e-12)


def test_the_floor_refuses_what_the_server_refuses(make_store: Callable[..., Path]) -> None:
    config = make_store(server={"max_json_depth": 5})
    loaded = load_version(config, "flowers", "1")
    body = {**FLOWER, "petal_width": nested(6)}
    served = create_app(config).test_client().post("/models/flowers/1/predict", json=body).get_json()
    with pytest.raises(InvalidInputError) as refused:
        floor_predict(loaded, orjson.dumps(body))
    assert refused.value.message == served["message"] == "The row nests deeper than 5 levels."

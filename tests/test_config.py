"""config.yaml parsing: every mistake is reported at once, naming model, version and key."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from spec.config import config_location, read_config
from spec.errors import ConfigError


def test_reads_models_versions_and_features_in_natural_order(tiny_store: Path) -> None:
    config = read_config(tiny_store)
    assert [m.name for m in config.models] == ["flowers", "shoes", "prices"]
    flowers = config.models[0]
    assert [v.version for v in flowers.versions] == ["1", "2"]
    assert flowers.aliases == {"stable": "1"}
    assert flowers.default_version == "1"
    shoes = config.models[1].versions[0]
    assert shoes.feature_names == ["color", "size", "material"]
    assert shoes.features[2].required is False
    assert shoes.features[0].categories == ("red", "green", "blue")
    assert config.store == (tiny_store.parent / "model_store").resolve()


def test_versions_sort_naturally(make_store: Callable[..., Path]) -> None:
    def versions(models: dict[str, Any]) -> None:
        spec = models["flowers"]["versions"]["1"]
        models["flowers"]["versions"] = {v: spec for v in ["10", "2", "1.10.0", "1.2.0"]}
        models["flowers"]["aliases"] = {}
        models["flowers"]["default_version"] = "2"

    config = read_config(make_store(versions))
    assert [v.version for v in config.models[0].versions] == ["1.2.0", "1.10.0", "2", "10"]


def _set(path: list[Any], value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(models: dict[str, Any]) -> None:
        target = models
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return edit


def _feature(model: str, index: int, key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return _set([model, "versions", "1", "features", index, key], value)


BROKEN = [
    (
        _set(["flowers", "versions", "1", "artefact"], "x"),
        "flowers/1: artefact: unknown key "
        "(allowed: added_at, artifact, description, features, sample_sha256, sha256, source, task, "
        "trusted_types)",
    ),
    (
        _set(["flowers", "colour"], "x"),
        "flowers: colour: unknown key (allowed: aliases, default_version, description, shadow, "
        "shadow_tolerance, traffic, versions)",
    ),
    (
        _feature("shoes", 0, "kind", "x"),
        "shoes/1: features[0] (color): kind: unknown key (allowed: categories, description, maximum, "
        "minimum, name, required, type)",
    ),
    (
        _feature("shoes", 0, "type", "colour"),
        "shoes/1: features[0] (color): type: must be one of number, integer, boolean, category",
    ),
    (
        _feature("shoes", 1, "categories", ["a"]),
        "shoes/1: features[1] (size): categories: only a feature of type category has categories",
    ),
    (
        _feature("shoes", 0, "categories", []),
        "shoes/1: features[0] (color): categories: must be a non-empty list of strings (or of integers)",
    ),
    (
        _feature("shoes", 0, "categories", ["red", "red"]),
        "shoes/1: features[0] (color): categories: lists a value twice",
    ),
    (
        _feature("shoes", 1, "minimum", 60),
        "shoes/1: features[1] (size): minimum: 60 is greater than maximum 50",
    ),
    (
        _feature("shoes", 1, "maximum", "big"),
        "shoes/1: features[1] (size): maximum: must be a number",
    ),
    (
        _feature("shoes", 0, "minimum", 1),
        "shoes/1: features[0] (color): minimum: only number and integer features have bounds",
    ),
    (
        _feature("shoes", 2, "required", "no"),
        "shoes/1: features[2] (material): required: must be true or false",
    ),
    (
        _feature("shoes", 1, "name", "instances"),
        "shoes/1: features[1] (instances): name: 'instances' is reserved (it names a request envelope)",
    ),
    (
        _feature("shoes", 1, "name", "color"),
        "shoes/1: features[1]: name: 'color' is declared twice",
    ),
    (
        _set(["shoes", "versions", "1", "features"], []),
        "shoes/1: features: must be a non-empty list",
    ),
    (
        _set(["shoes", "versions", "1", "artifact"], None),
        "shoes/1: artifact: must be a path inside the store",
    ),
    (
        _set(["shoes", "versions", "1", "sha256"], "abc"),
        "shoes/1: sha256: must be 64 hexadecimal digits",
    ),
    (
        _set(["shoes", "versions", "1", "task"], "clustering"),
        "shoes/1: task: must be one of classification, regression",
    ),
    (
        _set(["shoes", "versions", "1", "trusted_types"], ["ok.Type", 3]),
        "shoes/1: trusted_types: must be a list of type names such as 'module.Class'",
    ),
    (
        _set(["shoes", "versions", "1", "trusted_types"], ["sklearn.Thing"]),
        "shoes/1: trusted_types: only a .skops artifact has trusted types",
    ),
    (
        _set(["flowers", "default_version"], "7"),
        "flowers: default_version: '7' is not one of its versions",
    ),
    (
        _set(["flowers", "aliases"], {"stable": "9"}),
        "flowers: aliases: stable: '9' is not one of its versions",
    ),
    (
        _set(["flowers", "aliases"], {"latest": "1"}),
        "flowers: aliases: latest: reserved, it always means the highest version",
    ),
    (
        _set(["flowers", "aliases"], {"2": "1"}),
        "flowers: aliases: 2: is also a version name",
    ),
    (
        _set(["flowers", "versions"], {1.5: {}}),
        'flowers: versions: 1.5: must be a string such as "1" (quote version names)',
    ),
    (
        _set(["bad name!"], {"versions": {}}),
        "model 'bad name!': 'bad name!' may hold only letters, digits, '_', '.' and '-'",
    ),
]


@pytest.mark.parametrize(("edit", "problem"), BROKEN)
def test_each_mistake_is_named(make_store: Callable[..., Path], edit: Callable, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        read_config(make_store(edit))
    assert problem in caught.value.problems


def test_every_mistake_is_reported_at_once(make_store: Callable[..., Path]) -> None:
    def many(models: dict[str, Any]) -> None:
        models["flowers"]["versions"]["1"]["extra"] = 1
        models["shoes"]["versions"]["1"]["features"][0]["type"] = "colour"
        models["prices"]["versions"]["1"]["task"] = "nope"

    with pytest.raises(ConfigError) as caught:
        read_config(make_store(many))
    assert len(caught.value.problems) == 3
    assert caught.value.message.startswith(f"{caught.value.source}: 3 problem(s)\n  - flowers/1: extra")


def test_unknown_top_level_key_and_bad_server_limit(make_store: Callable[..., Path]) -> None:
    with pytest.raises(ConfigError) as caught:
        read_config(make_store(stor="x", server={"max_body_bytes": -1}))
    assert caught.value.problems == [
        "stor: unknown key (allowed: models, server, store)",
        "server: max_body_bytes: must be a positive integer",
    ]


@pytest.mark.parametrize("key", ["max_body_bytes", "load_timeout_s", "max_artifact_bytes"])
def test_server_limit_is_read(make_store: Callable[..., Path], key: str) -> None:
    assert getattr(read_config(make_store(server={key: 1234})).server, key) == 1234
    with pytest.raises(ConfigError) as caught:
        read_config(make_store(server={key: 0}))
    assert caught.value.problems == [f"server: {key}: must be a positive integer"]


def _rename_model(models: dict[str, Any]) -> None:
    models["flowers\n"] = models.pop("flowers")


def _rename_version(models: dict[str, Any]) -> None:
    versions = models["shoes"]["versions"]
    versions["1\n"] = versions.pop("1")


SHA256 = "0" * 64


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (_rename_model, "model 'flowers\\n': 'flowers\\n' may hold only"),
        (_rename_version, "shoes: versions: '1\\n': '1\\n' may hold only"),
        (
            _set(["flowers", "aliases"], {"stable\n": "1"}),
            "flowers: aliases: 'stable\\n': 'stable\\n' may hold",
        ),
        (_set(["flowers", "aliases"], {"stable": "1\n"}), "flowers: aliases: stable: '1\\n' may hold only"),
        (_set(["flowers", "default_version"], "1\n"), "flowers: default_version: '1\\n' may hold only"),
        (
            _set(["shoes", "versions", "1", "sha256"], SHA256 + "\n"),
            "shoes/1: sha256: must be 64 hexadecimal",
        ),
    ],
)
def test_a_name_or_checksum_ending_in_a_newline_is_refused(
    make_store: Callable[..., Path], edit: Callable, problem: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        read_config(make_store(edit))
    assert any(p.startswith(problem) for p in caught.value.problems), caught.value.problems


def test_the_buffer_budget_defaults_to_two_bodies_and_holds_at_least_one(
    make_store: Callable[..., Path],
) -> None:
    assert read_config(make_store(server={"max_body_bytes": 1000})).server.max_buffered_bytes == 2000
    assert read_config(make_store()).server.max_buffered_bytes == 2 * 8 * 1024 * 1024
    given = read_config(make_store(server={"max_body_bytes": 1000, "max_buffered_bytes": 1000}))
    assert given.server.max_buffered_bytes == 1000
    with pytest.raises(ConfigError) as caught:
        read_config(make_store(server={"max_body_bytes": 1000, "max_buffered_bytes": 999}))
    assert caught.value.problems == ["server: max_buffered_bytes: must be at least max_body_bytes (1000)"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("models: [", "not valid YAML"),
        ("- a list", "the file must hold a mapping with 'store' and 'models'"),
        ("store: x\nmodels: [a]\n", "models: must be a mapping of model names to models"),
    ],
)
def test_unreadable_files(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        read_config(path)
    assert caught.value.problems[0].startswith(problem)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        read_config(tmp_path / "nope.yaml")
    assert caught.value.problems[0].startswith(f"no config file at {tmp_path / 'nope.yaml'}: ")


def test_config_path_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MODEL_REGISTRY_CONFIG", raising=False)
    assert config_location() == Path("config.yaml")
    monkeypatch.setenv("MODEL_REGISTRY_CONFIG", "/srv/models.yaml")
    assert config_location() == Path("/srv/models.yaml")
    assert config_location("given.yaml") == Path("given.yaml")

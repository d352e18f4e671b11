"""Read ``config.yaml`` into frozen dataclasses, reporting every mistake with model, version and key."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from spec.errors import ConfigError
from spec.features import unknown_keys
from spec.names import as_name
from spec.names import name_problem as name_problem  # registry.registration checks names with it
from spec.traffic import TRAFFIC_KEYS, TrafficSpec, parse_traffic
from spec.version_spec import VersionSpec, parse_version
from spec.versions import sort_versions

CONFIG_ENV = "MODEL_REGISTRY_CONFIG"
LATEST = "latest"
# /models/<name>/predict predicts with the default version, so no version or alias may be called this.
RESERVED_VERSION = "predict"
RESERVED_VERSION_REASON = "reserved (the default version's predict path)"
DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024
BUFFERED_BODIES = 2  # server.max_buffered_bytes defaults to this many max_body_bytes
# Larger than any scikit-learn model we serve, small enough that a stray dump or disk image put
# where an artifact should be is refused before the master reads it.
DEFAULT_MAX_ARTIFACT_BYTES = 2 * 1024**3

_TOP_KEYS = {"store", "models", "server"}
_MODEL_KEYS = {"description", "default_version", "aliases", "versions", *TRAFFIC_KEYS}


@dataclass(frozen=True)
class ModelSpec:
    """A named model: its versions (lowest first), aliases, default version and traffic split."""

    name: str
    versions: tuple[VersionSpec, ...]
    description: str = ""
    default_version: str | None = None
    aliases: Mapping[str, str] = field(default_factory=dict)
    traffic: TrafficSpec = TrafficSpec()


@dataclass(frozen=True)
class ServerSettings:
    """Limits and policies of the HTTP server (``server:`` in the config)."""

    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES  # larger bodies get a 413
    max_rows: int = 100_000  # more rows in one request get a 413
    max_json_depth: int = 32  # deeper nesting in a body gets a 400
    timeout: int = 30  # seconds a worker may spend on one request before it is replaced
    max_connections: int = 1000  # per worker, lowered to fit the open-files limit
    max_buffered_bytes: int = BUFFERED_BODIES * DEFAULT_MAX_BODY_BYTES  # per worker: bodies and answers held
    require_sha256: bool = False  # refuse to load an artifact whose config gives no sha256
    load_timeout_s: int = 120  # seconds a new or changed artifact may take to load in its trial process
    max_artifact_bytes: int = DEFAULT_MAX_ARTIFACT_BYTES  # larger artifacts are refused unread


_SERVER_KEYS = {f.name for f in fields(ServerSettings)}


@dataclass(frozen=True)
class RegistryConfig:
    """The whole config file: where artifacts live, the models, the server's limits."""

    path: Path
    store: Path
    models: tuple[ModelSpec, ...]
    server: ServerSettings = ServerSettings()


def default_config_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The config path: ``explicit`` if given, else ``$MODEL_REGISTRY_CONFIG``, else ./config.yaml."""
    return Path(explicit or os.environ.get(CONFIG_ENV) or "config.yaml")


def read_config(path: str | os.PathLike[str]) -> RegistryConfig:
    """Parse and validate the file at ``path``; raises ``ConfigError`` listing every problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([missing_config_problem(path)], str(path)) from None
    except OSError as exc:
        raise ConfigError([f"cannot read the file: {exc.strerror or exc}"], str(path)) from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise ConfigError([f"cannot read the file as UTF-8 text: {exc}"], str(path)) from None
    try:
        data = yaml.safe_load(text)
    except (yaml.YAMLError, RecursionError) as exc:
        raise ConfigError([f"not valid YAML: {exc}"], str(path)) from None
    return parse_config(data, path)


def missing_config_problem(path: Path) -> str:
    """Where a config was looked for, and how to point elsewhere or start one."""
    return (
        f"no config file at {path.absolute()}: point to one with --config PATH or ${CONFIG_ENV} "
        "(else ./config.yaml is read), or start one with `model-registry add MODEL_FILE --model NAME`"
    )


def parse_config(data: Any, path: Path) -> RegistryConfig:
    """Validate already-parsed YAML; relative paths are taken from ``path``'s folder."""
    problems: list[str] = []
    if not isinstance(data, dict):
        raise ConfigError(["the file must hold a mapping with 'store' and 'models'"], str(path))
    unknown_keys(data, _TOP_KEYS, "", problems)
    store = data.get("store", "model_store")
    if not isinstance(store, str) or not store:
        problems.append("store: must be a folder path")
        store = "model_store"
    models = data.get("models") or {}  # none yet: an empty registry, which `add` fills
    specs: list[ModelSpec] = []
    if not isinstance(models, dict):
        problems.append("models: must be a mapping of model names to models ({} for none yet)")
    else:
        for name, model in models.items():
            spec = _parse_model(name, model, problems)
            if spec is not None:
                specs.append(spec)
    server = _parse_server(data.get("server", {}), problems)
    if problems:
        raise ConfigError(problems, str(path))
    return RegistryConfig(
        path=path,
        store=(path.parent / store).resolve(),
        models=tuple(specs),
        server=server,
    )


def _parse_server(data: Any, problems: list[str]) -> ServerSettings:
    if not isinstance(data, dict):
        problems.append("server: must be a mapping")
        return ServerSettings()
    unknown_keys(data, _SERVER_KEYS, "server: ", problems)
    settings = {}
    for setting in fields(ServerSettings):
        value = data.get(setting.name, setting.default)
        flag = isinstance(setting.default, bool)
        if type(value) is not type(setting.default) or (not flag and value < 1):
            kind = "true or false" if flag else "a positive integer"
            problems.append(f"server: {setting.name}: must be {kind}")
            value = setting.default
        settings[setting.name] = value
    if "max_buffered_bytes" not in data:
        settings["max_buffered_bytes"] = BUFFERED_BODIES * settings["max_body_bytes"]
    elif settings["max_buffered_bytes"] < settings["max_body_bytes"]:
        problems.append(
            f"server: max_buffered_bytes: must be at least max_body_bytes ({settings['max_body_bytes']})"
        )
    return ServerSettings(**settings)


def _parse_model(raw_name: Any, data: Any, problems: list[str]) -> ModelSpec | None:
    name = as_name(raw_name, f"model {raw_name!r}", problems)
    if name is None:
        return None
    if not isinstance(data, dict):
        problems.append(f"{name}: must be a mapping with 'versions'")
        return None
    unknown_keys(data, _MODEL_KEYS, f"{name}: ", problems)
    description = data.get("description", "")
    if not isinstance(description, str):
        problems.append(f"{name}: description: must be text")
        description = ""
    raw_versions = data.get("versions")
    if not isinstance(raw_versions, dict) or not raw_versions:
        problems.append(f"{name}: versions: must map version names to versions")
        return None
    names = {str(v) for v in raw_versions}
    versions: dict[str, VersionSpec] = {}
    for raw_version, version_data in raw_versions.items():
        version = as_name(raw_version, f"{name}: versions: {raw_version!r}", problems)
        if version == RESERVED_VERSION:
            problems.append(f"{name}: versions: {RESERVED_VERSION}: {RESERVED_VERSION_REASON}")
            continue
        if version is not None:
            spec = parse_version(name, version, version_data, problems)
            if spec is not None:
                versions[version] = spec
    default = data.get("default_version")
    if default is not None:
        default = as_name(default, f"{name}: default_version", problems)
        if default is not None and default not in names:
            problems.append(f"{name}: default_version: '{default}' is not one of its versions")
    aliases = _parse_aliases(name, data.get("aliases", {}), names, problems)
    traffic = parse_traffic(name, data, names, problems)
    ordered = tuple(versions[v] for v in sort_versions(versions))
    return ModelSpec(name, ordered, description, default, aliases, traffic)


def _parse_aliases(model: str, data: Any, versions: set[str], problems: list[str]) -> dict[str, str]:
    if not isinstance(data, dict):
        problems.append(f"{model}: aliases: must map alias names to versions")
        return {}
    aliases: dict[str, str] = {}
    for raw_alias, target in data.items():
        alias = as_name(raw_alias, f"{model}: aliases: {raw_alias!r}", problems)
        version = as_name(target, f"{model}: aliases: {raw_alias}", problems)
        if alias is None or version is None:
            continue
        if alias == RESERVED_VERSION:
            problems.append(f"{model}: aliases: {RESERVED_VERSION}: {RESERVED_VERSION_REASON}")
        elif alias == LATEST:
            problems.append(f"{model}: aliases: latest: reserved, it always means the highest version")
        elif alias in versions:
            problems.append(f"{model}: aliases: {alias}: is also a version name")
        elif version not in versions:
            problems.append(f"{model}: aliases: {alias}: '{version}' is not one of its versions")
        else:
            aliases[alias] = version
    return aliases

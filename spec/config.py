"""Read ``config.yaml`` into frozen dataclasses, reporting every mistake with model, version and key."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from spec.errors import ConfigError
from spec.features import unknown_keys
from spec.locations import Url, location, store_location
from spec.names import as_name
from spec.names import name_problem as name_problem  # registry.registration checks names with it
from spec.server_settings import DEFAULT_MAX_ARTIFACT_BYTES as DEFAULT_MAX_ARTIFACT_BYTES
from spec.server_settings import ServerSettings, parse_server
from spec.traffic import TRAFFIC_KEYS, TrafficSpec, parse_traffic
from spec.version_spec import VersionSpec, parse_version
from spec.versions import sort_versions

CONFIG_ENV = "MODEL_REGISTRY_CONFIG"
LATEST = "latest"
# /models/<name>/predict predicts with the default version, so no version or alias may be called this.
RESERVED_VERSION = "predict"
RESERVED_VERSION_REASON = "reserved (the default version's predict path)"

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
class RegistryConfig:
    """The whole config file: where artifacts live, the models, the server's limits.

    ``path`` and ``store`` are local paths or ``Url``s; ``tag`` names the config object's revision
    (its ETag or generation) when it was read from object storage."""

    path: Path | Url
    store: Path | Url
    models: tuple[ModelSpec, ...]
    server: ServerSettings = ServerSettings()
    tag: str | None = None


def config_location(explicit: str | os.PathLike[str] | None = None) -> Path | Url:
    """Where the config is: ``explicit`` if given, else ``$MODEL_REGISTRY_CONFIG``, else ./config.yaml;
    a URL (``s3://bucket/prefix/config.yaml``) as a ``Url``, anything else as a local ``Path``."""
    return location(explicit or os.environ.get(CONFIG_ENV) or "config.yaml")


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


def parse_config(data: Any, path: Path | Url, tag: str | None = None) -> RegistryConfig:
    """Validate already-parsed YAML; a relative ``store:`` is taken from ``path``'s folder (or prefix)."""
    problems: list[str] = []
    if not isinstance(data, dict):
        raise ConfigError(["the file must hold a mapping with 'store' and 'models'"], str(path))
    unknown_keys(data, _TOP_KEYS, "", problems)
    store = data.get("store", "model_store")
    if not isinstance(store, str) or not store:
        problems.append("store: must be a folder path or a URL")
        store = "model_store"
    try:
        store_at = store_location(store, path)
    except ValueError as exc:
        problems.append(f"store: {exc}")
        store_at = location(store)
    models = data.get("models") or {}  # none yet: an empty registry, which `add` fills
    specs: list[ModelSpec] = []
    if not isinstance(models, dict):
        problems.append("models: must be a mapping of model names to models ({} for none yet)")
    else:
        for name, model in models.items():
            spec = _parse_model(name, model, problems)
            if spec is not None:
                specs.append(spec)
    server = parse_server(data.get("server", {}), problems)
    if isinstance(store_at, Url):
        problems += [
            f"{v.model}/{v.version}: sha256: required, the store is remote ({store_at})"
            for m in specs
            for v in m.versions
            if not v.sha256
        ]
    if problems:
        raise ConfigError(problems, str(path))
    return RegistryConfig(path=path, store=store_at, models=tuple(specs), server=server, tag=tag)


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

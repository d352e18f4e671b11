"""Read ``config.yaml`` into frozen dataclasses, reporting every mistake with model, version and key."""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from spec.errors import ConfigError
from spec.features import FeatureSpec, parse_features, unknown_keys
from spec.locations import Url, location, store_location
from spec.server_settings import DEFAULT_MAX_ARTIFACT_BYTES as DEFAULT_MAX_ARTIFACT_BYTES
from spec.server_settings import ServerSettings, parse_server
from spec.versions import sort_versions

CONFIG_ENV = "MODEL_REGISTRY_CONFIG"
TASKS = ("classification", "regression")
LATEST = "latest"
# /models/<name>/predict predicts with the default version, so no version or alias may be called this.
RESERVED_VERSION = "predict"
RESERVED_VERSION_REASON = "reserved (the default version's predict path)"

# Matched with fullmatch: '$' would also accept a name ending in a newline.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_TOP_KEYS = {"store", "models", "server"}
_MODEL_KEYS = {"description", "default_version", "aliases", "versions"}
_VERSION_KEYS = {"artifact", "sha256", "task", "description", "features", "trusted_types"}
SKOPS_SUFFIX = ".skops"


@dataclass(frozen=True)
class VersionSpec:
    """What the config says one version is; nothing here has been loaded yet."""

    model: str
    version: str
    artifact: str
    features: tuple[FeatureSpec, ...]
    sha256: str | None = None
    task: str | None = None
    description: str | None = None
    # Types a .skops artifact may load beyond skops' own safe defaults (sklearn, numpy, builtins).
    trusted_types: tuple[str, ...] = ()

    @property
    def feature_names(self) -> list[str]:
        return [f.name for f in self.features]

    @functools.cached_property  # read by every V2 request
    def integer_coded_features(self) -> tuple[FeatureSpec, ...]:
        """The categories coded as integers, in feature order."""
        return tuple(f for f in self.features if f.integer_coded)


@dataclass(frozen=True)
class ModelSpec:
    """A named model: its versions (lowest first), aliases and default version."""

    name: str
    versions: tuple[VersionSpec, ...]
    description: str = ""
    default_version: str | None = None
    aliases: Mapping[str, str] = field(default_factory=dict)


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


def default_config_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The config path: ``explicit`` if given, else ``$MODEL_REGISTRY_CONFIG``, else ./config.yaml."""
    return Path(explicit or os.environ.get(CONFIG_ENV) or "config.yaml")


def config_location(explicit: str | os.PathLike[str] | None = None) -> Path | Url:
    """Like ``default_config_path``, but a URL (``s3://bucket/prefix/config.yaml``) stays a ``Url``."""
    return location(explicit or os.environ.get(CONFIG_ENV) or "config.yaml")


def read_config(path: str | os.PathLike[str]) -> RegistryConfig:
    """Parse and validate the file at ``path``; raises ``ConfigError`` listing every problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"cannot read the file: {exc.strerror or exc}"], str(path)) from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise ConfigError([f"cannot read the file as UTF-8 text: {exc}"], str(path)) from None
    try:
        data = yaml.safe_load(text)
    except (yaml.YAMLError, RecursionError) as exc:
        raise ConfigError([f"not valid YAML: {exc}"], str(path)) from None
    return parse_config(data, path)


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
    models = data.get("models")
    specs: list[ModelSpec] = []
    if not isinstance(models, dict) or not models:
        problems.append("models: must be a mapping of model names to models")
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


def _as_name(value: Any, what: str, problems: list[str]) -> str | None:
    """Version keys and alias targets may be written unquoted as integers; floats are ambiguous."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        problems.append(f'{what}: must be a string such as "1" (quote version names)')
        return None
    text = str(value)
    problem = name_problem(text, what)
    if problem:
        problems.append(problem)
        return None
    return text


def name_problem(text: str, what: str) -> str | None:
    """Why ``text`` cannot name a model, version or alias (``what`` says which), or None."""
    if not _NAME.fullmatch(text):
        return f"{what}: {text!r} may hold only letters, digits, '_', '.' and '-'"
    return None


def _parse_model(raw_name: Any, data: Any, problems: list[str]) -> ModelSpec | None:
    name = _as_name(raw_name, f"model {raw_name!r}", problems)
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
        version = _as_name(raw_version, f"{name}: versions: {raw_version!r}", problems)
        if version == RESERVED_VERSION:
            problems.append(f"{name}: versions: {RESERVED_VERSION}: {RESERVED_VERSION_REASON}")
            continue
        if version is not None:
            spec = _parse_version(name, version, version_data, problems)
            if spec is not None:
                versions[version] = spec
    default = data.get("default_version")
    if default is not None:
        default = _as_name(default, f"{name}: default_version", problems)
        if default is not None and default not in names:
            problems.append(f"{name}: default_version: '{default}' is not one of its versions")
    aliases = _parse_aliases(name, data.get("aliases", {}), names, problems)
    ordered = tuple(versions[v] for v in sort_versions(versions))
    return ModelSpec(name, ordered, description, default, aliases)


def _parse_aliases(model: str, data: Any, versions: set[str], problems: list[str]) -> dict[str, str]:
    if not isinstance(data, dict):
        problems.append(f"{model}: aliases: must map alias names to versions")
        return {}
    aliases: dict[str, str] = {}
    for raw_alias, target in data.items():
        alias = _as_name(raw_alias, f"{model}: aliases: {raw_alias!r}", problems)
        version = _as_name(target, f"{model}: aliases: {raw_alias}", problems)
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


def _parse_version(model: str, version: str, data: Any, problems: list[str]) -> VersionSpec | None:
    where = f"{model}/{version}: "
    if not isinstance(data, dict):
        problems.append(f"{where}must be a mapping with 'artifact' and 'features'")
        return None
    before = len(problems)
    unknown_keys(data, _VERSION_KEYS, where, problems)
    artifact = data.get("artifact")
    if not isinstance(artifact, str) or not artifact:
        problems.append(f"{where}artifact: must be a path inside the store")
    sha256 = data.get("sha256")
    if sha256 is not None and (not isinstance(sha256, str) or not _SHA256.fullmatch(sha256.lower())):
        problems.append(f"{where}sha256: must be 64 hexadecimal digits")
    task = data.get("task")
    if task is not None and task not in TASKS:
        problems.append(f"{where}task: must be one of {', '.join(TASKS)}")
    description = data.get("description")
    if description is not None and not isinstance(description, str):
        problems.append(f"{where}description: must be text")
    features = parse_features(where, data.get("features"), problems)
    trusted_types = _parse_trusted_types(where, artifact, data.get("trusted_types"), problems)
    if len(problems) > before:
        return None
    return VersionSpec(
        model=model,
        version=version,
        artifact=artifact,
        features=features,
        sha256=sha256.lower() if sha256 else None,
        task=task,
        description=description,
        trusted_types=trusted_types,
    )


def _parse_trusted_types(where: str, artifact: Any, data: Any, problems: list[str]) -> tuple[str, ...]:
    if data is None:
        return ()
    if not (isinstance(data, list) and all(isinstance(t, str) and t for t in data)):
        problems.append(f"{where}trusted_types: must be a list of type names such as 'module.Class'")
        return ()
    if isinstance(artifact, str) and not artifact.endswith(SKOPS_SUFFIX):
        problems.append(f"{where}trusted_types: only a {SKOPS_SUFFIX} artifact has trusted types")
    return tuple(data)

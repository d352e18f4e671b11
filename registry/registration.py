"""Register a fitted estimator as a new version: plan the entry, then write it, check it, and undo
everything if the new version does not load.

Planning reads the artifact and the config but changes nothing; ``apply_addition`` is the only step
that writes, and it leaves the config file and the store as they were when the version fails.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

import yaml

from registry.addition_inputs import (
    USAGE,
    AdditionRefused,
    arguments_checked,
    estimator_of,
    features_of,
    trusted_types_of,
)
from registry.bounds import DEFAULT_BOUNDS
from registry.config_edit import NEW_CONFIG, EditedConfig, VersionEntry, add_version
from registry.config_source import ConfigText, read_config_text
from registry.estimator_checks import infer_task
from registry.loader import load_registry, load_version, sha256_of
from registry.registry import ModelVersion
from registry.store_write import StagedCopy, stage_copy
from registry.stores import exists
from spec.config import (
    ModelSpec,
    RegistryConfig,
    VersionSpec,
    parse_config,
    read_config,
)
from spec.errors import ConfigError
from spec.facts import utc_timestamp
from spec.locations import Url


@dataclass(frozen=True)
class Addition:
    """A planned version: where it goes, what it says, and the config text before (None when the
    file does not exist yet) and after; ``bounds`` is the rule the sample's bounds were set by."""

    config: RegistryConfig
    source: Path
    model: str
    version: str
    entry: VersionEntry
    new_model: bool
    model_description: str | None
    original: bytes | None
    edited: EditedConfig
    bounds: str = DEFAULT_BOUNDS
    explicit_version: bool = True  # given with --version; else chosen, and chosen again on a conflict
    description: str | None = None  # --description, for a model that is new when planned again


def plan_addition(
    config_path: Path | Url,
    source: Path,
    model: str,
    version: str | None = None,
    sample: Path | None = None,
    description: str | None = None,
    trust_types: bool = False,
    bounds: str = DEFAULT_BOUNDS,
) -> Addition:
    """Everything ``add`` will write, inferred from the artifact (and the sample, its bounds set by
    the ``bounds`` rule); changes nothing. A config file that does not exist is planned as a new one.

    Every argument is checked before the artifact is unpickled, so a usage error never runs its code.
    """
    read = _read(config_path)
    arguments_checked(source, model, version, sample)
    placed = replan(read, source, model, version, description, bounds=bounds)
    data = source.read_bytes()
    config = read.config
    trusted = trusted_types_of(source, data, trust_types)
    estimator = estimator_of(source, model, placed.version, data, trusted, config.server.load_timeout_s)
    features = features_of(estimator, sample, bounds)
    entry = VersionEntry(
        placed.entry.artifact,
        sha256_of(data),
        features,
        infer_task(estimator),
        trusted,
        added_at=utc_timestamp(dt.datetime.now(dt.UTC)),
        source=source.name,
        sample_sha256=_file_sha256(sample) if sample is not None else None,
    )
    return replan(read, source, model, version, description, entry, bounds)


def replan(
    read: ConfigText,
    source: Path,
    model: str,
    version: str | None,
    description: str | None,
    entry: VersionEntry | None = None,
    bounds: str = DEFAULT_BOUNDS,
) -> Addition:
    """Where the version goes in the config ``read`` and the edited text: ``entry`` (None: a
    placeholder, before the artifact is read) at ``version``, or at the next free one."""
    config = read.config
    existing = next((m for m in config.models if m.name == model), None)
    chosen = version or next_version(existing)
    remote = isinstance(config.store, Url)
    while remote and version is None and _artifact_exists(config.store, f"{model}/{chosen}/{source.name}"):
        chosen = str(int(chosen) + 1)  # another add's artifact, whose config is not written yet
    if existing is not None and chosen in {v.version for v in existing.versions}:
        raise AdditionRefused(
            USAGE,
            f"{model}/{chosen} already exists; versions are never overwritten (give another --version)",
        )
    relative = f"{model}/{chosen}/{source.name}"
    if _artifact_exists(config.store, relative):
        raise AdditionRefused(
            USAGE, f"{_join(config.store, relative)} already exists; add never overwrites it"
        )
    entry = dataclasses.replace(entry or VersionEntry(relative, "0" * 64, ()), artifact=relative)
    new_description = None if existing else (description or f"{model} (registered with model-registry add)")
    edited = _edit(config.path, read.data, model, chosen, entry, new_description) if entry.features else None
    return Addition(
        config,
        source,
        model,
        chosen,
        entry,
        existing is None,
        new_description,
        read.data,
        edited,  # type: ignore[arg-type]  # only the placeholder has none
        bounds,
        explicit_version=version is not None,
        description=description,
    )


def _join(store: Path | Url, relative: str) -> Path | Url:
    return store.child(relative) if isinstance(store, Url) else store / relative


def _artifact_exists(store: Path | Url, relative: str) -> bool:
    return exists(store.child(relative)) if isinstance(store, Url) else (store / relative).exists()


def next_version(model: ModelSpec | None) -> str:
    """One more than the highest integer version, "1" for a new model."""
    numbers = [int(v.version) for v in model.versions if v.version.isdigit()] if model else []
    return str(max(numbers, default=0) + 1)


def check_in_place(addition: Addition) -> ModelVersion:
    """The new version loaded from where the artifact is now, the way ``check`` would load it."""
    spec = _new_spec(addition)
    source = addition.source.resolve()
    return load_version(
        dataclasses.replace(spec, artifact=source.name), source.parent, addition.config.server
    )


def apply_addition(addition: Addition) -> ModelVersion:
    """Copy the artifact, write the config, load it all; undo both when the new version fails.
    (A config or store at a URL is published instead: ``registry.publish``.)"""
    path = addition.config.path
    staged = stage_copy(addition.source, addition.config.store, addition.entry.artifact)
    try:
        path.write_text(addition.edited.text, encoding="utf-8")
        registry = load_registry(read_config(path))
        loaded = registry.resolve(addition.model, addition.version)
    except BaseException:
        _undo(addition, staged)
        raise
    if not loaded.is_available:
        _undo(addition, staged)
    return loaded


def _undo(addition: Addition, staged: StagedCopy) -> None:
    if addition.original is None:
        addition.config.path.unlink(missing_ok=True)
    else:
        addition.config.path.write_bytes(addition.original)
    staged.undo()


def _new_config(config_path: Path) -> RegistryConfig:
    """The empty registry a config file that does not exist yet starts as (its folder must exist)."""
    if not config_path.parent.is_dir():
        raise AdditionRefused(USAGE, f"{config_path}: no such folder to create the config file in")
    return parse_config(yaml.safe_load(NEW_CONFIG), config_path)


def _file_sha256(path: Path) -> str:
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def _read(config_path: Path | Url) -> ConfigText:
    """The config as read; a local file that does not exist yet is planned as a new, empty one."""
    if isinstance(config_path, Path) and not config_path.exists():
        return ConfigText(_new_config(config_path), None)
    try:
        return read_config_text(config_path)
    except ConfigError as exc:
        raise AdditionRefused(USAGE, exc.message) from None


def _edit(
    path: Path | Url,
    original: bytes | None,
    model: str,
    version: str,
    entry: VersionEntry,
    description: str | None,
) -> EditedConfig:
    """The edited text, validated exactly as the server will read it (``original`` None: a new file)."""
    text = NEW_CONFIG if original is None else original.decode("utf-8")
    try:
        edited = add_version(text, model, version, entry, description)
        parse_config(yaml.safe_load(edited.text), path)
    except ConfigError as exc:
        raise AdditionRefused(USAGE, exc.message) from None
    except ValueError as exc:
        raise AdditionRefused(USAGE, f"{path}: {exc}") from None
    return edited


def _new_spec(addition: Addition) -> VersionSpec:
    config = parse_config(yaml.safe_load(addition.edited.text), addition.config.path)
    model = next(m for m in config.models if m.name == addition.model)
    return next(v for v in model.versions if v.version == addition.version)

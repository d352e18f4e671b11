"""Register a fitted estimator as a new version: plan the entry, then write it, check it, and undo
everything if the new version does not load.

Planning reads the artifact and the config but changes nothing; ``apply_addition`` is the only step
that writes, and it leaves the config file and the store as they were when the version fails.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from registry.config_edit import EditedConfig, VersionEntry, add_version
from registry.config_source import ConfigText, read_config_text
from registry.estimator_checks import infer_task
from registry.isolation import IsolationFailure, exception_text, run_isolated
from registry.loader import deserialize, load_registry, load_version, sha256_of
from registry.registry import ModelVersion
from registry.sample_columns import SampleError, check_sample_path, read_sample
from registry.signature import SignatureError, infer_features
from registry.skops_artifact import untrusted_types
from registry.store_write import StagedCopy, stage_copy
from registry.stores import exists
from spec.config import (
    RESERVED_VERSION,
    RESERVED_VERSION_REASON,
    SKOPS_SUFFIX,
    ModelSpec,
    RegistryConfig,
    VersionSpec,
    name_problem,
    parse_config,
    read_config,
)
from spec.errors import ArtifactError, ConfigError
from spec.locations import Url

USAGE = "usage"  # the request cannot be carried out as given (exit 2)
UNUSABLE = "unusable"  # the artifact is no model that could be served (exit 1)


class AdditionRefused(Exception):
    """Nothing was changed; ``kind`` is USAGE or UNUSABLE and ``message`` says why."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind, self.message = kind, message


@dataclass(frozen=True)
class Addition:
    """A planned version: where it goes, what it says, and the config text before and after."""

    config: RegistryConfig
    source: Path
    model: str
    version: str
    entry: VersionEntry
    new_model: bool
    model_description: str | None
    original: bytes
    edited: EditedConfig
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
) -> Addition:
    """Everything ``add`` will write, inferred from the artifact (and the sample); changes nothing.

    Every argument is checked before the artifact is unpickled, so a usage error never runs its code.
    """
    read = _read(config_path)
    _check_arguments(source, model, version, sample)
    placed = replan(read, source, model, version, description)
    data = source.read_bytes()
    config = read.config
    trusted = _trusted_types(source, data, trust_types)
    estimator = _estimator(source, model, placed.version, data, trusted, config.server.load_timeout_s)
    features = _features(estimator, sample)
    entry = VersionEntry(placed.entry.artifact, sha256_of(data), features, infer_task(estimator), trusted)
    return replan(read, source, model, version, description, entry)


def replan(
    read: ConfigText,
    source: Path,
    model: str,
    version: str | None,
    description: str | None,
    entry: VersionEntry | None = None,
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
    addition.config.path.write_bytes(addition.original)
    staged.undo()


def _read(config_path: Path | Url) -> ConfigText:
    try:
        return read_config_text(config_path)
    except ConfigError as exc:
        raise AdditionRefused(USAGE, exc.message) from None


def _trusted_types(source: Path, data: bytes, trust_types: bool) -> tuple[str, ...]:
    if source.suffix != SKOPS_SUFFIX:
        return ()
    try:
        needed = untrusted_types(data)
    except Exception as exc:  # a broken archive can raise anything
        raise AdditionRefused(UNUSABLE, f"{source}: cannot be read by skops: {exc}") from None
    if needed and not trust_types:
        raise AdditionRefused(
            USAGE,
            f"{source} needs types that skops does not trust by default: {', '.join(needed)}. "
            "Nothing was loaded or changed; if you trust this file, run add again with --trust-types "
            "to load it and record them as trusted_types.",
        )
    return tuple(needed)


def _check_arguments(source: Path, model: str, version: str | None, sample: Path | None) -> None:
    problem = name_problem(model, "--model")
    if version is not None:
        problem = problem or name_problem(version, "--version")
        if version == RESERVED_VERSION:
            problem = problem or f"{model}: versions: {version}: {RESERVED_VERSION_REASON}"
    if problem:
        raise AdditionRefused(USAGE, problem)
    if not source.is_file():
        raise AdditionRefused(USAGE, f"{source}: no such file")
    try:
        if sample is not None:
            check_sample_path(sample)
    except SampleError as exc:
        raise AdditionRefused(USAGE, f"--sample: {exc}") from None


def _estimator(
    source: Path, model: str, version: str, data: bytes, trusted: tuple[str, ...], timeout_s: int
) -> Any:
    """The estimator in ``data``, unpickled here only after a forked child did so and survived."""
    spec = VersionSpec(model, version, source.name, (), trusted_types=trusted)

    def step() -> dict[str, Any]:
        try:
            _unpickle(source, spec, data)
        except AdditionRefused as exc:
            return {"reason": exc.message}
        return {"reason": None}

    try:
        reason = run_isolated(step, timeout_s).get("reason")
    except IsolationFailure as exc:
        raise AdditionRefused(UNUSABLE, f"{source}: {exc}") from None
    if reason:
        raise AdditionRefused(UNUSABLE, str(reason))
    return _unpickle(source, spec, data)


def _unpickle(source: Path, spec: VersionSpec, data: bytes) -> Any:
    try:
        estimator, _ = deserialize(spec, data)
    except ArtifactError as exc:
        raise AdditionRefused(UNUSABLE, f"{source}: {exc.reason}") from None
    except BaseException as exc:  # noqa: B036 - an artifact's SystemExit is its fault, not ours
        raise AdditionRefused(UNUSABLE, f"{source}: cannot be loaded: {exception_text(exc)}") from None
    if not callable(getattr(estimator, "predict", None)):
        raise AdditionRefused(
            UNUSABLE, f"{source}: holds a {type(estimator).__name__}, not an estimator (it has no predict)"
        )
    return estimator


def _features(estimator: Any, sample: Path | None) -> Any:
    try:
        wanted = getattr(estimator, "feature_names_in_", None)
        columns = None if wanted is None else [str(n) for n in wanted]
        frame = read_sample(sample, columns) if sample is not None else None
        return infer_features(estimator, frame)
    except (SampleError, SignatureError) as exc:
        raise AdditionRefused(USAGE, f"cannot infer the features: {exc}") from None


def _edit(
    path: Path | Url, original: bytes, model: str, version: str, entry: VersionEntry, description: str | None
) -> EditedConfig:
    """The edited text, validated exactly as the server will read it."""
    try:
        edited = add_version(original.decode("utf-8"), model, version, entry, description)
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

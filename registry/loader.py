"""Load every configured version once: resolve its file inside the store, verify, unpickle, check.

A version that fails is kept with its ``reason`` set; it never stops the others from loading, and
nothing reading or unpickling the file does (raise anything, exit, crash, hang) escapes ``load_version``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import itertools
import logging
import os
import stat
import warnings
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

import joblib
import sklearn
from sklearn.exceptions import InconsistentVersionWarning

from registry.artifact_cache import local_copy
from registry.estimator_checks import class_path, estimator_problems, final_estimator, infer_task
from registry.inference import Predictor
from registry.isolation import IsolationFailure, Trial, exception_text, finish_isolated, start_isolated
from registry.registry import ArtifactInfo, ModelVersion, Registry
from registry.skops_artifact import UntrustedTypesError, load_skops
from spec.config import RegistryConfig, ServerSettings, VersionSpec
from spec.errors import ArtifactError
from spec.locations import Url
from spec.version_spec import SKOPS_SUFFIX

DEFAULT_SETTINGS = ServerSettings()
log = logging.getLogger(__name__)


def load_registry(config: RegistryConfig) -> Registry:
    """Load every version in ``config`` and return the registry that serves them."""
    specs = [spec for model in config.models for spec in model.versions]
    return Registry.build(config, load_versions(specs, config.store, config.server))


def load_version(
    spec: VersionSpec, store: Path | Url, settings: ServerSettings = DEFAULT_SETTINGS
) -> ModelVersion:
    """The loaded version, or one marked failed with the reason (model, version and key named).

    Never raises, and nothing the artifact does ends this process: it is first loaded and checked in
    a forked child (``registry.isolation``), so an exit, a crash or a hang there fails the version;
    only an artifact the child loaded is loaded here, where even ``SystemExit`` is caught.
    """
    return load_versions([spec], store, settings)[0]


def load_versions(
    specs: Iterable[VersionSpec], store: Path | Url, settings: ServerSettings = DEFAULT_SETTINGS
) -> list[ModelVersion]:
    """Each version as ``load_version`` loads it, in order.

    The trial loads run ahead, as many at once as there are cores: while this process loads one
    version, the children try the next, so the trials add little to the time a store takes to load.
    """
    pending = iter(specs)
    started = deque(_start(spec, store, settings) for spec in itertools.islice(pending, os.cpu_count() or 1))
    versions = []
    while started:
        versions.append(_logged(_complete(started.popleft(), store, settings)))
        started.extend(_start(spec, store, settings) for spec in itertools.islice(pending, 1))
    return versions


@dataclass(frozen=True)
class _Started:
    """A version whose file was verified and whose trial load runs in a child."""

    spec: VersionSpec
    digest: str
    trial: Trial


def _logged(version: ModelVersion) -> ModelVersion:
    if version.reason:
        fields = {"model": version.model, "version": version.version, "status": "failed"}
        log.warning(
            "%s/%s failed to load: %s",
            version.model,
            version.version,
            version.reason,
            extra={"event": "load", **fields, "reason": version.reason},
        )
    return version


def _guarded(spec: VersionSpec, load: Callable[[], Any]) -> Any:
    """What ``load`` returns, or the version failed with whatever it raised as the reason."""
    try:
        return load()
    except ArtifactError as exc:
        return ModelVersion(spec, reason=f"{exc.key}: {exc.reason}")
    except BaseException as exc:  # noqa: B036 - an artifact's SystemExit must not end the server
        return ModelVersion(spec, reason=f"artifact: cannot be loaded: {exception_text(exc)}")


def _start(spec: VersionSpec, store: Path | Url, settings: ServerSettings) -> _Started | ModelVersion:
    """The version's trial load, started; or the version failed before any of it is unpickled."""

    def start() -> _Started:
        if settings.require_sha256 and not spec.sha256:
            raise _error(spec, "sha256", "missing, and server.require_sha256 is set")
        digest = artifact_digest(spec, store, settings.max_artifact_bytes)

        def step() -> dict[str, Any]:
            version = _guarded(spec, lambda: _load_checked(spec, store, settings, digest))
            facts = dataclasses.asdict(version.artifact) if version.artifact else None
            return {"reason": version.reason, "artifact": facts}

        return _Started(spec, digest, start_isolated(step, settings.load_timeout_s))

    return _guarded(spec, start)


def _complete(started: _Started | ModelVersion, store: Path | Url, settings: ServerSettings) -> ModelVersion:
    """The version loaded here once its trial succeeded; else failed with the trial's reason."""
    if isinstance(started, ModelVersion):
        return started

    def complete() -> ModelVersion:
        failed = _trial_verdict(started)
        return failed if failed is not None else _load_checked(started.spec, store, settings, started.digest)

    return _guarded(started.spec, complete)


def _trial_verdict(started: _Started) -> ModelVersion | None:
    """The version failed as the forked child found it (its reason and artifact facts), or ``None``
    when the child loaded it (no version is built for a trial that succeeded)."""
    spec = started.spec
    try:
        verdict = finish_isolated(started.trial)
    except IsolationFailure as exc:
        raise _error(spec, "artifact", str(exc)) from None
    reason = verdict.get("reason")
    if not reason:
        return None
    return ModelVersion(spec, artifact=_artifact_info(verdict.get("artifact")), reason=str(reason))


def _artifact_info(facts: Any) -> ArtifactInfo | None:
    try:
        return ArtifactInfo(**facts) if isinstance(facts, dict) else None
    except TypeError:  # not the facts the step sends: the artifact wrote to the pipe itself
        return None


def _load_checked(
    spec: VersionSpec, store: Path | Url, settings: ServerSettings, digest: str
) -> ModelVersion:
    estimator, artifact = _load_artifact(spec, store, settings.max_artifact_bytes, digest)
    problems = estimator_problems(spec, estimator)
    if problems:
        return ModelVersion(spec, artifact=artifact, reason="; ".join(problems))
    task = spec.task or infer_task(estimator)
    labels = _labels(estimator) if task == "classification" else None
    return ModelVersion(spec, artifact=artifact, predictor=Predictor(spec, estimator, task, labels))


def resolve_artifact(spec: VersionSpec, store: Path) -> Path:
    """The artifact's real path, refusing absolute paths, '..' and links that lead out of the store."""
    relative = PurePosixPath(spec.artifact)
    if relative.is_absolute() or Path(spec.artifact).is_absolute():
        raise _error(spec, "artifact", f"'{spec.artifact}' is absolute; give a path inside the store")
    if ".." in relative.parts:
        raise _error(spec, "artifact", f"'{spec.artifact}' contains '..'; it must stay inside the store")
    root = store.resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root):
        raise _error(spec, "artifact", f"'{spec.artifact}' leads outside the store")
    if not path.is_file():
        raise _error(spec, "artifact", f"no file at '{spec.artifact}' in the store")
    return path


def artifact_digest(spec: VersionSpec, store: Path | Url, max_bytes: int) -> str:
    """The artifact's sha256, read in small blocks (never the whole file at once), checked against
    the config's; an artifact over ``max_bytes`` is refused unread."""
    with open_artifact(spec, store, max_bytes) as file:
        digest = hashlib.file_digest(file, "sha256").hexdigest()
    if spec.sha256 and digest != spec.sha256:
        raise _error(spec, "sha256", f"mismatch: the config says {spec.sha256}, the file is {digest}")
    return digest


def open_artifact(spec: VersionSpec, store: Path | Url, max_bytes: int) -> BinaryIO:
    """The artifact opened without blocking (from a remote store: its verified local copy, fetched
    once into the cache, ``registry.artifact_cache``): a FIFO or device put where the file should be is
    refused, not waited on (``open`` of a FIFO blocks until a writer comes), and so is a file
    larger than ``max_bytes``."""
    path = local_copy(spec, store, max_bytes) if isinstance(store, Url) else resolve_artifact(spec, store)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise _error(spec, "artifact", f"cannot be read: {exc.strerror or exc}") from None
    file = os.fdopen(fd, "rb")
    status = os.fstat(fd)
    if not stat.S_ISREG(status.st_mode):
        file.close()
        raise _error(spec, "artifact", f"'{spec.artifact}' is not a regular file")
    if status.st_size > max_bytes:
        file.close()
        raise _too_large(spec, status.st_size, max_bytes)
    return file


def read_artifact(spec: VersionSpec, store: Path | Url, max_bytes: int) -> bytes:
    """The artifact's bytes, at most ``max_bytes`` of them (a file that grew past it is refused)."""
    with open_artifact(spec, store, max_bytes) as file:
        data = file.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise _too_large(spec, len(data), max_bytes)
    return data


def sha256_of(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def _load_artifact(
    spec: VersionSpec, store: Path | Url, max_bytes: int, digest: str
) -> tuple[Any, ArtifactInfo]:
    data = read_artifact(spec, store, max_bytes)
    # Unpickling runs code from the file, so the bytes loaded must be the ones whose digest was checked.
    if sha256_of(data) != digest:
        raise _error(spec, "artifact", "changed while it was being loaded; reload again")
    estimator, pickled_with = deserialize(spec, data)
    final = final_estimator(estimator)
    info = ArtifactInfo(
        path=spec.artifact,
        sha256=digest,
        size_bytes=len(data),
        sklearn_version=pickled_with,
        estimator_type=class_path(estimator),
        final_estimator=class_path(final),
    )
    return estimator, info


def deserialize(spec: VersionSpec, data: bytes) -> tuple[Any, str]:
    """The object in ``data`` (skops for a .skops artifact, else joblib) and the scikit-learn version
    that saved it (sklearn warns when it differs from ours)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", InconsistentVersionWarning)
        estimator = _read_object(spec, data)
    for warning in caught:
        if isinstance(warning.message, InconsistentVersionWarning):
            return estimator, warning.message.original_sklearn_version
    return estimator, sklearn.__version__


def _read_object(spec: VersionSpec, data: bytes) -> Any:
    if spec.artifact.endswith(SKOPS_SUFFIX):
        try:
            return load_skops(data, spec.trusted_types)
        except UntrustedTypesError as exc:
            raise _error(spec, "trusted_types", str(exc)) from None
        except Exception as exc:  # a broken archive can raise anything
            raise _error(spec, "artifact", f"cannot be read by skops: {type(exc).__name__}: {exc}") from None
    try:
        return joblib.load(io.BytesIO(data))
    except Exception as exc:  # a broken pickle can raise anything
        raise _error(spec, "artifact", f"cannot be unpickled: {type(exc).__name__}: {exc}") from None


def _labels(estimator: Any) -> tuple[Any, ...] | None:
    classes = getattr(estimator, "classes_", None)
    return tuple(classes.tolist()) if classes is not None else None


def _too_large(spec: VersionSpec, size: int, max_bytes: int) -> ArtifactError:
    return _error(spec, "artifact", f"{size} bytes, over server.max_artifact_bytes ({max_bytes}); not read")


def _error(spec: VersionSpec, key: str, reason: str) -> ArtifactError:
    return ArtifactError(spec.model, spec.version, key, reason)

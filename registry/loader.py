"""Load every configured version once: resolve its file inside the store, verify, unpickle, check.

A version that fails is kept with its ``reason`` set; it never stops the others from loading, and
no exception, whatever reading or unpickling the file raises, escapes ``load_version``.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import stat
import warnings
from pathlib import Path, PurePosixPath
from typing import Any

import joblib
import sklearn
from sklearn.exceptions import InconsistentVersionWarning

from registry.estimator_checks import estimator_problems, final_estimator, infer_task
from registry.inference import Predictor
from registry.registry import ArtifactInfo, ModelVersion, Registry
from registry.skops_artifact import UntrustedTypesError, load_skops
from spec.config import SKOPS_SUFFIX, RegistryConfig, ServerSettings, VersionSpec
from spec.errors import ArtifactError

DEFAULT_SETTINGS = ServerSettings()
log = logging.getLogger(__name__)


def load_registry(config: RegistryConfig) -> Registry:
    """Load every version in ``config`` and return the registry that serves them."""
    versions = [
        load_version(spec, config.store, config.server) for model in config.models for spec in model.versions
    ]
    return Registry.build(config, versions)


def load_version(spec: VersionSpec, store: Path, settings: ServerSettings = DEFAULT_SETTINGS) -> ModelVersion:
    """The loaded version, or one marked failed with the reason (model, version and key named).

    Never raises: a fault of any kind (a file that cannot be read, a path the OS refuses, a pickle
    that raises while loading, an estimator that breaks our checks) becomes the version's reason.
    """
    try:
        version = _load_checked(spec, store, settings)
    except ArtifactError as exc:
        version = ModelVersion(spec, reason=f"{exc.key}: {exc.reason}")
    except Exception as exc:  # anything else is a fault of this version alone, not of the server
        version = ModelVersion(spec, reason=f"artifact: cannot be loaded: {type(exc).__name__}: {exc}")
    if version.reason:
        fields = {"model": spec.model, "version": spec.version, "status": "failed", "reason": version.reason}
        log.warning(
            "%s/%s failed to load: %s",
            spec.model,
            spec.version,
            version.reason,
            extra={"event": "load", **fields},
        )
    return version


def _load_checked(spec: VersionSpec, store: Path, settings: ServerSettings) -> ModelVersion:
    if settings.require_sha256 and not spec.sha256:
        raise _error(spec, "sha256", "missing, and server.require_sha256 is set")
    estimator, artifact = _load_artifact(spec, store)
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
        raise _error(spec, "artifact", f"'{spec.artifact}' leads outside the store {root}")
    if not path.is_file():
        raise _error(spec, "artifact", f"no file at {path}")
    return path


def read_artifact(spec: VersionSpec, store: Path) -> bytes:
    """The artifact's bytes, read without blocking: a FIFO or device put where the file should be is
    refused, not waited on (``open`` of a FIFO blocks until a writer comes)."""
    path = resolve_artifact(spec, store)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise _error(spec, "artifact", f"cannot be read: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as file:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise _error(spec, "artifact", f"{path} is not a regular file")
        return file.read()


def sha256_of(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def _load_artifact(spec: VersionSpec, store: Path) -> tuple[Any, ArtifactInfo]:
    data = read_artifact(spec, store)
    digest = sha256_of(data)
    # Unpickling runs code from the file, so the checksum is verified first, on the very bytes loaded.
    if spec.sha256 and digest != spec.sha256:
        raise _error(spec, "sha256", f"mismatch: the config says {spec.sha256}, the file is {digest}")
    estimator, pickled_with = deserialize(spec, data)
    final = final_estimator(estimator)
    info = ArtifactInfo(
        path=spec.artifact,
        sha256=digest,
        size_bytes=len(data),
        sklearn_version=pickled_with,
        estimator_type=_qualified_name(estimator),
        final_estimator=_qualified_name(final),
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


def _qualified_name(obj: Any) -> str:
    """``sklearn.linear_model.LogisticRegression``: the public module path, private parts left out."""
    cls = type(obj)
    public = [part for part in cls.__module__.split(".") if not part.startswith("_")]
    return ".".join([*public, cls.__qualname__])


def _error(spec: VersionSpec, key: str, reason: str) -> ArtifactError:
    return ArtifactError(spec.model, spec.version, key, reason)

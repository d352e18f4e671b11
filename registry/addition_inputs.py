"""What ``add`` reads before it plans anything: its arguments, the artifact (unpickled here only
after a forked child did so and survived) and the features inferred from it and the sample. Each
refusal is an ``AdditionRefused`` that says why, with nothing changed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from registry.isolation import IsolationFailure, exception_text, run_isolated
from registry.loader import deserialize
from registry.sample_columns import SampleError, check_sample_path, read_sample
from registry.signature import SignatureError, infer_features
from registry.skops_artifact import untrusted_types
from spec.config import RESERVED_VERSION, RESERVED_VERSION_REASON, VersionSpec, name_problem
from spec.errors import ArtifactError
from spec.version_spec import SKOPS_SUFFIX

USAGE = "usage"  # the request cannot be carried out as given (exit 2)
UNUSABLE = "unusable"  # the artifact is no model that could be served (exit 1)


class AdditionRefused(Exception):
    """Nothing was changed; ``kind`` is USAGE or UNUSABLE and ``message`` says why."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind, self.message = kind, message


def trusted_types_of(source: Path, data: bytes, trust_types: bool) -> tuple[str, ...]:
    """The types a .skops file needs beyond skops' defaults (none for a pickle); refused unless
    ``trust_types`` says the user trusts them."""
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


def arguments_checked(source: Path, model: str, version: str | None, sample: Path | None) -> None:
    """Refuse names, files and a sample that cannot be used, before any artifact is unpickled."""
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


def estimator_of(
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


def features_of(estimator: Any, sample: Path | None, bounds: str) -> Any:
    """The features inferred from the estimator and the sample, bounds set by the ``bounds`` rule."""
    try:
        wanted = getattr(estimator, "feature_names_in_", None)
        columns = None if wanted is None else [str(n) for n in wanted]
        frame = read_sample(sample, columns) if sample is not None else None
        return infer_features(estimator, frame, bounds)
    except (SampleError, SignatureError) as exc:
        raise AdditionRefused(USAGE, f"cannot infer the features: {exc}") from None

"""What is served: one frozen ``ModelVersion`` per configured version, and the ``Registry`` lookup.

A ``ModelVersion`` owns everything built from its entry (predictor, request validator, output
names), so a reload that reuses an unchanged version rebuilds none of it. The registry is
immutable: to reload, build a new one and swap the reference; a request reads the reference once
and uses it to the end.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from registry.traffic import Split, effective_split
from schemas.validation import RequestValidator
from spec.config import LATEST, ModelSpec, RegistryConfig, VersionSpec
from spec.errors import UnknownModelError, UnknownVersionError, VersionUnavailableError
from spec.versions import sort_versions

if TYPE_CHECKING:
    from registry.inference import Predictor

AVAILABLE = "available"
FAILED = "failed"
# The outputs a version answers, as the V2 protocol names its tensors and batch its columns.
LABEL = "label"
PROBABILITIES = "probabilities"
VALUE = "value"


@dataclass(frozen=True)
class ArtifactInfo:
    """Facts about the file a version was loaded from."""

    path: str
    sha256: str
    size_bytes: int
    sklearn_version: str
    estimator_type: str
    final_estimator: str


@dataclass(frozen=True)
class ModelVersion:
    """One version as served: its spec, its request validator, and the predictor that runs it or
    the reason it failed."""

    spec: VersionSpec
    artifact: ArtifactInfo | None = None
    predictor: Predictor | None = None  # None when the version failed
    reason: str | None = None  # why it failed to load
    reload_error: str | None = None  # why a reload could not replace it (this load still serves)
    # Built from the spec when not given; ``dataclasses.replace`` hands it on to the copy, so a
    # version kept across a reload keeps it. A failed version has one too: the docs describe it.
    validator: RequestValidator = field(default=None, repr=False, compare=False)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.validator is None:
            object.__setattr__(self, "validator", RequestValidator(self.spec))

    @property
    def model(self) -> str:
        return self.spec.model

    @property
    def version(self) -> str:
        return self.spec.version

    @property
    def is_available(self) -> bool:
        return self.reason is None

    @property
    def task(self) -> str | None:
        """``classification`` or ``regression``: the estimator's, else what the config declares."""
        return self.predictor.task if self.predictor else self.spec.task

    @property
    def labels(self) -> tuple[Any, ...] | None:
        """A classifier's class labels, in the order of its probabilities."""
        return self.predictor.labels if self.predictor else None

    @property
    def output_names(self) -> tuple[str, ...]:
        """The outputs the version answers: ``label`` and ``probabilities`` (a classifier that
        gives probabilities, or one that failed to load), ``label`` alone, or ``value``."""
        if self.task != "classification":
            return (VALUE,)
        if self.predictor is None or self.predictor.has_proba:
            return (LABEL, PROBABILITIES)
        return (LABEL,)

    @property
    def status(self) -> str:
        return AVAILABLE if self.is_available else FAILED


@dataclass(frozen=True)
class RegisteredModel:
    """A model's spec and its loaded versions, lowest version first."""

    spec: ModelSpec
    versions: Mapping[str, ModelVersion]

    @property
    def name(self) -> str:
        return self.spec.name

    # A model's versions are fixed once it is registered (a reload builds a new registry), so what
    # they say is worked out once: every request resolves its version through these.
    @functools.cached_property
    def latest_version(self) -> str:
        """The highest available version, or the highest one if none loaded."""
        names = sort_versions(self.versions)
        available = [v for v in names if self.versions[v].is_available]
        return (available or names)[-1]

    @property
    def default_version(self) -> str:
        """The configured default version, else ``latest``."""
        return self.spec.default_version or self.latest_version

    @functools.cached_property
    def split(self) -> Split | None:
        """How requests that name no version are shared among the available versions of the
        configured weights; None without ``traffic:``, or when none of its versions is available."""
        available = {v for v, found in self.versions.items() if found.is_available}
        return effective_split(self.name, self.spec.traffic.weights, available)

    @functools.cached_property
    def shadow(self) -> ModelVersion | None:
        """The available version that shadows requests naming no version, if any."""
        found = self.versions.get(self.spec.traffic.shadow or "")
        return found if found is not None and found.is_available else None

    def excluded_versions(self) -> dict[str, str]:
        """The versions with a traffic weight that take no share, and why."""
        return {
            version: f"failed, so it takes none of its weight ({weight}); the others keep their proportions"
            for version, weight in self.spec.traffic.weights.items()
            if weight > 0 and not self.versions[version].is_available
        }

    def traffic_problems(self) -> list[str]:
        """``version: reason`` for each weighted version that takes no share and a shadow that failed."""
        problems = [f"{version}: {reason}" for version, reason in self.excluded_versions().items()]
        if self.spec.traffic.shadow is not None and self.shadow is None:
            problems.append(f"{self.spec.traffic.shadow}: failed, so it does not shadow requests")
        return problems

    @functools.cached_property
    def aliases(self) -> dict[str, str]:
        """Every alias with its version, ``latest`` included (one dict, shared: read it only)."""
        return {**self.spec.aliases, LATEST: self.latest_version}


@dataclass(frozen=True)
class Registry:
    """Immutable lookup from (model, version or alias) to a ``ModelVersion``."""

    config: RegistryConfig
    models: Mapping[str, RegisteredModel] = field(default_factory=dict)
    reload_error: str | None = None  # the last reload that failed as a whole (the set was kept)

    @classmethod
    def build(cls, config: RegistryConfig, versions: list[ModelVersion]) -> Registry:
        """Group loaded versions by the models in ``config``."""
        by_model: dict[str, dict[str, ModelVersion]] = {m.name: {} for m in config.models}
        for version in versions:
            by_model[version.model][version.version] = version
        models = {spec.name: RegisteredModel(spec, by_model[spec.name]) for spec in config.models}
        return cls(config, models)

    def model(self, name: str) -> RegisteredModel:
        """The named model; raises ``UnknownModelError`` listing the models there are."""
        try:
            return self.models[name]
        except KeyError:
            raise UnknownModelError(name, self.models) from None

    def resolve(self, name: str, version: str | None = None) -> ModelVersion:
        """The version named by a version, an alias, ``latest``, or ``None`` for the default."""
        model = self.model(name)
        if version is None:
            version = model.default_version
        target = model.aliases.get(version, version)
        try:
            return model.versions[target]
        except KeyError:
            raise UnknownVersionError(name, version, sort_versions(model.versions), model.aliases) from None

    def resolve_available(self, name: str, version: str | None = None) -> ModelVersion:
        """Like ``resolve``, but raises ``VersionUnavailableError`` for a version that failed."""
        found = self.resolve(name, version)
        if not found.is_available:
            raise VersionUnavailableError(found.model, found.version, found.reason or "")
        return found

    def route(self, name: str, routing_key: str | None = None) -> ModelVersion:
        """The available version that serves a request naming none: drawn from the model's split
        (by ``routing_key`` when given), else its default version."""
        model = self.model(name)
        split = model.split
        if split is None:
            return self.resolve_available(name, model.default_version)
        return model.versions[split.pick(routing_key)]  # a split holds available versions only

    def all_versions(self) -> list[ModelVersion]:
        """Every version of every model, models in config order, versions lowest first."""
        return [v for m in self.models.values() for v in m.versions.values()]

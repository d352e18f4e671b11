"""One version's entry in ``config.yaml``: its dataclass and its parsing."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from spec.facts import FACT_KEYS, SHA256, parse_facts
from spec.features import FeatureSpec, parse_features, unknown_keys

TASKS = ("classification", "regression")
SKOPS_SUFFIX = ".skops"
_VERSION_KEYS = {"artifact", "sha256", "task", "description", "features", "trusted_types", *FACT_KEYS}


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
    # Registry facts written by ``add`` (spec.facts): when, from which file, with which sample.
    added_at: str | None = None
    source: str | None = None
    sample_sha256: str | None = None

    @property
    def feature_names(self) -> list[str]:
        return [f.name for f in self.features]

    @functools.cached_property  # read by every V2 request
    def integer_coded_features(self) -> tuple[FeatureSpec, ...]:
        """The categories coded as integers, in feature order."""
        return tuple(f for f in self.features if f.integer_coded)


def parse_version(model: str, version: str, data: Any, problems: list[str]) -> VersionSpec | None:
    """One version's entry, or None after adding its mistakes (model/version named) to ``problems``."""
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
    if sha256 is not None and (not isinstance(sha256, str) or not SHA256.fullmatch(sha256.lower())):
        problems.append(f"{where}sha256: must be 64 hexadecimal digits")
    task = data.get("task")
    if task is not None and task not in TASKS:
        problems.append(f"{where}task: must be one of {', '.join(TASKS)}")
    description = data.get("description")
    if description is not None and not isinstance(description, str):
        problems.append(f"{where}description: must be text")
    features = parse_features(where, data.get("features"), problems)
    trusted_types = _parse_trusted_types(where, artifact, data.get("trusted_types"), problems)
    facts = parse_facts(where, data, problems)
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
        **facts,
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

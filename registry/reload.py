"""Reload: build the next registry beside the one serving, never dropping what serves.

Like TF Serving's availability-preserving policy: unchanged versions are reused as they are
(not reloaded; their files are hashed in small blocks, never read whole), new and changed ones
are loaded and checked first (in a forked child, then here: ``registry.loader``), and a changed
version that fails to load keeps serving its previous load, with the failure reported on it. A config file
that cannot be read at all leaves the whole set as it was, with the error reported on it.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from pathlib import Path

from registry.config_source import read_config_at
from registry.loader import artifact_digest, load_versions
from registry.registry import ModelVersion, Registry
from registry.stores import StoreError
from spec.config import RegistryConfig, VersionSpec
from spec.errors import ConfigError
from spec.locations import Url, location

log = logging.getLogger(__name__)


def reload_registry(current: Registry, path: str | os.PathLike[str] | Url | None = None) -> Registry:
    """The registry for the config at ``path`` (default: the one ``current`` came from; a local
    path or a URL)."""
    path = location(path or current.config.path)
    try:
        config = read_config_at(path)
        next_registry = rebuild(current, config)
    except ConfigError as exc:
        return _keep(current, exc.message)
    except StoreError as exc:
        return _keep(current, str(exc))
    except Exception as exc:  # whatever goes wrong, what serves keeps serving
        return _keep(current, f"{path}: {type(exc).__name__}: {exc}")
    outcome = summary(current, next_registry)
    level = logging.WARNING if _any_failed(next_registry) else logging.INFO
    log.log(level, "reloaded %s: %s", path, outcome, extra={"event": "reload", "status": "ok"})
    return next_registry


def _keep(current: Registry, error: str) -> Registry:
    log.error(
        "reload failed, keeping the serving set: %s",
        error,
        extra={"event": "reload", "status": "failed", "reason": error},
    )
    return dataclasses.replace(current, reload_error=error)


def _any_failed(registry: Registry) -> bool:
    return any(v.reason or v.reload_error for v in registry.all_versions())


def rebuild(current: Registry, config: RegistryConfig) -> Registry:
    """Every version of ``config``, reusing the loaded ones that did not change."""
    specs = [spec for model in config.models for spec in model.versions]
    previous = [_previous(current, spec) for spec in specs]
    changed = [i for i, spec in enumerate(specs) if not _reusable(previous[i], spec, config, current.config)]
    loads = load_versions([specs[i] for i in changed], config.store, config.server)
    loaded = dict(zip(changed, loads, strict=True))
    versions = [_next_version(previous[i], loaded.get(i)) for i in range(len(specs))]
    return Registry.build(config, versions)


def summary(before: Registry, after: Registry) -> str:
    """``kept 3, loaded 1 (penguins/3), removed 1 (iris/1), failed 0``: what a reload did."""
    old = {(v.model, v.version): v for v in before.all_versions()}
    new = {(v.model, v.version): v for v in after.all_versions()}
    kept = [
        k for k, v in new.items() if k in old and v.predictor is not None and v.predictor is old[k].predictor
    ]
    loaded = [k for k in new if k not in kept]
    removed = [k for k in old if k not in new]
    failed = {k: v.reason or v.reload_error for k, v in new.items() if v.reason or v.reload_error}

    def named(keys: list[tuple[str, str]]) -> str:
        return f"{len(keys)}" + (f" ({', '.join('/'.join(k) for k in keys)})" if keys else "")

    reasons = "; ".join(f"{'/'.join(k)}: {reason}" for k, reason in failed.items())
    return f"kept {len(kept)}, loaded {named(loaded)}, removed {named(removed)}, failed {len(failed)}" + (
        f" ({reasons})" if failed else ""
    )


def _previous(current: Registry, spec: VersionSpec) -> ModelVersion | None:
    model = current.models.get(spec.model)
    return model.versions.get(spec.version) if model else None


def _reusable(
    previous: ModelVersion | None, spec: VersionSpec, config: RegistryConfig, old: RegistryConfig
) -> bool:
    """Whether the loaded ``previous`` still is what ``spec`` asks for, so it is kept as it is."""
    return (
        previous is not None
        and _loading_policy(old) == _loading_policy(config)
        and _unchanged(previous, spec, config.store, old.store, config.server.max_artifact_bytes)
    )


def _next_version(previous: ModelVersion | None, loaded: ModelVersion | None) -> ModelVersion:
    """``loaded`` (the new load of a new or changed version), or ``previous`` kept: as it was when
    it was reusable, with the failed load as its ``reload_error`` when it serves and the load failed."""
    if loaded is None:
        assert previous is not None  # only reusable versions were not loaded again
        return dataclasses.replace(previous, reload_error=None) if previous.reload_error else previous
    if loaded.is_available or previous is None or not previous.is_available:
        return loaded
    return dataclasses.replace(previous, reload_error=loaded.reason)


def _loading_policy(config: RegistryConfig) -> bool:
    """The server settings that change how a version is loaded (the rest apply per request)."""
    return config.server.require_sha256


def _unchanged(
    previous: ModelVersion, spec: VersionSpec, store: Path | Url, old_store: Path | Url, max_bytes: int
) -> bool:
    """Same spec, same store, and the file still holds the bytes that were loaded (hashed by
    streaming it, so a reload never holds a whole artifact in the master to compare it)."""
    if previous.spec != spec or store != old_store or previous.artifact is None:
        return False
    try:
        return artifact_digest(spec, store, max_bytes) == previous.artifact.sha256
    except Exception:  # gone or moved out of the store: load it again and report that
        return False

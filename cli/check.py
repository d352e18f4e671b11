"""``model-registry check``: one line per version, and the exit statuses the commands share."""

from __future__ import annotations

from registry.registry import ModelVersion, Registry

EXIT_FAILED_VERSION = 1
EXIT_CONFIG_ERROR = 2


def check(registry: Registry, elapsed: float) -> int:
    """Print one line per version; non-zero if any version failed to load."""
    versions = registry.all_versions()
    for version in versions:
        print(describe_line(version))
    failed = sum(not v.is_available for v in versions)
    print(
        f"{len(versions) - failed} of {len(versions)} versions available "
        f"({registry.config.path}, loaded in {elapsed:.2f} s)"
    )
    return EXIT_FAILED_VERSION if failed else 0


def describe_line(version: ModelVersion) -> str:
    """``model/version  status  detail`` for one version."""
    name = f"{version.model}/{version.version}"
    if not version.is_available:
        return f"{name}  failed  {version.reason}"
    artifact = version.artifact
    return (
        f"{name}  available  {version.task or 'model'}: {artifact.final_estimator}, "
        f"scikit-learn {artifact.sklearn_version}, sha256 {artifact.sha256[:12]}"
    )

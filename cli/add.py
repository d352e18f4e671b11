"""``model-registry add``: register a fitted estimator as a new version, features inferred.

Exit status: 0 when the new version is available (or, with --dry-run, would be); 1 when it fails its
checks or the artifact is no estimator (nothing is changed); 2 for a usage or config-file error.
"""

from __future__ import annotations

import argparse
import sys

from cli.check import EXIT_CONFIG_ERROR, EXIT_FAILED_VERSION, describe_line
from registry.bounds import BOUNDS_HELP
from registry.config_edit import addition_text
from registry.publish import write_addition
from registry.registration import (
    USAGE,
    Addition,
    AdditionRefused,
    check_in_place,
    plan_addition,
)
from registry.registry import ModelVersion
from registry.stores import StoreError
from spec.config import config_location
from spec.features import FeatureSpec


def run_add(args: argparse.Namespace) -> int:
    """Carry out ``add`` as parsed; returns the exit status."""
    try:
        return _run_add(args)
    except StoreError as exc:
        print(f"add: {exc}; nothing was added", file=sys.stderr)
        return EXIT_CONFIG_ERROR
    except AdditionRefused as exc:
        print(f"add: {exc.message}", file=sys.stderr)
        return EXIT_CONFIG_ERROR if exc.kind == USAGE else EXIT_FAILED_VERSION


def _run_add(args: argparse.Namespace) -> int:
    addition = plan_addition(
        config_location(args.config),
        args.artifact,
        args.model,
        args.version,
        args.sample,
        args.description,
        args.trust_types,
        args.bounds,
    )
    print(summary(addition))
    if args.dry_run:
        print(f"--dry-run: would add to {addition.config.path} (nothing changed):")
        print(addition_text(addition.model, addition.version, addition.entry, addition.model_description))
        return _report(check_in_place(addition), dry_run=True)
    if not addition.edited.layout_kept:
        print("add: note: the file's indentation is not one add reproduces; it is rewritten", file=sys.stderr)
    return _report(write_addition(addition), dry_run=False)


def summary(addition: Addition) -> str:
    """What was inferred, one feature a line."""
    entry = addition.entry
    lines = [
        f"{addition.model}/{addition.version}: {entry.task or 'task unknown'}, "
        f"{len(entry.features)} features, sha256 {entry.sha256[:12]}"
        + (" (new model)" if addition.new_model else "")
        + (f" (new config file {addition.config.path})" if addition.original is None else "")
    ]
    width = max(len(f.name) for f in entry.features)
    lines += [f"  {f.name:<{width}}  {_describe(f)}" for f in entry.features]
    if entry.trusted_types:
        lines.append(f"  trusted_types: {', '.join(entry.trusted_types)}")
    if entry.sample_sha256:
        lines.append(f"  bounds: {addition.bounds} ({BOUNDS_HELP[addition.bounds]}; --bounds to change)")
    return "\n".join(lines)


def _describe(feature: FeatureSpec) -> str:
    parts = [feature.type]
    if feature.categories is not None:
        parts.append(f"[{', '.join(map(str, feature.categories))}]")
    if feature.minimum is not None or feature.maximum is not None:
        parts.append(f"{feature.minimum} .. {feature.maximum}")
    if not feature.required:
        parts.append("(optional)")
    return " ".join(parts)


def _report(version: ModelVersion, dry_run: bool) -> int:
    print(describe_line(version))
    if version.is_available:
        return 0
    print(
        "add: the new version does not load; "
        + ("nothing was changed" if dry_run else "the config and the store are left as they were"),
        file=sys.stderr,
    )
    return EXIT_FAILED_VERSION

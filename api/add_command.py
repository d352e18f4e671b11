"""``model-registry add``: register a fitted estimator as a new version, features inferred.

Exit status: 0 when the new version is available (or, with --dry-run, would be); 1 when it fails its
checks or the artifact is no estimator (nothing is changed); 2 for a usage or config-file error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from api.check_command import EXIT_CONFIG_ERROR, EXIT_FAILED_VERSION, describe_line
from registry.config_edit import addition_text
from registry.registration import (
    USAGE,
    Addition,
    AdditionRefused,
    apply_addition,
    check_in_place,
    plan_addition,
)
from registry.registry import ModelVersion
from spec.config import default_config_path
from spec.features import FeatureSpec

HELP = """\
Copy ARTIFACT (.joblib, .pkl or .skops) into the store as <model>/<version>/<file name>, infer its
features, task and sha256, write the version into the config (comments and everything else kept),
then load it as 'check' does.

Exit status: 0 when the new version is available; 1 when it fails to load or the artifact holds no
estimator (an object without predict) -- the config and the store are then left as they were; 2 for
a usage or config-file error (an existing version, an estimator fitted on an array without --sample,
a .skops file needing untrusted types without --trust-types), with nothing changed."""


def add_parser(commands: argparse._SubParsersAction, config_help: str) -> None:
    """Declare ``add`` and its options on the CLI's subcommands."""
    cmd = commands.add_parser(
        "add",
        help="register a fitted estimator as a new version, features inferred",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cmd.add_argument("artifact", metavar="ARTIFACT", type=Path, help="the fitted estimator's file")
    cmd.add_argument("--model", required=True, help="model name (a new model is created if needed)")
    cmd.add_argument("--version", help="version name (default: 1 + the highest integer version)")
    cmd.add_argument(
        "--sample",
        type=Path,
        help="CSV or Parquet with the input columns (e.g. the training data): integer and boolean "
        "types, minimum/maximum, optional columns; needed when the estimator was fitted on an array",
    )
    cmd.add_argument("--description", help="description of a new model")
    cmd.add_argument("--config", help=config_help)
    cmd.add_argument("--dry-run", action="store_true", help="print the YAML it would add; change nothing")
    cmd.add_argument(
        "--trust-types",
        action="store_true",
        help="for a .skops file: load it trusting the types it lists beyond skops' safe defaults, "
        "and record them as trusted_types (without it, add only lists them and exits 2)",
    )


def run_add(args: argparse.Namespace) -> int:
    """Carry out ``add`` as parsed; returns the exit status."""
    try:
        addition = plan_addition(
            default_config_path(args.config),
            args.artifact,
            args.model,
            args.version,
            args.sample,
            args.description,
            args.trust_types,
        )
    except AdditionRefused as exc:
        print(f"add: {exc.message}", file=sys.stderr)
        return EXIT_CONFIG_ERROR if exc.kind == USAGE else EXIT_FAILED_VERSION
    print(summary(addition))
    if args.dry_run:
        print(f"--dry-run: would add to {addition.config.path} (nothing changed):")
        print(addition_text(addition.model, addition.version, addition.entry, addition.model_description))
        return _report(check_in_place(addition), dry_run=True)
    if not addition.edited.layout_kept:
        print("add: note: the file's indentation is not one add reproduces; it is rewritten", file=sys.stderr)
    return _report(apply_addition(addition), dry_run=False)


def summary(addition: Addition) -> str:
    """What was inferred, one feature a line."""
    entry = addition.entry
    lines = [
        f"{addition.model}/{addition.version}: {entry.task or 'task unknown'}, "
        f"{len(entry.features)} features, sha256 {entry.sha256[:12]}"
        + (" (new model)" if addition.new_model else "")
    ]
    width = max(len(f.name) for f in entry.features)
    lines += [f"  {f.name:<{width}}  {_describe(f)}" for f in entry.features]
    if entry.trusted_types:
        lines.append(f"  trusted_types: {', '.join(entry.trusted_types)}")
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

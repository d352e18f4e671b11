"""The ``add`` command's arguments, apart from the command: declaring them imports nothing heavy, so
``model-registry --help`` and ``--version`` answer at once (cli.add imports scikit-learn).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from registry.bounds import BOUNDS_CHOICES, DEFAULT_BOUNDS

HELP = """\
Copy ARTIFACT (.joblib, .pkl or .skops) into the store as <model>/<version>/<file name>, infer its
features, task and sha256, write the version into the config (comments and everything else kept;
a config file that does not exist is created, with the store beside it), with when it was added
and from which files, then load it as 'check' does.

Exit status: 0 when the new version is available; 1 when it fails to load (it raises, exits,
crashes or hangs while unpickled: that happens in a child process first) or the artifact holds no
estimator (an object without predict) -- the config and the store are then left as they were; 2 for
a usage or config-file error (a bad model or version name, an existing version, an estimator fitted
on an array without --sample, a .skops file needing untrusted types without --trust-types), found
before anything is unpickled, with nothing changed."""


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
    cmd.add_argument(
        "--bounds",
        choices=BOUNDS_CHOICES,
        default=DEFAULT_BOUNDS,
        help="the minimum/maximum --sample sets on numeric features: margin, the sample's range widened "
        "by 10 %% on each side and rounded outward, never crossing zero (default); sample, its own "
        "extremes; none",
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


def add_cache_arguments(cmd: argparse.ArgumentParser) -> None:
    """``--cache-dir`` and ``--cache-max-bytes``: where artifacts from a remote store are kept."""
    cmd.add_argument(
        "--cache-dir",
        type=Path,
        help="local copies of artifacts from a remote store, one per sha256, kept across restarts "
        "(default: $MODEL_REGISTRY_CACHE_DIR, else ~/.cache/model-registry/artifacts)",
    )
    cmd.add_argument(
        "--cache-max-bytes",
        type=int,
        help="the cache's size bound; the least recently used copies go first (default: 10 GiB)",
    )

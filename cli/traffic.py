"""``model-registry traffic NAME [VERSION=WEIGHT ...] [--shadow VERSION | --no-shadow]``: set a
model's split and shadow in config.yaml (comments and layout kept), check the result like
``check`` and print the split; with neither weights nor a shadow option, print the current split.

The weights given are the whole split: a version left out gets no share. The edited file is
parsed before it is written, so a mistake (an unknown version, a negative weight, all weights 0)
is reported like any config error and the file stays as it was; it then replaces the old one in
one rename, so a server reloading (SIGHUP, ``--watch``) reads either the old split or the new. A
config at a URL is replaced by a conditional write (registry.config_write).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from cli.check import EXIT_CONFIG_ERROR, check
from registry.config_edit import KEEP_SHADOW, set_traffic
from registry.config_source import read_config_at
from registry.config_write import rewrite_config
from registry.stores import StoreError
from spec.config import ModelSpec, RegistryConfig, config_location
from spec.errors import ConfigError
from spec.locations import Url


def add_traffic_parser(commands: argparse._SubParsersAction, config_help: str) -> None:
    """The ``traffic`` subcommand's arguments."""
    parser = commands.add_parser(
        "traffic",
        help="show or set how a model's requests that name no version are split, and its shadow",
        description=__doc__.splitlines()[0].split(": ", 1)[1] if __doc__ else None,
    )
    parser.add_argument("name", help="the model")
    parser.add_argument("weights", nargs="*", metavar="VERSION=WEIGHT", help="e.g. 1=90 2=10 (whole numbers)")
    shadow = parser.add_mutually_exclusive_group()
    shadow.add_argument("--shadow", metavar="VERSION", help="also run each such request through VERSION")
    shadow.add_argument("--no-shadow", action="store_true", help="remove the model's shadow")
    parser.add_argument("--config", help=config_help)


def run_traffic(args: argparse.Namespace) -> int:
    """Carry out ``traffic`` as parsed; returns the exit status."""
    path = config_location(args.config)
    try:
        weights = parse_weight_arguments(args.weights)
    except ValueError as exc:
        print(f"traffic: {exc}", file=sys.stderr)
        return EXIT_CONFIG_ERROR
    shadow = None if args.no_shadow else args.shadow if args.shadow is not None else KEEP_SHADOW
    try:
        if weights is None and shadow is KEEP_SHADOW:
            print(split_line(_model(read_config_at(path), args.name)))
            return 0
        config = write_traffic(path, args.name, weights, shadow)
    except ConfigError as exc:
        print(exc.message, file=sys.stderr)
        return EXIT_CONFIG_ERROR
    except StoreError as exc:
        print(f"traffic: {exc}; nothing was changed", file=sys.stderr)
        return EXIT_CONFIG_ERROR
    from registry.loader import load_registry  # scikit-learn: seconds, not needed to print

    started = time.perf_counter()
    status = check(load_registry(config), time.perf_counter() - started)
    print(split_line(_model(config, args.name)))
    return status


def parse_weight_arguments(items: list[str]) -> dict[str, int] | None:
    """``["1=90", "2=10"]`` as {"1": 90, "2": 10}; None when none are given. Raises ``ValueError``."""
    if not items:
        return None
    weights: dict[str, int] = {}
    for item in items:
        version, sep, weight = item.partition("=")
        if not sep or not version or not weight.strip().lstrip("-").isdigit():
            raise ValueError(f"{item!r}: give VERSION=WEIGHT with a whole-number weight, e.g. 2=10")
        if version in weights:
            raise ValueError(f"{version}: given twice")
        weights[version] = int(weight)
    return weights


def write_traffic(
    where: Path | Url, model: str, weights: dict[str, int] | None, shadow: object
) -> RegistryConfig:
    """Set the split in the config at ``where`` (a conditional write for a URL); returns it parsed.
    Raises ``ConfigError`` (the config unchanged) when the result is wrong."""
    return rewrite_config(where, lambda text: set_traffic(text, model, weights, shadow).text)


def split_line(model: ModelSpec) -> str:
    """``penguins: 1 → 90 %, 2 → 10 %; shadow 3`` (the default version alone without a split)."""
    weights = model.traffic.weights
    total = sum(weights.values())
    if weights:
        split = ", ".join(f"{v} → {100 * w / total:g} %" for v, w in weights.items())
    else:
        split = f"{model.default_version or 'latest'} → 100 % (no traffic split: the default version)"
    shadow = f"; shadow {model.traffic.shadow}" if model.traffic.shadow else "; no shadow"
    return f"{model.name}: {split}{shadow}"


def _model(config: RegistryConfig, name: str) -> ModelSpec:
    for model in config.models:
        if model.name == name:
            return model
    raise ConfigError([f"{name}: no such model"], str(config.path))

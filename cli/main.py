"""``model-registry serve``, ``check``, ``add``, ``predict`` and ``traffic``."""

from __future__ import annotations

import argparse
import importlib.metadata
import logging
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from api.observability.logs import FORMATS, configure_logging
from cli.add_arguments import add_cache_arguments, add_parser
from cli.check import EXIT_CONFIG_ERROR, check, describe_line
from cli.predict_arguments import add_predict_parser
from cli.traffic import add_traffic_parser
from registry.registry import Registry
from spec.config import CONFIG_ENV, config_location
from spec.errors import ConfigError

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    if args.command == "add":
        from cli.add import run_add

        return run_add(args)
    if args.command == "traffic":
        from cli.traffic import run_traffic

        return run_traffic(args)
    if args.command == "predict":
        from cli.predict import predict_command

        return predict_command(args)
    if args.command == "serve":
        configure_logging(args.log_format, args.log_level)
    else:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from registry.artifact_cache import use_cache
    from registry.config_source import check_store_reachable, read_config_at
    from registry.stores import StoreError

    use_cache(args.cache_dir, args.cache_max_bytes)
    started = time.perf_counter()
    try:  # before scikit-learn is imported (seconds), so that a missing or wrong file is told at once
        config = read_config_at(config_location(args.config))
        check_store_reachable(config)
        from registry.loader import load_registry

        registry = load_registry(config)
    except ConfigError as exc:
        print(exc.message, file=sys.stderr)
        return EXIT_CONFIG_ERROR
    except StoreError as exc:
        print(f"cannot read the store: {exc}", file=sys.stderr)
        return EXIT_CONFIG_ERROR
    elapsed = time.perf_counter() - started
    if args.command == "check":
        return check(registry, elapsed)
    return serve(registry, args, elapsed)


def serve(registry: Registry, args: argparse.Namespace, elapsed: float) -> int:
    """Serve with gunicorn until stopped; SIGHUP (or a change, with --watch) reloads the config."""
    from gunicorn.pidfile import Pidfile

    from api.observability.metrics_dir import enable_multiprocess
    from api.server.master import RegistryServer, gunicorn_options
    from api.wsgi.app import create_app_for, reload_app
    from api.wsgi.auth import read_token

    log = logging.getLogger("model_registry")
    try:
        token = read_token(args.token_file)
    except (OSError, ValueError) as exc:
        print(f"--token-file: {exc}", file=sys.stderr)
        return EXIT_CONFIG_ERROR
    running = Pidfile(args.pid_file).validate() if args.pid_file else None
    if running:
        print(f"--pid-file: {args.pid_file} names PID {running}, still running", file=sys.stderr)
        return EXIT_CONFIG_ERROR
    for version in registry.all_versions():
        if not version.is_available:  # the loader logged it at WARNING, with its reason
            continue
        fields = {"event": "load", "model": version.model, "version": version.version, "status": "available"}
        log.info("%s", describe_line(version), extra=fields)
    log.info("loaded %s in %.2f s%s", registry.config.path, elapsed, " (token required)" if token else "")
    if not registry.models:
        log.warning(
            "%s has no models yet: add one with `model-registry add`, then reload", registry.config.path
        )
    enable_multiprocess()
    timeout = args.timeout or registry.config.server.timeout
    options = gunicorn_options(
        args.host,
        args.port,
        args.workers,
        timeout,
        args.log_format,
        args.log_level,
        registry.config.server.max_connections,
        args.pid_file and str(Path(args.pid_file).absolute()),
    )
    app = create_app_for(registry, token, access_log=not args.no_access_log)
    watch = registry.config.path if args.watch else None
    RegistryServer(app, options, reload_app, watch, args.poll_interval).run()
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="model-registry", description="Serve versioned scikit-learn models over HTTP."
    )
    version = importlib.metadata.version("model-registry")
    parser.add_argument("--version", action="version", version=f"model-registry {version}")
    commands = parser.add_subparsers(dest="command", required=True)
    config_help = f"config file (default: ${CONFIG_ENV}, else ./config.yaml)"
    serve_cmd = commands.add_parser("serve", help="serve the models with gunicorn")
    serve_cmd.add_argument("--config", help=config_help)
    serve_cmd.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    serve_cmd.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    serve_cmd.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="worker processes (default: the number of cores)",
    )
    serve_cmd.add_argument(
        "--timeout",
        type=int,
        help="seconds a worker may spend on a request before it is replaced (default: server.timeout, 30)",
    )
    serve_cmd.add_argument("--watch", action="store_true", help="reload when the config file changes")
    serve_cmd.add_argument(
        "--pid-file",
        help="write the server's PID to this file once it listens (for kill -HUP); removed at exit",
    )
    serve_cmd.add_argument(
        "--poll-interval",
        type=float,
        default=10.0,
        help="with --watch on a config at a URL: seconds between polls of it (default: 10)",
    )
    serve_cmd.add_argument(
        "--token-file",
        help="require 'Authorization: Bearer <token>' on /models with the token in this file "
        "(default: $MODEL_REGISTRY_TOKEN; no auth when neither is set)",
    )
    serve_cmd.add_argument(
        "--log-format",
        choices=FORMATS,
        default="text",
        help="text, or json: one object per line (default: text)",
    )
    serve_cmd.add_argument(
        "--log-level",
        default="INFO",
        type=str.upper,
        choices=LEVELS,
        help="lowest level logged (default: INFO)",
    )
    serve_cmd.add_argument("--no-access-log", action="store_true", help="do not log a line per request")
    check_cmd = commands.add_parser("check", help="load every version and report; exit 1 on failure")
    check_cmd.add_argument("--config", help=config_help)
    for command in (serve_cmd, check_cmd):
        add_cache_arguments(command)
    add_parser(commands, config_help)
    add_predict_parser(commands, config_help)
    add_traffic_parser(commands, config_help)
    return parser

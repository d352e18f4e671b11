"""The ``server:`` section of the config: limits and policies of the HTTP server."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from spec.features import unknown_keys

DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024
BUFFERED_BODIES = 2  # server.max_buffered_bytes defaults to this many max_body_bytes
# Larger than any scikit-learn model we serve, small enough that a stray dump or disk image put
# where an artifact should be is refused before the master reads it.
DEFAULT_MAX_ARTIFACT_BYTES = 2 * 1024**3


@dataclass(frozen=True)
class ServerSettings:
    """Limits and policies of the HTTP server (``server:`` in the config)."""

    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES  # larger bodies get a 413
    max_rows: int = 100_000  # more rows in one request get a 413
    max_json_depth: int = 32  # deeper nesting in a body gets a 400
    timeout: int = 30  # seconds a worker may spend on one request before it is replaced
    max_connections: int = 1000  # per worker, lowered to fit the open-files limit
    max_buffered_bytes: int = BUFFERED_BODIES * DEFAULT_MAX_BODY_BYTES  # per worker: bodies and answers held
    require_sha256: bool = False  # refuse to load an artifact whose config gives no sha256
    load_timeout_s: int = 120  # seconds a new or changed artifact may take to load in its trial process
    max_artifact_bytes: int = DEFAULT_MAX_ARTIFACT_BYTES  # larger artifacts are refused unread


_SERVER_KEYS = {f.name for f in fields(ServerSettings)}


def parse_server(data: Any, problems: list[str]) -> ServerSettings:
    """The ``server:`` mapping as settings; each problem is added to ``problems``."""
    if not isinstance(data, dict):
        problems.append("server: must be a mapping")
        return ServerSettings()
    unknown_keys(data, _SERVER_KEYS, "server: ", problems)
    settings = {}
    for setting in fields(ServerSettings):
        value = data.get(setting.name, setting.default)
        flag = isinstance(setting.default, bool)
        if type(value) is not type(setting.default) or (not flag and value < 1):
            kind = "true or false" if flag else "a positive integer"
            problems.append(f"server: {setting.name}: must be {kind}")
            value = setting.default
        settings[setting.name] = value
    if "max_buffered_bytes" not in data:
        settings["max_buffered_bytes"] = BUFFERED_BODIES * settings["max_body_bytes"]
    elif settings["max_buffered_bytes"] < settings["max_body_bytes"]:
        problems.append(
            f"server: max_buffered_bytes: must be at least max_body_bytes ({settings['max_body_bytes']})"
        )
    return ServerSettings(**settings)

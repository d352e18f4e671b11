"""Rewrite a config in place, safely: read it, edit its text, parse the result as the server will,
and write it so that no concurrent writer's change is lost and no reader sees half a file.

A local file is replaced in one rename (a server reloading reads the old text or the new). A config
at a URL is replaced only if it is still the revision that was read (a conditional write on its
ETag or generation); when another writer got there first the edit is applied again to what is there
now, ``ATTEMPTS`` times in all.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import yaml

from registry.config_source import read_config_text
from registry.stores import WriteConflict, replace_file, replace_if
from spec.config import RegistryConfig, parse_config
from spec.errors import ConfigError
from spec.locations import Url

ATTEMPTS = 8


def rewrite_config(where: Path | Url, edit: Callable[[str], str]) -> RegistryConfig:
    """Apply ``edit`` (old text -> new text; ``ValueError`` for an edit that cannot be made) to the
    config at ``where`` and write the result; returns it parsed. Raises ``ConfigError`` with the
    config unchanged when the result is wrong or the config kept changing under us, and
    ``registry.stores.StoreError`` when a remote config cannot be read or written."""
    for _ in range(ATTEMPTS):
        read = read_config_text(where)
        original = (read.data or b"").decode("utf-8")
        try:
            text = edit(original)
        except ValueError as exc:
            raise ConfigError([str(exc)], str(where)) from None
        config = parse_config(yaml.safe_load(text), where)
        if not isinstance(where, Url):
            replace_file(where, text.encode("utf-8"))
            return config
        try:
            replace_if(where, text.encode("utf-8"), read.config.tag)
        except WriteConflict:
            continue  # another writer's change landed first: edit what is there now
        return config
    raise ConfigError(
        [f"changed by other writers {ATTEMPTS} times while this edit was made; nothing was changed"],
        str(where),
    )

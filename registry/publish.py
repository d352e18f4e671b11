"""``add`` against a config or a store at a URL: publish the new version without losing anyone's.

The version is checked first (loaded from the local file, in a forked child, as ``check`` would); then
the artifact is created at ``<store>/<model>/<version>/<file name>`` only if no object is there (S3:
PutObject with ``If-None-Match: *``), and the config object is replaced only if it is still the
revision that was read (S3: PutObject with ``If-Match: <ETag>``). When another writer got there
first, the config is read again, the version placed again (the next free number, unless --version
was given) and the write tried again, ``ATTEMPTS`` times in all; nothing of ours is left behind when
it gives up.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from pathlib import Path

from registry.config_source import read_config_text
from registry.registration import USAGE, Addition, AdditionRefused, apply_addition, check_in_place, replan
from registry.registry import ModelVersion
from registry.store_write import StagedCopy, stage_copy
from registry.stores import ObjectExists, WriteConflict, delete, put_new, replace_if
from spec.config import VersionSpec
from spec.locations import Url

ATTEMPTS = 8
log = logging.getLogger(__name__)


def write_addition(addition: Addition) -> ModelVersion:
    """Write a planned version: published when the config or the store is at a URL, else as
    ``apply_addition`` writes a local config and store."""
    if isinstance(addition.config.path, Url) or isinstance(addition.config.store, Url):
        return publish_addition(addition)
    return apply_addition(addition)


def publish_addition(addition: Addition) -> ModelVersion:
    """Check the new version, then publish its artifact and the edited config (see the module)."""
    checked = check_in_place(addition)
    if not checked.is_available:
        return checked
    for _ in range(ATTEMPTS):
        try:
            placed = _publish_artifact(addition)
        except ObjectExists as exc:
            if addition.explicit_version:
                raise AdditionRefused(USAGE, f"{exc}; give another --version") from None
            addition = _again(addition)
            continue
        try:
            _write_config(addition)
        except WriteConflict:
            placed()
            addition = _again(addition)
            continue
        except BaseException:
            placed()
            raise
        return dataclasses.replace(checked, spec=_spec_of(addition, checked))
    raise AdditionRefused(
        USAGE,
        f"{addition.config.path}: changed by other writers {ATTEMPTS} times in a row; nothing was added",
    )


def _publish_artifact(addition: Addition) -> Callable[[], None]:
    """Put the artifact in the store, never over an existing object; returns what takes it back."""
    store, relative = addition.config.store, addition.entry.artifact
    if isinstance(store, Path):
        staged: StagedCopy = stage_copy(addition.source, store, relative)
        return staged.undo
    url = store.child(relative)
    put_new(url, addition.source.read_bytes())
    return lambda: delete(url)


def _write_config(addition: Addition) -> None:
    path, text = addition.config.path, addition.edited.text.encode("utf-8")
    if isinstance(path, Url):
        replace_if(path, text, addition.config.tag)
    else:  # a local config of a remote store: written as add writes any local config
        path.write_bytes(text)


def _again(addition: Addition) -> Addition:
    """The same version planned again against the config as it is now."""
    log.info("%s changed since it was read: placing %s again", addition.config.path, addition.model)
    read = read_config_text(addition.config.path)
    version = addition.version if addition.explicit_version else None
    return replan(
        read, addition.source, addition.model, version, addition.description, addition.entry, addition.bounds
    )


def _spec_of(addition: Addition, checked: ModelVersion) -> VersionSpec:
    return dataclasses.replace(checked.spec, artifact=addition.entry.artifact, version=addition.version)

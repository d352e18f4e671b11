"""Where a config or a store lives: a local path, or an fsspec URL (``s3://bucket/prefix``, ``file:///srv``).

Only names here: reading and writing what they name is ``registry.stores``' job.
"""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]+)://(.*)", re.DOTALL)


@dataclass(frozen=True)
class Url:
    """An object-storage location: ``scheme://`` and a slash-separated key (no trailing slash)."""

    scheme: str
    key: str

    def __str__(self) -> str:
        return f"{self.scheme}://{self.key}"

    @property
    def name(self) -> str:
        """The last part of the key: ``config.yaml`` of ``s3://bucket/prefix/config.yaml``."""
        return posixpath.basename(self.key)

    @property
    def parent(self) -> Url:
        """The location holding this one (the prefix a relative ``store:`` is taken from)."""
        return Url(self.scheme, posixpath.dirname(self.key))

    def child(self, relative: str) -> Url:
        """``relative`` under this location; raises ``ValueError`` for a key that would leave it
        (absolute, ``..``, another scheme or bucket)."""
        problem = relative_key_problem(relative)
        if problem:
            raise ValueError(f"'{relative}' {problem}")
        return Url(self.scheme, f"{self.key}/{posixpath.normpath(relative)}" if self.key else relative)


def relative_key_problem(relative: str) -> str | None:
    """Why ``relative`` is no key inside a store (it must stay under the store's prefix), or None."""
    if _SCHEME.match(relative):
        return "names another location; give a key inside the store"
    if relative.startswith("/") or "\\" in relative or not relative.strip("/"):
        return "is not a relative key; give a key inside the store"
    if ".." in relative.split("/"):
        return "contains '..'; it must stay inside the store"
    return None


def is_url(text: str | os.PathLike[str]) -> bool:
    """Whether ``text`` is a URL (``scheme://...``) rather than a local path."""
    return isinstance(text, str) and _SCHEME.fullmatch(text) is not None


def location(text: str | os.PathLike[str] | Url) -> Path | Url:
    """``text`` as a ``Url`` when it is one, else as a local ``Path``."""
    if isinstance(text, Url):
        return text
    match = _SCHEME.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        return Path(text)
    return Url(match.group(1).lower(), match.group(2).rstrip("/"))


def store_location(store: str, config: Path | Url) -> Path | Url:
    """Where ``store:`` points: a URL as it is; a plain path relative to the config's folder, or to
    its prefix when the config itself is at a URL (an absolute path stays a local folder)."""
    if is_url(store):
        return location(store)
    if isinstance(config, Url):
        return Path(store) if Path(store).is_absolute() else config.parent.child(store)
    return (config.parent / store).resolve()

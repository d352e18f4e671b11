"""The local copies of remote artifacts: one file per sha256, downloaded once, verified before it is
kept, reused across reloads and restarts, and the least recently used ones removed past a size bound.

A download goes to a temporary file beside the cache and is renamed to its sha256 only once its
bytes hash to it, so a partial or replaced object is never kept, and replicas sharing a cache folder
never see one another's half-written files.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from registry.stores import StoreError, copy_to
from spec.config import VersionSpec
from spec.errors import ArtifactError
from spec.locations import Url

CACHE_ENV = "MODEL_REGISTRY_CACHE_DIR"
DEFAULT_MAX_BYTES = 10 * 1024**3
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ArtifactCache:
    """A folder of verified artifacts named by their sha256, at most ``max_bytes`` in all."""

    root: Path
    max_bytes: int = DEFAULT_MAX_BYTES


_cache: ArtifactCache | None = None


def default_cache_dir() -> Path:
    """``$MODEL_REGISTRY_CACHE_DIR``, else ``$XDG_CACHE_HOME/model-registry/artifacts`` (~/.cache)."""
    explicit = os.environ.get(CACHE_ENV)
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "model-registry" / "artifacts"


def use_cache(root: Path | None = None, max_bytes: int | None = None) -> ArtifactCache:
    """Set (and return) the cache this process fetches into (``--cache-dir``, ``--cache-max-bytes``)."""
    global _cache
    _cache = ArtifactCache(Path(root or default_cache_dir()), max_bytes or DEFAULT_MAX_BYTES)
    return _cache


def current_cache() -> ArtifactCache:
    """The cache set by ``use_cache``, else the default one."""
    return _cache or use_cache()


def local_copy(spec: VersionSpec, store: Url, max_bytes: int) -> Path:
    """The verified local copy of ``spec``'s artifact in ``store``, downloaded only if not cached.

    Raises ``ArtifactError`` for a key outside the store, a checksum that does not match, an object
    too large or a store that cannot be read (the URL and cause named, no credential)."""
    if not spec.sha256:
        raise ArtifactError(spec.model, spec.version, "sha256", f"required, the store is remote ({store})")
    try:
        url = store.child(spec.artifact)
    except ValueError as exc:
        raise ArtifactError(spec.model, spec.version, "artifact", str(exc)) from None
    cache = current_cache()
    path = cache.root / spec.sha256
    if path.is_file():
        os.utime(path)  # the most recently used are kept longest
        return path
    cache.root.mkdir(parents=True, exist_ok=True)
    try:
        _download(spec, url, path, max_bytes)
    except StoreError as exc:
        raise ArtifactError(spec.model, spec.version, "artifact", f"cannot be fetched: {exc}") from None
    _evict(cache, keep=path)
    return path


def _download(spec: VersionSpec, url: Url, path: Path, max_bytes: int) -> None:
    started = time.perf_counter()
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".download-", delete=False) as staged:
        try:
            size = copy_to(url, staged, max_bytes)
            staged.flush()
            staged.seek(0)
            digest = hashlib.file_digest(staged, "sha256").hexdigest()  # type: ignore[arg-type]
        except BaseException:
            os.unlink(staged.name)
            raise
    if digest != spec.sha256:
        os.unlink(staged.name)
        raise ArtifactError(
            spec.model,
            spec.version,
            "sha256",
            f"mismatch: the config says {spec.sha256}, the object at {url} is {digest}; not kept",
        )
    os.replace(staged.name, path)
    fields = {"event": "fetch", "model": spec.model, "version": spec.version, "status": "ok"}
    log.info("fetched %s (%d bytes) in %.2f s", url, size, time.perf_counter() - started, extra=fields)


def _evict(cache: ArtifactCache, keep: Path) -> None:
    """Remove the least recently used files until the cache fits its bound (``keep`` stays)."""
    entries = []
    for entry in cache.root.iterdir():
        try:
            status = entry.stat()
        except OSError:
            continue
        if entry.is_file() and not entry.name.startswith("."):
            entries.append((status.st_mtime, status.st_size, entry))
    total = sum(size for _, size, _ in entries)
    for _, size, entry in sorted(entries):
        if total <= cache.max_bytes:
            break
        if entry != keep:
            entry.unlink(missing_ok=True)
            total -= size

"""Objects at fsspec URLs: read with the revision read, stream, create only if absent, replace only if
unchanged. S3 goes through s3fs (the ``[s3]`` extra), ``file://`` through fsspec's local filesystem.

Credentials and endpoints come from the provider's own chain (for S3: the ``AWS_*`` variables,
``AWS_ENDPOINT_URL_S3`` / ``AWS_ENDPOINT_URL``, profiles, instance roles), never from the config; every
message this module makes passes ``redact``, so a credential never reaches a log line, an error or
/health. Conditional writes on S3 are PutObject with ``If-None-Match: *`` (create) and ``If-Match:
<ETag>`` (replace), sent through s3fs' ``pipe_file``, which hands extra arguments to PutObject.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from spec.locations import Url

CHUNK_BYTES = 1024 * 1024
CONDITIONAL_SCHEMES = ("s3", "s3a")  # and local files, by lock and link
# Botocore's timeouts and retries for S3: a store that is down fails a poll in seconds, not minutes.
S3_CONFIG = {"connect_timeout": 5, "read_timeout": 30, "retries": {"max_attempts": 3, "mode": "standard"}}
_SECRET_VARIABLES = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY_ID", "AWS_SECURITY_TOKEN")
# Their debug lines carry request headers; nothing of theirs below WARNING is ever logged.
_QUIET_LOGGERS = ("botocore", "aiobotocore", "s3fs", "fsspec", "urllib3", "boto3")


class StoreError(Exception):
    """A store could not be reached or refused a request; the message names the URL and the cause."""

    def __init__(self, url: Url | str, cause: str) -> None:
        self.url, self.cause = str(url), redact(cause)
        super().__init__(f"{self.url}: {self.cause}")


class ObjectExists(StoreError):
    """``put_new`` found an object already there; it was left as it was."""


class WriteConflict(StoreError):
    """``replace_if`` found the object changed since it was read; it was left as it was."""


@dataclass(frozen=True)
class StoreObject:
    """An object's bytes and the revision (ETag, generation, or local stamp) they were read at."""

    data: bytes
    tag: str | None


def redact(text: str) -> str:
    """``text`` with the value of every credential variable in the environment replaced by ``***``."""
    for name in _SECRET_VARIABLES:
        value = os.environ.get(name)
        if value and len(value) >= 4:
            text = text.replace(value, "***")
    return text


def cause_of(exc: BaseException) -> str:
    """One line naming what went wrong, credentials redacted."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return redact(f"{type(exc).__name__}: {text}"[:500])


def filesystem(url: Url) -> tuple[Any, str]:
    """The fsspec filesystem for ``url`` and the path it knows the object by."""
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.getLogger(name).level, logging.WARNING))
    import fsspec  # s3fs and friends only when a URL is used

    options: dict[str, Any] = {"config_kwargs": S3_CONFIG} if url.scheme in ("s3", "s3a") else {}
    try:
        return fsspec.core.url_to_fs(str(url), **options)
    except ImportError as exc:
        extra = " (pip install 'model-registry[s3]')" if url.scheme in ("s3", "s3a") else ""
        raise StoreError(url, f"no filesystem for {url.scheme}://: {exc}{extra}") from None
    except Exception as exc:
        raise StoreError(url, cause_of(exc)) from None


@contextlib.contextmanager
def _errors(url: Url) -> Iterator[None]:
    """Any failure of the filesystem as a ``StoreError`` naming ``url``."""
    try:
        yield
    except StoreError:
        raise
    except FileNotFoundError:
        raise StoreError(url, "no such object") from None
    except Exception as exc:
        raise StoreError(url, cause_of(exc)) from None


def tag_of(info: dict[str, Any]) -> str | None:
    """The revision an fsspec ``info`` gives: ETag or generation; a local file's stamp."""
    for key in ("ETag", "etag", "generation", "VersionId"):
        if info.get(key):
            return str(info[key]).strip('"')
    if info.get("mtime") is not None:
        return f"{info.get('mtime')}:{info.get('size')}:{info.get('ino')}"
    return None


def revision(url: Url) -> str | None:
    """The object's current revision (one HEAD request on S3); raises ``StoreError``."""
    fs, path = filesystem(url)
    with _errors(url):
        fs.invalidate_cache(path)
        return tag_of(fs.info(path))


def read_object(url: Url, attempts: int = 3) -> StoreObject:
    """The object's bytes with the revision they belong to (read between two equal revisions)."""
    fs, path = filesystem(url)
    with _errors(url):
        for _ in range(attempts):
            fs.invalidate_cache(path)
            before = tag_of(fs.info(path))
            data = fs.cat_file(path)
            fs.invalidate_cache(path)
            if tag_of(fs.info(path)) == before:
                return StoreObject(data, before)
    raise StoreError(url, f"changed while it was read, {attempts} times in a row")


def exists(url: Url) -> bool:
    """Whether an object is at ``url``; raises ``StoreError`` when the store cannot say."""
    fs, path = filesystem(url)
    with _errors(url):
        fs.invalidate_cache(path)
        try:
            fs.info(path)
        except FileNotFoundError:
            return False
    return True


def probe(url: Url) -> None:
    """Raise ``StoreError`` unless the store at ``url`` answers (an empty prefix is fine)."""
    fs, path = filesystem(url)
    with _errors(url):
        fs.invalidate_cache(path)
        with contextlib.suppress(FileNotFoundError):
            fs.ls(path, detail=False)


def copy_to(url: Url, target: BinaryIO, max_bytes: int) -> int:
    """Stream the object into ``target`` in small blocks; refuses one over ``max_bytes``."""
    fs, path = filesystem(url)
    copied = 0
    with _errors(url), fs.open(path, "rb", block_size=CHUNK_BYTES, cache_type="none") as source:
        while block := source.read(CHUNK_BYTES):
            copied += len(block)
            if copied > max_bytes:
                raise StoreError(url, f"over {max_bytes} bytes (server.max_artifact_bytes); not read")
            target.write(block)
    return copied


def put_new(url: Url, data: bytes) -> None:
    """Write a new object; raises ``ObjectExists`` (changing nothing) if one is already there."""
    fs, path = filesystem(url)
    with _errors(url):
        if _is_local(fs):
            return _local_put_new(url, Path(path), data)
        _check_conditional(url)
        try:
            fs.pipe_file(path, data, IfNoneMatch="*")
        except Exception as exc:
            if _precondition_failed(exc) or isinstance(exc, FileExistsError):
                raise ObjectExists(url, "already exists; it is never overwritten") from None
            raise
        fs.invalidate_cache(path)
    return None


def replace_if(url: Url, data: bytes, tag: str | None) -> None:
    """Replace the object only if its revision is still ``tag``; raises ``WriteConflict`` otherwise."""
    fs, path = filesystem(url)
    with _errors(url):
        if _is_local(fs):
            return _local_replace_if(url, Path(path), data, tag)
        _check_conditional(url)
        if tag is None:
            raise StoreError(url, "the store gives no revision to write against; not written")
        try:
            fs.pipe_file(path, data, IfMatch=f'"{tag}"')
        except Exception as exc:
            if _precondition_failed(exc):
                raise WriteConflict(url, "changed since it was read") from None
            raise
        fs.invalidate_cache(path)
    return None


def delete(url: Url) -> None:
    """Remove the object (one this process created and must take back)."""
    fs, path = filesystem(url)
    with _errors(url):
        fs.rm_file(path)
        fs.invalidate_cache(path)


def _check_conditional(url: Url) -> None:
    """Refuse to write where a condition would not be sent (it would be an unconditional write)."""
    if url.scheme not in CONDITIONAL_SCHEMES:
        raise StoreError(
            url, f"conditional writes are implemented for s3:// and file:// only, not {url.scheme}://"
        )


def _is_local(fs: Any) -> bool:
    return "file" in (fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,))


def _precondition_failed(exc: BaseException) -> bool:
    """Whether the store refused a conditional write (HTTP 412), however the client wraps it."""
    seen: BaseException | None = exc
    while seen is not None:
        text = str(seen)
        if "PreconditionFailed" in text or "pre-conditions you specified" in text:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _local_put_new(url: Url, path: Path, data: bytes) -> None:
    """Written aside, then linked into place: ``link`` fails on an existing file, and no reader ever
    sees a partial one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".incoming-") as staged:
        staged.write(data)
        staged.flush()
        try:
            os.link(staged.name, path)
        except FileExistsError:
            raise ObjectExists(url, "already exists; it is never overwritten") from None


def _local_replace_if(url: Url, path: Path, data: bytes, tag: str | None) -> None:
    """Compare and replace under an exclusive lock on a file beside it, renamed into place whole."""
    lock = path.with_name(f".{path.name}.lock")
    with open(lock, "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        status = path.stat()
        if tag_of({"mtime": status.st_mtime, "size": status.st_size, "ino": status.st_ino}) != tag:
            raise WriteConflict(url, "changed since it was read")
        replace_file(path, data)


def replace_file(path: Path, data: bytes) -> None:
    """Write ``data`` beside the local file ``path`` with its mode, then rename it over ``path``: a
    reader sees the old bytes or the new, never part of them."""
    descriptor, staged = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".incoming")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
        os.chmod(staged, path.stat().st_mode & 0o7777)
        os.replace(staged, path)
    except BaseException:
        Path(staged).unlink(missing_ok=True)
        raise

"""Accept a request body: content type, size (announced or chunked), JSON. The one place that reads one.

The errors raised are werkzeug's HTTP exceptions, rendered by whichever protocol the path speaks.
A body is read in steps, each reserved against the worker's buffer budget (api.server.buffers), so that
clients stalling large bodies cannot run a worker out of memory.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from gunicorn.http.errors import NoMoreData, ParseException
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge, ServiceUnavailable, UnsupportedMediaType
from werkzeug.http import parse_options_header

from api.server import buffers

JSON = "application/json"
UTF8_BOM = b"\xef\xbb\xbf"
READ_STEP = 256 * 1024
RETRY_AFTER_S = 1


def is_json(content_type: str) -> bool:
    """Whether a Content-Type names JSON (``application/json`` or ``application/*+json``)."""
    mimetype = parse_options_header(content_type)[0].lower()
    return mimetype == JSON or (mimetype.startswith("application/") and mimetype.endswith("+json"))


def read_json_body(
    environ: dict[str, Any],
    limit: int,
    content_type_required: bool = True,
    loads: Callable[[bytes], Any] = orjson.loads,
    also_accepted: tuple[str, ...] = (),
) -> Any:
    """The request body parsed as JSON by ``loads`` (which raises ``ValueError`` for what is not JSON).

    Raises 415 unless the Content-Type is JSON, one of ``also_accepted`` (a protocol whose ``loads``
    reads other framings), or, when not ``content_type_required``, absent;
    413 when the body is larger than ``limit`` bytes, whether announced by Content-Length or sent
    in chunks (it is never cut short and read as if whole), 503 with Retry-After when the worker
    holds all the body and answer bytes it may (``server.max_buffered_bytes``), and 400 for an
    empty or malformed body, a body that ends before its Content-Length, or chunks that break the
    chunked encoding. A leading UTF-8 byte order mark is ignored, whatever the body's size (RFC
    8259 allows either).
    """
    content_type = environ.get("CONTENT_TYPE", "")
    if (content_type or content_type_required) and not is_json(content_type):
        sent = parse_options_header(content_type)[0] or "no Content-Type"
        if sent.lower() not in also_accepted:
            raise UnsupportedMediaType(
                f"The body must be JSON sent with 'Content-Type: {JSON}' (got {sent})."
            )
    announced = environ.get("CONTENT_LENGTH") or ""
    if announced.isdigit() and int(announced) > limit:
        raise _too_large(limit)
    if announced.isdigit() and int(announced) <= buffers.SMALL:  # not counted: the common case
        return _parse(_read(environ["wsgi.input"], limit + 1), announced, limit, loads)
    try:
        with buffers.holding(refuse=True) as grow_to:
            grow_to(int(announced) if announced.isdigit() else 0)
            data = _read(environ["wsgi.input"], limit + 1, grow_to)
            return _parse(data, announced, limit, loads)
    except buffers.BufferFull as full:
        raise ServiceUnavailable(
            f"The server is busy: it holds its limit of {full.budget} bytes of request bodies and "
            f"answers (server.max_buffered_bytes). Retry in {RETRY_AFTER_S} s.",
            retry_after=RETRY_AFTER_S,
        ) from None


def _read(stream: Any, most: int, grow_to: Callable[[int], None] | None = None) -> bytes:
    """Up to ``most`` bytes of the body: in one read, or with ``grow_to`` in steps, each reserved
    as it arrives. A broken chunked encoding is the client's error (400)."""
    try:
        if grow_to is None:
            return stream.read(most)
        pieces = []
        size = 0
        while size < most:
            piece = stream.read(min(READ_STEP, most - size))
            if not piece:
                break
            pieces.append(piece)
            size += len(piece)
            grow_to(size)
        return b"".join(pieces)
    except NoMoreData:
        raise BadRequest("The body ended before its last chunk (chunked encoding).") from None
    except ParseException as exc:  # a chunk size, terminator, extension or trailer that is not HTTP
        raise BadRequest(f"The body's chunked encoding is malformed: {exc}.") from None


def _parse(data: bytes, announced: str, limit: int, loads: Callable[[bytes], Any]) -> Any:
    if len(data) > limit:
        raise _too_large(limit)
    if announced.isdigit() and len(data) < int(announced):
        raise BadRequest(
            f"The body ended after {len(data)} of the {announced} bytes its Content-Length announced."
        )
    if data.startswith(UTF8_BOM):
        data = data[len(UTF8_BOM) :]
    if not data.strip():
        raise BadRequest("The body is empty; send a JSON object of features.")
    try:
        return loads(data)
    except ValueError as exc:  # orjson.JSONDecodeError is one
        raise BadRequest(f"The body is not valid JSON: {exc}.") from None


def _too_large(limit: int) -> RequestEntityTooLarge:
    return RequestEntityTooLarge(
        f"The body is larger than the limit of {limit} bytes (server.max_body_bytes)."
    )

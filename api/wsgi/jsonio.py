"""Flask's JSON provider backed by orjson, for the metadata endpoints (the predict pipeline
reads bodies in api/wsgi/body.py and writes them with its protocol's encoder)."""

from __future__ import annotations

from typing import Any

import orjson
from flask import Response
from flask.json.provider import JSONProvider

_DUMP_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


class OrjsonProvider(JSONProvider):
    """Flask's JSON provider backed by orjson (faster than the standard library's)."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return orjson.dumps(obj, option=_DUMP_OPTIONS).decode()

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return orjson.loads(s)

    def response(self, *args: Any, **kwargs: Any) -> Response:
        obj = self._prepare_response_obj(args, kwargs)
        return Response(orjson.dumps(obj, option=_DUMP_OPTIONS), mimetype="application/json")

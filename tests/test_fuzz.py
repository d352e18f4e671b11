"""Schemathesis drives every operation in /openapi.json with all of its checks: never a 5xx,
answers that match the document, and every request the document calls valid is accepted.

The one case left out of ``positive_data_acceptance`` is a constraint across the parts of a body
that OpenAPI 3.0's JSON Schema cannot express, and the document says so in words: rows given as
columns (``inputs`` on /models, tensors on V2) must all have the same length, a V2 tensor's
``shape`` must match its ``data``, and each required feature needs its tensor, once (3.0 has no
``contains``). The generic
routes (``/models/{name}/{version}/predict``, ``/v2/models/{name}/infer``, ...) take the body of
whichever version their path names, which a schema cannot tie to a path parameter; their bodies
are checked on each version's own path, where every check runs.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import CHECKS, load_all_checks, positive_data_acceptance

from api import create_app
from api.state import registry_of
from tests.conftest import EXAMPLE_CONFIG

load_all_checks()
ALL_CHECKS = CHECKS.get_all()
APP = create_app(EXAMPLE_CONFIG)
schema = schemathesis.openapi.from_wsgi("/openapi.json", APP)
REQUIRED = {
    f"/v2/models/{v.model}/versions/{v.version}/infer": {f.name for f in v.spec.features if f.required}
    for v in registry_of(APP).all_versions()
}


def unexpressible(case: schemathesis.Case) -> bool:
    """A schema-valid request the server rightly refuses for a reason JSON Schema cannot state."""
    if "{name}" in case.path:
        return True
    body = case.body if isinstance(case.body, dict) else {}
    columns = body.get("inputs")
    if isinstance(columns, dict):
        return len({len(v) for v in columns.values() if isinstance(v, list)}) > 1
    if isinstance(columns, list):
        return _ragged_tensors(columns, REQUIRED.get(case.path, set()))
    return False


def _ragged_tensors(tensors: list[Any], required: set[str]) -> bool:
    """Tensors of unequal lengths, a shape that disagrees with its data, or a feature's tensor
    missing or sent twice."""
    names = [t["name"] for t in tensors if isinstance(t, dict) and isinstance(t.get("name"), str)]
    if len(names) != len(set(names)) or not required <= set(names):
        return True
    rows = set()
    for tensor in tensors:
        if not isinstance(tensor, dict) or not isinstance(tensor.get("data"), list):
            continue
        data, shape = tensor["data"], tensor.get("shape")
        count = len(data)
        if isinstance(shape, list) and shape and isinstance(shape[0], int) and shape[0] != count:
            return True
        rows.add(count)
    return len(rows) > 1


@schema.parametrize()
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_passes_every_check(case: schemathesis.Case) -> None:
    excluded = [positive_data_acceptance] if unexpressible(case) else []
    case.call_and_validate(checks=ALL_CHECKS, excluded_checks=excluded)

"""Schemathesis drives every operation of a live server's /openapi.json with all of its checks:
never a 5xx, answers that match the document, every request the document calls valid is
accepted, and every request it calls invalid is refused.

Two limits of OpenAPI 3.0's JSON Schema are left out of ``positive_data_acceptance``, case by
case, and the document says both in words:

- the generic routes (``/models/{name}/{version}/predict``, ``/v2/models/{name}/infer``, ...)
  take the body of whichever version their path names, which a schema cannot tie to a path
  parameter; their bodies are checked on each version's own path, where every check runs;
- a constraint across the parts of a body: rows given as columns (``inputs`` on /models, tensors
  on V2) must all have the same length, a V2 tensor's ``shape`` must match its ``data`` (``[n]``
  or ``[n, 1]``: 3.0 has no positional ``items`` to say the second number is 1), and each
  required feature needs its tensor, once (3.0 has no ``contains``).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import CHECKS, load_all_checks, positive_data_acceptance

from api import create_app
from api.wsgi.state import registry_of
from tests.conftest import EXAMPLE_CONFIG
from tests.live import LiveServer, request, serving

load_all_checks()
ALL_CHECKS = CHECKS.get_all()
APP = create_app(EXAMPLE_CONFIG)
# The operations are collected from the document the app builds for the example config;
# test_the_live_server_serves_that_document holds it to what the live server serves. (Loading it
# from the live server, with schemathesis.pytest.from_fixture, fails under pytest 9.)
DOCUMENT = APP.test_client().get("/openapi.json").get_json()
QUICK = schemathesis.openapi.from_dict(copy.deepcopy(DOCUMENT))
QUICK.config.phases.coverage.enabled = False  # its boundary cases take most of a minute: the slow test
THOROUGH = schemathesis.openapi.from_dict(copy.deepcopy(DOCUMENT))
REQUIRED = {
    f"/v2/models/{v.model}/versions/{v.version}/infer": {f.name for f in v.spec.features if f.required}
    for v in registry_of(APP).all_versions()
}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with serving(EXAMPLE_CONFIG, tmp_path_factory.mktemp("fuzz"), workers=2) as server:
        yield server


def test_the_live_server_serves_that_document(live: LiveServer) -> None:
    assert request(f"{live.url}/openapi.json") == (200, DOCUMENT)


def unexpressible(case: schemathesis.Case) -> bool:
    """A schema-valid request the server rightly refuses for a reason JSON Schema cannot state."""
    body = case.body if isinstance(case.body, dict) else {}
    columns = body.get("inputs")
    if "{name}" in case.path:  # which names are features depends on {name}; that a name is one does not
        return not isinstance(columns, list) or all(_named(t) for t in columns)
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
        count = len(tensor["data"])
        if _shape_disagrees(tensor.get("shape"), count):
            return True
        rows.add(count)
    return len(rows) > 1


def _shape_disagrees(shape: Any, count: int) -> bool:
    """A shape of one or two positive numbers (the schema says that much) other than ``[count]``
    or ``[count, 1]``."""
    positive = isinstance(shape, list) and all(type(n) is int and n >= 1 for n in shape)
    return positive and (shape[:1] != [count] or shape[1:] not in ([], [1]))


def _named(tensor: Any) -> bool:
    return isinstance(tensor, dict) and isinstance(tensor.get("name"), str) and tensor["name"] != ""


def call_and_validate(case: schemathesis.Case, live: LiveServer) -> None:
    """Send the case to the live server and run every check on the answer (but the one the
    case's body is exempt from, if it is)."""
    excluded = [positive_data_acceptance] if unexpressible(case) else []
    case.call_and_validate(base_url=live.url, checks=ALL_CHECKS, excluded_checks=excluded)


@QUICK.parametrize()
@settings(max_examples=15, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_every_operation_passes_every_check(case: schemathesis.Case, live: LiveServer) -> None:
    call_and_validate(case, live)


@pytest.mark.slow
@THOROUGH.parametrize()
@settings(max_examples=100, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_every_check_also_at_the_boundaries(case: schemathesis.Case, live: LiveServer) -> None:
    call_and_validate(case, live)

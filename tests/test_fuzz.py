"""Schemathesis drives every operation in /openapi.json: never a 5xx, and answers match the document.

One default check is left out: ``positive_data_acceptance`` expects every request the schema allows
to succeed, but OpenAPI cannot say that columns must have equal lengths, so a columnar body with
ragged columns is schema-valid and still (rightly) a 400.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance

from api import create_app
from tests.conftest import EXAMPLE_CONFIG

schema = schemathesis.openapi.from_wsgi("/openapi.json", create_app(EXAMPLE_CONFIG))


@schema.parametrize()
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation(case: schemathesis.Case) -> None:
    case.call_and_validate(excluded_checks=[positive_data_acceptance])

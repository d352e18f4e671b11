"""The route table (api.wsgi.routes) is the one statement of the routes: the app serves exactly its
rules, and the token check, the error body of each path and the predict routes follow from it."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from api import create_app
from api.wsgi.auth import is_protected
from api.wsgi.routes import (
    PREDICT_ROUTES,
    PROTOCOLS,
    RENDERERS,
    ROUTES,
    Route,
    Speaks,
    guarded_prefixes,
    protocol_of,
    render_error_for,
    segment_protocols,
    undeclared,
)
from tests.conftest import EXAMPLE_CONFIG
from tests.test_path_spellings import concrete

TOKEN = "route-table-token"


@pytest.fixture(scope="module")
def app() -> Flask:
    return create_app(EXAMPLE_CONFIG, token=TOKEN)


@pytest.fixture(scope="module")
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def test_the_table_declares_every_rule_the_app_serves_and_no_other(app: Flask) -> None:
    served = [(rule.rule, rule.methods or ()) for rule in app.url_map.iter_rules()]
    assert undeclared(served) == []
    assert {rule for rule, _ in served} | {route.rule for route in PREDICT_ROUTES} == {r.rule for r in ROUTES}


def test_a_route_missing_from_the_table_is_named() -> None:
    served = [(r.rule, r.methods) for r in ROUTES if not r.predict and r.rule != "/metrics"]
    served.append(("/extra", ("GET", "HEAD")))
    assert undeclared(served) == [
        "served, not declared: /extra ('GET',)",
        "declared, not served: /metrics ('GET',)",
    ]


def test_the_pipeline_serves_the_predict_routes_of_the_table() -> None:
    expected = [(r.rule, type(PROTOCOLS[r.speaks])) for r in ROUTES if r.predict]
    assert [(route.rule, type(route.protocol)) for route in PREDICT_ROUTES] == expected


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.rule)
def test_each_routes_decisions_follow_the_table(route: Route, client: FlaskClient) -> None:
    path = concrete(route.rule)
    assert is_protected(path) is route.guarded
    assert protocol_of(path) is route.speaks
    assert render_error_for(path) is RENDERERS[route.speaks]
    answer = client.open(path, method=route.methods[0])
    assert (answer.status_code == 401) is route.guarded, answer.data
    if route.guarded:
        body = answer.get_json()
        assert ("error" in body) is (route.speaks is Speaks.V2), body


@pytest.mark.parametrize(
    ("path", "v2"),
    [("/v2/", True), ("/v2/nope", True), ("/v2x", False), ("/nope", False), ("/models/nope/x/y", False)],
)
def test_an_unrouted_path_answers_with_the_body_of_its_first_segment(
    client: FlaskClient, path: str, v2: bool
) -> None:
    answer = client.get(path, headers={"Authorization": f"Bearer {TOKEN}"})
    body = answer.get_json()
    assert answer.status_code == 404 and ("error" in body) is v2, body


def test_an_open_route_under_a_guarded_prefix_is_refused() -> None:
    routes = (Route("/models/<name>", Speaks.MODELS, guarded=True), Route("/models/x", Speaks.MODELS, False))
    with pytest.raises(ValueError, match="/models/x is open"):
        guarded_prefixes(routes)


def test_two_protocols_under_one_first_segment_are_refused() -> None:
    routes = (Route("/v2/a", Speaks.V2, guarded=False), Route("/v2/b", Speaks.NONE, guarded=False))
    with pytest.raises(ValueError, match="share a first segment"):
        segment_protocols(routes)

"""The app factory: ``create_app(config)`` loads the registry and returns the app that serves it.

Predictions go through one pipeline (api.wsgi.pipeline) in front of Flask; Flask and flask-smorest serve
the metadata, health and docs endpoints and the OpenAPI document.
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask
from flask_smorest import Api

from api.endpoints import docs, docs_v2, health, home, models, v2_metadata
from api.observability import metrics
from api.observability.metrics import MetricsHook
from api.observability.metrics_dir import multiprocess_dir
from api.observability.request_log import RequestIdHook
from api.server import shadow
from api.wsgi import errors, state
from api.wsgi.dispatch import Dispatcher
from api.wsgi.jsonio import OrjsonProvider
from api.wsgi.pipeline import PredictPipeline, VersionConverter
from api.wsgi.routes import PREDICT_ROUTES, render_error_for, undeclared
from registry.loader import load_registry
from registry.registry import Registry
from registry.reload import reload_registry
from spec.config import RegistryConfig, read_config


def create_app(config: RegistryConfig | str | os.PathLike[str], token: str | None = None) -> Flask:
    """An app serving every version in ``config`` (a parsed config or the path of one).

    Loads every artifact now, once; raises ``ConfigError`` if the file itself is wrong. With a
    ``token``, the /models endpoints require ``Authorization: Bearer <token>``.
    """
    if not isinstance(config, RegistryConfig):
        config = read_config(Path(config))
    return create_app_for(load_registry(config), token)


def reload_app(app: Flask) -> Flask:
    """A new app on the next registry (``registry.reload``): what serves is never dropped."""
    registry = reload_registry(state.registry_of(app))
    return create_app_for(registry, app.config["REGISTRY_TOKEN"], app.config["ACCESS_LOG"])


def create_app_for(registry: Registry, token: str | None = None, access_log: bool = True) -> Flask:
    """An app serving an already-loaded ``registry``; ``access_log``: log a line per request."""
    # the package: its templates, and "api" as the name of Flask's logger; no static folder to serve
    app = Flask("api", static_folder=None)
    app.json = OrjsonProvider(app)
    app.config.update(
        REGISTRY_TOKEN=token,
        ACCESS_LOG=access_log,
        API_TITLE="Model registry",
        API_VERSION=v2_metadata.server_version(),  # the package's, shown on the docs page
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="/docs",
        OPENAPI_SWAGGER_UI_URL=docs.SWAGGER_UI_URL,
        API_SPEC_OPTIONS={
            "info": {"description": "Versioned scikit-learn models behind validated JSON predictions."}
        },
    )
    state.init_app(app, registry)
    app.url_map.converters["version"] = VersionConverter
    api = Api(app)
    api.register_converter(VersionConverter, lambda converter: {"type": "string"})
    for blueprint in (models.blp, health.blp):
        api.register_blueprint(blueprint)
    app.register_blueprint(v2_metadata.blp)
    pipeline = PredictPipeline(registry, PREDICT_ROUTES)
    docs.init_app(app)
    app.register_blueprint(home.bp)
    app.register_blueprint(metrics.bp)
    mismatch = undeclared((rule.rule, rule.methods or ()) for rule in app.url_map.iter_rules())
    if mismatch:  # a blueprint's route missing from api.wsgi.routes, or the other way round
        raise RuntimeError("; ".join(mismatch))
    docs.document_predict(api, registry, pipeline)
    docs_v2.document_v2(api, registry, pipeline)
    errors.init_app(app, render_error_for)
    dispatcher = Dispatcher(pipeline, app.wsgi_app, token, render_error_for)
    app.wsgi_app = RequestIdHook(MetricsHook(dispatcher), access_log)
    shadow.set_recorder(metrics.record_shadow)
    if multiprocess_dir() is None:  # under gunicorn each worker records what it serves
        metrics.record_versions(registry)
    return app

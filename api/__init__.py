"""The Flask app: ``create_app(config)`` loads the registry and returns an app that serves it."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask
from flask_smorest import Api
from werkzeug.routing import BaseConverter

from api import auth, docs, errors, health, home, models, predict, state
from api.fastpath import PredictFastPath
from api.jsonio import OrjsonProvider
from spec.config import RegistryConfig, read_config
from registry.loader import load_registry
from registry.registry import Registry
from registry.reload import reload_registry

API_VERSION = "1.0"


class VersionConverter(BaseConverter):
    """A version or alias in a path: anything but "predict", so /models/<name>/predict is only POST."""

    regex = r"(?!predict/?$)[^/]+"


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
    return create_app_for(reload_registry(state.registry_of(app)), app.config.get("REGISTRY_TOKEN"))


def create_app_for(registry: Registry, token: str | None = None) -> Flask:
    """An app serving an already-loaded ``registry``."""
    app = Flask(__name__)
    app.json = OrjsonProvider(app)
    app.config.update(
        MAX_CONTENT_LENGTH=registry.config.server.max_body_bytes,
        API_TITLE="Model registry",
        API_VERSION=API_VERSION,
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
    auth.init_app(app, token)
    app.url_map.converters["version"] = VersionConverter
    api = Api(app)
    api.register_converter(VersionConverter, lambda converter: {"type": "string"})
    for blueprint in (models.blp, predict.blp, health.blp):
        api.register_blueprint(blueprint)
    docs.init_app(app)
    app.register_blueprint(home.bp)
    docs.document_versions(api, registry)
    errors.init_app(app)
    app.wsgi_app = PredictFastPath(app.wsgi_app, state.holder_of(app), token)
    return app

"""The registry an app serves. An app serves one registry for its whole life: a reload builds a
new app on the next registry (api.server.master), so nothing here is ever swapped."""

from __future__ import annotations

from flask import Flask, current_app

from registry.registry import Registry

EXTENSION = "model_registry"


def init_app(app: Flask, registry: Registry) -> None:
    """Attach ``registry`` to ``app``."""
    app.extensions[EXTENSION] = registry


def registry_of(app: Flask) -> Registry:
    """The registry ``app`` serves."""
    return app.extensions[EXTENSION]


def current_registry() -> Registry:
    """The registry of the app handling the current request."""
    return registry_of(current_app)

"""The HTTP layer: ``api.create_app(config)`` loads the registry and returns the app that serves it.

The top layer: it may import ``registry``, ``schemas`` and ``spec``; nothing imports it. The factory
lives in api.app and is looked up from here on first use, so that importing ``api`` costs nothing:
the ``model-registry`` command (api.entry_point) must install its SIGTERM handler before the
seconds of importing Flask and scikit-learn.
"""

from __future__ import annotations

from typing import Any

APP_FACTORY_NAMES = ("create_app", "create_app_for", "reload_app", "render_error_for")


def __getattr__(name: str) -> Any:
    if name in APP_FACTORY_NAMES:
        from api import app

        return getattr(app, name)
    raise AttributeError(f"module 'api' has no attribute {name!r}")

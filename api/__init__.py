"""The HTTP layer: ``api.create_app(config)`` loads the registry and returns the app that serves it.

Beside ``batch``, below ``cli``: it may import ``registry``, ``schemas`` and ``spec``
(tests/test_layers.py states the rule). Subpackages by job: ``wsgi`` (app, route table, dispatch,
token, body, predict pipeline, errors), ``protocols`` (/models and V2 envelopes), ``endpoints``
(GET endpoints, home page, docs), ``server`` (gunicorn master and worker, connection and memory
limits), ``observability`` (metrics, logs). The factory lives in api.wsgi.app and is looked up from
here on first use, so that importing ``api`` costs nothing: the ``model-registry`` command
(cli.entry_point) must install its SIGTERM handler before the seconds of importing Flask and scikit-learn.
"""

from __future__ import annotations

from typing import Any

APP_FACTORY_NAMES = ("create_app", "create_app_for", "reload_app", "render_error_for")


def __getattr__(name: str) -> Any:
    if name in APP_FACTORY_NAMES:
        from api.wsgi import app

        return getattr(app, name)
    raise AttributeError(f"module 'api' has no attribute {name!r}")

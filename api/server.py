"""Serve a loaded app with gunicorn: the registry is loaded once in the master, workers share it."""

from __future__ import annotations

from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication


class RegistryServer(BaseApplication):
    """gunicorn running an app object that was created (models loaded) before the workers fork."""

    def __init__(self, app: Flask, options: dict[str, Any]) -> None:
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings:  # older gunicorn releases lack some settings
                self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.application


def gunicorn_options(host: str, port: int, workers: int, timeout: int, access_log: bool) -> dict[str, Any]:
    """gunicorn settings for CPU-bound prediction: preloaded app, sync workers."""
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "sync",
        "preload_app": True,
        "timeout": timeout,
        "graceful_timeout": timeout,
        "accesslog": "-" if access_log else None,
        "errorlog": "-",
        "proc_name": "model-registry",
        # gunicorn 25.1+ opens a control socket at one fixed path per user, which a second
        # server on the machine would fight over; nothing here uses it.
        "control_socket_disable": True,
    }

"""Where the app keeps the registry it serves: one reference, swapped whole on reload."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app

from registry.registry import Registry

EXTENSION = "model_registry"


@dataclass
class RegistryHolder:
    """Holds the current registry; a request reads ``current`` once and keeps it to the end."""

    current: Registry | None = None


def init_app(app: Flask, registry: Registry) -> None:
    """Attach ``registry`` to ``app``."""
    app.extensions[EXTENSION] = RegistryHolder(registry)


def holder_of(app: Flask) -> RegistryHolder:
    """``app``'s holder (outside a request)."""
    return app.extensions[EXTENSION]


def registry_of(app: Flask) -> Registry:
    """The registry ``app`` serves (outside a request)."""
    return holder_of(app).current


def holder() -> RegistryHolder:
    """The running app's holder."""
    return current_app.extensions[EXTENSION]


def current_registry() -> Registry | None:
    """The registry now being served, or ``None`` while it is still loading."""
    return holder().current

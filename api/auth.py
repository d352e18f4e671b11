"""Optional bearer-token auth for the model endpoints; health and docs stay open."""

from __future__ import annotations

import hmac
import os
from pathlib import Path

from flask import Flask, request
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import Unauthorized

TOKEN_ENV = "MODEL_REGISTRY_TOKEN"
PROTECTED_PREFIX = "/models"


def read_token(token_file: str | os.PathLike[str] | None) -> str | None:
    """The token from ``token_file`` if given, else ``$MODEL_REGISTRY_TOKEN``, else ``None`` (no auth)."""
    if token_file:
        token = Path(token_file).read_text(encoding="utf-8").strip()
        if not token:
            raise ValueError(f"{token_file} is empty")
        return token
    return os.environ.get(TOKEN_ENV) or None


def authorized(header: str, token: str | None) -> bool:
    """Whether an ``Authorization`` header value carries ``token`` (always, when no token is set)."""
    if token is None:
        return True
    # compare_digest takes as long whatever the mismatch, so timing tells nothing about the token
    return hmac.compare_digest(header.encode(), f"Bearer {token}".encode())


def init_app(app: Flask, token: str | None) -> None:
    """Require ``Authorization: Bearer <token>`` on every /models request when a token is set."""
    app.config["REGISTRY_TOKEN"] = token
    if token is None:
        return

    @app.before_request
    def require_token() -> None:
        if request.path.startswith(PROTECTED_PREFIX) and not authorized(
            request.headers.get("Authorization", ""), token
        ):
            raise Unauthorized(
                "Missing or wrong token: send 'Authorization: Bearer <token>'.",
                www_authenticate=WWWAuthenticate("Bearer"),
            )

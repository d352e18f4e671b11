"""Optional bearer-token auth for the routes the table guards (api.wsgi.routes); health, metrics and
docs stay open.

The check itself runs in one place, api.wsgi.dispatch, in front of every route.
"""

from __future__ import annotations

import hmac
import os
from pathlib import Path

from api.wsgi.routes import GUARDED_PREFIXES

TOKEN_ENV = "MODEL_REGISTRY_TOKEN"


def read_token(token_file: str | os.PathLike[str] | None) -> str | None:
    """The token from ``token_file`` if given, else ``$MODEL_REGISTRY_TOKEN``, else ``None`` (no auth)."""
    if token_file:
        token = Path(token_file).read_text(encoding="utf-8").strip()
        if not token:
            raise ValueError(f"{token_file} is empty")
        return token
    return os.environ.get(TOKEN_ENV) or None


def is_protected(path: str) -> bool:
    """Whether ``path`` needs the token (when one is set): the model endpoints, ours and V2's, as the
    route table (api.wsgi.routes) says."""
    return path.startswith(GUARDED_PREFIXES)


def authorized(header: str, token: str | None) -> bool:
    """Whether an ``Authorization`` header value carries ``token`` (always, when no token is set)."""
    if token is None:
        return True
    # compare_digest takes as long whatever the mismatch, so timing tells nothing about the token
    return hmac.compare_digest(header.encode(), f"Bearer {token}".encode())

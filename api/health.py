"""Liveness and readiness."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from api.jsonio import json_response
from api.state import current_registry
from schemas.responses import HealthSchema

blp = Blueprint("health", __name__, url_prefix="/health", description="Liveness and readiness")


@blp.route("/live")
class Live(MethodView):
    @blp.response(200, HealthSchema)
    def get(self) -> dict[str, Any]:
        """The process is up and answering."""
        return {"status": "alive"}


@blp.route("/ready")
class Ready(MethodView):
    @blp.response(200, HealthSchema)
    @blp.alt_response(503, schema=HealthSchema, description="Still loading")
    def get(self) -> Any:
        """Ready once the registry is loaded; lists versions that failed (the rest still serve)."""
        registry = current_registry()
        if registry is None:
            return json_response({"status": "loading"}, 503)
        versions = registry.all_versions()
        failed = [f"{v.model}/{v.version}: {v.failure}" for v in versions if not v.is_available]
        stale = [
            f"{v.model}/{v.version}: reload failed, the previous load still serves: {v.reload_failure}"
            for v in versions
            if v.reload_failure
        ]
        return {
            "status": "ready",
            "versions_available": len(versions) - len(failed),
            "versions_failed": len(failed),
            "failed": failed + stale,
            "reload_error": registry.reload_error,
        }

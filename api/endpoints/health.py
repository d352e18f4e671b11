"""Liveness and readiness."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from api.wsgi.state import current_registry
from registry.poll_status import poll_status
from schemas.responses import HealthSchema

NO_MODELS = "no models yet: add one with `model-registry add MODEL_FILE --model NAME`, then reload"

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
    def get(self) -> dict[str, Any]:
        """Ready: the registry is loaded (workers start only after it is). Lists versions that failed
        (the rest still serve), versions a reload could not replace, and a reload that failed whole;
        following a remote config, the last poll's error and the time of the last good poll.

        A registry with no models yet is ready too (200, with a message saying so), as Triton is with
        none: nothing failed, and an ``add`` and a reload make it serve without a restart."""
        registry = current_registry()
        polled = poll_status() or {}
        versions = registry.all_versions()
        failed = [f"{v.model}/{v.version}: {v.reason}" for v in versions if not v.is_available]
        return {
            "status": "ready",
            "versions_available": len(versions) - len(failed),
            "versions_failed": len(failed),
            "failed": failed,
            "reload_errors": [f"{v.model}/{v.version}: {v.reload_error}" for v in versions if v.reload_error],
            "reload_error": registry.reload_error,
            "traffic": [
                f"{m.name}/{problem}" for m in registry.models.values() for problem in m.traffic_problems()
            ],
            "message": None if registry.models else NO_MODELS,
            **(
                {"store_error": polled["store_error"], "last_good_poll": polled["last_good_poll"]}
                if polled
                else {}
            ),
        }

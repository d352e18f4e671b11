"""The split and the shadow through the app in-process: the version header, the shadow counted
only for requests naming no version, and what GET /models/<name>, /health/ready and / show."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from api import create_app

ROW = {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}
V2_BODY = {"inputs": [{"name": k, "shape": [1], "datatype": "FP64", "data": [v]} for k, v in ROW.items()]}


def _traffic(models: dict[str, Any]) -> None:
    models["flowers"].update(traffic={"1": 50, "2": 50}, shadow="2")


def test_answers_name_their_version_and_only_split_requests_are_shadowed(
    make_store: Callable[..., Path],
) -> None:
    client = create_app(make_store(_traffic)).test_client()

    def rows() -> dict[str, int]:
        return client.get("/models/flowers").get_json()["traffic"]["shadow_rows"]

    before = rows()
    served = set()
    for path, body in (("/models/flowers/predict", ROW), ("/v2/models/flowers/infer", V2_BODY)):
        for _ in range(40):
            answer = client.post(path, json=body)
            assert answer.status_code == 200, answer.get_json()
            version = answer.headers["X-Model-Version"]
            assert version == answer.get_json().get("version", answer.get_json().get("model_version"))
            served.add(version)
    assert served == {"1", "2"}
    after = rows()
    shadowed = after["agree"] - before["agree"]
    assert 0 < shadowed < 80 and after["disagree"] == before["disagree"]  # "2" is "1"'s artifact
    named = client.post("/models/flowers/1/predict", json=ROW)
    assert named.headers["X-Model-Version"] == "1"
    assert rows() == after  # a request naming its version is never shadowed
    bad = client.post("/models/flowers/predict", json={**ROW, "sepal_length": "long"})
    assert bad.status_code == 400 and bad.headers["X-Model-Version"] in {"1", "2"}


def test_the_split_is_shown_and_a_failed_version_takes_no_share(make_store: Callable[..., Path]) -> None:
    def broken(models: dict[str, Any]) -> None:
        _traffic(models)
        models["flowers"]["versions"]["2"]["artifact"] = "flowers/9/missing.joblib"

    client = create_app(make_store(broken)).test_client()
    traffic = client.get("/models/flowers").get_json()["traffic"]
    assert traffic["weights"] == {"1": 50, "2": 50}
    assert traffic["shares"] == {"1": 100.0}
    assert traffic["shadow_status"] == "failed"
    assert set(traffic["excluded"]) == {"2"}
    versions = {
        client.post("/models/flowers/predict", json=ROW).headers["X-Model-Version"] for _ in range(20)
    }
    assert versions == {"1"}
    assert client.get("/health/ready").get_json()["traffic"] == [
        "flowers/2: failed, so it takes none of its weight (50); the others keep their proportions",
        "flowers/2: failed, so it does not shadow requests",
    ]
    assert "<dt>Traffic</dt><dd>1 → 100 %</dd>" in client.get("/").get_data(as_text=True)
    assert client.get("/models/shoes").get_json()["traffic"] is None

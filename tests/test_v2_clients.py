"""The real V2 clients, tritonclient[http] and open-inference-openapi, against `model-registry serve`
on the example store: every version's answers equal /models predict's for the same 50 rows."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import tritonclient.http as triton
from open_inference.openapi.client import InferenceRequest, OpenInferenceClient
from open_inference.openapi.types import RequestInput, RequestOutput
from tritonclient.utils import InferenceServerException, triton_to_np_dtype

from spec.config import read_config
from spec.features import FeatureSpec
from tests.conftest import EXAMPLE_CONFIG
from tests.live import LiveServer, request, serving

VERSIONS = [("iris", "1"), ("penguins", "1"), ("penguins", "2"), ("diabetes", "1")]
TOKEN = "v2-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ROWS = 50
DEFAULT_DATATYPES = {"category": "BYTES", "integer": "INT64", "boolean": "BOOL", "number": "FP64"}


def serving_with_token(folder: Path) -> AbstractContextManager[LiveServer]:
    """One worker on the example store, guarded by ``TOKEN``."""
    token_file = folder / "token"
    token_file.write_text(TOKEN)
    return serving(EXAMPLE_CONFIG, folder, workers=1, args=["--token-file", str(token_file)])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with serving_with_token(tmp_path_factory.mktemp("v2")) as live:
        yield live


@pytest.fixture(scope="module")
def tclient(server: LiveServer) -> triton.InferenceServerClient:
    return triton.InferenceServerClient(url=server.url.removeprefix("http://"))


@pytest.fixture(scope="module")
def oclient(server: LiveServer) -> OpenInferenceClient:
    return OpenInferenceClient(base_url=server.url, httpx_client=httpx.Client(headers=AUTH, timeout=30))


def features_of(model: str, version: str) -> tuple[FeatureSpec, ...]:
    config = read_config(EXAMPLE_CONFIG)
    return next(
        v for m in config.models if m.name == model for v in m.versions if v.version == version
    ).features


def generated_columns(features: tuple[FeatureSpec, ...], rows: int, seed: int = 0) -> dict[str, list[Any]]:
    """``rows`` valid values per feature: random categories, numbers inside the bounds."""
    rng = np.random.default_rng(seed)
    columns: dict[str, list[Any]] = {}
    for f in features:
        if f.type == "category":
            columns[f.name] = [f.categories[i] for i in rng.integers(0, len(f.categories), rows)]
        else:
            low, high = f.minimum or 0, f.maximum if f.maximum is not None else 100
            values = rng.uniform(low, high, rows)
            columns[f.name] = [round(v) for v in values] if f.type == "integer" else values.tolist()
    return columns


def triton_inputs(
    features: tuple[FeatureSpec, ...],
    columns: dict[str, list[Any]],
    binary: bool = False,
    datatypes: dict[str, str] | None = None,
) -> list[triton.InferInput]:
    """One InferInput per column, as JSON unless ``binary``; the datatype from ``datatypes``, else
    categories as BYTES strings, integers as INT64, booleans as BOOL, numbers as FP64."""
    inputs = []
    for f in features:
        if f.name not in columns:
            continue
        values = columns[f.name]
        datatype = (datatypes or {}).get(f.name) or DEFAULT_DATATYPES[f.type]
        if datatype == "BYTES":
            array = np.array([str(v) for v in values], dtype=object)
        else:
            array = np.array(values, dtype=triton_to_np_dtype(datatype))
        tensor = triton.InferInput(f.name, [len(values)], datatype)
        tensor.set_data_from_numpy(array, binary_data=binary)
        inputs.append(tensor)
    return inputs


def predicted(server: LiveServer, model: str, version: str, columns: dict[str, list[Any]]) -> list[dict]:
    url = f"{server.url}/models/{model}/{version}/predict"
    status, body = request_with_token(url, {"inputs": columns})
    assert status == 200, body
    return body["predictions"]


def request_with_token(url: str, body: Any) -> tuple[int, dict[str, Any]]:
    response = httpx.post(url, json=body, headers=AUTH, timeout=30)
    return response.status_code, response.json()


def test_health_and_server_metadata(
    tclient: triton.InferenceServerClient, oclient: OpenInferenceClient
) -> None:
    assert tclient.is_server_live() and tclient.is_server_ready()
    assert tclient.get_server_metadata() == {
        "name": "model-registry",
        "version": "0.1.0",
        "extensions": ["binary_tensor_data"],
    }
    oclient.check_server_liveness()
    oclient.check_server_readiness()
    assert oclient.read_server_metadata().name == "model-registry"


@pytest.mark.parametrize(("model", "version"), VERSIONS)
def test_triton_infer_equals_predict(
    server: LiveServer, tclient: triton.InferenceServerClient, model: str, version: str
) -> None:
    features = features_of(model, version)
    columns = generated_columns(features, ROWS)
    outputs = ["value"] if model == "diabetes" else ["label", "probabilities"]
    result = tclient.infer(
        model,
        triton_inputs(features, columns),
        model_version=version,
        outputs=[triton.InferRequestedOutput(name, binary_data=False) for name in outputs],
        request_id="req-1",
        headers=AUTH,
    )
    answer = result.get_response()
    assert (answer["model_name"], answer["model_version"], answer["id"]) == (model, version, "req-1")
    expected = predicted(server, model, version, columns)
    if model == "diabetes":
        np.testing.assert_allclose(
            result.as_numpy("value"), [p["value"] for p in expected], rtol=0, atol=1e-9
        )
        return
    assert [str(label) for label in answer["outputs"][0]["data"]] == [str(p["label"]) for p in expected]
    proba = [list(p["probabilities"].values()) for p in expected]
    np.testing.assert_allclose(result.as_numpy("probabilities"), proba, rtol=0, atol=1e-9)


def test_model_metadata_and_readiness(
    tclient: triton.InferenceServerClient, oclient: OpenInferenceClient
) -> None:
    meta = tclient.get_model_metadata("penguins", model_version="1", headers=AUTH)
    assert meta["platform"] == "sklearn" and meta["versions"] == ["1", "2"]
    assert {"name": "island", "datatype": "BYTES", "shape": [-1]} in meta["inputs"]
    assert tclient.is_model_ready("iris", "1", headers=AUTH)
    assert not tclient.is_model_ready("iris", "9", headers=AUTH)
    oclient.check_model_version_readiness("diabetes", "1")
    described = oclient.read_model_metadata("diabetes")
    assert [i.datatype for i in described.inputs][:2] == ["INT64", "INT64"]


def test_alias_default_outputs_shape_and_parameters(oclient: OpenInferenceClient) -> None:
    features = features_of("penguins", "1")
    columns = generated_columns(features, 3)
    del columns["sex"]  # optional: reaches the model as NaN
    inputs = [
        RequestInput(name=name, shape=[3, 1], datatype="BYTES" if name == "island" else "FP64", data=values)
        for name, values in columns.items()
    ]
    request_body = InferenceRequest(
        id="alias-1", parameters={"content_type": "pd"}, inputs=inputs, outputs=[RequestOutput(name="label")]
    )
    stable = oclient.model_version_infer("penguins", "stable", request=request_body)
    assert (stable.model_version, stable.id) == ("1", "alias-1")
    assert [o.name for o in stable.outputs] == ["label"] and stable.outputs[0].shape == [3]
    assert oclient.model_version_infer("penguins", "latest", request=request_body).model_version == "2"
    assert oclient.model_infer("penguins", request=request_body).model_version == "2"  # the default


def test_integer_codes_through_open_inference(oclient: OpenInferenceClient) -> None:
    """Its pydantic model turns an INT64 tensor's 1 into 1.0: still the code 1."""
    columns = generated_columns(features_of("diabetes", "1"), 2)
    inputs = [
        RequestInput(name=n, shape=[2], datatype="INT64" if n in ("age", "sex") else "FP64", data=v)
        for n, v in columns.items()
    ]
    answer = oclient.model_infer("diabetes", request=InferenceRequest(inputs=inputs))
    assert answer.outputs[0].name == "value" and answer.outputs[0].shape == [2]


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"island": ["Mars"]}, "'Mars' is not a valid value; valid: Biscoe, Dream, Torgersen."),
        ({"island": None}, "Missing features: island."),
        ({"bill_length_mm": ["long"]}, "'long' is not a number."),
    ],
)
def test_bad_input_is_a_400_with_the_predict_message(
    server: LiveServer, tclient: triton.InferenceServerClient, change: dict[str, Any], words: str
) -> None:
    features = features_of("penguins", "2")
    columns = {**generated_columns(features, 1), **change}
    columns = {name: values for name, values in columns.items() if values is not None}
    numbers = {name: values for name, values in columns.items() if values != ["long"]}
    inputs = triton_inputs(features, numbers)
    if "bill_length_mm" in change:  # the wrong datatype: BYTES for a number
        inputs.append(triton.InferInput("bill_length_mm", [1], "BYTES"))
        inputs[-1].set_data_from_numpy(np.array(["long"], dtype=object), binary_data=False)
    with pytest.raises(InferenceServerException) as raised:
        tclient.infer("penguins", inputs, headers=AUTH)
    assert raised.value.status() == "400" and words in raised.value.message()
    status, body = request_with_token(f"{server.url}/models/penguins/predict", {"inputs": columns})
    assert status == 400 and words in body["message"]


def test_unknown_model_and_version_are_404s(server: LiveServer) -> None:
    for path in ("/v2/models/nope/infer", "/v2/models/iris/versions/9/infer"):
        response = httpx.post(server.url + path, json={"inputs": []}, headers=AUTH)
        assert response.status_code == 404 and list(response.json()) == ["error"]


def test_the_token_is_required(server: LiveServer, tclient: triton.InferenceServerClient) -> None:
    with pytest.raises(InferenceServerException) as raised:
        tclient.get_model_metadata("iris")
    assert raised.value.status() == "401"
    assert request(f"{server.url}/v2/models/iris")[0] == 401
    assert httpx.get(f"{server.url}/v2/models/iris", headers=AUTH).status_code == 200
    assert request(f"{server.url}/v2/health/live")[0] == 200


def test_no_token_server(tmp_path: Path) -> None:
    """Without --token-file the V2 model endpoints are open (serving() waits on /health/ready)."""
    with serving(EXAMPLE_CONFIG, tmp_path, workers=1) as live:
        assert triton.InferenceServerClient(url=live.url.removeprefix("http://")).is_model_ready("iris")

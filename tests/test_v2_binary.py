"""tritonclient[http] with its defaults, binary tensors in and out (Triton's binary tensor data
extension), against `model-registry serve` on the example store: answers equal /models predict's."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import tritonclient.http as triton
from tritonclient.utils import InferenceServerException

from tests import test_v2_clients
from tests.live import LiveServer
from tests.test_v2_clients import (  # noqa: F401 (the same fixtures: one server per module)
    AUTH,
    ROWS,
    VERSIONS,
    features_of,
    generated_columns,
    predicted,
    request_with_token,
    triton_inputs,
)

# The same fixtures as tests/test_v2_clients.py: a server with a token, one per module, and its client.
server, tclient = test_v2_clients.server, test_v2_clients.tclient

# Other datatypes than the defaults, for the same features: FP32, INT32, codes as BYTES strings.
DATATYPES = {
    "iris": {"sepal_length_cm": "FP32", "petal_width_cm": "FP32"},
    "penguins": {"flipper_length_mm": "INT64", "body_mass_g": "INT32"},
    "diabetes": {"age": "INT32", "sex": "BYTES", "bmi": "FP32"},
}


def whole(columns: dict[str, list[Any]], datatypes: dict[str, str]) -> dict[str, list[Any]]:
    """Integers for the features sent as integer datatypes (what the server will see)."""
    return {
        n: [round(v) for v in vs] if datatypes.get(n, "").startswith("INT") else vs
        for n, vs in columns.items()
    }


def check_equals_predict(
    server: LiveServer, result: triton.InferResult, model: str, version: str, columns: dict[str, list[Any]]
) -> None:
    """Labels equal, numbers within a tolerance of /models predict for the same rows."""
    expected = predicted(server, model, version, columns)
    if model == "diabetes":
        np.testing.assert_allclose(result.as_numpy("value"), [p["value"] for p in expected], rtol=1e-9)
        return
    labels = [
        label.decode() if isinstance(label, bytes) else str(label) for label in result.as_numpy("label")
    ]
    assert labels == [str(p["label"]) for p in expected]
    proba = [list(p["probabilities"].values()) for p in expected]
    np.testing.assert_allclose(result.as_numpy("probabilities"), proba, rtol=0, atol=1e-9)


def float32_rounded(columns: dict[str, list[Any]], datatypes: dict[str, str]) -> dict[str, list[Any]]:
    """The values an FP32 tensor carries, as /models predict must get them to agree."""
    return {
        name: np.float32(values).astype(np.float64).tolist() if datatypes.get(name) == "FP32" else values
        for name, values in columns.items()
    }


@pytest.mark.parametrize(("model", "version"), VERSIONS)
def test_defaults_binary_in_and_out_equal_predict(
    server: LiveServer, tclient: triton.InferenceServerClient, model: str, version: str
) -> None:
    features = features_of(model, version)
    datatypes = DATATYPES[model]
    columns = float32_rounded(whole(generated_columns(features, ROWS, seed=3), datatypes), datatypes)
    names = ["value"] if model == "diabetes" else ["label", "probabilities"]
    result = tclient.infer(
        model,
        triton_inputs(features, columns, binary=True, datatypes=datatypes),
        model_version=version,
        outputs=[triton.InferRequestedOutput(name) for name in names],  # binary_data=True by default
        request_id="bin-1",
        headers={**AUTH},  # tritonclient adds its header to the dict it is given
    )
    answer = result.get_response()
    assert (answer["model_name"], answer["model_version"], answer["id"]) == (model, version, "bin-1")
    assert all("data" not in o and o["parameters"]["binary_data_size"] > 0 for o in answer["outputs"])
    check_equals_predict(server, result, model, version, columns)


@pytest.mark.parametrize(("model", "version"), [("penguins", "2"), ("diabetes", "1")])
def test_no_outputs_argument_answers_every_output_in_binary(
    server: LiveServer, tclient: triton.InferenceServerClient, model: str, version: str
) -> None:
    """Without ``outputs`` tritonclient sends ``binary_data_output: true``."""
    features = features_of(model, version)
    columns = generated_columns(features, 7, seed=4)
    result = tclient.infer(model, triton_inputs(features, columns, binary=True), headers={**AUTH})
    outputs = result.get_response()["outputs"]
    expected = ["value"] if model == "diabetes" else ["label", "probabilities"]
    assert [o["name"] for o in outputs] == expected
    assert all(set(o) == {"name", "datatype", "shape", "parameters"} for o in outputs)
    check_equals_predict(server, result, model, version, columns)


@pytest.mark.parametrize(
    ("binary_in", "binary_out"),
    [(True, {"label": False, "probabilities": False}), (False, {"label": True, "probabilities": True})]
    + [(True, {"label": False, "probabilities": True}), (False, {"label": True, "probabilities": False})],
)
def test_mixed_binary_and_json(
    server: LiveServer, tclient: triton.InferenceServerClient, binary_in: bool, binary_out: dict[str, bool]
) -> None:
    features = features_of("penguins", "1")
    columns = generated_columns(features, 9, seed=5)
    outputs = [triton.InferRequestedOutput(name, binary_data=b) for name, b in binary_out.items()]
    result = tclient.infer(
        "penguins", triton_inputs(features, columns, binary=binary_in), "1", outputs=outputs, headers={**AUTH}
    )
    for output in result.get_response()["outputs"]:
        assert ("data" not in output) is binary_out[output["name"]]
    check_equals_predict(server, result, "penguins", "1", columns)


def test_binary_and_json_inputs_in_one_request(
    server: LiveServer, tclient: triton.InferenceServerClient
) -> None:
    """Some tensors binary, some in the JSON header; optional features left out (NaN)."""
    features = features_of("penguins", "2")
    columns = generated_columns(features, 5, seed=6)
    del columns["sex"], columns["body_mass_g"]
    binary = triton_inputs(features, columns, binary=True)
    as_json = triton_inputs(features, columns, binary=False)
    inputs = [binary[0], as_json[1], binary[2], as_json[3]]
    result = tclient.infer("penguins", inputs, "2", headers={**AUTH})
    check_equals_predict(server, result, "penguins", "2", columns)


@pytest.mark.parametrize(
    ("model", "change", "words"),
    [
        ("penguins", {"island": ["Mars"]}, "'Mars' is not a valid value; valid: Biscoe, Dream, Torgersen."),
        ("penguins", {"island": None}, "Missing features: island."),
        ("penguins", {"bill_length_mm": [400.0]}, "400.0 is out of range; valid: 0 to 100."),
        ("diabetes", {"sex": [3]}, "is not a valid value; valid: 1, 2."),
        ("diabetes", {"age": [130]}, "130 is out of range; valid: 0 to 120."),
    ],
)
def test_decoded_tensors_get_the_predict_messages(
    server: LiveServer, tclient: triton.InferenceServerClient, model: str, change: dict[str, Any], words: str
) -> None:
    version = "2" if model == "penguins" else "1"
    features = features_of(model, version)
    columns = {**generated_columns(features, 1), **change}
    columns = {name: values for name, values in columns.items() if values is not None}
    with pytest.raises(InferenceServerException) as raised:
        tclient.infer(model, triton_inputs(features, columns, binary=True), version, headers={**AUTH})
    assert raised.value.status() == "400" and words in raised.value.message()
    status, body = request_with_token(f"{server.url}/models/{model}/{version}/predict", {"inputs": columns})
    assert status == 400 and words in body["message"]

"""/models columnar bodies of 1 KiB or more are parsed by simdjson (api.protocols.column_json), numeric
columns straight into arrays: every answer must be the one the same body gets when orjson parses it."""

from __future__ import annotations

from itertools import cycle, islice
from typing import Any

import orjson
import pytest
from flask.testing import FlaskClient

from api.protocols.column_json import SMALL_BODY_BYTES
from api.protocols.models import ModelsProtocol

IRIS = [
    (5.1, 3.5, 1.4, 0.2),
    (7.0, 3.2, 4.7, 1.4),
    (6.3, 3.3, 6.0, 2.5),
    (4.9, 3, 1.4, 0.2),  # an integer among the floats
]
IRIS_FEATURES = ("sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm")
PENGUINS = [
    {"island": "Biscoe", "bill_length_mm": 46.1, "bill_depth_mm": 13.2, "flipper_length_mm": 211,
     "body_mass_g": 4500, "sex": "female"},
    {"island": "Dream", "bill_length_mm": 39.5, "bill_depth_mm": 16.7, "flipper_length_mm": 178,
     "body_mass_g": None, "sex": "female"},
    {"island": "Torgersen", "bill_length_mm": 39.1, "bill_depth_mm": 18.7, "flipper_length_mm": 181,
     "body_mass_g": 3750, "sex": "male"},
]  # fmt: skip


def iris_columns(rows: int) -> dict[str, list[Any]]:
    values = list(islice(cycle(IRIS), rows))
    return {name: [row[i] for row in values] for i, name in enumerate(IRIS_FEATURES)}


def penguin_columns(rows: int) -> dict[str, list[Any]]:
    values = list(islice(cycle(PENGUINS), rows))
    return {name: [row[name] for row in values] for name in PENGUINS[0]}


def answers(client: FlaskClient, path: str, body: bytes, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """``[status, answer]`` as served, and as served when orjson parses the body."""
    assert len(body) >= SMALL_BODY_BYTES  # large enough for simdjson
    served = client.post(path, data=body, content_type="application/json")
    with monkeypatch.context() as patched:
        patched.setattr(ModelsProtocol, "loads", staticmethod(orjson.loads))
        reference = client.post(path, data=body, content_type="application/json")
    return [(served.status_code, served.get_json()), (reference.status_code, reference.get_json())]


def assert_same_predictions(served: dict[str, Any], reference: dict[str, Any]) -> None:
    assert [p["label"] for p in served["predictions"]] == [p["label"] for p in reference["predictions"]]
    for ours, theirs in zip(served["predictions"], reference["predictions"], strict=True):
        assert ours["probabilities"] == pytest.approx(theirs["probabilities"], rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("envelope", ["inputs", "data"])
def test_numeric_columns_predict_as_orjson_parsed_ones(
    example_client: FlaskClient, monkeypatch: pytest.MonkeyPatch, envelope: str
) -> None:
    body = orjson.dumps({envelope: iris_columns(100)})
    (status, served), (ref_status, reference) = answers(
        example_client, "/models/iris/1/predict", body, monkeypatch
    )
    assert status == ref_status == 200
    assert len(served["predictions"]) == 100
    assert_same_predictions(served, reference)


def test_mixed_columns_with_a_missing_value_predict_as_orjson_parsed_ones(
    example_client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Category columns stay lists, a column holding a null too; the numeric ones become arrays."""
    body = orjson.dumps({"inputs": penguin_columns(60)})
    (status, served), (ref_status, reference) = answers(
        example_client, "/models/penguins/2/predict", body, monkeypatch
    )
    assert status == ref_status == 200
    assert_same_predictions(served, reference)


@pytest.mark.parametrize(
    ("bad", "worded"),
    [(b"25", "Row 57"), (b"25.5", "Row 57"), (b"-1", "Row 57"), (b"true", "Row 57"), (b"null", "Row 57")]
    + [(b'"1"', "Row 57"), (b"[1.0]", "Row 57"), (b"1e400", "number is infinity")],
)
def test_a_bad_value_in_a_numeric_column_is_worded_as_orjson_parsed(
    example_client: FlaskClient, monkeypatch: pytest.MonkeyPatch, bad: bytes, worded: str
) -> None:
    """``bad`` as JSON text at row 57: [1.0] nests an array (the body is then not flat, and every
    column stays a list); 1e400 overflows a double, which orjson refuses as JSON."""
    columns: dict[str, list[Any]] = iris_columns(100)
    columns["petal_width_cm"][57] = "BAD"
    body = orjson.dumps({"inputs": columns}).replace(b'"BAD"', bad)
    served, reference = answers(example_client, "/models/iris/1/predict", body, monkeypatch)
    assert served == reference
    assert served[0] == 400
    assert worded in served[1]["message"], served[1]


def test_an_integer_out_of_range_is_worded_as_orjson_parsed(
    example_client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    columns = iris_columns(100)
    columns["sepal_width_cm"][3] = 30  # an integer, out of range, in a column of floats and integers
    served, reference = answers(
        example_client, "/models/iris/1/predict", orjson.dumps({"inputs": columns}), monkeypatch
    )
    assert served == reference
    assert served[0] == 400 and served[1]["message"].startswith("Row 3: Invalid values: sepal_width_cm:")

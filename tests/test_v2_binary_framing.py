"""Binary tensor bodies sent by hand to `model-registry serve` on a tiny store (booleans, integers,
categories): each broken framing is a 400 (413 past the limits) that names the problem."""

from __future__ import annotations

import http.client
import json
import struct
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import tritonclient.http as triton

from tests.conftest import PRICE_FEATURES, SHOE_FEATURES, dump_model, train_prices, train_shoes, write_config
from tests.live import LiveServer, serving

LIMIT, MAX_ROWS = 4096, 50
PRICES, SHOES = "/v2/models/prices/infer", "/v2/models/shoes/infer"
AREA, ROOMS, GARDEN = np.array([80.0]).tobytes(), np.array([3], "<i8").tobytes(), b"\x01"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("v2-framing")
    store = root / "model_store"
    models = {}
    for name, model, task, features in [
        ("prices", train_prices(), "regression", PRICE_FEATURES),
        ("shoes", train_shoes(), "classification", SHOE_FEATURES),
    ]:
        sha = dump_model(store, f"{name}/1/model.joblib", model)
        entry = {"artifact": f"{name}/1/model.joblib", "sha256": sha, "task": task, "features": features}
        models[name] = {"versions": {"1": entry}}
    config = write_config(root, models, server={"max_body_bytes": LIMIT, "max_rows": MAX_ROWS})
    with serving(config, root, workers=1) as live:
        yield live


def tensor(
    name: str, datatype: str, raw: bytes | None = None, rows: int = 1, **fields: Any
) -> dict[str, Any]:
    """An input tensor; with ``raw``, its binary_data_size is ``len(raw)`` (unless ``fields`` say)."""
    framed: dict[str, Any] = {"name": name, "shape": [rows], "datatype": datatype, **fields}
    if raw is not None:
        framed.setdefault("parameters", {"binary_data_size": len(raw)})
    return framed


def strings(*values: bytes) -> bytes:
    return b"".join(struct.pack("<I", len(v)) + v for v in values)


def framed(tensors: list[dict[str, Any]], *raws: bytes, **extra: Any) -> tuple[bytes, int]:
    """The body (JSON header, then ``raws``) and the header's length."""
    header = json.dumps({"inputs": tensors, **extra}).encode()
    return header + b"".join(raws), len(header)


def prices(area: bytes = AREA, rooms: bytes = ROOMS, garden: bytes = GARDEN) -> list[dict[str, Any]]:
    return [tensor("area", "FP64", area), tensor("rooms", "INT64", rooms), tensor("garden", "BOOL", garden)]


def post(
    server: LiveServer, path: str, body: bytes, header: str | int | None, content_type: str | None = None
) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body) of a POST sent as written: no Content-Type unless given."""
    headers = {} if header is None else {"Inference-Header-Content-Length": str(header)}
    if content_type:
        headers["Content-Type"] = content_type
    connection = http.client.HTTPConnection(server.url.removeprefix("http://"), timeout=30)
    try:
        connection.request("POST", path, body, headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def error_of(server: LiveServer, path: str, body: bytes, header: str | int | None) -> tuple[int, str]:
    status, headers, answer = post(server, path, body, header)
    assert headers["Content-Type"] == "application/json"
    decoded = json.loads(answer)
    assert list(decoded) == ["error"]
    return status, decoded["error"]


def test_booleans_and_integers_through_tritonclient(server: LiveServer) -> None:
    client = triton.InferenceServerClient(url=server.url.removeprefix("http://"))
    columns = {"area": [50.0, 120.0], "rooms": [2, 5], "garden": [False, True]}
    inputs = []
    for name, values in columns.items():
        datatype = {"area": "FP64", "rooms": "INT64", "garden": "BOOL"}[name]
        inputs.append(triton.InferInput(name, [2], datatype))
        inputs[-1].set_data_from_numpy(np.array(values, dtype={"BOOL": bool}.get(datatype)))
    result = client.infer("prices", inputs, outputs=[triton.InferRequestedOutput("value")])
    answer = post(
        server, "/models/prices/1/predict", json.dumps({"inputs": columns}).encode(), None, "application/json"
    )
    expected = [p["value"] for p in json.loads(answer[2])["predictions"]]
    np.testing.assert_allclose(result.as_numpy("value"), expected, rtol=1e-9)
    np.testing.assert_allclose(expected, [120.0, 295.0], rtol=1e-6)  # 2*area + 10*rooms + 5*garden


def test_a_binary_answer_is_framed_as_triton_frames_it(server: LiveServer) -> None:
    body, length = framed(prices(), AREA, ROOMS, GARDEN, parameters={"binary_data_output": True})
    status, headers, answer = post(server, PRICES, body, length, "application/octet-stream")
    assert status == 200 and headers["Content-Type"] == "application/octet-stream"
    header_length = int(headers["Inference-Header-Content-Length"])
    (output,) = json.loads(answer[:header_length])["outputs"]
    assert output == {
        "name": "value",
        "datatype": "FP64",
        "shape": [1],
        "parameters": {"binary_data_size": 8},
    }
    assert np.frombuffer(answer[header_length:], "<f8").tolist() == pytest.approx([2 * 80 + 10 * 3 + 5])


def test_octet_stream_is_a_v2_body_only(server: LiveServer) -> None:
    body, length = framed(prices(), AREA, ROOMS, GARDEN)
    assert post(server, PRICES, body, length, "application/octet-stream")[0] == 200
    assert post(server, "/models/prices/1/predict", body, None, "application/octet-stream")[0] == 415


def test_labels_come_back_as_length_prefixed_strings(server: LiveServer) -> None:
    shoe = [tensor("color", "BYTES", strings(b"red")), tensor("size", "INT32", struct.pack("<i", 38))]
    body, length = framed(
        shoe,
        strings(b"red"),
        struct.pack("<i", 38),
        outputs=[{"name": "label", "parameters": {"binary_data": True}}],
    )
    status, headers, answer = post(server, SHOES, body, length)
    header_length = int(headers["Inference-Header-Content-Length"])
    assert status == 200 and answer[header_length:] == strings(b"small")


def broken(
    name: str, sent: tuple[bytes, int | str | None], status: int, words: str, path: str = PRICES
) -> Any:
    return pytest.param(path, *sent, status, words, id=name)


GOOD, GOOD_LENGTH = framed(prices(), AREA, ROOMS, GARDEN)
BROKEN = [
    broken("header past the body", (GOOD, len(GOOD) + 1), 400, f"announces {len(GOOD) + 1} bytes of JSON"),
    broken("header not a number", (GOOD, "abc"), 400, "must be the JSON header's size in bytes; got 'abc'."),
    broken("header negative", (GOOD, "-5"), 400, "must be the JSON header's size in bytes; got '-5'."),
    broken("header over the limit", (GOOD, LIMIT + 1), 413, f"more than the limit of {LIMIT} bytes"),
    broken(
        "header not JSON",
        (b"{nope" + AREA, 5),
        400,
        "The JSON header (the body's first 5 bytes) is not valid",
    ),
    broken(
        "bytes left over", (GOOD + b"xx", GOOD_LENGTH), 400, "add up to 17 bytes, but the body has 19 after"
    ),
    broken(
        "size past the body",
        framed(prices(garden=b"\x01" * 5), AREA, ROOMS, GARDEN),
        400,
        "The tensor garden: binary_data_size 5 runs past the end of the body (1 bytes are left for it).",
    ),
    broken(
        "size not whole values",
        framed(prices(area=bytes(12)), bytes(12), ROOMS, GARDEN),
        400,
        "The tensor area: binary_data_size 12 is not a multiple of 8, the size of one FP64 value.",
    ),
    broken(
        "size not a number",
        framed([tensor("area", "FP64", AREA, parameters={"binary_data_size": "8"})], AREA),
        400,
        "The tensor area: binary_data_size must be a number of bytes; got '8'.",
    ),
    broken(
        "data and binary",
        framed([tensor("area", "FP64", AREA, data=[80.0]), *prices()[1:]], AREA, ROOMS, GARDEN),
        400,
        "The tensor area has both 'data' and binary data (binary_data_size); send one.",
    ),
    broken(
        "shape not the count",
        framed([tensor("area", "FP64", AREA, rows=2), *prices()[1:]], AREA, ROOMS, GARDEN),
        400,
        "The tensor area: its binary data holds 1 FP64 values (8 bytes) but its shape [2] holds 2.",
    ),
    broken(
        "bool not 0 or 1",
        framed(prices(garden=b"\x02"), AREA, ROOMS, b"\x02"),
        400,
        "The tensor garden: a BOOL value must be the byte 0 or 1.",
    ),
    broken(
        "string past its tensor",
        framed([tensor("color", "BYTES", struct.pack("<I", 100) + b"red")], struct.pack("<I", 100) + b"red"),
        400,
        "The tensor color: element 0 announces 100 bytes but only 3 are left in its binary data.",
        SHOES,
    ),
    broken(
        "length cut short",
        framed(
            [tensor("color", "BYTES", strings(b"red") + b"\x01\x00", rows=2)], strings(b"red") + b"\x01\x00"
        ),
        400,
        "The tensor color: element 1's 4-byte length is cut short (2 bytes left in its binary data).",
        SHOES,
    ),
    broken(
        "more strings than rows",
        framed([tensor("color", "BYTES", strings(b"red", b"blue"))], strings(b"red", b"blue")),
        400,
        "The tensor color: its binary data holds more than 1 BYTES values (8 bytes left over)",
        SHOES,
    ),
    broken(
        "fewer strings than rows",
        framed([tensor("color", "BYTES", strings(b"red"), rows=2)], strings(b"red")),
        400,
        "The tensor color: its binary data holds 1 BYTES values but its shape [2] holds 2.",
        SHOES,
    ),
    broken(
        "string not UTF-8",
        framed([tensor("color", "BYTES", strings(b"\xff"))], strings(b"\xff")),
        400,
        "The tensor color: element 0 is not UTF-8 text.",
        SHOES,
    ),
    broken(
        "binary sizes without the header",
        (framed(prices())[0], None),
        400,
        "The tensor area: its parameters give a binary_data_size, but the request has no Inference-Header",
    ),
    broken(
        "more rows than the limit, found before the bytes are decoded",
        framed([tensor("color", "BYTES", strings(b"red"), rows=60)], strings(b"red")),
        413,
        f"The request has 60 rows; the limit is {MAX_ROWS} (server.max_rows).",
        SHOES,
    ),
    broken(
        "body over the limit",
        framed(prices(area=bytes(LIMIT)), bytes(LIMIT), ROOMS, GARDEN),
        413,
        f"The body is larger than the limit of {LIMIT} bytes",
    ),
]


@pytest.mark.parametrize(("path", "body", "header", "status", "words"), BROKEN)
def test_broken_framing_is_refused_with_its_reason(
    server: LiveServer, path: str, body: bytes, header: int | str | None, status: int, words: str
) -> None:
    got, message = error_of(server, path, body, header)
    assert got == status and words in message, message


@pytest.mark.parametrize(
    ("changed", "words"),
    [
        ({"rooms": np.array([30], "<i8").tobytes()}, "rooms: 30 is out of range; valid: 1 to 20."),
        (
            {"garden": b""},
            "The tensor garden: its binary data holds 0 BOOL values (0 bytes) but its shape [1] holds 1.",
        ),
    ],
)
def test_decoded_values_are_validated_as_json_ones(
    server: LiveServer, changed: dict[str, bytes], words: str
) -> None:
    raws = {"area": AREA, "rooms": ROOMS, "garden": GARDEN, **changed}
    body, length = framed(prices(**raws), *raws.values())
    status, message = error_of(server, PRICES, body, length)
    assert status == 400 and words in message, message


def test_a_category_missing_from_binary_strings_names_the_valid_ones(server: LiveServer) -> None:
    shoe = [
        tensor("color", "BYTES", strings(b"pink")),
        tensor("size", "INT64", np.array([38], "<i8").tobytes()),
    ]
    body, length = framed(shoe, strings(b"pink"), np.array([38], "<i8").tobytes())
    status, message = error_of(server, SHOES, body, length)
    assert status == 400 and "'pink' is not a valid value; valid: red, green, blue." in message, message

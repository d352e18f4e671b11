"""model-registry predict: files scored through the API's validation give the API's predictions."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from api import create_app
from bench.load.batch import time_predict, write_iris_csv
from cli.main import main
from tests.conftest import EXAMPLE_CONFIG

FORMATS = ["csv", "jsonl", "parquet"]
TOLERANCE = 1e-9


def flowers_rows(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    values = rng.uniform([4.3, 2.0, 1.0, 0.1], [7.9, 4.4, 6.9, 2.5], size=(n, 4)).round(2)
    return pd.DataFrame(values, columns=["sepal_length", "sepal_width", "petal_length", "petal_width"])


def shoes_rows(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    material = rng.choice(np.array(["leather", "canvas", None], dtype=object), n)
    return pd.DataFrame(
        {
            "color": rng.choice(["red", "green", "blue"], n),
            "size": rng.integers(30, 51, n),
            "material": material,
        }
    )


def prices_rows(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "area": rng.uniform(20, 200, n).round(1),
            "rooms": rng.integers(1, 10, n),
            "garden": rng.integers(0, 2, n).astype(bool),
        }
    )


ROWS = {"flowers": flowers_rows, "shoes": shoes_rows, "prices": prices_rows}


def write_input(frame: pd.DataFrame, path: Path) -> Path:
    if path.suffix == ".csv":
        frame.to_csv(path, index=False)
    elif path.suffix == ".jsonl":
        frame.to_json(path, orient="records", lines=True)
    else:
        frame.to_parquet(path, index=False)
    return path


def read_output(path: Path) -> pd.DataFrame:
    if path.suffix == ".csv":
        return pd.read_csv(path, keep_default_na=False, na_values=[""])
    if path.suffix == ".jsonl":
        return pd.read_json(path, lines=True, dtype=False)
    return pd.read_parquet(path)


def api_predictions(config: Path, name: str, version: str, frame: pd.DataFrame) -> list[dict[str, Any]]:
    """What POST /models/<name>/<version>/predict answers for the same rows, as JSON."""
    rows = [{k: (None if pd.isna(v) else v) for k, v in row.items()} for row in frame.to_dict("records")]
    response = (
        create_app(config).test_client().post(f"/models/{name}/{version}/predict", json={"instances": rows})
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()["predictions"]


def assert_matches_api(scored: pd.DataFrame, predictions: list[dict[str, Any]]) -> None:
    assert len(scored) == len(predictions)
    if "value" in predictions[0]:
        expected = np.array([p["value"] for p in predictions])
        np.testing.assert_allclose(scored["value"].to_numpy(dtype=float), expected, rtol=0, atol=TOLERANCE)
        return
    assert scored["label"].astype(str).tolist() == [str(p["label"]) for p in predictions]
    for label in predictions[0]["probabilities"]:
        expected = np.array([p["probabilities"][label] for p in predictions])
        got = scored[f"probability_{label}"].to_numpy(dtype=float)
        np.testing.assert_allclose(got, expected, rtol=0, atol=TOLERANCE)


def predict(*argv: str) -> int:
    return main(["predict", *argv])


@pytest.mark.parametrize("name", list(ROWS))
@pytest.mark.parametrize("source", FORMATS)
@pytest.mark.parametrize("target", FORMATS)
def test_predictions_equal_the_estimator_and_the_api(
    tiny_store: Path, trained: dict[str, Any], tmp_path: Path, name: str, source: str, target: str
) -> None:
    frame = ROWS[name](40)
    frame.insert(0, "id", [f"r{i}" for i in range(len(frame))])
    inp = write_input(frame, tmp_path / f"in.{source}")
    out = tmp_path / f"out.{target}"
    assert predict(name, str(inp), "--output", str(out), "--config", str(tiny_store)) == 0
    scored = read_output(out)
    assert scored["id"].tolist() == frame["id"].tolist()  # extra columns kept, rows in order
    features = frame.drop(columns="id")
    assert list(scored.columns[: frame.shape[1]]) == list(frame.columns)
    estimator = trained[name]
    if name == "prices":
        expected = estimator.predict(features)
        np.testing.assert_allclose(scored["value"], expected, rtol=0, atol=TOLERANCE)
    else:
        assert scored["label"].tolist() == estimator.predict(features).tolist()
        for j, label in enumerate(estimator.classes_):
            got = scored[f"probability_{label}"].to_numpy(dtype=float)
            np.testing.assert_allclose(got, estimator.predict_proba(features)[:, j], rtol=0, atol=TOLERANCE)
    assert_matches_api(scored, api_predictions(tiny_store, name, "1", features))


def test_bad_rows_go_to_the_errors_file_with_the_api_messages(tiny_store: Path, tmp_path: Path) -> None:
    frame = shoes_rows(12).astype(object)
    bad = {3: {"color": "purple"}, 7: {"size": 60.5, "material": "wool"}, 11: {"color": None}}
    for row, values in bad.items():
        for column, value in values.items():
            frame.loc[row, column] = value
    inp = write_input(frame, tmp_path / "in.csv")
    out, errors = tmp_path / "out.csv", tmp_path / "errors.txt"
    argv = ["shoes", str(inp), "-o", str(out), "--errors", str(errors), "--config", str(tiny_store)]
    assert predict(*argv) == 1
    client = create_app(tiny_store).test_client()
    expected = []
    for row in bad:
        body = {k: (None if pd.isna(v) else v) for k, v in frame.loc[row].items()}
        answer = client.post("/models/shoes/1/predict", json=body)
        assert answer.status_code == 400
        expected.append(f"Row {row}: {answer.get_json()['message']}")
    assert errors.read_text().splitlines() == expected
    scored = read_output(out)
    good = frame.drop(index=list(bad))
    assert scored["size"].tolist() == good["size"].tolist()
    assert_matches_api(scored, api_predictions(tiny_store, "shoes", "1", good))


def test_every_row_valid_exits_0_with_an_empty_errors_file(tiny_store: Path, tmp_path: Path) -> None:
    inp = write_input(prices_rows(5), tmp_path / "in.jsonl")
    errors = tmp_path / "errors.txt"
    out = tmp_path / "out.csv"
    argv = ["prices", str(inp), "-o", str(out), "--errors", str(errors), "--config", str(tiny_store)]
    assert predict(*argv) == 0
    assert errors.read_text() == ""
    assert list(read_output(out).columns) == ["area", "rooms", "garden", "value"]


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("nope", "Unknown model 'nope'. Models: flowers, prices, shoes."),
        ("flowers/9", "Unknown version '9' of model 'flowers'"),
    ],
)
def test_unknown_model_or_version_exits_2(
    tiny_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], target: str, message: str
) -> None:
    inp = write_input(flowers_rows(3), tmp_path / "in.csv")
    assert predict(target, str(inp), "--config", str(tiny_store)) == 2
    captured = capsys.readouterr()
    assert message in captured.err
    assert captured.out == ""


@pytest.mark.parametrize(
    ("make_input", "message"),
    [
        (lambda d: d / "in.txt", "unsupported extension '.txt'"),
        (lambda d: d / "absent.csv", "cannot read"),
        (lambda d: write_input(flowers_rows(3).drop(columns="petal_width"), d / "in.csv"), "petal_width"),
        (lambda d: write_input(flowers_rows(3).assign(label="x"), d / "in.csv"), "output columns label"),
    ],
)
def test_usage_errors_exit_2(
    tiny_store: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    make_input: Callable[[Path], Path],
    message: str,
) -> None:
    assert predict("flowers", str(make_input(tmp_path)), "--config", str(tiny_store)) == 2
    assert message in capsys.readouterr().err


def test_stdin_to_stdout(
    tiny_store: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = flowers_rows(6)
    monkeypatch.setattr(sys, "stdin", io.StringIO(frame.to_csv(index=False)))
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(io.BytesIO(), encoding="utf-8"))
    assert predict("flowers", "-", "--config", str(tiny_store)) == 0
    sys.stdout.flush()
    scored = pd.read_csv(io.BytesIO(sys.stdout.buffer.getvalue()))
    assert_matches_api(scored, api_predictions(tiny_store, "flowers", "1", frame))


@pytest.mark.parametrize("target", ["flowers", "flowers/stable", "flowers/latest", "flowers/2"])
def test_alias_and_default_version(tiny_store: Path, tmp_path: Path, target: str) -> None:
    frame = flowers_rows(8)
    inp, out = write_input(frame, tmp_path / "in.csv"), tmp_path / "out.parquet"
    assert predict(target, str(inp), "-o", str(out), "--config", str(tiny_store)) == 0
    version = target.partition("/")[2] or "1"
    assert_matches_api(read_output(out), api_predictions(tiny_store, "flowers", version, frame))


@pytest.mark.parametrize("target", FORMATS)
def test_chunk_boundaries_change_nothing(tiny_store: Path, tmp_path: Path, target: str) -> None:
    frame = shoes_rows(50, seed=3).astype(object)
    frame.loc[[6, 7, 13, 49], "color"] = "purple"
    inp = write_input(frame, tmp_path / "in.csv")
    results = []
    for chunk_rows in ("7", "1000"):
        out, errors = tmp_path / f"out{chunk_rows}.{target}", tmp_path / f"errors{chunk_rows}.txt"
        argv = ["shoes", str(inp), "-o", str(out), "--errors", str(errors), "--chunk-rows", chunk_rows]
        assert predict(*argv, "--config", str(tiny_store)) == 1
        results.append((read_output(out), errors.read_text()))
    (small, small_errors), (whole, whole_errors) = results
    pd.testing.assert_frame_equal(small, whole)
    assert small_errors == whole_errors
    assert [line.split(":")[0] for line in small_errors.splitlines()] == [
        "Row 6",
        "Row 7",
        "Row 13",
        "Row 49",
    ]
    assert len(small) == 46


@pytest.mark.parametrize(
    ("name", "version"), [("iris", "1"), ("penguins", "2"), ("penguins", "1"), ("diabetes", "1")]
)
def test_example_models_match_the_api(tmp_path: Path, name: str, version: str) -> None:
    app = create_app(EXAMPLE_CONFIG)
    detail = app.test_client().get(f"/models/{name}/{version}").get_json()
    frame = example_rows(detail["features"], 30)
    inp, out = write_input(frame, tmp_path / "in.csv"), tmp_path / "out.jsonl"
    assert predict(f"{name}/{version}", str(inp), "-o", str(out), "--config", str(EXAMPLE_CONFIG)) == 0
    assert_matches_api(read_output(out), api_predictions(EXAMPLE_CONFIG, name, version, frame))


def example_rows(features: list[dict[str, Any]], n: int, seed: int = 0) -> pd.DataFrame:
    """Valid random rows for a version's features as GET /models/<name>/<version> describes them."""
    rng = np.random.default_rng(seed)
    columns = {}
    for feature in features:
        if feature.get("categories"):
            values = list(rng.choice(np.array(feature["categories"], dtype=object), n))
            if not feature.get("required", True):
                values[0] = None
        elif feature["type"] == "boolean":
            values = rng.integers(0, 2, n).astype(bool)
        else:
            low, high = feature.get("minimum", 0), feature.get("maximum", 100)
            values = rng.uniform(low, high, n)
            values = values.round() if feature["type"] == "integer" else values.round(3)
            values = values.astype(int) if feature["type"] == "integer" else values
        columns[feature["name"]] = values
    return pd.DataFrame(columns)


@pytest.mark.slow
def test_memory_stays_flat_on_a_million_rows(tmp_path: Path) -> None:
    runs = {}
    for rows in (100_000, 1_000_000):
        source = tmp_path / f"iris{rows}.csv"
        write_iris_csv(source, rows)
        runs[rows] = time_predict(source, tmp_path / f"scored{rows}.csv", rows)
        assert runs[rows].exit_code == 0
    assert runs[1_000_000].peak_rss_kib <= 1.3 * runs[100_000].peak_rss_kib, {
        r: v.describe() for r, v in runs.items()
    }
    assert sum(1 for _ in open(tmp_path / "scored1000000.csv")) == 1_000_001

"""model-registry add --sample: integer and boolean types, bounds and optional columns from a CSV
or Parquet sample, and names for estimators fitted on arrays."""

from __future__ import annotations

from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.linear_model import LinearRegression

from cli.check import EXIT_CONFIG_ERROR
from registry.sample_columns import read_sample
from tests.add_helpers import add, assert_served_like, loan_frame, served, snapshot, train_loans


def write_sample(frame: pd.DataFrame, path: Path) -> Path:
    if path.suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)
    return path


@pytest.fixture
def loans(tmp_path: Path) -> Path:
    path = tmp_path / "loans.joblib"
    joblib.dump(train_loans(), path)
    return path


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_sample_gives_types_bounds_and_gaps(tiny_store: Path, loans: Path, suffix: str) -> None:
    frame, _ = loan_frame()
    sample = write_sample(frame, loans.parent / f"train{suffix}")
    assert add(tiny_store, loans, "--model", "loans", "--sample", sample) == 0
    features = yaml.safe_load(tiny_store.read_text())["models"]["loans"]["versions"]["1"]["features"]
    income = frame["income"].dropna()
    assert features == [
        {"name": "grade", "type": "category", "categories": ["A", "B", "C", "D"], "required": False},
        {"name": "term", "type": "integer", "minimum": 12, "maximum": 60},
        {
            "name": "income",
            "type": "number",
            "required": False,
            "minimum": float(income.min()),
            "maximum": float(income.max()),
        },
        {"name": "owner", "type": "boolean"},
    ]


def test_served_predictions_with_sample_types(tiny_store: Path, loans: Path) -> None:
    frame, _ = loan_frame()
    assert (
        add(tiny_store, loans, "--model", "loans", "--sample", write_sample(frame, loans.parent / "t.csv"))
        == 0
    )
    rows = frame.head(20)  # with gaps in grade and income, booleans as JSON true/false
    assert_served_like(train_loans(), served(tiny_store, "loans", "1", rows), rows)


def test_array_fitted_estimator_takes_names_from_the_sample(tiny_store: Path, tmp_path: Path) -> None:
    data = pd.DataFrame({"width": [1.0, 2.0, 3.5, 4.0], "depth": [3, 1, 4, 1]})
    estimator = LinearRegression().fit(data.to_numpy(), [1.0, 2.0, 3.0, 4.0])
    artifact = tmp_path / "plain.joblib"
    joblib.dump(estimator, artifact)
    sample = write_sample(data, tmp_path / "plain.parquet")
    assert add(tiny_store, artifact, "--model", "plain", "--sample", sample) == 0
    features = yaml.safe_load(tiny_store.read_text())["models"]["plain"]["versions"]["1"]["features"]
    assert features == [
        {"name": "width", "type": "number", "minimum": 1.0, "maximum": 4.0},
        {"name": "depth", "type": "integer", "minimum": 1, "maximum": 4},
    ]
    got = served(tiny_store, "plain", "1", data)
    np.testing.assert_allclose([r["value"] for r in got], estimator.predict(data.to_numpy()), atol=1e-9)


def test_sample_with_the_wrong_columns_changes_nothing(
    tiny_store: Path, loans: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame, _ = loan_frame()
    short = write_sample(frame.drop(columns=["owner"]), tmp_path / "short.csv")
    plain = tmp_path / "plain.joblib"
    joblib.dump(LinearRegression().fit(np.ones((3, 2)), [1.0, 2.0, 3.0]), plain)
    wide = write_sample(pd.DataFrame({"a": [1], "b": [2], "target": [3]}), tmp_path / "wide.csv")
    before = snapshot(tiny_store)
    assert add(tiny_store, loans, "--model", "loans", "--sample", short) == EXIT_CONFIG_ERROR
    assert add(tiny_store, plain, "--model", "plain", "--sample", wide) == EXIT_CONFIG_ERROR
    assert add(tiny_store, plain, "--model", "plain", "--sample", tmp_path / "x.json") == EXIT_CONFIG_ERROR
    assert snapshot(tiny_store) == before
    err = capsys.readouterr().err
    assert "the sample has no column owner (Pipeline needs them)" in err
    assert "LinearRegression expects 2 features, but the sample has 3 columns (a, b, target)" in err
    assert "a sample must be CSV or Parquet" in err


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_only_the_estimators_columns_are_read_from_a_wide_sample(
    tiny_store: Path, loans: Path, tmp_path: Path, suffix: str
) -> None:
    frame, _ = loan_frame()
    extra = pd.DataFrame({f"notes_{i}": ["x" * 200] * len(frame) for i in range(40)})
    wide = write_sample(pd.concat([extra, frame], axis=1), tmp_path / f"wide{suffix}")
    narrow = write_sample(frame, tmp_path / f"narrow{suffix}")
    wanted = list(frame.columns)
    assert list(read_sample(wide, wanted[::-1]).columns) == wanted  # the file's order, nothing else
    assert add(tiny_store, loans, "--model", "wide", "--sample", wide) == 0
    assert add(tiny_store, loans, "--model", "narrow", "--sample", narrow) == 0
    models = yaml.safe_load(tiny_store.read_text())["models"]
    assert models["wide"]["versions"]["1"]["features"] == models["narrow"]["versions"]["1"]["features"]

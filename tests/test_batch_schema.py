"""model-registry predict's output columns take their types from the version's features, whatever the
input's format and wherever its bad rows fall: the same schema for every chunk, every run and every
output format (read back as docs/operations.md says), with the same raw text forms."""

from __future__ import annotations

import csv
import itertools
import re
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from batch.output_types import label_dtype
from cli.main import main
from tests.add_helpers import loan_frame, served, train_defaults, train_loans
from tests.conftest import dump_model, write_config
from tests.test_batch_predict import write_input

LOAN_FEATURES = [
    {"name": "grade", "type": "category", "categories": ["A", "B", "C", "D"], "required": False},
    {"name": "term", "type": "integer"},
    {"name": "income", "type": "number", "required": False},
    {"name": "owner", "type": "boolean"},
]
FEATURE_DTYPES = {"grade": "string", "term": "Int64", "income": "float64", "owner": "boolean"}
PREDICTIONS = {
    "loans": {"value": "float64"},
    "defaults": {"label": "Int64", "probability_0": "float64", "probability_1": "float64"},
}
ARROW_TYPES = {"term": pa.int64(), "income": pa.float64(), "owner": pa.bool_(), "label": pa.int64()}
FORMATS = ["csv", "jsonl", "parquet"]
ROWS, CHUNK_ROWS = 42, 6
# One bad value of each kind per bad row, in turn; Parquet columns are typed, so there only the
# values a typed column can hold.
BAD = {"income": "n/a", "owner": "maybe", "term": 2.5, "grade": "Z"}
TYPED_BAD = {"term": 2.5, "grade": "Z"}
LAYOUTS = {
    "first chunk": [0, 1, 2, 3],
    "last chunk": [38, 39, 40, 41],
    "a whole chunk": list(range(24, 30)),
    "none": [],
}


@pytest.fixture(scope="module")
def loan_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with the loan regressor and the loan classifier (classes 0 and 1) on four feature types."""
    root = tmp_path_factory.mktemp("loans")
    models = {}
    for name, model, task in [
        ("loans", train_loans(), "regression"),
        ("defaults", train_defaults(), "classification"),
    ]:
        sha = dump_model(root / "model_store", f"{name}/1/model.joblib", model)
        version = {
            "artifact": f"{name}/1/model.joblib",
            "sha256": sha,
            "task": task,
            "features": LOAN_FEATURES,
        }
        models[name] = {"versions": {"1": version}}
    return write_config(root, models)


def loan_rows() -> pd.DataFrame:
    """Valid rows with an id passed through, gaps in the optional features, and a whole chunk of gaps."""
    frame = loan_frame(ROWS)[0].astype(object)
    frame.loc[12:17, ["grade", "income"]] = None
    frame.insert(0, "id", [f"loan-{i}" for i in range(ROWS)])
    return frame


def with_bad_rows(frame: pd.DataFrame, rows: list[int], bad: dict[str, Any]) -> pd.DataFrame:
    spoiled = frame.copy()
    for row, (column, value) in zip(rows, itertools.cycle(bad.items()), strict=False):
        spoiled.at[row, column] = value
    return spoiled


def read_back(path: Path, dtypes: dict[str, str]) -> pd.DataFrame:
    """The reading docs/operations.md gives: the features' and predictions' dtypes for CSV and JSON
    Lines, none for Parquet, which holds its schema."""
    if path.suffix == ".csv":
        return pd.read_csv(path, dtype=dtypes, keep_default_na=False, na_values=[""])
    if path.suffix == ".jsonl":
        return pd.read_json(path, lines=True, dtype=dtypes, precise_float=True)
    return pd.read_parquet(path)


def assert_raw_forms(path: Path, model: str) -> None:
    """Booleans as true/false, integers without a fraction, numbers as floats, whatever the chunk."""
    integer, number = re.compile(r"-?[0-9]+"), (float, type(None))
    if path.suffix == ".csv":
        with open(path, newline="") as file:
            for row in csv.DictReader(file):
                assert row["owner"] in ("true", "false") and integer.fullmatch(row["term"]), row
                assert row["income"] == "" or float(row["income"]) > 0, row
                assert model == "loans" or row["label"] in ("0", "1"), row
    elif path.suffix == ".jsonl":
        for line in path.read_bytes().splitlines():
            row = orjson.loads(line)
            assert type(row["owner"]) is bool and type(row["term"]) is int, row
            assert type(row["income"]) in number and type(row["grade"]) in (str, type(None)), row
            floats = [row["value"]] if model == "loans" else [row["probability_0"], row["probability_1"]]
            assert all(type(value) is float for value in floats), row
            assert model == "loans" or type(row["label"]) is int, row


@pytest.mark.parametrize("model", list(PREDICTIONS))
@pytest.mark.parametrize("source", FORMATS)
def test_the_output_schema_comes_from_the_features_wherever_bad_rows_fall(
    loan_store: Path, tmp_path: Path, model: str, source: str
) -> None:
    dtypes = {"id": "string", **FEATURE_DTYPES, **PREDICTIONS[model]}
    frame = loan_rows()
    schemas: list[pa.Schema] = []
    for layout, rows in LAYOUTS.items():
        spoiled = with_bad_rows(frame, rows, TYPED_BAD if source == "parquet" else BAD)
        inp = write_input(spoiled, tmp_path / f"{layout}.{source}")
        good = frame.drop(index=rows).reset_index(drop=True)
        expected = good.astype({"id": "string", **FEATURE_DTYPES})
        outputs = {}
        for target in FORMATS:
            out = tmp_path / f"{layout}-out.{target}"
            argv = ["predict", model, str(inp), "-o", str(out), "--errors", str(tmp_path / "errors.txt")]
            argv += ["--chunk-rows", str(CHUNK_ROWS), "--config", str(loan_store)]
            assert main(argv) == (1 if rows else 0)
            assert_raw_forms(out, model)
            outputs[target] = read_back(out, dtypes)
            assert outputs[target].dtypes.astype(str).to_dict() == dtypes, (layout, target)
        schemas.append(pq.read_schema(tmp_path / f"{layout}-out.parquet"))
        scored = outputs["parquet"]
        pd.testing.assert_frame_equal(scored[expected.columns], expected, check_dtype=False, obj=layout)
        for target in ("csv", "jsonl"):  # the same values, to the last bit, in every format
            pd.testing.assert_frame_equal(outputs[target], scored, check_dtype=False, check_exact=True)
        assert_predictions_served(loan_store, model, good.drop(columns="id"), scored)
    assert all(schema.equals(schemas[0], check_metadata=True) for schema in schemas[1:])
    for name, arrow_type in ARROW_TYPES.items():
        assert name not in schemas[0].names or schemas[0].field(name).type == arrow_type, name
    assert pa.types.is_string(schemas[0].field("grade").type) or pa.types.is_large_string(
        schemas[0].field("grade").type
    )


def assert_predictions_served(config: Path, model: str, rows: pd.DataFrame, scored: pd.DataFrame) -> None:
    """The file's predictions are the API's for the same rows."""
    predictions = served(config, model, "1", rows)
    if model == "loans":
        expected = np.array([p["value"] for p in predictions])
        np.testing.assert_allclose(scored["value"].to_numpy(), expected, rtol=0, atol=1e-9)
        return
    assert scored["label"].tolist() == [p["label"] for p in predictions]
    for label in ("0", "1"):
        expected = np.array([p["probabilities"][label] for p in predictions])
        np.testing.assert_allclose(scored[f"probability_{label}"].to_numpy(), expected, rtol=0, atol=1e-9)


@pytest.mark.parametrize("target", FORMATS)
def test_two_runs_write_the_same_bytes(loan_store: Path, tmp_path: Path, target: str) -> None:
    inp = write_input(with_bad_rows(loan_rows(), LAYOUTS["first chunk"], BAD), tmp_path / "in.csv")
    written = []
    for run in ("one", "two"):
        out = tmp_path / f"{run}.{target}"
        argv = ["predict", "defaults", str(inp), "-o", str(out), "--errors", str(tmp_path / f"{run}.txt")]
        assert main([*argv, "--chunk-rows", "5", "--config", str(loan_store)]) == 1
        written.append(out.read_bytes())
    assert written[0] == written[1]


@pytest.mark.parametrize(
    ("labels", "dtype"),
    [(("no", "yes"), "string"), ((0, 1), "Int64"), ((False, True), "boolean"), ((0.5, 1.5), "float64")],
)
def test_a_label_column_takes_the_type_of_the_classes(labels: tuple[Any, ...], dtype: str) -> None:
    assert label_dtype(labels) == dtype


def test_an_integer_beyond_64_bits_is_refused_rather_than_written_in_another_type(
    loan_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [{"grade": "A", "term": term, "income": 1.5, "owner": True} for term in (36, 2**63)]
    source, out = tmp_path / "in.jsonl", tmp_path / "out.parquet"
    source.write_bytes(b"".join(orjson.dumps(row) + b"\n" for row in rows))
    assert main(["predict", "loans", str(source), "-o", str(out), "--config", str(loan_store)]) == 2
    assert "column term: a whole number beyond 64 bits" in capsys.readouterr().err
    assert not out.exists()


def test_a_parquet_file_of_no_rows_gives_an_output_of_no_rows_with_every_column_typed(
    loan_store: Path, tmp_path: Path
) -> None:
    source, out = tmp_path / "in.parquet", tmp_path / "out.parquet"
    loan_rows().iloc[:0].astype({"term": "int64", "income": "float64", "owner": bool}).to_parquet(source)
    assert main(["predict", "defaults", str(source), "-o", str(out), "--config", str(loan_store)]) == 0
    scored = pd.read_parquet(out)
    assert len(scored) == 0
    assert scored.drop(columns="id").dtypes.astype(str).to_dict() == {
        **FEATURE_DTYPES,
        **PREDICTIONS["defaults"],
    }

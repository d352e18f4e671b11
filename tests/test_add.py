"""model-registry add: features inferred from fitted estimators, written with the config kept whole,
and nothing changed whenever the new version cannot be served."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pytest
import yaml
from sklearn.linear_model import LogisticRegression

from cli.check import EXIT_CONFIG_ERROR, EXIT_FAILED_VERSION
from cli.main import main
from tests.add_helpers import (
    CONFIG_COMMENT,
    add,
    assert_served_like,
    fabric_frame,
    loan_frame,
    served,
    snapshot,
    train_fabric,
    train_loans,
)
from tests.conftest import sha256_file


@pytest.fixture
def config(tiny_store: Path) -> Path:
    """The tiny store's config with a comment on top and one beside a key."""
    text = tiny_store.read_text().replace("store: model_store", "store: model_store  # artifacts here")
    tiny_store.write_text(CONFIG_COMMENT + text)
    return tiny_store


@pytest.fixture
def artifacts(tmp_path: Path) -> dict[str, Path]:
    """The two new estimators, pickled outside the store."""
    folder = tmp_path / "outside"
    folder.mkdir()
    paths = {"fabric": folder / "fabric.joblib", "loans": folder / "loans.joblib"}
    joblib.dump(train_fabric(), paths["fabric"])
    joblib.dump(train_loans(), paths["loans"])
    return paths


def written(config: Path, model: str, version: str) -> dict[str, Any]:
    return yaml.safe_load(config.read_text())["models"][model]["versions"][version]


def test_dry_run_prints_the_entry_and_changes_nothing(
    config: Path, artifacts: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(config)
    assert add(config, artifacts["fabric"], "--model", "fabric", "--dry-run") == 0
    assert snapshot(config) == before
    out = capsys.readouterr().out
    fragment = yaml.safe_load(out[out.index("models:") :].split("\n\n")[0])
    entry = fragment["models"]["fabric"]["versions"]["1"]
    assert entry["artifact"] == "fabric/1/fabric.joblib"
    assert entry["sha256"] == sha256_file(artifacts["fabric"])
    assert "fabric/1  available  classification" in out


def test_add_writes_what_the_estimators_know(config: Path, artifacts: dict[str, Path]) -> None:
    fabric, loans = train_fabric(), train_loans()
    assert add(config, artifacts["fabric"], "--model", "fabric", "--description", "Cloth prices") == 0
    assert add(config, artifacts["loans"], "--model", "loans") == 0

    entry = written(config, "fabric", "1")
    assert [f["name"] for f in entry["features"]] == list(fabric.feature_names_in_)
    encoder = fabric.named_steps["encode"]
    fabric_categories = [c for c in encoder.categories_[0].tolist() if isinstance(c, str)]
    assert entry["features"][0] == {
        "name": "fabric",
        "type": "category",
        "categories": fabric_categories,
        "required": False,  # the encoder learnt NaN from the gaps
    }
    assert entry["features"][1] == {"name": "region", "type": "category", "categories": [10, 20, 30]}
    assert entry["task"] == "classification"

    loan = written(config, "loans", "1")
    assert [f["name"] for f in loan["features"]] == list(loans.feature_names_in_)
    assert loan["features"] == [
        {"name": "grade", "type": "category", "categories": ["A", "B", "C", "D"], "required": False},
        {"name": "term", "type": "number"},
        {"name": "income", "type": "number"},
        {"name": "owner", "type": "number"},
    ]
    assert loan["task"] == "regression"
    assert loan["sha256"] == sha256_file(config.parent / "model_store/loans/1/loans.joblib")


def test_add_keeps_the_rest_of_the_config(
    config: Path, artifacts: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    before = config.read_text()
    assert add(config, artifacts["fabric"], "--model", "fabric") == 0
    assert add(config, artifacts["fabric"], "--model", "shoes") == 0  # a new version of a model there
    after = config.read_text()
    assert after.startswith(CONFIG_COMMENT + "store: model_store  # artifacts here\n")
    data, old = yaml.safe_load(after), yaml.safe_load(before)
    shoes_versions = data["models"]["shoes"].pop("versions")
    assert shoes_versions.pop("1") == old["models"]["shoes"]["versions"]["1"]
    assert list(shoes_versions) == ["2"]
    assert {k: v for k, v in data["models"].items() if k != "fabric"} == {
        k: v for k, v in old["models"].items() if k != "shoes"
    } | {"shoes": {k: v for k, v in old["models"]["shoes"].items() if k != "versions"}}
    capsys.readouterr()
    assert main(["check", "--config", str(config)]) == 0
    assert "6 of 6 versions available" in capsys.readouterr().out


def test_next_version_follows_the_highest_integer(
    config: Path, artifacts: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert add(config, artifacts["fabric"], "--model", "flowers", "--dry-run") == 0
    assert capsys.readouterr().out.startswith("flowers/3: classification, 2 features")
    assert add(config, artifacts["loans"], "--model", "prices", "--version", "7") == 0
    assert add(config, artifacts["loans"], "--model", "prices") == 0
    assert list(yaml.safe_load(config.read_text())["models"]["prices"]["versions"]) == ["1", "7", "8"]


def test_served_predictions_equal_the_estimators(config: Path, artifacts: dict[str, Path]) -> None:
    assert add(config, artifacts["fabric"], "--model", "fabric") == 0
    assert add(config, artifacts["loans"], "--model", "loans") == 0
    fabric_rows, _ = fabric_frame(12)
    assert_served_like(train_fabric(), served(config, "fabric", "1", fabric_rows), fabric_rows)
    # Without a sample every unencoded column is a required number: send numbers, no gaps.
    loan_rows = loan_frame(15)[0].dropna(subset=["income"]).astype({"owner": int})
    assert_served_like(train_loans(), served(config, "loans", "1", loan_rows), loan_rows)


def test_duplicate_version_changes_nothing(
    config: Path, artifacts: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(config)
    assert add(config, artifacts["fabric"], "--model", "shoes", "--version", "1") == EXIT_CONFIG_ERROR
    assert snapshot(config) == before
    assert "shoes/1 already exists; versions are never overwritten" in capsys.readouterr().err


def test_non_estimator_changes_nothing(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    artifact = tmp_path / "table.joblib"
    joblib.dump({"weights": [1, 2, 3]}, artifact)
    before = snapshot(config)
    assert add(config, artifact, "--model", "table") == EXIT_FAILED_VERSION
    assert snapshot(config) == before
    assert "holds a dict, not an estimator (it has no predict)" in capsys.readouterr().err


def test_failing_version_is_undone(config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    artifact, sample = tmp_path / "unfitted.joblib", tmp_path / "sample.csv"
    joblib.dump(LogisticRegression(), artifact)  # has predict, but no classes_: it fails to load
    sample.write_text("a,b\n1.0,2.0\n")
    before = snapshot(config)
    assert add(config, artifact, "--model", "unfitted", "--sample", sample) == EXIT_FAILED_VERSION
    assert snapshot(config) == before
    assert not (config.parent / "model_store/unfitted").exists()
    captured = capsys.readouterr()
    assert "unfitted/1  failed  task: classification, but the estimator has no classes_" in captured.out
    assert "the config and the store are left as they were" in captured.err


def test_array_fitted_estimator_needs_a_sample(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    artifact = tmp_path / "plain.joblib"
    joblib.dump(LogisticRegression().fit(np.arange(12.0).reshape(6, 2), [0, 1] * 3), artifact)
    before = snapshot(config)
    assert add(config, artifact, "--model", "plain") == EXIT_CONFIG_ERROR
    assert snapshot(config) == before
    assert (
        "cannot infer the features: LogisticRegression was fitted on an array, so it has no "
        "feature_names_in_ and the feature names cannot be inferred; give --sample FILE whose 2 columns "
        "are its inputs, in order" in capsys.readouterr().err
    )


def test_missing_artifact_and_bad_model_name_are_usage_errors(
    config: Path, artifacts: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(config)
    assert add(config, config.parent / "nothing.joblib", "--model", "x") == EXIT_CONFIG_ERROR
    assert add(config, artifacts["fabric"], "--model", "bad name") == EXIT_CONFIG_ERROR
    assert add(config, artifacts["fabric"], "--model", "x", "--version", "predict") == EXIT_CONFIG_ERROR
    assert snapshot(config) == before
    err = capsys.readouterr().err
    assert "nothing.joblib: no such file" in err
    assert "'bad name' may hold only letters, digits" in err
    assert "x: versions: predict: reserved" in err


def test_version_flag_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    from importlib.metadata import version

    with pytest.raises(SystemExit) as stopped:
        main(["--version"])
    assert stopped.value.code == 0
    assert capsys.readouterr().out == f"model-registry {version('model-registry')}\n"

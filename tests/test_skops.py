""".skops artifacts: loaded with skops.io trusting only the listed types; add lists the types the
file needs and records them only with --trust-types."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io
import yaml
from sklearn.ensemble import HistGradientBoostingClassifier

from cli.check import EXIT_CONFIG_ERROR
from registry.loader import load_registry
from spec.config import read_config
from tests.add_helpers import add, assert_served_like, served, snapshot
from tests.conftest import sha256_file

TREE_PREDICTOR = "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor"


def seeds(rows: int = 60) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"mass": rng.normal(5, 1, rows), "length": rng.normal(9, 2, rows)})
    return frame, np.where(frame["mass"] + frame["length"] / 3 > 8, "big", "small")


@pytest.fixture(scope="module")
def estimator() -> HistGradientBoostingClassifier:
    """A classifier whose tree predictors are not among skops' default trusted types."""
    return HistGradientBoostingClassifier(max_iter=10, random_state=0).fit(*seeds())


@pytest.fixture
def artifact(tmp_path: Path, estimator: HistGradientBoostingClassifier) -> Path:
    path = tmp_path / "seeds.skops"
    skops.io.dump(estimator, path)
    return path


def test_add_without_trust_lists_the_types_and_changes_nothing(
    tiny_store: Path, artifact: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(tiny_store)
    assert add(tiny_store, artifact, "--model", "seeds") == EXIT_CONFIG_ERROR
    assert snapshot(tiny_store) == before
    err = capsys.readouterr().err
    assert f"needs types that skops does not trust by default: {TREE_PREDICTOR}" in err
    assert "--trust-types" in err


def test_add_with_trust_records_the_types_and_serves(
    tiny_store: Path, artifact: Path, estimator: HistGradientBoostingClassifier
) -> None:
    assert add(tiny_store, artifact, "--model", "seeds", "--trust-types") == 0
    entry = yaml.safe_load(tiny_store.read_text())["models"]["seeds"]["versions"]["1"]
    assert entry["artifact"] == "seeds/1/seeds.skops"
    assert entry["trusted_types"] == [TREE_PREDICTOR]
    assert entry["sha256"] == sha256_file(artifact)
    rows = seeds(10)[0]
    assert_served_like(estimator, served(tiny_store, "seeds", "1", rows), rows)


def test_a_missing_trusted_type_fails_the_version_with_the_type_named(
    tiny_store: Path, artifact: Path
) -> None:
    assert add(tiny_store, artifact, "--model", "seeds", "--trust-types") == 0
    data = yaml.safe_load(tiny_store.read_text())
    data["models"]["seeds"]["versions"]["1"]["trusted_types"] = ["numpy.not_this_one"]
    tiny_store.write_text(yaml.safe_dump(data, sort_keys=False))
    version = load_registry(read_config(tiny_store)).resolve("seeds", "1")
    assert not version.is_available
    assert version.reason == (
        f"trusted_types: untrusted types in the skops file: {TREE_PREDICTOR} "
        "(list them under trusted_types to load it)"
    )
    assert load_registry(read_config(tiny_store)).resolve("shoes", "1").is_available

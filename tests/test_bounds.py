"""add --bounds: the minimum and maximum a sample gives numeric features, by each rule, and what the
served version then accepts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import joblib
import pandas as pd
import pytest
import yaml
from sklearn.linear_model import LinearRegression

from api import create_app
from registry.bounds import declared_bounds
from tests.live import run_command


@pytest.mark.parametrize(
    ("low", "high", "integer", "expected"),
    [
        (18, 74, True, (12, 80)),  # 10 % of 56 is 5.6 on each side, rounded outward to whole years
        (0, 5000, True, (0, 5500)),  # all non-negative: never below zero
        (0.25, 0.75, False, (0.2, 0.8)),  # rounded outward to the widening's leading digit
        (26.123, 79.31, False, (20.0, 85.0)),
        (1.0, 4.0, False, (0.7, 4.3)),  # 0.3 on each side, exactly, despite 0.1 * 3.0 in floats
        (-2.5, 7.25, False, (-3.5, 8.3)),  # a sample across zero widens across it
        (-3.0, -1.0, False, (-3.2, -0.8)),
        (-4, 0, True, (-5, 0)),  # all non-positive: never above zero
        (5, 5, True, (4, 6)),  # one value: 10 % of it
        (0, 0, True, (0, 1)),  # one value, zero: at least 0.1, rounded outward
    ],
)
def test_margin(low: float, high: float, integer: bool, expected: tuple[float, float]) -> None:
    got = declared_bounds(low, high, integer, "margin")
    assert got == pytest.approx(expected, abs=1e-12)
    assert got[0] <= low and got[1] >= high
    assert all(isinstance(b, int) for b in got) == integer


def test_sample_and_none() -> None:
    assert declared_bounds(18, 74, True, "sample") == (18, 74)
    assert declared_bounds(0.25, 0.75, False, "none") == (None, None)


@pytest.fixture
def ages(tmp_path: Path) -> tuple[Path, Path]:
    """A regression fitted on ages 18 to 74 and incomes 0 to 5000, and its training data as a sample."""
    frame = pd.DataFrame({"age": [18, 30, 45, 74], "income": [0.0, 1200.5, 3300.0, 5000.0]})
    artifact = tmp_path / "ages.joblib"
    joblib.dump(LinearRegression().fit(frame, [1.0, 2.0, 3.0, 4.0]), artifact)
    sample = tmp_path / "train.csv"
    frame.to_csv(sample, index=False)
    return artifact, sample


def add_with(tmp_path: Path, ages: tuple[Path, Path], *bounds: str) -> tuple[str, list[dict[str, Any]], Path]:
    """Run add (with ``--bounds`` when given) into a new config; its output and features."""
    config = tmp_path / f"config-{'-'.join(bounds) or 'default'}.yaml"
    done = run_command("add", ages[0], "--model", "ages", "--sample", ages[1], "--config", config, *bounds)
    assert done.returncode == 0, done.stderr
    features = yaml.safe_load(config.read_text())["models"]["ages"]["versions"]["1"]["features"]
    return done.stdout, features, config


def status_for(config: Path, age: int) -> int:
    client = create_app(config).test_client()
    return client.post("/models/ages/1/predict", json={"age": age, "income": 100.0}).status_code


def test_margin_is_the_default(tmp_path: Path, ages: tuple[Path, Path]) -> None:
    out, features, config = add_with(tmp_path, ages)
    assert features == [
        {"name": "age", "type": "integer", "minimum": 12, "maximum": 80},
        {"name": "income", "type": "number", "minimum": 0.0, "maximum": 5500.0},
    ]
    assert "  bounds: margin (the sample's range widened by 10 % on each side; --bounds to change)" in out
    assert status_for(config, 75) == 200  # older than anyone in the sample, within the margin
    assert status_for(config, 81) == 400


def test_sample_keeps_the_extremes(tmp_path: Path, ages: tuple[Path, Path]) -> None:
    out, features, config = add_with(tmp_path, ages, "--bounds", "sample")
    assert features == [
        {"name": "age", "type": "integer", "minimum": 18, "maximum": 74},
        {"name": "income", "type": "number", "minimum": 0.0, "maximum": 5000.0},
    ]
    assert "  bounds: sample (the sample's own minimum and maximum; --bounds to change)" in out
    assert status_for(config, 74) == 200
    assert status_for(config, 75) == 400


def test_none_declares_no_bounds(tmp_path: Path, ages: tuple[Path, Path]) -> None:
    out, features, config = add_with(tmp_path, ages, "--bounds", "none")
    assert features == [{"name": "age", "type": "integer"}, {"name": "income", "type": "number"}]
    assert "  bounds: none (no minimum or maximum; --bounds to change)" in out
    assert status_for(config, 150) == 200


def test_a_wrong_choice_is_a_usage_error(tmp_path: Path, ages: tuple[Path, Path]) -> None:
    done = run_command("add", ages[0], "--model", "ages", "--sample", ages[1], "--bounds", "wide")
    assert done.returncode == 2
    assert "argument --bounds: invalid choice: 'wide'" in done.stderr

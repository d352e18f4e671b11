"""The estimator names `check`, `add` and GET /models/<name>/<version> print: always a path the class
can be imported from, the public one when the public module exports that very class."""

from __future__ import annotations

import importlib
import sys
import types
from pathlib import Path
from typing import Any

import joblib
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.ensemble._hist_gradient_boosting.binning import _BinMapper
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from registry.estimator_checks import class_path
from tests.add_helpers import train_loans
from tests.live import run_command


class Local:
    """A class of the test module itself, whose path has no private part."""


def imported(path: str) -> Any:
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        (HistGradientBoostingClassifier(), "sklearn.ensemble.HistGradientBoostingClassifier"),
        (LogisticRegression(), "sklearn.linear_model.LogisticRegression"),
        (Pipeline([("m", LogisticRegression())]), "sklearn.pipeline.Pipeline"),
        (_BinMapper(), "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper"),  # not exported
        (Local(), "tests.test_estimator_names.Local"),
    ],
)
def test_the_path_imports_the_same_class(obj: Any, expected: str) -> None:
    assert class_path(obj) == expected
    assert imported(expected) is type(obj)


def test_a_public_name_for_another_class_is_not_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    public, private = types.ModuleType("shopfront"), types.ModuleType("shopfront._impl")
    real = type("Model", (), {"__module__": "shopfront._impl"})
    private.Model = real
    public.Model = type("Model", (), {"__module__": "shopfront"})  # same name, another class
    monkeypatch.setitem(sys.modules, "shopfront", public)
    monkeypatch.setitem(sys.modules, "shopfront._impl", private)
    assert class_path(real()) == "shopfront._impl.Model"
    public.Model = real  # now the public module exports it
    assert class_path(real()) == "shopfront.Model"


def test_check_prints_the_public_path(tmp_path: Path) -> None:
    artifact = tmp_path / "loans.joblib"
    joblib.dump(train_loans(), artifact)
    config = tmp_path / "config.yaml"
    added = run_command("add", artifact, "--model", "loans", "--config", config)
    assert added.returncode == 0, added.stderr
    checked = run_command("check", "--config", config)
    assert "loans/1  available  regression: sklearn.ensemble.HistGradientBoostingRegressor," in checked.stdout
    assert "loans/1  available  regression: sklearn.ensemble.HistGradientBoostingRegressor," in added.stdout

"""model-registry check: one line per version, non-zero exit on any failure."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cli.check import EXIT_CONFIG_ERROR, EXIT_FAILED_VERSION
from cli.main import main


def test_check_all_available(tiny_store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--config", str(tiny_store)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 5
    assert lines[0].startswith(
        "flowers/1  available  classification: sklearn.linear_model.LogisticRegression"
    )
    assert lines[3].startswith("prices/1  available  regression: sklearn.linear_model.LinearRegression")
    assert lines[4].startswith("4 of 4 versions available")


def test_check_reports_failed_version(
    make_store: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    def break_shoes(models: dict[str, Any]) -> None:
        models["shoes"]["versions"]["1"]["sha256"] = "f" * 64

    assert main(["check", "--config", str(make_store(break_shoes))]) == EXIT_FAILED_VERSION
    out = capsys.readouterr().out
    assert "shoes/1  failed  sha256: mismatch: the config says ffff" in out
    assert "3 of 4 versions available" in out


def test_check_config_error(make_store: Callable[..., Path], capsys: pytest.CaptureFixture[str]) -> None:
    def typo(models: dict[str, Any]) -> None:
        models["shoes"]["versions"]["1"]["feature"] = []

    assert main(["check", "--config", str(make_store(typo))]) == EXIT_CONFIG_ERROR
    err = capsys.readouterr().err
    assert "shoes/1: feature: unknown key" in err
    assert "Traceback" not in err


def test_config_from_environment(
    tiny_store: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MODEL_REGISTRY_CONFIG", str(tiny_store))
    assert main(["check"]) == 0
    assert "4 of 4 versions available" in capsys.readouterr().out

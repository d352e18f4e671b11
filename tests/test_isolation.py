"""Artifacts that exit, crash or hang while they are unpickled fail their version with the reason,
in-process, in ``check`` and in ``add``, and never take the loading process with them."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cli.check import EXIT_CONFIG_ERROR, EXIT_FAILED_VERSION
from registry.loader import load_registry, load_version
from registry.reload import rebuild
from spec.config import ServerSettings, VersionSpec, read_config
from tests.add_helpers import add, snapshot
from tests.conftest import FLOWER_FEATURES
from tests.hostile_artifacts import HANG_TIMEOUT_S, REASONS, dump_hostile, importable_env
from tests.live import COMMAND

HOSTILE = list(REASONS)
QUICK = {"load_timeout_s": HANG_TIMEOUT_S}  # the hang costs seconds, not the default two minutes


def hostile_store(make_store: Callable[..., Path], function: str) -> Path:
    """The tiny store plus flowers/3, whose artifact runs ``function`` when it is unpickled."""

    def edit(models: dict[str, Any]) -> None:
        models["flowers"]["versions"]["3"] = {
            "artifact": "flowers/3/model.joblib",
            "features": FLOWER_FEATURES,
        }

    config = make_store(edit, server=QUICK)
    dump_hostile(config.parent / "model_store" / "flowers" / "3" / "model.joblib", function)
    return config


@pytest.mark.parametrize("function", HOSTILE)
def test_load_version_fails_the_version_and_the_process_lives_on(tmp_path: Path, function: str) -> None:
    dump_hostile(tmp_path / "model.joblib", function)
    spec = VersionSpec("evil", "1", "model.joblib", ())
    version = load_version(spec, tmp_path, ServerSettings(load_timeout_s=HANG_TIMEOUT_S))
    assert version.reason == REASONS[function]
    assert version.predictor is None


@pytest.mark.parametrize("function", HOSTILE)
def test_the_others_load_beside_a_hostile_version(make_store: Callable[..., Path], function: str) -> None:
    registry = load_registry(read_config(hostile_store(make_store, function)))
    failed = {f"{v.model}/{v.version}": v.reason for v in registry.all_versions() if not v.is_available}
    assert failed == {"flowers/3": REASONS[function]}


@pytest.mark.parametrize("function", HOSTILE)
def test_check_reports_the_version_and_exits_1(make_store: Callable[..., Path], function: str) -> None:
    config = hostile_store(make_store, function)
    run = subprocess.run(
        [str(COMMAND), "check", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
        env=importable_env(),
    )
    assert run.returncode == EXIT_FAILED_VERSION, run.stderr
    assert f"flowers/3  failed  {REASONS[function]}" in run.stdout.splitlines()
    assert "4 of 5 versions available" in run.stdout


@pytest.mark.parametrize("function", HOSTILE)
def test_add_exits_1_and_changes_nothing(
    make_store: Callable[..., Path], tmp_path: Path, function: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = make_store(server=QUICK)
    artifact = dump_hostile(tmp_path / "outside" / "evil.joblib", function)
    before = snapshot(config)
    assert add(config, artifact, "--model", "evil") == EXIT_FAILED_VERSION
    assert snapshot(config) == before
    reason = REASONS[function].removeprefix("artifact: ")
    assert f"add: {artifact}: {reason}" in capsys.readouterr().err


@pytest.mark.parametrize("bad", [["--model", "bad name"], ["--model", "evil\n"], ["--version", "predict"]])
def test_add_checks_its_arguments_before_unpickling(
    tiny_store: Path, tmp_path: Path, bad: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    marker = tmp_path / "unpickled"
    artifact = dump_hostile(tmp_path / "outside" / "evil.joblib", "mark_unpickled", str(marker))
    args = ["--model", "evil", *bad] if bad[0] == "--version" else bad
    assert add(tiny_store, artifact, *args) == EXIT_CONFIG_ERROR
    assert not marker.exists(), "the artifact was unpickled before the arguments were checked"
    err = capsys.readouterr().err
    assert "may hold only letters" in err or "predict: reserved" in err


def test_a_reload_in_which_nothing_changed_forks_nothing(tiny_store: Path) -> None:
    forks = counting_forks()
    current = load_registry(read_config(tiny_store))
    assert forks[0] > 0  # the first load tried each artifact in a child
    forks[0] = 0
    again = rebuild(current, read_config(tiny_store))
    assert forks[0] == 0
    assert all(v.predictor is current.resolve(v.model, v.version).predictor for v in again.all_versions())


_FORKS = [0]


def counting_forks() -> list[int]:
    """A counter of this process's forks (a fork hook cannot be removed: it is registered once)."""
    if not getattr(counting_forks, "registered", False):
        os.register_at_fork(before=lambda: _FORKS.__setitem__(0, _FORKS[0] + 1))
        counting_forks.registered = True  # type: ignore[attr-defined]
    _FORKS[0] = 0
    return _FORKS

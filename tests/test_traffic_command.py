"""``model-registry traffic``: the split written into config.yaml with every other line kept, a wrong
split refused unwritten, the current split printed; and the shadow's row comparison and runner."""

from __future__ import annotations

import difflib
import shutil
import time
from pathlib import Path

import gevent
import numpy as np
import pytest

from api.server import shadow as shadow_module
from api.server.shadow import ShadowRunner, set_recorder
from cli.main import main
from registry.inference import Outputs
from registry.shadow import ShadowJob, ShadowOutcome, agreeing_rows
from tests.conftest import EXAMPLE_CONFIG


@pytest.fixture
def config(tmp_path: Path) -> Path:
    shutil.copytree(EXAMPLE_CONFIG.parent / "model_store", tmp_path / "model_store")
    shutil.copy(EXAMPLE_CONFIG, tmp_path / "config.yaml")
    return tmp_path / "config.yaml"


def test_the_split_and_shadow_are_added_and_nothing_else_changes(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = config.read_text()
    assert main(["traffic", "penguins", "1=90", "2=10", "--shadow", "1", "--config", str(config)]) == 0
    diff = difflib.ndiff(before.splitlines(), config.read_text().splitlines())
    changes = [line for line in diff if line[:1] in "+-"]
    assert changes == ['+     traffic: {"1": 90, "2": 10}', '+     shadow: "1"']
    out = capsys.readouterr().out
    assert "4 of 4 versions available" in out
    assert out.endswith("penguins: 1 → 90 %, 2 → 10 %; shadow 1\n")
    assert main(["traffic", "penguins", "2=100", "--no-shadow", "--config", str(config)]) == 0
    assert 'traffic: {"2": 100}' in config.read_text() and "shadow:" not in config.read_text()
    capsys.readouterr()
    assert main(["traffic", "penguins", "--config", str(config)]) == 0
    assert capsys.readouterr().out == "penguins: 2 → 100 %; no shadow\n"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["1=90", "7=10"], "penguins: traffic: 7: '7' is not one of its versions"),
        (["1=-5", "2=10"], "penguins: traffic: 1: the weight must not be negative (-5)"),
        (["1=0", "2=0"], "penguins: traffic: the weights must not all be 0"),
        (["1=ninety"], "'1=ninety': give VERSION=WEIGHT with a whole-number weight"),
        (["1=50", "--shadow", "9"], "penguins: shadow: '9' is not one of its versions"),
    ],
)
def test_a_wrong_split_is_refused_and_the_file_left_as_it_was(
    config: Path, capsys: pytest.CaptureFixture[str], arguments: list[str], message: str
) -> None:
    before = config.read_bytes()
    assert main(["traffic", "penguins", *arguments, "--config", str(config)]) == 2
    assert message in capsys.readouterr().err
    assert config.read_bytes() == before


def test_an_unknown_model_is_refused(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["traffic", "otters", "1=100", "--config", str(config)]) == 2
    assert "the file has no model 'otters'" in capsys.readouterr().err


def test_rows_agree_on_labels_or_within_the_relative_tolerance() -> None:
    assert agreeing_rows(Outputs(labels=["a", "b", "c"]), Outputs(labels=["a", "x", "c"]), 1e-6) == 2
    served = Outputs(values=np.array([100.0, 0.0, -5.0, 1e-9]))
    shadow = Outputs(values=np.array([100.0005, 0.0, -5.1, 2e-9]))
    assert agreeing_rows(served, shadow, 1e-6) == 1  # only the exact 0.0
    assert agreeing_rows(served, shadow, 1e-5) == 2  # 100.0005 is 5e-6 away, relative
    assert agreeing_rows(served, shadow, 0.6) == 4
    assert agreeing_rows(Outputs(labels=["a"]), Outputs(values=np.array([1.0])), 1e-6) == 0


def test_the_runner_drops_what_the_queue_cannot_hold_and_runs_the_rest_when_idle(
    example_app: object,
) -> None:
    from api.wsgi.state import registry_of

    registry = registry_of(example_app)  # type: ignore[arg-type]
    iris = registry.resolve("iris", "1")
    columns = {f.name: np.array([5.0, 6.0]) for f in iris.spec.features}
    outputs = iris.predictor.predict(columns)
    seen: list[ShadowOutcome] = []
    previous = shadow_module._record
    set_recorder(lambda job, outcome: seen.append(outcome))
    try:
        runner = ShadowRunner(max_jobs=3)
        for _ in range(5):
            runner.submit(ShadowJob(iris, iris, columns, outputs, 2, 1e-6, time.monotonic()))
        assert [o.counts for o in seen] == [{"dropped": 2}, {"dropped": 2}]  # nothing ran yet
        gevent.sleep(0.1)  # the loop goes idle: the queued jobs run
        assert [o.counts for o in seen[2:]] == [{"agree": 2, "disagree": 0}] * 3
    finally:
        set_recorder(previous)

"""A registry from nothing: an empty config is valid and served, `add` creates the config file and
its store, `make reload` reloads the server `serve --pid-file` names, and a command that finds no
config says where it looked."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import urllib.request
from pathlib import Path

import joblib
import pytest
import yaml

from cli.check import EXIT_CONFIG_ERROR
from registry.registration import apply_addition, plan_addition
from spec.config import CONFIG_ENV, parse_config
from spec.errors import ConfigError
from tests.add_helpers import loan_frame, records, train_loans
from tests.conftest import ROOT
from tests.live import request, run_command, serving, wait_until


@pytest.fixture
def loans(tmp_path: Path) -> Path:
    """A fitted loans Pipeline, pickled in a folder of its own (the user's project)."""
    folder = tmp_path / "project"
    folder.mkdir()
    joblib.dump(train_loans(), folder / "loans.joblib")
    return folder / "loans.joblib"


@pytest.mark.parametrize("text", ["models: {}\n", "models:\n", "store: artifacts\n", "server: {}\n"])
def test_a_config_without_models_is_an_empty_registry(tmp_path: Path, text: str) -> None:
    config = parse_config(yaml.safe_load(text), tmp_path / "config.yaml")
    assert config.models == ()


def test_models_must_still_be_a_mapping(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({"models": ["loans"]}, tmp_path / "config.yaml")
    assert caught.value.problems == ["models: must be a mapping of model names to models ({} for none yet)"]


def test_add_creates_the_config_and_the_store_beside_it(loans: Path) -> None:
    project = loans.parent
    done = run_command("add", "loans.joblib", "--model", "loans", "--config", "new.yaml", cwd=project)
    assert done.returncode == 0, done.stderr
    assert "(new model) (new config file new.yaml)" in done.stdout
    assert (project / "model_store" / "loans" / "1" / "loans.joblib").read_bytes() == loans.read_bytes()
    written = yaml.safe_load((project / "new.yaml").read_text())
    assert written["store"] == "model_store"
    assert written["models"]["loans"]["versions"]["1"]["artifact"] == "loans/1/loans.joblib"
    checked = run_command("check", "--config", project / "new.yaml")
    assert checked.returncode == 0, checked.stdout
    assert "1 of 1 versions available" in checked.stdout


def test_add_into_a_missing_folder_creates_nothing(loans: Path) -> None:
    done = run_command("add", loans, "--model", "loans", "--config", "nowhere/new.yaml", cwd=loans.parent)
    assert done.returncode == EXIT_CONFIG_ERROR
    assert "nowhere/new.yaml: no such folder to create the config file in" in done.stderr
    assert sorted(p.name for p in loans.parent.iterdir()) == ["loans.joblib"]


def test_check_of_an_empty_registry_says_how_to_add_one(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("models: {}\n")
    done = run_command("check", "--config", config)
    assert done.returncode == 0
    assert f"no models yet: add one with `model-registry add MODEL_FILE --model NAME --config {config}`" in (
        done.stdout
    )


@pytest.mark.parametrize("command", [["check"], ["serve", "--port", "1"], ["predict", "loans", "in.csv"]])
def test_no_config_says_where_it_looked(tmp_path: Path, command: list[str]) -> None:
    env = {k: v for k, v in os.environ.items() if k != CONFIG_ENV}
    (tmp_path / "in.csv").write_text("term\n12\n")
    done = run_command(*command, cwd=tmp_path, env=env)
    assert done.returncode == EXIT_CONFIG_ERROR
    assert f"no config file at {tmp_path / 'config.yaml'}: point to one with --config PATH or " in done.stderr
    assert f"${CONFIG_ENV}" in done.stderr
    assert "Traceback" not in done.stderr
    elsewhere = tmp_path / "elsewhere" / "models.yaml"
    done = run_command(*command, cwd=tmp_path, env={**env, CONFIG_ENV: str(elsewhere)})
    assert done.returncode == EXIT_CONFIG_ERROR
    assert f"no config file at {elsewhere}: " in done.stderr


def test_an_empty_registry_serves_then_takes_an_add_on_make_reload(tmp_path: Path, loans: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("models: {}\n")
    pid_file = tmp_path / "serve.pid"
    with serving(config, tmp_path, workers=1, args=["--pid-file", str(pid_file)]) as server:
        assert int(pid_file.read_text()) == server.pid
        assert request(f"{server.url}/models") == (200, {"models": []})
        status, ready = request(f"{server.url}/health/ready")
        assert (status, ready["status"], ready["versions_available"]) == (200, "ready", 0)
        assert ready["message"].startswith("no models yet: add one with `model-registry add")
        with urllib.request.urlopen(f"{server.url}/", timeout=10) as response:
            page = response.read().decode()
        assert "No models yet" in page and "--config config.yaml" in page  # no absolute path
        assert str(tmp_path) not in page

        frame = loan_frame()[0]
        frame.to_csv(tmp_path / "train.csv", index=False)
        added = run_command(
            "add", loans, "--model", "loans", "--config", config, "--sample", tmp_path / "train.csv"
        )
        assert added.returncode == 0, added.stderr
        reload = subprocess.run(
            ["make", "-s", "-C", str(ROOT), "reload", f"PID_FILE={pid_file}"], capture_output=True, text=True
        )
        assert reload.returncode == 0, reload.stderr
        rows = records(frame.head(3))
        predict = f"{server.url}/models/loans/1/predict"
        # gunicorn boots the new worker before the old one exits: wait for 20 answers in a row.
        wait_until(
            lambda: all(request(predict, {"instances": rows})[0] == 200 for _ in range(20)),
            30,
            "the reload never added loans",
        )
        status, body = request(predict, {"instances": rows})
        assert status == 200 and len(body["predictions"]) == 3
        assert request(f"{server.url}/health/ready")[1]["message"] is None
    assert not pid_file.exists()


def test_serve_refuses_a_pid_file_naming_a_running_process(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("models: {}\n")
    pid_file = tmp_path / "serve.pid"
    pid_file.write_text(f"{os.getpid()}\n")
    done = run_command("serve", "--config", config, "--port", "1", "--pid-file", pid_file)
    assert done.returncode == EXIT_CONFIG_ERROR
    assert f"--pid-file: {pid_file} names PID {os.getpid()}, still running" in done.stderr
    assert pid_file.read_text() == f"{os.getpid()}\n"


def test_make_reload_without_a_server_says_so(tmp_path: Path) -> None:
    missing = tmp_path / "serve.pid"
    done = subprocess.run(
        ["make", "-s", "-C", str(ROOT), "reload", f"PID_FILE={missing}"], capture_output=True, text=True
    )
    assert done.returncode != 0
    assert f"no {missing}: is make serve running?" in done.stderr


def test_dry_run_into_a_new_config_creates_nothing(loans: Path) -> None:
    done = run_command(
        "add", "loans.joblib", "--model", "loans", "--config", "new.yaml", "--dry-run", cwd=loans.parent
    )
    assert done.returncode == 0, done.stderr
    assert "--dry-run: would add to new.yaml (nothing changed):" in done.stdout
    assert sorted(p.name for p in loans.parent.iterdir()) == ["loans.joblib"]


def test_a_new_config_whose_version_fails_is_removed_with_its_store(loans: Path) -> None:
    config = loans.parent / "new.yaml"
    planned = plan_addition(config, loans, "loans")
    broken = planned.edited.text.replace(planned.entry.sha256, "f" * 64)  # fails once written
    addition = dataclasses.replace(planned, edited=dataclasses.replace(planned.edited, text=broken))
    assert not apply_addition(addition).is_available
    assert sorted(p.name for p in loans.parent.iterdir()) == ["loans.joblib"]


@pytest.mark.parametrize("models", ["models: {}\n", "models:\n", ""])
def test_add_fills_an_empty_models_in_block_style_keeping_the_rest(loans: Path, models: str) -> None:
    config = loans.parent / "config.yaml"
    head = "# our registry\nstore: model_store  # artifacts\n"
    config.write_text(head + models + "server:\n  max_rows: 10\n")
    done = run_command("add", loans, "--model", "loans", "--config", config)
    assert done.returncode == 0, done.stderr
    text = config.read_text()
    assert text.startswith(head) and "server:\n  max_rows: 10\n" in text
    assert "\nmodels:\n  loans:\n    description: loans (registered with model-registry add)\n" in text
    assert "note: the file's indentation" not in done.stderr

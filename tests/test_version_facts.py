"""Registry facts: `add` records when a version was added and from which files; the config reads
them back, and a live server shows them in GET /models/<name>/<version> and on its home page."""

from __future__ import annotations

import datetime as dt
import hashlib
import urllib.request
from pathlib import Path
from typing import Any

import joblib
import pytest
import yaml

from spec.config import parse_config
from spec.errors import ConfigError
from tests.add_helpers import loan_frame, train_loans
from tests.live import request, run_command, serving


@pytest.fixture
def added(tmp_path: Path) -> tuple[Path, Path, dt.datetime, dt.datetime]:
    """loans/1 added with a sample into a new config, loans/2 without; the time around the first."""
    artifact, sample = tmp_path / "loan-model.joblib", tmp_path / "train.csv"
    joblib.dump(train_loans(), artifact)
    loan_frame()[0].to_csv(sample, index=False)
    config = tmp_path / "registry" / "config.yaml"
    config.parent.mkdir()
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    done = run_command("add", artifact, "--model", "loans", "--sample", sample, "--config", config)
    after = dt.datetime.now(dt.UTC)
    assert done.returncode == 0, done.stderr
    done = run_command("add", artifact, "--model", "loans", "--bounds", "none", "--config", config)
    assert done.returncode == 0, done.stderr
    return config, sample, before, after


def entry(config: Path, version: str) -> dict[str, Any]:
    return yaml.safe_load(config.read_text())["models"]["loans"]["versions"][version]


def test_add_writes_when_and_from_what(added: tuple[Path, Path, dt.datetime, dt.datetime]) -> None:
    config, sample, before, after = added
    first = entry(config, "1")
    assert first["added_at"].endswith("Z")
    assert before <= dt.datetime.fromisoformat(first["added_at"]) <= after
    assert first["source"] == "loan-model.joblib"
    assert first["sample_sha256"] == hashlib.sha256(sample.read_bytes()).hexdigest()
    second = entry(config, "2")
    assert second["source"] == "loan-model.joblib" and "sample_sha256" not in second
    assert 'added_at: "' in config.read_text()  # quoted, so YAML keeps it as text


def version_spec(tmp_path: Path, **facts: Any) -> Any:
    data = {
        "models": {
            "m": {
                "versions": {"1": {"artifact": "m/1/a.joblib", "features": [{"name": "x", "type": "number"}]}}
            }
        }
    }
    data["models"]["m"]["versions"]["1"].update(facts)
    return parse_config(data, tmp_path / "config.yaml").models[0].versions[0]


def test_facts_are_optional_and_normalised_to_utc(tmp_path: Path) -> None:
    bare = version_spec(tmp_path)
    assert (bare.added_at, bare.source, bare.sample_sha256) == (None, None, None)
    read_unquoted = yaml.safe_load("t: 2026-12-07T08:01:08+02:00")["t"]  # a datetime, not text
    assert version_spec(tmp_path, added_at=read_unquoted).added_at == "2026-12-07T06:01:08Z"
    assert version_spec(tmp_path, added_at="2026-12-07T06:01:08.5Z").added_at == "2026-12-07T06:01:08Z"
    spec = version_spec(tmp_path, source="m.joblib", sample_sha256="AB" * 32)
    assert (spec.source, spec.sample_sha256) == ("m.joblib", "ab" * 32)


@pytest.mark.parametrize(
    ("facts", "problem"),
    [
        ({"added_at": "2026-12-07T06:01:08"}, "added_at: must be an ISO 8601 time with its zone"),
        ({"added_at": "yesterday"}, "added_at: must be an ISO 8601 time with its zone"),
        ({"added_at": 20261207}, "added_at: must be an ISO 8601 time with its zone"),
        ({"source": ""}, "source: must be the artifact's original file name"),
        ({"sample_sha256": "abc"}, "sample_sha256: must be 64 hexadecimal digits"),
    ],
)
def test_bad_facts_are_named(tmp_path: Path, facts: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        version_spec(tmp_path, **facts)
    assert caught.value.problems[0].startswith(f"m/1: {problem}")


def test_a_live_server_shows_the_facts(
    tmp_path: Path, added: tuple[Path, Path, dt.datetime, dt.datetime]
) -> None:
    config = added[0]
    first, second = entry(config, "1"), entry(config, "2")
    with serving(config, tmp_path, workers=1) as server:
        status, body = request(f"{server.url}/models/loans/1")
        assert status == 200
        assert {k: body[k] for k in ("added_at", "source", "sample_sha256")} == {
            "added_at": first["added_at"],
            "source": "loan-model.joblib",
            "sample_sha256": first["sample_sha256"],
        }
        status, body = request(f"{server.url}/models/loans/2")
        assert (body["added_at"], body["sample_sha256"]) == (second["added_at"], None)
        with urllib.request.urlopen(f"{server.url}/", timeout=10) as response:
            page = response.read().decode()
    assert f"<dt>Added</dt><dd>{first['added_at']}</dd>" in page
    assert f"<dt>Added</dt><dd>{second['added_at']}</dd>" in page
    assert page.count("<dt>Source</dt><dd>loan-model.joblib</dd>") == 2
    assert page.count(f"<dt>Sample sha256</dt><dd>{first['sample_sha256']}</dd>") == 1

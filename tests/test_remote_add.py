"""model-registry add against a config on S3 (a real S3 API: moto's server) and at a file:// URL:
the artifact published never over an object, the config replaced only if unchanged since read, so
concurrent adds all land; --dry-run and refusals change nothing; no credential in any output."""

from __future__ import annotations

import subprocess
from pathlib import Path
from subprocess import PIPE
from typing import Any

import joblib
import pandas as pd
import pytest
import yaml

from bench.harness import MODEL_REGISTRY, free_port
from bench.s3 import SECRET_KEY, S3Server
from cli.check import EXIT_CONFIG_ERROR
from cli.main import main
from registry.config_source import read_config_at
from registry.loader import load_registry
from registry.publish import write_addition
from registry.registration import plan_addition
from spec.locations import location
from tests.add_helpers import CONFIG_COMMENT, train_fabric, train_loans
from tests.s3_server import (
    get,
    new_bucket,
    put,
    s3fs_client,
    upload_config,
)
from tests.test_batch_predict import flowers_rows
from tests.test_store_urls import remote_models


@pytest.fixture
def remote(s3: S3Server, tiny_models: dict[str, Any], tmp_path: Path) -> str:
    """The URL of a config on S3 (a comment on top) whose store holds flowers and prices."""
    from registry import artifact_cache

    artifact_cache.use_cache(tmp_path / "cache")
    store = new_bucket("team") + "/model_store"
    url = upload_config(store, remote_models(store, tiny_models, tmp_path))
    put(url, CONFIG_COMMENT.encode() + get(url))
    return url


@pytest.fixture
def artifacts(tmp_path: Path) -> dict[str, Path]:
    paths = {"fabric": tmp_path / "fabric.joblib", "loans": tmp_path / "loans.joblib"}
    joblib.dump(train_fabric(), paths["fabric"])
    joblib.dump(train_loans(), paths["loans"])
    return paths


def listing(url: str) -> dict[str, str]:
    """Every object under the config's prefix with its ETag."""
    fs = s3fs_client()
    prefix = url.rsplit("/", 1)[0]
    return {path: info["ETag"] for path, info in fs.find(prefix, detail=True).items()}


def versions(url: str, model: str) -> list[str]:
    return sorted(yaml.safe_load(get(url))["models"].get(model, {}).get("versions", {}))


def test_add_publishes_new_models_and_versions(remote: str, artifacts: dict[str, Path]) -> None:
    assert main(["add", str(artifacts["loans"]), "--model", "loans", "--config", remote]) == 0
    assert main(["add", str(artifacts["loans"]), "--model", "loans", "--config", remote]) == 0
    assert main(["add", str(artifacts["fabric"]), "--model", "flowers", "--config", remote]) == 0
    text = get(remote).decode()
    assert text.startswith(CONFIG_COMMENT) and versions(remote, "loans") == ["1", "2"]
    store = remote.rsplit("/", 1)[0] + "/model_store"
    assert get(f"{store}/loans/2/loans.joblib") == artifacts["loans"].read_bytes()
    registry = load_registry(read_config_at(remote))
    assert all(v.is_available for v in registry.all_versions()), [v.reason for v in registry.all_versions()]
    assert {(v.model, v.version) for v in registry.all_versions()} >= {("loans", "2"), ("flowers", "2")}


def test_dry_run_and_refusals_change_nothing(
    remote: str, artifacts: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    before = listing(remote)
    assert main(["add", str(artifacts["loans"]), "--model", "loans", "--config", remote, "--dry-run"]) == 0
    existing = ["add", str(artifacts["loans"]), "--model", "flowers", "--version", "1", "--config", remote]
    assert main(existing) == EXIT_CONFIG_ERROR
    assert listing(remote) == before
    assert "flowers/1 already exists" in capsys.readouterr().err


def test_a_conflicting_write_is_read_again_and_applied_again(remote: str, artifacts: dict[str, Path]) -> None:
    addition = plan_addition(location(remote), artifacts["loans"], "loans")
    # another writer replaces the config between our read and our write
    other = yaml.safe_load(get(remote))
    other["models"]["prices"]["description"] = "changed meanwhile"
    put(remote, yaml.safe_dump(other, sort_keys=False).encode())
    assert write_addition(addition).is_available
    after = yaml.safe_load(get(remote))
    assert after["models"]["prices"]["description"] == "changed meanwhile"
    assert list(after["models"]["loans"]["versions"]) == ["1"]


def test_two_concurrent_adds_both_land(s3: S3Server, remote: str, artifacts: dict[str, Path]) -> None:
    commands = [
        [str(MODEL_REGISTRY), "add", str(artifacts[name]), "--model", "loans", "--config", remote]
        for name in ("loans", "fabric")
    ]
    running = [subprocess.Popen(c, env=s3.env(), stdout=PIPE, stderr=PIPE, text=True) for c in commands]
    outputs = [p.communicate(timeout=240) for p in running]
    assert [p.returncode for p in running] == [0, 0], outputs
    assert versions(remote, "loans") == ["1", "2"]
    store = remote.rsplit("/", 1)[0] + "/model_store"
    published = {
        get(f"{store}/{v['artifact']}")
        for v in yaml.safe_load(get(remote))["models"]["loans"]["versions"].values()
    }
    assert published == {artifacts["loans"].read_bytes(), artifacts["fabric"].read_bytes()}
    assert not any(SECRET_KEY in out + err for out, err in outputs)


def test_an_unreachable_store_exits_2_naming_it(s3: S3Server, artifacts: dict[str, Path]) -> None:
    env = {**s3.env(), "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}"}
    url = "s3://nowhere/team/config.yaml"
    command = [str(MODEL_REGISTRY), "add", str(artifacts["loans"]), "--model", "loans", "--config", url]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == EXIT_CONFIG_ERROR
    assert (
        url in done.stderr and "Traceback" not in done.stderr and SECRET_KEY not in done.stderr + done.stdout
    )


def test_add_to_a_file_url_config(store_copy: Path, artifacts: dict[str, Path], tmp_path: Path) -> None:
    from registry import artifact_cache

    artifact_cache.use_cache(tmp_path / "cache")
    url = f"file://{store_copy}"
    assert main(["add", str(artifacts["loans"]), "--model", "loans", "--config", url]) == 0
    assert (store_copy.parent / "model_store/loans/1/loans.joblib").read_bytes() == artifacts[
        "loans"
    ].read_bytes()
    assert versions_local(store_copy) == ["1"]


def versions_local(config: Path) -> list[str]:
    return sorted(yaml.safe_load(config.read_text())["models"]["loans"]["versions"])


def test_traffic_writes_a_remote_config_conditionally(remote: str, artifacts: dict[str, Path]) -> None:
    assert main(["add", str(artifacts["loans"]), "--model", "loans", "--config", remote]) == 0
    assert main(["add", str(artifacts["loans"]), "--model", "loans", "--config", remote]) == 0
    assert main(["traffic", "loans", "1=90", "2=10", "--config", remote]) == 0
    text = get(remote).decode()
    assert text.startswith(CONFIG_COMMENT)
    assert yaml.safe_load(text)["models"]["loans"]["traffic"] == {"1": 90, "2": 10}


def test_a_config_changed_between_read_and_write_is_edited_again(
    remote: str, artifacts: dict[str, Path]
) -> None:
    """Another writer's add lands while traffic edits: the conditional write fails, the edit is made
    again on the config as it is now, and both changes are kept."""
    from registry.config_edit import KEEP_SHADOW, set_traffic
    from registry.config_write import rewrite_config

    assert main(["add", str(artifacts["loans"]), "--model", "loans", "--config", remote]) == 0
    seen: list[str] = []

    def edit(text: str) -> str:
        seen.append(text)
        if len(seen) == 1:  # the other writer, between our read and our write
            assert main(["add", str(artifacts["loans"]), "--model", "loans", "--config", remote]) == 0
        return set_traffic(
            text, "loans", {"1": 50, "2": 50} if len(seen) > 1 else {"1": 100}, KEEP_SHADOW
        ).text

    rewrite_config(location(remote), edit)
    assert len(seen) == 2
    assert list(yaml.safe_load(seen[0])["models"]["loans"]["versions"]) == ["1"]
    assert versions(remote, "loans") == ["1", "2"]
    assert yaml.safe_load(get(remote))["models"]["loans"]["traffic"] == {"1": 50, "2": 50}


def test_predict_scores_a_file_with_a_remote_config(
    remote: str, trained: dict[str, Any], tmp_path: Path
) -> None:

    rows = flowers_rows(50)
    rows.to_csv(tmp_path / "in.csv", index=False)
    out = tmp_path / "out.csv"
    assert (
        main(["predict", "flowers/1", str(tmp_path / "in.csv"), "--output", str(out), "--config", remote])
        == 0
    )

    assert pd.read_csv(out)["label"].tolist() == trained["flowers"].predict(rows).tolist()

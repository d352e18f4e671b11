"""The object-storage variants under deploy/: pods with no model volume that read the config and the
store from S3, credentials from a Secret, and follow the config with --watch."""

from __future__ import annotations

from typing import Any

import kubernetes_validate
import yaml

from deploy.build_image import image_name
from spec.locations import Url, location
from tests.test_manifests import KSERVE, KUBERNETES_VERSION, ROOT, flag, load

VARIANT = ROOT / "deploy" / "k8s-object-storage"


def container() -> dict[str, Any]:
    (only,) = load(VARIANT / "deployment.yaml")["spec"]["template"]["spec"]["containers"]
    return only


def test_the_variant_is_valid_and_listed() -> None:
    deployment = load(VARIANT / "deployment.yaml")
    kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)
    assert load(VARIANT / "kustomization.yaml")["resources"] == ["deployment.yaml"]


def test_pods_read_config_and_store_from_s3_and_follow_it() -> None:
    args = container()["args"]
    assert isinstance(location(flag(args, "--config")), Url) and "--watch" in args
    assert float(flag(args, "--poll-interval")) > 0
    mounts = {m["mountPath"]: m["name"] for m in container()["volumeMounts"]}
    assert mounts[flag(args, "--cache-dir")] == "artifact-cache"
    volumes = load(VARIANT / "deployment.yaml")["spec"]["template"]["spec"]["volumes"]
    assert not any("persistentVolumeClaim" in v or "configMap" in v for v in volumes)
    assert container()["image"] == image_name()


def test_credentials_come_only_from_a_secret() -> None:
    for path in [VARIANT / "deployment.yaml", KSERVE / "inferenceservice-s3.yaml"]:
        text = path.read_text()
        assert "AWS_SECRET_ACCESS_KEY" not in text and "secretRef" in text
    assert [e["secretRef"]["name"] for e in container()["envFrom"]] == ["model-registry-s3"]


def test_the_kserve_example_follows_a_config_on_s3() -> None:
    runtime = load(KSERVE / "servingruntime-s3.yaml")
    service = load(KSERVE / "inferenceservice-s3.yaml")
    model = service["spec"]["predictor"]["model"]
    assert model["runtime"] == runtime["metadata"]["name"] and "storageUri" not in model
    env = {e["name"]: e["value"] for e in model["env"]}
    assert isinstance(location(env["MODEL_REGISTRY_CONFIG"]), Url)
    (server,) = runtime["spec"]["containers"]
    assert "--watch" in server["args"] and "--config" not in server["args"]
    assert server["image"] == image_name()
    assert (
        yaml.safe_load((KSERVE / "servingruntime.yaml").read_text())["metadata"]["name"]
        != runtime["metadata"]["name"]
    )

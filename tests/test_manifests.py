"""The Kubernetes and KServe manifests under deploy/, checked offline.

deploy/k8s is validated against Kubernetes' own schemas (kubernetes-validate, strict: unknown
fields fail); KServe's custom resources have no schema there, so their required fields are
asserted by hand.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from deploy.build_image import image_name

ROOT = Path(__file__).resolve().parent.parent
K8S = ROOT / "deploy" / "k8s"
KSERVE = ROOT / "deploy" / "kserve"
KUBERNETES_VERSION = "1.30.0"
K8S_RESOURCES = sorted(p.name for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")


def load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


@pytest.fixture(scope="module")
def deployment() -> dict[str, Any]:
    return load(K8S / "deployment.yaml")


@pytest.fixture(scope="module")
def pod(deployment: dict[str, Any]) -> dict[str, Any]:
    return deployment["spec"]["template"]["spec"]


@pytest.fixture(scope="module")
def container(pod: dict[str, Any]) -> dict[str, Any]:
    (only,) = pod["containers"]
    return only


def mounts_by_volume(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {mount["name"]: mount for mount in container["volumeMounts"]}


def flag(args: list[str], name: str) -> str:
    return args[args.index(name) + 1]


@pytest.mark.parametrize("name", K8S_RESOURCES)
def test_k8s_resource_is_valid_for_kubernetes(name: str) -> None:
    for resource in yaml.safe_load_all((K8S / name).read_text()):
        kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)


def test_strict_validation_rejects_an_unknown_field(deployment: dict[str, Any]) -> None:
    broken = yaml.safe_load(yaml.safe_dump(deployment))
    broken["spec"]["template"]["spec"]["containers"][0]["readOnlyRootFileSystem"] = True
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_kustomization_lists_every_resource() -> None:
    kustomization = load(K8S / "kustomization.yaml")
    assert sorted(kustomization["resources"]) == K8S_RESOURCES


def test_deployment_runs_two_replicas_with_two_workers(deployment: dict[str, Any], container: dict) -> None:
    assert deployment["spec"]["replicas"] == 2
    assert flag(container["args"], "--workers") == "2"
    assert flag(container["args"], "--host") == "0.0.0.0"
    assert container["ports"] == [{"name": "http", "containerPort": 8000, "protocol": "TCP"}]


def test_deployment_has_requests_and_limits(container: dict[str, Any]) -> None:
    assert container["resources"] == {
        "requests": {"cpu": "500m", "memory": "512Mi"},
        "limits": {"cpu": "2", "memory": "1Gi"},
    }


def test_probes_use_the_health_endpoints(container: dict[str, Any]) -> None:
    assert container["readinessProbe"]["httpGet"] == {"path": "/health/ready", "port": "http"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/health/live", "port": "http"}
    startup = container["startupProbe"]
    assert startup["httpGet"]["path"].startswith("/health/")
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 60


def test_pod_runs_locked_down(pod: dict[str, Any], container: dict[str, Any]) -> None:
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert container["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 10001,
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def test_grace_period_outlasts_the_servers_graceful_timeout(pod: dict[str, Any]) -> None:
    assert 30 < pod["terminationGracePeriodSeconds"] <= 60


def test_only_tmp_is_writable(pod: dict[str, Any], container: dict[str, Any]) -> None:
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    mounts = mounts_by_volume(container)
    assert mounts["tmp"]["mountPath"] == "/tmp"
    assert "emptyDir" in volumes["tmp"]
    assert not mounts["tmp"].get("readOnly", False)
    for name in mounts.keys() - {"tmp"}:
        assert mounts[name]["readOnly"] is True, name


def test_config_comes_from_the_configmap(pod: dict[str, Any], container: dict[str, Any]) -> None:
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    config_map = load(K8S / "configmap.yaml")
    assert volumes["config"]["configMap"]["name"] == config_map["metadata"]["name"]
    config_path = Path(flag(container["args"], "--config"))
    assert config_path.parent == Path(mounts_by_volume(container)["config"]["mountPath"])
    assert config_path.name in config_map["data"]


def test_store_is_a_read_only_claim_where_the_config_points(
    pod: dict[str, Any], container: dict[str, Any]
) -> None:
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    claim = load(K8S / "model-store-pvc.yaml")
    assert volumes["model-store"]["persistentVolumeClaim"] == {
        "claimName": claim["metadata"]["name"],
        "readOnly": True,
    }
    served = yaml.safe_load(load(K8S / "configmap.yaml")["data"]["config.yaml"])
    assert served["store"] == mounts_by_volume(container)["model-store"]["mountPath"]


def test_configmap_serves_the_example_models() -> None:
    served = yaml.safe_load(load(K8S / "configmap.yaml")["data"]["config.yaml"])
    example = load(ROOT / "config.yaml")
    assert {k: v for k, v in served.items() if k != "store"} == {
        k: v for k, v in example.items() if k != "store"
    }


def test_pods_are_annotated_for_prometheus(deployment: dict[str, Any]) -> None:
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations == {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": "8000",
        "prometheus.io/path": "/metrics",
    }


def test_service_and_budget_select_the_pods(deployment: dict[str, Any]) -> None:
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    service = load(K8S / "service.yaml")
    budget = load(K8S / "pdb.yaml")
    assert service["spec"]["selector"] == labels
    assert service["spec"]["ports"] == [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]
    assert budget["spec"]["selector"]["matchLabels"] == labels
    assert budget["spec"]["minAvailable"] == 1


def test_serving_runtime_speaks_v2_for_sklearn() -> None:
    runtime = load(KSERVE / "servingruntime.yaml")
    assert runtime["apiVersion"] == "serving.kserve.io/v1alpha1"
    assert runtime["kind"] == "ServingRuntime"
    assert runtime["metadata"]["name"]
    spec = runtime["spec"]
    assert "sklearn" in [fmt["name"] for fmt in spec["supportedModelFormats"]]
    assert "v2" in spec["protocolVersions"]
    container = spec["containers"][0]
    assert container["name"] == "kserve-container"
    assert container["image"]
    args = container["args"]
    assert flag(args, "--config") == "/mnt/models/config.yaml"
    assert [port["containerPort"] for port in container["ports"]] == [int(flag(args, "--port"))]
    assert container["readinessProbe"]["httpGet"]["port"] == int(flag(args, "--port"))


def test_inference_service_uses_the_runtime() -> None:
    runtime = load(KSERVE / "servingruntime.yaml")
    service = load(KSERVE / "inferenceservice.yaml")
    assert service["apiVersion"] == "serving.kserve.io/v1beta1"
    assert service["kind"] == "InferenceService"
    assert service["metadata"]["name"]
    model = service["spec"]["predictor"]["model"]
    assert model["modelFormat"]["name"] == "sklearn"
    assert model["runtime"] == runtime["metadata"]["name"]
    assert model["protocolVersion"] == "v2"
    assert model["storageUri"].startswith("pvc://")


def test_kserve_objects_are_left_to_the_cluster_by_kubernetes_validate() -> None:
    """kubernetes-validate has no KServe schemas: it says so rather than passing them."""
    with pytest.raises(kubernetes_validate.SchemaNotFoundError):
        kubernetes_validate.validate(load(KSERVE / "inferenceservice.yaml"), KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize(
    "path, containers",
    [
        (K8S / "deployment.yaml", lambda doc: doc["spec"]["template"]["spec"]["containers"]),
        (KSERVE / "servingruntime.yaml", lambda doc: doc["spec"]["containers"]),
    ],
)
def test_manifests_run_the_image_the_build_tags(path: Path, containers: Any) -> None:
    assert [c["image"] for c in containers(load(path))] == [image_name()]

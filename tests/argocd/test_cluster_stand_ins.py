"""The cluster stand-ins the ArgoCD tests rely on, checked on their own.

- Volume provisioner: with ``Immediate`` binding a claim binds without any pod; with
  ``WaitForFirstConsumer`` it stays Pending until a pod that uses it is scheduled (the
  real kube-scheduler and PV binder decide, the provisioner only answers), and the pod
  sees the volume's files; a deleted claim's volume and its files are deleted
  (``reclaimPolicy: Delete``).
- Ingress controller: an Ingress of its class gets an address; one of another class
  does not.
- Probe responder: a pod whose program the kubelet cannot run becomes Ready only through
  its readiness probe's port and path, and an ``exec`` probe is never faked.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.argocd.conftest import Cluster
from tests.support.kube.client import wait_until
from tests.support.kube.storage import CLASSES, IMMEDIATE, WAIT_FOR_FIRST_CONSUMER

pytestmark = pytest.mark.argocd

RESTRICTED = {
    "runAsNonRoot": True,
    "runAsUser": 1000,
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}


@pytest.fixture
def namespace(cluster: Cluster) -> Iterator[str]:
    name = f"stand-ins-{uuid.uuid4().hex[:6]}"
    cluster.admin.post("/api/v1/namespaces", {"metadata": {"name": name}})
    yield name
    cluster.admin.delete(f"/api/v1/namespaces/{name}")


def _claim(cluster: Cluster, namespace: str, name: str, mode: str) -> str:
    cluster.admin.post(
        f"/api/v1/namespaces/{namespace}/persistentvolumeclaims",
        {
            "metadata": {"name": name},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "storageClassName": CLASSES[mode],
                "resources": {"requests": {"storage": "1Gi"}},
            },
        },
    )
    return f"/api/v1/namespaces/{namespace}/persistentvolumeclaims/{name}"


def _pod(name: str, container: dict[str, Any], claim: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "containers": [{"name": "main", "securityContext": RESTRICTED, **container}],
        "automountServiceAccountToken": False,
    }
    if claim:
        spec["volumes"] = [{"name": "data", "persistentVolumeClaim": {"claimName": claim}}]
        spec["containers"][0]["volumeMounts"] = [{"name": "data", "mountPath": "/data"}]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}


def _phase(cluster: Cluster, path: str) -> str:
    return str(cluster.admin.get(path)["status"].get("phase"))


def test_immediate_binding_needs_no_pod_and_delete_removes_the_data(
    cluster: Cluster, namespace: str
) -> None:
    path = _claim(cluster, namespace, "data", IMMEDIATE)
    wait_until(lambda: _phase(cluster, path) == "Bound", 30, "the claim to bind")
    volume = cluster.admin.get(path)["spec"]["volumeName"]
    folder = Path(
        cluster.admin.get(f"/api/v1/persistentvolumes/{volume}")["spec"]["hostPath"]["path"]
    )
    (folder / "file").write_text("user data")
    cluster.admin.delete(path)
    wait_until(
        lambda: not cluster.admin.exists(f"/api/v1/persistentvolumes/{volume}"),
        30,
        "the released volume to be deleted",
    )
    assert not folder.exists()


def test_wait_for_first_consumer_binds_only_for_a_scheduled_pod(
    cluster: Cluster, namespace: str
) -> None:
    path = _claim(cluster, namespace, "data", WAIT_FOR_FIRST_CONSUMER)
    time.sleep(3)
    assert _phase(cluster, path) == "Pending", "bound without any consumer"
    cluster.admin.post(
        f"/api/v1/namespaces/{namespace}/pods",
        _pod(
            "consumer",
            {
                "image": "quay.io/jupyter/base-notebook",
                "command": [
                    "python3",
                    "-c",
                    "import time; open('/data/seen', 'w').write('yes'); time.sleep(600)",
                ],
            },
            claim="data",
        ),
    )
    wait_until(lambda: _phase(cluster, path) == "Bound", 60, "the claim to bind for its pod")
    claim = cluster.admin.get(path)
    assert claim["metadata"]["annotations"]["volume.kubernetes.io/selected-node"] == (
        cluster.kubelet.node_name
    )
    pod_path = f"/api/v1/namespaces/{namespace}/pods/consumer"
    wait_until(lambda: _phase(cluster, pod_path) == "Running", 60, "the pod to run")
    volume = cluster.admin.get(f"/api/v1/persistentvolumes/{claim['spec']['volumeName']}")
    folder = Path(volume["spec"]["hostPath"]["path"])
    wait_until(lambda: (folder / "seen").exists(), 30, "the pod to write into its volume")


def test_the_ingress_controller_publishes_only_its_own_class(
    cluster: Cluster, namespace: str
) -> None:
    def ingress(name: str, class_name: str) -> str:
        cluster.admin.post(
            f"/apis/networking.k8s.io/v1/namespaces/{namespace}/ingresses",
            {
                "metadata": {"name": name},
                "spec": {
                    "ingressClassName": class_name,
                    "defaultBackend": {"service": {"name": "x", "port": {"number": 80}}},
                },
            },
        )
        return f"/apis/networking.k8s.io/v1/namespaces/{namespace}/ingresses/{name}"

    ours, theirs = ingress("ours", "nginx"), ingress("theirs", "traefik")
    wait_until(
        lambda: cluster.admin.get(ours)["status"]["loadBalancer"].get("ingress"),
        30,
        "an address in the Ingress status",
    )
    time.sleep(2)
    assert not cluster.admin.get(theirs)["status"].get("loadBalancer", {}).get("ingress")


def test_the_probe_responder_answers_only_the_declared_probe(
    cluster: Cluster, namespace: str
) -> None:
    probe = {"httpGet": {"path": "/hub/health", "port": "http"}, "periodSeconds": 1}
    cluster.admin.post(
        f"/api/v1/namespaces/{namespace}/pods",
        _pod(
            "stand-in",
            {
                "image": "quay.io/jupyterhub/k8s-hub:4.4.0",
                "command": ["jupyterhub", "--config", "/nowhere"],
                "ports": [{"name": "http", "containerPort": 8081}],
                "readinessProbe": probe,
            },
        ),
    )
    path = f"/api/v1/namespaces/{namespace}/pods/stand-in"
    pod = wait_until(
        lambda: (
            (p := cluster.admin.get(path))["status"].get("conditions")
            and any(
                c["type"] == "Ready" and c["status"] == "True" for c in p["status"]["conditions"]
            )
            and p
        ),
        60,
        "the stand-in pod to be Ready",
    )
    base = f"http://{pod['status']['podIP']}:8081"
    with urllib.request.urlopen(f"{base}/hub/health", timeout=5) as response:
        assert response.status == 200
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(f"{base}/hub/api", timeout=5)
    assert any("replaced by a probe responder" in n for n in cluster.kubelet.notes)

    cluster.admin.post(
        f"/api/v1/namespaces/{namespace}/pods",
        _pod(
            "exec-probe",
            {
                "image": "cloudflare/cloudflared:2025.8.0",
                "args": ["tunnel", "run"],
                "readinessProbe": {"exec": {"command": ["true"]}},
            },
        ),
    )
    exec_path = f"/api/v1/namespaces/{namespace}/pods/exec-probe"
    message = wait_until(
        lambda: next(
            (
                s["state"]["waiting"].get("message")
                for s in cluster.admin.get(exec_path)["status"].get("containerStatuses") or []
                if "waiting" in s["state"]
            ),
            None,
        ),
        30,
        "the kubelet to refuse the exec probe",
    )
    assert "cannot answer a readinessProbe" in message

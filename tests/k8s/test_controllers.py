"""The product under the real controllers and scheduler (issue 19, test 6; the opt-in level).

With kube-controller-manager's workload controllers and kube-scheduler running (and the
test kubelet as the only Node, provisioning a volume for each claim as a storage
provisioner would):

- every Deployment of ``dist/`` becomes a ReplicaSet and its pods, every DaemonSet its
  pod on the node, and the scheduler binds them (PodSecurity admits them as the
  controllers create them);
- the secret-bootstrap Job runs as a pod through the test kubelet, with the token its
  ServiceAccount gets from the projected volume, to completion, and the hub Secret exists;
- deleting the namespace of an app removes every object in it, the users' home PVCs
  included; only what lives outside the namespace (a retained PersistentVolume) survives.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest

from tests.support.kube.client import KubeClient, wait_until
from tests.support.kube.control_plane import ControlPlane
from tests.support.kube.fixtures import DIST, delete_namespace
from tests.support.kube.kubelet import TestKubelet
from tests.support.kube.product import (
    bootstrap_keys,
    bootstrap_secret_name,
    render_user_pod,
    user_choices,
)
from tests.support.kube.sync import load_manifests

pytestmark = pytest.mark.k8s

PROD = load_manifests(DIST / "prod")


def _owned_by(obj: dict[str, Any], kind: str, name: str) -> bool:
    return any(
        ref["kind"] == kind and ref["name"] == name
        for ref in obj["metadata"].get("ownerReferences") or []
    )


def _items(admin: KubeClient, path: str) -> list[dict[str, Any]]:
    return admin.get(path)["items"]  # type: ignore[no-any-return]


def _scheduled(
    admin: KubeClient, namespace: str, replica_set: str, wanted: int
) -> list[dict[str, Any]] | None:
    """The ReplicaSet's pods once there are ``wanted`` of them, all bound to a node."""
    pods = [
        p
        for p in _items(admin, f"/api/v1/namespaces/{namespace}/pods")
        if _owned_by(p, "ReplicaSet", replica_set)
    ]
    return pods if len(pods) == wanted and all(p["spec"].get("nodeName") for p in pods) else None


def test_workloads_become_replicasets_and_scheduled_pods(
    admin: KubeClient,
    workload_controllers: ControlPlane,
    kubelet: TestKubelet,
    product: Any,
) -> None:
    namespace = product()
    deployments = [o for o in PROD if o["kind"] == "Deployment"]
    for deployment in deployments:
        name = deployment["metadata"]["name"]
        replica_set = wait_until(
            lambda name=name: next(
                (
                    rs
                    for rs in _items(admin, f"/apis/apps/v1/namespaces/{namespace}/replicasets")
                    if _owned_by(rs, "Deployment", name)
                ),
                None,
            ),
            60,
            f"a ReplicaSet for Deployment {name}",
            on_timeout=workload_controllers.logs,
        )
        rs_name = replica_set["metadata"]["name"]
        wanted = deployment["spec"].get("replicas", 1)
        pods = wait_until(
            lambda rs_name=rs_name, wanted=wanted: _scheduled(admin, namespace, rs_name, wanted),
            90,
            f"{wanted} scheduled pod(s) of {rs_name}",
            on_timeout=lambda: workload_controllers.logs() + "\n" + kubelet.logs(),
        )
        assert {p["spec"]["nodeName"] for p in pods} == {kubelet.node_name}
    for daemon_set in [o for o in PROD if o["kind"] == "DaemonSet"]:
        name = daemon_set["metadata"]["name"]
        selector = daemon_set["spec"]["template"]["spec"].get("nodeSelector") or {}
        if all(kubelet.node_labels.get(k) == v for k, v in selector.items()):
            wait_until(
                lambda name=name: [
                    p
                    for p in _items(admin, f"/api/v1/namespaces/{namespace}/pods")
                    if _owned_by(p, "DaemonSet", name) and p["spec"].get("nodeName")
                ],
                60,
                f"the pod of DaemonSet {name} on the node",
                on_timeout=workload_controllers.logs,
            )


def test_the_bootstrap_job_runs_to_completion_and_makes_the_secret(
    admin: KubeClient,
    workload_controllers: ControlPlane,
    kubelet: TestKubelet,
    product: Any,
) -> None:
    namespace = product()
    job = next(o for o in PROD if o["kind"] == "Job")
    path = f"/apis/batch/v1/namespaces/{namespace}/jobs/{job['metadata']['name']}"
    wait_until(
        lambda: any(
            c["type"] == "Complete" and c["status"] == "True"
            for c in admin.get(path).get("status", {}).get("conditions", [])
        ),
        120,
        "the bootstrap Job to complete",
        on_timeout=lambda: workload_controllers.logs() + "\n" + kubelet.logs(),
    )
    secret = admin.get(f"/api/v1/namespaces/{namespace}/secrets/{bootstrap_secret_name(PROD)}")
    data = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    assert sorted(data) == sorted(bootstrap_keys(PROD))
    assert all(len(v) >= 32 for v in data.values())


def test_deleting_the_namespace_deletes_the_users_homes_too(
    admin: KubeClient,
    workload_controllers: ControlPlane,
    kubelet: TestKubelet,
    product: Any,
) -> None:
    """What an Application deletion (resources finalizer, Namespace in git) leads to."""
    namespace = product()
    hub = admin.as_service_account(namespace, "hub")
    _, pvc = render_user_pod(PROD, user_choices(PROD)[0], "carol@example.com")
    hub.create(pvc, namespace)
    claim = pvc["metadata"]["name"]
    claim_path = f"/api/v1/namespaces/{namespace}/persistentvolumeclaims/{claim}"
    bound = wait_until(
        lambda: admin.get(claim_path)["spec"].get("volumeName"),
        60,
        "the user's PVC to be bound",
        on_timeout=workload_controllers.logs,
    )
    delete_namespace(admin, namespace)
    wait_until(
        lambda: not admin.exists(f"/api/v1/namespaces/{namespace}"),
        120,
        f"namespace {namespace} to be deleted",
        on_timeout=workload_controllers.logs,
    )
    volume = admin.get(f"/api/v1/persistentvolumes/{bound}")
    assert volume["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
    wait_until(
        lambda: (
            admin.get(f"/api/v1/persistentvolumes/{bound}")["status"].get("phase") == "Released"
        ),
        60,
        "the retained volume to be Released",
    )

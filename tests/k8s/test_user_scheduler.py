"""The user scheduler, run for real: it packs user servers and preempts placeholders.

The real kube-scheduler (the release ``UserScheduler`` pins, built by ``make
real-consumers``) runs with the rendered ``KubeSchedulerConfiguration`` and the rendered
command-line flags, authenticated with its ServiceAccount's own TokenRequest token, so
the rendered RBAC is all it has. One line differs from its pod: in a pod, client-go
reads that token from its in-cluster path; here ``clientConnection.kubeconfig`` names a
kubeconfig holding it. It serves its health endpoint on loopback.

The hub (core and user pools, a user scheduler, one placeholder for the default
profile) is synced into a namespace of its own while the real workload controllers run
(the placeholder is created by its Deployment's ReplicaSet, and recreated when evicted)
and the cluster's own kube-scheduler places everything that does not name ours. The
cluster: two stand-in Nodes of the user pool (``hub.jupyter.org/node-purpose=user``,
tainted ``hub.jupyter.org/dedicated=user:NoSchedule``, 3 CPU and 12 GiB each); nothing
runs on them (the scheduler's decision is the pod's ``spec.nodeName``). The test
kubelet's own Node is cordoned meanwhile. User pods are what the real KubeSpawner
renders from the generated config, created with the hub's own token.

What it shows, in order:

1. the user scheduler takes the leader election Lease and places the placeholder;
2. the same user pod goes to the *emptier* node with the cluster's default scheduler
   (which spreads) and to the placeholder's, *fuller*, node with ours (which packs);
3. servers fill that node, then the other one, one node at a time;
4. with both nodes full, one more server preempts the placeholder and starts on its
   node; the placeholder is recreated and waits (Pending, unschedulable, never
   preempting anything itself) — where a cluster autoscaler would add a node;
5. a server that finds no room and no placeholder waits: users never preempt users;
6. its log has no RBAC refusal;
7. the core pods (hub, proxy, secret bootstrap Job, the user scheduler's own pods), placed
   by the cluster's kube-scheduler, are all on the core node and none on the ordinary
   node, which that scheduler picks for every one of them when the hub has no core pool
   (checked by hand by rendering ``core_pods=None``);
8. the GPU placeholder holds the GPU node's one GPU until a GPU server preempts it; the
   recreated one waits for a GPU; nothing else ever lands on the GPU node.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_constructs import (
    Gpu,
    JupyterHub,
    NodeAffinity,
    NodePool,
    UserPlaceholders,
    UserScheduler,
)
from jupyter_constructs.addons.scheduling import SCHEDULER_CONFIG_FILE
from tests.helpers import find, new_chart, oidc_auth, synth
from tests.k8s.conftest import apply_product, delete_namespace
from tests.support.kube import binaries
from tests.support.kube.client import ApiError, KubeClient, wait_until
from tests.support.kube.control_plane import (
    LOOPBACK,
    Component,
    ControlPlane,
    _https_insecure_ok,
    free_port,
)
from tests.support.kube.kubelet import TestKubelet
from tests.support.kube.product import UserChoice, render_user_pod

pytestmark = pytest.mark.k8s

Obj = dict[str, Any]
USER_TAINT = {"key": "hub.jupyter.org/dedicated", "value": "user", "effect": "NoSchedule"}
NODE_CAPACITY = {"cpu": "3", "memory": "12Gi", "pods": "110", "ephemeral-storage": "100Gi"}
CORE_CAPACITY = {"cpu": "8", "memory": "32Gi", "pods": "110", "ephemeral-storage": "100Gi"}
OTHER_CAPACITY = {"cpu": "16", "memory": "64Gi", "pods": "110", "ephemeral-storage": "100Gi"}
GPU_CAPACITY = {
    "cpu": "16",
    "memory": "64Gi",
    "nvidia.com/gpu": "1",
    "pods": "110",
    "ephemeral-storage": "100Gi",
}
STAND_IN_LABEL = "jupyter-constructs.test/user-scheduler-node"


# ---------------------------------------------------------------------- the cluster


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def register_node(
    admin: KubeClient,
    name: str,
    *,
    purpose: str | None,
    capacity: dict[str, str] = NODE_CAPACITY,
    gpu: bool = False,
) -> None:
    """A Ready Node of pool ``purpose`` (labelled and tainted as z2jh's pools are; ``None``:
    an ordinary node, neither labelled nor tainted) with ``capacity``."""
    labels = {
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        STAND_IN_LABEL: "true",
    }
    if purpose is not None:
        labels["hub.jupyter.org/node-purpose"] = purpose
    if gpu:
        labels["nvidia.com/gpu.present"] = "true"
    admin.post(
        "/api/v1/nodes",
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": labels}},
    )
    path = f"/api/v1/nodes/{name}"
    # The node lifecycle controller's part: the not-ready taint goes once it is Ready.
    taints = [] if purpose is None else [{**USER_TAINT, "value": purpose}]
    if gpu:
        # What the NVIDIA GPU operator's node pools carry.
        taints.append({"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"})
    admin.patch(path, {"spec": {"taints": taints}})
    admin.request(
        "PATCH",
        f"{path}/status",
        {
            "status": {
                "capacity": capacity,
                "allocatable": capacity,
                "conditions": [
                    {
                        "type": "Ready",
                        "status": "True",
                        "reason": "KubeletReady",
                        "message": "stand-in node",
                        "lastHeartbeatTime": _now(),
                        "lastTransitionTime": _now(),
                    }
                ],
            }
        },
        content_type="application/merge-patch+json",
    )


@pytest.fixture(scope="module")
def cluster_nodes(
    admin: KubeClient, workload_controllers: ControlPlane, kubelet: TestKubelet
) -> Iterator[dict[str, list[str]]]:
    """Two user-pool Nodes, a core-pool Node and an ordinary Node (more room than the
    core one, so the default scheduler would pick it but for the core pool's affinity);
    the test kubelet's Node cordoned meanwhile."""
    suffix = uuid.uuid4().hex[:4]
    names = {
        "user": [f"user-{n}-{suffix}" for n in range(2)],
        "core": [f"core-{suffix}"],
        "other": [f"other-{suffix}"],
        "gpu": [f"gpu-{suffix}"],
    }
    kubelet_node = f"/api/v1/nodes/{kubelet.node_name}"
    admin.patch(kubelet_node, {"spec": {"unschedulable": True}})
    try:
        for name in names["user"]:
            register_node(admin, name, purpose="user")
        register_node(admin, names["core"][0], purpose="core", capacity=CORE_CAPACITY)
        register_node(admin, names["other"][0], purpose=None, capacity=OTHER_CAPACITY)
        register_node(admin, names["gpu"][0], purpose="user", capacity=GPU_CAPACITY, gpu=True)
        yield names
    finally:
        for name in [n for group in names.values() for n in group]:
            with contextlib.suppress(ApiError):
                admin.delete(f"/api/v1/nodes/{name}")
        admin.patch(kubelet_node, {"spec": {"unschedulable": None}})


@pytest.fixture(scope="module")
def user_nodes(cluster_nodes: dict[str, list[str]]) -> list[str]:
    return cluster_nodes["user"]


def render(namespace: str) -> list[Obj]:
    chart = new_chart(namespace)
    hub = JupyterHub(
        chart,
        "hub",
        domain="jupyter.example.com",
        auth=oidc_auth(),
        core_pods=NodePool.core(),
        user_pods=NodePool.user(affinity=NodeAffinity.REQUIRED),
        image_puller=False,
    )
    small = hub.add_profile("small", display_name="Small", default=True)
    gpu = hub.add_profile(
        "gpu",
        display_name="GPU",
        cpu_request="4",
        cpu_limit="4",
        memory_request="16Gi",
        memory_limit="16Gi",
        gpu=Gpu(count=1),
    )
    UserScheduler(chart, "scheduler", hub=hub)
    UserPlaceholders(chart, "warm", hub=hub, profile=small, count=1)
    UserPlaceholders(chart, "warm-gpu", hub=hub, profile=gpu, count=1)
    return synth(chart)


@pytest.fixture(scope="module")
def platform(
    admin: KubeClient, crds: list[str], cluster_nodes: dict[str, list[str]]
) -> Iterator[tuple[str, list[Obj]]]:
    namespace = f"packing-{uuid.uuid4().hex[:6]}"
    objects = render(namespace)
    try:
        apply_product(admin, namespace, objects)
        yield namespace, objects
    finally:
        delete_namespace(admin, namespace)
        for obj in objects:
            if "namespace" not in obj["metadata"] and obj["kind"] != "Namespace":
                admin.delete_object(obj)


@pytest.fixture(scope="module")
def user_scheduler(admin: KubeClient, platform: tuple[str, list[Obj]]) -> Iterator[Component]:
    """The real kube-scheduler as the rendered Deployment runs it, with its own token."""
    namespace, objects = platform
    binary = binaries.require("kube-scheduler")["kube-scheduler"]
    workdir = Path(tempfile.mkdtemp(prefix="jc-user-scheduler-"))
    config = json.loads(find(objects, "ConfigMap", "user-scheduler")["data"][SCHEDULER_CONFIG_FILE])
    token = admin.token_for(namespace, "user-scheduler")
    kubeconfig = KubeClient(admin.server, admin.ca_file, token).kubeconfig(workdir / "kubeconfig")
    # The one difference from its pod: where client-go finds the ServiceAccount token.
    config["clientConnection"] = {"kubeconfig": str(kubeconfig)}
    (workdir / SCHEDULER_CONFIG_FILE).write_text(json.dumps(config))
    (container,) = find(objects, "Deployment", "user-scheduler")["spec"]["template"]["spec"][
        "containers"
    ]
    flags = [f for f in container["command"][1:] if not f.startswith("--config=")]
    port = free_port()
    command = [
        str(binary),
        f"--config={workdir / SCHEDULER_CONFIG_FILE}",
        *flags,
        # In its pod it listens on the pod's address; here on loopback.
        f"--bind-address={LOOPBACK}",
        f"--secure-port={port}",
    ]
    component = Component(
        "user-scheduler",
        command,
        workdir / "user-scheduler.log",
        # What its probes ask (anonymously, like a kubelet).
        lambda: _https_insecure_ok(f"https://{LOOPBACK}:{port}/healthz"),
    )
    component.start()
    try:
        yield component
    finally:
        component.close()


# ---------------------------------------------------------------------- helpers


def pod_path(namespace: str, name: str) -> str:
    return f"/api/v1/namespaces/{namespace}/pods/{name}"


def scheduling_message(admin: KubeClient, namespace: str, name: str) -> str:
    """The pod's ``PodScheduled`` condition and its ``FailedScheduling`` events."""
    with contextlib.suppress(ApiError):
        pod = admin.get(pod_path(namespace, name))
        said = [
            f"{c.get('reason')}: {c.get('message')}"
            for c in pod.get("status", {}).get("conditions") or []
            if c["type"] == "PodScheduled" and c["status"] != "True"
        ]
        events = admin.get(
            f"/api/v1/namespaces/{namespace}/events",
            fieldSelector=f"involvedObject.name={name},reason=FailedScheduling",
        )
        said += [f"event FailedScheduling: {e['message']}" for e in events["items"]]
        return "\n".join(said) or "(the scheduler said nothing)"
    return "(pod gone)"


def node_of(admin: KubeClient, namespace: str, name: str, log: Path, timeout: float = 60) -> str:
    """The node the pod was bound to; fails with the scheduler's message and log tail."""
    try:
        return str(
            wait_until(
                lambda: admin.get(pod_path(namespace, name))["spec"].get("nodeName"),
                timeout,
                f"pod {name} to be bound",
            )
        )
    except TimeoutError:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
        pytest.fail(
            f"pod {name} not scheduled within {timeout:.0f} s; the scheduler says:\n"
            f"{scheduling_message(admin, namespace, name)}\n--- user scheduler log ---\n{tail}",
            pytrace=False,
        )


def placeholders(admin: KubeClient, namespace: str, profile: str = "small") -> list[Obj]:
    pods = admin.get(
        f"/api/v1/namespaces/{namespace}/pods",
        labelSelector="app.kubernetes.io/component=user-placeholder,"
        f"jupyter-constructs.io/placeholder-for={profile}",
    )["items"]
    return [p for p in pods if not p["metadata"].get("deletionTimestamp")]


class Users:
    """User servers as the hub creates them: PVC, then the pod KubeSpawner renders."""

    def __init__(self, admin: KubeClient, namespace: str, objects: list[Obj]) -> None:
        self.admin = admin
        self.namespace = namespace
        self.objects = objects
        self.hub = admin.as_service_account(namespace, "hub")

    def start(self, user: str, *, default_scheduler: bool = False, profile: str = "small") -> str:
        pod, pvc = render_user_pod(self.objects, UserChoice(profile), f"{user}@example.com")
        if default_scheduler:
            pod["spec"].pop("schedulerName")
        self.hub.create(pvc, self.namespace)
        claim = pvc["metadata"]["name"]
        wait_until(
            lambda: (
                self.admin.get(
                    f"/api/v1/namespaces/{self.namespace}/persistentvolumeclaims/{claim}"
                )["status"].get("phase")
                == "Bound"
            ),
            60,
            f"claim {claim} to be bound",
        )
        stored, _ = self.hub.create(pod, self.namespace)
        return str(stored["metadata"]["name"])

    def stop(self, name: str) -> None:
        self.admin.delete(pod_path(self.namespace, name), gracePeriodSeconds="0")
        wait_until(
            lambda: not self.admin.exists(pod_path(self.namespace, name)), 30, f"{name} deleted"
        )


# ---------------------------------------------------------------------- the test


def test_the_user_scheduler_packs_servers_and_preempts_placeholders(
    admin: KubeClient,
    platform: tuple[str, list[Obj]],
    user_nodes: list[str],
    user_scheduler: Component,
) -> None:
    namespace, objects = platform
    log = user_scheduler.log
    users = Users(admin, namespace, objects)

    # 1. It leads (its Lease, in the hub's namespace) and places the placeholder.
    lease = wait_until(
        lambda: admin.get(
            f"/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/user-scheduler-lock"
        )["spec"].get("holderIdentity"),
        60,
        "the user scheduler to take its lease",
    )
    print(f"\nleader: {lease}")
    (placeholder,) = wait_until(lambda: placeholders(admin, namespace), 60, "the placeholder")
    warm = node_of(admin, namespace, placeholder["metadata"]["name"], log)
    assert warm in user_nodes
    other = next(n for n in user_nodes if n != warm)
    assert placeholder["spec"]["schedulerName"] == f"{namespace}-user-scheduler"

    # 2. The same server: the default scheduler spreads it, ours packs it.
    spread = users.start("spread", default_scheduler=True)
    assert node_of(admin, namespace, spread, log) == other, "the default scheduler packed"
    users.stop(spread)
    started: dict[str, str] = {}
    placed: dict[str, str] = {}
    for user in ("alice", "bob"):
        started[user] = users.start(user)
        placed[user] = node_of(admin, namespace, started[user], log)
    print(f"placeholder on {warm}; servers on {placed}")
    assert placed == {"alice": warm, "bob": warm}, "the user scheduler did not pack"

    # 3. The warm node is full (placeholder + 2 servers of 1 CPU): the next fill the other.
    for user in ("carol", "dave", "erin"):
        started[user] = users.start(user)
        placed[user] = node_of(admin, namespace, started[user], log)
    assert [placed[u] for u in ("carol", "dave", "erin")] == [other] * 3

    # 4. Both full: one more server preempts the placeholder and takes its node.
    started["frank"] = users.start("frank")
    placed["frank"] = node_of(admin, namespace, started["frank"], log, timeout=90)
    assert placed["frank"] == warm
    wait_until(
        lambda: not admin.exists(pod_path(namespace, placeholder["metadata"]["name"])),
        30,
        "the preempted placeholder to be gone",
    )
    events = admin.get(
        f"/api/v1/namespaces/{namespace}/events",
        fieldSelector=f"involvedObject.name={placeholder['metadata']['name']},reason=Preempted",
    )["items"]
    assert events, "no Preempted event on the placeholder"
    print(f"the placeholder's event: {events[0]['message']}")
    # Its ReplicaSet recreates it; it waits for a node (what a cluster autoscaler adds).
    (again,) = wait_until(lambda: placeholders(admin, namespace), 60, "a new placeholder")
    name = again["metadata"]["name"]
    message = str(
        wait_until(
            lambda: (
                (said := scheduling_message(admin, namespace, name))
                and "Insufficient cpu" in said
                and said
            ),
            60,
            "the recreated placeholder's FailedScheduling",
        )
    )
    print(f"the recreated placeholder: {message}")
    assert not admin.get(pod_path(namespace, name))["spec"].get("nodeName")
    assert "preemptionPolicy=Never" in message or "not eligible" in message, message

    # 5. No room and no placeholder left: a server waits; users never preempt users.
    grace = users.start("grace")
    said = str(
        wait_until(
            lambda: (
                (m := scheduling_message(admin, namespace, grace)) and "Insufficient cpu" in m and m
            ),
            60,
            "grace's FailedScheduling",
        )
    )
    print(f"the next user: {said}")
    assert not admin.get(pod_path(namespace, grace))["spec"].get("nodeName")
    assert "No preemption victims found for incoming pod" in said, said
    for user, name in started.items():
        assert admin.get(pod_path(namespace, name))["spec"]["nodeName"] == placed[user], user

    # 6. Everything above was done with the rendered RBAC: no refusal in its log.
    text = log.read_text(errors="replace")
    refusals = [
        line
        for line in text.splitlines()
        if "forbidden" in line.lower() or "failed to list" in line.lower()
    ]
    assert not refusals, "\n".join(refusals[:10])
    errors = [line for line in text.splitlines() if line.startswith("E")]
    print("its errors:", *errors[:10], sep="\n  ")


def test_the_cluster_scheduler_puts_core_pods_on_the_core_pool(
    admin: KubeClient,
    platform: tuple[str, list[Obj]],
    cluster_nodes: dict[str, list[str]],
) -> None:
    """Hub, proxy, secret bootstrap Job and user scheduler pods (created by their real
    Deployment, ReplicaSet and Job controllers) land on the core node: not on the user
    nodes (tainted, not tolerated), and not on the ordinary node beside it, which has
    twice the room and no taint (the default scheduler spreads, so without the core pool's
    affinity it would take them)."""
    namespace, _ = platform
    (core,) = cluster_nodes["core"]
    components = ("hub", "proxy", "secret-bootstrap", "user-scheduler")

    def placed() -> dict[str, list[str | None]] | None:
        found: dict[str, list[str | None]] = {}
        for component in components:
            pods = admin.get(
                f"/api/v1/namespaces/{namespace}/pods",
                labelSelector=f"app.kubernetes.io/component={component}",
            )["items"]
            found[component] = [p["spec"].get("nodeName") for p in pods]
        everything = [n for nodes in found.values() for n in nodes]
        expected = {"hub": 1, "proxy": 1, "secret-bootstrap": 1, "user-scheduler": 2}
        counted = all(len(found[c]) >= expected[c] for c in components)
        return found if counted and all(everything) else None

    try:
        where = wait_until(placed, 60, "the core pods to be bound")
    except TimeoutError:
        pods = admin.get(f"/api/v1/namespaces/{namespace}/pods")["items"]
        said = {
            p["metadata"]["name"]: scheduling_message(admin, namespace, p["metadata"]["name"])
            for p in pods
            if not p["spec"].get("nodeName")
        }
        pytest.fail(f"core pods not all bound within 60 s: {said}", pytrace=False)
    print(f"\ncore pods: {where}")
    assert where == {
        "hub": [core],
        "proxy": [core],
        "secret-bootstrap": [core] * len(where["secret-bootstrap"]),
        "user-scheduler": [core, core],
    }


def test_a_gpu_server_preempts_the_gpu_placeholder_on_the_gpu_node(
    admin: KubeClient,
    platform: tuple[str, list[Obj]],
    cluster_nodes: dict[str, list[str]],
    user_scheduler: Component,
) -> None:
    """The autoscaled GPU cluster of ``examples/autoscaled_gpu.py``, in small: the GPU
    placeholder holds the one GPU of the GPU node (labelled for the user pool and
    ``nvidia.com/gpu.present``, tainted ``nvidia.com/gpu``); a GPU server preempts it and
    starts there; the recreated placeholder waits for a GPU (what makes a cluster
    autoscaler add a GPU node). No CPU server or placeholder ever lands on the GPU node."""
    namespace, objects = platform
    (gpu_node,) = cluster_nodes["gpu"]
    log = user_scheduler.log
    (placeholder,) = wait_until(
        lambda: placeholders(admin, namespace, "gpu"), 60, "the GPU placeholder"
    )
    assert node_of(admin, namespace, placeholder["metadata"]["name"], log) == gpu_node
    users = Users(admin, namespace, objects)
    server = users.start("gpu-user", profile="gpu")
    assert node_of(admin, namespace, server, log, timeout=90) == gpu_node
    wait_until(
        lambda: not admin.exists(pod_path(namespace, placeholder["metadata"]["name"])),
        30,
        "the preempted GPU placeholder to be gone",
    )
    (again,) = wait_until(
        lambda: placeholders(admin, namespace, "gpu"), 60, "a new GPU placeholder"
    )
    name = again["metadata"]["name"]
    said = str(
        wait_until(
            lambda: (
                (m := scheduling_message(admin, namespace, name))
                and "Insufficient nvidia.com/gpu" in m
                and m
            ),
            60,
            "the recreated GPU placeholder's FailedScheduling",
        )
    )
    print(f"\nthe recreated GPU placeholder: {said}")
    assert not admin.get(pod_path(namespace, name))["spec"].get("nodeName")
    on_gpu = admin.get(
        f"/api/v1/namespaces/{namespace}/pods", fieldSelector=f"spec.nodeName={gpu_node}"
    )["items"]
    assert [p["metadata"]["name"] for p in on_gpu] == [server]

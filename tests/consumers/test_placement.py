"""Where user servers land, decided by the real kube-scheduler (issue 22, placement).

The user pods are the ones the real KubeSpawner renders from the generated hub config
(every profile of the reference platform, ``dist/prod``), created through the API with
the hub ServiceAccount's own token next to their home PVC. kube-scheduler 1.34 places
them on stand-in Nodes of the shapes users' clusters have (``tests/support/kube/nodes.py``:
a CPU pool, GPU pools with and without the ``nvidia.com/gpu`` taint, a MIG pool); the
test kubelet's own Node is cordoned, and a storage-provisioner stand-in plus the real PV
binder bind the claims. Nothing runs on the stand-in Nodes: the scheduler's decision is
the pod's ``spec.nodeName``, its refusal the ``PodScheduled`` condition and the
``FailedScheduling`` event.

What the docs say (``docs/DEPLOYMENT_GUIDE.md``, GPU profiles; ``docs/QUICKSTART.md``):
GPU servers go to nodes labelled ``nvidia.com/gpu.present=true`` that have the GPU
resource, tolerating the ``nvidia.com/gpu`` NoSchedule taint; CPU profiles ask for no
GPU and belong on CPU nodes. Issue 21 asks that "profiles without a GPU [be] isolated
from GPUs on nodes that have them": the device plugin never taints a node, so on an
untainted GPU pool only the CPU profiles' required node affinity (``GpuIsolation``, on by
default: no node labelled ``nvidia.com/gpu.present=true``) keeps their servers off GPU
nodes (``docs/user-servers.md``, GPU isolation).
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from jupyter_constructs import Gpu, GpuIsolation, NamespaceQuota, Toleration
from tests.helpers import make_hub, synth
from tests.support.kube.client import ApiError, KubeClient, wait_until
from tests.support.kube.control_plane import ControlPlane
from tests.support.kube.fixtures import DIST
from tests.support.kube.kubelet import TestKubelet
from tests.support.kube.nodes import (
    CPU,
    GPU_TAINTED,
    GPU_UNTAINTED,
    MIG,
    MIG_RESOURCE,
    NodePool,
    cordoned,
    stand_in_nodes,
)
from tests.support.kube.product import UserChoice, render_user_pod, user_choices
from tests.support.kube.sync import load_manifests

pytestmark = pytest.mark.consumers

PROD = load_manifests(DIST / "prod")
CHOICES = user_choices(PROD)

#: Where the docs say each profile of the reference platform runs: "gpu" on a GPU node
#: (docs/DEPLOYMENT_GUIDE.md, GPU profiles), the CPU sizes (docs/QUICKSTART.md) on CPU
#: nodes. A new profile must be added here, with the place its docs give it.
DOCUMENTED_PLACE = {"small": "cpu", "medium": "cpu", "large": "cpu", "gpu": "gpu"}

#: Node sets users have. Each is created for the tests of that set, then deleted.
CLUSTERS = {
    "tainted-gpu-pool": (CPU, GPU_TAINTED, MIG),
    "untainted-gpu-pool": (CPU, GPU_UNTAINTED, MIG),
}


@dataclass
class Cluster:
    name: str
    nodes: dict[str, NodePool]

    def pool_of(self, node: str) -> NodePool:
        return self.nodes[node]


# ---------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def scheduler(
    admin: KubeClient, workload_controllers: ControlPlane, kubelet: TestKubelet
) -> Iterator[ControlPlane]:
    """kube-scheduler and the PV binder; the test kubelet's own Node cordoned meanwhile
    (it is no shape of a user's cluster)."""
    with cordoned(admin, kubelet.node_name):
        yield workload_controllers


@pytest.fixture(scope="module", params=list(CLUSTERS))
def cluster(
    request: pytest.FixtureRequest, admin: KubeClient, scheduler: ControlPlane
) -> Iterator[Cluster]:
    with stand_in_nodes(admin, CLUSTERS[request.param]) as nodes:
        yield Cluster(request.param, nodes)


@pytest.fixture(scope="module")
def platform(admin: KubeClient, scheduler: ControlPlane, product_namespace: str) -> str:
    """``dist/prod`` applied (its shared-data claim bound) while the scheduler runs."""
    return product_namespace


# ---------------------------------------------------------------------- helpers


def _bound(admin: KubeClient, namespace: str, claim: str) -> bool:
    path = f"/api/v1/namespaces/{namespace}/persistentvolumeclaims/{claim}"
    return bool(admin.get(path).get("status", {}).get("phase") == "Bound")


def scheduling_message(admin: KubeClient, namespace: str, name: str) -> str:
    """What the scheduler said about the pod: its ``PodScheduled`` condition and its
    ``FailedScheduling`` events (``kubectl describe pod`` shows both)."""
    pod = admin.get(f"/api/v1/namespaces/{namespace}/pods/{name}")
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


@contextlib.contextmanager
def user_server(
    admin: KubeClient, namespace: str, objects: list[dict[str, Any]], choice: UserChoice
) -> Iterator[dict[str, Any]]:
    """The user pod and home PVC that KubeSpawner renders for ``choice``, created as the
    hub; yields the stored pod. Deleted afterwards (no kubelet finishes the delete)."""
    hub = admin.as_service_account(namespace, "hub")
    user = f"{choice.slug}-{uuid.uuid4().hex[:6]}@example.com"
    pod, pvc = render_user_pod(objects, choice, user)
    claims = [
        v["persistentVolumeClaim"]["claimName"]
        for v in pod["spec"].get("volumes") or []
        if "persistentVolumeClaim" in v
    ]
    hub.create(pvc, namespace)
    # The provisioner's part is not under test: the pod goes in once its claims are bound.
    wait_until(
        lambda: all(_bound(admin, namespace, c) for c in claims),
        60,
        f"claims {claims} to be bound",
    )
    stored, _ = hub.create(pod, namespace)
    try:
        yield stored
    finally:
        with contextlib.suppress(ApiError):
            admin.delete(
                f"/api/v1/namespaces/{namespace}/pods/{stored['metadata']['name']}",
                gracePeriodSeconds="0",
            )


def node_of(admin: KubeClient, namespace: str, pod: dict[str, Any], timeout: float = 60) -> str:
    """The node the scheduler bound ``pod`` to; fails with the scheduler's own message."""
    name = pod["metadata"]["name"]
    path = f"/api/v1/namespaces/{namespace}/pods/{name}"
    try:
        return str(
            wait_until(lambda: admin.get(path)["spec"].get("nodeName"), timeout, "a binding")
        )
    except TimeoutError:
        pytest.fail(
            f"pod {name} not scheduled within {timeout:.0f} s; the scheduler says:\n"
            + scheduling_message(admin, namespace, name),
            pytrace=False,
        )


def asks_for_gpus(pod: dict[str, Any]) -> set[str]:
    """The GPU resources (whole GPUs or MIG slices) the pod's containers ask for."""
    return {
        resource
        for container in pod["spec"]["containers"]
        for resource in (container.get("resources") or {}).get("limits") or {}
        if resource.startswith("nvidia.com/")
    }


# ---------------------------------------------------------------------- tests


def test_every_profile_has_a_documented_place() -> None:
    assert {c.slug for c in CHOICES} == set(DOCUMENTED_PLACE)


@pytest.mark.parametrize("choice", CHOICES, ids=[c.id for c in CHOICES])
def test_every_profile_lands_where_its_docs_say(
    admin: KubeClient,
    cluster: Cluster,
    platform: str,
    choice: UserChoice,
) -> None:
    place = DOCUMENTED_PLACE[choice.slug]
    with user_server(admin, platform, PROD, choice) as pod:
        node = node_of(admin, platform, pod)
        pool = cluster.pool_of(node)
        print(f"\n{choice.id} ({cluster.name}): scheduled on {node} ({pool.description})")
        if place == "gpu":
            wanted = asks_for_gpus(pod)
            assert wanted, f"the {choice.slug} profile asks for no GPU"
            assert pool.labels.get("nvidia.com/gpu.present") == "true", (node, pool)
            assert wanted <= set(pool.capacity), (node, pool)
        else:
            assert not asks_for_gpus(pod)
            assert not pool.has_gpus, f"{choice.id}: a CPU server on GPU node {node} ({pool})"


def pulled_on(admin: KubeClient, namespace: str, node: str) -> set[str]:
    """Images the image-puller DaemonSets' pods bound to ``node`` pull (their init
    containers pull, the pause container keeps the pod)."""
    pods = admin.get(f"/api/v1/namespaces/{namespace}/pods", fieldSelector=f"spec.nodeName={node}")
    return {
        container["image"]
        for pod in pods["items"]
        if any(o["kind"] == "DaemonSet" for o in pod["metadata"].get("ownerReferences") or [])
        for container in pod["spec"].get("initContainers") or []
    }


@pytest.mark.parametrize("choice", CHOICES, ids=[c.id for c in CHOICES])
def test_the_node_a_server_lands_on_has_its_images_pre_pulled(
    admin: KubeClient, cluster: Cluster, platform: str, choice: UserChoice
) -> None:
    """The image-puller DaemonSets (one per set of placement rules: the GPU profile's
    puller carries its node selector and toleration) are placed by the real DaemonSet
    controller and scheduler on the same stand-in Nodes: wherever the scheduler puts a
    user's server, a puller of every image of that server is bound to the same node, so
    the first start does not wait for a multi-GB pull (``docs/DEPLOYMENT_GUIDE.md``)."""
    with user_server(admin, platform, PROD, choice) as pod:
        node = node_of(admin, platform, pod)
    images = {
        c["image"] for c in [*pod["spec"]["containers"], *(pod["spec"].get("initContainers") or [])]
    }
    try:
        wait_until(
            lambda: images <= pulled_on(admin, platform, node),
            60,
            f"pullers of {sorted(images)} bound to {node}",
        )
    except TimeoutError:
        pytest.fail(
            f"{choice.id} ({cluster.name}) lands on {node} ({cluster.pool_of(node).description}),"
            f" where no puller pulls {sorted(images - pulled_on(admin, platform, node))}",
            pytrace=False,
        )


def test_a_mig_profile_lands_on_a_mig_node(
    admin: KubeClient, cluster: Cluster, scheduler: ControlPlane, product: Any
) -> None:
    """``Gpu(resource_name="nvidia.com/mig-1g.10gb")``: only the MIG pool advertises the
    slice (GPU operator, ``mixed`` strategy), whatever else the cluster has. The quota
    bounds the slices by their own item (issue 21)."""
    chart, hub = make_hub(
        with_profile=False, quota=NamespaceQuota(extended_resources={MIG_RESOURCE: 28})
    )
    hub.add_profile(
        "mig", display_name="MIG slice", default=True, gpu=Gpu(resource_name=MIG_RESOURCE)
    )
    objects = synth(chart)
    namespace = product(objects)
    with user_server(admin, namespace, objects, UserChoice("mig")) as pod:
        node = node_of(admin, namespace, pod)
    assert asks_for_gpus(pod) == {MIG_RESOURCE}
    assert cluster.pool_of(node) is MIG, node


def test_a_selector_no_node_matches_leaves_the_server_pending_with_the_schedulers_message(
    admin: KubeClient, cluster: Cluster, scheduler: ControlPlane, product: Any
) -> None:
    """A profile pinned to a pool the cluster does not have (a typo in a label value, a
    pool scaled to zero without an autoscaler): the pod is never bound, and the
    scheduler's own ``FailedScheduling`` message says why — what the user's spawn
    progress shows (KubeSpawner relays the pod's events)."""
    chart, hub = make_hub(with_profile=False)
    hub.add_profile(
        "highmem", display_name="High memory", default=True, node_selector={"pool": "highmem"}
    )
    objects = synth(chart)
    namespace = product(objects)
    with user_server(admin, namespace, objects, UserChoice("highmem")) as pod:
        name = pod["metadata"]["name"]
        path = f"/api/v1/namespaces/{namespace}/pods/{name}"

        def refused() -> str | None:
            said = scheduling_message(admin, namespace, name)
            return said if "event FailedScheduling" in said else None

        message = wait_until(refused, 60, "the scheduler's FailedScheduling event")
        print(f"\nthe scheduler says ({cluster.name}):\n{message}")
        stored = admin.get(path)
        assert not stored["spec"].get("nodeName")
        assert stored["status"]["phase"] == "Pending"
        assert re.search(r"0/\d+ nodes are available", message), message
        assert "didn't match Pod's node affinity/selector" in message, message


def test_teams_that_want_cpu_work_on_gpu_nodes_can_say_so(
    admin: KubeClient, cluster: Cluster, scheduler: ControlPlane, product: Any
) -> None:
    """``GpuIsolation(keep_off_gpu_nodes=False)`` (a cluster of GPU nodes only, spare CPU
    on a GPU pool): a CPU server pinned to the GPU pool by its own node selector is
    scheduled there; it still gets ``NVIDIA_VISIBLE_DEVICES=void``, so it sees no GPU."""
    chart, hub = make_hub(with_profile=False, gpu_isolation=GpuIsolation(keep_off_gpu_nodes=False))
    hub.add_profile(
        "cpu-on-gpu",
        display_name="CPU on the GPU pool",
        default=True,
        node_selector={"nvidia.com/gpu.present": "true"},
        tolerations=[Toleration("nvidia.com/gpu", effect="NoSchedule")],
    )
    objects = synth(chart)
    namespace = product(objects)
    with user_server(admin, namespace, objects, UserChoice("cpu-on-gpu")) as pod:
        node = node_of(admin, namespace, pod)
    assert cluster.pool_of(node).has_gpus, node
    (notebook,) = [c for c in pod["spec"]["containers"] if c["name"] == "notebook"]
    assert {"name": "NVIDIA_VISIBLE_DEVICES", "value": "void"} in notebook["env"]

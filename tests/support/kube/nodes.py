"""Stand-in Nodes of the shapes users' clusters have, for the real kube-scheduler.

A Node here is only what the scheduler reads: labels, taints, ``status.capacity`` and
``status.allocatable`` (written through the ``nodes/status`` subresource, as a kubelet
does) and a ``Ready`` condition. Nothing runs on them: a pod bound to one stays Pending
(no kubelet), which is all a placement test needs — the scheduler's decision is
``spec.nodeName``, its refusal the ``PodScheduled`` condition and a ``FailedScheduling``
event.

Two things a real cluster does for a new Node are done here by hand: the
``TaintNodesByCondition`` admission plugin gives a new Node the
``node.kubernetes.io/not-ready:NoSchedule`` taint and the node lifecycle controller
removes it once the kubelet reports Ready (we write the pool's own taints instead).

The shapes (``POOLS``) follow what the GPU software and the clouds set:

- NVIDIA's GPU operator (GPU feature discovery) labels GPU nodes
  ``nvidia.com/gpu.present=true`` and ``nvidia.com/gpu.product``; its device plugin
  advertises ``nvidia.com/gpu`` — or, with MIG under the ``mixed`` strategy, one resource
  per slice profile such as ``nvidia.com/mig-1g.10gb`` and no ``nvidia.com/gpu``
  (https://docs.nvidia.com/datacenter/cloud-native/gpu-operator/latest/gpu-operator-mig.html);
- GKE taints GPU node pools ``nvidia.com/gpu=present:NoSchedule``; on EKS, AKS and
  on-premises clusters the taint is whatever the administrator sets, often none
  (the device plugin never taints), so both a tainted and an untainted GPU pool exist;
- GPU machines are large (48 vCPU and 384 GiB for 4 GPUs here), CPU machines smaller.
"""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from tests.support.kube.client import ApiError, KubeClient, wait_until

Obj = dict[str, Any]
#: The label every stand-in Node carries (to find and delete them).
STAND_IN_LABEL = "jupyter-constructs.test/stand-in-node"
GPU_TAINT = {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}
MIG_RESOURCE = "nvidia.com/mig-1g.10gb"


@dataclass(frozen=True)
class NodePool:
    """One pool: every Node in it has these labels, taints and capacity."""

    name: str
    labels: dict[str, str]
    capacity: dict[str, str]
    taints: tuple[dict[str, str], ...] = ()
    description: str = ""

    @property
    def has_gpus(self) -> bool:
        """True when the Node advertises any GPU resource (whole GPUs or MIG slices)."""
        return any(r == "nvidia.com/gpu" or r.startswith("nvidia.com/mig-") for r in self.capacity)


_BASE = {"pods": "110", "ephemeral-storage": "200Gi"}
_GPU_LABELS = {
    "nvidia.com/gpu.present": "true",
    "nvidia.com/gpu.product": "NVIDIA-A100-SXM4-80GB",
    "nvidia.com/gpu.count": "4",
}

CPU = NodePool(
    "cpu",
    labels={"node.kubernetes.io/instance-type": "cpu-16x64"},
    capacity={"cpu": "16", "memory": "64Gi", **_BASE},
    description="the general CPU pool (16 vCPU, 64 GiB)",
)
GPU_TAINTED = NodePool(
    "gpu-tainted",
    labels={"node.kubernetes.io/instance-type": "gpu-48x384-a100x4", **_GPU_LABELS},
    capacity={"cpu": "48", "memory": "384Gi", "nvidia.com/gpu": "4", **_BASE},
    taints=(GPU_TAINT,),
    description="4 A100 per node, tainted nvidia.com/gpu=present:NoSchedule (GKE's default)",
)
GPU_UNTAINTED = NodePool(
    "gpu-untainted",
    labels={"node.kubernetes.io/instance-type": "gpu-48x384-a100x4", **_GPU_LABELS},
    capacity={"cpu": "48", "memory": "384Gi", "nvidia.com/gpu": "4", **_BASE},
    description="4 A100 per node, no taint (the device plugin sets none)",
)
MIG = NodePool(
    "mig",
    labels={
        "node.kubernetes.io/instance-type": "gpu-48x384-a100x4",
        **_GPU_LABELS,
        "nvidia.com/mig.strategy": "mixed",
        "nvidia.com/mig.config": "all-1g.10gb",
    },
    capacity={"cpu": "48", "memory": "384Gi", MIG_RESOURCE: "28", **_BASE},
    taints=(GPU_TAINT,),
    description="4 A100 sliced into 28 MIG 1g.10gb instances (mixed strategy), tainted",
)
POOLS = {pool.name: pool for pool in (CPU, GPU_TAINTED, GPU_UNTAINTED, MIG)}


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def node_name(pool: NodePool, index: int) -> str:
    return f"{pool.name}-{index}"


def register(admin: KubeClient, pool: NodePool, index: int) -> str:
    """Create one Node of ``pool``, Ready, with the pool's taints and capacity; its name."""
    name = node_name(pool, index)
    admin.post(
        "/api/v1/nodes",
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": name,
                "labels": {
                    "kubernetes.io/hostname": name,
                    "kubernetes.io/os": "linux",
                    "kubernetes.io/arch": "amd64",
                    STAND_IN_LABEL: pool.name,
                    **pool.labels,
                },
            },
        },
    )
    path = f"/api/v1/nodes/{name}"
    # The node lifecycle controller's part: the not-ready taint goes once the Node is Ready.
    admin.patch(path, {"spec": {"taints": list(pool.taints) or None}})
    admin.request(
        "PATCH",
        f"{path}/status",
        {
            "status": {
                "capacity": pool.capacity,
                "allocatable": pool.capacity,
                "conditions": [
                    {
                        "type": "Ready",
                        "status": "True",
                        "reason": "KubeletReady",
                        "message": "stand-in node (no kubelet runs its pods)",
                        "lastHeartbeatTime": _now(),
                        "lastTransitionTime": _now(),
                    }
                ],
                "nodeInfo": {
                    "kubeletVersion": "v1.34.3",
                    "containerRuntimeVersion": "none://stand-in",
                    "operatingSystem": "linux",
                    "architecture": "amd64",
                    "osImage": "stand-in",
                    "kernelVersion": "",
                    "kubeProxyVersion": "",
                    "machineID": "",
                    "systemUUID": "",
                    "bootID": "",
                },
            }
        },
        content_type="application/merge-patch+json",
    )
    return name


def delete_stand_ins(admin: KubeClient) -> None:
    """Delete every stand-in Node (and wait until they are gone)."""
    for node in admin.get("/api/v1/nodes", labelSelector=STAND_IN_LABEL)["items"]:
        with contextlib.suppress(ApiError):
            admin.delete(f"/api/v1/nodes/{node['metadata']['name']}")
    wait_until(
        lambda: not admin.get("/api/v1/nodes", labelSelector=STAND_IN_LABEL)["items"],
        30,
        "the stand-in Nodes to be deleted",
    )


@contextlib.contextmanager
def stand_in_nodes(
    admin: KubeClient, pools: Iterable[NodePool], per_pool: int = 2
) -> Iterator[dict[str, NodePool]]:
    """``per_pool`` Nodes of each pool for the block; yields node name -> its pool."""
    nodes: dict[str, NodePool] = {}
    delete_stand_ins(admin)  # a previous test's, if it was interrupted
    try:
        for pool in pools:
            for index in range(per_pool):
                nodes[register(admin, pool, index)] = pool
        yield nodes
    finally:
        delete_stand_ins(admin)


@contextlib.contextmanager
def cordoned(admin: KubeClient, name: str) -> Iterator[None]:
    """``kubectl cordon`` for the block (the scheduler's NodeUnschedulable filter)."""
    path = f"/api/v1/nodes/{name}"
    admin.patch(path, {"spec": {"unschedulable": True}})
    try:
        yield
    finally:
        admin.patch(path, {"spec": {"unschedulable": None}})

"""An autoscaled GPU cluster: users packed onto few nodes, warm room kept, core pods apart.

Run: ``python examples/autoscaled_gpu.py`` (writes ``dist-examples/autoscaled_gpu/``, or
``$CDK8S_OUTDIR`` when set; prints the quota's capacity).

The cluster has three node pools, scaled by the cluster autoscaler:

- a small **core** pool (``hub.jupyter.org/node-purpose=core``, tainted
  ``hub.jupyter.org/dedicated=core:NoSchedule``) that never scales to zero: the hub, the
  proxy, the secret bootstrap Job and the user scheduler run there (``core_pods``);
- a **user** CPU pool (``hub.jupyter.org/node-purpose=user``, tainted ``...=user``);
- a **GPU** pool (``nvidia.com/gpu.present=true``, tainted ``nvidia.com/gpu``), also
  labelled ``node-purpose=user`` and tainted ``...=user`` like the CPU pool.

User pods *require* the user pool (``NodeAffinity.REQUIRED``): a server never lands on a
core node, it waits for the autoscaler instead. CPU servers (and their placeholder) also
require a node without GPUs (``GpuIsolation``, on by default), so a CPU user never keeps
a GPU node alive, and see no GPU (``NVIDIA_VISIBLE_DEVICES=void``). The ``UserScheduler`` packs them
(``MostAllocated``): servers fill one node before the next, so the autoscaler can remove
the nodes that empty out at night. Two ``UserPlaceholders`` keep warm room, one for a CPU
server and one for a GPU server (a GPU node takes minutes to join and its image minutes to
pull): a user who arrives preempts the placeholder and starts at once, and the evicted
placeholder, Pending, makes the autoscaler add the next node. The namespace quota counts
the placeholders and the scheduler's pods before any server (``format_capacity``).
"""

from __future__ import annotations

import os
from pathlib import Path

import cdk8s

from jupyter_constructs import (
    Gpu,
    JupyterHub,
    NamespaceQuota,
    NodeAffinity,
    NodePool,
    OidcAuth,
    SecretRef,
    UserPlaceholders,
    UserScheduler,
    synthesize,
)

OUTDIR = (
    os.environ.get("CDK8S_OUTDIR") or Path(__file__).parent.parent / "dist-examples/autoscaled_gpu"
)
PYTORCH = "quay.io/jupyter/pytorch-notebook:cuda12-2025-01-13"


def build(app: cdk8s.App) -> None:
    chart = cdk8s.Chart(app, "jupyterhub", namespace="jupyter")
    hub = JupyterHub(
        chart,
        "hub",
        domain="jupyter.example.com",
        auth=OidcAuth(
            client_id="jupyterhub",
            client_secret=SecretRef("jupyterhub-oidc", "client-secret"),
            authorize_url="https://idp.example.com/authorize",
            token_url="https://idp.example.com/token",
            userdata_url="https://idp.example.com/userinfo",
            allowed_groups=["research"],
        ),
        core_pods=NodePool.core(),
        user_pods=NodePool.user(affinity=NodeAffinity.REQUIRED),
        quota=NamespaceQuota(requests_cpu="64", requests_memory="512Gi", gpus=4),
    )
    cpu = hub.add_profile(
        "cpu",
        display_name="CPU (2 CPU, 8 GiB)",
        cpu_request="2",
        cpu_limit="4",
        memory_request="8Gi",
        memory_limit="8Gi",
        default=True,
    )
    gpu = hub.add_profile(
        "gpu",
        display_name="GPU (1 NVIDIA GPU, 8 CPU, 48 GiB)",
        image=PYTORCH,
        cpu_request="8",
        cpu_limit="8",
        memory_request="48Gi",
        memory_limit="48Gi",
        gpu=Gpu(count=1),
        start_timeout=900,
    )
    # Matches the control plane (`kubectl version`); the image is pinned to it.
    UserScheduler(chart, "user-scheduler", hub=hub, kubernetes_version="1.34.3")
    UserPlaceholders(chart, "warm-cpu", hub=hub, profile=cpu, count=1)
    UserPlaceholders(chart, "warm-gpu", hub=hub, profile=gpu, count=1)
    print(hub.format_capacity())


if __name__ == "__main__":
    print(synthesize(build, outdir=OUTDIR))

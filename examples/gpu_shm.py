"""A GPU profile with the shared memory PyTorch needs, and MIG slices counted by name.

Run: ``python examples/gpu_shm.py`` (writes ``dist-examples/gpu_shm/``, or
``$CDK8S_OUTDIR`` when set).

Containers get a 64MiB ``/dev/shm``; PyTorch's DataLoader with worker processes passes
batches through it and dies with "bus error" beyond that. ``shm_size`` mounts a
memory-backed ``/dev/shm`` (it counts against the memory limit, so it may not exceed it).
The ``mig`` profile asks for one ``nvidia.com/mig-1g.10gb`` slice by its own name, plus
scratch disk (``ephemeral-storage``); the namespace quota bounds whole GPUs and MIG
slices each by its own item (``requests.nvidia.com/gpu: 4``,
``requests.nvidia.com/mig-1g.10gb: 14``), and ``hub.format_capacity()`` reports each.
The ``cpu`` profile asks for no GPU: its servers stay off GPU nodes and see no GPU
(``GpuIsolation``, on by default). A ``preStop`` hook copies checkpoints to the
shared volume before the server stops, and gets 60 seconds to do it.
"""

from __future__ import annotations

import os
from pathlib import Path

import cdk8s

from jupyter_constructs import (
    Gpu,
    JupyterHub,
    NamespaceQuota,
    OidcAuth,
    SecretRef,
    SharedData,
    Toleration,
    synthesize,
)

OUTDIR = os.environ.get("CDK8S_OUTDIR") or Path(__file__).parent.parent / "dist-examples/gpu_shm"
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
            allowed_groups=["ml"],
        ),
        shared_data=SharedData(size="500Gi", storage_class="nfs"),
        # One quota item per device: 4 whole GPUs, 14 MIG 1g.10gb slices (two A100s).
        quota=NamespaceQuota(gpus=4, extended_resources={"nvidia.com/mig-1g.10gb": 14}),
    )
    hub.add_profile("cpu", display_name="CPU (1 CPU, 2 GiB)", default=True)
    hub.add_profile(
        "gpu",
        display_name="GPU (1 NVIDIA GPU, 8 CPU, 64 GiB)",
        image=PYTORCH,
        cpu_request="8",
        cpu_limit="8",
        memory_request="64Gi",
        memory_limit="64Gi",
        gpu=Gpu(count=1),
        shm_size="16Gi",
        pre_stop_command=[
            "sh",
            "-c",
            "cp -r /home/jovyan/checkpoints /home/jovyan/shared/ || true",
        ],
        stop_grace_period=60,
        start_timeout=900,
    )
    hub.add_profile(
        "mig",
        display_name="A slice of an A100 (MIG 1g.10gb)",
        image=PYTORCH,
        memory_request="16Gi",
        memory_limit="16Gi",
        extra_resources={"nvidia.com/mig-1g.10gb": "1", "ephemeral-storage": "50Gi"},
        node_selector={"nvidia.com/mig.strategy": "mixed"},
        tolerations=[Toleration("nvidia.com/gpu", effect="NoSchedule")],
        shm_size="4Gi",
    )


if __name__ == "__main__":
    print(synthesize(build, outdir=OUTDIR))

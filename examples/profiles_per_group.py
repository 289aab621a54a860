"""Profiles per group, with choices inside them: a drop-down of images and sizes.

Run: ``python examples/profiles_per_group.py`` (writes ``dist-examples/profiles_per_group/``,
or ``$CDK8S_OUTDIR`` when set).

Everyone gets the default profile. The "Machine learning" profile offers an image
drop-down (SciPy or PyTorch, or any dated ``quay.io/jupyter`` notebook image typed in,
checked by a regex) and a size drop-down; the quota is checked against its largest size.
The GPU profile is only for the ``gpu-users`` group (synced from the identity provider's
``groups`` claim) and one named user: the hub hides it from everyone else and refuses to
start it for them, the REST API included.
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
    ProfileChoice,
    ProfileOption,
    SecretRef,
    UnlistedChoice,
    synthesize,
)

OUTDIR = (
    os.environ.get("CDK8S_OUTDIR")
    or Path(__file__).parent.parent / "dist-examples/profiles_per_group"
)
SCIPY = "quay.io/jupyter/scipy-notebook:2025-01-13"
PYTORCH = "quay.io/jupyter/pytorch-notebook:2025-01-13"
CUDA = "quay.io/jupyter/pytorch-notebook:cuda12-2025-01-13"
IMAGES = ProfileOption(
    "Image",
    choices={
        "scipy": ProfileChoice("SciPy", default=True, image=SCIPY),
        "pytorch": ProfileChoice("PyTorch", image=PYTORCH),
    },
    unlisted_choice=UnlistedChoice(
        "Other image",
        validation_regex=r"^quay\.io/jupyter/[a-z-]+-notebook:[0-9]{4}-[0-9]{2}-[0-9]{2}$",
        validation_message="a quay.io/jupyter notebook image with a date tag",
    ),
)


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
            allowed_groups=["data-science", "gpu-users"],
        ),
        quota=NamespaceQuota(gpus=4),
    )
    hub.add_profile("standard", display_name="Standard (1 CPU, 2 GiB)", default=True)
    hub.add_profile(
        "ml",
        display_name="Machine learning",
        description="Pick an image and a size",
        options={
            "image": IMAGES,
            "size": ProfileOption(
                "Size",
                choices={
                    "medium": ProfileChoice("2 CPU, 4 GiB", default=True),
                    "large": ProfileChoice(
                        "4 CPU, 16 GiB",
                        cpu_request="2",
                        cpu_limit="4",
                        memory_request="8Gi",
                        memory_limit="16Gi",
                    ),
                },
            ),
        },
    )
    hub.add_profile(
        "gpu",
        display_name="GPU (1 x NVIDIA)",
        image=CUDA,
        cpu_request="4",
        cpu_limit="8",
        memory_request="16Gi",
        memory_limit="32Gi",
        gpu=Gpu(count=1),
        allowed_groups=["gpu-users"],
        allowed_users=["lead@example.com"],
    )


if __name__ == "__main__":
    print(synthesize(build, outdir=OUTDIR))

"""No home volume: a trial hub or a workshop, where nothing outlives a server.

Run: ``python examples/home_none.py`` (writes ``dist-examples/home_none/``, or
``$CDK8S_OUTDIR`` when set).

``UserStorage.none()`` (z2jh ``singleuser.storage.type: none``): no claim is created and
whatever users write is lost when their server stops (the idle culler stops it after an
hour). The workshop material arrives by an init container, which runs with the
restricted security context, and every server opens JupyterLab.
"""

from __future__ import annotations

import os
from pathlib import Path

import cdk8s

from jupyter_constructs import (
    JupyterHub,
    Mount,
    OidcAuth,
    SecretRef,
    SingleUser,
    UserContainer,
    UserStorage,
    UserVolume,
    synthesize,
)

OUTDIR = os.environ.get("CDK8S_OUTDIR") or Path(__file__).parent.parent / "dist-examples/home_none"


def build(app: cdk8s.App) -> None:
    chart = cdk8s.Chart(app, "jupyterhub", namespace="jupyter")
    hub = JupyterHub(
        chart,
        "hub",
        domain="workshop.example.com",
        auth=OidcAuth(
            client_id="jupyterhub",
            client_secret=SecretRef("jupyterhub-oidc", "client-secret"),
            authorize_url="https://idp.example.com/authorize",
            token_url="https://idp.example.com/token",
            userdata_url="https://idp.example.com/userinfo",
            allowed_groups=["workshop"],
        ),
        user_storage=UserStorage.none(),
        singleuser=SingleUser(
            default_url="/lab",
            volumes=[UserVolume.empty_dir("material", mount_path="/home/jovyan/material")],
            init_containers=[
                UserContainer(
                    "material",
                    image="quay.io/jupyter/base-notebook:2025-01-13",
                    command=["cp", "-r", "/opt/conda/share/jupyter/lab", "/material/"],
                    mounts=[Mount("material", "/material")],
                )
            ],
        ),
    )
    hub.add_profile("default", display_name="Workshop (1 CPU, 2 GiB)", default=True)


if __name__ == "__main__":
    print(synthesize(build, outdir=OUTDIR))

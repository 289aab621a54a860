"""Every home a folder of one NFS export (z2jh ``singleuser.storage.type: static``).

Run: ``python examples/home_shared.py`` (writes ``dist-examples/home_shared/``, or
``$CDK8S_OUTDIR`` when set).

Large hubs keep homes on one shared file system instead of a disk per user. The hub
renders a static PersistentVolume for the export (reclaim policy ``Retain``) and the
claim ``homes``; each user's server mounts ``homes/{username}``, which an init container
creates as the user on the first start (the kubelet would create it as root). Deploying
it needs the right to create PersistentVolumes. Files for every server come from a
ConfigMap the hub renders (z2jh ``extraFiles``); a cost-centre label is added to every
pod without touching the labels the NetworkPolicies select by.
"""

from __future__ import annotations

import os
from pathlib import Path

import cdk8s

from jupyter_constructs import (
    ExtraFile,
    JupyterHub,
    NfsExport,
    OidcAuth,
    SecretRef,
    SingleUser,
    UserStorage,
    synthesize,
)

OUTDIR = (
    os.environ.get("CDK8S_OUTDIR") or Path(__file__).parent.parent / "dist-examples/home_shared"
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
            allowed_groups=["data-science"],
        ),
        user_storage=UserStorage.shared(
            "homes",
            nfs=NfsExport("nfs.example.internal", "/exports/homes", mount_options=("nfsvers=4.1",)),
        ),
        singleuser=SingleUser(
            extra_files={
                "server-config": ExtraFile(
                    "/etc/jupyter/jupyter_server_config.json",
                    data={"ServerApp": {"terminals_enabled": True}},
                )
            },
            extra_labels={"example.com/cost-center": "analytics"},
        ),
    )
    hub.add_profile("default", display_name="Default (1 CPU, 2 GiB)", default=True)


if __name__ == "__main__":
    print(synthesize(build, outdir=OUTDIR))

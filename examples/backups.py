"""Nightly backups of the hub's data with Velero, beside a shared data volume.

Run: ``python examples/backups.py`` (writes ``dist-examples/backups/``, or
``$CDK8S_OUTDIR`` when set).

- A 100Gi shared data volume beside each user's home.
- ``VeleroBackups``: every night at 02:30 a Velero backup of the namespace's volumes (the
  hub database, every home, the shared data) and Secrets, kept 14 days; the volumes are
  captured by CSI snapshots whose data Velero copies to object storage. The restore
  procedure is in docs/runbook.md ("Backups and restore").

The Schedule lives in Velero's own namespace (``velero``), where Velero reads schedules:
the ArgoCD project that syncs this folder must allow that destination. What ArgoCD can
never delete: the namespace and every claim carry ``Delete=false,Prune=false``
(docs/DEPLOYMENT_GUIDE.md, "Data safety").
"""

from __future__ import annotations

import os
from pathlib import Path

import cdk8s

from jupyter_constructs import (
    JupyterHub,
    OidcAuth,
    SecretRef,
    SharedData,
    VeleroBackups,
    synthesize,
)

# Where to write: $CDK8S_OUTDIR (as `cdk8s synth` sets it), else dist-examples/backups/.
OUTDIR = os.environ.get("CDK8S_OUTDIR") or Path(__file__).parent.parent / "dist-examples/backups"


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
        shared_data=SharedData(size="100Gi"),
    )
    hub.add_profile("default", display_name="Default (1 CPU, 2 GiB)", default=True)
    VeleroBackups(chart, "backups", hub=hub, schedule="30 2 * * *", retention="336h")


if __name__ == "__main__":
    print(synthesize(build, outdir=OUTDIR))

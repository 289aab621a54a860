"""Homes as one claim per user (the default), named as z2jh 3.x named them.

Run: ``python examples/home_dynamic.py`` (writes ``dist-examples/home_dynamic/``, or
``$CDK8S_OUTDIR`` when set).

KubeSpawner creates ``claim-{username}`` (20Gi, StorageClass ``fast-ssd``) on a user's
first start; the claim outlives the server, the hub and the user (``delete_pvc`` stays
False). ``SlugScheme.ESCAPE`` keeps the names hubs of z2jh 3.x and earlier gave:
``alice.smith@example.org``'s home stays ``claim-alice-2esmith-40example-2eorg``. A team
dataset claim is mounted read-only everywhere, read-write in the curators' profile.
"""

from __future__ import annotations

import os
from pathlib import Path

import cdk8s

from jupyter_constructs import (
    JupyterHub,
    OidcAuth,
    SecretRef,
    SingleUser,
    SlugScheme,
    UserStorage,
    UserVolume,
    synthesize,
)

OUTDIR = (
    os.environ.get("CDK8S_OUTDIR") or Path(__file__).parent.parent / "dist-examples/home_dynamic"
)


def datasets(*, read_only: bool) -> UserVolume:
    return UserVolume.existing_claim(
        "datasets",
        claim_name="team-datasets",
        mount_path="/home/jovyan/datasets",
        read_only=read_only,
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
        user_storage=UserStorage.dynamic(
            size="20Gi", storage_class="fast-ssd", slug_scheme=SlugScheme.ESCAPE
        ),
        singleuser=SingleUser(volumes=[datasets(read_only=True)], default_url="/lab"),
    )
    hub.add_profile("default", display_name="Default (1 CPU, 2 GiB)", default=True)
    # Same volume name: it replaces the hub-wide one in this profile only.
    hub.add_profile(
        "curators", display_name="Dataset curators", volumes=[datasets(read_only=False)]
    )


if __name__ == "__main__":
    print(synthesize(build, outdir=OUTDIR))

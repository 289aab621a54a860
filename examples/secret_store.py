"""Credentials from a secret store: no ``kubectl create secret``, no value in git.

Run: ``python examples/secret_store.py`` (writes ``dist-examples/secret_store/``, or
``$CDK8S_OUTDIR`` when set).

The OpenID Connect client secret comes from Vault (any store the External Secrets
operator supports, through a ``ClusterSecretStore`` named ``vault``): the rendered
``ExternalSecret`` names the remote key, the operator creates the Secret
``jupyterhub-oidc`` in the hub's namespace, and the hub reads it. The ExternalSecret
syncs before the hub (wave -2) and sets every field External Secrets 0.16 to 2.x
defaults, so ArgoCD does not show it OutOfSync forever.
"""

from __future__ import annotations

import os
from pathlib import Path

import cdk8s

from jupyter_constructs import ExternalSecretSource, JupyterHub, OidcAuth, synthesize

# Where to write: $CDK8S_OUTDIR (as `cdk8s synth` sets it), else dist-examples/secret_store/.
OUTDIR = (
    os.environ.get("CDK8S_OUTDIR") or Path(__file__).parent.parent / "dist-examples/secret_store"
)


def build(app: cdk8s.App) -> None:
    chart = cdk8s.Chart(app, "jupyterhub", namespace="jupyter")
    oidc = ExternalSecretSource(
        chart,
        "oidc",
        secret_name="jupyterhub-oidc",
        store="vault",
        keys={"client-secret": "platform/jupyterhub/oidc#client_secret"},
    )
    hub = JupyterHub(
        chart,
        "hub",
        domain="jupyter.example.com",
        auth=OidcAuth(
            client_id="jupyterhub",
            client_secret=oidc.ref("client-secret"),
            authorize_url="https://idp.example.com/authorize",
            token_url="https://idp.example.com/token",
            userdata_url="https://idp.example.com/userinfo",
            allowed_groups=["data-science"],
        ),
    )
    hub.attach_addon(oidc)
    hub.add_profile("default", display_name="Default (1 CPU, 2 GiB)", default=True)


if __name__ == "__main__":
    print(synthesize(build, outdir=OUTDIR))

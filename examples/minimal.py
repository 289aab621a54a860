"""The smallest useful hub: OpenID Connect sign-in, one profile, every default.

Run: ``python examples/minimal.py`` (writes ``dist-examples/minimal/``, or
``$CDK8S_OUTDIR`` when set).

Renders the restricted namespace, the hub and proxy with their Services, an nginx Ingress
with TLS, RBAC, the hub-secrets bootstrap Job, a 1Gi sqlite volume, the idle culler, a
ResourceQuota and LimitRange, the image pre-puller and default-deny NetworkPolicies.
"""

from __future__ import annotations

import os
from pathlib import Path

import cdk8s

from jupyter_constructs import JupyterHub, OidcAuth, SecretRef, synthesize

# Where to write: $CDK8S_OUTDIR (as `cdk8s synth` sets it), else dist-examples/minimal/.
OUTDIR = os.environ.get("CDK8S_OUTDIR") or Path(__file__).parent.parent / "dist-examples/minimal"


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
    )
    hub.add_profile("default", display_name="Default (1 CPU, 2 GiB)", default=True)


if __name__ == "__main__":
    print(synthesize(build, outdir=OUTDIR))

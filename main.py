"""The reference platform: JupyterHub for jupyter.254carbon.com in namespace ``jupyter``.

``make synth`` runs this file (through ``cdk8s synth``) and writes ``dist/``.
"""

from __future__ import annotations

import os

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import cdk8s

from jupyter_constructs import (
    IngressOptions,
    JupyterHub,
    OidcAuth,
    SecretRef,
)

NAMESPACE = "jupyter"
DOMAIN = "jupyter.254carbon.com"


def build(app: cdk8s.App) -> None:
    """Add the reference platform's charts to ``app``."""
    chart = cdk8s.Chart(app, "jupyterhub", namespace=NAMESPACE, disable_resource_name_hashes=True)
    JupyterHub(
        chart,
        "hub",
        domain=DOMAIN,
        auth=OidcAuth.cloudflare_access_saas(
            team_domain="254carbon.cloudflareaccess.com",
            client_id="jupyterhub",
            client_secret=SecretRef("jupyterhub-oidc", "client-secret"),
            allow_all=True,
        ),
        ingress=IngressOptions(cert_manager_cluster_issuer="letsencrypt-prod"),
    )


if __name__ == "__main__":
    app = cdk8s.App(outdir=os.environ.get("CDK8S_OUTDIR", "dist"))
    build(app)
    app.synth()

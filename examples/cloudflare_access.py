"""A hub behind Cloudflare Access: a tunnel the only way in, user servers on own hosts.

Run: ``python examples/cloudflare_access.py`` (writes ``dist-examples/cloudflare_access/``,
or ``$CDK8S_OUTDIR`` when set).

Cloudflare adds the visitor's Access token to every request it forwards, so user servers
are served at ``<name>.jupyter-users.example.com`` behind a second Access application,
whose tokens the hub refuses (docs/authentication.md, "Threat: one user's server signs in
as another"). The hub has no Ingress: every request passes through Cloudflare (the tunnel),
where Access checks it. Renders, besides the hub: the cloudflared Deployment, its
configuration routing ``jupyter.example.com`` and ``*.jupyter-users.example.com`` to the
proxy (which routes by host), and their NetworkPolicies.
"""

from __future__ import annotations

import os
from pathlib import Path

import cdk8s

from jupyter_constructs import (
    CloudflareAccessAuth,
    CloudflareTunnel,
    IngressOptions,
    JupyterHub,
    SecretRef,
    synthesize,
)

# Where to write: $CDK8S_OUTDIR (as `cdk8s synth` sets it), else dist-examples/NAME/.
OUTDIR = os.environ.get("CDK8S_OUTDIR") or (
    Path(__file__).parent.parent / "dist-examples/cloudflare_access"
)

# The Application Audience (AUD) tags of the two Access applications (not secrets).
HUB_AUD = "4714c1358e65fe4b408ad6d432a5f878f08194bdb6752f58df2b6ff7cc6b7c7e"
USERS_AUD = "9c1d0e6a2b7f48e3a5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8"


def build(app: cdk8s.App) -> None:
    chart = cdk8s.Chart(app, "jupyterhub", namespace="jupyter")
    hub = JupyterHub(
        chart,
        "hub",
        domain="jupyter.example.com",
        auth=CloudflareAccessAuth(
            team_domain="example.cloudflareaccess.com",
            audience=HUB_AUD,
            user_server_domain="jupyter-users.example.com",
            user_server_audience=USERS_AUD,
            allowed_email_domains=["example.com"],
            admin_users=["platform-lead@example.com"],
        ),
        ingress=IngressOptions(enabled=False),
    )
    hub.add_profile("default", display_name="Default (1 CPU, 2 GiB)", default=True)
    CloudflareTunnel(
        chart, "tunnel", hub=hub, tunnel_token=SecretRef("cloudflared-tunnel", "token")
    )


if __name__ == "__main__":
    print(synthesize(build, outdir=OUTDIR))

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

# The Application Audience (AUD) tags of the two Access applications (not secrets; each
# is a 64-character hex string shown on its application's overview page).
HUB_AUD = "the-aud-tag-of-the-hub-access-application"
USERS_AUD = "the-aud-tag-of-the-user-servers-access-application"


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

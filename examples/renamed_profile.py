"""A month later: a profile renamed without stranding its servers, a quota that explains itself.

Run: ``python examples/renamed_profile.py`` (writes ``dist-examples/renamed_profile/``, or
``$CDK8S_OUTDIR`` when set).

The team renamed profile ``medium`` to ``standard``. ``former_slugs`` keeps the servers
still running under the old name inside the profile's NetworkPolicies (its internet access
here), and the hub starts ``standard`` for a user whose stored choice is still ``medium``
(docs/user-servers.md, "Renaming a profile"). With a ``NamespaceQuota`` the hub's
``active_server_limit`` is derived from it: the servers that always fit whatever profiles
users pick, so a full namespace gives users the hub's own "Active user limit exceeded"
instead of the API server's "exceeded quota" (synth prints the number and why).
"""

from __future__ import annotations

import os
from pathlib import Path

import cdk8s

from jupyter_constructs import JupyterHub, NamespaceQuota, OidcAuth, SecretRef, synthesize

# Where to write: $CDK8S_OUTDIR (as `cdk8s synth` sets it), else dist-examples/renamed_profile/.
OUTDIR = (
    os.environ.get("CDK8S_OUTDIR") or Path(__file__).parent.parent / "dist-examples/renamed_profile"
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
        quota=NamespaceQuota(pods=60, requests_cpu="48", requests_memory="192Gi"),
    )
    hub.add_profile("small", display_name="Small (1 CPU, 2 GiB)", default=True)
    hub.add_profile(
        "standard",
        display_name="Standard (4 CPU, 16 GiB)",
        cpu_request="4",
        cpu_limit="4",
        memory_request="16Gi",
        memory_limit="16Gi",
        internet_access=True,
        former_slugs=("medium",),
    )


if __name__ == "__main__":
    print(synthesize(build, outdir=OUTDIR))

"""Named servers: up to three servers per user, each with its own home claim.

Run: ``python examples/named_servers.py`` (writes ``dist-examples/named_servers/``, or
``$CDK8S_OUTDIR`` when set).

Users start servers by name (``/hub/home``, or ``POST /hub/api/users/<name>/servers/<server>``),
at most three each. Each named server gets a home claim of its own,
``claim-<user>--<server>``, so two servers of a user never fight over one ReadWriteOnce
volume; the default server keeps ``claim-<user>``. The idle culler stops servers idle
for two hours and deletes idle named servers outright (their homes are kept), so they do
not count against the limit.
"""

from __future__ import annotations

import os
from pathlib import Path

import cdk8s

from jupyter_constructs import (
    IdleCuller,
    JupyterHub,
    NamedServers,
    OidcAuth,
    SecretRef,
    synthesize,
)

OUTDIR = (
    os.environ.get("CDK8S_OUTDIR") or Path(__file__).parent.parent / "dist-examples/named_servers"
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
        named_servers=NamedServers(limit_per_user=3),
        idle_culler=IdleCuller(timeout=7200, remove_named_servers=True),
    )
    hub.add_profile("standard", display_name="Standard (1 CPU, 2 GiB)", default=True)
    hub.add_profile(
        "large",
        display_name="Large (4 CPU, 16 GiB)",
        cpu_request="2",
        cpu_limit="4",
        memory_request="8Gi",
        memory_limit="16Gi",
    )


if __name__ == "__main__":
    print(synthesize(build, outdir=OUTDIR))

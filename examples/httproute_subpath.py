"""A hub under ``/jupyter/`` behind a Gateway API HTTPRoute (Envoy Gateway), no Ingress.

Run: ``python examples/httproute_subpath.py`` (writes ``dist-examples/httproute_subpath/``,
or ``$CDK8S_OUTDIR`` when set).

The Gateway ``public`` (namespace ``gateways``) is yours: it terminates TLS for
``data.example.com`` and its ``https`` listener lets routes of the ``jupyter`` namespace
attach (``allowedRoutes.namespaces``). Everything of the hub follows the path: the
HTTPRoute matches ``/jupyter``, the probes ask ``/jupyter/hub/health``, the OAuth callback
is ``https://data.example.com/jupyter/hub/oauth_callback``. The proxy's NetworkPolicy
admits only the Gateway's Envoy pods.
"""

from __future__ import annotations

import os
from pathlib import Path

import cdk8s

from jupyter_constructs import GatewayRoute, JupyterHub, OidcAuth, SecretRef, synthesize

OUTDIR = (
    os.environ.get("CDK8S_OUTDIR")
    or Path(__file__).parent.parent / "dist-examples/httproute_subpath"
)


def build(app: cdk8s.App) -> None:
    chart = cdk8s.Chart(app, "jupyterhub", namespace="jupyter")
    hub = JupyterHub(
        chart,
        "hub",
        domain="data.example.com",
        base_url="/jupyter/",
        gateway=GatewayRoute.envoy_gateway(
            "public", gateway_namespace="gateways", section_name="https"
        ),
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

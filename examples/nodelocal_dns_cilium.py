"""A hub on Cilium with NodeLocal DNSCache: the network setup the defaults do not assume.

Run: ``python examples/nodelocal_dns_cilium.py`` (writes
``dist-examples/nodelocal_dns_cilium/``, or ``$CDK8S_OUTDIR`` when set).

What changes from the defaults, and why (docs/security.md, "What each CNI and DNS setup
needs"):

- ``ClusterDns.node_local_dns(...)``: pods resolve through the node-local cache at
  ``169.254.20.10`` and the kube-dns ClusterIP, addresses of the node that no pod
  selector matches; on Cilium the cache runs as ``k8s-app: node-local-dns`` pods behind a
  Local Redirect Policy, which the preset also allows. Find the ClusterIP with
  ``kubectl -n kube-system get svc kube-dns -o jsonpath='{.spec.clusterIP}'``.
- ``Cni.CILIUM``: two CiliumNetworkPolicies let the hub (KubeSpawner) and the secret
  bootstrap Job reach the ``kube-apiserver`` entity, which ``ipBlock`` rules do not match
  on Cilium; without them the hub cannot spawn a server.
- ``api_server_cidrs``: the control plane's addresses, so the ``ipBlock`` rule other CNIs
  use is narrow too.
- ``IngressController.traefik()``: the proxy admits only Traefik's pods; Traefik passes
  websockets through, and its entry point's ``readTimeout`` (60 s) must be raised in its
  static configuration for large uploads.
- ``user_internet_access=False`` with one profile that opts in, and a Trino binding that
  selects the coordinator pods only (its default).
"""

from __future__ import annotations

import os
from pathlib import Path

import cdk8s

from jupyter_constructs import (
    ClusterDns,
    Cni,
    IngressController,
    IngressOptions,
    JupyterHub,
    NetworkOptions,
    OidcAuth,
    PlatformServiceBinding,
    SecretRef,
    synthesize,
)

# Where to write: $CDK8S_OUTDIR (as `cdk8s synth` sets it), else dist-examples/<name>/.
OUTDIR = os.environ.get("CDK8S_OUTDIR") or (
    Path(__file__).parent.parent / "dist-examples" / Path(__file__).stem
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
        ingress=IngressOptions(controller=IngressController.traefik()),
        network=NetworkOptions(
            dns=ClusterDns.node_local_dns(kube_dns_service_ip="10.96.0.10"),
            cni=Cni.CILIUM,
            api_server_cidrs=("172.20.0.10/32",),
            user_internet_access=False,
        ),
    )
    hub.add_profile("default", display_name="Default (1 CPU, 2 GiB)", default=True)
    hub.add_profile(
        "internet",
        display_name="With internet (1 CPU, 2 GiB)",
        description="pip install and public datasets; private networks stay closed.",
        internet_access=True,
    )
    hub.add_binding(
        PlatformServiceBinding.trino(
            chart, "trino", host="trino.data-platform", catalog="iceberg", user="{username}"
        )
    )


if __name__ == "__main__":
    print(synthesize(build, outdir=OUTDIR))

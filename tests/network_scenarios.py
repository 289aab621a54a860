"""The apps whose reachability matrices the tests assert, and their rows and columns.

- ``reference``: the reference platform (``main.py``): kube-dns/CoreDNS, ingress-nginx,
  every profile with internet access, seven bindings with their default pod labels,
  the tunnel and observability.
- ``custom``: a non-default setup: NodeLocal DNSCache, Traefik, no internet by default
  (one profile opts in), API server narrowed to its IPv4 and IPv6 addresses, a Trino
  binding opened namespace-wide on purpose and a PostgreSQL binding for one profile.
- ``dns_*``: one small hub per DNS preset, to show what each preset opens on 53 (and
  what it keeps closed, the metadata API first).

Both judges (our evaluator and network-config-analyzer) are run on each.
"""

from __future__ import annotations

from typing import Any

from jupyter_constructs import (
    ClusterDns,
    IngressController,
    IngressOptions,
    NetworkOptions,
    PlatformServiceBinding,
    SecretRef,
)
from jupyter_constructs.addons.tunnel import CloudflareTunnel
from tests.helpers import make_hub, synth
from tests.network_matrix import NS, Scenario, add_cluster, add_hub, columns

KUBE_DNS_SERVICE_IP = "10.96.0.10"

# -- the reference platform -------------------------------------------------------------

REFERENCE_ROWS = [
    "hub",
    "culler",
    "proxy",
    "user-a",
    "user-a2",
    "user-b",
    "bootstrap",
    "puller",
    "cloudflared",
    "ingress-nginx",
    "ingress-other",
    "prometheus",
    "internet",
]
REFERENCE_COLUMNS = columns(
    "hub:8081 proxy:8000 proxy:8001 proxy:8002 user-a:8888 user-a2:8888 user-b:8888 "
    "cloudflared:2000 kube-dns:53/udp kube-dns:53 kube-other:53/udp prometheus:9090 "
    "ingress-nginx:80 trino:8080 trino-worker:8080 admin-db:5432 admin-db:8080 "
    "ray-head:10001 ray-worker:10001 api-server:6443 api-server:443 api-server-v6:443 "
    "metadata:80 metadata-v6:80 private-host:5432 private-host:443 internet:443 "
    "internet:80 internet:7844 internet:7844/udp internet-v6:443"
)


def reference(objects: list[dict[str, Any]]) -> Scenario:
    """The reference platform's namespace (``objects``: every object of ``dist/``)."""
    ours = [o for o in objects if o["metadata"].get("namespace") in (NS, None)]
    scenario = Scenario("reference", ours)
    add_hub(
        scenario,
        # Two servers of profile small, one of gpu (the profile with Ray).
        users=[
            ("user-a", "small", "alice@example.com"),
            ("user-a2", "small", "bob@example.com"),
            ("user-b", "gpu", "carol@example.com"),
        ],
        tunnel=True,
    )
    add_cluster(scenario)
    return scenario


# -- a non-default setup ----------------------------------------------------------------

CUSTOM_ROWS = [
    "hub",
    "culler",
    "proxy",
    "user-small",
    "user-open",
    "bootstrap",
    "traefik",
    "ingress-nginx",
    "internet",
]
CUSTOM_COLUMNS = columns(
    "hub:8081 proxy:8000 user-small:8888 kube-dns:53/udp node-local-dns:53/udp "
    "node-local:53/udp node-local:53 kube-dns-svc:53/udp kube-other:53/udp trino:8080 "
    "trino-worker:8080 admin-db:8080 admin-db:5432 postgres:5432 api-server:6443 "
    "api-server-v6:443 private-host:443 metadata:80 internet:443 internet-v6:443"
)


def custom() -> Scenario:
    """NodeLocal DNSCache, Traefik, internet only where asked, a namespace-wide binding."""
    chart, hub = make_hub(
        with_profile=False,
        network=NetworkOptions(
            dns=ClusterDns.node_local_dns(kube_dns_service_ip=KUBE_DNS_SERVICE_IP),
            api_server_cidrs=("172.20.0.10/32", "fd00:10:96::1/128"),
            user_internet_access=False,
        ),
        ingress=IngressOptions(controller=IngressController.traefik()),
    )
    hub.add_profile("small", display_name="Small", default=True)
    opened = hub.add_profile("open", display_name="Open", internet_access=True)
    hub.add_binding(
        PlatformServiceBinding.trino(
            chart,
            "trino",
            host="trino.data-platform",
            catalog="iceberg",
            user="{unescaped_username}",
            # Asked for explicitly: every pod of data-platform on 8080.
            namespace_wide=True,
        )
    )
    opened.add_binding(
        PlatformServiceBinding.postgres(
            chart,
            "postgres",
            host="postgres.data-platform",
            database="analytics",
            user="jupyter",
            password=SecretRef("postgres-jupyter", "password"),
        )
    )
    scenario = Scenario("custom", synth(chart))
    add_hub(
        scenario,
        users=[
            ("user-small", "small", "alice@example.com"),
            ("user-open", "open", "bob@example.com"),
        ],
        puller=False,
    )
    add_cluster(scenario)
    return scenario


# -- one hub per DNS preset ---------------------------------------------------------------

DNS_ROWS = ["hub", "proxy", "user", "cloudflared", "bootstrap"]
DNS_COLUMNS = columns(
    "kube-dns:53/udp kube-dns:53 node-local-dns:53/udp kube-other:53/udp node-local:53/udp "
    "node-local:53 node-local:80 kube-dns-svc:53/udp kube-dns-svc:53 metadata:53/udp "
    "metadata:53 metadata:80 internet:53/udp"
)
DNS_PRESETS = {
    "kube_dns": ClusterDns.kube_dns(),
    "node_local_dns": ClusterDns.node_local_dns(kube_dns_service_ip=KUBE_DNS_SERVICE_IP),
    "gke_cloud_dns": ClusterDns.gke_cloud_dns(),
}


def dns(preset: str) -> Scenario:
    """A small hub with a tunnel (cloudflared resolves names too) on DNS ``preset``."""
    chart, hub = make_hub(network=NetworkOptions(dns=DNS_PRESETS[preset]))
    CloudflareTunnel(
        chart, "tunnel", hub=hub, tunnel_token=SecretRef("cloudflared", "token"), exclusive=False
    )
    scenario = Scenario(f"dns-{preset}", synth(chart))
    add_hub(scenario, users=[("user", "small", "alice@example.com")], tunnel=True, puller=False)
    add_cluster(scenario)
    return scenario

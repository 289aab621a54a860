"""NetworkPolicies: who can reach whom, in the reference platform and other setups.

The endpoints are built from the real objects: pod labels and container ports of the
synthesized pod templates, and the user pods the real KubeSpawner renders from the
generated hub config (``tests/network_matrix.py``). ``tests/netpol.py`` evaluates every
NetworkPolicy in the output (ours, the observability and tunnel ones, and the bindings');
``tests/core/test_network_analyzer.py`` has network-config-analyzer judge the same cells.

Cases replayed from public reports: GKE Cloud DNS and NodeLocal DNSCache resolvers that
no pod selector matches (tektoncd/operator#4000, restatedev/restate-operator#88, z2jh PR
#3179); z2jh's culler reaching the hub over localhost; bindings that opened whole
namespaces (issue 12).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from jupyter_constructs import (
    ClusterDns,
    Cni,
    HubDatabase,
    IngressController,
    IngressOptions,
    NetworkOptions,
    PlatformServiceBinding,
    SecretRef,
)
from jupyter_constructs.core.errors import ConfigurationError
from jupyter_constructs.hub.network import (
    PRIVATE_IPV4_RANGES,
    pods_in_namespace,
    tcp,
)
from tests.crd_schemas import validate_custom_resource
from tests.helpers import find, load_manifests, make_hub, synth
from tests.netpol import Evaluator, address, loopback, pod
from tests.network_matrix import (
    NS,
    Scenario,
    culler_url,
    hub_service,
    hub_settings,
    markdown_matrix,
)
from tests.network_scenarios import (
    CUSTOM_COLUMNS,
    CUSTOM_ROWS,
    DNS_COLUMNS,
    DNS_PRESETS,
    DNS_ROWS,
    REFERENCE_COLUMNS,
    REFERENCE_ROWS,
    custom,
    dns,
    reference,
)

ROOT = Path(__file__).resolve().parents[2]

# Y: allowed, .: denied, -: not judged (outside the cluster to outside it; for the culler,
# connections it never makes). Pods outside the hub's namespace (ingress-nginx, prometheus,
# kube-dns, trino, ray...) have no policy, so only the receiving side limits what they send.
# The culler row is the idle culler inside the hub pod, reaching the hub the way its
# rendered command says (--url=http://localhost:8081/hub/api: the pod's own loopback).
#
# Columns (REFERENCE_COLUMNS): hub 8081 | proxy 8000 8001 8002 | user-a user-a2 user-b 8888 |
# cloudflared 2000 | kube-dns 53/udp 53 | kube-other 53/udp | prometheus 9090 |
# ingress-nginx 80 | trino 8080 | trino-worker 8080 | admin-db 5432 8080 | ray-head 10001 |
# ray-worker 10001 | api-server 6443 443 | api-server-v6 443 | metadata 80 | metadata-v6 80 |
# private-host 5432 443 | internet 443 80 7844 7844/udp | internet-v6 443
REFERENCE: dict[str, str] = {
    "hub":           ". . Y . Y Y Y . Y Y . . . . . . . . . Y Y Y . . . Y Y . . . Y",
    "culler":        "Y - - - - - - - - - - - - - - - - - - - - - - - - - - - - - -",
    "proxy":         "Y . . . Y Y Y . Y Y . . . . . . . . . . . . . . . . . . . . .",
    "user-a":        "Y Y . . . . . . Y Y . . . Y . . . . . . . . . . . . Y Y Y Y Y",
    "user-a2":       "Y Y . . . . . . Y Y . . . Y . . . . . . . . . . . . Y Y Y Y Y",
    "user-b":        "Y Y . . . . . . Y Y . . . Y . . . Y . . . . . . . . Y Y Y Y Y",
    "bootstrap":     ". . . . . . . . . . . . . . . . . . . Y Y Y . . . Y Y . . . Y",
    "puller":        ". . . . . . . . . . . . . . . . . . . . . . . . . . . . . . .",
    "cloudflared":   ". Y . . . . . . Y Y . . . . . . . . . . . . . . . . Y . Y Y Y",
    "ingress-nginx": ". Y . . . . . . Y Y Y Y Y Y Y Y Y Y Y Y Y Y Y Y Y Y Y Y Y Y Y",
    "ingress-other": ". . . . . . . . Y Y Y Y Y Y Y Y Y Y Y Y Y Y Y Y Y Y Y Y Y Y Y",
    "prometheus":    "Y . . Y . . . . Y Y Y Y Y Y Y Y Y Y Y Y Y Y Y Y Y Y Y Y Y Y Y",
    "internet":      ". . . . . . . . Y Y Y Y Y Y Y Y Y Y Y - - - - - - - - - - - -",
}  # fmt: skip

# NodeLocal DNSCache, Traefik, no internet by default ("open" opts in), API server narrowed,
# Trino bound namespace-wide on purpose, PostgreSQL bound to "open" only.
# Columns (CUSTOM_COLUMNS): hub 8081 | proxy 8000 | user-small 8888 | kube-dns 53/udp |
# node-local-dns 53/udp | node-local 53/udp 53 | kube-dns-svc 53/udp | kube-other 53/udp |
# trino 8080 | trino-worker 8080 | admin-db 8080 5432 | postgres 5432 | api-server 6443 |
# api-server-v6 443 | private-host 443 | metadata 80 | internet 443 | internet-v6 443
CUSTOM: dict[str, str] = {
    "hub":           ". . Y Y Y Y Y Y . . . . . . Y Y . . Y Y",
    "culler":        "Y - - - - - - - - - - - - - - - - - - -",
    "proxy":         "Y . Y Y Y Y Y Y . . . . . . . . . . . .",
    "user-small":    "Y Y . Y Y Y Y Y . Y Y Y . . . . . . . .",
    "user-open":     "Y Y . Y Y Y Y Y . Y Y Y . Y . . . . Y Y",
    "bootstrap":     ". . . . . . . . . . . . . . Y Y . . . .",
    "traefik":       ". Y . Y Y Y Y Y Y Y Y Y Y Y Y Y Y Y Y Y",
    "ingress-nginx": ". . . Y Y Y Y Y Y Y Y Y Y Y Y Y Y Y Y Y",
    "internet":      ". . . Y Y - - - Y Y Y Y Y Y - - - - - -",
}  # fmt: skip

# DNS under each preset. Columns (DNS_COLUMNS): kube-dns pod 53/udp 53 | node-local-dns pod
# 53/udp | kube-other 53/udp | node-local (169.254.20.10) 53/udp 53 80 | kube-dns-svc
# (10.96.0.10) 53/udp 53 | metadata (169.254.169.254) 53/udp 53 80 | internet (8.8.8.8) 53/udp
DNS: dict[str, dict[str, str]] = {
    "kube_dns": {
        "hub":         "Y Y . . . . . . . . . . .",
        "proxy":       "Y Y . . . . . . . . . . .",
        "user":        "Y Y . . . . . . . . . . Y",
        "cloudflared": "Y Y . . . . . . . . . . .",
        "bootstrap":   ". . . . . . . . . . . . .",
    },
    "node_local_dns": {
        "hub":         "Y Y Y . Y Y . Y Y . . . .",
        "proxy":       "Y Y Y . Y Y . Y Y . . . .",
        "user":        "Y Y Y . Y Y . Y Y . . . Y",
        "cloudflared": "Y Y Y . Y Y . Y Y . . . .",
        "bootstrap":   ". . . . . . . . . . . . .",
    },
    "gke_cloud_dns": {
        "hub":         ". . . . . . . . . Y Y . .",
        "proxy":       ". . . . . . . . . Y Y . .",
        "user":        ". . . . . . . . . Y Y . Y",
        "cloudflared": ". . . . . . . . . Y Y . .",
        "bootstrap":   ". . . . . . . . . . . . .",
    },
}  # fmt: skip


@pytest.fixture(scope="module")
def reference_scenario(reference_manifests: list[dict[str, Any]]) -> Scenario:
    return reference(reference_manifests)


def test_reachability_matrix_of_the_reference_platform(reference_scenario: Scenario) -> None:
    assert reference_scenario.matrix(REFERENCE_ROWS, REFERENCE_COLUMNS) == REFERENCE


def test_the_matrix_holds_for_a_profile_with_extra_labels() -> None:
    """Labels added to user pods (per profile, and through ``extra_overrides``, the usual
    way to add cost labels) merge with the library's: a pod of such a profile stands
    exactly where a pod of the plain default profile stands, in every row and column."""
    import cdk8s

    import main

    chart = cdk8s.Chart(
        cdk8s.Testing.app(), "prod", namespace=NS, disable_resource_name_hashes=True
    )
    hub = main.build_platform(chart, domain="jupyter.254carbon.com")
    hub.add_profile(
        "labelled",
        display_name="Labelled",
        extra_labels={"example.com/cost-center": "ml"},
        extra_overrides={"extra_labels": {"cost-center": "ml"}},
    )
    scenario = reference(synth(chart))
    scenario.add_user("user-a", "10.244.1.20", "labelled", "dave@example.com")
    labels = scenario.endpoints["user-a"].labels
    assert labels["cost-center"] == "ml" and labels["example.com/cost-center"] == "ml"
    assert labels["jupyter-constructs.io/profile"] == "labelled"
    assert scenario.matrix(REFERENCE_ROWS, REFERENCE_COLUMNS) == REFERENCE


def test_the_headline_rules(reference_scenario: Scenario) -> None:
    """The issue's named cases, spelled out (they are also cells of the matrix)."""
    s = reference_scenario
    evaluator, eps = s.evaluator, s.endpoints
    assert not evaluator.allows(eps["user-a"], eps["user-a2"], 8888)
    assert not evaluator.allows(eps["user-b"], eps["user-a"], 8888)
    for user in ("user-a", "user-b"):
        for port in (80, 443):
            assert not evaluator.allows(eps[user], eps["metadata"], port)
        # pip install works, as the quickstart says (IPv4 and IPv6).
        assert evaluator.allows(eps[user], eps["internet"], 443)
        assert evaluator.allows(eps[user], eps["internet-v6"], 443)
        # A binding opens its service's pods, not their namespace: the admin database
        # beside them listens on the bound ports and stays closed.
        assert evaluator.allows(eps[user], eps["trino"], 8080)
        for port in (5432, 8080, 9000, 9092):
            assert not evaluator.allows(eps[user], eps["admin-db"], port), port
        assert not evaluator.allows(eps[user], eps["trino-worker"], 8080)
        assert not evaluator.allows(eps[user], eps["ray-worker"], 10001)
    assert evaluator.allows(eps["user-a"], eps["postgres"], 5432)
    assert evaluator.allows(eps["hub"], eps["user-a"], 8888)
    # Ray only for gpu/large.
    assert not evaluator.allows(eps["user-a"], eps["ray-head"], 10001)
    assert evaluator.allows(eps["user-b"], eps["ray-head"], 10001)
    # The ingress controller is its namespace AND its pods.
    assert evaluator.allows(eps["ingress-nginx"], eps["proxy"], 8000)
    assert not evaluator.allows(eps["ingress-other"], eps["proxy"], 8000)


def test_every_pod_of_the_namespace_is_isolated_both_ways(reference_scenario: Scenario) -> None:
    evaluator = reference_scenario.evaluator
    ours = [e for e in reference_scenario.endpoints.values() if e.namespace == NS]
    assert len(ours) == 8
    for endpoint in ours:
        assert evaluator._selecting(endpoint, "Ingress"), endpoint.name
        assert evaluator._selecting(endpoint, "Egress"), endpoint.name


def test_the_culler_reaches_the_hub_over_the_pods_loopback(reference_manifests: Any) -> None:
    """z2jh runs its culler with ``--url=http://localhost:8081<base_url>hub/api``: a
    hub-managed service is a process of the hub pod. Through the ``hub`` Service (the
    hub's ``hub_connect_url``, which the culler inherits otherwise) the same request is
    hairpin traffic, which these default-deny policies drop on iptables-based CNIs: the
    culler silently stopped culling (issue 12)."""
    objects = [o for o in reference_manifests if o["metadata"].get("namespace") in (NS, None)]
    traits = hub_settings(objects)["traits"]["JupyterHub"]
    url = culler_url(objects)
    assert url == f"http://localhost:8081{traits['base_url']}hub/api"
    # Whatever reads JUPYTERHUB_API_URL instead of --url gets the same loopback URL.
    assert hub_service(objects, "idle-culler")["environment"] == {"JUPYTERHUB_API_URL": url}

    scenario = reference(reference_manifests)
    hub = scenario.endpoints["hub"]
    evaluator = scenario.evaluator
    assert scenario.route(hub, url) == loopback("localhost")
    assert evaluator.allows(hub, scenario.route(hub, url), 8081)
    # The culler needs nothing else: no DNS for "localhost" (/etc/hosts), no other peer.
    assert set(scenario.processes["culler"].urls) == {"hub"}
    # Counterfactual: the Service URL resolves to the hub pod itself, and is denied.
    through_service = scenario.route(hub, traits["hub_connect_url"] + "/hub/api")
    assert through_service is scenario.endpoints["hub"]
    assert not evaluator.allows(hub, through_service, 8081)


def test_reference_platform_policies(reference_manifests: list[dict[str, Any]]) -> None:
    names = sorted(
        o["metadata"]["name"] for o in reference_manifests if o["kind"] == "NetworkPolicy"
    )
    assert names == [
        "default-deny",
        "hub",
        "image-puller",
        "prod-datahub-egress",
        "prod-kafka-egress",
        "prod-minio-egress",
        "prod-mlflow-egress",
        "prod-observability-allow-prometheus-hub",
        "prod-observability-allow-prometheus-proxy",
        "prod-postgres-egress",
        "prod-ray-egress",
        "prod-trino-egress",
        "prod-tunnel-allow-to-proxy",
        "prod-tunnel-network-policy",
        "proxy",
        "secret-bootstrap",
        "singleuser-internet",
        "singleuser-server",
    ]
    # The reference platform assumes a CNI that matches the API server with ipBlock.
    assert not [o for o in reference_manifests if o["kind"] == "CiliumNetworkPolicy"]
    deny = find(reference_manifests, "NetworkPolicy", "default-deny")
    assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    internet = find(reference_manifests, "NetworkPolicy", "singleuser-internet")["spec"]
    assert internet["podSelector"]["matchExpressions"] == [
        {
            "key": "jupyter-constructs.io/profile",
            "operator": "In",
            "values": ["small", "medium", "large", "gpu"],
        }
    ]
    assert internet["egress"][0]["to"][0]["ipBlock"] == {
        "cidr": "0.0.0.0/0",
        "except": list(PRIVATE_IPV4_RANGES),
    }
    assert "ports" not in internet["egress"][0]
    # ArgoCD applies them before any workload (wave -2), as dist/ says.
    committed = load_manifests(ROOT / "dist")
    waves = {
        o["metadata"]["name"]: o["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]
        for o in committed
        if o["kind"] == "NetworkPolicy"
    }
    assert sorted(waves) == names
    assert set(waves.values()) == {"-2"}


def test_reachability_matrix_of_a_non_default_setup() -> None:
    assert custom().matrix(CUSTOM_ROWS, CUSTOM_COLUMNS) == CUSTOM


@pytest.mark.parametrize("preset", sorted(DNS_PRESETS))
def test_dns_under_each_preset(preset: str) -> None:
    """Each pod that resolves names reaches exactly its preset's resolvers on 53: GKE's
    Cloud DNS at the metadata address (its API on 80 stays closed), NodeLocal DNSCache at
    169.254.20.10 and the kube-dns ClusterIP (tektoncd/operator#4000: a pod selector alone
    left every pod without DNS there)."""
    assert dns(preset).matrix(DNS_ROWS, DNS_COLUMNS) == DNS[preset]


# --- options --------------------------------------------------------------------------

HUB = pod(
    "hub",
    "10.244.0.10",
    NS,
    {
        "app.kubernetes.io/name": "jupyterhub",
        "app.kubernetes.io/instance": NS,
        "app.kubernetes.io/component": "hub",
    },
)
PROXY = pod(
    "proxy",
    "10.244.0.11",
    NS,
    {
        "app.kubernetes.io/name": "jupyterhub",
        "app.kubernetes.io/instance": NS,
        "app.kubernetes.io/component": "proxy",
    },
)
USER_LABELS = {
    "app.kubernetes.io/name": "jupyterhub",
    "app.kubernetes.io/instance": NS,
    "app.kubernetes.io/component": "singleuser-server",
}
API_SERVER = address("api-server", "172.20.0.10")
API_SERVER_V6 = address("api-server-v6", "fd00:10:96::1")
PRIVATE_HOST = address("private-host", "10.0.0.5")
PUBLIC = address("internet", "8.8.8.8")


def user(profile: str, ip: str = "10.244.1.1") -> Any:
    return pod(profile, ip, NS, {**USER_LABELS, "jupyter-constructs.io/profile": profile})


def _evaluator(**hub_options: Any) -> tuple[Evaluator, list[dict[str, Any]]]:
    chart, _ = make_hub(**hub_options)
    objects = synth(chart)
    return Evaluator.from_objects(objects), objects


def test_narrowed_api_server_cidrs_close_the_wide_default() -> None:
    wide, _ = _evaluator()
    narrow, _ = _evaluator(network=NetworkOptions(api_server_cidrs=("172.20.0.10/32",)))
    for port in (443, 6443):
        assert wide.allows(HUB, API_SERVER, port) and narrow.allows(HUB, API_SERVER, port)
    # The wide default covers IPv6 too (dual-stack control planes); the narrowed one
    # exactly what it lists.
    assert wide.allows(HUB, API_SERVER_V6, 443)
    assert not narrow.allows(HUB, API_SERVER_V6, 443)
    assert wide.allows(HUB, PRIVATE_HOST, 443)
    assert not narrow.allows(HUB, PRIVATE_HOST, 443)
    # The identity provider is still reachable over HTTPS, on public addresses only.
    assert narrow.allows(HUB, PUBLIC, 443)
    assert not narrow.allows(HUB, PUBLIC, 6443)
    ipv4_only, _ = _evaluator(network=NetworkOptions(ipv6=False))
    assert ipv4_only.allows(HUB, API_SERVER, 443)
    assert not ipv4_only.allows(HUB, API_SERVER_V6, 443)


def test_postgres_database_opens_its_port_from_the_hub_only() -> None:
    database = HubDatabase.postgres(
        host="pg.db.svc",
        database="hub",
        user="hub",
        password=SecretRef("db", "password"),
        port=5433,
    )
    evaluator, _ = _evaluator(
        database=database, network=NetworkOptions(database_cidrs=("10.0.0.0/24",))
    )
    assert evaluator.allows(HUB, PRIVATE_HOST, 5433)
    assert not evaluator.allows(HUB, PRIVATE_HOST, 5432)
    assert not evaluator.allows(HUB, address("elsewhere", "10.0.1.5"), 5433)
    sqlite, _ = _evaluator(network=NetworkOptions(database_cidrs=("10.0.0.0/24",)))
    assert not sqlite.allows(HUB, PRIVATE_HOST, 5433)


ALB_IDLE_TIMEOUT = "idle_timeout.timeout_seconds=3600"


def test_ingress_controller_is_its_namespace_and_its_pods() -> None:
    traefik = pod("traefik", "10.244.3.3", "traefik", {"app.kubernetes.io/name": "traefik"})
    other = pod("other", "10.244.3.4", "traefik", {"app": "other"})
    nginx = pod(
        "nginx",
        "10.244.3.5",
        "ingress-nginx",
        {"app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/component": "controller"},
    )
    webhook = pod(
        "webhook",
        "10.244.3.6",
        "ingress-nginx",
        {"app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/component": "admission"},
    )
    evaluator, objects = _evaluator(ingress=IngressOptions(controller=IngressController.traefik()))
    assert evaluator.allows(traefik, PROXY, 8000)
    assert not evaluator.allows(traefik, PROXY, 8001)
    assert not evaluator.allows(other, PROXY, 8000)
    assert not evaluator.allows(nginx, PROXY, 8000)
    ingress = find(objects, "Ingress", "jupyterhub")
    assert ingress["spec"]["ingressClassName"] == "traefik"
    # No Traefik annotation changes its timeouts (its static configuration does).
    assert not any("nginx" in k for k in ingress["metadata"].get("annotations", {}))

    default, objects = _evaluator()
    assert default.allows(nginx, PROXY, 8000)
    assert not default.allows(webhook, PROXY, 8000)
    annotations = find(objects, "Ingress", "jupyterhub")["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"] == "3600"

    # A load balancer that connects from addresses (AWS ALB in IP mode).
    alb = IngressController(
        class_name="alb",
        namespace=None,
        cidrs=("10.0.0.0/16",),
        annotations={"alb.ingress.kubernetes.io/load-balancer-attributes": ALB_IDLE_TIMEOUT},
    )
    by_address, _ = _evaluator(ingress=IngressOptions(controller=alb))
    assert by_address.allows(address("alb", "10.0.3.4"), PROXY, 8000)
    assert not by_address.allows(address("elsewhere", "10.1.0.1"), PROXY, 8000)
    assert not by_address.allows(nginx, PROXY, 8000)

    no_ingress, _ = _evaluator(ingress=IngressOptions(enabled=False))
    assert not no_ingress.allows(nginx, PROXY, 8000)


def test_fails_when_the_ingress_controller_has_no_pod_labels() -> None:
    with pytest.raises(ConfigurationError) as err:
        make_hub(
            ingress=IngressOptions(
                controller=IngressController(class_name="haproxy", namespace="haproxy")
            )
        )
    assert str(err.value).startswith(
        "test/hub/Ingress: invalid IngressController.pod_labels {}. Allowed: the labels of "
        "the controller's pods (non-empty)"
    )
    with pytest.raises(ConfigurationError, match="invalid IngressController 'alb'"):
        make_hub(
            ingress=IngressOptions(controller=IngressController(class_name="alb", namespace=None))
        )


def test_network_none_renders_no_policy() -> None:
    _, objects = _evaluator(network=None)
    assert [o for o in objects if "NetworkPolicy" in o["kind"]] == []


def test_users_reach_the_internet_by_default_and_profiles_override_it() -> None:
    """z2jh allows user pods every public address by default (``nonPrivateIPs``); so do we,
    so that ``pip install`` works as the quickstart says. A profile opts out (or in)."""
    chart, hub = make_hub()
    hub.add_profile("closed", display_name="Closed", internet_access=False)
    by_default = Evaluator.from_objects(synth(chart))
    small, closed = user("small"), user("closed", "10.244.1.2")
    for port in (22, 80, 443):
        assert by_default.allows(small, PUBLIC, port)
        assert not by_default.allows(closed, PUBLIC, port)
    assert by_default.allows(small, address("v6", "2606:4700:4700::1111"), 443)
    blocked = [
        "169.254.169.254",
        "10.0.0.5",
        "172.16.3.4",
        "192.168.1.1",
        "100.64.0.1",
        "fd00:ec2::254",
        "fe80::1",
        "64:ff9b::a00:5",
    ]
    for ip in blocked:
        assert not by_default.allows(small, address(ip, ip), 80), ip
    assert not by_default.allows(small, closed, 8888)

    chart, hub = make_hub(network=NetworkOptions(user_internet_access=False))
    hub.add_profile("open", display_name="Open", internet_access=True)
    opt_in = Evaluator.from_objects(synth(chart))
    assert not opt_in.allows(user("small"), PUBLIC, 443)
    assert opt_in.allows(user("open"), PUBLIC, 443)
    names = [o["metadata"]["name"] for o in synth(chart) if o["kind"] == "NetworkPolicy"]
    assert names.count("singleuser-internet") == 1

    chart, hub = make_hub(network=NetworkOptions(user_internet_access=False))
    assert "singleuser-internet" not in [
        o["metadata"]["name"] for o in synth(chart) if o["kind"] == "NetworkPolicy"
    ]


def test_allow_user_egress_adds_one_policy_for_all_or_one_profile() -> None:
    chart, hub = make_hub()
    gpu = hub.add_profile("gpu", display_name="GPU")
    assert hub.network is not None
    hub.network.allow_user_egress(
        "singleuser-to-trino", to=[pods_in_namespace("trino", {"app": "trino"})], ports=[tcp(8080)]
    )
    hub.network.allow_user_egress(
        "gpu-to-ray", to=[pods_in_namespace("ray")], ports=[tcp(10001)], profile=gpu
    )
    evaluator = Evaluator.from_objects(synth(chart))
    small, on_gpu = user("small"), user("gpu", "10.244.1.2")
    trino = pod("trino", "10.244.4.1", "trino", {"app": "trino"})
    ray = pod("ray", "10.244.4.2", "ray", {"ray.io/node-type": "head"})
    assert evaluator.allows(small, trino, 8080) and evaluator.allows(on_gpu, trino, 8080)
    assert not evaluator.allows(small, trino, 8081)
    assert evaluator.allows(on_gpu, ray, 10001)
    assert not evaluator.allows(small, ray, 10001)


def test_bindings_select_their_service_pods_unless_asked_for_the_namespace() -> None:
    """A third-party analyzer found users reaching *any* pod of ``data-platform`` on the
    bound ports (an admin database replica among them): each binding now selects its
    service's pods, and opens the namespace only when told to (issue 12)."""
    chart, hub = make_hub()
    hub.add_binding(
        PlatformServiceBinding.trino(
            chart, "trino", host="trino.data-platform", catalog="c", user="u"
        )
    )
    hub.add_binding(
        PlatformServiceBinding.mlflow(
            chart,
            "mlflow",
            host="mlflow.data-platform",
            service_pod_labels={"app": "tracking"},
        )
    )
    hub.add_binding(
        PlatformServiceBinding.ray(chart, "ray", host="ray-head.data-platform", namespace_wide=True)
    )
    evaluator = Evaluator.from_objects(synth(chart))
    small = user("small")
    coordinator = pod(
        "coordinator",
        "10.244.5.1",
        "data-platform",
        {"app.kubernetes.io/name": "trino", "app.kubernetes.io/component": "coordinator"},
    )
    tracking = pod("tracking", "10.244.5.2", "data-platform", {"app": "tracking"})
    decoy = pod("decoy", "10.244.5.9", "data-platform", {"app": "admin-db"})
    assert evaluator.allows(small, coordinator, 8080)
    assert evaluator.allows(small, tracking, 5000)
    assert not evaluator.allows(small, decoy, 8080)
    assert not evaluator.allows(small, decoy, 5000)
    assert not evaluator.allows(small, coordinator, 5000)
    # Ray was opened namespace-wide, on its port only.
    assert evaluator.allows(small, decoy, 10001)
    assert not evaluator.allows(small, decoy, 10002)


def test_cilium_reaches_the_api_server_entity() -> None:
    """On Cilium the API server is the ``kube-apiserver`` entity, which an ``ipBlock``
    does not match with its defaults: without this the hub cannot spawn and the
    bootstrap Job cannot write the hub's secrets (cilium/cilium#20550)."""
    chart, _ = make_hub(network=NetworkOptions(cni=Cni.CILIUM))
    objects = synth(chart)
    cilium = {o["metadata"]["name"]: o for o in objects if o["kind"] == "CiliumNetworkPolicy"}
    assert sorted(cilium) == ["hub-api-server", "secret-bootstrap-api-server"]
    for name, component in (
        ("hub-api-server", "hub"),
        ("secret-bootstrap-api-server", "secret-bootstrap"),
    ):
        policy = cilium[name]
        validate_custom_resource(policy)
        assert policy["apiVersion"] == "cilium.io/v2"
        spec = policy["spec"]
        assert spec["endpointSelector"]["matchLabels"]["app.kubernetes.io/component"] == component
        assert spec["egress"] == [
            {
                "toEntities": ["kube-apiserver"],
                "toPorts": [
                    {
                        "ports": [
                            {"port": "443", "protocol": "TCP"},
                            {"port": "6443", "protocol": "TCP"},
                        ]
                    }
                ],
            }
        ]
        # Applied with the NetworkPolicies, before the bootstrap Job (wave -1).
        assert policy["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"] == "-2"
    # The standard policies are unchanged: the ipBlock rule stays for other CNIs' sake.
    standard = Evaluator.from_objects(objects)
    assert standard.allows(HUB, API_SERVER, 443)
    no_bootstrap, _ = make_hub(network=NetworkOptions(cni=Cni.CILIUM), existing_secret="mine")
    assert [
        o["metadata"]["name"] for o in synth(no_bootstrap) if o["kind"] == "CiliumNetworkPolicy"
    ] == ["hub-api-server"]


def test_fails_when_a_cidr_has_host_bits_set() -> None:
    with pytest.raises(ConfigurationError) as err:
        make_hub(network=NetworkOptions(api_server_cidrs=("172.20.0.10/24",)))
    assert str(err.value) == (
        "test/hub/NetworkPolicies: invalid api_server_cidrs '172.20.0.10/24'. Allowed: a "
        "CIDR with its host bits zero, such as '10.0.0.0/16' or '172.20.0.10/32'. Fix: "
        "write the network address and prefix length"
    )


def test_fails_when_cidrs_is_a_string() -> None:
    with pytest.raises(ConfigurationError, match=r"invalid database_cidrs '10\.0\.0\.0/8'"):
        make_hub(network=NetworkOptions(database_cidrs="10.0.0.0/8"))


@pytest.mark.parametrize(
    ("dns_options", "message"),
    [
        (
            ClusterDns(pod_labels=(), cidrs=()),
            "invalid ClusterDns 'no resolver'. Allowed: resolver pods (pod_labels) or "
            "addresses (cidrs). Fix: use a preset: ClusterDns.kube_dns(), "
            "ClusterDns.node_local_dns(...) or ClusterDns.gke_cloud_dns()",
        ),
        (
            ClusterDns(pod_labels=({},)),
            "invalid ClusterDns.pod_labels {}. Allowed: non-empty Kubernetes labels",
        ),
        (
            ClusterDns(namespace="Kube_System"),
            "invalid ClusterDns.namespace 'Kube_System'",
        ),
        (
            ClusterDns(cidrs=("169.254.20.10",)),
            "invalid ClusterDns.cidrs '169.254.20.10'",
        ),
    ],
)
def test_fails_on_a_dns_setting_without_a_resolver(dns_options: ClusterDns, message: str) -> None:
    with pytest.raises(ConfigurationError) as err:
        make_hub(network=NetworkOptions(dns=dns_options))
    assert str(err.value).startswith(f"test/hub/NetworkPolicies: {message}")


def test_node_local_dns_needs_the_kube_dns_service_address() -> None:
    with pytest.raises(ConfigurationError) as err:
        ClusterDns.node_local_dns(kube_dns_service_ip="10.96.0.10/32")
    assert str(err.value).startswith(
        "ClusterDns.node_local_dns: invalid kube_dns_service_ip '10.96.0.10/32'. Allowed: an "
        "IPv4 or IPv6 address, without a prefix length"
    )
    assert ClusterDns.node_local_dns(kube_dns_service_ip="fd00:10:96::a").cidrs == (
        "169.254.20.10/32",
        "fd00:10:96::a/128",
    )


def test_fails_when_a_policy_name_is_used_twice() -> None:
    _, hub = make_hub()
    assert hub.network is not None
    with pytest.raises(ConfigurationError, match="invalid NetworkPolicy name 'hub'"):
        hub.network.allow_user_egress("hub", to=[pods_in_namespace("x")], ports=[tcp(1)])


def test_fails_when_user_egress_has_no_port() -> None:
    _, hub = make_hub()
    assert hub.network is not None
    with pytest.raises(ConfigurationError, match="invalid ports"):
        hub.network.allow_user_egress("anything", to=[pods_in_namespace("x")], ports=[])


def test_docs_and_defaults_agree_on_internet_access(reference_manifests: Any) -> None:
    """The quickstart tells users ``pip install`` works on every profile; security.md says
    that is the hub-wide default. Both must stay true of what is rendered."""
    quickstart = (ROOT / "docs" / "QUICKSTART.md").read_text(encoding="utf-8")
    assert "Every profile reaches the internet: `pip install --user" in quickstart
    assert NetworkOptions().user_internet_access is True
    security = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    assert (
        "**Users reach the internet by default**: `NetworkOptions(user_internet_access=True)`"
        in (security)
    )
    objects = [o for o in reference_manifests if o["metadata"].get("namespace") in (NS, None)]
    slugs = [p["slug"] for p in hub_settings(objects)["traits"]["KubeSpawner"]["profile_list"]]
    internet = find(objects, "NetworkPolicy", "singleuser-internet")["spec"]["podSelector"]
    assert internet["matchExpressions"][0]["values"] == slugs


def test_docs_show_the_tested_matrices() -> None:
    text = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    assert markdown_matrix(REFERENCE, REFERENCE_COLUMNS) in text
    assert markdown_matrix(CUSTOM, CUSTOM_COLUMNS) in text


# --- the evaluator itself, on tiny hand-made policies ----------------------------------


def _policy(spec: dict[str, Any], namespace: str = "a") -> dict[str, Any]:
    return {
        "kind": "NetworkPolicy",
        "metadata": {"name": "p", "namespace": namespace},
        "spec": spec,
    }


WEB = pod("web", "10.1.0.1", "a", {"app": "web"}, {"http": (8080, "TCP")})
DB = pod("db", "10.1.0.2", "a", {"app": "db"}, {"pg": (5432, "TCP")})
OTHER_NS = pod("client", "10.2.0.1", "b", {"app": "web"})


def test_evaluator_without_policies_allows_everything() -> None:
    assert Evaluator([]).allows(WEB, DB, 5432)
    assert Evaluator([]).allows(OTHER_NS, PUBLIC, 1)


def test_evaluator_isolates_only_selected_pods_in_their_namespace() -> None:
    deny_db = _policy({"podSelector": {"matchLabels": {"app": "db"}}, "policyTypes": ["Ingress"]})
    evaluator = Evaluator([deny_db])
    assert not evaluator.allows(WEB, DB, 5432)
    assert evaluator.allows(DB, WEB, 8080)  # ingress isolation does not limit egress
    elsewhere = Evaluator([_policy(deny_db["spec"], namespace="b")])
    assert elsewhere.allows(WEB, DB, 5432)


def test_evaluator_policy_types_default_from_the_sections() -> None:
    egress_only = _policy({"podSelector": {}, "egress": []})
    assert not Evaluator([egress_only]).allows(WEB, DB, 5432)  # egress isolated by default
    ingress_only = _policy({"podSelector": {}})
    assert not Evaluator([ingress_only]).allows(OTHER_NS, WEB, 8080)
    assert Evaluator([ingress_only]).allows(WEB, PUBLIC, 443)


def test_evaluator_needs_both_egress_and_ingress() -> None:
    out = _policy(
        {
            "podSelector": {"matchLabels": {"app": "web"}},
            "policyTypes": ["Egress"],
            "egress": [{"to": [{"podSelector": {"matchLabels": {"app": "db"}}}]}],
        }
    )
    closed_in = _policy({"podSelector": {"matchLabels": {"app": "db"}}, "policyTypes": ["Ingress"]})
    assert Evaluator([out]).allows(WEB, DB, 5432)
    assert not Evaluator([out, closed_in]).allows(WEB, DB, 5432)
    assert not Evaluator([out]).allows(WEB, PUBLIC, 443)


def test_evaluator_pod_and_namespace_selectors() -> None:
    def rule(peer: dict[str, Any]) -> Evaluator:
        return Evaluator(
            [
                _policy(
                    {"podSelector": {"matchLabels": {"app": "db"}}, "ingress": [{"from": [peer]}]}
                )
            ]
        )

    same_ns_web = rule({"podSelector": {"matchLabels": {"app": "web"}}})
    assert same_ns_web.allows(WEB, DB, 5432)
    assert not same_ns_web.allows(OTHER_NS, DB, 5432)  # podSelector alone: own namespace
    ns_b = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "b"}}}
    assert rule(ns_b).allows(OTHER_NS, DB, 5432)
    assert not rule(ns_b).allows(WEB, DB, 5432)
    both = rule({**ns_b, "podSelector": {"matchLabels": {"app": "api"}}})
    assert not both.allows(OTHER_NS, DB, 5432)
    expressions = rule(
        {
            "podSelector": {
                "matchExpressions": [{"key": "app", "operator": "In", "values": ["web", "api"]}]
            }
        }
    )
    assert expressions.allows(WEB, DB, 5432)
    not_in = rule(
        {
            "podSelector": {
                "matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["web"]}]
            }
        }
    )
    assert not not_in.allows(WEB, DB, 5432)
    assert not rule({"podSelector": {}}).allows(PUBLIC, DB, 5432)  # addresses are not pods


def test_evaluator_ip_blocks_with_except() -> None:
    internet = _policy(
        {
            "podSelector": {},
            "policyTypes": ["Egress"],
            "egress": [
                {
                    "to": [
                        {
                            "ipBlock": {
                                "cidr": "0.0.0.0/0",
                                "except": ["10.0.0.0/8", "169.254.0.0/16"],
                            }
                        }
                    ]
                }
            ],
        }
    )
    evaluator = Evaluator([internet])
    assert evaluator.allows(WEB, PUBLIC, 443)
    assert not evaluator.allows(WEB, address("md", "169.254.169.254"), 80)
    assert not evaluator.allows(WEB, DB, 5432)  # pod addresses are matched by ipBlock too
    assert not evaluator.allows(WEB, address("v6", "2001:db8::1"), 443)


def test_evaluator_ports_protocols_ranges_and_names() -> None:
    def to_db(ports: list[dict[str, Any]]) -> Evaluator:
        return Evaluator(
            [
                _policy(
                    {
                        "podSelector": {"matchLabels": {"app": "web"}},
                        "policyTypes": ["Egress"],
                        "egress": [{"ports": ports}],
                    }
                )
            ]
        )

    tcp_5432 = to_db([{"port": 5432}])
    assert tcp_5432.allows(WEB, DB, 5432)
    assert not tcp_5432.allows(WEB, DB, 5432, "UDP")
    assert not tcp_5432.allows(WEB, DB, 5433)
    ranged = to_db([{"port": 5000, "endPort": 6000, "protocol": "TCP"}])
    assert ranged.allows(WEB, DB, 5432) and not ranged.allows(WEB, DB, 6001)
    named = to_db([{"port": "pg"}])
    assert named.allows(WEB, DB, 5432)
    assert not named.allows(WEB, WEB, 5432)  # "pg" is not a port of web
    assert not named.allows(WEB, PUBLIC, 5432)  # names never match addresses
    udp_only = to_db([{"protocol": "UDP"}])
    assert udp_only.allows(WEB, PUBLIC, 53, "UDP") and not udp_only.allows(WEB, PUBLIC, 53)


def test_evaluator_adds_policies_up() -> None:
    one = _policy(
        {"podSelector": {"matchLabels": {"app": "db"}}, "ingress": [{"ports": [{"port": 5432}]}]}
    )
    two = _policy(
        {"podSelector": {"matchLabels": {"app": "db"}}, "ingress": [{"ports": [{"port": 9187}]}]}
    )
    evaluator = Evaluator([one, two])
    assert evaluator.allows(WEB, DB, 5432) and evaluator.allows(WEB, DB, 9187)
    assert not evaluator.allows(WEB, DB, 22)

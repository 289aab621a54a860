"""NetworkPolicies: who can reach whom in the reference platform, and the evaluator itself.

The endpoints are built from the real objects: pod labels and container ports of the
synthesized pod templates, and the user pods the real KubeSpawner renders from the
generated hub config. ``tests/netpol.py`` evaluates every NetworkPolicy in the output
(ours, the observability and tunnel ones, and any a binding adds).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_constructs import HubDatabase, IngressOptions, NetworkOptions, SecretRef
from jupyter_constructs.core.errors import ConfigurationError
from jupyter_constructs.hub.network import (
    PRIVATE_IPV4_RANGES,
    pods_in_namespace,
    tcp,
)
from tests.helpers import find, load_manifests, make_hub, pod_spec, synth, write_config_dir
from tests.netpol import Endpoint, Evaluator, address, container_ports, pod
from tests.real_hub import load_config, mock_kubespawner, pod_manifest

NS = "jupyter"
ROOT = Path(__file__).resolve().parents[2]


def _pod_of(objects: list[dict[str, Any]], kind: str, name: str, ip: str) -> Endpoint:
    obj = find(objects, kind, name)
    labels = obj["spec"]["template"]["metadata"]["labels"]
    return pod(name, ip, NS, labels, container_ports(pod_spec(obj)))


def _user_pod(config: Any, user: str, slug: str, ip: str) -> Endpoint:
    with mock_kubespawner(config, user_name=user) as spawner:
        manifest = pod_manifest(spawner, slug)
    assert manifest["metadata"].get("namespace", NS) == NS
    return pod(
        f"{slug}:{user}", ip, NS, manifest["metadata"]["labels"], container_ports(manifest["spec"])
    )


def endpoints(objects: list[dict[str, Any]], config_dir: Path) -> dict[str, Endpoint]:
    """The matrix's endpoints, from the reference platform's objects."""
    config = load_config(
        write_config_dir(objects, config_dir),
        {"JUPYTERHUB_SERVICE_TOKEN_PROMETHEUS": "test-metrics-token"},
    )
    tunnel = next(
        o
        for o in objects
        if o["kind"] == "Deployment"
        and o["spec"]["template"]["metadata"]["labels"].get("app.kubernetes.io/name")
        == "cloudflared"
    )
    return {
        "hub": _pod_of(objects, "Deployment", "hub", "10.244.0.10"),
        "proxy": _pod_of(objects, "Deployment", "proxy", "10.244.0.11"),
        "bootstrap": _pod_of(objects, "Job", "hub-secrets-bootstrap", "10.244.0.12"),
        "puller": _pod_of(objects, "DaemonSet", "image-puller", "10.244.0.13"),
        "cloudflared": _pod_of(objects, "Deployment", tunnel["metadata"]["name"], "10.244.0.14"),
        # Profile A (small, no internet), a second server of it, profile B (gpu, internet).
        "user-a": _user_pod(config, "alice@example.com", "small", "10.244.1.20"),
        "user-a2": _user_pod(config, "bob@example.com", "small", "10.244.1.21"),
        "user-b": _user_pod(config, "carol@example.com", "gpu", "10.244.1.22"),
        "ingress-nginx": pod(
            "ingress-nginx",
            "10.244.2.5",
            "ingress-nginx",
            {
                "app.kubernetes.io/name": "ingress-nginx",
                "app.kubernetes.io/component": "controller",
            },
            {"http": (80, "TCP"), "https": (443, "TCP")},
        ),
        "prometheus": pod(
            "prometheus",
            "10.244.2.6",
            "monitoring",
            {"app.kubernetes.io/name": "prometheus", "prometheus": "kube-prometheus"},
            {"web": (9090, "TCP")},
        ),
        "kube-dns": pod(
            "kube-dns",
            "10.244.2.2",
            "kube-system",
            {"k8s-app": "kube-dns", "pod-template-hash": "5d78c9869d"},
            {"dns": (53, "UDP"), "dns-tcp": (53, "TCP"), "metrics": (9153, "TCP")},
        ),
        # Platform services that bindings open to user pods (all profiles / large and gpu).
        "trino": pod(
            "trino",
            "10.244.5.1",
            "data-platform",
            {"app.kubernetes.io/name": "trino", "app.kubernetes.io/component": "coordinator"},
            {"http": (8080, "TCP")},
        ),
        "ray-head": pod(
            "ray-head",
            "10.244.6.1",
            "ray",
            {"ray.io/node-type": "head"},
            {"client": (10001, "TCP"), "gcs": (6379, "TCP")},
        ),
        # The control plane: a private address outside the pod network.
        "api-server": address("api-server", "172.20.0.10"),
        "metadata": address("metadata", "169.254.169.254"),
        "private-host": address("private-host", "10.0.0.5"),
        "internet": address("internet", "8.8.8.8"),
    }


# Destinations: (endpoint, port, protocol).
COLUMNS: list[tuple[str, int, str]] = [
    ("hub", 8081, "TCP"),
    ("proxy", 8000, "TCP"),
    ("proxy", 8001, "TCP"),
    ("proxy", 8002, "TCP"),
    ("user-a", 8888, "TCP"),
    ("user-a2", 8888, "TCP"),
    ("user-b", 8888, "TCP"),
    ("cloudflared", 2000, "TCP"),
    ("kube-dns", 53, "UDP"),
    ("kube-dns", 53, "TCP"),
    ("prometheus", 9090, "TCP"),
    ("ingress-nginx", 80, "TCP"),
    ("trino", 8080, "TCP"),
    ("ray-head", 10001, "TCP"),
    ("api-server", 6443, "TCP"),
    ("api-server", 443, "TCP"),
    ("metadata", 80, "TCP"),
    ("private-host", 5432, "TCP"),
    ("private-host", 443, "TCP"),
    ("internet", 443, "TCP"),
    ("internet", 80, "TCP"),
    ("internet", 7844, "TCP"),
    ("internet", 7844, "UDP"),
]

# Y: allowed, .: denied, -: not judged here (from outside the cluster to outside it).
# Pods outside the hub's namespace (ingress-nginx, prometheus, kube-dns, trino, ray) have no policy,
# so what they send is limited only by the receiving side.
#
# Columns (COLUMNS, in order): hub 8081 | proxy 8000 8001 8002 | user-a user-a2 user-b 8888 |
# cloudflared 2000 | dns 53/udp 53/tcp | prometheus 9090 | ingress-nginx 80 | trino 8080 |
# ray-head 10001 | api-server 6443 443 | metadata 80 | 10.0.0.5 5432 443 | 8.8.8.8 443 80 7844
# 7844/udp
EXPECTED: dict[str, str] = {
    "hub":           ". . Y . Y Y Y . Y Y . . . . Y Y . . Y Y . . .",
    "proxy":         "Y . . . Y Y Y . Y Y . . . . . . . . . . . . .",
    "user-a":        "Y Y . . . . . . Y Y . . Y . . . . . . . . . .",
    "user-a2":       "Y Y . . . . . . Y Y . . Y . . . . . . . . . .",
    "user-b":        "Y Y . . . . . . Y Y . . Y Y . . . . . Y Y Y Y",
    "bootstrap":     ". . . . . . . . . . . . . . Y Y . . Y Y . . .",
    "puller":        ". . . . . . . . . . . . . . . . . . . . . . .",
    "cloudflared":   ". Y . . . . . . Y Y . . . . . . . . . Y . Y Y",
    "ingress-nginx": ". Y . . . . . . Y Y Y Y Y Y Y Y Y Y Y Y Y Y Y",
    "prometheus":    "Y . . Y . . . . Y Y Y Y Y Y Y Y Y Y Y Y Y Y Y",
    "internet":      ". . . . . . . . Y Y Y Y Y Y - - - - - - - - -",
}  # fmt: skip


def matrix(evaluator: Evaluator, eps: dict[str, Endpoint]) -> dict[str, str]:
    rows = {}
    for source in EXPECTED:
        cells = []
        for name, port, proto in COLUMNS:
            src, dst = eps[source], eps[name]
            if not src.is_pod and not dst.is_pod:
                cells.append("-")
            else:
                cells.append("Y" if evaluator.allows(src, dst, port, proto) else ".")
        rows[source] = cells
    return {k: " ".join(v) for k, v in rows.items()}


@pytest.fixture(scope="module")
def reference(reference_manifests: list[dict[str, Any]], tmp_path_factory: Any) -> Iterator[Any]:
    objects = [o for o in reference_manifests if o["metadata"].get("namespace") in (NS, None)]
    eps = endpoints(objects, tmp_path_factory.mktemp("hub-config"))
    yield Evaluator.from_objects(objects), eps


def test_reachability_matrix_of_the_reference_platform(reference: Any) -> None:
    evaluator, eps = reference
    assert matrix(evaluator, eps) == EXPECTED


def test_the_matrix_holds_for_a_profile_with_extra_labels(tmp_path: Path) -> None:
    """Labels added to user pods (per profile, and through ``extra_overrides``, the usual
    way to add cost labels) merge with the library's: a pod of such a profile stands
    exactly where a pod of the plain default profile stands, in every row and column."""
    import cdk8s

    import main

    chart = cdk8s.Chart(
        cdk8s.Testing.app(), "prod", namespace=NS, disable_resource_name_hashes=True
    )
    hub = main.build_platform(chart, domain="jupyter.example.com")
    hub.add_profile(
        "labelled",
        display_name="Labelled",
        extra_labels={"example.com/cost-center": "ml"},
        extra_overrides={"extra_labels": {"cost-center": "ml"}},
    )
    objects = [o for o in synth(chart) if o["metadata"].get("namespace") in (NS, None)]
    eps = endpoints(objects, tmp_path)
    config = load_config(
        write_config_dir(objects, tmp_path),
        {"JUPYTERHUB_SERVICE_TOKEN_PROMETHEUS": "test-metrics-token"},
    )
    labelled = _user_pod(config, "dave@example.com", "labelled", eps["user-a"].ip)
    assert labelled.labels["cost-center"] == "ml"
    assert labelled.labels["example.com/cost-center"] == "ml"
    assert matrix(Evaluator.from_objects(objects), {**eps, "user-a": labelled}) == EXPECTED


def test_the_headline_rules(reference: Any) -> None:
    """The issue's three named cases, spelled out (they are also cells of the matrix)."""
    evaluator, eps = reference
    assert not evaluator.allows(eps["user-a"], eps["user-a2"], 8888)
    assert not evaluator.allows(eps["user-b"], eps["user-a"], 8888)
    for user in ("user-a", "user-b"):
        for port in (80, 443):
            assert not evaluator.allows(eps[user], eps["metadata"], port)
    assert evaluator.allows(eps["hub"], eps["user-a"], 8888)
    # Bindings (their own policies) open exactly their service: Ray only for gpu/large.
    assert evaluator.allows(eps["user-a"], eps["trino"], 8080)
    assert not evaluator.allows(eps["user-a"], eps["ray-head"], 10001)
    assert evaluator.allows(eps["user-b"], eps["ray-head"], 10001)


def test_every_pod_of_the_namespace_is_isolated_both_ways(reference: Any) -> None:
    evaluator, eps = reference
    ours = [e for e in eps.values() if e.namespace == NS]
    assert len(ours) == 8
    for endpoint in ours:
        assert evaluator._selecting(endpoint, "Ingress"), endpoint.name
        assert evaluator._selecting(endpoint, "Egress"), endpoint.name


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
        "singleuser-internet-gpu",
        "singleuser-server",
    ]
    deny = find(reference_manifests, "NetworkPolicy", "default-deny")
    assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    internet = find(reference_manifests, "NetworkPolicy", "singleuser-internet-gpu")["spec"]
    assert internet["podSelector"]["matchLabels"]["jupyter-constructs.io/profile"] == "gpu"
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
API_SERVER = address("api-server", "172.20.0.10")
PRIVATE_HOST = address("private-host", "10.0.0.5")
PUBLIC = address("internet", "8.8.8.8")


def _evaluator(**hub_options: Any) -> tuple[Evaluator, list[dict[str, Any]]]:
    chart, _ = make_hub(**hub_options)
    objects = synth(chart)
    return Evaluator.from_objects(objects), objects


def test_narrowed_api_server_cidrs_close_the_wide_default() -> None:
    wide, _ = _evaluator()
    narrow, _ = _evaluator(network=NetworkOptions(api_server_cidrs=("172.20.0.10/32",)))
    for port in (443, 6443):
        assert wide.allows(HUB, API_SERVER, port) and narrow.allows(HUB, API_SERVER, port)
    assert wide.allows(HUB, PRIVATE_HOST, 443)
    assert not narrow.allows(HUB, PRIVATE_HOST, 443)
    # The identity provider is still reachable over HTTPS, on public addresses only.
    assert narrow.allows(HUB, PUBLIC, 443)
    assert not narrow.allows(HUB, PUBLIC, 6443)


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


def test_ingress_controller_namespace_and_labels_are_options() -> None:
    proxy = pod(
        "proxy",
        "10.244.0.11",
        NS,
        {
            "app.kubernetes.io/name": "jupyterhub",
            "app.kubernetes.io/instance": NS,
            "app.kubernetes.io/component": "proxy",
        },
    )
    traefik = pod("traefik", "10.244.3.3", "traefik", {"app": "traefik"})
    other = pod("other", "10.244.3.4", "traefik", {"app": "other"})
    nginx = pod("nginx", "10.244.3.5", "ingress-nginx", {"app": "nginx"})
    evaluator, _ = _evaluator(
        network=NetworkOptions(
            ingress_controller_namespace="traefik",
            ingress_controller_pod_labels={"app": "traefik"},
        )
    )
    assert evaluator.allows(traefik, proxy, 8000)
    assert not evaluator.allows(traefik, proxy, 8001)
    assert not evaluator.allows(other, proxy, 8000)
    assert not evaluator.allows(nginx, proxy, 8000)
    default, _ = _evaluator()
    assert default.allows(nginx, proxy, 8000)
    no_ingress, _ = _evaluator(ingress=IngressOptions(enabled=False))
    assert not no_ingress.allows(nginx, proxy, 8000)


def test_network_none_renders_no_policy() -> None:
    _, objects = _evaluator(network=None)
    assert [o for o in objects if o["kind"] == "NetworkPolicy"] == []


def test_profile_internet_access_reaches_public_addresses_only() -> None:
    chart, hub = make_hub()
    hub.add_profile("open", display_name="Open", internet_access=True)
    evaluator = Evaluator.from_objects(synth(chart))
    base = {
        "app.kubernetes.io/name": "jupyterhub",
        "app.kubernetes.io/instance": NS,
        "app.kubernetes.io/component": "singleuser-server",
    }
    small = pod("small", "10.244.1.1", NS, {**base, "jupyter-constructs.io/profile": "small"})
    opened = pod("open", "10.244.1.2", NS, {**base, "jupyter-constructs.io/profile": "open"})
    for port in (22, 80, 443):
        assert evaluator.allows(opened, PUBLIC, port)
        assert not evaluator.allows(small, PUBLIC, port)
    v6 = address("v6", "2606:4700:4700::1111")
    assert evaluator.allows(opened, v6, 443)
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
        assert not evaluator.allows(opened, address(ip, ip), 80), ip
    assert not evaluator.allows(opened, small, 8888)


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
    base = {
        "app.kubernetes.io/name": "jupyterhub",
        "app.kubernetes.io/instance": NS,
        "app.kubernetes.io/component": "singleuser-server",
    }
    small = pod("small", "10.244.1.1", NS, {**base, "jupyter-constructs.io/profile": "small"})
    on_gpu = pod("gpu", "10.244.1.2", NS, {**base, "jupyter-constructs.io/profile": "gpu"})
    trino = pod("trino", "10.244.4.1", "trino", {"app": "trino"})
    ray = pod("ray", "10.244.4.2", "ray", {"ray.io/node-type": "head"})
    assert evaluator.allows(small, trino, 8080) and evaluator.allows(on_gpu, trino, 8080)
    assert not evaluator.allows(small, trino, 8081)
    assert evaluator.allows(on_gpu, ray, 10001)
    assert not evaluator.allows(small, ray, 10001)


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


def markdown_matrix() -> str:
    """EXPECTED as the Markdown table docs/security.md shows."""
    header = ["from \\ to"] + [
        f"{name}:{port}{'/udp' if p == 'UDP' else ''}" for name, port, p in COLUMNS
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    symbol = {"Y": "✅", ".": "·", "-": " "}
    for source, row in EXPECTED.items():
        lines.append("| " + " | ".join([source] + [symbol[c] for c in row.split()]) + " |")
    return "\n".join(lines)


def test_docs_show_the_tested_matrix() -> None:
    assert markdown_matrix() in (ROOT / "docs" / "security.md").read_text(encoding="utf-8")

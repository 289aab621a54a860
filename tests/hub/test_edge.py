"""The hub's edge (issue 14): an HTTPRoute instead of the Ingress, redirect hostnames, and
``proxy-public`` as a LoadBalancer/NodePort Service with a matching NetworkPolicy.

Rendered objects are checked against the HTTPRoute CRD's schema (tests/crd_schemas.py)
and the policies with network-config-analyzer where it is installed (tests/netpol.py).
"""

from __future__ import annotations

import warnings

import pytest

from jupyter_constructs import (
    CloudflareAccessAuth,
    ConfigurationError,
    IngressController,
    IngressOptions,
)
from jupyter_constructs.hub.edge import GatewayRoute, PublicService
from tests.crd_schemas import validate_custom_resource
from tests.helpers import find, make_hub, synth, validate

GATEWAY = GatewayRoute.envoy_gateway("public", gateway_namespace="gateways", section_name="https")


def _policy_for(objects, labels):
    return [
        o
        for o in objects
        if o["kind"] == "NetworkPolicy" and o["spec"]["podSelector"] == {"matchLabels": labels}
    ]


def test_an_httproute_replaces_the_ingress_and_matches_the_base_url():
    chart, _ = make_hub(gateway=GATEWAY, base_url="/jupyter/")
    objects = synth(chart)
    assert not [o for o in objects if o["kind"] == "Ingress"]
    route = find(objects, "HTTPRoute", "jupyterhub")
    validate_custom_resource(route)
    assert route["apiVersion"] == "gateway.networking.k8s.io/v1"
    assert route["metadata"]["namespace"] == "jupyter"
    spec = route["spec"]
    assert spec["parentRefs"] == [
        {
            "group": "gateway.networking.k8s.io",
            "kind": "Gateway",
            "name": "public",
            "namespace": "gateways",
            "sectionName": "https",
        }
    ]
    assert spec["hostnames"] == ["jupyter.example.com"]
    [rule] = spec["rules"]
    assert rule["matches"] == [{"path": {"type": "PathPrefix", "value": "/jupyter"}}]
    assert rule["backendRefs"] == [
        {"group": "", "kind": "Service", "name": "proxy-public", "port": 80, "weight": 1}
    ]
    assert rule["timeouts"] == {"request": "0s"}


def test_the_proxy_admits_the_gateway_data_plane_only():
    chart, hub = make_hub(gateway=GATEWAY)
    objects = synth(chart)
    peers = [
        peer
        for policy in _policy_for(objects, hub.selector_labels("proxy"))
        for rule in policy["spec"].get("ingress", [])
        for peer in rule.get("from", [])
    ]
    assert {
        "namespaceSelector": {
            "matchLabels": {"kubernetes.io/metadata.name": "envoy-gateway-system"}
        },
        "podSelector": {"matchLabels": {"gateway.envoyproxy.io/owning-gateway-name": "public"}},
    } in peers
    # No ingress-nginx peer: there is no Ingress.
    assert not any(
        p.get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name")
        == "ingress-nginx"
        for p in peers
    )


def test_redirect_domains_get_a_redirect_route_to_the_hub_domain():
    chart, _ = make_hub(gateway=GATEWAY, redirect_domains=["notebooks.example.com"])
    objects = synth(chart)
    redirect = find(objects, "HTTPRoute", "jupyterhub-redirect")
    validate_custom_resource(redirect)
    assert redirect["spec"]["hostnames"] == ["notebooks.example.com"]
    assert redirect["spec"]["rules"] == [
        {
            "filters": [
                {
                    "type": "RequestRedirect",
                    "requestRedirect": {
                        "scheme": "https",
                        "hostname": "jupyter.example.com",
                        "statusCode": 301,
                    },
                }
            ]
        }
    ]


def test_redirect_domains_with_ingress_nginx_get_a_redirect_ingress():
    chart, _ = make_hub(redirect_domains=["notebooks.example.com"])
    objects = synth(chart)
    redirect = find(objects, "Ingress", "jupyterhub-redirect")
    annotations = redirect["metadata"]["annotations"]
    assert (
        annotations["nginx.ingress.kubernetes.io/permanent-redirect"]
        == "https://jupyter.example.com$request_uri"
    )
    assert [r["host"] for r in redirect["spec"]["rules"]] == ["notebooks.example.com"]
    assert redirect["spec"]["tls"] == [
        {"hosts": ["notebooks.example.com"], "secretName": "jupyterhub-tls"}
    ]
    main = find(objects, "Ingress", "jupyterhub")
    assert [r["host"] for r in main["spec"]["rules"]] == ["jupyter.example.com"]


def test_redirect_domains_with_another_ingress_controller_are_refused():
    with pytest.raises(ConfigurationError) as err:
        make_hub(
            redirect_domains=["notebooks.example.com"],
            ingress=IngressOptions(controller=IngressController.traefik()),
        )
    assert "invalid redirect hosts ['notebooks.example.com']" in str(err.value)
    assert "gateway=GatewayRoute" in str(err.value)


def test_a_load_balancer_admits_exactly_its_source_ranges():
    chart, hub = make_hub(
        ingress=IngressOptions(enabled=False),
        public_service=PublicService.load_balancer(
            source_ranges=["203.0.113.0/24"],
            annotations={"service.beta.kubernetes.io/aws-load-balancer-scheme": "internal"},
        ),
    )
    objects = synth(chart)
    service = find(objects, "Service", "proxy-public")
    assert service["spec"]["type"] == "LoadBalancer"
    assert service["spec"]["loadBalancerSourceRanges"] == ["203.0.113.0/24"]
    assert service["spec"]["externalTrafficPolicy"] == "Local"
    assert service["metadata"]["annotations"] == {
        "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal"
    }
    policy = find(objects, "NetworkPolicy", "proxy-public-clients")
    assert policy["spec"]["podSelector"] == {"matchLabels": hub.selector_labels("proxy")}
    assert policy["spec"]["ingress"] == [
        {
            "from": [{"ipBlock": {"cidr": "203.0.113.0/24"}}],
            "ports": [{"port": 8000, "protocol": "TCP"}],
        }
    ]


def test_a_node_port_service_gets_the_same_policy_and_no_load_balancer_fields():
    chart, _ = make_hub(
        ingress=IngressOptions(enabled=False),
        public_service=PublicService.node_port_service(
            source_ranges=["10.1.0.0/16"], node_port=30080
        ),
    )
    objects = synth(chart)
    service = find(objects, "Service", "proxy-public")
    assert service["spec"]["type"] == "NodePort"
    assert "loadBalancerSourceRanges" not in service["spec"]
    assert service["spec"]["ports"][0]["port"] == 80
    # The node port asked for is the one rendered (it was silently dropped before).
    assert service["spec"]["ports"][0]["nodePort"] == 30080
    assert find(objects, "NetworkPolicy", "proxy-public-clients")["spec"]["ingress"][0]["from"] == [
        {"ipBlock": {"cidr": "10.1.0.0/16"}}
    ]


def test_the_default_public_service_stays_cluster_internal():
    chart, _ = make_hub()
    objects = synth(chart)
    assert find(objects, "Service", "proxy-public")["spec"]["type"] == "ClusterIP"
    assert not [o for o in objects if o["metadata"]["name"] == "proxy-public-clients"]


def test_header_sign_in_refuses_an_httproute_or_a_load_balancer_that_bypass_its_edge():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        auth = CloudflareAccessAuth(
            team_domain="team.cloudflareaccess.com",
            audience="a" * 64,
            allowed_email_domains=["example.org"],
            user_servers_on_hub_host=True,
        )
    for options in (
        {"gateway": GATEWAY},
        {
            "ingress": IngressOptions(enabled=False),
            "public_service": PublicService.load_balancer(source_ranges=["0.0.0.0/0"]),
        },
    ):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            chart, _ = make_hub(auth=auth, **options)
            errors = validate(chart)
        assert any("invalid entry points" in e for e in errors), errors


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (
            {"gateway": GATEWAY, "ingress": IngressOptions()},
            "invalid ingress 'enabled beside gateway'",
        ),
        (
            {"gateway": GatewayRoute("public", gateway_namespace="gateways")},
            "invalid GatewayRoute data plane 'public'",
        ),
        (
            {
                "gateway": GatewayRoute(
                    "public", gateway_namespace="gateways", data_plane_namespace="gw"
                )
            },
            "invalid GatewayRoute.data_plane_pod_labels {}",
        ),
        (
            {"public_service": PublicService.load_balancer(source_ranges=[])},
            "invalid PublicService.source_ranges []",
        ),
        (
            {"public_service": PublicService.load_balancer(source_ranges=["10.0.0.1/8"])},
            "invalid PublicService.source_ranges",
        ),
        (
            {
                "public_service": PublicService.node_port_service(
                    source_ranges=["10.0.0.0/8"], node_port=80
                )
            },
            "invalid PublicService.node_port 80",
        ),
        ({"redirect_domains": ["jupyter.example.com"]}, "invalid redirect_domains"),
        ({"redirect_domains": ["https://x.example.com"]}, "invalid redirect_domains entry"),
    ],
)
def test_bad_edge_settings_are_refused(options, expected):
    with pytest.raises(ConfigurationError) as err:
        make_hub(**options)
    assert str(err.value).startswith("test/hub"), str(err.value)
    assert expected in str(err.value)

"""The one NetworkPolicy builder: peers, ports and rules as Kubernetes JSON, and the object.

Every NetworkPolicy of this library is built by ``network_policy`` from the pieces
below, and only on behalf of a hub (``JupyterHub.allow_traffic``): the hub decides
whether NetworkPolicies are rendered at all (``network=None`` renders none anywhere).

Pieces (plain Kubernetes JSON, so they can be printed, compared and patched):

- ports: ``tcp(8080)``, ``tcp("http")`` (a named container port), ``udp(53)``;
- peers: ``pods(labels)`` (this namespace), ``pods_in_namespace(ns, labels)``,
  ``cidrs(blocks)``, ``internet(ipv6=True)`` (public addresses only),
  ``anywhere(ipv6=True)`` (every address, for rules narrowed by port only);
- rules: ``ingress(peers, ports)``, ``egress(peers, ports)`` (no ports: every port),
  ``dns_egress(peers)`` (53, UDP and TCP).

Reference: https://kubernetes.io/docs/concepts/services-networking/network-policies/
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from constructs import Construct

from jupyter_constructs.core.objects import Body, KubeObject
from jupyter_constructs.core.rules import (
    PORT_NAME_RULE,
    PORT_NUMBER_RULE,
    check,
    check_cidr,
    check_dns_label,
    check_labels,
    check_sequence,
)

__all__ = [
    "ANY_IPV4",
    "ANY_IPV6",
    "CLOUD_METADATA_ADDRESS",
    "DNS_PORT",
    "NAMESPACE_NAME_LABEL",
    "PRIVATE_IPV4_RANGES",
    "PRIVATE_IPV6_RANGES",
    "Peer",
    "Port",
    "Rule",
    "anywhere",
    "cidrs",
    "dns_egress",
    "egress",
    "ingress",
    "internet",
    "network_policy",
    "pods",
    "pods_in_namespace",
    "tcp",
    "udp",
]

Port = dict[str, Any]
"""A ``NetworkPolicyPort``: ``{"port": 8080, "protocol": "TCP"}``."""
Peer = dict[str, Any]
"""A ``NetworkPolicyPeer``: a pod/namespace selector or an ``ipBlock``."""
Rule = dict[str, Any]
"""A ``NetworkPolicyIngressRule`` (``from``, ``ports``) or ``...EgressRule`` (``to``, ``ports``)."""

PRIVATE_IPV4_RANGES: tuple[str, ...] = (
    "10.0.0.0/8",
    "100.64.0.0/10",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.168.0.0/16",
)
"""Addresses no pod may reach through an "internet" rule: RFC 1918, carrier-grade NAT
(some clouds' pod and node ranges) and link-local, which holds the cloud metadata
service 169.254.169.254."""

PRIVATE_IPV6_RANGES: tuple[str, ...] = ("64:ff9b::/96", "64:ff9b:1::/48", "fc00::/7", "fe80::/10")
"""IPv6 unique-local (AWS metadata is fd00:ec2::254), link-local, and the NAT64 prefixes,
which translate to IPv4 addresses (private ones included). IPv4-mapped addresses
(``::ffff:0:0/96``) never appear on the wire, so they need no entry."""

CLOUD_METADATA_ADDRESS = "169.254.169.254"
ANY_IPV4 = "0.0.0.0/0"
ANY_IPV6 = "::/0"
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
"""The label every namespace carries with its own name (Kubernetes 1.21+)."""


def _port(function: str, port: int | str) -> int | str:
    if isinstance(port, str):
        return check(
            function, "port", port, PORT_NAME_RULE, fix="name a container port, e.g. 'http'"
        )
    return check(function, "port", port, PORT_NUMBER_RULE, fix="pass the port number, e.g. 8080")


def tcp(port: int | str) -> Port:
    """A TCP port, by number (1-65535) or by container port name (``IsValidPortName``).

    Raises:
        ConfigurationError: ``port`` is neither.
    """
    return {"port": _port("tcp", port), "protocol": "TCP"}


def udp(port: int | str) -> Port:
    """A UDP port, by number or by container port name.

    Raises:
        ConfigurationError: ``port`` is neither.
    """
    return {"port": _port("udp", port), "protocol": "UDP"}


def pods(labels: Mapping[str, str]) -> Peer:
    """Pods of the policy's own namespace with ``labels``.

    Raises:
        ConfigurationError: A label key or value is invalid.
    """
    return {"podSelector": {"matchLabels": check_labels("pods", "labels", labels)}}


def pods_in_namespace(namespace: str, labels: Mapping[str, str] | None = None) -> Peer:
    """Pods of ``namespace``: all of them, or those with ``labels``.

    Raises:
        ConfigurationError: ``namespace`` is not a DNS label, or a label is invalid.
    """
    check_dns_label("pods_in_namespace", "namespace", namespace)
    peer: Peer = {"namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: namespace}}}
    if labels:
        peer["podSelector"] = {"matchLabels": check_labels("pods_in_namespace", "labels", labels)}
    return peer


def cidrs(blocks: Sequence[str]) -> list[Peer]:
    """One ``ipBlock`` peer per CIDR.

    Raises:
        ConfigurationError: ``blocks`` is not a list of canonical CIDRs.
    """
    check_sequence("cidrs", "blocks", blocks, lambda what, b: check_cidr("cidrs", what, b))
    return [{"ipBlock": {"cidr": block}} for block in blocks]


def internet(*, ipv6: bool = True) -> list[Peer]:
    """Every public address: ``0.0.0.0/0`` (and ``::/0``) minus the private ranges.

    Cloud metadata (169.254.169.254, fd00:ec2::254) is inside the excluded ranges.

    Args:
        ipv6: Also allow public IPv6 addresses. Default: True.
    """
    peers = [{"ipBlock": {"cidr": ANY_IPV4, "except": list(PRIVATE_IPV4_RANGES)}}]
    if ipv6:
        peers.append({"ipBlock": {"cidr": ANY_IPV6, "except": list(PRIVATE_IPV6_RANGES)}})
    return peers


def anywhere(*, ipv6: bool = True) -> list[Peer]:
    """Every address, ``0.0.0.0/0`` (and ``::/0``): for rules that only a port narrows.

    Args:
        ipv6: Also every IPv6 address. Default: True.
    """
    return cidrs([ANY_IPV4, ANY_IPV6] if ipv6 else [ANY_IPV4])


def egress(peers: Sequence[Peer], ports: Sequence[Port] = ()) -> Rule:
    """An egress rule to ``peers``; no ``ports`` means every port."""
    rule: Rule = {"to": list(peers)}
    if ports:
        rule["ports"] = list(ports)
    return rule


def ingress(peers: Sequence[Peer], ports: Sequence[Port]) -> Rule:
    """An ingress rule from ``peers`` on ``ports``."""
    return {"from": list(peers), "ports": list(ports)}


DNS_PORT = 53


def dns_egress(peers: Sequence[Peer], port: int = DNS_PORT) -> Rule:
    """Egress to the cluster's resolvers (pods and/or addresses) on ``port``, UDP and TCP.

    DNS answers too large for UDP are retried over TCP (RFC 7766), so both are needed.

    Args:
        peers: The resolvers: ``pods_in_namespace(...)`` peers, ``cidrs(...)`` peers.
        port: The port the resolvers listen on, as the policy sees it (after a Service
            is resolved). Default: 53.
    """
    return egress(peers, [udp(port), tcp(port)])


def policy_spec(
    selector: Mapping[str, Any],
    *,
    ingress_rules: Sequence[Rule] | None,
    egress_rules: Sequence[Rule] | None,
) -> dict[str, Any]:
    """A NetworkPolicy ``spec``.

    Args:
        selector: The ``podSelector`` (a LabelSelector); ``{}`` selects every pod.
        ingress_rules: Allowed ingress; ``[]`` denies all, ``None`` leaves ingress alone.
        egress_rules: Allowed egress; ``[]`` denies all, ``None`` leaves egress alone.
    """
    types = []
    if ingress_rules is not None:
        types.append("Ingress")
    if egress_rules is not None:
        types.append("Egress")
    spec: dict[str, Any] = {"podSelector": dict(selector), "policyTypes": types}
    if ingress_rules:
        spec["ingress"] = list(ingress_rules)
    if egress_rules:
        spec["egress"] = list(egress_rules)
    return spec


def network_policy(
    scope: Construct,
    id: str,
    *,
    name: str | None = None,
    labels: Mapping[str, str] | None = None,
    spec: Body,
) -> KubeObject:
    """A NetworkPolicy object (``networking.k8s.io/v1``).

    Args:
        scope: The construct it belongs to.
        id: Its construct id.
        name: ``metadata.name``. Default: generated from the construct path.
        labels: ``metadata.labels``. Default: none.
        spec: A function returning the ``spec`` (``policy_spec``), called at synth, or
            the spec itself.
    """
    return KubeObject(
        scope,
        id,
        api_version="networking.k8s.io/v1",
        kind="NetworkPolicy",
        name=name,
        labels=labels,
        body=(lambda: {"spec": spec()}) if callable(spec) else {"spec": spec},
    )

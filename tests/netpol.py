"""A small NetworkPolicy evaluator: may endpoint A open a connection to B on port P?

Semantics (https://kubernetes.io/docs/concepts/services-networking/network-policies/):

- Policies are namespaced. A pod is isolated for ingress (egress) when at least one
  policy of its namespace selects it and lists ``Ingress`` (``Egress``) in its
  ``policyTypes``. ``policyTypes`` defaults to ``["Ingress"]``, plus ``"Egress"`` when
  the policy has an ``egress`` section.
- A connection is allowed iff the source's egress allows it AND the destination's
  ingress allows it. A side that is not isolated allows everything; an isolated side
  allows what at least one rule of one policy selecting it allows (policies add up).
- A rule matches when one of its peers matches (no ``to``/``from``: every peer) and one
  of its ports matches (no ``ports``: every port).
- Peers: ``podSelector`` alone selects pods of the policy's namespace;
  ``namespaceSelector`` alone every pod of the matching namespaces; both together the
  matching pods of the matching namespaces; ``ipBlock`` an address in ``cidr`` and in
  none of ``except``. ``ipBlock`` is applied to pod addresses too, as Calico does (the
  conservative reading: an internet rule with private ranges excluded does not reach
  pods on private addresses).
- Ports: ``protocol`` defaults to TCP; ``port`` is a number (with an optional
  ``endPort``) or a container port name, resolved against the destination pod's
  container ports (for egress and for ingress alike: it is the destination's port).

- Loopback: a pod connecting to ``127.0.0.0/8`` or ``::1`` reaches its own network
  namespace (the containers of the same pod); that traffic never leaves the pod, and no
  NetworkPolicy applies to it.

Not modelled: traffic from the node (kubelet probes; CNIs admit it), Services (policies
see the pod address after the Service is resolved, so endpoints here are pods and IPs;
``service_pods`` resolves a Service to its pods), ``hostNetwork`` pods, and
CNI-specific extensions (CiliumNetworkPolicy).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


@dataclass(frozen=True)
class Endpoint:
    """A pod (``namespace`` set) or an address outside the cluster (``namespace`` None)."""

    name: str
    ip: str
    namespace: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    namespace_labels: Mapping[str, str] = field(default_factory=dict)
    # Container ports: name -> (port, protocol).
    ports: Mapping[str, tuple[int, str]] = field(default_factory=dict)

    @property
    def is_pod(self) -> bool:
        return self.namespace is not None

    def all_namespace_labels(self) -> dict[str, str]:
        assert self.namespace is not None
        return {**self.namespace_labels, NAMESPACE_NAME_LABEL: self.namespace}


def pod(
    name: str,
    ip: str,
    namespace: str,
    labels: Mapping[str, str],
    ports: Mapping[str, tuple[int, str]] | None = None,
) -> Endpoint:
    return Endpoint(name, ip, namespace, dict(labels), {}, dict(ports or {}))


def address(name: str, ip: str) -> Endpoint:
    return Endpoint(name, ip)


def loopback(name: str = "localhost", ip: str = "127.0.0.1") -> Endpoint:
    """The source pod's own loopback (``localhost``)."""
    assert is_loopback(ip), ip
    return Endpoint(name, ip)


def is_loopback(ip: str) -> bool:
    return ipaddress.ip_address(ip).is_loopback


def service_pods(service: Mapping[str, Any], endpoints: Iterable[Endpoint]) -> list[Endpoint]:
    """The pods among ``endpoints`` that a Service object sends its traffic to."""
    selector = service["spec"].get("selector") or {}
    namespace = service["metadata"].get("namespace")
    return [
        e
        for e in endpoints
        if e.is_pod
        and e.namespace == namespace
        and selector
        and selector_matches({"matchLabels": selector}, e.labels)
    ]


def container_ports(pod_spec: Mapping[str, Any]) -> dict[str, tuple[int, str]]:
    """Named container ports of a pod spec: name -> (port, protocol)."""
    ports = {}
    for container in pod_spec.get("containers", []):
        for port in container.get("ports", []):
            if "name" in port:
                ports[port["name"]] = (port["containerPort"], port.get("protocol", "TCP"))
    return ports


def selector_matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """Label selector semantics; an empty selector matches everything."""
    if selector is None:
        return True
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression["key"], expression["operator"]
        values = expression.get("values") or []
        if operator == "In":
            ok = key in labels and labels[key] in values
        elif operator == "NotIn":
            ok = key not in labels or labels[key] not in values
        elif operator == "Exists":
            ok = key in labels
        elif operator == "DoesNotExist":
            ok = key not in labels
        else:
            raise ValueError(f"unknown selector operator {operator!r}")
        if not ok:
            return False
    return True


def _in_block(ip: str, block: Mapping[str, Any]) -> bool:
    address = ipaddress.ip_address(ip)
    network = ipaddress.ip_network(block["cidr"], strict=True)
    if address.version != network.version or address not in network:
        return False
    return not any(
        address in ipaddress.ip_network(excluded, strict=True)
        for excluded in block.get("except") or []
        if ipaddress.ip_network(excluded).version == address.version
    )


def peer_matches(peer: Mapping[str, Any], policy_namespace: str, endpoint: Endpoint) -> bool:
    """Does one ``from``/``to`` entry of a policy in ``policy_namespace`` match ``endpoint``?"""
    if "ipBlock" in peer:
        return _in_block(endpoint.ip, peer["ipBlock"])
    if not endpoint.is_pod:
        return False
    pod_selector = peer.get("podSelector")
    namespace_selector = peer.get("namespaceSelector")
    if namespace_selector is None:
        namespace_ok = endpoint.namespace == policy_namespace
    else:
        namespace_ok = selector_matches(namespace_selector, endpoint.all_namespace_labels())
    return namespace_ok and selector_matches(pod_selector, endpoint.labels)


def port_matches(
    rule_port: Mapping[str, Any], destination: Endpoint, port: int, proto: str
) -> bool:
    if rule_port.get("protocol", "TCP") != proto:
        return False
    if "port" not in rule_port:
        return True
    wanted = rule_port["port"]
    if isinstance(wanted, str):
        named = destination.ports.get(wanted)
        return named is not None and named == (port, proto)
    end = rule_port.get("endPort", wanted)
    return bool(wanted <= port <= end)


def policy_types(policy: Mapping[str, Any]) -> list[str]:
    spec = policy["spec"]
    if "policyTypes" in spec:
        return list(spec["policyTypes"])
    return ["Ingress", "Egress"] if "egress" in spec else ["Ingress"]


@dataclass
class Evaluator:
    """Evaluate connections against ``policies`` (NetworkPolicy dicts with a namespace)."""

    policies: Sequence[Mapping[str, Any]]

    @classmethod
    def from_objects(cls, objects: Iterable[Mapping[str, Any]]) -> Evaluator:
        policies = [o for o in objects if o.get("kind") == "NetworkPolicy"]
        for policy in policies:
            assert policy["metadata"].get("namespace"), f"{policy['metadata']} has no namespace"
        return cls(policies)

    def _selecting(self, endpoint: Endpoint, direction: str) -> list[Mapping[str, Any]]:
        if not endpoint.is_pod:
            return []
        return [
            p
            for p in self.policies
            if p["metadata"]["namespace"] == endpoint.namespace
            and direction in policy_types(p)
            and selector_matches(p["spec"].get("podSelector") or {}, endpoint.labels)
        ]

    def _allowed_by(
        self,
        policies: list[Mapping[str, Any]],
        rules_key: str,
        peers_key: str,
        peer: Endpoint,
        destination: Endpoint,
        port: int,
        proto: str,
    ) -> bool:
        if not policies:
            return True  # not isolated in this direction
        for policy in policies:
            namespace = policy["metadata"]["namespace"]
            for rule in policy["spec"].get(rules_key) or []:
                peers = rule.get(peers_key)
                ports = rule.get("ports")
                peer_ok = not peers or any(peer_matches(p, namespace, peer) for p in peers)
                port_ok = not ports or any(port_matches(p, destination, port, proto) for p in ports)
                if peer_ok and port_ok:
                    return True
        return False

    def egress_allows(self, source: Endpoint, destination: Endpoint, port: int, proto: str) -> bool:
        return self._allowed_by(
            self._selecting(source, "Egress"), "egress", "to", destination, destination, port, proto
        )

    def ingress_allows(
        self, source: Endpoint, destination: Endpoint, port: int, proto: str
    ) -> bool:
        return self._allowed_by(
            self._selecting(destination, "Ingress"),
            "ingress",
            "from",
            source,
            destination,
            port,
            proto,
        )

    def allows(
        self, source: Endpoint, destination: Endpoint, port: int, proto: str = "TCP"
    ) -> bool:
        """May ``source`` open a connection to ``destination`` on ``port``/``proto``?"""
        if source.is_pod and not destination.is_pod and is_loopback(destination.ip):
            return True  # the pod's own network namespace: no policy applies
        return self.egress_allows(source, destination, port, proto) and self.ingress_allows(
            source, destination, port, proto
        )

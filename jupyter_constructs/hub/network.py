"""NetworkPolicies for the hub's namespace: deny everything, then allow only what JupyterHub needs.

``JupyterHub`` creates ``HubNetworkPolicies`` unless ``network=None``. The policies are
additive (Kubernetes ORs every policy that selects a pod), so each one below states one
component's traffic and other constructs add their own (``ObservabilityBundle`` lets
Prometheus in, ``CloudflareTunnel`` lets cloudflared reach the proxy, bindings let user
pods reach a platform service).

=====================  ==================================================================
Policy                 What it allows
=====================  ==================================================================
``default-deny``       Nothing: every pod of the namespace is isolated both ways.
``hub``                In: proxy and user pods on 8081. Out: DNS, proxy API (8001),
                       user pods (8888), the Kubernetes API server (443/6443 to
                       ``api_server_cidrs``), the identity provider (443 to the internet)
                       when the authenticator needs it, PostgreSQL when configured.
``proxy``              In: the ingress controller's namespace on 8000, the hub on 8001,
                       user pods on 8000. Out: DNS, hub (8081), user pods (8888).
``singleuser-server``  In: proxy and hub on 8888 only, so users cannot reach each other.
                       Out: DNS, hub (8081), proxy (8000).
``singleuser-internet  Out: the internet on any port, for the pods of a profile created
-<slug>``              with ``internet_access=True``; private ranges and cloud metadata
                       (169.254.169.254) are always excluded.
``secret-bootstrap``   Out: the Kubernetes API server only.
``image-puller``       Nothing (the kubelet pulls images, the pods never talk).
=====================  ==================================================================

Cloud metadata is blocked by these policies, not by a privileged iptables init
container as z2jh does, so the namespace can enforce the ``restricted`` Pod Security
Standard. Kubelet probes come from the node, which CNIs admit regardless of policy.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cdk8s_plus_27 import k8s
from constructs import Construct

from jupyter_constructs.core._utils import check_dns_label
from jupyter_constructs.core.errors import invalid
from jupyter_constructs.hub.profiles import PROFILE_LABEL
from jupyter_constructs.hub.proxy import API_PORT, HTTP_PORT

if TYPE_CHECKING:
    from jupyter_constructs.hub.hub import JupyterHub
    from jupyter_constructs.hub.profiles import NotebookProfile

#: Addresses no pod may reach through an "internet" rule: RFC 1918, carrier-grade NAT
#: (some clouds' pod and node ranges) and link-local, which holds the cloud metadata
#: service 169.254.169.254.
PRIVATE_IPV4_RANGES: tuple[str, ...] = (
    "10.0.0.0/8",
    "100.64.0.0/10",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.168.0.0/16",
)
#: IPv6 unique-local (AWS metadata is fd00:ec2::254), link-local, and the NAT64 prefixes,
#: which translate to IPv4 addresses (private ones included).
PRIVATE_IPV6_RANGES: tuple[str, ...] = ("64:ff9b::/96", "64:ff9b:1::/48", "fc00::/7", "fe80::/10")
CLOUD_METADATA_ADDRESS = "169.254.169.254"
ANY_IPV4 = "0.0.0.0/0"
ANY_IPV6 = "::/0"
#: Ports of the Kubernetes API server: the ``kubernetes`` Service (443) and what
#: control planes usually listen on behind it (6443). Policies see the address after
#: the Service is resolved, so both are needed.
API_SERVER_PORTS = (443, 6443)
DEFAULT_DNS_POD_LABELS = {"k8s-app": "kube-dns"}
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
#: Component label values of the pods the hub creates (``hub.selector_labels``).
USER_COMPONENT = "singleuser-server"
#: The port of a user server (KubeSpawner's default, container port ``notebook-port``).
USER_PORT = 8888


@dataclass(frozen=True)
class NetworkOptions:
    """Where the things the hub's namespace talks to live.

    - ``ingress_controller_namespace``: namespace whose pods may reach the proxy (when
      the hub has an Ingress). Default ``"ingress-nginx"``. ``None``: no Ingress path.
    - ``ingress_controller_pod_labels``: narrow that to these pods. Default: any pod of
      that namespace.
    - ``api_server_cidrs``: where the Kubernetes API server is, for the hub (KubeSpawner)
      and the secret bootstrap Job only, ports 443 and 6443. Default ``("0.0.0.0/0",)``
      because the address is not known at synth and is usually private; narrow it to
      your control plane's address (e.g. ``("172.20.0.10/32",)``, see
      ``kubectl get endpoints kubernetes``). User pods never get this rule.
    - ``database_cidrs``: where PostgreSQL is when the hub uses
      ``HubDatabase.postgres`` (its port only). Default ``("0.0.0.0/0",)``; narrow it.
    - ``dns_namespace``/``dns_pod_labels``: the cluster DNS pods, reached on 53 UDP/TCP.
      Default ``"kube-system"`` and ``{"k8s-app": "kube-dns"}`` (CoreDNS keeps that label).
    - ``ipv6``: internet rules also allow ``::/0`` minus the private IPv6 ranges.
      Default True (harmless on IPv4-only clusters).
    """

    ingress_controller_namespace: str | None = "ingress-nginx"
    ingress_controller_pod_labels: Mapping[str, str] | None = None
    api_server_cidrs: Sequence[str] = (ANY_IPV4,)
    database_cidrs: Sequence[str] = (ANY_IPV4,)
    dns_namespace: str = "kube-system"
    dns_pod_labels: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_DNS_POD_LABELS))
    ipv6: bool = True

    def check(self, scope: Construct) -> NetworkOptions:
        """Return self if every field is valid, else raise a ``ConfigurationError``."""
        if self.ingress_controller_namespace is not None:
            check_dns_label(
                scope, "ingress_controller_namespace", self.ingress_controller_namespace
            )
        check_dns_label(scope, "dns_namespace", self.dns_namespace)
        if not self.dns_pod_labels:
            raise invalid(
                scope,
                "dns_pod_labels",
                dict(self.dns_pod_labels),
                allowed="the labels of the cluster DNS pods",
                fix='keep the default {"k8s-app": "kube-dns"} unless your DNS pods differ',
            )
        for what, cidrs in (
            ("api_server_cidrs", self.api_server_cidrs),
            ("database_cidrs", self.database_cidrs),
        ):
            if isinstance(cidrs, str) or not cidrs:
                raise invalid(
                    scope,
                    what,
                    cidrs,
                    allowed="a non-empty sequence of CIDRs",
                    fix=f'pass {what}=("172.20.0.10/32",)',
                )
            for cidr in cidrs:
                check_cidr(scope, what, cidr)
        return self


def check_cidr(scope: Construct, what: str, cidr: str) -> str:
    """Return ``cidr`` if it is an IPv4/IPv6 network in canonical form (host bits zero)."""
    try:
        network = ipaddress.ip_network(cidr, strict=True)
    except (TypeError, ValueError):
        network = None
    if network is None or str(network) != cidr:
        raise invalid(
            scope,
            what,
            cidr,
            allowed="a CIDR with its host bits zero, such as '10.0.0.0/16' or '172.20.0.10/32'",
            fix="write the network address and prefix length",
        )
    return cidr


# -- building blocks (public: other constructs use them for their own policies) ---------


def tcp(port: int | str) -> k8s.NetworkPolicyPort:
    """A TCP port, by number or by container port name."""
    value = k8s.IntOrString.from_number(port) if isinstance(port, int) else None
    if value is None:
        value = k8s.IntOrString.from_string(str(port))
    return k8s.NetworkPolicyPort(port=value, protocol="TCP")


def udp(port: int) -> k8s.NetworkPolicyPort:
    """A UDP port."""
    return k8s.NetworkPolicyPort(port=k8s.IntOrString.from_number(port), protocol="UDP")


def pods(labels: Mapping[str, str]) -> k8s.NetworkPolicyPeer:
    """Pods of the policy's own namespace with ``labels``."""
    return k8s.NetworkPolicyPeer(pod_selector=k8s.LabelSelector(match_labels=dict(labels)))


def pods_in_namespace(
    namespace: str, labels: Mapping[str, str] | None = None
) -> k8s.NetworkPolicyPeer:
    """Pods of ``namespace`` (all of them, or those with ``labels``)."""
    return k8s.NetworkPolicyPeer(
        namespace_selector=k8s.LabelSelector(match_labels={NAMESPACE_NAME_LABEL: namespace}),
        pod_selector=k8s.LabelSelector(match_labels=dict(labels)) if labels else None,
    )


def cidrs(blocks: Sequence[str]) -> list[k8s.NetworkPolicyPeer]:
    """One ``ipBlock`` peer per CIDR."""
    return [k8s.NetworkPolicyPeer(ip_block=k8s.IpBlock(cidr=block)) for block in blocks]


def internet(options: NetworkOptions) -> list[k8s.NetworkPolicyPeer]:
    """Every public address: ``0.0.0.0/0`` (and ``::/0``) minus the private ranges.

    Cloud metadata (169.254.169.254, fd00:ec2::254) is inside the excluded ranges.
    """
    peers = [
        k8s.NetworkPolicyPeer(
            ip_block=k8s.IpBlock(cidr=ANY_IPV4, except_=list(PRIVATE_IPV4_RANGES))
        )
    ]
    if options.ipv6:
        peers.append(
            k8s.NetworkPolicyPeer(
                ip_block=k8s.IpBlock(cidr=ANY_IPV6, except_=list(PRIVATE_IPV6_RANGES))
            )
        )
    return peers


def dns_egress(options: NetworkOptions) -> k8s.NetworkPolicyEgressRule:
    """Egress to the cluster DNS pods on 53 UDP and TCP."""
    return k8s.NetworkPolicyEgressRule(
        to=[pods_in_namespace(options.dns_namespace, options.dns_pod_labels)],
        ports=[udp(53), tcp(53)],
    )


def egress(
    peers: Sequence[k8s.NetworkPolicyPeer], ports: Sequence[k8s.NetworkPolicyPort] = ()
) -> k8s.NetworkPolicyEgressRule:
    """An egress rule; no ``ports`` means every port."""
    return k8s.NetworkPolicyEgressRule(to=list(peers), ports=list(ports) or None)


def ingress(
    peers: Sequence[k8s.NetworkPolicyPeer], ports: Sequence[k8s.NetworkPolicyPort]
) -> k8s.NetworkPolicyIngressRule:
    """An ingress rule from ``peers`` on ``ports``."""
    return k8s.NetworkPolicyIngressRule(from_=list(peers), ports=list(ports))


class HubNetworkPolicies(Construct):
    """Default deny for the hub's namespace, plus one policy per component (module docstring).

    Created by ``JupyterHub`` (``hub.network``). Attributes: ``policies`` (name ->
    ``KubeNetworkPolicy``), ``options``. Use ``allow_user_egress`` to let user pods reach
    something else, and ``user_pod_selector`` to write your own policy for them.
    """

    def __init__(
        self, scope: Construct, id: str, *, hub: JupyterHub, options: NetworkOptions
    ) -> None:
        super().__init__(scope, id)
        self.options = options.check(self)
        self._hub = hub
        self.policies: dict[str, k8s.KubeNetworkPolicy] = {}
        sel = hub.selector_labels
        hub_pods, proxy_pods, user_pods = (
            pods(sel("hub")),
            pods(sel("proxy")),
            pods(sel(USER_COMPONENT)),
        )
        hub_port = hub.hub_port
        user_port = USER_PORT
        dns = dns_egress(options)
        api_server = egress(cidrs(options.api_server_cidrs), [tcp(p) for p in API_SERVER_PORTS])

        self._policy("default-deny", {}, ingress_rules=[], egress_rules=[])

        hub_egress = [
            dns,
            egress([proxy_pods], [tcp(API_PORT)]),
            egress([user_pods], [tcp(user_port)]),
            api_server,
        ]
        if hub.auth_settings.needs_internet_egress:
            hub_egress.append(egress(internet(options), [tcp(443)]))
        if not hub.database.uses_volume:
            hub_egress.append(egress(cidrs(options.database_cidrs), [tcp(hub.database.port)]))
        self._policy(
            "hub",
            sel("hub"),
            ingress_rules=[ingress([proxy_pods, user_pods], [tcp(hub_port)])],
            egress_rules=hub_egress,
        )

        proxy_ingress = [
            ingress([hub_pods], [tcp(API_PORT)]),
            ingress([user_pods], [tcp(HTTP_PORT)]),
        ]
        if hub.ingress is not None and options.ingress_controller_namespace is not None:
            controller = pods_in_namespace(
                options.ingress_controller_namespace, options.ingress_controller_pod_labels
            )
            proxy_ingress.insert(0, ingress([controller], [tcp(HTTP_PORT)]))
        self._policy(
            "proxy",
            sel("proxy"),
            ingress_rules=proxy_ingress,
            egress_rules=[
                dns,
                egress([hub_pods], [tcp(hub_port)]),
                egress([user_pods], [tcp(user_port)]),
            ],
        )

        self._policy(
            USER_COMPONENT,
            sel(USER_COMPONENT),
            ingress_rules=[ingress([proxy_pods, hub_pods], [tcp(user_port)])],
            egress_rules=[
                dns,
                egress([hub_pods], [tcp(hub_port)]),
                egress([proxy_pods], [tcp(HTTP_PORT)]),
            ],
        )
        if hub.secret_bootstrap is not None:
            # It reaches the API server by the address in KUBERNETES_SERVICE_HOST: no DNS.
            self._policy(
                "secret-bootstrap",
                sel("secret-bootstrap"),
                ingress_rules=[],
                egress_rules=[api_server],
            )
        if hub.image_puller_enabled:
            # Explicit, so the intent is visible: the kubelet pulls, the pods never talk.
            self._policy("image-puller", sel("image-puller"), ingress_rules=[], egress_rules=[])

    def _policy(
        self,
        name: str,
        selector: Mapping[str, str],
        *,
        ingress_rules: Sequence[k8s.NetworkPolicyIngressRule] | None,
        egress_rules: Sequence[k8s.NetworkPolicyEgressRule] | None,
    ) -> k8s.KubeNetworkPolicy:
        if name in self.policies:
            raise invalid(
                self,
                "NetworkPolicy name",
                name,
                allowed="a name not used by another policy of this hub",
                fix="give the policy its own name",
            )
        types = []
        if ingress_rules is not None:
            types.append("Ingress")
        if egress_rules is not None:
            types.append("Egress")
        policy = k8s.KubeNetworkPolicy(
            self,
            name,
            metadata=k8s.ObjectMeta(name=name, labels=self._hub.labels("network-policy")),
            spec=k8s.NetworkPolicySpec(
                # An empty selector selects every pod of the namespace.
                pod_selector=k8s.LabelSelector(match_labels=dict(selector) or None),
                policy_types=types,
                ingress=list(ingress_rules) if ingress_rules else None,
                egress=list(egress_rules) if egress_rules else None,
            ),
        )
        self.policies[name] = policy
        return policy

    # -- for profiles, bindings and users -----------------------------------------------

    def user_pod_selector(self, profile: NotebookProfile | None = None) -> dict[str, str]:
        """Labels selecting every user pod of this hub, or only ``profile``'s."""
        labels = self._hub.selector_labels(USER_COMPONENT)
        if profile is not None:
            labels[PROFILE_LABEL] = profile.slug
        return labels

    def allow_profile_internet(self, profile: NotebookProfile) -> k8s.KubeNetworkPolicy:
        """Let ``profile``'s servers reach the internet on any port (private ranges excluded)."""
        return self._policy(
            f"singleuser-internet-{profile.slug}",
            self.user_pod_selector(profile),
            ingress_rules=None,
            egress_rules=[egress(internet(self.options))],
        )

    def allow_user_egress(
        self,
        name: str,
        *,
        to: Sequence[k8s.NetworkPolicyPeer],
        ports: Sequence[k8s.NetworkPolicyPort],
        profile: NotebookProfile | None = None,
    ) -> k8s.KubeNetworkPolicy:
        """Add policy ``name`` letting user pods (all, or ``profile``'s) reach ``to`` on ``ports``.

        Example: ``hub.network.allow_user_egress("singleuser-to-trino",
        to=[pods_in_namespace("trino", {"app": "trino"})], ports=[tcp(8080)])``.
        """
        check_dns_label(self, "NetworkPolicy name", name)
        if not ports:
            raise invalid(
                self,
                "ports",
                list(ports),
                allowed="at least one port",
                fix="name the service's port, e.g. ports=[tcp(8080)]",
            )
        return self._policy(
            name,
            self.user_pod_selector(profile),
            ingress_rules=None,
            egress_rules=[egress(to, ports)],
        )


__all__ = [
    "API_SERVER_PORTS",
    "CLOUD_METADATA_ADDRESS",
    "PRIVATE_IPV4_RANGES",
    "PRIVATE_IPV6_RANGES",
    "HubNetworkPolicies",
    "NetworkOptions",
    "cidrs",
    "dns_egress",
    "egress",
    "ingress",
    "internet",
    "pods",
    "pods_in_namespace",
    "tcp",
    "udp",
]

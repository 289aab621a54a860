"""NetworkPolicies for the hub's namespace: deny everything, then allow only what JupyterHub needs.

``JupyterHub`` creates ``HubNetworkPolicies`` unless ``network=None``. The policies are
additive (Kubernetes ORs every policy that selects a pod), so each one below states one
component's traffic and add-ons add their own through ``hub.allow_traffic``, which
renders them here or, with ``network=None``, not at all (``ObservabilityBundle`` lets
Prometheus in, ``CloudflareTunnel`` lets cloudflared reach the proxy, bindings let user
pods reach a platform service). The policies are built by the one NetworkPolicy builder,
``jupyter_constructs.core.network_policy``.

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

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from constructs import Construct

from jupyter_constructs.core.errors import invalid
from jupyter_constructs.core.network_policy import (
    ANY_IPV4,
    ANY_IPV6,
    CLOUD_METADATA_ADDRESS,
    PRIVATE_IPV4_RANGES,
    PRIVATE_IPV6_RANGES,
    Peer,
    Port,
    Rule,
    cidrs,
    egress,
    ingress,
    network_policy,
    pods,
    pods_in_namespace,
    policy_spec,
    tcp,
    udp,
)
from jupyter_constructs.core.network_policy import dns_egress as _dns_egress
from jupyter_constructs.core.network_policy import internet as _internet
from jupyter_constructs.core.objects import KubeObject, adopt
from jupyter_constructs.core.rules import (
    check_bool,
    check_cidr,
    check_dns_label,
    check_dns_subdomain,
    check_labels,
)
from jupyter_constructs.hub.profiles import PROFILE_LABEL, NotebookProfile
from jupyter_constructs.hub.proxy import API_PORT, HTTP_PORT

#: Ports of the Kubernetes API server: the ``kubernetes`` Service (443) and what
#: control planes usually listen on behind it (6443). Policies see the address after
#: the Service is resolved, so both are needed.
API_SERVER_PORTS = (443, 6443)
DEFAULT_DNS_POD_LABELS = {"k8s-app": "kube-dns"}
#: Component label values of the pods the hub creates (``hub.selector_labels``).
USER_COMPONENT = "singleuser-server"
#: The port of a user server (KubeSpawner's default, container port ``notebook-port``).
USER_PORT = 8888

Selector = Mapping[str, Any] | Callable[[], Mapping[str, Any]]
"""A LabelSelector (``{"matchLabels": ...}``), or a function returning it at synth."""


@dataclass(frozen=True)
class NetworkOptions:
    """Where the things the hub's namespace talks to live.

    Attributes:
        ingress_controller_namespace: Namespace whose pods may reach the proxy (when the
            hub has an Ingress). Default: ``"ingress-nginx"``; ``None``: no Ingress path.
        ingress_controller_pod_labels: Narrow that to these pods. Default: any pod of
            that namespace.
        api_server_cidrs: Where the Kubernetes API server is, for the hub (KubeSpawner)
            and the secret bootstrap Job only, ports 443 and 6443. Default:
            ``("0.0.0.0/0",)``, because the address is not known at synth and is usually
            private; narrow it to your control plane's address (e.g.
            ``("172.20.0.10/32",)``, see ``kubectl get endpoints kubernetes``). User pods
            never get this rule.
        database_cidrs: Where PostgreSQL is when the hub uses ``HubDatabase.postgres``
            (its port only). Default: ``("0.0.0.0/0",)``; narrow it.
        dns_namespace: Namespace of the cluster DNS pods, reached on 53 UDP/TCP. Default:
            ``"kube-system"``.
        dns_pod_labels: Labels of the DNS pods. Default: ``{"k8s-app": "kube-dns"}``
            (CoreDNS keeps that label).
        ipv6: Internet rules also allow ``::/0`` minus the private IPv6 ranges. Default:
            True (harmless on IPv4-only clusters).
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
        if self.ingress_controller_pod_labels is not None:
            check_labels(scope, "ingress_controller_pod_labels", self.ingress_controller_pod_labels)
        check_dns_label(scope, "dns_namespace", self.dns_namespace)
        check_labels(scope, "dns_pod_labels", self.dns_pod_labels)
        check_bool(scope, "ipv6", self.ipv6)
        if not self.dns_pod_labels:
            raise invalid(
                scope,
                "dns_pod_labels",
                dict(self.dns_pod_labels),
                allowed="the labels of the cluster DNS pods",
                fix='keep the default {"k8s-app": "kube-dns"} unless your DNS pods differ',
            )
        for what, blocks in (
            ("api_server_cidrs", self.api_server_cidrs),
            ("database_cidrs", self.database_cidrs),
        ):
            if isinstance(blocks, str) or not blocks:
                raise invalid(
                    scope,
                    what,
                    blocks,
                    allowed="a non-empty sequence of CIDRs",
                    fix=f'pass {what}=("172.20.0.10/32",)',
                )
            for cidr in blocks:
                check_cidr(scope, what, cidr)
        return self


def internet(options: NetworkOptions) -> list[Peer]:
    """Every public address, IPv6 too when ``options.ipv6`` (see ``core.network_policy``)."""
    return _internet(ipv6=options.ipv6)


def dns_egress(options: NetworkOptions) -> Rule:
    """Egress to the cluster DNS pods ``options`` names, on 53 UDP and TCP."""
    return _dns_egress(options.dns_namespace, options.dns_pod_labels)


class HubNetworkPolicies(Construct):
    """Default deny for the hub's namespace, plus one policy per component (module docstring).

    Created by ``JupyterHub`` (``hub.network``) unless ``network=None``; every
    NetworkPolicy of the hub and of its add-ons goes through it (``JupyterHub.allow_traffic``).
    Attributes: ``policies`` (name given -> object), ``options``. Use ``allow_user_egress``
    to let user pods reach something else, and ``user_pod_selector`` to write your own
    policy for them.

    Args:
        scope: The hub.
        id: Construct id.
        options: Where DNS, the API server, the ingress controller and the database are.
        selector_labels: The hub's ``selector_labels`` (component -> labels).
        labels: Labels of the hub's own policies.
        hub_port: The hub's port (8081).
        identity_provider: The hub reaches an identity provider over HTTPS.
        database_port: The external database's port; ``None`` for sqlite on a volume.
        ingress_controller: The hub has an Ingress (the controller may reach the proxy).
        secret_bootstrap: The hub renders its secret bootstrap Job.
        image_puller: The hub renders image pre-puller DaemonSets.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        options: NetworkOptions,
        selector_labels: Callable[[str], dict[str, str]],
        labels: Mapping[str, str],
        hub_port: int,
        identity_provider: bool,
        database_port: int | None,
        ingress_controller: bool,
        secret_bootstrap: bool,
        image_puller: bool,
    ) -> None:
        super().__init__(scope, id)
        adopt(self, scope, id)
        self.options = options.check(self)
        self._selector_labels = selector_labels
        self._labels = dict(labels)
        self.policies: dict[str, KubeObject] = {}
        sel = selector_labels
        hub_pods, proxy_pods, user_pods = (
            pods(sel("hub")),
            pods(sel("proxy")),
            pods(sel(USER_COMPONENT)),
        )
        dns = dns_egress(options)
        api_server = egress(cidrs(options.api_server_cidrs), [tcp(p) for p in API_SERVER_PORTS])

        self._policy("default-deny", {}, ingress_rules=[], egress_rules=[])

        hub_egress = [
            dns,
            egress([proxy_pods], [tcp(API_PORT)]),
            egress([user_pods], [tcp(USER_PORT)]),
            api_server,
        ]
        if identity_provider:
            hub_egress.append(egress(internet(options), [tcp(443)]))
        if database_port is not None:
            hub_egress.append(egress(cidrs(options.database_cidrs), [tcp(database_port)]))
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
        if ingress_controller and options.ingress_controller_namespace is not None:
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
                egress([user_pods], [tcp(USER_PORT)]),
            ],
        )

        self._policy(
            USER_COMPONENT,
            sel(USER_COMPONENT),
            ingress_rules=[ingress([proxy_pods, hub_pods], [tcp(USER_PORT)])],
            egress_rules=[
                dns,
                egress([hub_pods], [tcp(hub_port)]),
                egress([proxy_pods], [tcp(HTTP_PORT)]),
            ],
        )
        if secret_bootstrap:
            # It reaches the API server by the address in KUBERNETES_SERVICE_HOST: no DNS.
            self._policy(
                "secret-bootstrap",
                sel("secret-bootstrap"),
                ingress_rules=[],
                egress_rules=[api_server],
            )
        if image_puller:
            # Explicit, so the intent is visible: the kubelet pulls, the pods never talk.
            self._policy("image-puller", sel("image-puller"), ingress_rules=[], egress_rules=[])

    def _policy(
        self,
        name: str,
        selector: Mapping[str, str],
        *,
        ingress_rules: Sequence[Rule] | None,
        egress_rules: Sequence[Rule] | None,
    ) -> KubeObject:
        return self.allow(
            self,
            name,
            name=name,
            labels=self._labels,
            pod_selector={"matchLabels": dict(selector)} if selector else {},
            ingress_rules=ingress_rules,
            egress_rules=egress_rules,
        )

    # -- the one way to add a policy ------------------------------------------------------

    def allow(
        self,
        scope: Construct,
        id: str,
        *,
        pod_selector: Selector,
        ingress_rules: Sequence[Rule] | None = None,
        egress_rules: Sequence[Rule] | None = None,
        name: str | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> KubeObject:
        """Add a NetworkPolicy letting the selected pods receive or send what the rules say.

        Args:
            scope: The construct the policy belongs to (its path names the policy when
                ``name`` is not given).
            id: Its construct id.
            pod_selector: The pods it applies to, or a function returning the selector at
                synth (for selectors that depend on later calls).
            ingress_rules: Allowed ingress; ``[]`` isolates the pods, ``None`` leaves
                ingress alone. Default: ``None``.
            egress_rules: Allowed egress, same meaning. Default: ``None``.
            name: ``metadata.name``. Default: generated from the construct path.
            labels: ``metadata.labels``. Default: none.

        Returns:
            The NetworkPolicy.

        Raises:
            ConfigurationError: ``name`` is already used by a policy of this hub.
        """
        if name is not None:
            check_dns_subdomain(self, "NetworkPolicy name", name)
        if labels is not None:
            check_labels(self, "NetworkPolicy labels", labels)
        if name is not None and name in self.policies:
            raise invalid(
                self,
                "NetworkPolicy name",
                name,
                allowed="a name not used by another policy of this hub",
                fix="give the policy its own name",
            )

        def spec() -> dict[str, Any]:
            selector = pod_selector() if callable(pod_selector) else pod_selector
            return policy_spec(selector, ingress_rules=ingress_rules, egress_rules=egress_rules)

        policy = network_policy(
            scope,
            id,
            name=name,
            labels=labels,
            spec=spec if callable(pod_selector) else spec(),
        )
        if name is not None:
            self.policies[name] = policy
        return policy

    # -- for profiles, bindings and users -----------------------------------------------

    def user_pod_selector(self, profile: NotebookProfile | None = None) -> dict[str, str]:
        """Labels selecting every user pod of this hub, or only ``profile``'s."""
        labels = self._selector_labels(USER_COMPONENT)
        if profile is not None:
            labels[PROFILE_LABEL] = profile.slug
        return labels

    def allow_profile_internet(self, profile: NotebookProfile) -> KubeObject:
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
        to: Sequence[Peer],
        ports: Sequence[Port],
        profile: NotebookProfile | None = None,
    ) -> KubeObject:
        """Add policy ``name`` letting user pods (all, or ``profile``'s) reach ``to`` on ``ports``.

        Example: ``hub.network.allow_user_egress("singleuser-to-trino",
        to=[pods_in_namespace("trino", {"app": "trino"})], ports=[tcp(8080)])``.

        Args:
            name: The policy's name (a DNS label, unique in the hub).
            to: Peers (``pods_in_namespace``, ``cidrs``, ...).
            ports: Ports (``tcp``, ``udp``); at least one.
            profile: Only this profile's servers. Default: every user pod.

        Returns:
            The NetworkPolicy.
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
    "ANY_IPV4",
    "ANY_IPV6",
    "API_SERVER_PORTS",
    "CLOUD_METADATA_ADDRESS",
    "PRIVATE_IPV4_RANGES",
    "PRIVATE_IPV6_RANGES",
    "HubNetworkPolicies",
    "NetworkOptions",
    "check_cidr",
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

"""NetworkPolicies for the hub's namespace: deny everything, then allow only what JupyterHub needs.

``JupyterHub`` creates ``HubNetworkPolicies`` unless ``network=None``. The policies are
additive (Kubernetes ORs every policy that selects a pod), so each one below states one
component's traffic and add-ons add their own through ``hub.allow_traffic``, which
renders them here or, with ``network=None``, not at all (``ObservabilityBundle`` lets
Prometheus in, ``CloudflareTunnel`` lets cloudflared reach the proxy, bindings let user
pods reach a platform service's pods). The policies are built by the one NetworkPolicy
builder, ``jupyter_constructs.core.network_policy``.

=====================  ==================================================================
Policy                 What it allows
=====================  ==================================================================
``default-deny``       Nothing: every pod of the namespace is isolated both ways.
``hub``                In: proxy and user pods on 8081. Out: DNS, proxy API (8001),
                       user pods (8888), the Kubernetes API server (443/6443 to
                       ``api_server_cidrs``), the identity provider (443 to the internet)
                       when the authenticator needs it, PostgreSQL when configured.
``proxy``              In: the ingress controller's pods on 8000, the hub on 8001, user
                       pods on 8000. Out: DNS, hub (8081), user pods (8888).
``singleuser-server``  In: proxy and hub on 8888 only, so users cannot reach each other.
                       Out: DNS, hub (8081), proxy (8000).
``singleuser-internet``  Out: the internet on any port, for the servers of every profile
                       with internet access (``user_internet_access``, the hub-wide
                       default, or the profile's ``internet_access``); private ranges and
                       cloud metadata (169.254.169.254) are always excluded.
``secret-bootstrap``   Out: the Kubernetes API server only.
``image-puller``       Nothing (the kubelet pulls images, the pods never talk).
=====================  ==================================================================

With ``cni=Cni.CILIUM`` two CiliumNetworkPolicies are added (``hub-api-server``,
``secret-bootstrap-api-server``): Cilium gives the API server the ``kube-apiserver``
identity, which no ``ipBlock`` matches with its default settings.

Hub-managed services (the idle culler) run inside the hub pod and reach the hub over
the pod's loopback (``http://localhost:8081/hub/api``): traffic that never leaves the
pod, so no policy is needed and none applies. Through the ``hub`` Service it would be
hairpin traffic that these policies (rightly) deny on iptables-based CNIs.

Cloud metadata is blocked by these policies, not by a privileged iptables init
container as z2jh does, so the namespace can enforce the ``restricted`` Pod Security
Standard. Kubelet probes come from the node, which CNIs admit regardless of policy.
Reference: docs/security.md (what each CNI and DNS setup needs).
"""

from __future__ import annotations

import enum
import ipaddress
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

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
    anywhere,
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
    check_int,
    check_labels,
    is_labels,
)
from jupyter_constructs.core.sync_waves import SyncWave
from jupyter_constructs.crds.cilium import CiliumNetworkPolicy
from jupyter_constructs.hub.ingress import IngressController
from jupyter_constructs.hub.profiles import PROFILE_LABEL, NotebookProfile
from jupyter_constructs.hub.proxy import API_PORT, HTTP_PORT

if TYPE_CHECKING:
    from jupyter_constructs.crds.cilium.ciliumnetworkpolicy import (
        CiliumNetworkPolicySpecEgressItemToPortPort,
    )

#: Ports of the Kubernetes API server: the ``kubernetes`` Service (443) and what
#: control planes usually listen on behind it (6443). Policies see the address after
#: the Service is resolved, so both are needed.
API_SERVER_PORTS = (443, 6443)
#: The label CoreDNS and kube-dns pods carry on kubeadm, EKS, AKS, GKE, k3s and RKE2.
KUBE_DNS_POD_LABELS = {"k8s-app": "kube-dns"}
#: The label of NodeLocal DNSCache's pods (its upstream manifest, and Cilium's guide).
NODE_LOCAL_DNS_POD_LABELS = {"k8s-app": "node-local-dns"}
#: The address NodeLocal DNSCache listens on, on every node (its upstream default).
NODE_LOCAL_DNS_ADDRESS = "169.254.20.10"
#: Component label values of the pods the hub creates (``hub.selector_labels``).
USER_COMPONENT = "singleuser-server"
#: The port of a user server (KubeSpawner's default, container port ``notebook-port``).
USER_PORT = 8888
#: The one policy that lets user servers reach the internet.
USER_INTERNET_POLICY = "singleuser-internet"

Selector = Mapping[str, Any] | Callable[[], Mapping[str, Any]]
"""A LabelSelector (``{"matchLabels": ...}``), or a function returning it at synth."""


class Cni(enum.Enum):
    """The cluster's network plugin, where it changes what the policies must say.

    Reference: docs/security.md, "What each CNI and DNS setup needs".
    """

    STANDARD = "standard"
    """A CNI that enforces NetworkPolicy as written, ``ipBlock`` included (Calico,
    Antrea, kube-router, AWS VPC CNI and Azure NPM network policies, ...)."""
    CILIUM = "cilium"
    """Cilium (also GKE Dataplane V2): the API server is the ``kube-apiserver``
    entity, which ``ipBlock`` rules do not match with its default
    ``policy-cidr-match-mode``; a CiliumNetworkPolicy lets the hub and the bootstrap
    Job reach it."""


@dataclass(frozen=True)
class ClusterDns:
    """Where the cluster's pods send DNS queries, as NetworkPolicies see them.

    Every pod that resolves names (hub, proxy, user servers, cloudflared) may send DNS
    (UDP and TCP, ``port``) to these resolvers and nowhere else on that port. Use a
    preset; to find which one your cluster needs, read a pod's ``/etc/resolv.conf``
    (``kubectl run dns-check --rm -it --image=busybox --restart=Never -- cat
    /etc/resolv.conf``):

    - the kube-dns Service's ClusterIP (``kubectl -n kube-system get svc kube-dns``) and
      no ``node-local-dns`` DaemonSet: ``ClusterDns.kube_dns()`` (CoreDNS included);
    - ``169.254.20.10``, or the ClusterIP with a ``node-local-dns`` DaemonSet in
      ``kube-system``: ``ClusterDns.node_local_dns(kube_dns_service_ip=...)``;
    - ``169.254.169.254`` on GKE: ``ClusterDns.gke_cloud_dns()``.

    Attributes:
        namespace: Namespace of the resolver pods. Default: ``"kube-system"``.
        pod_labels: One label set per kind of resolver pod; a pod matching any of them
            is a resolver. Default: ``({"k8s-app": "kube-dns"},)``. Empty: no pod.
        cidrs: Resolver addresses that no pod selector matches (node-local caches, a
            cloud's resolver, a Service ClusterIP that is not translated). Default: none.
        port: The port the resolvers listen on, as policies see it. Default: 53.
    """

    namespace: str = "kube-system"
    pod_labels: Sequence[Mapping[str, str]] = (KUBE_DNS_POD_LABELS,)
    cidrs: Sequence[str] = ()
    port: int = 53

    @classmethod
    def kube_dns(
        cls, *, namespace: str = "kube-system", pod_labels: Mapping[str, str] | None = None
    ) -> ClusterDns:
        """The cluster DNS pods, kube-dns or CoreDNS: what most clusters run.

        Args:
            namespace: Their namespace. Default: ``"kube-system"``.
            pod_labels: Their labels. Default: ``{"k8s-app": "kube-dns"}``, which CoreDNS
                keeps on kubeadm, EKS, AKS, GKE, k3s and RKE2 (CoreDNS installed from its
                own Helm chart has ``app.kubernetes.io/name: coredns``).

        Returns:
            The resolvers: those pods on 53.
        """
        labels = dict(KUBE_DNS_POD_LABELS if pod_labels is None else pod_labels)
        return cls(namespace=namespace, pod_labels=(labels,))

    @classmethod
    def node_local_dns(
        cls,
        *,
        kube_dns_service_ip: str,
        local_address: str = NODE_LOCAL_DNS_ADDRESS,
        namespace: str = "kube-system",
        pod_labels: Mapping[str, str] | None = None,
    ) -> ClusterDns:
        """NodeLocal DNSCache: a cache on every node, in front of the cluster DNS pods.

        Pods query ``local_address`` (kubelet ``--cluster-dns``), or the kube-dns
        ClusterIP that the cache intercepts on the node before any translation: both
        are addresses of the node, which no pod selector matches. When the cache is
        down, queries to the ClusterIP reach the kube-dns pods. On Cilium the cache runs
        as pods behind a Local Redirect Policy (Cilium's documented way): those pods
        (``k8s-app: node-local-dns``) are resolvers too.
        Reference: https://kubernetes.io/docs/tasks/administer-cluster/nodelocaldns/

        Args:
            kube_dns_service_ip: The kube-dns Service's ClusterIP (``kubectl -n
                kube-system get svc kube-dns -o jsonpath='{.spec.clusterIP}'``).
            local_address: The cache's node-local address. Default: ``169.254.20.10``.
            namespace: Namespace of the DNS pods. Default: ``"kube-system"``.
            pod_labels: Labels of the cluster DNS pods. Default: ``{"k8s-app":
                "kube-dns"}``.

        Returns:
            The resolvers: both addresses, the kube-dns pods and the cache's pods, on 53.

        Raises:
            ConfigurationError: An address is not an IP address.
        """
        labels = dict(KUBE_DNS_POD_LABELS if pod_labels is None else pod_labels)
        return cls(
            namespace=namespace,
            pod_labels=(labels, dict(NODE_LOCAL_DNS_POD_LABELS)),
            cidrs=(
                _host_cidr(local_address, "local_address"),
                _host_cidr(kube_dns_service_ip, "kube_dns_service_ip"),
            ),
        )

    @classmethod
    def gke_cloud_dns(cls) -> ClusterDns:
        """GKE with Cloud DNS: every pod's resolver is the metadata server, on port 53.

        Only port 53 of 169.254.169.254 opens: the metadata API (port 80) stays blocked.
        Reference: https://cloud.google.com/kubernetes-engine/docs/how-to/cloud-dns

        Returns:
            The resolver: ``169.254.169.254/32`` on 53, no pod.
        """
        return cls(pod_labels=(), cidrs=(f"{CLOUD_METADATA_ADDRESS}/32",))

    def check(self, scope: Construct) -> ClusterDns:
        """Return self if every field is valid.

        Args:
            scope: The construct that uses it (errors name its path).

        Raises:
            ConfigurationError: A field is invalid.
        """
        check_dns_label(scope, "ClusterDns.namespace", self.namespace)
        if isinstance(self.pod_labels, Mapping) or isinstance(self.cidrs, str):
            raise invalid(
                scope,
                "ClusterDns",
                "a mapping or a string",
                allowed="pod_labels: a sequence of label mappings; cidrs: a sequence of CIDRs",
                fix='pass pod_labels=({"k8s-app": "kube-dns"},) and cidrs=("169.254.20.10/32",)',
            )
        for labels in self.pod_labels:
            if not labels or not is_labels(labels):
                raise invalid(
                    scope,
                    "ClusterDns.pod_labels",
                    dict(labels),
                    allowed="non-empty Kubernetes labels of the resolver pods",
                    fix="copy them from `kubectl -n kube-system get pods --show-labels`",
                )
        for cidr in self.cidrs:
            check_cidr(scope, "ClusterDns.cidrs", cidr)
        if not self.pod_labels and not self.cidrs:
            raise invalid(
                scope,
                "ClusterDns",
                "no resolver",
                allowed="resolver pods (pod_labels) or addresses (cidrs)",
                fix="use a preset: ClusterDns.kube_dns(), ClusterDns.node_local_dns(...) "
                "or ClusterDns.gke_cloud_dns()",
            )
        check_int(scope, "ClusterDns.port", self.port, minimum=1, maximum=65535, fix="usually 53")
        return self

    def peers(self) -> list[Peer]:
        """The resolvers as NetworkPolicy peers: one per pod label set, then the addresses."""
        return [pods_in_namespace(self.namespace, labels) for labels in self.pod_labels] + cidrs(
            self.cidrs
        )


def _host_cidr(address: str, what: str) -> str:
    """``address`` as a one-address CIDR (``/32``, or ``/128`` for IPv6).

    Raises:
        ConfigurationError: ``address`` is not an IP address.
    """
    try:
        parsed = ipaddress.ip_address(address)
    except (TypeError, ValueError):
        raise invalid(
            "ClusterDns.node_local_dns",
            what,
            address,
            allowed="an IPv4 or IPv6 address, without a prefix length",
            fix="e.g. kube_dns_service_ip='10.96.0.10' (kubectl -n kube-system get svc "
            "kube-dns -o jsonpath='{.spec.clusterIP}')",
        ) from None
    return f"{parsed}/{parsed.max_prefixlen}"


@dataclass(frozen=True)
class NetworkOptions:
    """Where the things the hub's namespace talks to live, and what users may reach.

    Attributes:
        dns: The cluster's resolvers (``ClusterDns``). Default: ``ClusterDns.kube_dns()``
            (kube-dns/CoreDNS pods in ``kube-system``); NodeLocal DNSCache and GKE Cloud
            DNS need their preset, or every pod loses name resolution.
        api_server_cidrs: Where the Kubernetes API server is, for the hub (KubeSpawner)
            and the secret bootstrap Job only, ports 443 and 6443. Default: ``None``,
            every address (``0.0.0.0/0``, and ``::/0`` with ``ipv6``), because the
            address is not known at synth and is usually private; narrow it to your
            control plane (e.g. ``("172.20.0.10/32",)``, see ``kubectl get endpoints
            kubernetes``). User pods never get this rule.
        database_cidrs: Where PostgreSQL is when the hub uses ``HubDatabase.postgres``
            (its port only). Default: ``None``, every address; narrow it.
        user_internet_access: The hub-wide default for user servers: reach public
            addresses on any port (``pip install``, ``git clone``, datasets), private
            ranges and cloud metadata excluded. A profile's ``internet_access`` overrides
            it. Default: True, as z2jh's ``egressAllowRules.nonPrivateIPs``.
        cni: The network plugin, where it matters (``Cni``). Default: ``Cni.STANDARD``.
        ipv6: Every rule to addresses also covers IPv6 (internet rules exclude the
            private IPv6 ranges). Default: True (harmless on IPv4-only clusters).
    """

    dns: ClusterDns = field(default_factory=ClusterDns.kube_dns)
    api_server_cidrs: Sequence[str] | None = None
    database_cidrs: Sequence[str] | None = None
    user_internet_access: bool = True
    cni: Cni = Cni.STANDARD
    ipv6: bool = True

    def check(self, scope: Construct) -> NetworkOptions:
        """Return self if every field is valid, else raise a ``ConfigurationError``."""
        check_bool(scope, "user_internet_access", self.user_internet_access)
        check_bool(scope, "ipv6", self.ipv6)
        if not isinstance(self.dns, ClusterDns):
            raise invalid(
                scope,
                "dns",
                type(self.dns).__name__,
                allowed="a ClusterDns",
                fix="pass dns=ClusterDns.kube_dns() (or node_local_dns(...), gke_cloud_dns())",
            )
        self.dns.check(scope)
        if not isinstance(self.cni, Cni):
            raise invalid(
                scope,
                "cni",
                self.cni,
                allowed=", ".join(f"Cni.{c.name}" for c in Cni),
                fix="pass cni=Cni.CILIUM on Cilium, else leave the default",
            )
        for what, blocks in (
            ("api_server_cidrs", self.api_server_cidrs),
            ("database_cidrs", self.database_cidrs),
        ):
            if blocks is None:
                continue
            if isinstance(blocks, str) or not blocks:
                raise invalid(
                    scope,
                    what,
                    blocks,
                    allowed="a non-empty sequence of CIDRs, or None for every address",
                    fix=f'pass {what}=("172.20.0.10/32",)',
                )
            for cidr in blocks:
                check_cidr(scope, what, cidr)
        return self

    def api_server_peers(self) -> list[Peer]:
        """``api_server_cidrs`` as peers (every address when not given)."""
        if self.api_server_cidrs is None:
            return anywhere(ipv6=self.ipv6)
        return cidrs(self.api_server_cidrs)

    def database_peers(self) -> list[Peer]:
        """``database_cidrs`` as peers (every address when not given)."""
        if self.database_cidrs is None:
            return anywhere(ipv6=self.ipv6)
        return cidrs(self.database_cidrs)


def internet(options: NetworkOptions) -> list[Peer]:
    """Every public address, IPv6 too when ``options.ipv6`` (see ``core.network_policy``)."""
    return _internet(ipv6=options.ipv6)


def dns_egress(options: NetworkOptions) -> Rule:
    """Egress to the resolvers ``options.dns`` names, UDP and TCP."""
    return _dns_egress(options.dns.peers(), options.dns.port)


class HubNetworkPolicies(Construct):
    """Default deny for the hub's namespace, plus one policy per component (module docstring).

    Created by ``JupyterHub`` (``hub.network``) unless ``network=None``; every
    NetworkPolicy of the hub and of its add-ons goes through it (``JupyterHub.allow_traffic``).
    Attributes: ``policies`` (name given -> object), ``cilium_policies`` (name ->
    CiliumNetworkPolicy, with ``Cni.CILIUM``), ``options``. Use ``allow_user_egress`` to
    let user pods reach something else, and ``user_pod_selector`` to write your own
    policy for them.

    Args:
        scope: The hub.
        id: Construct id.
        options: Where DNS, the API server and the database are; the CNI.
        selector_labels: The hub's ``selector_labels`` (component -> labels).
        labels: Labels of the hub's own policies.
        hub_port: The hub's port (8081).
        identity_provider: The hub reaches an identity provider over HTTPS.
        database_port: The external database's port; ``None`` for sqlite on a volume.
        ingress_controller: The controller in front of the hub's Ingress (its pods may
            reach the proxy); ``None`` when the hub has no Ingress.
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
        ingress_controller: IngressController | None,
        secret_bootstrap: bool,
        image_puller: bool,
    ) -> None:
        super().__init__(scope, id)
        adopt(self, scope, id)
        self.options = options.check(self)
        self._selector_labels = selector_labels
        self._labels = dict(labels)
        self.policies: dict[str, KubeObject] = {}
        self.cilium_policies: dict[str, KubeObject] = {}
        self._internet_profiles: list[NotebookProfile] = []
        sel = selector_labels
        hub_pods, proxy_pods, user_pods = (
            pods(sel("hub")),
            pods(sel("proxy")),
            pods(sel(USER_COMPONENT)),
        )
        dns = dns_egress(options)
        api_server = egress(options.api_server_peers(), [tcp(p) for p in API_SERVER_PORTS])

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
            hub_egress.append(egress(options.database_peers(), [tcp(database_port)]))
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
        if ingress_controller is not None:
            controller: list[Peer] = cidrs(ingress_controller.cidrs)
            if ingress_controller.namespace is not None:
                # Namespace AND pods: one peer with both selectors.
                controller.insert(
                    0,
                    pods_in_namespace(ingress_controller.namespace, ingress_controller.pod_labels),
                )
            proxy_ingress.insert(0, ingress(controller, [tcp(HTTP_PORT)]))
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
        if options.cni is Cni.CILIUM:
            self._cilium_api_server("hub-api-server", sel("hub"))
        if secret_bootstrap:
            # It reaches the API server by the address in KUBERNETES_SERVICE_HOST: no DNS.
            self._policy(
                "secret-bootstrap",
                sel("secret-bootstrap"),
                ingress_rules=[],
                egress_rules=[api_server],
            )
            if options.cni is Cni.CILIUM:
                self._cilium_api_server("secret-bootstrap-api-server", sel("secret-bootstrap"))
        if image_puller:
            # Explicit, so the intent is visible: the kubelet pulls, the pods never talk.
            self._policy("image-puller", sel("image-puller"), ingress_rules=[], egress_rules=[])

    def _cilium_api_server(self, name: str, selector: Mapping[str, str]) -> KubeObject:
        """A CiliumNetworkPolicy letting ``selector``'s pods reach the API server entity.

        Reference: https://docs.cilium.io/en/stable/security/policy/language/#entities-based
        """
        ports: list[CiliumNetworkPolicySpecEgressItemToPortPort] = [
            {"port": str(p), "protocol": "TCP"} for p in API_SERVER_PORTS
        ]
        policy = CiliumNetworkPolicy(
            self,
            f"cilium-{name}",
            name=name,
            labels=self._labels,
            # Before any workload, like the NetworkPolicies: the bootstrap Job (wave -1)
            # needs it.
            wave=SyncWave.CONFIGURATION,
            spec={
                "description": "Reach the Kubernetes API server, Cilium's kube-apiserver "
                "entity (an ipBlock rule does not match it).",
                "endpointSelector": {"matchLabels": dict(selector)},
                "egress": [
                    {
                        "toEntities": ["kube-apiserver"],
                        "toPorts": [{"ports": ports}],
                    }
                ],
            },
        )
        self.cilium_policies[name] = policy
        return policy

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

    def allow_api_server(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        pod_labels: Mapping[str, str],
        labels: Mapping[str, str] | None = None,
    ) -> list[KubeObject]:
        """Let the selected pods reach the Kubernetes API server, and receive nothing.

        For an add-on's pods that talk to the API server (the user scheduler): egress to
        ``api_server_cidrs`` on 443/6443 (they find it by ``KUBERNETES_SERVICE_HOST``, so
        no DNS), ingress isolated (kubelet probes come from the node, which CNIs admit);
        with ``cni=Cni.CILIUM`` also a CiliumNetworkPolicy to the ``kube-apiserver`` entity.

        Args:
            scope: The construct the NetworkPolicy belongs to.
            id: Its construct id.
            name: The NetworkPolicy's name (the Cilium policy is ``<name>-api-server``).
            pod_labels: Labels selecting the pods.
            labels: The NetworkPolicy's labels. Default: none.

        Returns:
            The NetworkPolicy, then the CiliumNetworkPolicy when the CNI is Cilium.
        """
        api_server = egress(self.options.api_server_peers(), [tcp(p) for p in API_SERVER_PORTS])
        policies = [
            self.allow(
                scope,
                id,
                name=name,
                labels=labels,
                pod_selector={"matchLabels": dict(pod_labels)},
                ingress_rules=[],
                egress_rules=[api_server],
            )
        ]
        if self.options.cni is Cni.CILIUM:
            policies.append(self._cilium_api_server(f"{name}-api-server", pod_labels))
        return policies

    # -- for profiles, bindings and users -----------------------------------------------

    def user_pod_selector(self, profile: NotebookProfile | None = None) -> dict[str, Any]:
        """The LabelSelector of every user pod of this hub, or of ``profile``'s only.

        A profile's pods are selected by its slug and its ``former_slugs`` (servers started
        before a rename keep the old label until they restart).
        """
        selector: dict[str, Any] = {"matchLabels": self._selector_labels(USER_COMPONENT)}
        if profile is not None:
            selector["matchExpressions"] = [
                {"key": PROFILE_LABEL, "operator": "In", "values": list(profile.slugs)}
            ]
        return selector

    def add_profile(self, profile: NotebookProfile) -> None:
        """Give ``profile``'s servers internet access if it has it (the hub calls this).

        A profile has internet access when its ``internet_access`` says so, or, when that
        is ``None``, when ``options.user_internet_access`` does. All of them share the
        ``singleuser-internet`` policy, whose pod selector lists their slugs.
        """
        allowed = profile.internet_access
        if allowed is None:
            allowed = self.options.user_internet_access
        if not allowed:
            return
        self._internet_profiles.append(profile)
        if USER_INTERNET_POLICY in self.policies:
            return

        def selector() -> dict[str, Any]:
            return {
                **self.user_pod_selector(),
                "matchExpressions": [
                    {
                        "key": PROFILE_LABEL,
                        "operator": "In",
                        # Former slugs too: running servers keep their label through a rename.
                        "values": [s for p in self._internet_profiles for s in p.slugs],
                    }
                ],
            }

        self.allow(
            self,
            USER_INTERNET_POLICY,
            name=USER_INTERNET_POLICY,
            labels=self._labels,
            pod_selector=selector,
            egress_rules=[egress(internet(self.options))],
        )

    @property
    def internet_profiles(self) -> list[NotebookProfile]:
        """The profiles whose servers may reach the internet."""
        return list(self._internet_profiles)

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

        Raises:
            ConfigurationError: ``name`` is not a DNS label or taken, ``ports`` is empty, or
                an ``ipBlock`` contains a cloud metadata address (169.254.169.254,
                fd00:ec2::254) without listing it in ``except``: it gives out the node's
                cloud credentials.
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
        for peer in to:
            _refuse_cloud_metadata(self, peer)
        return self.allow(
            self,
            name,
            name=name,
            labels=self._labels,
            pod_selector=self.user_pod_selector(profile),
            egress_rules=[egress(to, ports)],
        )


#: The cloud metadata services (AWS, GCP, Azure, OpenStack: 169.254.169.254; AWS IPv6:
#: fd00:ec2::254): they hand out the node's cloud credentials to whoever asks.
_METADATA_ADDRESSES = (
    ipaddress.ip_address(CLOUD_METADATA_ADDRESS),
    ipaddress.ip_address("fd00:ec2::254"),
)


def _refuse_cloud_metadata(scope: Construct, peer: Any) -> None:
    """Refuse an ``ipBlock`` peer that lets user pods reach a cloud metadata address.

    Code in a notebook that reaches ``169.254.169.254`` reads the node's cloud credentials
    (instance role, service-account token), unless the cloud blocks it: users would get the
    node's identity. A CIDR that contains it must list it in ``except``.
    """
    block = peer.get("ipBlock") if isinstance(peer, Mapping) else None
    if not isinstance(block, Mapping) or not isinstance(block.get("cidr"), str):
        return
    try:
        network = ipaddress.ip_network(block["cidr"], strict=False)
        excepted = [ipaddress.ip_network(e, strict=False) for e in block.get("except") or ()]
    except ValueError:
        return  # not a CIDR: the object's own check refuses it
    for address in _METADATA_ADDRESSES:
        if address.version != network.version or address not in network:
            continue
        if any(address.version == e.version and address in e for e in excepted):
            continue
        raise invalid(
            scope,
            "egress peer",
            block["cidr"],
            allowed=f"CIDRs that leave out the cloud metadata address {address}: code in a "
            "notebook that reaches it reads the node's cloud credentials",
            fix=f"add except=['{address}/{address.max_prefixlen}'] to the ipBlock, narrow the "
            "CIDR to the service's addresses, or use internet() (it leaves out every private "
            "and link-local range)",
        )


__all__ = [
    "ANY_IPV4",
    "ANY_IPV6",
    "API_SERVER_PORTS",
    "CLOUD_METADATA_ADDRESS",
    "NODE_LOCAL_DNS_ADDRESS",
    "PRIVATE_IPV4_RANGES",
    "PRIVATE_IPV6_RANGES",
    "ClusterDns",
    "Cni",
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

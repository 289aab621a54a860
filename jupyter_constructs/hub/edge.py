"""Ways to the proxy besides an Ingress: an ``HTTPRoute``, a LoadBalancer or NodePort.

A Gateway API ``HTTPRoute``, or the ``proxy-public`` Service itself exposed.

- ``GatewayRoute`` (``JupyterHub(gateway=...)``): an ``HTTPRoute`` attached to a Gateway
  you run (Envoy Gateway, Istio, NGINX Gateway Fabric, GKE...), instead of the Ingress.
  The proxy's NetworkPolicy admits the Gateway's data-plane pods only.
  https://gateway-api.sigs.k8s.io/api-types/httproute/
- ``PublicService`` (``JupyterHub(public_service=...)``): ``proxy-public`` as a
  ``LoadBalancer`` or ``NodePort`` Service. The proxy's NetworkPolicy admits exactly the
  ``source_ranges`` (also the load balancer's ``loadBalancerSourceRanges``), which only
  works if the client's address survives to the pod: ``externalTrafficPolicy: Local``
  is rendered for that. https://kubernetes.io/docs/concepts/services-networking/service/
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from constructs import Construct

from jupyter_constructs.core.errors import invalid
from jupyter_constructs.core.objects import adopt
from jupyter_constructs.core.rules import (
    check_cidr,
    check_dns_label,
    check_dns_subdomain,
    is_labels,
)
from jupyter_constructs.crds.gateway import HTTPRoute
from jupyter_constructs.hub.proxy import PUBLIC_PORT, PUBLIC_SERVICE

if TYPE_CHECKING:
    from jupyter_constructs.crds.gateway.httproute import (
        HTTPRouteSpecParentRef,
        HTTPRouteSpecRuleMatch,
    )

#: Labels Envoy Gateway gives the Envoy pods of a Gateway (its default deployment mode).
ENVOY_GATEWAY_LABEL = "gateway.envoyproxy.io/owning-gateway-name"
#: The label Gateway API implementations that deploy one data plane per Gateway (Istio,
#: NGINX Gateway Fabric) give its pods (GEP-1762).
GATEWAY_NAME_LABEL = "gateway.networking.k8s.io/gateway-name"


@dataclass(frozen=True)
class GatewayRoute:
    """An ``HTTPRoute`` from a Gateway to the proxy, instead of the Ingress.

    The Gateway must let routes of the hub's namespace attach (its listener's
    ``allowedRoutes.namespaces``) and holds the TLS certificate. The route matches the
    hub's hostnames and ``base_url`` and disables the request timeout (``0s``): kernels
    keep a websocket open for hours and uploads take minutes.

    Attributes:
        gateway_name: The Gateway's name.
        gateway_namespace: Its namespace.
        section_name: One listener of the Gateway (e.g. ``"https"``). Default: none
            (every listener that admits the route).
        data_plane_namespace: Where the Gateway's proxy pods run; ``None`` when only
            ``data_plane_cidrs`` reach the proxy.
        data_plane_pod_labels: Their labels (all must match; required with a namespace).
        data_plane_cidrs: Addresses the data plane connects from when it is not a pod
            (a cloud load balancer in front of pods). Default: none.

    Use ``GatewayRoute.envoy_gateway(...)`` or ``GatewayRoute.per_gateway_deployment(...)``
    for the common layouts.
    """

    gateway_name: str
    gateway_namespace: str
    section_name: str | None = None
    data_plane_namespace: str | None = None
    data_plane_pod_labels: Mapping[str, str] = field(default_factory=dict)
    data_plane_cidrs: Sequence[str] = ()

    @classmethod
    def envoy_gateway(
        cls,
        gateway_name: str,
        *,
        gateway_namespace: str,
        section_name: str | None = None,
        controller_namespace: str = "envoy-gateway-system",
    ) -> GatewayRoute:
        """A Gateway of Envoy Gateway (https://gateway.envoyproxy.io).

        Its Envoy pods run in the controller's namespace, labelled with the Gateway's name.

        Args:
            gateway_name: The Gateway.
            gateway_namespace: Its namespace.
            section_name: One listener. Default: none.
            controller_namespace: Envoy Gateway's namespace. Default:
                ``"envoy-gateway-system"``.
        """
        return cls(
            gateway_name=gateway_name,
            gateway_namespace=gateway_namespace,
            section_name=section_name,
            data_plane_namespace=controller_namespace,
            data_plane_pod_labels={ENVOY_GATEWAY_LABEL: gateway_name},
        )

    @classmethod
    def per_gateway_deployment(
        cls, gateway_name: str, *, gateway_namespace: str, section_name: str | None = None
    ) -> GatewayRoute:
        """A Gateway whose implementation deploys its pods beside it.

        Those pods are labelled ``gateway.networking.k8s.io/gateway-name`` (Istio, NGINX
        Gateway Fabric).
        """
        return cls(
            gateway_name=gateway_name,
            gateway_namespace=gateway_namespace,
            section_name=section_name,
            data_plane_namespace=gateway_namespace,
            data_plane_pod_labels={GATEWAY_NAME_LABEL: gateway_name},
        )

    def check(self, scope: Construct) -> GatewayRoute:
        """Return self if every field is valid.

        Raises:
            ConfigurationError: A field is invalid.
        """
        # Gateway API: the parent's name is an object name (a DNS subdomain), its
        # namespace a DNS label, sectionName a DNS subdomain (SectionName).
        # https://gateway-api.sigs.k8s.io/reference/spec/#sectionname
        check_dns_subdomain(scope, "GatewayRoute.gateway_name", self.gateway_name)
        check_dns_label(scope, "GatewayRoute.gateway_namespace", self.gateway_namespace)
        if self.section_name is not None:
            check_dns_subdomain(scope, "GatewayRoute.section_name", self.section_name)
        if self.data_plane_namespace is not None:
            check_dns_label(scope, "GatewayRoute.data_plane_namespace", self.data_plane_namespace)
            if not self.data_plane_pod_labels or not is_labels(self.data_plane_pod_labels):
                raise invalid(
                    scope,
                    "GatewayRoute.data_plane_pod_labels",
                    self.data_plane_pod_labels,
                    allowed="the labels of the Gateway's proxy pods (non-empty): without them "
                    "every pod of the namespace could reach the proxy",
                    fix="copy them from `kubectl -n <namespace> get pods --show-labels`",
                )
        elif not self.data_plane_cidrs:
            raise invalid(
                scope,
                "GatewayRoute data plane",
                self.gateway_name,
                allowed="data_plane_namespace with data_plane_pod_labels, or data_plane_cidrs",
                fix="say where the Gateway's proxies run (GatewayRoute.envoy_gateway(...) "
                "fills it in for Envoy Gateway)",
            )
        if isinstance(self.data_plane_cidrs, str):
            raise invalid(
                scope,
                "GatewayRoute.data_plane_cidrs",
                self.data_plane_cidrs,
                allowed="a sequence of CIDRs",
                fix='pass data_plane_cidrs=("10.0.0.0/16",)',
            )
        for cidr in self.data_plane_cidrs:
            check_cidr(scope, "GatewayRoute.data_plane_cidrs", cidr)
        return self


def route_path(base_url: str) -> str:
    """The path prefix of the hub's routes: ``base_url`` without its final ``/``."""
    return base_url.rstrip("/") or "/"


class HubRoute(Construct):
    """The hub's ``HTTPRoute`` (and the redirect route of its other hostnames).

    Args:
        scope: The hub.
        id: Construct id.
        options: The Gateway (``GatewayRoute``).
        hostnames: Hostnames routed to the proxy (the hub's domain first).
        redirect_hostnames: Hostnames answered with a permanent redirect to
            ``https://<hostnames[0]>`` (same path). Default: none.
        base_url: The hub's ``base_url``.
        labels: Labels of the routes.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        options: GatewayRoute,
        hostnames: Sequence[str],
        redirect_hostnames: Sequence[str] = (),
        base_url: str,
        labels: Mapping[str, str],
    ) -> None:
        super().__init__(scope, id)
        adopt(self, scope, id)
        self.options = options.check(self)
        parent: HTTPRouteSpecParentRef = {
            "group": "gateway.networking.k8s.io",
            "kind": "Gateway",
            "name": options.gateway_name,
            "namespace": options.gateway_namespace,
        }
        if options.section_name is not None:
            parent["sectionName"] = options.section_name
        match: HTTPRouteSpecRuleMatch = {
            "path": {"type": "PathPrefix", "value": route_path(base_url)}
        }
        self.route = HTTPRoute(
            self,
            "Resource",
            name="jupyterhub",
            labels=labels,
            spec={
                "parentRefs": [parent],
                "hostnames": list(hostnames),
                "rules": [
                    {
                        "matches": [match],
                        # The CRD's defaults spelled out (group, kind, weight): the API
                        # server adds them, so leaving them out shows as drift in ArgoCD.
                        "backendRefs": [
                            {
                                "group": "",
                                "kind": "Service",
                                "name": PUBLIC_SERVICE,
                                "port": PUBLIC_PORT,
                                "weight": 1,
                            }
                        ],
                        # Kernels' websockets and uploads: no request timeout.
                        "timeouts": {"request": "0s"},
                    }
                ],
            },
        )
        self.redirect_route: HTTPRoute | None = None
        if redirect_hostnames:
            self.redirect_route = HTTPRoute(
                self,
                "Redirect",
                name="jupyterhub-redirect",
                labels=labels,
                spec={
                    "parentRefs": [parent],
                    "hostnames": list(redirect_hostnames),
                    "rules": [
                        {
                            "filters": [
                                {
                                    "type": "RequestRedirect",
                                    "requestRedirect": {
                                        "scheme": "https",
                                        "hostname": str(hostnames[0]),
                                        "statusCode": 301,
                                    },
                                }
                            ]
                        }
                    ],
                },
            )


ServiceType = Literal["ClusterIP", "LoadBalancer", "NodePort"]


@dataclass(frozen=True)
class PublicService:
    """The ``proxy-public`` Service: how users reach the proxy without an Ingress.

    Attributes:
        type: ``"ClusterIP"`` (default: reached through an Ingress, a Gateway or a
            tunnel), ``"LoadBalancer"`` or ``"NodePort"``.
        source_ranges: Client addresses allowed in (CIDRs), required for LoadBalancer
            and NodePort: rendered as ``loadBalancerSourceRanges`` (LoadBalancer) and as
            the proxy NetworkPolicy's ingress rule. ``["0.0.0.0/0"]`` opens the hub to
            the internet, on purpose.
        annotations: Annotations of the Service (cloud load balancer settings).
            Default: none.
        node_port: The node port (30000-32767) for NodePort. Default: allocated.
    """

    type: ServiceType = "ClusterIP"
    source_ranges: Sequence[str] = ()
    annotations: Mapping[str, str] = field(default_factory=dict)
    node_port: int | None = None

    @classmethod
    def load_balancer(
        cls, *, source_ranges: Sequence[str], annotations: Mapping[str, str] | None = None
    ) -> PublicService:
        """``proxy-public`` as a LoadBalancer admitting ``source_ranges`` only."""
        return cls("LoadBalancer", source_ranges, dict(annotations or {}))

    @classmethod
    def node_port_service(
        cls, *, source_ranges: Sequence[str], node_port: int | None = None
    ) -> PublicService:
        """``proxy-public`` as a NodePort Service admitting ``source_ranges`` only."""
        return cls("NodePort", source_ranges, node_port=node_port)

    @property
    def exposed(self) -> bool:
        """Reached from outside the cluster directly (LoadBalancer or NodePort)."""
        return self.type != "ClusterIP"

    def check(self, scope: Construct) -> PublicService:
        """Return self if every field is valid.

        Raises:
            ConfigurationError: A field is invalid.
        """
        if self.type not in ("ClusterIP", "LoadBalancer", "NodePort"):
            raise invalid(
                scope,
                "PublicService.type",
                self.type,
                allowed="ClusterIP, LoadBalancer or NodePort",
                fix="use PublicService.load_balancer(...) or .node_port_service(...)",
            )
        if isinstance(self.source_ranges, str):
            raise invalid(
                scope,
                "PublicService.source_ranges",
                self.source_ranges,
                allowed="a sequence of CIDRs",
                fix='pass source_ranges=["203.0.113.0/24"]',
            )
        if self.exposed and not self.source_ranges:
            raise invalid(
                scope,
                "PublicService.source_ranges",
                [],
                allowed="the client address ranges allowed in",
                fix='pass source_ranges=["203.0.113.0/24"] (your offices, VPN); '
                '["0.0.0.0/0"] opens the hub to the internet',
            )
        if not self.exposed and self.source_ranges:
            raise invalid(
                scope,
                "PublicService.source_ranges",
                list(self.source_ranges),
                allowed="none for a ClusterIP Service",
                fix="use PublicService.load_balancer(source_ranges=...)",
            )
        for cidr in self.source_ranges:
            check_cidr(scope, "PublicService.source_ranges", cidr)
        if self.node_port is not None and (
            self.type != "NodePort"
            or isinstance(self.node_port, bool)
            or not isinstance(self.node_port, int)
            or not 30000 <= self.node_port <= 32767
        ):
            raise invalid(
                scope,
                "PublicService.node_port",
                self.node_port,
                allowed="30000 to 32767 on a NodePort Service",
                fix="leave it out to let Kubernetes allocate one",
            )
        return self

    def port_fields(self) -> dict[str, Any]:
        """What this adds to the Service's port: the fixed ``nodePort`` when one is given."""
        return {"nodePort": self.node_port} if self.node_port is not None else {}

    def spec_fields(self) -> dict[str, Any]:
        """What this adds to the Service's ``spec``."""
        if not self.exposed:
            return {"type": "ClusterIP"}
        fields: dict[str, Any] = {
            "type": self.type,
            # Keep the client's address, so the NetworkPolicy's ipBlock rule sees it.
            "externalTrafficPolicy": "Local",
        }
        if self.type == "LoadBalancer":
            fields["loadBalancerSourceRanges"] = list(self.source_ranges)
        return fields

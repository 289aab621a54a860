"""The Ingress in front of ``proxy-public``: host, TLS, and the controller that serves it.

Notebooks keep a websocket open per kernel for as long as the kernel runs, and users
upload data files through the same HTTP connection; both outlive the 60 s most proxies
allow a request by default. ``IngressController`` says, per controller, which settings
keep them working and where the controller's pods run (the proxy's NetworkPolicy admits
exactly those pods):

- ingress-nginx (``IngressController.nginx()``): ``proxy-read-timeout`` and
  ``proxy-send-timeout`` 3600 s and ``proxy-body-size`` 64m, as Ingress annotations
  (rendered).
- Traefik (``IngressController.traefik()``): nothing per Ingress; websockets pass
  through and Traefik never times them out. Since Traefik 2.11.2 an entry point reads a
  whole request in at most 60 s (``respondingTimeouts.readTimeout``), which stops uploads
  of large files: raise it in Traefik's static configuration (no annotation can).
- Others: ``IngressController(...)`` with your controller's annotations; docs/security.md
  says what HAProxy and the cloud load balancers need.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from constructs import Construct

from jupyter_constructs.core.errors import Where, invalid
from jupyter_constructs.core.objects import KubeObject, adopt
from jupyter_constructs.core.rules import (
    check_annotations,
    check_bool,
    check_cidr,
    check_dns_label,
    check_dns_subdomain,
    check_labels,
    check_sequence,
)
from jupyter_constructs.hub.proxy import PUBLIC_SERVICE

# Notebook kernels talk over long-lived websockets and users upload data files.
NGINX_DEFAULT_ANNOTATIONS = {
    "nginx.ingress.kubernetes.io/proxy-read-timeout": "3600",
    "nginx.ingress.kubernetes.io/proxy-send-timeout": "3600",
    "nginx.ingress.kubernetes.io/proxy-body-size": "64m",
}
NGINX_ANNOTATION_PREFIX = "nginx.ingress.kubernetes.io/"
#: The labels the ingress-nginx Helm chart gives its controller pods.
NGINX_POD_LABELS = {
    "app.kubernetes.io/name": "ingress-nginx",
    "app.kubernetes.io/component": "controller",
}
#: The label the Traefik Helm chart gives its pods.
TRAEFIK_POD_LABELS = {"app.kubernetes.io/name": "traefik"}


@dataclass(frozen=True)
class IngressController:
    """The ingress controller that serves the hub: its class, its pods, its settings.

    The proxy's NetworkPolicy admits the controller's pods only: those with
    ``pod_labels`` in ``namespace`` (both must match), plus ``cidrs`` for load balancers
    that reach pods from addresses rather than from pods (AWS ALB in IP mode, GKE
    container-native load balancing). Find the labels with
    ``kubectl -n <namespace> get pods --show-labels``.

    Use the presets (``nginx()``, ``traefik()``) or build one for another controller.

    Attributes:
        class_name: The IngressClass (``spec.ingressClassName``).
        namespace: Where the controller's pods run; ``None`` when only ``cidrs`` reach
            the proxy.
        pod_labels: Labels of the controller's pods (all must match). Required with
            ``namespace``: a namespace-wide rule would admit any pod there.
        cidrs: Addresses the controller connects from, when it is not a pod. Default:
            none.
        annotations: Annotations the controller needs for websockets and uploads
            (module docstring). Default: none.
    """

    class_name: str
    namespace: str | None
    pod_labels: Mapping[str, str] = field(default_factory=dict)
    cidrs: Sequence[str] = ()
    annotations: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def nginx(
        cls,
        *,
        namespace: str = "ingress-nginx",
        class_name: str = "nginx",
        pod_labels: Mapping[str, str] | None = None,
    ) -> IngressController:
        """ingress-nginx (https://kubernetes.github.io/ingress-nginx/).

        Args:
            namespace: Where it runs. Default: ``"ingress-nginx"``.
            class_name: Its IngressClass. Default: ``"nginx"``.
            pod_labels: Its pods' labels. Default: the Helm chart's
                (``app.kubernetes.io/name: ingress-nginx``,
                ``app.kubernetes.io/component: controller``).

        Returns:
            The controller, with 3600 s read/send timeouts and a 64m body size.
        """
        return cls(
            class_name=class_name,
            namespace=namespace,
            pod_labels=dict(NGINX_POD_LABELS if pod_labels is None else pod_labels),
            annotations=dict(NGINX_DEFAULT_ANNOTATIONS),
        )

    @classmethod
    def traefik(
        cls,
        *,
        namespace: str = "traefik",
        class_name: str = "traefik",
        pod_labels: Mapping[str, str] | None = None,
    ) -> IngressController:
        """Traefik (https://doc.traefik.io/traefik/providers/kubernetes-ingress/).

        Websockets need nothing. Uploads longer than the entry point's
        ``respondingTimeouts.readTimeout`` (60 s since Traefik 2.11.2) fail: raise it in
        Traefik's static configuration (k3s runs Traefik in ``kube-system``).

        Args:
            namespace: Where it runs. Default: ``"traefik"``.
            class_name: Its IngressClass. Default: ``"traefik"``.
            pod_labels: Its pods' labels. Default: the Helm chart's
                (``app.kubernetes.io/name: traefik``).

        Returns:
            The controller (no annotations: none changes these timeouts).
        """
        return cls(
            class_name=class_name,
            namespace=namespace,
            pod_labels=dict(TRAEFIK_POD_LABELS if pod_labels is None else pod_labels),
        )

    def check(self, scope: Where) -> IngressController:
        """Return self if every field is valid.

        Args:
            scope: The construct that uses it (errors name its path).

        Raises:
            ConfigurationError: A field is invalid.
        """
        # IngressClass names are DNS-1123 subdomains.
        check_dns_subdomain(scope, "IngressController.class_name", self.class_name)
        check_annotations(scope, "IngressController.annotations", self.annotations)
        if self.namespace is not None:
            check_dns_label(scope, "IngressController.namespace", self.namespace)
            check_labels(scope, "IngressController.pod_labels", self.pod_labels)
            if not self.pod_labels:
                raise invalid(
                    scope,
                    "IngressController.pod_labels",
                    dict(self.pod_labels),
                    allowed="the labels of the controller's pods (non-empty): without them "
                    "every pod of the namespace could reach the proxy",
                    fix="copy them from `kubectl -n <namespace> get pods --show-labels`, "
                    "e.g. {'app.kubernetes.io/name': 'ingress-nginx'}",
                )
        elif not self.cidrs:
            raise invalid(
                scope,
                "IngressController",
                self.class_name,
                allowed="a namespace with pod labels, or cidrs, or both",
                fix="say where the controller runs: namespace= and pod_labels=, or "
                "cidrs= for a load balancer that connects from addresses",
            )
        check_sequence(
            scope,
            "IngressController.cidrs",
            self.cidrs,
            lambda what, cidr: check_cidr(scope, what, cidr),
        )
        return self


@dataclass(frozen=True)
class IngressOptions:
    """How the hub is exposed: by default an ingress-nginx Ingress with TLS.

    Attributes:
        enabled: Render an Ingress. Default: True; False for a hub reached only through
            a tunnel.
        controller: The ingress controller: its IngressClass, where its pods run (the
            only ones the proxy admits) and the annotations notebooks need from it.
            Default: ``IngressController.nginx()``.
        tls_secret_name: The Secret holding the certificate. Default:
            ``"jupyterhub-tls"``; ``None`` serves plain HTTP (only when TLS ends before
            the Ingress, e.g. at Cloudflare).
        cert_manager_cluster_issuer: Adds ``cert-manager.io/cluster-issuer`` so
            cert-manager issues the certificate into ``tls_secret_name``. Default: none.
        annotations: Extra annotations, applied last. Default: none.
    """

    enabled: bool = True
    controller: IngressController = field(default_factory=IngressController.nginx)
    tls_secret_name: str | None = "jupyterhub-tls"
    cert_manager_cluster_issuer: str | None = None
    annotations: Mapping[str, str] = field(default_factory=dict)

    def check(self, where: Where) -> IngressOptions:
        """Return self if every field is valid.

        Args:
            where: The hub (errors name its path).

        Raises:
            ConfigurationError: A field is invalid: Secret and ClusterIssuer names are
                DNS-1123 subdomains, annotations follow the API server's key rules, the
                controller is an ``IngressController`` (``HubIngress`` checks its fields).
        """
        check_bool(where, "IngressOptions.enabled", self.enabled)
        if not isinstance(self.controller, IngressController):
            raise invalid(
                where,
                "IngressOptions.controller",
                type(self.controller).__name__,
                allowed="an IngressController (IngressController.nginx(), .traefik(), or your own)",
                fix="pass controller=IngressController.nginx()",
            )
        if self.tls_secret_name is not None:
            check_dns_subdomain(where, "IngressOptions.tls_secret_name", self.tls_secret_name)
        if self.cert_manager_cluster_issuer is not None:
            check_dns_subdomain(
                where,
                "IngressOptions.cert_manager_cluster_issuer",
                self.cert_manager_cluster_issuer,
            )
        check_annotations(where, "IngressOptions.annotations", self.annotations)
        return self


class HubIngress(Construct):
    """An Ingress routing ``domain`` to the proxy's public Service (a part of the hub).

    Args:
        scope: The hub.
        id: Construct id.
        domain: The host name.
        options: How (``IngressOptions``).
        labels: Labels of the Ingress.
        extra_hosts: More hosts routed to the proxy, e.g. ``["*.users.example.com"]``
            (user servers on hosts of their own); they join the TLS hosts too. Default:
            none.
        path: The hub's ``base_url``: only requests under it reach the proxy (a
            ``Prefix`` match, so ``/jupyter/`` also matches ``/jupyter``). Default: ``/``.
        redirect_hosts: Hosts answered with a permanent redirect to ``https://<domain>``
            (same path): a second Ingress, ``jupyterhub-redirect``, with ingress-nginx's
            ``permanent-redirect`` annotation; refused for other controllers. Default: none.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        domain: str,
        options: IngressOptions,
        labels: dict[str, str],
        extra_hosts: Sequence[str] = (),
        path: str = "/",
        redirect_hosts: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, id)
        adopt(self, scope, id)
        self.controller = options.controller.check(self)
        annotations: dict[str, str] = dict(self.controller.annotations)
        if options.cert_manager_cluster_issuer:
            annotations["cert-manager.io/cluster-issuer"] = options.cert_manager_cluster_issuer
        annotations.update(options.annotations)
        hosts = [domain, *extra_hosts]
        backend = {"service": {"name": PUBLIC_SERVICE, "port": {"name": "http"}}}
        spec: dict[str, object] = {
            "ingressClassName": self.controller.class_name,
            "rules": [
                {
                    "host": host,
                    "http": {
                        "paths": [
                            {
                                "path": path.rstrip("/") or "/",
                                "pathType": "Prefix",
                                "backend": backend,
                            }
                        ]
                    },
                }
                for host in hosts
            ],
        }
        if options.tls_secret_name is not None:
            spec["tls"] = [{"hosts": hosts, "secretName": options.tls_secret_name}]
        self.redirect: KubeObject | None = None
        if redirect_hosts:
            if not any(k.startswith(NGINX_ANNOTATION_PREFIX) for k in self.controller.annotations):
                raise invalid(
                    self,
                    "redirect hosts",
                    list(redirect_hosts),
                    allowed="redirect hosts with an ingress-nginx Ingress (the only controller "
                    "whose redirect this library renders)",
                    fix="serve the hub through a Gateway (gateway=GatewayRoute(...)), whose "
                    "HTTPRoute redirects with any implementation, or redirect at your controller",
                )
            redirect_spec: dict[str, object] = {
                "ingressClassName": self.controller.class_name,
                "rules": [
                    {
                        "host": host,
                        "http": {
                            "paths": [{"path": "/", "pathType": "Prefix", "backend": backend}]
                        },
                    }
                    for host in redirect_hosts
                ],
            }
            if options.tls_secret_name is not None:
                redirect_spec["tls"] = [
                    {"hosts": list(redirect_hosts), "secretName": options.tls_secret_name}
                ]
            redirect_annotations = {
                k: v for k, v in annotations.items() if not k.startswith(NGINX_ANNOTATION_PREFIX)
            }
            # https://kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/annotations/#permanent-redirect
            redirect_annotations[f"{NGINX_ANNOTATION_PREFIX}permanent-redirect"] = (
                f"https://{domain}$request_uri"
            )
            self.redirect = KubeObject(
                self,
                "Redirect",
                api_version="networking.k8s.io/v1",
                kind="Ingress",
                name="jupyterhub-redirect",
                labels=labels,
                annotations=redirect_annotations,
                body={"spec": redirect_spec},
            )
        self.ingress = KubeObject(
            self,
            "Resource",
            api_version="networking.k8s.io/v1",
            kind="Ingress",
            name="jupyterhub",
            labels=labels,
            annotations=annotations,
            body={"spec": spec},
        )

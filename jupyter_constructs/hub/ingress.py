"""The Ingress in front of ``proxy-public``: host, TLS and websocket-safe timeouts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from constructs import Construct

from jupyter_constructs.core.errors import Where
from jupyter_constructs.core.objects import KubeObject, adopt
from jupyter_constructs.core.rules import (
    check_annotations,
    check_bool,
    check_dns_subdomain,
)
from jupyter_constructs.hub.proxy import PUBLIC_SERVICE

# Notebook kernels talk over long-lived websockets and users upload data files.
NGINX_DEFAULT_ANNOTATIONS = {
    "nginx.ingress.kubernetes.io/proxy-read-timeout": "3600",
    "nginx.ingress.kubernetes.io/proxy-send-timeout": "3600",
    "nginx.ingress.kubernetes.io/proxy-body-size": "64m",
}


@dataclass(frozen=True)
class IngressOptions:
    """How the hub is exposed: by default an nginx Ingress with TLS.

    Attributes:
        enabled: Render an Ingress. Default: True; False for a hub reached only through
            a tunnel.
        class_name: The IngressClass. Default: ``"nginx"`` (its websocket-friendly
            timeouts and body size are added only then).
        tls_secret_name: The Secret holding the certificate. Default:
            ``"jupyterhub-tls"``; ``None`` serves plain HTTP (only when TLS ends before
            the Ingress, e.g. at Cloudflare).
        cert_manager_cluster_issuer: Adds ``cert-manager.io/cluster-issuer`` so
            cert-manager issues the certificate into ``tls_secret_name``. Default: none.
        annotations: Extra annotations, applied last. Default: none.
    """

    enabled: bool = True
    class_name: str = "nginx"
    tls_secret_name: str | None = "jupyterhub-tls"
    cert_manager_cluster_issuer: str | None = None
    annotations: Mapping[str, str] = field(default_factory=dict)

    def check(self, where: Where) -> IngressOptions:
        """Return self if every field is valid.

        Args:
            where: The hub (errors name its path).

        Raises:
            ConfigurationError: A field is invalid: class and Secret names are DNS-1123
                subdomains (IngressClass and Secret names), annotations follow the API
                server's key rules.
        """
        check_bool(where, "IngressOptions.enabled", self.enabled)
        check_dns_subdomain(where, "IngressOptions.class_name", self.class_name)
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
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        domain: str,
        options: IngressOptions,
        labels: dict[str, str],
    ) -> None:
        super().__init__(scope, id)
        adopt(self, scope, id)
        options.check(self)
        annotations: dict[str, str] = {}
        if options.class_name == "nginx":
            annotations.update(NGINX_DEFAULT_ANNOTATIONS)
        if options.cert_manager_cluster_issuer:
            annotations["cert-manager.io/cluster-issuer"] = options.cert_manager_cluster_issuer
        annotations.update(options.annotations)
        spec: dict[str, object] = {
            "ingressClassName": options.class_name,
            "rules": [
                {
                    "host": domain,
                    "http": {
                        "paths": [
                            {
                                "path": "/",
                                "pathType": "Prefix",
                                "backend": {
                                    "service": {"name": PUBLIC_SERVICE, "port": {"name": "http"}}
                                },
                            }
                        ]
                    },
                }
            ],
        }
        if options.tls_secret_name is not None:
            spec["tls"] = [{"hosts": [domain], "secretName": options.tls_secret_name}]
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

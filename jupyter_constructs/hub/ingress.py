"""The Ingress in front of ``proxy-public``: host, TLS and websocket-safe timeouts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from constructs import Construct

from jupyter_constructs.core.objects import KubeObject, adopt
from jupyter_constructs.core.rules import check_dns_label
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
    ) -> None:
        super().__init__(scope, id)
        adopt(self, scope, id)
        check_dns_label(self, "IngressOptions.class_name", options.class_name)
        annotations: dict[str, str] = {}
        if options.class_name == "nginx":
            annotations.update(NGINX_DEFAULT_ANNOTATIONS)
        if options.cert_manager_cluster_issuer:
            annotations["cert-manager.io/cluster-issuer"] = options.cert_manager_cluster_issuer
        annotations.update(options.annotations)
        hosts = [domain, *extra_hosts]
        backend = {"service": {"name": PUBLIC_SERVICE, "port": {"name": "http"}}}
        spec: dict[str, object] = {
            "ingressClassName": options.class_name,
            "rules": [
                {
                    "host": host,
                    "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": backend}]},
                }
                for host in hosts
            ],
        }
        if options.tls_secret_name is not None:
            spec["tls"] = [{"hosts": hosts, "secretName": options.tls_secret_name}]
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

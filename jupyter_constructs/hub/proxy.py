"""configurable-http-proxy: the public entry point that routes to the hub and user servers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from constructs import Construct

from jupyter_constructs.core import security
from jupyter_constructs.core.images import PROXY_UID, unpinned_reason
from jupyter_constructs.core.objects import KubeObject, adopt
from jupyter_constructs.core.quantities import Resources
from jupyter_constructs.core.secrets import SecretRef
from jupyter_constructs.hub.scheduling import Placement

HTTP_PORT = 8000
API_PORT = 8001
METRICS_PORT = 8002
METRICS_PORT_NAME = "metrics"
PUBLIC_PORT = 80
PUBLIC_SERVICE = "proxy-public"
API_SERVICE = "proxy-api"
DEFAULT_RESOURCES = Resources("100m", "1", "512Mi", "1Gi")
#: Node.js's request header limit for the proxy, in bytes. Node's default is 16 KiB
#: (https://nodejs.org/api/cli.html#--max-http-header-sizesize); behind Cloudflare Access
#: every request carries the Access token twice (header and cookie), and tokens with many
#: groups reach 10 KB and more, which got 431 at the proxy (issue 16). 64 KiB holds two
#: tokens of up to ~30 KB each, and equals the hub's own limit (tornado's 64 KiB default).
MAX_HTTP_HEADER_SIZE = 65536


class HubProxy(Construct):
    """Proxy Deployment (1 replica, Recreate) with the ``proxy-api`` and ``proxy-public`` Services.

    One replica: configurable-http-proxy keeps its routing table in memory, and the hub
    re-adds every route on start; two proxies would disagree about routes. Node's request
    header limit is raised to ``MAX_HTTP_HEADER_SIZE`` (``NODE_OPTIONS``).

    Args:
        scope: The hub.
        id: Construct id.
        image: The configurable-http-proxy image.
        hub_url: Where the hub listens (``--default-target``).
        auth_token: The proxy API token shared with the hub.
        labels: Labels of the objects and pods.
        selector: The pods' selector labels.
        resources: Requests and limits. Default: 100m/1 CPU, 512Mi/1Gi memory.
        host_routing: Route by host as well as path (``--host-routing``), for a hub whose
            user servers have hosts of their own (``JupyterHub.subdomain_host``). Default:
            False.
        error_path: The hub's error page (``<base_url>hub/error``), where the proxy sends
            requests it cannot route (``--error-target``). Default: ``/hub/error``.
        public_service_spec: Fields of ``proxy-public``'s spec (``type`` and what goes
            with it, ``PublicService.spec_fields``). Default: ``type: ClusterIP``.
        public_service_annotations: Annotations of ``proxy-public``. Default: none.
        public_port_fields: More fields of its port (``nodePort``,
            ``PublicService.port_fields``). Default: none.
        placement: The core pool's node affinity and tolerations. Default: none.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        image: str,
        hub_url: str,
        auth_token: SecretRef,
        labels: dict[str, str],
        selector: dict[str, str],
        resources: Resources = DEFAULT_RESOURCES,
        host_routing: bool = False,
        error_path: str = "/hub/error",
        public_service_spec: Mapping[str, Any] | None = None,
        public_service_annotations: Mapping[str, str] | None = None,
        public_port_fields: Mapping[str, Any] | None = None,
        placement: Placement | None = None,
    ) -> None:
        super().__init__(scope, id)
        adopt(self, scope, id)
        pod = {
            "automountServiceAccountToken": False,
            "enableServiceLinks": False,
            "securityContext": security.restricted_pod(),
            "terminationGracePeriodSeconds": 60,
            "containers": [
                _container(image, hub_url, auth_token, resources, host_routing, error_path)
            ],
            **(placement.pod_fields() if placement else {}),
        }
        self.deployment = KubeObject(
            self,
            "Deployment",
            api_version="apps/v1",
            kind="Deployment",
            name="proxy",
            labels=labels,
            annotations=security.scanner_exceptions(
                {
                    "CKV_K8S_15": security.PULL_POLICY,
                    "CKV_K8S_35": security.PROXY_ENV_VARS,
                    "CKV_K8S_43": unpinned_reason([image]),
                }
            ),
            body={
                "spec": {
                    "replicas": 1,
                    "strategy": {"type": "Recreate"},
                    "selector": {"matchLabels": selector},
                    "template": {"metadata": {"labels": labels}, "spec": pod},
                }
            },
        )
        self.api_service = KubeObject(
            self,
            "ApiService",
            api_version="v1",
            kind="Service",
            name=API_SERVICE,
            labels=labels,
            body={
                "spec": {
                    "selector": selector,
                    "ports": [{"name": "api", "port": API_PORT, "targetPort": "api"}],
                }
            },
        )
        self.public_service = KubeObject(
            self,
            "PublicService",
            api_version="v1",
            kind="Service",
            name=PUBLIC_SERVICE,
            labels=labels,
            annotations=dict(public_service_annotations or {}) or None,
            body={
                "spec": {
                    "type": "ClusterIP",
                    **dict(public_service_spec or {}),
                    "selector": selector,
                    "ports": [
                        {
                            "name": "http",
                            "port": PUBLIC_PORT,
                            "targetPort": "http",
                            **dict(public_port_fields or {}),
                        }
                    ],
                }
            },
        )


def _container(
    image: str,
    hub_url: str,
    auth_token: SecretRef,
    resources: Resources,
    host_routing: bool,
    error_path: str,
) -> dict[str, Any]:
    health = {"path": "/_chp_healthz", "port": "http"}
    return {
        "name": "chp",
        "image": image,
        "command": [
            "configurable-http-proxy",
            "--ip=",
            f"--port={HTTP_PORT}",
            "--api-ip=",
            f"--api-port={API_PORT}",
            f"--default-target={hub_url}",
            f"--error-target={hub_url}{error_path}",
            "--metrics-ip=",
            f"--metrics-port={METRICS_PORT}",
            # What JupyterHub adds when it starts the proxy itself with subdomain_host.
            *(["--host-routing"] if host_routing else []),
        ],
        "env": [
            {"name": "CONFIGPROXY_AUTH_TOKEN", "valueFrom": auth_token.env_value_from()},
            {"name": "NODE_OPTIONS", "value": f"--max-http-header-size={MAX_HTTP_HEADER_SIZE}"},
        ],
        "ports": [
            {"name": "http", "containerPort": HTTP_PORT},
            {"name": "api", "containerPort": API_PORT},
            {"name": METRICS_PORT_NAME, "containerPort": METRICS_PORT},
        ],
        "resources": resources.to_kube(),
        "securityContext": security.restricted_container(PROXY_UID, PROXY_UID),
        "livenessProbe": {
            "httpGet": health,
            "periodSeconds": 10,
            "failureThreshold": 3,
            "timeoutSeconds": 3,
        },
        "readinessProbe": {
            "httpGet": health,
            "periodSeconds": 5,
            "failureThreshold": 2,
            "timeoutSeconds": 3,
        },
    }

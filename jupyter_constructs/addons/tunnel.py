"""The Cloudflare Tunnel: cloudflared connectors carrying traffic to the hub's proxy.

``CloudflareTunnel`` is a cloudflared Deployment that carries traffic from Cloudflare to
the hub's ``proxy-public`` Service without any public load balancer or Ingress. It is a
hub add-on: it reads where the proxy listens from the hub, registers its
NetworkPolicies through ``hub.allow_traffic`` and itself as an entry point (a hub that
also has a public Ingress gets a warning at synth).

See docs/cloudflare-tunnel-config.md.
"""

from __future__ import annotations

import json
from typing import Any

import cdk8s
from constructs import Construct

from jupyter_constructs.core import security
from jupyter_constructs.core.errors import invalid
from jupyter_constructs.core.images import CLOUDFLARED_IMAGE, unpinned_reason
from jupyter_constructs.core.network_policy import egress, ingress, pods, tcp, udp
from jupyter_constructs.core.objects import KubeObject, adopt, path_of, sha256_of
from jupyter_constructs.core.quantities import Resources
from jupyter_constructs.core.rules import check_bool, check_image, check_int
from jupyter_constructs.core.secrets import SecretRef, check_secret
from jupyter_constructs.hub.hub import JupyterHub
from jupyter_constructs.hub.network import NetworkOptions, dns_egress, internet

#: The edge the tunnel's traffic passes (where Cloudflare Access guards the hostnames).
CLOUDFLARE_EDGE = "Cloudflare"
_METRICS_PORT = 2000
_CONFIG_DIR = "/etc/cloudflared"
_NONROOT_UID = 65532
#: Cloudflare's edge: tunnels connect on 7844 (QUIC over UDP, or HTTP/2 over TCP);
#: cloudflared also calls Cloudflare's APIs on 443 (updates are off, registration).
_EDGE_PORTS = (tcp(7844), udp(7844), tcp(443))


class CloudflareTunnel(Construct):
    """cloudflared connectors carrying ``https://<hub.domain>`` to the hub's proxy.

    Creates:

    - ``deployment``: ``replicas`` cloudflared pods (default 2, spread across nodes and
      zones), pinned image, ``TUNNEL_TOKEN`` from ``tunnel_token``, liveness and
      readiness on ``/ready`` (metrics port 2000), restricted security context (non-root
      uid 65532, read-only root filesystem, no privilege escalation, all capabilities
      dropped, RuntimeDefault seccomp, no service account token), requests and limits, in
      the hub's core node pool (``JupyterHub(core_pods=...)``). Rolling updates add a pod
      before removing one, and the pods roll when the configuration changes. Its pods
      (one more during a rolling update) count against the namespace quota
      (``hub.reserve_capacity``).
    - ``config_map``: cloudflared's ``config.yaml``: ``hub.domain`` (and
      ``*.<user_server_domain>`` when user servers have hosts of their own) goes to
      ``http://<proxy-public>.<namespace>.svc.cluster.local:<port>``, anything else gets
      a 404.
    - ``pdb``: a PodDisruptionBudget letting a node drain evict one connector at a time
      (``maxUnavailable: 1``): with two or more, one keeps carrying traffic; with one, the
      drain is never blocked (``minAvailable: 1`` would block it forever).
    - ``network_policies``: when the hub renders NetworkPolicies, one for the cloudflared
      pods (no ingress; egress only to DNS, the proxy pods' HTTP port and Cloudflare's
      edge: 7844 TCP/UDP and 443 on public addresses, private ranges and cloud metadata
      excluded) and one letting them into the proxy.

    ``tunnel_token`` is the token of a tunnel created in Zero Trust > Networks > Tunnels.
    With a token the tunnel is remotely managed: the public hostname configured in the
    Cloudflare dashboard is mandatory and decides the routing; the rendered
    ``config.yaml`` is not a fallback (it records the intended routing in git; keep the
    dashboard equal to it). ``/ready``, the pods' probe, counts only the connections to
    Cloudflare's edge: pods stay Ready when the hub behind them is down (watch the hub's
    own alerts). See docs/cloudflare-tunnel-config.md.

    Args:
        scope: The hub's chart.
        id: Construct id.
        hub: The hub it carries traffic to; the tunnel attaches itself
            (``hub.attach_addon``).
        tunnel_token: The Secret key holding the tunnel token.
        replicas: cloudflared pods. Default: 2.
        image: Default: ``CLOUDFLARED_IMAGE``.
        cpu_request: Default: ``"50m"``.
        memory_request: Default: ``"64Mi"``.
        cpu_limit: Default: ``"500m"``.
        memory_limit: Default: ``"256Mi"``.
        exclusive: The tunnel is meant to be the only way users reach the hub (Cloudflare
            Access policies then apply to every request). Default: True, and a hub that
            also has an Ingress gets a ``ConfigurationWarning`` at synth; pass False when
            both ways in are intended.

    Raises:
        ConfigurationError: A value is invalid.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        hub: JupyterHub,
        tunnel_token: SecretRef,
        replicas: int = 2,
        image: str = CLOUDFLARED_IMAGE,
        cpu_request: str = "50m",
        memory_request: str = "64Mi",
        cpu_limit: str = "500m",
        memory_limit: str = "256Mi",
        exclusive: bool = True,
    ) -> None:
        super().__init__(scope, id)
        adopt(self, scope, id)
        check_image(self, "cloudflared image", image)
        check_int(
            self,
            "replicas",
            replicas,
            minimum=1,
            maximum=100,
            fix="use the default of 2 (2 or more for availability) unless you know why not",
        )
        check_secret(self, "tunnel_token", tunnel_token)
        check_bool(self, "exclusive", exclusive)
        if not isinstance(hub, JupyterHub):
            raise invalid(
                self, "hub", type(hub).__name__, allowed="a JupyterHub", fix="pass hub=hub"
            )
        self._replicas = replicas
        self._image = image
        self._tunnel_token = tunnel_token
        self._exclusive = exclusive
        self._resources = Resources(cpu_request, cpu_limit, memory_request, memory_limit).checked(
            self, "resources"
        )
        self.network_policies: list[KubeObject] = []
        hub.attach_addon(self)

    def bind(self, hub: JupyterHub) -> None:
        """Render the tunnel for ``hub``; called once by ``hub.attach_addon``."""
        #: The URL cloudflared forwards the hub's hostname to.
        self.origin_url = (
            f"http://{hub.proxy_public_service_name}.{hub.namespace}.svc.cluster.local:"
            f"{hub.proxy_public_port}"
        )
        labels = {
            "app.kubernetes.io/name": "cloudflared",
            "app.kubernetes.io/component": "tunnel",
            "app.kubernetes.io/part-of": "jupyterhub",
            "app.kubernetes.io/instance": cdk8s.Names.to_label_value(self),
        }
        self._placement = hub.core_pod_placement().pod_fields()
        config_yaml = _config_yaml([hub.domain, *hub.user_server_hosts()], self.origin_url)
        self.config_map = KubeObject(
            self,
            "config",
            api_version="v1",
            kind="ConfigMap",
            labels=labels,
            body={"data": {"config.yaml": config_yaml}},
        )
        self.deployment = KubeObject(
            self,
            "deployment",
            api_version="apps/v1",
            kind="Deployment",
            labels=labels,
            annotations=security.scanner_exceptions(
                {
                    "CKV_K8S_15": security.PULL_POLICY,
                    "CKV_K8S_35": security.TUNNEL_ENV_VARS,
                    "CKV_K8S_43": unpinned_reason([self._image]),
                }
            ),
            body={
                "spec": {
                    "replicas": self._replicas,
                    "selector": {"matchLabels": labels},
                    "strategy": {
                        "type": "RollingUpdate",
                        "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
                    },
                    "template": {
                        "metadata": {
                            "labels": labels,
                            "annotations": {
                                "checksum/config": sha256_of({"config.yaml": config_yaml})
                            },
                        },
                        "spec": self._pod_spec(labels),
                    },
                }
            },
        )
        self.pdb = KubeObject(
            self,
            "pdb",
            api_version="policy/v1",
            kind="PodDisruptionBudget",
            labels=labels,
            body={"spec": {"maxUnavailable": 1, "selector": {"matchLabels": labels}}},
        )
        # maxSurge 1: a rolling update runs one more pod than replicas for a while.
        hub.reserve_capacity(
            f"the Cloudflare Tunnel {path_of(self)}", self._resources.usage(), self._replicas + 1
        )
        proxy_port = tcp(hub.proxy_http_port)
        # Rendered only when the hub renders NetworkPolicies (then it has options).
        options = hub.network_options or NetworkOptions()
        policies = [
            hub.allow_traffic(
                self,
                "network-policy",
                labels=labels,
                pod_selector={"matchLabels": labels},
                ingress_rules=[],
                egress_rules=[
                    dns_egress(options),
                    egress([pods(hub.proxy_pod_labels)], [proxy_port]),
                    egress(internet(options), _EDGE_PORTS),
                ],
            ),
            hub.allow_traffic(
                self,
                "allow-to-proxy",
                labels=labels,
                pod_selector={"matchLabels": hub.proxy_pod_labels},
                ingress_rules=[ingress([pods(labels)], [proxy_port])],
            ),
        ]
        self.network_policies = [p for p in policies if p is not None]
        hub.add_entry_point(
            "the Cloudflare Tunnel", self, exclusive=self._exclusive, via=CLOUDFLARE_EDGE
        )

    def _pod_spec(self, labels: dict[str, str]) -> dict[str, Any]:
        probe = {
            "httpGet": {"path": "/ready", "port": _METRICS_PORT},
            "initialDelaySeconds": 10,
            "periodSeconds": 10,
            "timeoutSeconds": 3,
            "failureThreshold": 3,
        }
        # ScheduleAnyway: spread when the cluster allows it, still run on a one-node cluster.
        spread = [
            {
                "maxSkew": 1,
                "topologyKey": key,
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": labels},
            }
            for key in ("kubernetes.io/hostname", "topology.kubernetes.io/zone")
        ]
        container = {
            "name": "cloudflared",
            "image": self._image,
            "args": [
                "tunnel",
                "--no-autoupdate",
                "--metrics",
                f"0.0.0.0:{_METRICS_PORT}",
                "--config",
                f"{_CONFIG_DIR}/config.yaml",
                "run",
            ],
            "env": [{"name": "TUNNEL_TOKEN", "valueFrom": self._tunnel_token.env_value_from()}],
            "ports": [{"name": "metrics", "containerPort": _METRICS_PORT, "protocol": "TCP"}],
            "livenessProbe": probe,
            "readinessProbe": probe,
            "resources": self._resources.to_kube(),
            "securityContext": security.restricted_container(_NONROOT_UID, _NONROOT_UID),
            "volumeMounts": [{"name": "config", "mountPath": _CONFIG_DIR, "readOnly": True}],
        }
        return {
            "automountServiceAccountToken": False,
            "securityContext": security.restricted_pod(run_as=_NONROOT_UID),
            "topologySpreadConstraints": spread,
            "containers": [container],
            "volumes": [{"name": "config", "configMap": {"name": self.config_map.name}}],
            **self._placement,
        }


def _config_yaml(hosts: list[str], origin_url: str) -> str:
    # JSON strings are valid YAML scalars: exact quoting without a YAML dependency.
    rules = [
        line
        for host in hosts
        for line in (f"  - hostname: {json.dumps(host)}", f"    service: {json.dumps(origin_url)}")
    ]
    return "\n".join(
        [
            "# cloudflared configuration, generated by jupyter-constructs (CloudflareTunnel).",
            "# The hub's hostname (and the user servers' hosts, when they have their own) go",
            "# to its proxy; every other request gets a 404.",
            "ingress:",
            *rules,
            f"  - service: {json.dumps('http_status:404')}",
            "",
        ]
    )

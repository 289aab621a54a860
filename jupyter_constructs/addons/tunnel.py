"""The Cloudflare Tunnel: cloudflared connectors carrying traffic to the hub's proxy.

- ``CloudflareAccessAuth``: users sign in through Cloudflare Access; the hub verifies the
  ``Cf-Access-Jwt-Assertion`` JWT Access adds to every request it lets through.
  (The other route, Access for SaaS as an OIDC provider, is
  ``OidcAuth.cloudflare_access_saas``.)
- ``CloudflareTunnel``: a cloudflared Deployment that carries traffic from Cloudflare to
  the hub's ``proxy-public`` Service without any public load balancer or Ingress.

See docs/authentication.md and docs/cloudflare-tunnel-config.md.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Protocol

import cdk8s
from cdk8s_plus_27 import k8s
from constructs import Construct

from jupyter_constructs.core import security
from jupyter_constructs.core._utils import (
    check_dns_label,
    check_domain,
    check_image,
    sha256_of,
)
from jupyter_constructs.core.errors import invalid
from jupyter_constructs.core.quantities import Resources
from jupyter_constructs.core.secrets import SecretRef
from jupyter_constructs.hub.network import (
    NetworkOptions,
    dns_egress,
    egress,
    ingress,
    internet,
    pods,
    tcp,
    udp,
)


class TunnelOrigin(Protocol):
    """What ``CloudflareTunnel`` needs from the hub: where its public proxy listens."""

    @property
    def domain(self) -> str: ...
    @property
    def namespace(self) -> str: ...
    @property
    def proxy_public_service_name(self) -> str: ...
    @property
    def proxy_public_port(self) -> int: ...
    @property
    def proxy_pod_labels(self) -> Mapping[str, str]: ...
    @property
    def proxy_http_port(self) -> int: ...
    @property
    def network_options(self) -> NetworkOptions | None: ...


#: cloudflared release pinned by default (the image runs as the distroless nonroot user).
CLOUDFLARED_IMAGE = "cloudflare/cloudflared:2025.8.0"
_METRICS_PORT = 2000
_CONFIG_DIR = "/etc/cloudflared"
_NONROOT_UID = 65532
#: Cloudflare's edge: tunnels connect on 7844 (QUIC over UDP, or HTTP/2 over TCP);
#: cloudflared also calls Cloudflare's APIs on 443 (updates are off, registration).
_EDGE_PORTS = (("TCP", 7844), ("UDP", 7844), ("TCP", 443))


class CloudflareTunnel(Construct):
    """cloudflared connectors carrying ``https://<hub.domain>`` to the hub's proxy.

    Creates:

    - ``deployment``: ``replicas`` cloudflared pods (default 2, spread across nodes and
      zones), pinned image, ``TUNNEL_TOKEN`` from ``tunnel_token``, liveness and
      readiness on ``/ready`` (metrics port 2000), restricted security context (non-root
      uid 65532, read-only root filesystem, no privilege escalation, all capabilities
      dropped, RuntimeDefault seccomp, no service account token), requests and limits.
      Rolling updates add a pod before removing one, and the pods roll when the
      configuration changes.
    - ``config_map``: cloudflared's ``config.yaml``: ``hub.domain`` goes to
      ``http://<proxy-public>.<namespace>.svc.cluster.local:<port>``, anything else gets
      a 404.
    - ``pdb``: a PodDisruptionBudget keeping at least one connector during node drains.
    - ``network_policies``: when the hub has NetworkPolicies (``hub.network_options``),
      one for the cloudflared pods (no ingress; egress only to DNS, the proxy pods'
      HTTP port and Cloudflare's edge: 7844 TCP/UDP and 443 on public addresses,
      private ranges and cloud metadata excluded) and one letting them into the proxy.

    ``tunnel_token`` is the token of a tunnel created in Zero Trust > Networks > Tunnels;
    with a token the tunnel is remotely managed, so give its public hostname the same
    service URL there (see docs/cloudflare-tunnel-config.md).

    Defaults: requests 50m CPU / 64Mi memory, limits 500m CPU / 256Mi memory.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        hub: TunnelOrigin,
        tunnel_token: SecretRef,
        replicas: int = 2,
        image: str = CLOUDFLARED_IMAGE,
        cpu_request: str = "50m",
        memory_request: str = "64Mi",
        cpu_limit: str = "500m",
        memory_limit: str = "256Mi",
    ) -> None:
        super().__init__(scope, id)
        domain = check_domain(self, hub.domain)
        namespace = check_dns_label(self, "namespace", hub.namespace)
        service = check_dns_label(self, "proxy public service name", hub.proxy_public_service_name)
        port = hub.proxy_public_port
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            raise invalid(
                self,
                "proxy public port",
                port,
                allowed="an integer from 1 to 65535",
                fix="pass the port of the hub's proxy-public Service (80)",
            )
        check_image(self, "cloudflared image", image)
        if isinstance(replicas, bool) or not isinstance(replicas, int) or replicas < 1:
            raise invalid(
                self,
                "replicas",
                replicas,
                allowed="an integer of at least 1 (2 or more for availability)",
                fix="use the default of 2 unless you know why not",
            )
        if not isinstance(tunnel_token, SecretRef):
            raise invalid(
                self,
                "tunnel_token",
                tunnel_token,
                allowed="a SecretRef to the Secret key holding the tunnel token",
                fix='pass SecretRef("cloudflared", "token") and create that Secret in the cluster',
            )

        #: The URL cloudflared forwards the hub's hostname to.
        self.origin_url = f"http://{service}.{namespace}.svc.cluster.local:{port}"
        labels = {
            "app.kubernetes.io/name": "cloudflared",
            "app.kubernetes.io/component": "tunnel",
            "app.kubernetes.io/part-of": "jupyterhub",
            "app.kubernetes.io/instance": cdk8s.Names.to_label_value(self),
        }
        config_yaml = _config_yaml(domain, self.origin_url)

        self.config_map = k8s.KubeConfigMap(
            self,
            "config",
            metadata=k8s.ObjectMeta(labels=labels),
            data={"config.yaml": config_yaml},
        )
        self.deployment = k8s.KubeDeployment(
            self,
            "deployment",
            metadata=k8s.ObjectMeta(labels=labels),
            spec=k8s.DeploymentSpec(
                replicas=replicas,
                selector=k8s.LabelSelector(match_labels=labels),
                strategy=k8s.DeploymentStrategy(
                    type="RollingUpdate",
                    rolling_update=k8s.RollingUpdateDeployment(
                        max_surge=k8s.IntOrString.from_number(1),
                        max_unavailable=k8s.IntOrString.from_number(0),
                    ),
                ),
                template=k8s.PodTemplateSpec(
                    metadata=k8s.ObjectMeta(
                        labels=labels,
                        annotations={
                            "checksum/config": sha256_of({"config.yaml": config_yaml}),
                        },
                    ),
                    spec=self._pod_spec(
                        labels=labels,
                        image=image,
                        tunnel_token=tunnel_token,
                        container_resources=Resources(
                            cpu_request, cpu_limit, memory_request, memory_limit
                        ).checked(self, "resources"),
                    ),
                ),
            ),
        )
        self.pdb = k8s.KubePodDisruptionBudget(
            self,
            "pdb",
            metadata=k8s.ObjectMeta(labels=labels),
            spec=k8s.PodDisruptionBudgetSpec(
                min_available=k8s.IntOrString.from_number(1),
                selector=k8s.LabelSelector(match_labels=labels),
            ),
        )
        self.network_policies: list[k8s.KubeNetworkPolicy] = []
        if hub.network_options is not None:
            self.network_policies = self._network_policies(hub, hub.network_options, labels)

    def _network_policies(
        self, hub: TunnelOrigin, options: NetworkOptions, labels: dict[str, str]
    ) -> list[k8s.KubeNetworkPolicy]:
        proxy_port = tcp(hub.proxy_http_port)
        edge_ports = [tcp(port) if proto == "TCP" else udp(port) for proto, port in _EDGE_PORTS]
        tunnel = k8s.KubeNetworkPolicy(
            self,
            "network-policy",
            metadata=k8s.ObjectMeta(labels=labels),
            spec=k8s.NetworkPolicySpec(
                pod_selector=k8s.LabelSelector(match_labels=labels),
                policy_types=["Ingress", "Egress"],
                egress=[
                    dns_egress(options),
                    egress([pods(hub.proxy_pod_labels)], [proxy_port]),
                    egress(internet(options), edge_ports),
                ],
            ),
        )
        to_proxy = k8s.KubeNetworkPolicy(
            self,
            "allow-to-proxy",
            metadata=k8s.ObjectMeta(labels=labels),
            spec=k8s.NetworkPolicySpec(
                pod_selector=k8s.LabelSelector(match_labels=dict(hub.proxy_pod_labels)),
                policy_types=["Ingress"],
                ingress=[ingress([pods(labels)], [proxy_port])],
            ),
        )
        return [tunnel, to_proxy]

    def _pod_spec(
        self,
        *,
        labels: dict[str, str],
        image: str,
        tunnel_token: SecretRef,
        container_resources: Resources,
    ) -> k8s.PodSpec:
        probe = k8s.Probe(
            http_get=k8s.HttpGetAction(
                path="/ready", port=k8s.IntOrString.from_number(_METRICS_PORT)
            ),
            initial_delay_seconds=10,
            period_seconds=10,
            timeout_seconds=3,
            failure_threshold=3,
        )
        # ScheduleAnyway: spread when the cluster allows it, still run on a one-node cluster.
        spread = [
            k8s.TopologySpreadConstraint(
                max_skew=1,
                topology_key=key,
                when_unsatisfiable="ScheduleAnyway",
                label_selector=k8s.LabelSelector(match_labels=labels),
            )
            for key in ("kubernetes.io/hostname", "topology.kubernetes.io/zone")
        ]
        return k8s.PodSpec(
            automount_service_account_token=False,
            security_context=k8s.PodSecurityContext(
                run_as_non_root=True,
                run_as_user=_NONROOT_UID,
                run_as_group=_NONROOT_UID,
                seccomp_profile=k8s.SeccompProfile(type="RuntimeDefault"),
            ),
            topology_spread_constraints=spread,
            containers=[
                k8s.Container(
                    name="cloudflared",
                    image=image,
                    args=[
                        "tunnel",
                        "--no-autoupdate",
                        "--metrics",
                        f"0.0.0.0:{_METRICS_PORT}",
                        "--config",
                        f"{_CONFIG_DIR}/config.yaml",
                        "run",
                    ],
                    env=[
                        k8s.EnvVar(
                            name="TUNNEL_TOKEN",
                            value_from=k8s.EnvVarSource(
                                secret_key_ref=k8s.SecretKeySelector(
                                    name=tunnel_token.name, key=tunnel_token.key
                                )
                            ),
                        )
                    ],
                    ports=[
                        k8s.ContainerPort(
                            name="metrics", container_port=_METRICS_PORT, protocol="TCP"
                        )
                    ],
                    liveness_probe=probe,
                    readiness_probe=probe,
                    resources=container_resources.to_requirements(),
                    security_context=security.container_security_context(
                        _NONROOT_UID, _NONROOT_UID
                    ),
                    volume_mounts=[
                        k8s.VolumeMount(name="config", mount_path=_CONFIG_DIR, read_only=True)
                    ],
                )
            ],
            volumes=[
                k8s.Volume(
                    name="config",
                    config_map=k8s.ConfigMapVolumeSource(name=self.config_map.name),
                )
            ],
        )


def _config_yaml(domain: str, origin_url: str) -> str:
    # JSON strings are valid YAML scalars: exact quoting without a YAML dependency.
    return "\n".join(
        [
            "# cloudflared configuration, generated by jupyter-constructs (CloudflareTunnel).",
            "# The hub's hostname goes to its proxy; every other request gets a 404.",
            "ingress:",
            f"  - hostname: {json.dumps(domain)}",
            f"    service: {json.dumps(origin_url)}",
            f"  - service: {json.dumps('http_status:404')}",
            "",
        ]
    )

"""configurable-http-proxy: the public entry point that routes to the hub and user servers."""

from __future__ import annotations

from cdk8s_plus_27 import k8s
from constructs import Construct

from jupyter_constructs.core import security
from jupyter_constructs.core.images import PROXY_UID
from jupyter_constructs.core.quantities import Resources
from jupyter_constructs.core.secrets import SecretRef

HTTP_PORT = 8000
API_PORT = 8001
METRICS_PORT = 8002
PUBLIC_SERVICE = "proxy-public"
API_SERVICE = "proxy-api"
DEFAULT_RESOURCES = Resources("100m", "1", "512Mi", "1Gi")


class HubProxy(Construct):
    """Proxy Deployment (1 replica, Recreate) with the ``proxy-api`` and ``proxy-public`` Services.

    One replica: configurable-http-proxy keeps its routing table in memory, and the hub
    re-adds every route on start; two proxies would disagree about routes.
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
    ) -> None:
        super().__init__(scope, id)
        self.deployment = k8s.KubeDeployment(
            self,
            "Deployment",
            metadata=k8s.ObjectMeta(name="proxy", labels=labels),
            spec=k8s.DeploymentSpec(
                replicas=1,
                strategy=k8s.DeploymentStrategy(type="Recreate"),
                selector=k8s.LabelSelector(match_labels=selector),
                template=k8s.PodTemplateSpec(
                    metadata=k8s.ObjectMeta(labels=labels),
                    spec=k8s.PodSpec(
                        automount_service_account_token=False,
                        enable_service_links=False,
                        security_context=security.pod_security_context(),
                        termination_grace_period_seconds=60,
                        containers=[self._container(image, hub_url, auth_token, resources)],
                    ),
                ),
            ),
        )
        self.api_service = k8s.KubeService(
            self,
            "ApiService",
            metadata=k8s.ObjectMeta(name=API_SERVICE, labels=labels),
            spec=k8s.ServiceSpec(
                selector=selector,
                ports=[
                    k8s.ServicePort(
                        name="api", port=API_PORT, target_port=k8s.IntOrString.from_string("api")
                    )
                ],
            ),
        )
        self.public_service = k8s.KubeService(
            self,
            "PublicService",
            metadata=k8s.ObjectMeta(name=PUBLIC_SERVICE, labels=labels),
            spec=k8s.ServiceSpec(
                type="ClusterIP",
                selector=selector,
                ports=[
                    k8s.ServicePort(
                        name="http", port=80, target_port=k8s.IntOrString.from_string("http")
                    )
                ],
            ),
        )

    @staticmethod
    def _container(
        image: str, hub_url: str, auth_token: SecretRef, resources: Resources
    ) -> k8s.Container:
        health = k8s.HttpGetAction(path="/_chp_healthz", port=k8s.IntOrString.from_string("http"))
        return k8s.Container(
            name="chp",
            image=image,
            command=[
                "configurable-http-proxy",
                "--ip=",
                f"--port={HTTP_PORT}",
                "--api-ip=",
                f"--api-port={API_PORT}",
                f"--default-target={hub_url}",
                f"--error-target={hub_url}/hub/error",
                "--metrics-ip=",
                f"--metrics-port={METRICS_PORT}",
            ],
            env=[
                k8s.EnvVar(
                    name="CONFIGPROXY_AUTH_TOKEN",
                    value_from=k8s.EnvVarSource(
                        secret_key_ref=k8s.SecretKeySelector(
                            name=auth_token.name, key=auth_token.key
                        )
                    ),
                )
            ],
            ports=[
                k8s.ContainerPort(name="http", container_port=HTTP_PORT),
                k8s.ContainerPort(name="api", container_port=API_PORT),
                k8s.ContainerPort(name="metrics", container_port=METRICS_PORT),
            ],
            resources=resources.to_requirements(),
            security_context=security.container_security_context(PROXY_UID, PROXY_UID),
            liveness_probe=k8s.Probe(
                http_get=health, period_seconds=10, failure_threshold=3, timeout_seconds=3
            ),
            readiness_probe=k8s.Probe(
                http_get=health, period_seconds=5, failure_threshold=2, timeout_seconds=3
            ),
        )

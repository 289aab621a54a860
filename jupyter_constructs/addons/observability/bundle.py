"""ObservabilityBundle: Prometheus Operator objects and the Grafana dashboard for a hub.

Creates, in the hub's namespace:

- a ServiceMonitor scraping the hub's ``/hub/metrics`` with a bearer token (JupyterHub's
  ``authenticate_prometheus`` stays on: the endpoint is never open);
- a PodMonitor scraping configurable-http-proxy's metrics port;
- a PrometheusRule with ``jupyterhub_alert_rules`` (see ``docs/runbook.md``);
- a ConfigMap holding the Grafana dashboard, labelled for Grafana's dashboard sidecar;
- two NetworkPolicies letting the Prometheus pods reach those two ports.

It registers a JupyterHub service named ``prometheus`` whose only scope is
``read:metrics``; its token lives in the hub's in-cluster generated Secret, under
``metrics-api-token``, and the ServiceMonitor reads it from there. No token value is
ever written into the manifests.

The hub is passed as an object implementing ``MonitoredHub`` (the ``JupyterHub``
construct does).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Protocol

from cdk8s_plus_27 import k8s
from constructs import Construct

from jupyter_constructs.addons.observability.alerts import (
    DEFAULT_RUNBOOK_BASE_URL,
    RuleGroup,
    jupyterhub_alert_rules,
)
from jupyter_constructs.addons.observability.dashboard import jupyterhub_dashboard

# The CRD bindings live in imports/ and are installed as jupyter_constructs.crds (see
# pyproject's package-dir); mypy reads the source tree, where that path does not exist.
from jupyter_constructs.crds.com.coreos.monitoring import (
    PodMonitor,
    PodMonitorSpec,
    PodMonitorSpecPodMetricsEndpoints,
    PodMonitorSpecSelector,
    PrometheusRule,
    PrometheusRuleSpec,
    PrometheusRuleSpecGroups,
    PrometheusRuleSpecGroupsRules,
    PrometheusRuleSpecGroupsRulesExpr,
    ServiceMonitor,
    ServiceMonitorSpec,
    ServiceMonitorSpecEndpoints,
    ServiceMonitorSpecEndpointsAuthorization,
    ServiceMonitorSpecEndpointsAuthorizationCredentials,
    ServiceMonitorSpecSelector,
)

__all__ = ["METRICS_TOKEN_KEY", "MonitoredHub", "ObservabilityBundle"]

#: Key of the hub Secret holding the token of the ``prometheus`` hub service.
METRICS_TOKEN_KEY = "metrics-api-token"
#: Name of the JupyterHub service (and role) Prometheus authenticates as.
METRICS_SERVICE_NAME = "prometheus"
#: Port of the hub Service (named ``http``) serving ``/hub/metrics``.
HUB_PORT_NAME = "http"
HUB_PORT = 8081


class MonitoredHub(Protocol):
    """What ObservabilityBundle needs from the hub construct."""

    @property
    def namespace(self) -> str: ...

    @property
    def hub_service_name(self) -> str: ...

    @property
    def secret_name(self) -> str: ...

    @property
    def proxy_metrics_port(self) -> int: ...

    def selector_labels(self, component: str) -> dict[str, str]: ...

    def add_hub_service(
        self, name: str, *, scopes: list[str], api_token_secret_key: str
    ) -> object: ...


class ObservabilityBundle(Construct):
    """Metrics scraping, alerts, dashboard and network access for one JupyterHub.

    Example::

        hub = JupyterHub(chart, "hub", ...)
        ObservabilityBundle(chart, "observability", hub=hub, server_capacity=200)

    Args:
        hub: the hub to observe.
        prometheus_namespace: namespace of the Prometheus pods, allowed in by the
            NetworkPolicy. Default: ``"monitoring"`` (kube-prometheus-stack's usual one).
        prometheus_pod_labels: labels of the Prometheus pods. Default:
            ``{"app.kubernetes.io/name": "prometheus"}``, what Prometheus Operator sets.
        monitor_labels: labels put on the ServiceMonitor, PodMonitor and PrometheusRule
            so the Prometheus instance selects them. Default: ``{"release":
            "kube-prometheus-stack"}`` (the chart's default selector).
        scrape_interval: how often both targets are scraped. Default: ``"30s"``.
        dashboard_label: label (key, value) Grafana's sidecar looks for. Default:
            ``("grafana_dashboard", "1")``.
        dashboard_folder: Grafana folder, as the sidecar's folder annotation
            (``grafana_folder``, kube-prometheus-stack's ``folderAnnotation``). Default:
            ``"JupyterHub"``; ``None`` leaves the dashboard in the sidecar's default folder.
        dashboard_namespace: namespace of the dashboard ConfigMap. Default: the hub's
            namespace (the sidecar must search it, e.g. ``searchNamespace: ALL``).
        datasource_uid: Prometheus datasource uid of the dashboard. Default:
            ``"prometheus"``.
        server_capacity, spawn_failure_rate, spawn_p95_seconds, api_p95_seconds,
        api_5xx_ratio, event_loop_lag_seconds, runbook_base_url: passed to
            ``jupyterhub_alert_rules``; same defaults.

    Attributes:
        service_monitor, pod_monitor, prometheus_rule, dashboard_config_map,
        network_policies (hub, proxy): the created objects; ``rule_groups``: the alert
        rules; ``hub_job``/``proxy_job``: the ``job`` labels the rules select.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        hub: MonitoredHub,
        prometheus_namespace: str = "monitoring",
        prometheus_pod_labels: Mapping[str, str] | None = None,
        monitor_labels: Mapping[str, str] | None = None,
        scrape_interval: str = "30s",
        dashboard_label: tuple[str, str] = ("grafana_dashboard", "1"),
        dashboard_folder: str | None = "JupyterHub",
        dashboard_namespace: str | None = None,
        datasource_uid: str = "prometheus",
        server_capacity: int | None = None,
        spawn_failure_rate: float = 0.1,
        spawn_p95_seconds: float = 120.0,
        api_p95_seconds: float = 1.0,
        api_5xx_ratio: float = 0.05,
        event_loop_lag_seconds: float = 0.5,
        runbook_base_url: str = DEFAULT_RUNBOOK_BASE_URL,
    ) -> None:
        super().__init__(scope, id)
        namespace = hub.namespace
        labels = dict(
            monitor_labels if monitor_labels is not None else {"release": "kube-prometheus-stack"}
        )
        prometheus_pods = dict(
            prometheus_pod_labels
            if prometheus_pod_labels is not None
            else {"app.kubernetes.io/name": "prometheus"}
        )

        hub.add_hub_service(
            METRICS_SERVICE_NAME, scopes=["read:metrics"], api_token_secret_key=METRICS_TOKEN_KEY
        )

        self.service_monitor = ServiceMonitor(
            self,
            "hub-monitor",
            metadata={"namespace": namespace, "labels": labels},
            spec=ServiceMonitorSpec(
                selector=ServiceMonitorSpecSelector(match_labels=hub.selector_labels("hub")),
                endpoints=[
                    ServiceMonitorSpecEndpoints(
                        port=HUB_PORT_NAME,
                        path="/hub/metrics",
                        interval=scrape_interval,
                        authorization=ServiceMonitorSpecEndpointsAuthorization(
                            type="Bearer",
                            credentials=ServiceMonitorSpecEndpointsAuthorizationCredentials(
                                name=hub.secret_name, key=METRICS_TOKEN_KEY
                            ),
                        ),
                    )
                ],
            ),
        )
        self.pod_monitor = PodMonitor(
            self,
            "proxy-monitor",
            metadata={"namespace": namespace, "labels": labels},
            spec=PodMonitorSpec(
                selector=PodMonitorSpecSelector(match_labels=hub.selector_labels("proxy")),
                pod_metrics_endpoints=[
                    PodMonitorSpecPodMetricsEndpoints(
                        port_number=hub.proxy_metrics_port,
                        path="/metrics",
                        interval=scrape_interval,
                    )
                ],
            ),
        )
        # Prometheus Operator's job labels: the Service name for a ServiceMonitor,
        # "<namespace>/<PodMonitor name>" for a PodMonitor (no jobLabel set).
        self.hub_job = hub.hub_service_name
        self.proxy_job = f"{namespace}/{self.pod_monitor.name}"

        self.rule_groups: list[RuleGroup] = jupyterhub_alert_rules(
            namespace=namespace,
            hub_job=self.hub_job,
            proxy_job=self.proxy_job,
            spawn_failure_rate=spawn_failure_rate,
            spawn_p95_seconds=spawn_p95_seconds,
            api_p95_seconds=api_p95_seconds,
            api_5xx_ratio=api_5xx_ratio,
            server_capacity=server_capacity,
            event_loop_lag_seconds=event_loop_lag_seconds,
            runbook_base_url=runbook_base_url,
        )
        self.prometheus_rule = PrometheusRule(
            self,
            "alerts",
            metadata={"namespace": namespace, "labels": labels},
            spec=PrometheusRuleSpec(
                groups=[
                    PrometheusRuleSpecGroups(
                        name=group.name,
                        rules=[
                            PrometheusRuleSpecGroupsRules(
                                alert=rule.name,
                                expr=PrometheusRuleSpecGroupsRulesExpr.from_string(rule.expr),
                                for_=rule.for_,
                                labels={"severity": rule.severity.value},
                                annotations={
                                    "summary": rule.summary,
                                    "description": rule.description,
                                    "runbook_url": rule.runbook,
                                },
                            )
                            for rule in group.rules
                        ],
                    )
                    for group in self.rule_groups
                ]
            ),
        )

        dashboard = jupyterhub_dashboard(
            namespace=namespace,
            title=f"JupyterHub ({namespace})",
            uid=f"jupyterhub-{namespace}"[:40],
            datasource_uid=datasource_uid,
            hub_job=self.hub_job,
            proxy_job=self.proxy_job,
        )
        label_key, label_value = dashboard_label
        self.dashboard_config_map = k8s.KubeConfigMap(
            self,
            "dashboard",
            metadata=k8s.ObjectMeta(
                namespace=dashboard_namespace or namespace,
                labels={label_key: label_value},
                annotations={"grafana_folder": dashboard_folder} if dashboard_folder else None,
            ),
            data={"jupyterhub.json": json.dumps(dashboard, sort_keys=True, indent=1)},
        )

        prometheus_peer = k8s.NetworkPolicyPeer(
            namespace_selector=k8s.LabelSelector(
                match_labels={"kubernetes.io/metadata.name": prometheus_namespace}
            ),
            pod_selector=k8s.LabelSelector(match_labels=prometheus_pods),
        )
        # One policy per component, each adding only its metrics port from Prometheus;
        # other policies selecting the same pods still apply (policies are additive).
        self.network_policies = [
            k8s.KubeNetworkPolicy(
                self,
                f"allow-prometheus-{component}",
                metadata=k8s.ObjectMeta(namespace=namespace),
                spec=k8s.NetworkPolicySpec(
                    pod_selector=k8s.LabelSelector(match_labels=hub.selector_labels(component)),
                    policy_types=["Ingress"],
                    ingress=[
                        k8s.NetworkPolicyIngressRule(
                            from_=[prometheus_peer],
                            ports=[
                                k8s.NetworkPolicyPort(
                                    port=k8s.IntOrString.from_number(port), protocol="TCP"
                                )
                            ],
                        )
                    ],
                ),
            )
            for component, port in (("hub", HUB_PORT), ("proxy", hub.proxy_metrics_port))
        ]

"""ObservabilityBundle: Prometheus Operator objects and the Grafana dashboard for a hub.

Creates, in the hub's namespace:

- a ServiceMonitor scraping the hub's ``/hub/metrics`` with a bearer token (JupyterHub's
  ``authenticate_prometheus`` stays on: the endpoint is never open);
- a PodMonitor scraping configurable-http-proxy's metrics port;
- a PrometheusRule with ``jupyterhub_alert_rules`` (see ``docs/runbook.md``);
- a ConfigMap holding the Grafana dashboard, labelled for Grafana's dashboard sidecar;
- two NetworkPolicies letting the Prometheus pods reach those two ports.

It registers a JupyterHub service named ``prometheus`` whose only scope is
``read:metrics``; its token is generated in the cluster into a Secret of its own,
``prometheus-hub-token`` (key ``metrics-api-token``), and the ServiceMonitor reads it from
there: whatever reads that Secret for Prometheus cannot read the hub's cookie secret,
crypt key or proxy token. With ``JupyterHub(existing_secret=...)`` the token is that
Secret's ``metrics-api-token``. No token value is ever written into the manifests.

It is a hub add-on: given ``hub=``, it attaches itself (``hub.attach_addon``), reads
what it monitors from the hub, and registers the ``prometheus`` hub service and its
NetworkPolicies through the hub (none when the hub renders no NetworkPolicies).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from constructs import Construct

from jupyter_constructs.addons.observability.alerts import (
    DEFAULT_RUNBOOK_BASE_URL,
    RuleGroup,
    jupyterhub_alert_rules,
    rules_spec,
)
from jupyter_constructs.addons.observability.dashboard import jupyterhub_dashboard
from jupyter_constructs.core.errors import invalid
from jupyter_constructs.core.network_policy import ingress, pods_in_namespace, tcp
from jupyter_constructs.core.objects import KubeObject, adopt
from jupyter_constructs.core.rules import (
    LABEL_KEY_RULE,
    LABEL_VALUE_RULE,
    PROMETHEUS_DURATION_RULE,
    check,
    check_dns_label,
    check_int,
    check_labels,
    check_number,
    check_text,
    check_token,
)
from jupyter_constructs.crds.monitoring import PodMonitor, PrometheusRule, ServiceMonitor
from jupyter_constructs.hub.bootstrap import METRICS_TOKEN_KEY
from jupyter_constructs.hub.hub import JupyterHub

if TYPE_CHECKING:
    from jupyter_constructs.crds.monitoring.prometheusrule import PrometheusRuleSpec

__all__ = ["METRICS_TOKEN_KEY", "ObservabilityBundle"]

#: Name of the JupyterHub service (and role) Prometheus authenticates as.
METRICS_SERVICE_NAME = "prometheus"
#: Port of the hub Service (named ``http``) serving ``/hub/metrics``.
HUB_PORT_NAME = "http"


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
        dashboard_folder: Grafana folder, as the ConfigMap annotation ``grafana_folder``.
            A stock kube-prometheus-stack ignores it: set the grafana chart's
            ``sidecar.dashboards.folderAnnotation: grafana_folder`` and
            ``sidecar.dashboards.provider.foldersFromFilesStructure: true`` (both are
            needed; docs/DEPLOYMENT_GUIDE.md, Monitoring), else the dashboard lands in the
            sidecar provider's folder. Default: ``"JupyterHub"``; ``None``: no annotation.
        dashboard_namespace: namespace of the dashboard ConfigMap. Default: the hub's
            namespace (the sidecar must search it, e.g. ``searchNamespace: ALL``).
        datasource_uid: Prometheus datasource uid of the dashboard. Default:
            ``"prometheus"``.
        server_capacity: user servers the namespace holds, for the "near capacity"
            alert. Default: the hub's active server limit (``hub.server_limit()``, where
            the hub starts refusing), else what the quota admits of its default profile
            (``hub.default_profile_capacity()``), read at synth; no alert without either.
        spawn_failure_rate: alert above this share of failed spawns. Default: 0.1.
        spawn_p95_seconds: alert above this 95th percentile of spawn time, in seconds.
            Default: 120.
        api_p95_seconds: alert above this 95th percentile of hub API latency, in
            seconds. Default: 1.
        api_5xx_ratio: alert above this share of hub API 5xx answers. Default: 0.05.
        event_loop_lag_seconds: alert above this hub event-loop lag, in seconds.
            Default: 0.5.
        runbook_base_url: where the alerts' ``runbook_url`` annotations point. Default:
            ``docs/runbook.md`` (see ``alerts.jupyterhub_alert_rules``).

    Attributes:
        service_monitor: The ServiceMonitor of the hub.
        pod_monitor: The PodMonitor of the proxy.
        prometheus_rule: The PrometheusRule with the alerts.
        dashboard_config_map: The Grafana dashboard's ConfigMap.
        network_policies: The policies letting Prometheus in (hub, proxy); none when
            the hub renders no NetworkPolicies.
        hub_job: The ``job`` label of the hub's series.
        proxy_job: The ``job`` label of the proxy's series.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        hub: JupyterHub,
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
        adopt(self, scope, id)
        if not isinstance(hub, JupyterHub):
            raise invalid(
                self, "hub", type(hub).__name__, allowed="a JupyterHub", fix="pass hub=hub"
            )
        check_dns_label(self, "prometheus_namespace", prometheus_namespace)
        if prometheus_pod_labels is not None:
            check_labels(self, "prometheus_pod_labels", prometheus_pod_labels)
        if monitor_labels is not None:
            check_labels(self, "monitor_labels", monitor_labels)
        check(self, "scrape_interval", scrape_interval, PROMETHEUS_DURATION_RULE, fix="e.g. '30s'")
        if not isinstance(dashboard_label, tuple) or len(dashboard_label) != 2:
            raise invalid(
                self,
                "dashboard_label",
                dashboard_label,
                allowed="a (key, value) tuple",
                fix='e.g. ("grafana_dashboard", "1")',
            )
        check(
            self,
            "dashboard_label key",
            dashboard_label[0],
            LABEL_KEY_RULE,
            fix="use the key Grafana's sidecar watches",
        )
        check(
            self,
            "dashboard_label value",
            dashboard_label[1],
            LABEL_VALUE_RULE,
            fix="use the value Grafana's sidecar watches",
        )
        if dashboard_folder is not None:
            check_text(self, "dashboard_folder", dashboard_folder, max_length=200)
        if dashboard_namespace is not None:
            check_dns_label(self, "dashboard_namespace", dashboard_namespace)
        check_token(self, "datasource_uid", datasource_uid, example="prometheus")
        if '"' in datasource_uid or "\\" in datasource_uid:
            raise invalid(
                self,
                "datasource_uid",
                datasource_uid,
                allowed="a Grafana datasource uid (no quotes or backslashes)",
                fix="copy the uid from Grafana's datasource settings",
            )
        if server_capacity is not None:
            check_int(self, "server_capacity", server_capacity, minimum=1)
        for what, value in (
            ("spawn_failure_rate", spawn_failure_rate),
            ("api_5xx_ratio", api_5xx_ratio),
        ):
            check_number(
                self, what, value, minimum=0, maximum=1, exclusive=True, fix="e.g. 0.05 for 5%"
            )
        for what, value in (
            ("spawn_p95_seconds", spawn_p95_seconds),
            ("api_p95_seconds", api_p95_seconds),
            ("event_loop_lag_seconds", event_loop_lag_seconds),
        ):
            check_number(self, what, value, minimum=0, exclusive=True, fix="seconds, e.g. 1.5")
        check_text(self, "runbook_base_url", runbook_base_url)
        if "#" in runbook_base_url or any(c.isspace() for c in runbook_base_url):
            raise invalid(
                self,
                "runbook_base_url",
                runbook_base_url,
                allowed="a URL or path without '#fragment' or whitespace (the alert name is "
                "appended as the anchor)",
                fix="e.g. 'https://runbooks.example.com/jupyterhub.md'",
            )
        self._monitor_labels = dict(
            monitor_labels if monitor_labels is not None else {"release": "kube-prometheus-stack"}
        )
        self._prometheus_namespace = prometheus_namespace
        self._prometheus_pods = dict(
            prometheus_pod_labels
            if prometheus_pod_labels is not None
            else {"app.kubernetes.io/name": "prometheus"}
        )
        self._scrape_interval = scrape_interval
        self._dashboard = (dashboard_label, dashboard_folder, dashboard_namespace, datasource_uid)
        self._server_capacity = server_capacity
        self._thresholds: dict[str, Any] = {
            "spawn_failure_rate": spawn_failure_rate,
            "spawn_p95_seconds": spawn_p95_seconds,
            "api_p95_seconds": api_p95_seconds,
            "api_5xx_ratio": api_5xx_ratio,
            "event_loop_lag_seconds": event_loop_lag_seconds,
            "runbook_base_url": runbook_base_url,
        }
        self.network_policies: list[KubeObject] = []
        hub.attach_addon(self)
        # The rules are checked now, so a bad threshold fails where it was given.
        self.rule_groups()

    def bind(self, hub: JupyterHub) -> None:
        """Render the monitoring objects for ``hub``; called once by ``hub.attach_addon``."""
        self._hub = hub
        namespace = hub.namespace
        labels = self._monitor_labels
        token = hub.add_hub_service(
            METRICS_SERVICE_NAME, scopes=["read:metrics"], api_token_secret_key=METRICS_TOKEN_KEY
        )
        assert token is not None  # a token key was given
        #: Where the metrics scrape token is (the ServiceMonitor's credentials).
        self.metrics_token = token
        self.service_monitor = ServiceMonitor(
            self,
            "hub-monitor",
            namespace=namespace,
            labels=labels,
            spec={
                "selector": {"matchLabels": hub.selector_labels("hub")},
                "endpoints": [
                    {
                        "port": HUB_PORT_NAME,
                        "path": hub.metrics_path,
                        "interval": self._scrape_interval,
                        "authorization": {
                            "type": "Bearer",
                            "credentials": {"name": token.name, "key": token.key},
                        },
                    }
                ],
            },
        )
        self.pod_monitor = PodMonitor(
            self,
            "proxy-monitor",
            namespace=namespace,
            labels=labels,
            spec={
                "selector": {"matchLabels": hub.selector_labels("proxy")},
                "podMetricsEndpoints": [
                    {
                        # The container port's name, not portNumber: prometheus-operator
                        # CRDs before v0.79 (kube-prometheus-stack before 66.7, whose
                        # CRDs helm never upgrades) do not know portNumber and refuse it.
                        "port": hub.proxy_metrics_port_name,
                        "path": "/metrics",
                        "interval": self._scrape_interval,
                    }
                ],
            },
        )
        # Prometheus Operator's job labels: the Service name for a ServiceMonitor,
        # "<namespace>/<PodMonitor name>" for a PodMonitor (no jobLabel set).
        self.hub_job = hub.hub_service_name
        self.proxy_job = f"{namespace}/{self.pod_monitor.name}"
        self.prometheus_rule = PrometheusRule(
            self,
            "alerts",
            namespace=namespace,
            labels=labels,
            # Late: the default capacity comes from profiles added after this call. A
            # Prometheus rule file and a PrometheusRule spec have the same shape.
            spec=lambda: cast("PrometheusRuleSpec", rules_spec(self.rule_groups())),
        )
        label, folder, dashboard_namespace, datasource_uid = self._dashboard
        dashboard = jupyterhub_dashboard(
            namespace=namespace,
            title=f"JupyterHub ({namespace})",
            uid=f"jupyterhub-{namespace}"[:40],
            datasource_uid=datasource_uid,
            hub_job=self.hub_job,
            proxy_job=self.proxy_job,
        )
        self.dashboard_config_map = KubeObject(
            self,
            "dashboard",
            api_version="v1",
            kind="ConfigMap",
            namespace=dashboard_namespace or namespace,
            labels={label[0]: label[1]},
            annotations={"grafana_folder": folder} if folder else None,
            body={"data": {"jupyterhub.json": json.dumps(dashboard, sort_keys=True, indent=1)}},
        )
        prometheus = pods_in_namespace(self._prometheus_namespace, self._prometheus_pods)
        # One policy per component, each adding only its metrics port from Prometheus;
        # other policies selecting the same pods still apply (policies are additive).
        for component, port in (("hub", hub.hub_port), ("proxy", hub.proxy_metrics_port)):
            policy = hub.allow_traffic(
                self,
                f"allow-prometheus-{component}",
                pod_selector={"matchLabels": hub.selector_labels(component)},
                ingress_rules=[ingress([prometheus], [tcp(port)])],
            )
            if policy is not None:
                self.network_policies.append(policy)

    def rule_groups(self) -> list[RuleGroup]:
        """The alert rules, with the capacity known now (see ``server_capacity``)."""
        hub = self._hub
        capacity = self._server_capacity
        if capacity is None:
            capacity = hub.server_limit() or hub.default_profile_capacity()
            # A quota that admits no server is refused by the hub's own check at synth,
            # with its reason (house format); until then (this runs when the bundle is
            # built), no capacity alert rather than an alert on 0 servers. Found by the
            # property test (issue 23): NamespaceQuota(pods=1) with the bundle failed with
            # jupyterhub_alert_rules' own message instead of the hub's.
            if capacity is not None and capacity < 1:
                capacity = None
        return jupyterhub_alert_rules(
            namespace=hub.namespace,
            hub_job=self.hub_job,
            proxy_job=self.proxy_job,
            server_capacity=capacity,
            **self._thresholds,
        )

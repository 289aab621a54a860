"""The JupyterHub Grafana dashboard, built with the Grafana Foundation SDK.

``jupyterhub_dashboard(namespace=...)`` returns the dashboard JSON model as a plain dict,
ready to be serialized into a ConfigMap picked up by Grafana's dashboard sidecar.
Nothing here is hand-written JSON: panels, queries and layout come from the SDK's typed
builders (``grafana_foundation_sdk.builders``), so field names and shapes follow the
Grafana schema the SDK was generated from (Grafana 11.6).

Sources of the series:

- the hub's ``/hub/metrics`` (JupyterHub 5.5, prefix ``jupyterhub_``);
- configurable-http-proxy's metrics port (``requests_web``, ``requests_ws``,
  ``requests_proxy{status}``, ``requests_api{status}``; no ``_total`` suffix);
- cAdvisor via the kubelet (``container_cpu_usage_seconds_total``,
  ``container_memory_working_set_bytes``) for the ``notebook`` containers;
- the kubelet's volume stats (``kubelet_volume_stats_*``) for the ``claim-*`` home PVCs.

Example::

    model = jupyterhub_dashboard(namespace="jupyter")
    json.dumps(model, sort_keys=True)  # the ConfigMap value
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from jupyter_constructs.core.errors import ConfigurationError

__all__ = ["dashboard_queries", "jupyterhub_dashboard"]

_DNS_LABEL = re.compile(r"\A[a-z0-9](?:[-a-z0-9]*[a-z0-9])?\Z")

# What Grafana substitutes for its built-in variables when a query runs; used by
# dashboard_queries() so the expressions can be sent to Prometheus as they are.
_TEMPLATE_SUBSTITUTIONS = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h"}


@dataclass(frozen=True)
class _Query:
    expr: str
    legend: str


@dataclass(frozen=True)
class _Panel:
    title: str
    description: str
    kind: str  # "stat" or "timeseries"
    unit: str
    queries: tuple[_Query, ...]
    width: int = 12
    height: int = 8


@dataclass(frozen=True)
class _Row:
    title: str
    panels: tuple[_Panel, ...]


def _selector(*matchers: str) -> str:
    return "{" + ", ".join(m for m in matchers if m) + "}"


def _panels(namespace: str, hub_job: str | None, proxy_job: str | None) -> tuple[_Row, ...]:
    ns = f'namespace="{namespace}"'
    hub = _selector(ns, f'job="{hub_job}"' if hub_job else "")
    proxy = _selector(ns, f'job="{proxy_job}"' if proxy_job else "")

    def hub_sel(*extra: str) -> str:
        return _selector(hub[1:-1], *extra)

    spawn_bucket = "jupyterhub_server_spawn_duration_seconds_bucket"
    request = "jupyterhub_request_duration_seconds"
    user_pods = _selector(ns, 'container="notebook"')
    homes = _selector(ns, 'persistentvolumeclaim=~"claim-.*"')
    rate = "$__rate_interval"
    period = {p: hub_sel(f'period="{p}"') for p in ("24h", "7d", "30d")}
    success = hub_sel('status="success"')
    server_error = hub_sel('code=~"5.."')

    return (
        _Row(
            "Users",
            (
                _Panel(
                    "Active users",
                    "Users active in the last 24 hours, 7 days and 30 days "
                    "(jupyterhub_active_users; the hub refreshes it hourly).",
                    "stat",
                    "short",
                    tuple(
                        _Query(f"max(jupyterhub_active_users{period[p]})", p)
                        for p in ("24h", "7d", "30d")
                    ),
                    width=10,
                    height=5,
                ),
                _Panel(
                    "Total users",
                    "Users known to the hub database.",
                    "stat",
                    "short",
                    (_Query(f"max(jupyterhub_total_users{hub})", "users"),),
                    width=7,
                    height=5,
                ),
                _Panel(
                    "Running servers",
                    "User servers currently running.",
                    "stat",
                    "short",
                    (_Query(f"max(jupyterhub_running_servers{hub})", "servers"),),
                    width=7,
                    height=5,
                ),
                _Panel(
                    "Running servers over time",
                    "User servers running, and active users over 24 hours.",
                    "timeseries",
                    "short",
                    (
                        _Query(f"max(jupyterhub_running_servers{hub})", "running servers"),
                        _Query(
                            f"max(jupyterhub_active_users{period['24h']})",
                            "active users (24h)",
                        ),
                    ),
                    width=24,
                ),
            ),
        ),
        _Row(
            "Spawns",
            (
                _Panel(
                    "Spawn duration",
                    "p50 and p95 of successful user-server spawns.",
                    "timeseries",
                    "s",
                    tuple(
                        _Query(
                            f"histogram_quantile({q}, sum by (le) (rate("
                            f"{spawn_bucket}{success}[{rate}])))",
                            f"p{int(q * 100)}",
                        )
                        for q in (0.5, 0.95)
                    ),
                ),
                _Panel(
                    "Spawns by outcome",
                    "Spawn attempts per status: success, failure, throttled (too many "
                    "concurrent spawns), too-many-users (active server limit), "
                    "already-pending.",
                    "timeseries",
                    "short",
                    (
                        _Query(
                            "sum by (status) (increase("
                            f"jupyterhub_server_spawn_duration_seconds_count{hub}[{rate}]))",
                            "{{status}}",
                        ),
                    ),
                ),
            ),
        ),
        _Row(
            "Hub HTTP",
            (
                _Panel(
                    "Hub requests by handler and code",
                    "Requests per second served by the hub, per Tornado handler and code.",
                    "timeseries",
                    "reqps",
                    (
                        _Query(
                            f"sum by (handler, code) (rate({request}_count{hub}[{rate}]))",
                            "{{handler}} {{code}}",
                        ),
                    ),
                ),
                _Panel(
                    "Hub request latency p95 by handler",
                    "95th percentile request duration per handler. The spawn-progress "
                    "handler is an event stream that stays open during the spawn.",
                    "timeseries",
                    "s",
                    (
                        _Query(
                            "histogram_quantile(0.95, sum by (le, handler) ("
                            f"rate({request}_bucket{hub}[{rate}])))",
                            "{{handler}}",
                        ),
                    ),
                ),
                _Panel(
                    "Hub 5xx ratio",
                    "Share of hub responses with a 5xx code.",
                    "timeseries",
                    "percentunit",
                    (
                        _Query(
                            "sum(rate("
                            f"{request}_count{server_error}[{rate}])) "
                            f"/ sum(rate({request}_count{hub}[{rate}]))",
                            "5xx",
                        ),
                    ),
                ),
                _Panel(
                    "Hub event-loop interval",
                    "p50 and p99 of the interval between the hub's event-loop ticks "
                    "(measured every 50ms); above that, something blocks the hub process.",
                    "timeseries",
                    "s",
                    tuple(
                        _Query(
                            f"histogram_quantile({q}, sum by (le) (rate("
                            f"jupyterhub_event_loop_interval_seconds_bucket{hub}[{rate}])))",
                            f"p{int(q * 100)}",
                        )
                        for q in (0.5, 0.99)
                    ),
                ),
            ),
        ),
        _Row(
            "Proxy",
            (
                _Panel(
                    "Proxy traffic",
                    "Requests per second through configurable-http-proxy: plain HTTP and "
                    "WebSocket upgrades (kernels and terminals use WebSockets).",
                    "timeseries",
                    "reqps",
                    (
                        _Query(f"sum(rate(requests_web{proxy}[{rate}]))", "HTTP"),
                        _Query(f"sum(rate(requests_ws{proxy}[{rate}]))", "WebSocket"),
                    ),
                ),
                _Panel(
                    "Proxied responses by status",
                    "Responses per second proxied to the hub and user servers, by status, "
                    "and proxy REST API calls (route changes from the hub) by status.",
                    "timeseries",
                    "reqps",
                    (
                        _Query(
                            f"sum by (status) (rate(requests_proxy{proxy}[{rate}]))",
                            "proxied {{status}}",
                        ),
                        _Query(
                            f"sum by (status) (rate(requests_api{proxy}[{rate}]))",
                            "api {{status}}",
                        ),
                    ),
                ),
            ),
        ),
        _Row(
            "User servers",
            (
                _Panel(
                    "User pod CPU",
                    "CPU used by each user's notebook container (cores).",
                    "timeseries",
                    "short",
                    (
                        _Query(
                            "sum by (pod) (rate("
                            f"container_cpu_usage_seconds_total{user_pods}[{rate}]))",
                            "{{pod}}",
                        ),
                    ),
                    width=8,
                ),
                _Panel(
                    "User pod memory",
                    "Working-set memory of each user's notebook container (what the "
                    "OOM killer compares with the limit).",
                    "timeseries",
                    "bytes",
                    (
                        _Query(
                            f"sum by (pod) (container_memory_working_set_bytes{user_pods})",
                            "{{pod}}",
                        ),
                    ),
                    width=8,
                ),
                _Panel(
                    "Home volume usage",
                    "Used fraction of each user's home volume (PVC claim-<user>).",
                    "timeseries",
                    "percentunit",
                    (
                        _Query(
                            "max by (persistentvolumeclaim) ("
                            f"kubelet_volume_stats_used_bytes{homes}) "
                            "/ max by (persistentvolumeclaim) ("
                            f"kubelet_volume_stats_capacity_bytes{homes})",
                            "{{persistentvolumeclaim}}",
                        ),
                    ),
                    width=8,
                ),
            ),
        ),
    )


def _check(what: str, value: str, pattern: re.Pattern[str] | None = None) -> None:
    if not value or any(c in value for c in ('"', "\\", "\n")):
        raise ConfigurationError(
            f"jupyterhub_dashboard: {what}={value!r} must be a non-empty string without "
            "double quotes, backslashes or newlines."
        )
    if pattern is not None and (not pattern.match(value) or len(value) > 63):
        raise ConfigurationError(
            f"jupyterhub_dashboard: {what}={value!r} is not a Kubernetes namespace name "
            "(lower-case letters, digits and '-', at most 63 characters)."
        )


def jupyterhub_dashboard(
    *,
    namespace: str,
    title: str = "JupyterHub",
    uid: str = "jupyterhub",
    datasource_uid: str = "prometheus",
    hub_job: str | None = None,
    proxy_job: str | None = None,
) -> dict[str, Any]:
    """The JupyterHub Grafana dashboard for the hub in ``namespace``, as a JSON model.

    Deterministic: the same arguments give the same dict; serialize it with
    ``json.dumps(model, sort_keys=True)`` for byte-identical output.

    Args:
        namespace: namespace of the hub; every query filters on it.
        title: dashboard title. Default: ``"JupyterHub"``.
        uid: dashboard uid, stable across re-imports (Grafana keys on it; at most 40
            characters). Default: ``"jupyterhub"``; give each hub its own.
        datasource_uid: uid of the Prometheus datasource every panel queries. Default:
            ``"prometheus"``, the uid kube-prometheus-stack gives its datasource.
        hub_job: when given, hub queries also match ``job="<hub_job>"``. Default: only
            the namespace is matched (JupyterHub metric names are unique enough).
        proxy_job: when given, proxy queries also match ``job="<proxy_job>"``; set it if
            another workload in the namespace exports ``requests_*`` counters. Default:
            only the namespace.

    Returns:
        The dashboard JSON model (``dict``) with panels for users, spawns, hub HTTP,
        proxy traffic and user-server resources.
    """
    from grafana_foundation_sdk.builders import common as common_builders
    from grafana_foundation_sdk.builders import dashboard as dashboard_builders
    from grafana_foundation_sdk.builders import prometheus as prometheus_builders
    from grafana_foundation_sdk.builders import stat as stat_builders
    from grafana_foundation_sdk.builders import timeseries as timeseries_builders
    from grafana_foundation_sdk.cog.encoder import JSONEncoder
    from grafana_foundation_sdk.models import common as common_models
    from grafana_foundation_sdk.models import dashboard as dashboard_models

    _check("namespace", namespace, _DNS_LABEL)
    _check("datasource_uid", datasource_uid)
    if hub_job is not None:
        _check("hub_job", hub_job)
    if proxy_job is not None:
        _check("proxy_job", proxy_job)
    if not title:
        raise ConfigurationError("jupyterhub_dashboard: title must not be empty.")
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,40}", uid, re.ASCII):
        raise ConfigurationError(
            f"jupyterhub_dashboard: uid={uid!r} must be 1-40 letters, digits, '-' or '_' "
            "(Grafana's limit for dashboard uids)."
        )

    datasource = dashboard_models.DataSourceRef(type_val="prometheus", uid=datasource_uid)
    builder = (
        dashboard_builders.Dashboard(title)
        .uid(uid)
        .tags(["jupyterhub", "jupyter-constructs"])
        .description(f"JupyterHub in namespace {namespace}: users, spawns, hub, proxy.")
        .time("now-6h", "now")
        .refresh("1m")
        .timezone("browser")
        .tooltip(dashboard_models.DashboardCursorSync.CROSSHAIR)
        .editable()
    )

    panel_id = 0
    for row in _panels(namespace, hub_job, proxy_job):
        panel_id += 1
        builder = builder.with_row(dashboard_builders.Row(row.title).id(panel_id))
        for spec in row.panels:
            panel_id += 1
            targets = []
            for index, query in enumerate(spec.queries):
                target = (
                    prometheus_builders.Dataquery()
                    .expr(query.expr)
                    .legend_format(query.legend)
                    .ref_id(chr(ord("A") + index))
                    .datasource(datasource)
                )
                targets.append(target.range())
            panel: Any
            if spec.kind == "stat":
                panel = (
                    stat_builders.Panel()
                    .graph_mode(common_models.BigValueGraphMode.AREA)
                    .color_mode(common_models.BigValueColorMode.VALUE)
                    .reduce_options(common_builders.ReduceDataOptions().calcs(["lastNotNull"]))
                )
            else:
                panel = timeseries_builders.Panel().legend(
                    common_builders.VizLegendOptions()
                    .display_mode(common_models.LegendDisplayMode.LIST)
                    .placement(common_models.LegendPlacement.BOTTOM)
                    .show_legend(True)
                )
            panel = (
                panel.id(panel_id)
                .title(spec.title)
                .description(spec.description)
                .unit(spec.unit)
                .datasource(datasource)
                .span(spec.width)
                .height(spec.height)
                .targets(targets)
            )
            builder = builder.with_panel(panel)

    model: dict[str, Any] = json.loads(json.dumps(builder.build(), cls=JSONEncoder, sort_keys=True))
    return model


def dashboard_queries(dashboard: dict[str, Any]) -> list[str]:
    """Every PromQL expression of ``dashboard``, Grafana variables substituted.

    ``$__rate_interval`` becomes ``5m`` (``$__interval`` ``1m``, ``$__range`` ``1h``), so
    each expression can be sent to Prometheus' ``/api/v1/query`` as it is. Panels nested
    in collapsed rows are included. Order: panel order, then target order.
    """
    panels: list[dict[str, Any]] = []
    for panel in dashboard.get("panels", []):
        panels.append(panel)
        panels.extend(panel.get("panels", []))
    queries: list[str] = []
    for panel in panels:
        for target in panel.get("targets", []):
            expr = target.get("expr")
            if not expr:
                continue
            for variable, value in _TEMPLATE_SUBSTITUTIONS.items():
                expr = expr.replace(variable, value)
            queries.append(expr)
    return queries

"""Prometheus alert rules for a JupyterHub deployment, as typed Python data.

The rules are plain frozen dataclasses so they can be rendered into a PrometheusRule
(``spec: {"groups": [g.to_spec() for g in groups]}``), into a rule file for
``promtool check rules``, or inspected by tests. Every alert carries a ``severity`` label,
a ``summary``, a ``description`` that shows the measured value, and a ``runbook_url``
pointing at the matching section of ``docs/runbook.md``.

Metric names are those JupyterHub 5.5 exports at ``/hub/metrics`` (prefix
``jupyterhub_``) and the ``up`` series Prometheus records for every scrape target.

Example::

    groups = jupyterhub_alert_rules(namespace="jupyter", hub_job="hub", proxy_job="proxy")
    spec = {"groups": [g.to_spec() for g in groups]}
"""

from __future__ import annotations

import enum
import math
import re
from dataclasses import dataclass

from jupyter_constructs.core.errors import ConfigurationError

__all__ = [
    "DEFAULT_RUNBOOK_BASE_URL",
    "AlertRule",
    "RuleGroup",
    "Severity",
    "jupyterhub_alert_rules",
    "rules_spec",
]

#: Where ``runbook_url`` annotations point by default: the runbook shipped in this
#: repository, as a path relative to the repository root. Pass ``runbook_base_url`` with
#: the address where your copy is published so on-call people get a clickable link.
DEFAULT_RUNBOOK_BASE_URL = "docs/runbook.md"

_DNS_LABEL = re.compile(r"\A[a-z0-9](?:[-a-z0-9]*[a-z0-9])?\Z")
_ALERT_NAME = re.compile(r"\A[A-Za-z_][A-Za-z0-9_]*\Z")
# Label values are embedded in PromQL double-quoted strings; these would break out.
_FORBIDDEN_IN_LABEL_VALUE = ('"', "\\", "\n")

# The hub API handlers are the ``jupyterhub.apihandlers.*`` Tornado handlers. The spawn
# progress handler is an event stream that stays open for the whole spawn, so its
# "latency" is the spawn time and would drown the real API latency.
_API_HANDLERS = 'handler=~"jupyterhub[.]apihandlers[.].+", handler!~".+SpawnProgressAPIHandler"'


class Severity(enum.Enum):
    """Value of the ``severity`` label Alertmanager routes on."""

    CRITICAL = "critical"
    WARNING = "warning"


@dataclass(frozen=True)
class AlertRule:
    """One Prometheus alerting rule.

    ``for_`` is a Prometheus duration (``"5m"``); it maps to the ``for`` key. The
    ``description`` may use Prometheus alert templating (``{{ $value }}``,
    ``{{ $labels.namespace }}``). ``runbook`` is the full ``runbook_url`` annotation.
    """

    name: str
    expr: str
    for_: str
    severity: Severity
    summary: str
    description: str
    runbook: str

    def __post_init__(self) -> None:
        if not _ALERT_NAME.match(self.name):
            raise ConfigurationError(
                f"AlertRule name {self.name!r} is not a valid Prometheus alert name: "
                "use letters, digits and underscores, not starting with a digit."
            )
        if not re.fullmatch(r"[0-9]+[smhdw]", self.for_):
            raise ConfigurationError(
                f"AlertRule {self.name}: for_={self.for_!r} is not a simple Prometheus "
                "duration such as '5m' or '1h'."
            )

    def to_spec(self) -> dict[str, object]:
        """The rule as it appears in a PrometheusRule group or a rule file."""
        return {
            "alert": self.name,
            "expr": self.expr,
            "for": self.for_,
            "labels": {"severity": self.severity.value},
            "annotations": {
                "summary": self.summary,
                "description": self.description,
                "runbook_url": self.runbook,
            },
        }


@dataclass(frozen=True)
class RuleGroup:
    """A named group of alert rules, evaluated together."""

    name: str
    rules: tuple[AlertRule, ...]

    def __post_init__(self) -> None:
        names = [r.name for r in self.rules]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ConfigurationError(f"RuleGroup {self.name}: duplicate alert names {duplicates}.")

    def to_spec(self) -> dict[str, object]:
        """The group as it appears under ``spec.groups`` of a PrometheusRule."""
        return {"name": self.name, "rules": [r.to_spec() for r in self.rules]}


def rules_spec(groups: list[RuleGroup]) -> dict[str, object]:
    """The PrometheusRule ``spec`` (also a valid Prometheus rule file) for ``groups``."""
    return {"groups": [g.to_spec() for g in groups]}


def _check_label_value(what: str, value: str) -> None:
    if not value or any(c in value for c in _FORBIDDEN_IN_LABEL_VALUE):
        raise ConfigurationError(
            f"jupyterhub_alert_rules: {what}={value!r} must be a non-empty string without "
            "double quotes, backslashes or newlines (it is embedded in PromQL)."
        )


def _check_positive(what: str, value: float) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
        raise ConfigurationError(
            f"jupyterhub_alert_rules: {what}={value!r} must be a finite number above 0."
        )


def _check_ratio(what: str, value: float) -> None:
    if not (isinstance(value, int | float) and 0 < value < 1):
        raise ConfigurationError(
            f"jupyterhub_alert_rules: {what}={value!r} must be a fraction between 0 and 1 "
            "(exclusive), e.g. 0.05 for 5%."
        )


def _number(value: float) -> str:
    """A threshold as PromQL and humans write it: 120 not 120.0, 0.05 not 5e-02."""
    return f"{value:g}" if float(value) != int(value) else str(int(value))


def jupyterhub_alert_rules(
    *,
    namespace: str,
    hub_job: str,
    proxy_job: str,
    spawn_failure_rate: float = 0.1,
    spawn_p95_seconds: float = 120.0,
    api_p95_seconds: float = 1.0,
    api_5xx_ratio: float = 0.05,
    server_capacity: int | None = None,
    event_loop_lag_seconds: float = 0.5,
    runbook_base_url: str = DEFAULT_RUNBOOK_BASE_URL,
) -> list[RuleGroup]:
    """Alert rules an on-call person needs for one JupyterHub (hub + proxy).

    Every expression selects ``namespace`` and the scrape job, and keeps the
    ``namespace`` label so Alertmanager can route per hub.

    Args:
        namespace: Kubernetes namespace of the hub; matched on the ``namespace`` label
            Prometheus attaches to the scraped series.
        hub_job: value of the ``job`` label of the hub's ``/hub/metrics`` scrape (for a
            ServiceMonitor: the hub Service name unless ``jobLabel`` is set).
        proxy_job: ``job`` label of the configurable-http-proxy metrics scrape.
        spawn_failure_rate: fraction of server spawns (success + failure) that failed
            over 15 minutes above which ``JupyterHubSpawnFailures`` fires; at least
            about three failures are also required so one failure on a quiet hub does
            not page. Default: 0.1 (10%).
        spawn_p95_seconds: p95 duration of successful spawns over 15 minutes above
            which ``JupyterHubSpawnSlow`` fires. Default: 120 s (KubeSpawner gives up at
            300 s by default; image pulls make first spawns slow).
        api_p95_seconds: p95 latency of the hub REST API (``jupyterhub.apihandlers``,
            without the spawn-progress event stream) above which
            ``JupyterHubApiLatencyHigh`` fires. Default: 1 s.
        api_5xx_ratio: fraction of hub HTTP responses with a 5xx code above which
            ``JupyterHubHighErrorRate`` fires. Default: 0.05 (5%).
        server_capacity: the number of user servers the cluster/quota can hold. When
            given, ``JupyterHubServersNearCapacity`` fires above 90% of it. Default:
            None, no capacity alert.
        event_loop_lag_seconds: p99 of the hub's event-loop interval
            (``jupyterhub_event_loop_interval_seconds``, normally ~50 ms) above which
            ``JupyterHubEventLoopLag`` fires. Default: 0.5 s.
        runbook_base_url: URL of the runbook; each alert links to
            ``<runbook_base_url>#<alert name in lower case>``. Default: the relative
            path ``docs/runbook.md``.

    Returns:
        Two rule groups: ``jupyterhub-availability`` (hub/proxy down, spawn failures,
        error ratio, capacity) and ``jupyterhub-performance`` (latencies, event loop).
    """
    if not _DNS_LABEL.match(namespace) or len(namespace) > 63:
        raise ConfigurationError(
            f"jupyterhub_alert_rules: namespace={namespace!r} is not a Kubernetes namespace "
            "name (lower-case letters, digits and '-', at most 63 characters)."
        )
    _check_label_value("hub_job", hub_job)
    _check_label_value("proxy_job", proxy_job)
    _check_ratio("spawn_failure_rate", spawn_failure_rate)
    _check_ratio("api_5xx_ratio", api_5xx_ratio)
    _check_positive("spawn_p95_seconds", spawn_p95_seconds)
    _check_positive("api_p95_seconds", api_p95_seconds)
    _check_positive("event_loop_lag_seconds", event_loop_lag_seconds)
    if server_capacity is not None and (
        isinstance(server_capacity, bool)
        or not isinstance(server_capacity, int)
        or server_capacity < 1
    ):
        raise ConfigurationError(
            f"jupyterhub_alert_rules: server_capacity={server_capacity!r} must be a whole "
            "number of user servers, at least 1, or None to leave the capacity alert out."
        )
    if not runbook_base_url or "#" in runbook_base_url:
        raise ConfigurationError(
            f"jupyterhub_alert_rules: runbook_base_url={runbook_base_url!r} must be a "
            "non-empty URL without a '#fragment'; the alert name is appended as the anchor."
        )

    hub = f'namespace="{namespace}", job="{hub_job}"'
    proxy = f'namespace="{namespace}", job="{proxy_job}"'

    def runbook(name: str) -> str:
        return f"{runbook_base_url}#{name.lower()}"

    def down(name: str, selector: str, what: str) -> AlertRule:
        return AlertRule(
            name=name,
            expr=(f"max by (namespace, job) (up{{{selector}}}) == 0 or absent(up{{{selector}}})"),
            for_="5m",
            severity=Severity.CRITICAL,
            summary=f"JupyterHub {what} in namespace {{{{ $labels.namespace }}}} is down.",
            description=(
                f"Prometheus has not scraped the JupyterHub {what} (job "
                "{{ $labels.job }}) in namespace {{ $labels.namespace }} successfully for "
                "5 minutes. Value {{ $value }}: 0 means the scrape fails, 1 means no "
                "target is discovered at all."
            ),
            runbook=runbook(name),
        )

    spawn_count = "jupyterhub_server_spawn_duration_seconds_count"
    spawn_bucket = "jupyterhub_server_spawn_duration_seconds_bucket"
    request_count = "jupyterhub_request_duration_seconds_count"
    request_bucket = "jupyterhub_request_duration_seconds_bucket"

    availability: list[AlertRule] = [
        down("JupyterHubDown", hub, "hub"),
        down("JupyterHubProxyDown", proxy, "proxy"),
        AlertRule(
            name="JupyterHubSpawnFailures",
            expr=(
                f'sum by (namespace) (rate({spawn_count}{{{hub}, status="failure"}}[15m]))\n'
                f'/ sum by (namespace) (rate({spawn_count}{{{hub}, status=~"success|failure"}}'
                "[15m]))\n"
                f"> {_number(spawn_failure_rate)}\n"
                "and on (namespace)\n"
                f'sum by (namespace) (increase({spawn_count}{{{hub}, status="failure"}}[15m]))'
                " > 2"
            ),
            for_="5m",
            severity=Severity.WARNING,
            summary="User servers fail to start in namespace {{ $labels.namespace }}.",
            description=(
                "{{ $value | humanizePercentage }} of server spawns failed over the last "
                f"15 minutes (threshold {_number(spawn_failure_rate * 100)}%)."
            ),
            runbook=runbook("JupyterHubSpawnFailures"),
        ),
        AlertRule(
            name="JupyterHubHighErrorRate",
            expr=(
                f'sum by (namespace) (rate({request_count}{{{hub}, code=~"5.."}}[5m]))\n'
                f"/ sum by (namespace) (rate({request_count}{{{hub}}}[5m]))\n"
                f"> {_number(api_5xx_ratio)}"
            ),
            for_="10m",
            severity=Severity.WARNING,
            summary="The hub answers with 5xx errors in namespace {{ $labels.namespace }}.",
            description=(
                "{{ $value | humanizePercentage }} of hub HTTP responses over the last "
                f"5 minutes were 5xx errors (threshold {_number(api_5xx_ratio * 100)}%)."
            ),
            runbook=runbook("JupyterHubHighErrorRate"),
        ),
    ]
    if server_capacity is not None:
        availability.append(
            AlertRule(
                name="JupyterHubServersNearCapacity",
                expr=(
                    f"max by (namespace) (jupyterhub_running_servers{{{hub}}}) "
                    f"/ {server_capacity} > 0.9"
                ),
                for_="10m",
                severity=Severity.WARNING,
                summary=(
                    "Running user servers are close to capacity in namespace "
                    "{{ $labels.namespace }}."
                ),
                description=(
                    "{{ $value | humanizePercentage }} of the capacity of "
                    f"{server_capacity} user servers is in use (threshold 90%)."
                ),
                runbook=runbook("JupyterHubServersNearCapacity"),
            )
        )

    performance: list[AlertRule] = [
        AlertRule(
            name="JupyterHubSpawnSlow",
            expr=(
                "histogram_quantile(0.95, sum by (namespace, le) "
                f'(rate({spawn_bucket}{{{hub}, status="success"}}[15m])))\n'
                f"> {_number(spawn_p95_seconds)}"
            ),
            for_="15m",
            severity=Severity.WARNING,
            summary="User servers are slow to start in namespace {{ $labels.namespace }}.",
            description=(
                "The 95th percentile of successful spawn durations over the last 15 minutes "
                "is {{ $value | humanizeDuration }} (threshold "
                f"{_number(spawn_p95_seconds)}s)."
            ),
            runbook=runbook("JupyterHubSpawnSlow"),
        ),
        AlertRule(
            name="JupyterHubApiLatencyHigh",
            expr=(
                "histogram_quantile(0.95, sum by (namespace, le) "
                f"(rate({request_bucket}{{{hub}, {_API_HANDLERS}}}[5m])))\n"
                f"> {_number(api_p95_seconds)}"
            ),
            for_="10m",
            severity=Severity.WARNING,
            summary="The hub REST API is slow in namespace {{ $labels.namespace }}.",
            description=(
                "The 95th percentile of hub API request durations over the last 5 minutes "
                f"is {{{{ $value | humanizeDuration }}}} (threshold {_number(api_p95_seconds)}s)."
            ),
            runbook=runbook("JupyterHubApiLatencyHigh"),
        ),
        AlertRule(
            name="JupyterHubEventLoopLag",
            expr=(
                "histogram_quantile(0.99, sum by (namespace, le) "
                f"(rate(jupyterhub_event_loop_interval_seconds_bucket{{{hub}}}[5m])))\n"
                f"> {_number(event_loop_lag_seconds)}"
            ),
            for_="10m",
            severity=Severity.WARNING,
            summary="The hub's event loop is blocked in namespace {{ $labels.namespace }}.",
            description=(
                "The 99th percentile of the hub's event-loop interval over the last "
                "5 minutes is {{ $value | humanizeDuration }} (normally about 50ms; "
                f"threshold {_number(event_loop_lag_seconds)}s)."
            ),
            runbook=runbook("JupyterHubEventLoopLag"),
        ),
    ]
    return [
        RuleGroup("jupyterhub-availability", tuple(availability)),
        RuleGroup("jupyterhub-performance", tuple(performance)),
    ]

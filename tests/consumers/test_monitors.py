"""The product's monitors, rules and dashboard judged by prometheus-operator and Prometheus.

Replaces the hand-written translation of the old live observability test (a static
scrape configuration "equivalent to" the monitors): here the real consumers do it.

- prometheus-operator v0.85 (its own CRDs, RBAC and Deployment, from its module) runs
  against the test API server with a Prometheus resource configured like
  kube-prometheus-stack's: monitors, pod monitors and rules selected by
  ``release: kube-prometheus-stack`` in every namespace. It reads the *rendered*
  ServiceMonitor, PodMonitor and PrometheusRule of ``dist/prod`` (synced into namespace
  ``jupyter`` as ArgoCD would) and writes the scrape configuration — bearer token taken
  from the hub Secret the bootstrap script made — and the rule files.
- Prometheus 3.16 (built from its module, with Kubernetes service discovery) runs as
  the pod of the operator's StatefulSet, with that configuration as the operator's own
  config reloader expands it, and the ``prometheus`` ServiceAccount's token. It finds
  the hub through the ``hub`` Service's EndpointSlice (the hub pod is run by the test
  kubelet and reported Ready at its own loopback address; since the API server refuses
  loopback addresses in the real controller's slices, the slice is written as that
  controller would, with ``addressType: FQDN``: ``tests/support/kube/endpoints.py``) and
  the proxy through its pod, scrapes both, and evaluates the product's alert rules.
  The Prometheus resource uses ``serviceDiscoveryRole: EndpointSlice`` for that reason.
- ``promtool`` of the same build checks the generated configuration.
- A Prometheus that selects another ``release`` label (kube-prometheus-stack installed
  under another release name) shows what the user sees: no JupyterHub target and none
  of the product's alert rules, so nothing can fire (``docs/DEPLOYMENT_GUIDE.md``).

The scrape interval is the monitors' own (30 s), so the tests wait for real scrapes;
only the Prometheus resource's rule evaluation interval is short (5 s).
"""

from __future__ import annotations

import base64
import json
import os
import signal
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from jupyter_constructs.addons.observability.dashboard import dashboard_queries
from tests.consumers.conftest import MonitoredProduct
from tests.support.kube import prometheus_operator as operator
from tests.support.kube.client import KubeClient, wait_until
from tests.support.kube.endpoints import mirror_endpoint_slice
from tests.support.kube.kubelet import TestKubelet
from tests.support.kube.pod_root import PodRoot
from tests.support.kube.product import find
from tests.support.kube.prometheus import CONFIG_FILE, PrometheusPod, running_prometheus, version
from tests.support.prometheus import metric_names

pytestmark = pytest.mark.consumers

STACK = f"{operator.STACK_RELEASE}-prometheus"
#: kube-prometheus-stack installed as release "monitoring" (its Prometheus selects
#: ``release: monitoring``), the label the product does not set by default.
OTHER_RELEASE = "monitoring"
HUB_JOB = "serviceMonitor/jupyter/prod-observability-hub-monitor/0"
PROXY_JOB = "podMonitor/jupyter/prod-observability-proxy-monitor/0"
#: A scrape every 30 s (the monitors' interval), plus its 10 s timeout, plus slack.
SCRAPE_WAIT = 75


# ---------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def operator_release() -> operator.OperatorRelease:
    return operator.NEWEST


@pytest.fixture(scope="module")
def running_operator(admin: KubeClient, monitored_product: MonitoredProduct) -> Iterator[PodRoot]:
    assert not monitored_product.sync.errors, monitored_product.sync.report()
    with operator.running_operator(admin, monitored_product.release) as pod:
        yield pod


@pytest.fixture(scope="module")
def generated(admin: KubeClient, running_operator: PodRoot) -> dict[str, Any]:
    """The configuration the operator generated for the kube-prometheus-stack-like
    Prometheus, once it has both of the product's scrape jobs."""
    admin.apply(
        operator.stack_prometheus(STACK, version=version(operator.NEWEST)), field_manager="test"
    )
    return operator.wait_for_config(
        admin,
        STACK,
        lambda config: {HUB_JOB, PROXY_JOB} <= operator.job_names(config),
        "the operator to generate both of the product's scrape jobs",
        operator=running_operator,
    )


@pytest.fixture(scope="module")
def prometheus(
    admin: KubeClient, generated: dict[str, Any], monitored_product: MonitoredProduct
) -> Iterator[PrometheusPod]:
    with running_prometheus(admin, STACK, monitored_product.release) as pod:
        yield pod


def _up_targets(prometheus: PrometheusPod, jobs: set[str]) -> list[dict[str, Any]] | None:
    targets = [t for t in prometheus.targets() if t["scrapePool"] in jobs]
    healthy = [t for t in targets if t["health"] == "up"]
    return targets if len(healthy) == len(jobs) == len(targets) else None


def targets_page(prometheus: PrometheusPod) -> str:
    """What Prometheus' Targets page says: active targets, and why others were dropped."""
    lines = [
        f"active: {t['scrapePool']} {t['scrapeUrl']} {t['health']} {t['lastError']}"
        for t in prometheus.targets()
    ]
    for target in prometheus.targets("dropped"):
        found = target["discoveredLabels"]
        port = found.get("__meta_kubernetes_endpointslice_port_name") or found.get(
            "__meta_kubernetes_pod_container_port_number", ""
        )
        lines.append(f"dropped: {found.get('job')} {found.get('__address__')} port {port!r}")
    return "\n".join(lines) or "no targets"


@pytest.fixture(scope="module")
def scraped(prometheus: PrometheusPod) -> list[dict[str, Any]]:
    """Both targets scraped successfully at least once (their active targets)."""
    return wait_until(
        lambda: _up_targets(prometheus, {HUB_JOB, PROXY_JOB}),
        SCRAPE_WAIT,
        "Prometheus to scrape the hub and the proxy",
        on_timeout=lambda: f"Prometheus' targets:\n{targets_page(prometheus)}",
    )


def metrics_token(admin: KubeClient, objects: list[dict[str, Any]]) -> str:
    """The token in the Secret key the rendered ServiceMonitor names (made by the
    bootstrap script), checked to be the one the hub Deployment gives the hub."""
    monitor = next(o for o in objects if o["kind"] == "ServiceMonitor")
    (endpoint,) = monitor["spec"]["endpoints"]
    ref = endpoint["authorization"]["credentials"]
    hub = find(objects, "Deployment", "hub")["spec"]["template"]["spec"]["containers"][0]
    (env,) = [e for e in hub["env"] if e["name"] == "JUPYTERHUB_SERVICE_TOKEN_PROMETHEUS"]
    assert env["valueFrom"]["secretKeyRef"] == ref, (env, ref)
    secret = admin.get(f"/api/v1/namespaces/jupyter/secrets/{ref['name']}")
    return base64.b64decode(secret["data"][ref["key"]]).decode()


def scrapes_of_the_hub(prometheus: PrometheusPod) -> int:
    result = prometheus.query('count_over_time(up{job="hub"}[15m])')
    return int(float(result[0]["value"][1])) if result else 0


@pytest.fixture(scope="module")
def traffic(
    admin: KubeClient,
    monitored_product: MonitoredProduct,
    prometheus: PrometheusPod,
    scraped: Any,
) -> set[str]:
    """Requests through the real proxy to the real hub, then every metric name Prometheus
    holds once it has scraped the hub twice after them (rates need two samples)."""
    public = f"http://{monitored_product.pods.proxy['status']['podIP']}:8000"
    token = metrics_token(admin, monitored_product.objects)
    before = scrapes_of_the_hub(prometheus)
    assert requests.get(f"{public}/hub/api/", timeout=10).status_code == 200
    bearer = {"Authorization": f"Bearer {token}"}
    assert requests.get(f"{public}/hub/api/users", headers=bearer, timeout=10).status_code == 403
    assert requests.get(f"{public}/hub/api/no-such-endpoint", timeout=10).status_code == 404
    login = requests.get(f"{public}/hub/oauth_login", allow_redirects=False, timeout=10)
    assert login.status_code == 302, login.text  # to the identity provider

    def scraped_twice_since() -> set[str] | None:
        done = scrapes_of_the_hub(prometheus) >= before + 2
        return prometheus.metric_names() if done else None

    return wait_until(scraped_twice_since, 2 * SCRAPE_WAIT, "two more scrapes of the hub")


# ---------------------------------------------------------------------- the operator


def test_the_operator_generates_both_scrape_jobs_from_the_rendered_monitors(
    admin: KubeClient, generated: dict[str, Any], monitored_product: MonitoredProduct
) -> None:
    jobs = {job["job_name"]: job for job in generated["scrape_configs"]}
    hub, proxy = jobs[HUB_JOB], jobs[PROXY_JOB]
    # The hub through the Service's EndpointSlices, its port by name; the proxy by its pod.
    assert hub["kubernetes_sd_configs"] == [
        {"namespaces": {"names": ["jupyter"]}, "role": "endpointslice"}
    ]
    port_by_name = {
        "action": "keep",
        "regex": "http",
        "source_labels": ["__meta_kubernetes_endpointslice_port_name"],
    }
    assert port_by_name in hub["relabel_configs"]
    assert proxy["kubernetes_sd_configs"][0]["role"] == "pod"
    assert hub["metrics_path"] == "/hub/metrics"
    # The bearer token is the one the bootstrap script put into the Secret the monitor names.
    token = metrics_token(admin, monitored_product.objects)
    assert hub["authorization"] == {"type": "Bearer", "credentials": token}
    assert "authorization" not in proxy


def test_the_operator_turns_the_prometheus_rule_into_a_rule_file(
    admin: KubeClient, generated: dict[str, Any], monitored_product: MonitoredProduct
) -> None:
    rule = find(monitored_product.objects, "PrometheusRule", "prod-observability-alerts")
    files = operator.generated_rules(admin, STACK)
    (mine,) = [
        f for name, f in files.items() if name.startswith("jupyter-prod-observability-alerts-")
    ]
    assert mine["groups"] == rule["spec"]["groups"]


def test_promtool_accepts_the_generated_configuration(prometheus: PrometheusPod) -> None:
    """promtool of the Prometheus build, in the pod's filesystem: the configuration as the
    config reloader expanded it, and the rule files it names."""
    checked = prometheus.promtool("check", "config", CONFIG_FILE)
    output = checked.stdout + checked.stderr
    assert checked.returncode == 0, output
    assert f"SUCCESS: {CONFIG_FILE} is valid prometheus config file syntax" in output, output
    assert "SUCCESS: 8 rules found" in output, output


# ---------------------------------------------------------------------- Prometheus


def test_prometheus_finds_the_hub_through_its_service_endpoints_and_the_proxy_through_its_pod(
    admin: KubeClient, monitored_product: MonitoredProduct, scraped: list[dict[str, Any]]
) -> None:
    pods = monitored_product.pods
    hub_ip, proxy_ip = pods.hub["status"]["podIP"], pods.proxy["status"]["podIP"]
    # The real EndpointSlice controller cannot publish a loopback pod address: the API
    # server refuses it. The hub's slice is its FQDN stand-in (tests/support/kube/endpoints.py).
    refusals = admin.get(
        "/api/v1/namespaces/jupyter/events",
        fieldSelector="involvedObject.name=hub,reason=FailedToUpdateEndpointSlices",
    )["items"]
    assert any("may not be in the loopback range" in e["message"] for e in refusals), refusals
    slices = admin.get(
        "/apis/discovery.k8s.io/v1/namespaces/jupyter/endpointslices",
        labelSelector="kubernetes.io/service-name=hub",
    )["items"]
    published = [(s["addressType"], e["addresses"]) for s in slices for e in s["endpoints"] or []]
    assert published == [("FQDN", [hub_ip])]
    assert [s["ports"] for s in slices if s["endpoints"]] == [
        [{"name": "http", "port": 8081, "protocol": "TCP"}]
    ]

    by_job = {t["scrapePool"]: t for t in scraped}
    hub, proxy = by_job[HUB_JOB], by_job[PROXY_JOB]
    assert hub["scrapeUrl"] == f"http://{hub_ip}:8081/hub/metrics"
    assert hub["labels"] | {"instance": ""} == {
        "job": "hub",
        "namespace": "jupyter",
        "service": "hub",
        "pod": pods.hub["metadata"]["name"],
        "container": "hub",
        "endpoint": "http",
        "instance": "",
    }
    assert proxy["scrapeUrl"] == f"http://{proxy_ip}:8002/metrics"
    assert proxy["labels"]["job"] == "jupyter/prod-observability-proxy-monitor"
    assert proxy["labels"]["pod"] == pods.proxy["metadata"]["name"]


def test_the_hub_answers_the_scrape_only_with_the_token(
    monitored_product: MonitoredProduct, prometheus: PrometheusPod, scraped: Any
) -> None:
    """``up == 1`` for the hub means the hub accepted the operator's credentials: without
    them the same URL is refused (``authenticate_prometheus``)."""
    (sample,) = prometheus.query('up{job="hub", namespace="jupyter"}')
    assert sample["value"][1] == "1"
    url = f"{monitored_product.pods.hub_url}/hub/metrics"
    assert requests.get(url, timeout=10).status_code == 403
    assert "jupyterhub_" in "".join(prometheus.metric_names())


def test_every_alert_rule_is_loaded_and_evaluated_on_what_was_scraped(
    prometheus: PrometheusPod, traffic: set[str]
) -> None:
    def evaluated() -> list[dict[str, Any]] | None:
        rules = prometheus.rules()
        done = rules and all(r.get("lastEvaluation", "").startswith("2") for r in rules)
        return rules if done else None

    rules = wait_until(evaluated, 30, "every rule evaluated")
    assert len(rules) == 8, [r["name"] for r in rules]
    for rule in rules:
        assert rule["health"] == "ok", rule
        assert rule["state"] == "inactive", f"{rule['name']} is {rule['state']} on a healthy hub"
        referenced = {n for n in metric_names(rule["query"]) if n != "up"}
        assert referenced <= traffic, f"{rule['name']}: {referenced - traffic} never scraped"


def test_every_dashboard_query_runs_on_the_scraped_metrics(
    monitored_product: MonitoredProduct, prometheus: PrometheusPod, traffic: set[str]
) -> None:
    config_map = find(monitored_product.objects, "ConfigMap", "prod-observability-dashboard")
    (document,) = config_map["data"].values()
    queries = dashboard_queries(json.loads(document))
    ours: set[str] = set()
    for expr in queries:
        prometheus.query(expr)  # raises on a Prometheus error
        ours |= {n for n in metric_names(expr) if n.startswith(("jupyterhub_", "requests_"))}
    assert ours, "the dashboard queries no hub or proxy metric"
    assert ours <= traffic, f"dashboard metrics never scraped: {sorted(ours - traffic)}"

    # Not just valid PromQL: the panels show the traffic (a new series needs two scrapes).
    (by_handler,) = [q for q in queries if "sum by (handler, code)" in q]
    expected_handlers = {
        ("jupyterhub.apihandlers.hub.RootAPIHandler", "200"),
        ("jupyterhub.apihandlers.users.UserListAPIHandler", "403"),
    }

    def handlers() -> set[tuple[str, str]] | None:
        seen = {(s["metric"]["handler"], s["metric"]["code"]) for s in prometheus.query(by_handler)}
        return seen if expected_handlers <= seen else None

    wait_until(handlers, SCRAPE_WAIT, f"{sorted(expected_handlers)} in the request-rate panel")
    (proxied,) = [q for q in queries if "requests_proxy" in q]

    def statuses() -> set[str] | None:
        seen = {s["metric"]["status"] for s in prometheus.query(proxied)}
        return seen if {"200", "302", "403", "404"} <= seen else None

    wait_until(statuses, SCRAPE_WAIT, "statuses 200, 302, 403, 404 in the proxied-responses panel")


def test_a_hung_proxy_is_what_the_proxy_down_alert_reports(
    monitored_product: MonitoredProduct,
    prometheus: PrometheusPod,
    kubelet: TestKubelet,
    traffic: set[str],
) -> None:
    """The proxy process stops answering (SIGSTOP; the pod stays Running): its scrape
    times out, ``up`` is 0 and the JupyterHubProxyDown expression returns that 0 (the
    rule is pending for its 5 minutes). The hub alert stays quiet."""
    rule = next(r for r in prometheus.rules() if r["name"] == "JupyterHubProxyDown")
    assert prometheus.query(rule["query"]) == []
    name = monitored_product.pods.proxy["metadata"]["name"]
    state = next(p for p in kubelet.pods.values() if p.name == name)
    process = state.containers["chp"].process
    assert process is not None
    os.killpg(process.pid, signal.SIGSTOP)
    try:
        (sample,) = wait_until(
            lambda: prometheus.query(rule["query"]), SCRAPE_WAIT, "the proxy-down expression"
        )
        assert sample["metric"] == {
            "namespace": "jupyter",
            "job": "jupyter/prod-observability-proxy-monitor",
        }
        assert sample["value"][1] == "0"
        pending = wait_until(
            lambda: next(
                (
                    r
                    for r in prometheus.rules()
                    if r["name"] == rule["name"] and r["state"] != "inactive"
                ),
                None,
            ),
            30,
            "the rule to become pending",
        )
        assert pending["state"] == "pending"
        hub_down = next(r for r in prometheus.rules() if r["name"] == "JupyterHubDown")
        assert prometheus.query(hub_down["query"]) == []
    finally:
        os.killpg(process.pid, signal.SIGCONT)


# ---------------------------------------------------------------------- another release


def test_a_prometheus_selecting_another_release_shows_no_jupyterhub_target_and_no_rule(
    admin: KubeClient, running_operator: PodRoot, monitored_product: MonitoredProduct
) -> None:
    """kube-prometheus-stack installed as release ``monitoring``: its Prometheus selects
    ``release: monitoring``; the product's monitors say ``kube-prometheus-stack``. The
    operator skips them without a word, Prometheus shows no JupyterHub target and loads
    none of the product's rules: nothing fires, not even JupyterHubDown (whose
    ``absent()`` would catch a missing target)."""
    name = f"{OTHER_RELEASE}-kube-prometheus-prometheus"
    admin.apply(
        operator.stack_prometheus(
            name, release_label=OTHER_RELEASE, version=version(operator.NEWEST)
        ),
        field_manager="test",
    )
    config = operator.wait_for_config(
        admin,
        name,
        lambda c: True,
        "the operator to configure the other Prometheus",
        operator=running_operator,
    )
    assert operator.job_names(config) == set()
    assert not any(n.startswith("jupyter-") for n in operator.generated_rules(admin, name))
    with running_prometheus(admin, name, monitored_product.release) as other:
        wait_until(lambda: other.api("status/runtimeinfo"), 30, "Prometheus to run")
        active, dropped = other.targets(), other.targets("dropped")
        print(f"\nTargets page: {len(active)} active, {len(dropped)} dropped; {other.rules()=}")
        assert [t for t in active + dropped if "jupyter" in json.dumps(t)] == []
        assert other.rules() == []
        assert other.query('absent(up{job="hub"})')[0]["value"][1] == "1"  # no one evaluates it


# ---------------------------------------------------------------------- a renamed port


def test_a_renamed_service_port_drops_the_hub_target_and_the_hub_down_alert_reports_it(
    admin: KubeClient,
    monitored_product: MonitoredProduct,
    prometheus: PrometheusPod,
    scraped: Any,
) -> None:
    """The hub Service's port renamed (``http`` to ``hub-api``: a kustomize patch, a
    chart's Service in front of the hub) while the ServiceMonitor still names ``http``.
    The operator's ``keep`` relabeling on the port name drops the endpoint: Prometheus'
    Targets page lists it under dropped with the new port name, the hub scrape pool has
    no active target, ``up{job="hub"}`` vanishes and JupyterHubDown's ``absent()`` half
    returns 1 (the alert is pending, then fires after its 5 minutes). Nothing warns
    earlier: the operator accepts the monitor unchanged. The port is renamed back
    afterwards and the hub scraped again."""
    namespace = monitored_product.namespace
    path = f"/api/v1/namespaces/{namespace}/services/hub"
    original = admin.get(path)["spec"]["ports"]
    assert [p["name"] for p in original] == ["http"]
    renamed = [{**p, "name": "hub-api"} for p in original]
    rule = next(r for r in prometheus.rules() if r["name"] == "JupyterHubDown")
    assert prometheus.query(rule["query"]) == []
    admin.patch(path, {"spec": {"ports": renamed}})
    mirror_endpoint_slice(admin, namespace, "hub")  # the controller follows the Service
    try:

        def dropped_by_port() -> list[dict[str, Any]] | None:
            active = [t for t in prometheus.targets() if t["scrapePool"] == HUB_JOB]
            dropped = [
                t
                for t in prometheus.targets("dropped")
                if t["discoveredLabels"].get("__meta_kubernetes_endpointslice_port_name")
                == "hub-api"
            ]
            return dropped if dropped and not active else None

        dropped = wait_until(
            dropped_by_port,
            SCRAPE_WAIT,
            "the hub target dropped for its port name",
            on_timeout=lambda: f"Prometheus' targets:\n{targets_page(prometheus)}",
        )
        print(f"\nTargets page after the rename:\n{targets_page(prometheus)}")
        assert dropped[0]["discoveredLabels"]["__meta_kubernetes_service_name"] == "hub"
        (sample,) = wait_until(
            lambda: prometheus.query(rule["query"]), SCRAPE_WAIT, "the hub-down expression"
        )
        assert sample["value"][1] == "1", sample  # 1: no target discovered at all
        pending = wait_until(
            lambda: next(
                (
                    r
                    for r in prometheus.rules()
                    if r["name"] == rule["name"] and r["state"] != "inactive"
                ),
                None,
            ),
            30,
            "JupyterHubDown to become pending",
        )
        assert pending["state"] == "pending"
    finally:
        admin.patch(path, {"spec": {"ports": original}})
        mirror_endpoint_slice(admin, namespace, "hub")
    wait_until(
        lambda: _up_targets(prometheus, {HUB_JOB}),
        2 * SCRAPE_WAIT,
        "the hub scraped again under its port name",
        on_timeout=lambda: f"Prometheus' targets:\n{targets_page(prometheus)}",
    )

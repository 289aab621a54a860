"""The ObservabilityBundle's output against a real hub, a real proxy and real Prometheus.

The bundle is synthesized (cdk8s) for a stand-in hub that implements the interface the
bundle needs (``MonitoredHub``), and everything the live stack runs comes from that
output, not from a second hand-written copy:

- JupyterHub 5.5 (the pinned version) gets the hub service and role the bundle
  registered (``add_hub_service``), with ``authenticate_prometheus`` on;
- configurable-http-proxy (npm) runs externally with its metrics port, as in Kubernetes;
- Prometheus scrapes with the job names, paths and bearer authorization of the
  ServiceMonitor and PodMonitor (the operator's job labels: Service name, and
  ``<namespace>/<PodMonitor name>``), plus the ``namespace`` label the operator adds;
- the rule file is the PrometheusRule's spec; the dashboard is the ConfigMap's JSON.

DummyAuthenticator is used here only, to produce a real login.
"""

from __future__ import annotations

import copy
import json
import secrets
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import jsonschema
import pytest
import yaml

from jupyter_constructs import JupyterHub
from jupyter_constructs.addons.observability.dashboard import dashboard_queries
from jupyter_constructs.hub.bootstrap import METRICS_TOKEN_KEY
from tests.crd_schemas import validate_custom_resource
from tests.helpers import find, make_hub, pod_spec, synth, write_config_dir
from tests.support.http import http, wait_for
from tests.support.hub import Hub, hub_login, start_hub
from tests.support.prometheus import Prometheus, metric_names

pytestmark = pytest.mark.integration

NAMESPACE = "jupyter"
SCRAPE_INTERVAL = "1s"
# Proxy metric names as configurable-http-proxy 5.3 exports them (prom-client, no
# `_total` suffix); the dashboard queries them, so they must exist in the scrape too.
PROXY_METRICS = {"requests_web", "requests_ws", "requests_proxy", "requests_api"}

# Test-only settings on top of the generated config (the hub test overrides replace what
# needs a cluster): login traffic without an identity provider.
HUB_SETTINGS = textwrap.dedent(
    """
    import os

    # Test only: a password shared by every user, to produce real logins.
    c.JupyterHub.authenticator_class = "dummy"
    c.DummyAuthenticator.password = os.environ["TEST_USER_PASSWORD"]
    c.Authenticator.allow_all = True
    c.JupyterHub.spawner_class = "jupyterhub.spawner.SimpleLocalProcessSpawner"
    """
)


@dataclass
class Bundle:
    hub: JupyterHub
    hub_objects: list[dict[str, Any]]
    hub_job: str
    proxy_job: str
    rule_names: list[str]
    alert_exprs: dict[str, str]
    manifests: dict[str, dict[str, Any]]
    network_policies: list[dict[str, Any]]

    @property
    def dashboard(self) -> dict[str, Any]:
        data = self.manifests["ConfigMap"]["data"]
        (document,) = data.values()
        model: dict[str, Any] = json.loads(document)
        return model


@pytest.fixture(scope="module")
def bundle() -> Bundle:
    import cdk8s

    from jupyter_constructs.addons.observability.bundle import ObservabilityBundle

    # The real hub construct; the bundle goes in its own chart so that its objects can be
    # told apart from the hub's.
    hub_chart, hub = make_hub()
    chart = cdk8s.Chart(cdk8s.Chart.of(hub).node.scope, "monitoring", namespace=NAMESPACE)
    observability = ObservabilityBundle(chart, "observability", hub=hub, server_capacity=10)
    manifests: dict[str, dict[str, Any]] = {}
    network_policies: list[dict[str, Any]] = []
    for manifest in cdk8s.Testing.synth(chart):
        kind = manifest["kind"]
        if kind == "NetworkPolicy":
            network_policies.append(manifest)
            continue
        assert kind not in manifests, f"two {kind} objects"
        manifests[kind] = manifest
    rules = [r for g in manifests["PrometheusRule"]["spec"]["groups"] for r in g["rules"]]
    return Bundle(
        hub=hub,
        hub_objects=synth(hub_chart),
        hub_job=observability.hub_job,
        proxy_job=observability.proxy_job,
        rule_names=[r["alert"] for r in rules],
        alert_exprs={r["alert"]: r["expr"] for r in rules},
        manifests=manifests,
        network_policies=network_policies,
    )


@dataclass
class Stack:
    bundle: Bundle
    prometheus: Prometheus
    hub: Hub
    token: str
    password: str

    @property
    def hub_url(self) -> str:
        return self.hub.hub_url

    @property
    def public_url(self) -> str:
        return self.hub.public_url


def scrape_config(
    bundle: Bundle, *, hub_target: str, proxy_target: str, token_file: str
) -> list[dict[str, Any]]:
    """Prometheus scrape jobs equivalent to the bundle's ServiceMonitor and PodMonitor."""
    (hub_endpoint,) = bundle.manifests["ServiceMonitor"]["spec"]["endpoints"]
    (proxy_endpoint,) = bundle.manifests["PodMonitor"]["spec"]["podMetricsEndpoints"]
    credentials = hub_endpoint["authorization"]["credentials"]
    # The ServiceMonitor reads the very Secret key the hub takes the service token from: a
    # Secret of its own, not the hub's (issue 16).
    assert (credentials["name"], credentials["key"]) == ("prometheus-hub-token", METRICS_TOKEN_KEY)
    hub_env = pod_spec(find(bundle.hub_objects, "Deployment", "hub"))["containers"][0]["env"]
    (token_env,) = [e for e in hub_env if e["name"] == "JUPYTERHUB_SERVICE_TOKEN_PROMETHEUS"]
    assert token_env["valueFrom"]["secretKeyRef"] == dict(credentials)
    labels = {"namespace": NAMESPACE}
    return [
        {
            "job_name": bundle.hub_job,
            "metrics_path": hub_endpoint["path"],
            "authorization": {
                "type": hub_endpoint["authorization"]["type"],
                "credentials_file": token_file,
            },
            "static_configs": [{"targets": [hub_target], "labels": labels}],
        },
        {
            "job_name": bundle.proxy_job,
            "metrics_path": proxy_endpoint["path"],
            "static_configs": [{"targets": [proxy_target], "labels": labels}],
        },
    ]


@pytest.fixture(scope="module")
def stack(bundle: Bundle, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("observability-live")
    # The value the in-cluster bootstrap Job would put under the Secret key.
    token = secrets.token_hex(32)
    password = secrets.token_urlsafe(16)
    write_config_dir(bundle.hub_objects, workdir)
    hub = start_hub(
        workdir,
        settings=HUB_SETTINGS,
        env={
            "TEST_USER_PASSWORD": password,
            # What the hub Deployment maps from the hub Secret's metrics-api-token key.
            "JUPYTERHUB_SERVICE_TOKEN_PROMETHEUS": token,
        },
        proxy_metrics=True,
    )
    prometheus: Prometheus | None = None
    try:
        token_file = workdir / "metrics-api-token"
        token_file.write_text(token)
        token_file.chmod(0o600)
        rule_file = workdir / "rules.yaml"
        rule_file.write_text(
            yaml.safe_dump(bundle.manifests["PrometheusRule"]["spec"], sort_keys=False)
        )
        prometheus = Prometheus(
            workdir,
            {
                "global": {
                    "scrape_interval": SCRAPE_INTERVAL,
                    "scrape_timeout": SCRAPE_INTERVAL,
                    "evaluation_interval": SCRAPE_INTERVAL,
                },
                "rule_files": [str(rule_file)],
                "scrape_configs": scrape_config(
                    bundle,
                    hub_target=hub.hub_url.removeprefix("http://"),
                    proxy_target=hub.proxy.metrics_url.removeprefix("http://").removesuffix(
                        "/metrics"
                    ),
                    token_file=str(token_file),
                ),
            },
        ).start()
        yield Stack(bundle=bundle, prometheus=prometheus, hub=hub, token=token, password=password)
    finally:
        if prometheus is not None:
            prometheus.stop()
        hub.stop()


def wait_until_scraped(stack: Stack, names: set[str], timeout: float = 30) -> set[str]:
    """Wait until every metric in ``names`` is in Prometheus; returns all names."""

    def probe() -> set[str] | None:
        stack.hub.service.check_alive()
        present = stack.prometheus.metric_names()
        return present if names <= present else None

    try:
        return wait_for(f"Prometheus to scrape {sorted(names)}", probe, timeout=timeout)
    except TimeoutError as exc:
        missing = names - stack.prometheus.metric_names()
        raise AssertionError(
            f"{exc}; still missing {sorted(missing)}; targets: "
            f"{json.dumps(stack.prometheus.targets(), indent=1)[:3000]}"
        ) from exc


@pytest.fixture(scope="module")
def traffic(stack: Stack) -> set[str]:
    """A little real traffic through the proxy, then every metric name Prometheus has."""
    public = stack.public_url
    bearer = {"Authorization": f"Bearer {stack.token}"}
    assert http("GET", f"{public}/hub/api/").status == 200
    # The metrics token carries only read:metrics: listing users is refused.
    assert http("GET", f"{public}/hub/api/users", headers=bearer).status == 403
    assert http("GET", f"{public}/hub/api/no-such-endpoint").status == 404
    password = secrets.token_urlsafe(8)  # wrong on purpose: a failed login
    assert hub_login(public, "alice", password)[0] == 403
    status, location = hub_login(public, "alice", stack.password)
    assert status == 302, location
    return wait_until_scraped(
        stack,
        {
            "jupyterhub_request_duration_seconds_bucket",
            "jupyterhub_server_spawn_duration_seconds_bucket",
            "jupyterhub_event_loop_interval_seconds_bucket",
            *PROXY_METRICS,
        },
    )


def test_bundle_registers_a_read_metrics_only_service(bundle: Bundle) -> None:
    config_map = find(bundle.hub_objects, "ConfigMap", "hub-config")
    traits = json.loads(config_map["data"]["hub_config.json"])["traits"]["JupyterHub"]
    assert {"name": "prometheus", "api_token_env": "JUPYTERHUB_SERVICE_TOKEN_PROMETHEUS"} in (
        traits["services"]
    )
    assert {
        "name": "prometheus-service",
        "scopes": ["read:metrics"],
        "services": ["prometheus"],
    } in traits["load_roles"]
    env = pod_spec(find(bundle.hub_objects, "Deployment", "hub"))["containers"][0]["env"]
    assert {
        "name": "JUPYTERHUB_SERVICE_TOKEN_PROMETHEUS",
        "valueFrom": {"secretKeyRef": {"name": "prometheus-hub-token", "key": METRICS_TOKEN_KEY}},
    } in env
    (endpoint,) = bundle.manifests["ServiceMonitor"]["spec"]["endpoints"]
    assert endpoint["port"] == "http"
    assert endpoint["path"] == "/hub/metrics"
    assert endpoint["authorization"]["type"] == "Bearer"
    assert bundle.hub_job == "hub"
    assert bundle.proxy_job.startswith(f"{NAMESPACE}/")
    (proxy_endpoint,) = bundle.manifests["PodMonitor"]["spec"]["podMetricsEndpoints"]
    assert proxy_endpoint["portNumber"] == bundle.hub.proxy_metrics_port


CUSTOM_KINDS = ("PodMonitor", "PrometheusRule", "ServiceMonitor")


@pytest.mark.parametrize("kind", CUSTOM_KINDS)
def test_bundle_custom_resources_match_their_crd_schemas(bundle: Bundle, kind: str) -> None:
    validate_custom_resource(bundle.manifests[kind])


def test_crd_schema_check_catches_an_unknown_field(bundle: Bundle) -> None:
    service_monitor = copy.deepcopy(bundle.manifests["ServiceMonitor"])
    service_monitor["spec"]["endpoints"][0]["bearerTokenSecretKey"] = "x"
    with pytest.raises(jsonschema.ValidationError, match="'bearerTokenSecretKey' was unexpected"):
        validate_custom_resource(service_monitor)


@pytest.mark.parametrize("version", ["1.27", "1.37"])
def test_bundle_core_objects_validate_strictly(bundle: Bundle, version: str) -> None:
    import kubernetes_validate

    core = [bundle.manifests["ConfigMap"], *bundle.network_policies]
    assert len(core) == 3
    for manifest in core:
        kubernetes_validate.validate(manifest, version, strict=True)


def test_hub_metrics_refuse_a_scrape_without_token(stack: Stack) -> None:
    assert http("GET", f"{stack.hub_url}/hub/metrics").status == 403
    wrong = {"Authorization": f"Bearer {secrets.token_hex(32)}"}
    assert http("GET", f"{stack.hub_url}/hub/metrics", headers=wrong).status == 403
    good = {"Authorization": f"Bearer {stack.token}"}
    response = http("GET", f"{stack.hub_url}/hub/metrics", headers=good)
    assert response.status == 200
    assert b"jupyterhub_running_servers" in response.body


def test_prometheus_scrapes_hub_with_token_and_proxy(stack: Stack) -> None:
    def both_up() -> list[dict[str, Any]] | None:
        targets = stack.prometheus.targets()
        healthy = [t for t in targets if t["health"] == "up"]
        return targets if len(healthy) == 2 else None

    targets = wait_for("both targets up", both_up, timeout=30)
    jobs = (stack.bundle.hub_job, stack.bundle.proxy_job)
    assert {t["labels"]["job"] for t in targets} == set(jobs)
    for expr in (f'up{{job="{job}"}}' for job in jobs):
        (sample,) = stack.prometheus.query(expr)
        assert sample["value"][1] == "1"
        assert sample["metric"]["namespace"] == NAMESPACE


def test_every_dashboard_query_runs_on_real_metrics(stack: Stack, traffic: set[str]) -> None:
    queries = dashboard_queries(stack.bundle.dashboard)
    referenced: set[str] = set()
    for expr in queries:
        stack.prometheus.query(expr)  # raises on a Prometheus error
        referenced |= metric_names(expr)
    ours = {n for n in referenced if n.startswith("jupyterhub_")} | (referenced & PROXY_METRICS)
    assert ours, "the dashboard references no hub or proxy metric"
    assert ours - traffic == set(), "dashboard metrics JupyterHub 5.5/CHP do not export"
    assert referenced >= PROXY_METRICS


def test_dashboard_queries_return_the_traffic(stack: Stack, traffic: set[str]) -> None:
    """Not just valid PromQL: the panels show what happened (one user logged in)."""
    queries = dashboard_queries(stack.bundle.dashboard)
    (total_users,) = [q for q in queries if "jupyterhub_total_users" in q]

    def one_user() -> bool:
        result = stack.prometheus.query(total_users)
        return bool(result) and result[0]["value"][1] == "1"

    wait_for("total users = 1 after the login", one_user, timeout=20)
    (by_handler,) = [q for q in queries if "sum by (handler, code)" in q]
    (proxied,) = [q for q in queries if "requests_proxy" in q]
    expected_handlers = {
        ("jupyterhub.handlers.login.LoginHandler", "302"),
        ("jupyterhub.handlers.login.LoginHandler", "403"),
        ("jupyterhub.apihandlers.users.UserListAPIHandler", "403"),
        ("jupyterhub.apihandlers.hub.RootAPIHandler", "200"),
    }

    # rate() needs two samples of a series, so new series show up a scrape later.
    def handlers_seen() -> set[tuple[str, str]] | None:
        result = stack.prometheus.query(by_handler)
        seen = {(s["metric"]["handler"], s["metric"]["code"]) for s in result}
        return seen if expected_handlers <= seen else None

    def statuses_seen() -> set[str] | None:
        seen = {s["metric"]["status"] for s in stack.prometheus.query(proxied)}
        return seen if {"200", "302", "403", "404"} <= seen else None

    wait_for(f"{sorted(expected_handlers)} in the request-rate panel", handlers_seen, timeout=20)
    wait_for("proxied statuses 200, 302, 403, 404 in the proxy panel", statuses_seen, timeout=20)


def test_every_alert_expression_runs_on_real_metrics(stack: Stack, traffic: set[str]) -> None:
    referenced: set[str] = set()
    for expr in stack.bundle.alert_exprs.values():
        stack.prometheus.query(expr)
        referenced |= metric_names(expr)
    hub_metrics = {n for n in referenced if n.startswith("jupyterhub_")}
    assert len(hub_metrics) >= 4
    assert hub_metrics - traffic == set(), "alert metrics JupyterHub 5.5 does not export"


def test_rules_load_and_evaluate_in_prometheus(stack: Stack, traffic: set[str]) -> None:
    expected = set(stack.bundle.rule_names)
    assert len(expected) == len(stack.bundle.rule_names) == 8
    seen: list[dict[str, Any]] = []

    def evaluated_and_inactive() -> list[dict[str, Any]] | None:
        rules = [r for g in stack.prometheus.api("rules")["groups"] for r in g["rules"]]
        seen[:] = rules
        done = all(r.get("lastEvaluation", "").startswith("2") for r in rules)
        healthy = all(r["health"] == "ok" for r in rules)
        inactive = all(r["state"] == "inactive" for r in rules)
        return rules if rules and done and healthy and inactive else None

    # A scrape that times out on a loaded machine makes a "down" rule pending for one
    # evaluation; on a healthy hub every rule settles back to inactive.
    try:
        rules = wait_for("every rule evaluated and inactive", evaluated_and_inactive, timeout=30)
    except TimeoutError as exc:
        states = {r["name"]: (r["health"], r["state"], r.get("lastError")) for r in seen}
        raise AssertionError(f"{exc}; rules (health, state, error): {states}") from exc
    assert {r["name"] for r in rules} == expected


def test_proxy_down_expression_detects_a_dead_proxy(stack: Stack, traffic: set[str]) -> None:
    """Last test of the module: it stops the proxy."""
    expr = stack.bundle.alert_exprs["JupyterHubProxyDown"]
    assert stack.prometheus.query(expr) == []
    stack.hub.proxy.stop()

    def fired() -> list[dict[str, Any]] | None:
        return stack.prometheus.query(expr) or None

    (sample,) = wait_for("the proxy-down expression to return a series", fired, timeout=20)
    assert sample["metric"] == {"namespace": NAMESPACE, "job": stack.bundle.proxy_job}
    assert sample["value"][1] == "0"
    assert stack.prometheus.query(stack.bundle.alert_exprs["JupyterHubDown"]) == []

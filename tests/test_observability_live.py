"""The alert rules and the dashboard against a real hub, a real proxy and real Prometheus.

One stack per module: JupyterHub 5.5 (the pinned version) with token-guarded metrics,
configurable-http-proxy (npm) started externally with its metrics port, and a Prometheus
server whose scrape configuration mirrors the ServiceMonitors of the ObservabilityBundle:
the hub job scrapes ``/hub/metrics`` with a bearer token read from a file, the proxy job
scrapes the metrics port; both targets carry the ``namespace`` label the operator adds.
The rule file of ``jupyterhub_alert_rules`` is loaded into that Prometheus.

DummyAuthenticator is used here only, to produce a real login.
"""

from __future__ import annotations

import json
import secrets
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import yaml
from processes_observability import (
    ManagedProcess,
    Prometheus,
    free_port,
    http,
    hub_login,
    start_hub,
    start_proxy,
    wait_for,
)
from test_dashboard import metric_names

from jupyter_constructs.alerts import jupyterhub_alert_rules, rules_spec
from jupyter_constructs.dashboard import dashboard_queries, jupyterhub_dashboard

pytestmark = pytest.mark.integration

NAMESPACE = "jupyter"
HUB_JOB = "hub"
PROXY_JOB = "proxy"
SCRAPE_INTERVAL = "1s"
# Proxy metric names as configurable-http-proxy 5.3 exports them (prom-client, no
# `_total` suffix); the dashboard queries them, so they must exist in the scrape too.
PROXY_METRICS = {"requests_web", "requests_ws", "requests_proxy", "requests_api"}

HUB_CONFIG = textwrap.dedent(
    """\
    import os

    c = get_config()  # noqa: F821
    c.JupyterHub.ip = "127.0.0.1"
    c.JupyterHub.port = int(os.environ["TEST_PROXY_PUBLIC_PORT"])
    c.JupyterHub.hub_ip = "127.0.0.1"
    c.JupyterHub.hub_port = int(os.environ["TEST_HUB_PORT"])
    c.JupyterHub.db_url = "sqlite:///jupyterhub.sqlite"
    c.JupyterHub.cookie_secret_file = "jupyterhub_cookie_secret"
    # The proxy runs on its own, as in Kubernetes; the token comes from
    # CONFIGPROXY_AUTH_TOKEN in the environment.
    c.ConfigurableHTTPProxy.should_start = False
    c.ConfigurableHTTPProxy.api_url = os.environ["TEST_PROXY_API_URL"]
    # Test only: a password shared by every user.
    c.JupyterHub.authenticator_class = "dummy"
    c.DummyAuthenticator.password = os.environ["TEST_USER_PASSWORD"]
    c.Authenticator.allow_all = True
    c.JupyterHub.spawner_class = "jupyterhub.spawner.SimpleLocalProcessSpawner"
    # What the ObservabilityBundle configures: metrics need a token with read:metrics.
    c.JupyterHub.authenticate_prometheus = True
    c.JupyterHub.services = [
        {"name": "prometheus", "api_token": os.environ["TEST_METRICS_TOKEN"]},
    ]
    c.JupyterHub.load_roles = [
        {"name": "prometheus-metrics", "scopes": ["read:metrics"], "services": ["prometheus"]},
    ]
    """
)


@dataclass
class Stack:
    prometheus: Prometheus
    proxy: ManagedProcess
    hub: ManagedProcess
    hub_url: str
    public_url: str
    token: str
    password: str
    startup_seconds: float


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    started = time.monotonic()
    workdir = tmp_path_factory.mktemp("observability-live")
    token = secrets.token_hex(32)
    proxy_token = secrets.token_hex(32)
    password = secrets.token_urlsafe(16)
    hub_port = free_port()
    processes: list[ManagedProcess] = []
    prometheus: Prometheus | None = None
    try:
        proxy, proxy_ports = start_proxy(workdir, auth_token=proxy_token)
        processes.append(proxy)

        (workdir / "jupyterhub_config.py").write_text(HUB_CONFIG)
        hub_env = {
            "TEST_PROXY_PUBLIC_PORT": str(proxy_ports["public"]),
            "TEST_HUB_PORT": str(hub_port),
            "TEST_PROXY_API_URL": f"http://127.0.0.1:{proxy_ports['api']}",
            "TEST_USER_PASSWORD": password,
            "TEST_METRICS_TOKEN": token,
        }
        hub = start_hub(
            workdir,
            config_file=workdir / "jupyterhub_config.py",
            proxy_auth_token=proxy_token,
            hub_port=hub_port,
            extra_env=hub_env,
        )
        processes.append(hub)

        token_file = workdir / "metrics-api-token"
        token_file.write_text(token)
        token_file.chmod(0o600)
        rule_file = workdir / "rules.yaml"
        rule_file.write_text(
            yaml.safe_dump(rules_spec(alert_groups()), sort_keys=False), encoding="utf-8"
        )
        target_labels = {"namespace": NAMESPACE}
        prometheus = Prometheus(
            workdir,
            {
                "global": {
                    "scrape_interval": SCRAPE_INTERVAL,
                    "scrape_timeout": SCRAPE_INTERVAL,
                    "evaluation_interval": SCRAPE_INTERVAL,
                },
                "rule_files": [str(rule_file)],
                "scrape_configs": [
                    {
                        "job_name": HUB_JOB,
                        "metrics_path": "/hub/metrics",
                        "authorization": {
                            "type": "Bearer",
                            "credentials_file": str(token_file),
                        },
                        "static_configs": [
                            {"targets": [f"127.0.0.1:{hub_port}"], "labels": target_labels}
                        ],
                    },
                    {
                        "job_name": PROXY_JOB,
                        "static_configs": [
                            {
                                "targets": [f"127.0.0.1:{proxy_ports['metrics']}"],
                                "labels": target_labels,
                            }
                        ],
                    },
                ],
            },
        )
        prometheus.start()
        processes.append(prometheus.process)
        yield Stack(
            prometheus=prometheus,
            proxy=proxy,
            hub=hub,
            hub_url=f"http://127.0.0.1:{hub_port}",
            public_url=f"http://127.0.0.1:{proxy_ports['public']}",
            token=token,
            password=password,
            startup_seconds=time.monotonic() - started,
        )
    finally:
        for process in reversed(processes):
            process.stop()


def alert_groups() -> list[Any]:
    return jupyterhub_alert_rules(
        namespace=NAMESPACE, hub_job=HUB_JOB, proxy_job=PROXY_JOB, server_capacity=10
    )


def alert_exprs() -> list[str]:
    return [rule.expr for group in alert_groups() for rule in group.rules]


def wait_until_scraped(stack: Stack, names: set[str], timeout: float = 30) -> set[str]:
    """Wait until every metric in ``names`` is in Prometheus; returns all names."""

    def probe() -> set[str] | None:
        stack.hub.check_alive()
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
    assert {t["labels"]["job"] for t in targets} == {HUB_JOB, PROXY_JOB}
    for expr in (f'up{{job="{HUB_JOB}"}}', f'up{{job="{PROXY_JOB}"}}'):
        (sample,) = stack.prometheus.query(expr)
        assert sample["value"][1] == "1"
        assert sample["metric"]["namespace"] == NAMESPACE


def test_every_dashboard_query_runs_on_real_metrics(stack: Stack, traffic: set[str]) -> None:
    queries = dashboard_queries(jupyterhub_dashboard(namespace=NAMESPACE))
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
    queries = dashboard_queries(jupyterhub_dashboard(namespace=NAMESPACE))
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
    for expr in alert_exprs():
        stack.prometheus.query(expr)
        referenced |= metric_names(expr)
    hub_metrics = {n for n in referenced if n.startswith("jupyterhub_")}
    assert len(hub_metrics) >= 4
    assert hub_metrics - traffic == set(), "alert metrics JupyterHub 5.5 does not export"


def test_rules_load_and_evaluate_in_prometheus(stack: Stack, traffic: set[str]) -> None:
    expected = {rule.name for group in alert_groups() for rule in group.rules}

    def evaluated() -> list[dict[str, Any]] | None:
        rules = [r for g in stack.prometheus.api("rules")["groups"] for r in g["rules"]]
        done = all(r.get("lastEvaluation", "").startswith("2") for r in rules)
        return rules if rules and done and all(r["health"] != "unknown" for r in rules) else None

    rules = wait_for("every rule evaluated once", evaluated, timeout=20)
    assert {r["name"] for r in rules} == expected
    for rule in rules:
        assert rule["health"] == "ok", rule
        assert rule["state"] == "inactive", f"{rule['name']} is {rule['state']} on a healthy hub"


def test_proxy_down_expression_detects_a_dead_proxy(stack: Stack, traffic: set[str]) -> None:
    """Last test of the module: it stops the proxy."""
    (expr,) = [r.expr for g in alert_groups() for r in g.rules if r.name == "JupyterHubProxyDown"]
    assert stack.prometheus.query(expr) == []
    stack.proxy.stop()

    def fired() -> list[dict[str, Any]] | None:
        return stack.prometheus.query(expr) or None

    (sample,) = wait_for("the proxy-down expression to return a series", fired, timeout=20)
    assert sample["metric"] == {"namespace": NAMESPACE, "job": PROXY_JOB}
    assert sample["value"][1] == "0"
    (hub_down,) = [r.expr for g in alert_groups() for r in g.rules if r.name == "JupyterHubDown"]
    assert stack.prometheus.query(hub_down) == []

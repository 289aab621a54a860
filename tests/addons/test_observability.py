"""ObservabilityBundle composed with the real JupyterHub: what it renders and how it is wired."""

from __future__ import annotations

import json
from pathlib import Path

import cdk8s
import pytest

from jupyter_constructs import (
    ConfigurationError,
    JupyterHub,
    NamespaceQuota,
    ObservabilityBundle,
    synthesize,
)
from tests.helpers import DOMAIN, find, load_manifests, make_hub, oidc_auth, synth

ROOT = Path(__file__).resolve().parents[2]


def _bundle(**options):
    chart, hub = make_hub()
    ObservabilityBundle(chart, "observability", hub=hub, **options)
    return hub, synth(chart)


def _only(objects, kind):
    (obj,) = [o for o in objects if o["kind"] == kind]
    return obj


def test_snapshot(snapshot):
    """What adding the bundle adds, and only that: the hub's own objects are in
    tests/hub's snapshot, the alert rules and the dashboard in test_alerts' and
    test_dashboard's (here: asserted to be the ones built for this hub's jobs)."""
    from jupyter_constructs.addons.observability.alerts import jupyterhub_alert_rules, rules_spec
    from jupyter_constructs.addons.observability.dashboard import jupyterhub_dashboard

    _, objects = _bundle(server_capacity=50)
    hub_only = {(o["kind"], o["metadata"]["name"]) for o in synth(make_hub()[0])}
    added = [o for o in objects if (o["kind"], o["metadata"]["name"]) not in hub_only]
    jobs = {
        "hub_job": "hub",
        "proxy_job": f"jupyter/{_only(added, 'PodMonitor')['metadata']['name']}",
    }
    rules = _only(added, "PrometheusRule")
    rule_params = {"namespace": "jupyter", **jobs, "server_capacity": 50}
    assert rules["spec"] == rules_spec(jupyterhub_alert_rules(**rule_params))
    rules["spec"] = f"<rules_spec(jupyterhub_alert_rules(**{rule_params!r}))>"
    (dashboard,) = [o for o in added if "grafana_dashboard" in o["metadata"].get("labels", {})]
    (name,) = dashboard["data"]
    params = {"namespace": "jupyter", "title": "JupyterHub (jupyter)", "uid": "jupyterhub-jupyter"}
    assert json.loads(dashboard["data"][name]) == jupyterhub_dashboard(**params, **jobs)
    dashboard["data"][name] = f"<jupyterhub_dashboard(**{params | jobs!r}) as JSON>"
    assert added == snapshot


def test_service_monitor_selects_the_hub_service_and_scrapes_with_its_own_secret_token():
    """Issue 16: the metrics token shared a Secret with the cookie secret, the crypt key and
    the proxy token, so whatever read it for Prometheus could read them."""
    hub, objects = _bundle()
    monitor = _only(objects, "ServiceMonitor")
    service = find(objects, "Service", "hub")
    selector = monitor["spec"]["selector"]["matchLabels"]
    assert selector.items() <= service["metadata"]["labels"].items()
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["port"] == service["spec"]["ports"][0]["name"]
    assert endpoint["path"] == "/hub/metrics"
    assert endpoint["authorization"]["credentials"] == {
        "name": "prometheus-hub-token",
        "key": "metrics-api-token",
    }
    assert hub.secret_name != "prometheus-hub-token"
    # Rendered empty, filled by the bootstrap Job, which may get and patch it by name only.
    secret = find(objects, "Secret", "prometheus-hub-token")
    assert "data" not in secret
    job = find(objects, "Job", "hub-secrets-bootstrap")
    env = {
        e["name"]: e.get("value") for e in job["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert json.loads(env["SECRETS"]) == {
        "hub-secrets": ["cookie-secret", "crypt-key", "proxy-token"],
        "prometheus-hub-token": ["metrics-api-token"],
    }
    role = find(objects, "Role", "hub-secrets-bootstrap")
    assert role["rules"][0]["resourceNames"] == ["hub-secrets", "prometheus-hub-token"]
    settings = json.loads(find(objects, "ConfigMap", "hub-config")["data"]["hub_config.json"])
    roles = settings["traits"]["JupyterHub"]["load_roles"]
    assert {
        "name": "prometheus-service",
        "scopes": ["read:metrics"],
        "services": ["prometheus"],
    } in roles


def test_pod_monitor_scrapes_the_proxy_metrics_port():
    _, objects = _bundle()
    monitor = _only(objects, "PodMonitor")
    proxy = find(objects, "Deployment", "proxy")
    assert monitor["spec"]["selector"]["matchLabels"].items() <= (
        proxy["spec"]["template"]["metadata"]["labels"].items()
    )
    (endpoint,) = monitor["spec"]["podMetricsEndpoints"]
    ports = proxy["spec"]["template"]["spec"]["containers"][0]["ports"]
    # By the container port's name: portNumber is unknown to prometheus-operator CRDs
    # before v0.79, which refuse the whole PodMonitor (issue 17).
    assert "portNumber" not in endpoint
    assert {"name": endpoint["port"], "containerPort": 8002} in ports


def test_dashboard_config_map_has_the_sidecar_label_and_folder():
    _, objects = _bundle(dashboard_folder="Platform")
    (dashboard,) = [
        o for o in objects if o["metadata"].get("labels", {}).get("grafana_dashboard") == "1"
    ]
    assert dashboard["metadata"]["annotations"]["grafana_folder"] == "Platform"
    model = json.loads(dashboard["data"]["jupyterhub.json"])
    assert model["title"]


def test_capacity_alert_follows_the_given_capacity():
    _, objects = _bundle(server_capacity=50)
    rules = [r for g in _only(objects, "PrometheusRule")["spec"]["groups"] for r in g["rules"]]
    capacity = [r for r in rules if "50" in r["expr"] and "running_servers" in r["expr"]]
    assert len(capacity) == 1


def test_reference_platform_custom_resources_sync_last_and_skip_dry_run():
    objects = load_manifests(ROOT / "dist" / "prod")
    custom = [o for o in objects if o["apiVersion"].startswith("monitoring.coreos.com/")]
    assert {o["kind"] for o in custom} == {"ServiceMonitor", "PodMonitor", "PrometheusRule"}
    for obj in custom:
        annotations = obj["metadata"]["annotations"]
        assert annotations["argocd.argoproj.io/sync-wave"] == "1"
        assert "SkipDryRunOnMissingResource=true" in annotations["argocd.argoproj.io/sync-options"]


def test_bundle_without_the_hub_in_the_same_chart_still_works():
    """A bundle in its own chart (e.g. a monitoring chart) targets the hub's namespace."""
    chart, hub = make_hub()
    other = cdk8s.Chart(chart.node.scope, "monitoring", namespace="monitoring")
    ObservabilityBundle(other, "observability", hub=hub)
    objects = synth(other)
    monitor = _only(objects, "ServiceMonitor")
    assert monitor["metadata"]["namespace"] == "jupyter"


def test_a_quota_without_room_fails_with_the_hub_s_message(tmp_path: Path) -> None:
    """Found by the property test against the real API server (issue 23): a quota that
    cannot even hold the hub and the proxy, with the bundle, failed with the alert
    helper's own message (no construct path, no fix). The hub's check now says why."""
    quota = NamespaceQuota(
        requests_cpu="100m", requests_memory="512Mi", limits_cpu="100m", limits_memory="512Mi",
        pods=1,
    )  # fmt: skip

    def build(app: cdk8s.App) -> None:
        chart = cdk8s.Chart(app, "jupyterhub", namespace="jupyter")
        hub = JupyterHub(chart, "hub", domain=DOMAIN, auth=oidc_auth(), quota=quota)
        hub.add_profile("small", display_name="Small", default=True)
        ObservabilityBundle(chart, "observability", hub=hub)

    with pytest.raises(ConfigurationError) as caught:
        synthesize(build, outdir=tmp_path / "dist")
    message = str(caught.value)
    assert message.startswith("jupyterhub/hub: invalid namespace quota NamespaceQuota(")
    assert "room for the pods that run before any user server" in message
    assert "Fix: raise NamespaceQuota" in message

"""The ObservabilityBundle's output, checked before any consumer reads it.

The bundle is synthesized (cdk8s) for a stand-in hub that implements the interface the
bundle needs (``MonitoredHub``): the hub service and role it registers, its custom
resources against their CRD schemas, its core objects against Kubernetes' schemas.

How the monitors, rules and dashboard behave is judged by their real consumers in
``tests/consumers/test_monitors.py`` (prometheus-operator generates the scrape
configuration, Prometheus 3 discovers, scrapes and evaluates); the hand-written scrape
configuration "equivalent to" the monitors that this file used to run is gone.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

import jsonschema
import pytest

from jupyter_constructs import JupyterHub
from jupyter_constructs.hub.bootstrap import METRICS_TOKEN_KEY
from tests.crd_schemas import validate_custom_resource
from tests.helpers import find, make_hub, pod_spec, synth

NAMESPACE = "jupyter"


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
    proxy = find(bundle.hub_objects, "Deployment", "proxy")
    (port,) = [
        p for p in pod_spec(proxy)["containers"][0]["ports"] if p["name"] == proxy_endpoint["port"]
    ]
    assert port["containerPort"] == bundle.hub.proxy_metrics_port


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

"""The product's monitors on the oldest prometheus-operator users still run (v0.71).

kube-prometheus-stack never upgrades its CRDs, so clusters keep an old operator's CRDs
for years; v0.71 is the oldest the project supports (``JC_CRDS_DIR/oldest/``, the same
three monitoring CRDs as the module's). prometheus-operator v0.71.2 (v0.71.0 and v0.71.1
are not on the Go module proxy) runs with all ten of its own CRDs, its RBAC and its
Deployment, and a kube-prometheus-stack-like Prometheus resource; Prometheus 2.48.1, the
version it runs by default (it refuses to configure Prometheus 3: "unsupported Prometheus
major version"), built from its module with its promtool, runs what it generates. What
a user of that operator sees:

- ArgoCD syncs every monitor: the PodMonitor names its port (``port: metrics``), which the
  v0.71 CRD declares (``portNumber``, which it lacks, failed the sync before issue 17);
- the operator still turns the ServiceMonitor into the hub's scrape job (port ``http`` by
  name, the bearer token from the hub Secret) and the PrometheusRule into a rule file;
  promtool accepts the configuration, Prometheus evaluates every rule;
- the proxy is discovered through its pod and scraped, so JupyterHubProxyDown stays
  inactive (before issue 17 its ``absent()`` said "no target" and the alert went pending).

Not shown here: the hub being scraped. v0.71 discovers a Service's pods only through v1
``Endpoints`` (``serviceDiscoveryRole`` came later), and the API server refuses the test
pods' loopback addresses there (``tests/support/kube/endpoints.py``), so its hub target is
absent on this harness (and JupyterHubDown pending for that reason alone, not asserted).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from tests.consumers.conftest import MonitoredProduct
from tests.consumers.test_monitors import HUB_JOB, PROXY_JOB, STACK, metrics_token
from tests.support.kube import prometheus_operator as operator
from tests.support.kube.client import KubeClient, wait_until
from tests.support.kube.fixtures import CRDS_DIR
from tests.support.kube.pod_root import PodRoot
from tests.support.kube.prometheus import CONFIG_FILE, PrometheusPod, running_prometheus, version

pytestmark = pytest.mark.consumers

PODMONITOR = "PodMonitor/jupyter/prod-observability-proxy-monitor"


@pytest.fixture(scope="module")
def operator_release() -> operator.OperatorRelease:
    return operator.OLDEST


@pytest.fixture(scope="module")
def running_operator(admin: KubeClient, monitored_product: MonitoredProduct) -> Iterator[PodRoot]:
    with operator.running_operator(admin, monitored_product.release) as pod:
        yield pod


@pytest.fixture(scope="module")
def generated(admin: KubeClient, running_operator: PodRoot) -> dict[str, Any]:
    admin.apply(
        operator.stack_prometheus(
            STACK, version=version(operator.OLDEST), service_discovery_role=None
        ),
        field_manager="test",
    )
    return operator.wait_for_config(
        admin,
        STACK,
        lambda config: HUB_JOB in operator.job_names(config),
        "the oldest operator to generate the hub's scrape job",
        operator=running_operator,
    )


@pytest.fixture(scope="module")
def prometheus(
    admin: KubeClient, generated: dict[str, Any], monitored_product: MonitoredProduct
) -> Iterator[PrometheusPod]:
    with running_prometheus(admin, STACK, monitored_product.release) as pod:
        yield pod


def test_the_oldest_operator_installs_the_projects_oldest_crds() -> None:
    """The CRDs the v0.71.2 module ships are the ``oldest/`` ones the project tests
    against (they differ only in the version annotation)."""
    oldest = CRDS_DIR / "oldest"
    if not oldest.is_dir():
        pytest.skip(f"no {oldest}")
    shipped = {path.name: path for path in operator.OLDEST.crd_files()}
    for path in sorted(oldest.glob("monitoring.coreos.com_*.yaml")):
        ours = yaml.safe_load(path.read_text())
        theirs = yaml.safe_load(shipped[path.name].read_text())
        for crd in (ours, theirs):
            crd["metadata"].get("annotations", {}).pop("operator.prometheus.io/version", None)
        assert ours == theirs, path.name


def test_argocd_syncs_every_monitor_against_the_oldest_crds(
    monitored_product: MonitoredProduct,
) -> None:
    """Every monitor is accepted by the v0.71 CRDs (the PodMonitor names its port)."""
    errors = monitored_product.sync.errors
    assert PODMONITOR in monitored_product.sync.applied
    assert not errors, monitored_product.sync.report()


def test_the_oldest_operator_generates_the_hub_job_from_the_service_monitor(
    admin: KubeClient, generated: dict[str, Any], monitored_product: MonitoredProduct
) -> None:
    jobs = {job["job_name"]: job for job in generated["scrape_configs"]}
    assert PROXY_JOB in jobs  # the PodMonitor reached the cluster (port by name)
    hub = jobs[HUB_JOB]
    assert hub["kubernetes_sd_configs"] == [
        {"namespaces": {"names": ["jupyter"]}, "role": "endpoints"}
    ]
    port_by_name = {
        "action": "keep",
        "regex": "http",
        "source_labels": ["__meta_kubernetes_endpoint_port_name"],
    }
    assert port_by_name in hub["relabel_configs"]
    token = metrics_token(admin, monitored_product.objects)
    assert hub["authorization"] == {"type": "Bearer", "credentials": token}
    assert hub["metrics_path"] == "/hub/metrics"


def test_promtool_accepts_what_the_oldest_operator_generates(prometheus: PrometheusPod) -> None:
    checked = prometheus.promtool("check", "config", CONFIG_FILE)
    output = checked.stdout + checked.stderr
    assert checked.returncode == 0, output
    assert "SUCCESS: 8 rules found" in output, output


def test_the_proxy_is_scraped_through_its_pod_monitor(prometheus: PrometheusPod) -> None:
    """On v0.71 the PodMonitor's job scrapes the proxy through its pod (issue 17 fixed the
    ``portNumber`` the v0.71 CRD lacks), and every rule is evaluated."""

    def ready() -> list[dict[str, Any]] | None:
        up = [
            t for t in prometheus.targets() if t["scrapePool"] == PROXY_JOB and t["health"] == "up"
        ]
        rules = prometheus.rules()
        done = up and rules and all(r.get("lastEvaluation", "").startswith("2") for r in rules)
        return rules if done else None

    rules = wait_until(ready, 120, "the proxy scraped and every rule evaluated")
    assert len(rules) == 8
    assert all(r["health"] == "ok" for r in rules), rules

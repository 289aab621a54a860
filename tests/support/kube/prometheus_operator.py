"""prometheus-operator, built from its Go module, against the test API server (issue 22).

The operator is the program that turns the product's ServiceMonitor, PodMonitor and
PrometheusRule into Prometheus' scrape configuration and rule files; the tests let it
do that instead of imitating it. Everything about it comes from its own module (copied
into the build cache by ``scripts/build_real_consumers.py``, never into this repo):

- all ten of its CRDs (``example/prometheus-operator-crd-full``): it manages every kind;
- its ClusterRoles for itself and for Prometheus (``example/rbac/``), bound to their
  ServiceAccounts in namespace ``monitoring``;
- its own Deployment (``example/rbac/prometheus-operator/...-deployment.yaml``): the
  operator runs as that pod would (``tests/support/kube/pod_root.py``), with its
  ServiceAccount's token where client-go's in-cluster configuration reads it.

A Prometheus resource configured like kube-prometheus-stack's (``stack_prometheus``)
makes it write the configuration into the Secret ``prometheus-<name>``
(``prometheus.yaml.gz``), the rules into ConfigMaps ``prometheus-<name>-rulefiles-N``
and a StatefulSet whose pod ``tests/support/kube/prometheus.py`` runs.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import gzip
import tempfile
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.support.kube import binaries
from tests.support.kube.client import ApiError, KubeClient, wait_until
from tests.support.kube.fixtures import install_crds, load_manifests_file
from tests.support.kube.pod_root import ImageStandIn, PodRoot

Obj = dict[str, Any]
#: Where kube-prometheus-stack runs (and what the product's NetworkPolicies let in).
NAMESPACE = "monitoring"
OPERATOR_IMAGE = "quay.io/prometheus-operator/prometheus-operator"
RELOADER_IMAGE = "quay.io/prometheus-operator/prometheus-config-reloader"
#: kube-prometheus-stack's default release name: its Prometheus selects monitors and
#: rules labelled ``release: <release name>``.
STACK_RELEASE = "kube-prometheus-stack"


@dataclass(frozen=True)
class OperatorRelease:
    """One built release of the operator (a component of the build script)."""

    component: str
    suffix: str = ""
    #: The build of Prometheus this release runs (v0.71 refuses to configure Prometheus 3).
    prometheus_component: str = "prometheus"

    @property
    def version(self) -> str:
        script = binaries.build_script()
        return str(script.COMPONENTS[self.component].requires[0][1])

    def binaries(self) -> dict[str, Path]:
        """``operator`` and ``reloader``; skips (locally) or fails (CI) when not built."""
        found = binaries.require(
            f"prometheus-operator{self.suffix}", f"prometheus-config-reloader{self.suffix}"
        )
        return {
            "operator": found[f"prometheus-operator{self.suffix}"],
            "reloader": found[f"prometheus-config-reloader{self.suffix}"],
        }

    def share(self, name: str) -> Path:
        return Path(binaries.build_script().share_dir(self.component)) / name

    def crd_files(self) -> list[Path]:
        """All of the release's CRDs (copied from its module when it was built)."""
        self.binaries()  # skips or fails first when the release is not built
        files = sorted(self.share("crds").glob("*.yaml"))
        assert len(files) == 10, f"expected the operator's ten CRDs, found {files}"
        return files

    def images(self) -> dict[str, ImageStandIn]:
        """The operator's and the config reloader's images, as this release ships them."""
        found = self.binaries()
        return {
            OPERATOR_IMAGE: ImageStandIn(
                ("/bin/operator",),
                {"/bin/operator": found["operator"]},
                listen_flags={"--web.listen-address": 8080},
            ),
            RELOADER_IMAGE: ImageStandIn(
                ("/bin/prometheus-config-reloader",),
                {"/bin/prometheus-config-reloader": found["reloader"]},
            ),
        }


NEWEST = OperatorRelease("prometheus-operator")
#: The oldest release users still run (its CRDs are the project's ``oldest/`` ones).
OLDEST = OperatorRelease("prometheus-operator-oldest", "-oldest", "prometheus-v2")


def _in_namespace(objects: list[Obj], namespace: str) -> list[Obj]:
    """The module's examples live in ``default``: move them (and their subjects)."""
    moved = copy.deepcopy(objects)
    for obj in moved:
        if obj["kind"] in ("ServiceAccount", "Deployment"):
            obj["metadata"]["namespace"] = namespace
        for subject in obj.get("subjects") or []:
            subject["namespace"] = namespace
    return moved


def rbac(release: OperatorRelease, namespace: str = NAMESPACE) -> list[Obj]:
    """The module's ServiceAccounts, ClusterRoles and bindings for operator and Prometheus."""
    objects: list[Obj] = []
    for folder in ("rbac-operator", "rbac-prometheus"):
        for path in sorted(release.share(folder).glob("*.yaml")):
            objects += [
                d
                for d in load_manifests_file(path)
                if d["kind"] in ("ServiceAccount", "ClusterRole", "ClusterRoleBinding")
            ]
    return _in_namespace(objects, namespace)


def operator_deployment(release: OperatorRelease, namespace: str = NAMESPACE) -> Obj:
    path = release.share("rbac-operator") / "prometheus-operator-deployment.yaml"
    (deployment,) = _in_namespace(load_manifests_file(path), namespace)
    return deployment


def install(admin: KubeClient, release: OperatorRelease, namespace: str = NAMESPACE) -> None:
    """The release's CRDs (replacing whatever version is installed), its namespace and RBAC."""
    install_crds(admin, release.crd_files())
    if not admin.exists(f"/api/v1/namespaces/{namespace}"):
        admin.post("/api/v1/namespaces", {"metadata": {"name": namespace}})
    for obj in rbac(release, namespace):
        admin.apply(obj, field_manager="test-installer")


def stack_prometheus(
    name: str = f"{STACK_RELEASE}-prometheus",
    *,
    release_label: str = STACK_RELEASE,
    version: str,
    evaluation_interval: str = "5s",
    service_discovery_role: str | None = "EndpointSlice",
) -> Obj:
    """A Prometheus resource as kube-prometheus-stack's defaults render it: monitors,
    pod monitors and rules selected by ``release: <release_label>`` in every namespace
    (``serviceMonitorSelectorNilUsesHelmValues: true`` and friends), the module's
    ``prometheus`` ServiceAccount. ``evaluation_interval`` is shorter than the chart's
    30s so that a test sees rules evaluated within seconds; scrape intervals are the
    monitors' own. ``service_discovery_role``: the chart's
    ``prometheusSpec.serviceDiscoveryRole`` (``EndpointSlice`` here: the test pods'
    loopback addresses can only be published in EndpointSlices, see
    ``tests/support/kube/endpoints.py``; None for releases before the field, v0.71)."""
    selector = {"matchLabels": {"release": release_label}}
    prometheus: Obj = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "Prometheus",
        "metadata": {"name": name, "namespace": NAMESPACE, "labels": {"release": release_label}},
        "spec": {
            "version": version,
            "replicas": 1,
            "serviceAccountName": "prometheus",
            "serviceMonitorSelector": selector,
            "serviceMonitorNamespaceSelector": {},
            "podMonitorSelector": selector,
            "podMonitorNamespaceSelector": {},
            "probeSelector": selector,
            "probeNamespaceSelector": {},
            "ruleSelector": selector,
            "ruleNamespaceSelector": {},
            "evaluationInterval": evaluation_interval,
        },
    }
    if service_discovery_role:
        prometheus["spec"]["serviceDiscoveryRole"] = service_discovery_role
    return prometheus


@contextlib.contextmanager
def running_operator(admin: KubeClient, release: OperatorRelease) -> Iterator[PodRoot]:
    """The operator's own Deployment (from its module) run as its pod; stopped on exit."""
    deployment = operator_deployment(release)
    template = deployment["spec"]["template"]
    pod = {
        "metadata": {**template["metadata"], "name": f"prometheus-operator{release.suffix}-0"},
        "spec": template["spec"],
    }
    workdir = Path(tempfile.mkdtemp(prefix="jc-prometheus-operator-"))
    root = PodRoot(admin, NAMESPACE, pod, workdir, release.images())
    try:
        root.start(
            "prometheus-operator",
            lambda: _http_ok(f"http://{root.ip}:8080/healthz"),
            extra_args=("--log-level=debug",),
        )
        yield root
    finally:
        root.stop()


def _http_ok(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=2) as response:
        return int(response.status) == 200


def generated_config(admin: KubeClient, name: str, namespace: str = NAMESPACE) -> Obj | None:
    """The configuration the operator generated for Prometheus ``name`` (None before)."""
    try:
        secret = admin.get(f"/api/v1/namespaces/{namespace}/secrets/prometheus-{name}")
    except ApiError as error:
        if error.status == 404:
            return None
        raise
    data = (secret.get("data") or {}).get("prometheus.yaml.gz")
    if not data:
        return None
    config: Obj = yaml.safe_load(gzip.decompress(base64.b64decode(data)))
    return config


def generated_rules(admin: KubeClient, name: str, namespace: str = NAMESPACE) -> dict[str, Obj]:
    """Rule file name -> rule file, from the operator's ``prometheus-<name>-rulefiles-N``."""
    files: dict[str, Obj] = {}
    maps = admin.get(
        f"/api/v1/namespaces/{namespace}/configmaps",
        labelSelector=f"prometheus-name={name}",
    )
    for config_map in maps["items"]:
        for file_name, text in (config_map.get("data") or {}).items():
            files[file_name] = yaml.safe_load(text)
    return files


def job_names(config: Obj | None) -> set[str]:
    return {job["job_name"] for job in (config or {}).get("scrape_configs") or []}


def wait_for_config(
    admin: KubeClient,
    name: str,
    check: Callable[[Obj], bool],
    what: str,
    *,
    operator: PodRoot,
    timeout: float = 60,
) -> Obj:
    """The generated configuration once ``check`` accepts it (the operator's log on timeout)."""

    def ready() -> Obj | None:
        config = generated_config(admin, name)
        return config if config is not None and check(config) else None

    return wait_until(ready, timeout, what, on_timeout=lambda: operator.logs(60))

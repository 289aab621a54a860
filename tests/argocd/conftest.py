"""Fixtures of the tests with a real ArgoCD (marker ``argocd``; issue 20).

One cluster for the tests of this folder, started by the first test that needs it: the API-server
harness of ``tests/support/kube/`` at its workload level (etcd, kube-apiserver,
kube-controller-manager with the namespace and workload controllers, kube-scheduler),
the test kubelet, a volume provisioner with an ``Immediate`` and a
``WaitForFirstConsumer`` StorageClass, an ingress controller filling Ingress status,
the newest CRDs of ``JC_CRDS_DIR``, and ArgoCD's application controller, repo server and
redis. Each test deploys through ArgoCD from a git repository of its own into
namespaces of its own. A failing test's report carries ArgoCD's logs, the Application's
status and the tails of every other component's log.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.k8s.conftest import CRDS_DIR, IMAGES, IN_CLUSTER_ENV, crd_files, install_crds
from tests.support.argocd import ArgoCD, Deployment, describe, new_deployment, start_argocd
from tests.support.kube import binaries
from tests.support.kube.client import KubeClient, wait_until
from tests.support.kube.control_plane import ControlPlane, start_control_plane
from tests.support.kube.ingress import IngressController
from tests.support.kube.kubelet import Image, TestKubelet, running_kubelet
from tests.support.kube.programs import pod_programs
from tests.support.kube.storage import IMMEDIATE, VolumeProvisioner

ROOT = Path(__file__).resolve().parents[2]
#: The rendered output under test: the checkout's ``dist/``, or another folder of the same
#: layout (``JC_ARGOCD_DIST``: a locally patched copy, to see a deliberate fault fail).
DIST = Path(os.environ.get("JC_ARGOCD_DIST") or ROOT / "dist")
#: How often ArgoCD compares every Application with git and the cluster (its default is
#: 180 s; shorter here so that "two resync periods" fit in a test).
RESYNC_SECONDS = 10

#: The stand-in cannot pull images: entrypoints of the images without a ``command``.
ARGOCD_IMAGES = {
    **IMAGES,
    "registry.k8s.io/pause": Image(("/pause",)),
    "cloudflare/cloudflared": Image(("cloudflared",)),
}
#: Programs replaced by a probe responder, and why (see TestKubelet ``stand_ins``). These
#: tests judge the rollout around the pods (waves, hooks, health, pruning, deletion);
#: what the programs themselves do is tested elsewhere.
STAND_INS = {
    "jupyterhub": "the hub reaches the proxy by its Service name, and no cluster DNS runs "
    "here; the real hub runs in tests/k8s/test_spawn.py",
    "configurable-http-proxy": "it listens on every interface at fixed ports; the real "
    "proxy runs in tests/k8s/test_spawn.py",
    "cloudflared": "not built here (the Go module proxy does not serve it)",
}

_STATE: dict[str, Any] = {}


@dataclass
class Cluster:
    """Everything the ArgoCD tests run against."""

    plane: ControlPlane
    kubelet: TestKubelet
    provisioner: VolumeProvisioner
    ingress: IngressController
    argocd: ArgoCD
    deployments: list[Deployment] = field(default_factory=list)

    @property
    def admin(self) -> KubeClient:
        return self.argocd.admin

    def report(self) -> str:
        parts = [describe(a) for d in self.deployments for a in _current_apps(self, d)]
        parts += [
            "=== ArgoCD ===",
            self.argocd.logs(40),
            "=== control plane ===",
            self.plane.logs(15),
            "=== test kubelet ===",
            self.kubelet.logs(15),
            "=== volume provisioner ===",
            self.provisioner.logs(15),
            "=== ingress controller ===",
            self.ingress.logs(5),
        ]
        return "\n".join(parts)


def _current_apps(cluster: Cluster, deployment: Deployment) -> list[dict[str, Any]]:
    apps = []
    for app in deployment.applications:
        current = cluster.argocd.application(app["metadata"]["name"])
        if current is not None:
            apps.append(current)
    return apps


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    cluster: Cluster | None = _STATE.get("cluster")
    if report.failed and "argocd" in item.keywords and cluster is not None:
        try:
            report.sections.append(("ArgoCD and the cluster", cluster.report()))
        except Exception as error:  # the report must never hide the failure
            report.sections.append(("ArgoCD and the cluster", f"(no report: {error})"))
    return report


def _redis_server() -> str:
    path = shutil.which("redis-server")
    if path is None:
        message = "redis-server not found: install Debian's redis-server package (.ci/run does)"
        if binaries.in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return path


@pytest.fixture(scope="package")
def cluster() -> Iterator[Cluster]:
    """Started by the first ArgoCD test, stopped after the last one of this folder."""
    found = binaries.require(
        "etcd",
        "kube-apiserver",
        "kube-controller-manager",
        "kube-scheduler",
        "argocd-application-controller",
        "argocd-repo-server",
    )
    redis_server = _redis_server()
    crds = crd_files(CRDS_DIR)
    workdir = Path(tempfile.mkdtemp(prefix="jc-argocd-cluster-"))
    workdir.chmod(0o755)  # pods run as their own users and must reach their folders
    try:
        with start_control_plane(found) as plane:
            plane.start_workload_controllers()
            admin = plane.admin()
            install_crds(admin, crds)
            with running_kubelet(
                admin,
                workdir / "node",
                programs=pod_programs(workdir / "programs"),
                images=ARGOCD_IMAGES,
                in_cluster_env=IN_CLUSTER_ENV,
                stand_ins=STAND_INS,
                bind_pods=False,
            ) as kubelet:
                provisioner = VolumeProvisioner(admin, workdir / "volumes")
                ingress = IngressController(admin)
                with provisioner, ingress:
                    provisioner.use(IMMEDIATE)
                    with start_argocd(
                        plane,
                        found,
                        redis_server,
                        resync_seconds=RESYNC_SECONDS,
                    ) as argocd:
                        cluster = Cluster(plane, kubelet, provisioner, ingress, argocd)
                        _STATE["cluster"] = cluster
                        try:
                            yield cluster
                        finally:
                            _STATE.pop("cluster", None)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _suffix(request: pytest.FixtureRequest) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")
    return f"{base[:18].strip('-')}-{uuid.uuid4().hex[:4]}"


DeployFactory = Callable[..., Deployment]


@pytest.fixture
def deploy(
    cluster: Cluster, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[DeployFactory]:
    """``deploy(output=DIST)``: a git repository of the rendered output (renamed into
    namespaces of the test's own), committed once; nothing applied yet. Everything is
    forgotten afterwards (Applications without cascade, namespaces deleted)."""
    made: list[Deployment] = []

    def make(output: Path = DIST) -> Deployment:
        deployment = new_deployment(
            cluster.argocd, output, tmp_path / f"deployment-{len(made)}", _suffix(request)
        )
        made.append(deployment)
        cluster.deployments.append(deployment)
        return deployment

    yield make
    for deployment in made:
        cluster.deployments.remove(deployment)
        deployment.cleanup()


@pytest.fixture
def storage(cluster: Cluster, request: pytest.FixtureRequest) -> Iterator[str]:
    """The binding mode of the cluster's default StorageClass for this test
    (``Immediate`` unless the test is parametrized indirectly)."""
    mode = getattr(request, "param", IMMEDIATE)
    cluster.provisioner.use(mode)
    try:
        yield mode
    finally:
        cluster.provisioner.use(IMMEDIATE)


def wait_gone(admin: KubeClient, path: str, timeout: float, what: str) -> None:
    wait_until(lambda: not admin.exists(path), timeout, what)

"""Fixtures for the tests against a real kube-apiserver (markers ``k8s`` and ``consumers``).

A pytest plugin (``tests/conftest.py`` lists it in ``pytest_plugins``), so that every
folder of tests that needs the API server (``tests/k8s/``, ``tests/consumers/``) shares
one control plane and one test kubelet per session: two kubelets of one Node would both
run its pods.

One control plane per test session (etcd + kube-apiserver + the namespace controllers),
started by the first test that needs it; the workload controllers, kube-scheduler and
the test kubelet are started only by the tests that ask for them. Every failing test
marked ``k8s`` or ``consumers`` gets the tail of the components' logs in its report.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.crd_schemas import CRD_FILES
from tests.support.kube import binaries
from tests.support.kube.client import ApiError, KubeClient, wait_until
from tests.support.kube.control_plane import ControlPlane, start_control_plane
from tests.support.kube.kubelet import Image, TestKubelet, running_kubelet
from tests.support.kube.programs import pod_programs
from tests.support.kube.sync import SyncResult, load_manifests, retarget, sync

ROOT = Path(__file__).resolve().parents[3]
DIST = ROOT / "dist"
CRDS_DIR = Path(os.environ.get("JC_CRDS_DIR", ROOT.parent / "shared" / "crds"))

_STATE: dict[str, Any] = {}


# ---------------------------------------------------------------------- reporting


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.failed and ("k8s" in item.keywords or "consumers" in item.keywords):
        plane: ControlPlane | None = _STATE.get("plane")
        if plane is not None:
            report.sections.append(("kube components (log tails)", plane.logs(25)))
        kubelet: TestKubelet | None = _STATE.get("kubelet")
        if kubelet is not None:
            report.sections.append(("test kubelet", kubelet.logs(25)))
    return report


# ---------------------------------------------------------------------- control plane


@pytest.fixture(scope="session")
def control_plane() -> Iterator[ControlPlane]:
    """etcd + kube-apiserver + the namespace controllers, for the whole session."""
    found = binaries.require("etcd", "kube-apiserver", "kube-controller-manager")
    with start_control_plane(found) as plane:
        _STATE["plane"] = plane
        try:
            yield plane
        finally:
            _STATE.pop("plane", None)


@pytest.fixture(scope="session")
def admin(control_plane: ControlPlane) -> KubeClient:
    return control_plane.admin()


@pytest.fixture(scope="module")
def workload_controllers(
    control_plane: ControlPlane, kubelet: TestKubelet
) -> Iterator[ControlPlane]:
    """The opt-in level, for one test module: deployment/replicaset/daemonset/job
    controllers and kube-scheduler. Meanwhile the scheduler binds pods and the test
    kubelet provisions volumes for it; afterwards the base level is back."""
    control_plane.binaries.update(binaries.require("kube-scheduler"))
    try:
        control_plane.start_workload_controllers()
        kubelet.bind_pods, kubelet.provision_volumes = False, True
        yield control_plane
    finally:
        kubelet.bind_pods, kubelet.provision_volumes = True, False
        control_plane.stop_workload_controllers()


def crd_files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        message = f"no CRD folder {directory}: set JC_CRDS_DIR to the folder of CRD YAML files"
        if binaries.in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return sorted(directory.glob("*.yaml"))


def install_crds(admin: KubeClient, files: list[Path]) -> list[str]:
    """Apply CRDs server-side and wait until each is Established; return their names."""
    names = []
    for path in files:
        for crd in load_manifests_file(path):
            admin.apply(crd, field_manager="crd-installer")
            names.append(crd["metadata"]["name"])
    for name in names:
        wait_until(
            lambda name=name: any(
                c["type"] == "Established" and c["status"] == "True"
                for c in admin.get(
                    f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}"
                )["status"].get("conditions")
                or []
            ),
            30,
            f"CRD {name} to be established",
        )
    admin._discovery.clear()
    return names


class _Yaml12Loader(yaml.SafeLoader):
    """PyYAML's safe loader without YAML 1.1's ``=`` "value" tag, which it cannot build
    (prometheus-operator's CRDs list ``=`` among the relabeling actions)."""


_Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:value"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_manifests_file(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.load_all(path.read_text(), Loader=_Yaml12Loader) if d]


@pytest.fixture(scope="session")
def crds(admin: KubeClient) -> list[str]:
    """The newest CRDs of ``JC_CRDS_DIR`` (ArgoCD, prometheus-operator, Cilium, ...),
    installed once. Every CRD the product renders a kind of (``tests/crd_schemas.py``)
    must be among them."""
    files = crd_files(CRDS_DIR)
    missing = sorted(set(CRD_FILES.values()) - {path.name for path in files})
    if missing:
        pytest.fail(f"{CRDS_DIR} lacks the CRDs of kinds the product renders: {missing}")
    return install_crds(admin, files)


# ---------------------------------------------------------------------- namespaces


def _namespace_name(request: pytest.FixtureRequest) -> str:
    base = re.sub(r"[^a-z0-9-]+", "-", request.node.name.lower()).strip("-")[:40].strip("-")
    return f"{base}-{uuid.uuid4().hex[:5]}"


def delete_namespace(admin: KubeClient, name: str) -> None:
    try:
        admin.delete(f"/api/v1/namespaces/{name}")
    except ApiError as error:
        if error.status != 404:
            raise


@pytest.fixture
def namespace(admin: KubeClient, request: pytest.FixtureRequest) -> Iterator[str]:
    """An empty namespace of its own for the test (deleted afterwards)."""
    name = _namespace_name(request)
    admin.post("/api/v1/namespaces", {"metadata": {"name": name}})
    yield name
    delete_namespace(admin, name)


def apply_product(
    admin: KubeClient,
    namespace: str,
    objects: list[dict[str, Any]] | None = None,
    *,
    check: bool = True,
) -> SyncResult:
    """Sync ``objects`` (default: ``dist/prod``), rendered for namespace ``jupyter``, into
    ``namespace`` the way ArgoCD does; then wait, as ArgoCD's retries would, until the
    ResourceQuota controller has computed the quota's status (admission refuses pods
    with "status unknown for quota" before that). ``check=False`` returns a sync with
    errors instead of failing (the caller asserts on ``SyncResult.errors``)."""
    objects = load_manifests(DIST / "prod") if objects is None else objects
    result = sync(admin, retarget(objects, namespace))
    assert not (check and result.errors), result.report()
    quotas = f"/api/v1/namespaces/{namespace}/resourcequotas"
    wait_until(
        lambda: all(q.get("status", {}).get("hard") for q in admin.get(quotas)["items"]),
        30,
        f"the ResourceQuota controller to compute the quotas of {namespace}",
    )
    return result


ProductFactory = Callable[..., str]


@pytest.fixture
def product(
    admin: KubeClient, crds: list[str], request: pytest.FixtureRequest
) -> Iterator[ProductFactory]:
    """``product()`` applies ``dist/prod`` into a namespace of the test's own and returns
    that namespace; ``product(objects)`` applies other objects rendered for ``jupyter``."""
    created: list[str] = []

    def apply(objects: list[dict[str, Any]] | None = None) -> str:
        name = _namespace_name(request)
        created.append(name)
        apply_product(admin, name, objects)
        return name

    yield apply
    for name in created:
        delete_namespace(admin, name)


@pytest.fixture(scope="module")
def product_namespace(
    admin: KubeClient, crds: list[str], request: pytest.FixtureRequest
) -> Iterator[str]:
    """``dist/prod`` applied once for a whole test module, in a namespace of its own."""
    name = f"{request.module.__name__.rsplit('.', 1)[-1].replace('_', '-')}-{uuid.uuid4().hex[:5]}"
    apply_product(admin, name)
    yield name
    delete_namespace(admin, name)


# ---------------------------------------------------------------------- kubelet

#: Images the product runs: their entrypoint and environment (the stand-in cannot pull).
#: docker-stacks images start ``jupyterhub-singleuser`` when the hub spawns them.
IMAGES = {
    # The product's notebook image (docker-stacks based: start-notebook runs the singleuser
    # server when the hub spawns it), the docker-stacks images, z2jh's sample image.
    prefix: Image(("jupyterhub-singleuser",), {"HOME": "/home/jovyan"}, "/home/jovyan")
    for prefix in (
        "ghcr.io/254carbon/jupyter-notebook",
        "quay.io/jupyter/",
        "quay.io/jupyterhub/k8s-singleuser-sample",
    )
}


#: Programs that take the in-cluster credential paths from env get them translated (the
#: product's bootstrap script reads KUBERNETES_TOKEN_FILE/KUBERNETES_CA_FILE, defaulting to
#: the standard path a process here cannot see).
IN_CLUSTER_ENV = {"KUBERNETES_TOKEN_FILE": "token", "KUBERNETES_CA_FILE": "ca.crt"}


@pytest.fixture(scope="session")
def kubelet(control_plane: ControlPlane) -> Iterator[TestKubelet]:
    """The test kubelet (binds pods itself unless kube-scheduler runs). Its folder is
    readable by the pods' users (pytest's own temp folders are private to root)."""
    workdir = Path(tempfile.mkdtemp(prefix="jc-kubelet-"))
    workdir.chmod(0o755)
    with running_kubelet(
        control_plane.admin(),
        workdir / "node",
        programs=pod_programs(workdir / "programs"),
        images=IMAGES,
        in_cluster_env=IN_CLUSTER_ENV,
    ) as started:
        _STATE["kubelet"] = started
        try:
            yield started
        finally:
            _STATE.pop("kubelet", None)
    shutil.rmtree(workdir, ignore_errors=True)

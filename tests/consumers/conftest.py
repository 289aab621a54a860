"""Fixtures of the tests judged by real production consumers (marker ``consumers``).

The API-server fixtures (control plane, test kubelet, ...) come from the plugin
``tests/support/kube/fixtures.py``; the ones here set up what the monitoring tests share:
the product applied in its own namespace ``jupyter`` (its alert rules and dashboard name
that namespace), with its platform Secrets and the bootstrap Secret, its hub and proxy
pods run by the test kubelet, the real EndpointSlice controller, and the hub Service's
EndpointSlice as that controller would write it with loopback pod addresses (which the
API server refuses in the controller's own slices: ``tests/support/kube/endpoints.py``).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.kube.client import KubeClient, wait_until
from tests.support.kube.control_plane import ENDPOINTSLICE_CONTROLLERS, ControlPlane
from tests.support.kube.endpoints import mirror_endpoint_slice
from tests.support.kube.fixtures import (
    CRDS_DIR,
    DIST,
    apply_product,
    crd_files,
    delete_namespace,
    install_crds,
)
from tests.support.kube.hub_pods import HubPods, running_hub_and_proxy
from tests.support.kube.kubelet import TestKubelet
from tests.support.kube.product import prepare_platform
from tests.support.kube.prometheus import image as prometheus_image
from tests.support.kube.prometheus_operator import NAMESPACE as MONITORING
from tests.support.kube.prometheus_operator import OperatorRelease, install
from tests.support.kube.sync import SyncResult, load_manifests

#: The namespace the reference platform is rendered for (main.py).
PRODUCT_NAMESPACE = "jupyter"


@dataclass
class MonitoredProduct:
    """``dist/prod`` running in namespace ``jupyter``: objects, Secrets, hub and proxy pods,
    and what the sync (as ArgoCD does it) could not apply with this operator's CRDs."""

    namespace: str
    objects: list[dict[str, Any]]
    secrets: dict[str, dict[str, str]]
    pods: HubPods
    release: OperatorRelease
    sync: SyncResult


def _delete_and_wait(admin: KubeClient, namespace: str) -> None:
    delete_namespace(admin, namespace)
    wait_until(
        lambda: not admin.exists(f"/api/v1/namespaces/{namespace}"),
        180,
        f"namespace {namespace} to be deleted",
    )


@pytest.fixture(scope="module")
def endpoint_controllers(control_plane: ControlPlane) -> Iterator[ControlPlane]:
    """kube-controller-manager's EndpointSlice controller, for one module."""
    name = "kube-controller-manager-endpointslices"
    control_plane.start_controller_manager(name, ENDPOINTSLICE_CONTROLLERS)
    try:
        yield control_plane
    finally:
        control_plane.stop_components(name)


@pytest.fixture(scope="module")
def monitored_product(
    admin: KubeClient,
    crds: list[str],
    kubelet: TestKubelet,
    endpoint_controllers: ControlPlane,
    operator_release: OperatorRelease,
) -> Iterator[MonitoredProduct]:
    """The module's operator release installed first (its own CRDs and RBAC, as on a
    cluster where kube-prometheus-stack runs), then ``dist/prod`` synced into
    ``jupyter`` as ArgoCD would (errors kept in ``sync``), the platform's Secrets and the
    bootstrap Secret created, the hub and proxy pods Ready. Everything, the
    ``monitoring`` namespace included, is deleted afterwards and the newest CRDs are
    restored. A test module says which release with an ``operator_release`` fixture."""
    # Skip (locally) or fail (CI) before anything starts when a binary is not built.
    operator_release.binaries()
    prometheus_image(operator_release)
    objects = load_manifests(DIST / "prod")
    for leftover in (PRODUCT_NAMESPACE, MONITORING):
        if admin.exists(f"/api/v1/namespaces/{leftover}"):
            _delete_and_wait(admin, leftover)
    try:
        install(admin, operator_release)
        result = apply_product(admin, PRODUCT_NAMESPACE, objects, check=False)
        secrets = prepare_platform(
            admin, PRODUCT_NAMESPACE, objects, Path(tempfile.mkdtemp(prefix="jc-bootstrap-"))
        )
        with running_hub_and_proxy(admin, kubelet, PRODUCT_NAMESPACE, objects) as pods:
            mirror_endpoint_slice(admin, PRODUCT_NAMESPACE, "hub")
            yield MonitoredProduct(
                PRODUCT_NAMESPACE, objects, secrets, pods, operator_release, result
            )
    finally:
        for namespace in (PRODUCT_NAMESPACE, MONITORING):
            _delete_and_wait(admin, namespace)
        install_crds(admin, crd_files(CRDS_DIR))

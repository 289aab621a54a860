"""No endless OutOfSync (issue 20, test 2).

After a successful first sync the Application must stay Synced through two resync
periods (ArgoCD compares git with the live objects every period): with self-heal on, a
field the API server defaults or drops (an atomic list the CRD defaults, a field the
CRD does not know) shows as OutOfSync, and ArgoCD syncs again — forever. The test fails
on the first observation that is not Synced/Healthy or on any new sync operation.

Twice: with the newest CRDs of ``JC_CRDS_DIR`` and with the oldest supported ones
(``JC_CRDS_DIR/oldest/``: prometheus-operator v0.71, External Secrets v0.16), which
replace the newest for the duration of that test.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.argocd.conftest import DIST, Cluster, DeployFactory
from tests.argocd.test_first_sync import stays_synced, sync_first_time
from tests.k8s.conftest import CRDS_DIR, crd_files, install_crds
from tests.support.argocd import SyncFailed

pytestmark = pytest.mark.argocd

OLDEST_DIR = CRDS_DIR / "oldest"


class OldestCrdsRefuse(AssertionError):
    """The sync failed because an oldest supported CRD does not declare a rendered field."""


@pytest.fixture
def crd_set(cluster: Cluster, request: pytest.FixtureRequest) -> Iterator[str]:
    """``newest`` (as installed) or ``oldest`` (for this test; the newest come back)."""
    which = request.param
    if which == "newest":
        yield which
        return
    install_crds(cluster.admin, crd_files(OLDEST_DIR))
    try:
        yield which
    finally:
        install_crds(cluster.admin, crd_files(CRDS_DIR))


@pytest.mark.parametrize(
    "crd_set",
    [
        pytest.param("newest"),
        pytest.param("oldest"),
    ],
    indirect=True,
)
def test_the_application_stays_synced(
    cluster: Cluster, deploy: DeployFactory, crd_set: str, record_property: Any
) -> None:
    deployment = deploy(DIST)
    try:
        sync_first_time(cluster, deployment)
    except SyncFailed as failed:
        if "field not declared in schema" in failed.operation_message:
            raise OldestCrdsRefuse(str(failed)) from failed
        raise
    stays_synced(cluster, deployment.name, periods=2)

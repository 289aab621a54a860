"""A cluster without an operator's CRDs still gets its hub, and retries finish the sync
(issue 20).

What ``jupyter_constructs.core.sync_waves`` claims for custom resources (wave 1, with
``SkipDryRunOnMissingResource=true``): "a cluster without that operator installed still
syncs the hub and reports only these objects as failed". And the Application's retry
policy (5 attempts, back-off from 10 s) claims that once the operator is installed the
sync completes without a click.

Judged on the real controller: the CRDs of every custom resource in the output that
carries the option are removed for this test (as on a cluster where prometheus-operator
is not installed yet), the output is synced, and

1. the sync fails only on those custom resources: every other object of the output is
   created and the hub Deployment is available (ArgoCD's result per object);
2. then the CRDs are installed (the operator arrives) and, with no action on ArgoCD,
   a retry of the same operation reaches Synced/Healthy.

The newest CRDs are back afterwards for the other tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.argocd.conftest import DIST, Cluster, DeployFactory, wait_gone
from tests.argocd.test_first_sync import FIRST_SYNC_BOUND, prepare
from tests.k8s.conftest import CRDS_DIR, crd_files, install_crds, load_manifests_file
from tests.support.argocd import (
    describe,
    health_status,
    load_output,
    operation,
    sync_status,
    synced_revision,
)
from tests.support.kube.sync import HOOK, SYNC_OPTIONS

pytestmark = pytest.mark.argocd

SKIP_DRY_RUN = "SkipDryRunOnMissingResource=true"
CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
#: The retry policy's back-off (10 s, doubling, at most 3 min; 5 attempts) puts the
#: attempts after a failure at 10, 30, 70, 150 s: one of them must complete (s).
RETRY_BOUND = 240


def _skip_dry_run_kinds(objects: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """(API group, kind) of every object carrying ``SkipDryRunOnMissingResource=true``."""
    kinds = set()
    for obj in objects:
        options = (obj["metadata"].get("annotations") or {}).get(SYNC_OPTIONS, "")
        if SKIP_DRY_RUN in [o.strip() for o in options.split(",")]:
            kinds.add((obj["apiVersion"].rpartition("/")[0], obj["kind"]))
    return kinds


def _crd_files_for(kinds: set[tuple[str, str]]) -> list[Path]:
    files = []
    for path in crd_files(CRDS_DIR):
        for crd in load_manifests_file(path):
            if (crd["spec"]["group"], crd["spec"]["names"]["kind"]) in kinds:
                files.append(path)
    return files


@pytest.fixture
def without_operator_crds(cluster: Cluster) -> Iterator[list[Path]]:
    """The CRDs of the output's SkipDryRunOnMissingResource kinds, removed for the test;
    yields their files (to install them during the test); the newest are back after."""
    objects = [o for objs in load_output(DIST).values() for o in objs]
    files = _crd_files_for(_skip_dry_run_kinds(objects))
    assert files, f"no CRD in {CRDS_DIR} for the output's {SKIP_DRY_RUN} objects"
    for path in files:
        for crd in load_manifests_file(path):
            name = crd["metadata"]["name"]
            cluster.admin.delete(f"{CRDS}/{name}")
            wait_gone(cluster.admin, f"{CRDS}/{name}", 60, f"CRD {name} to be deleted")
    cluster.admin._discovery.clear()
    try:
        yield files
    finally:
        install_crds(cluster.admin, crd_files(CRDS_DIR))


def test_the_hub_syncs_without_the_operator_and_completes_once_it_arrives(
    cluster: Cluster,
    deploy: DeployFactory,
    without_operator_crds: list[Path],
    record_property: Any,
) -> None:
    deployment = deploy(DIST)
    objects = deployment.objects()
    missing = _skip_dry_run_kinds(objects)
    prepare(cluster, deployment)
    name = deployment.name

    def first_attempt_failed(app: dict[str, Any]) -> bool:
        op = operation(app)
        return op.get("phase") in ("Failed", "Error") or (
            op.get("phase") == "Running" and int(op.get("retryCount", 0)) >= 1
        )

    app = cluster.argocd.wait(
        name,
        first_attempt_failed,
        FIRST_SYNC_BOUND,
        "the first sync attempt to fail on the missing CRDs",
        fail_fast=False,
    )
    results = (operation(app).get("syncResult") or {}).get("resources") or []
    failed = {(r.get("group", ""), r["kind"]) for r in results if r.get("status") == "SyncFailed"}
    assert failed, f"ArgoCD reported no failed object:\n{describe(app)}"
    assert failed <= missing, (
        f"objects other than the custom resources of {sorted(missing)} failed: "
        f"{sorted(failed - missing)}\n{describe(app)}"
    )
    for obj in objects:
        if (obj["apiVersion"].rpartition("/")[0], obj["kind"]) in missing:
            continue
        if HOOK in (obj["metadata"].get("annotations") or {}):
            continue
        resource = cluster.admin.resource(obj["apiVersion"], obj["kind"])
        path = f"{resource.collection(obj['metadata'].get('namespace'))}/{obj['metadata']['name']}"
        assert cluster.admin.exists(path), (
            f"{obj['kind']}/{obj['metadata']['name']} was not created while only "
            f"{sorted(missing)} lack their CRDs:\n{describe(app)}"
        )
    hub = cluster.admin.get(f"/apis/apps/v1/namespaces/{deployment.namespace}/deployments/hub")
    assert int(hub["status"].get("availableReplicas", 0)) >= 1, (
        f"the hub is not available while only the custom resources failed: {hub['status']}"
    )
    record_property("first_attempt_message", str(operation(app).get("message", ""))[:300])

    install_crds(cluster.admin, without_operator_crds)
    revision = deployment.repo.head()

    def completed(app: dict[str, Any]) -> bool:
        return (
            operation(app).get("phase") == "Succeeded"
            and sync_status(app) == "Synced"
            and health_status(app) == "Healthy"
            and synced_revision(app) == revision
        )

    app = cluster.argocd.wait(
        name,
        completed,
        RETRY_BOUND,
        "a retry to complete the sync once the CRDs are installed",
        fail_fast=False,
    )
    record_property("retries", operation(app).get("retryCount", 0))

"""An upgrade through git, synced by ArgoCD (issue 20, test 4).

The ``dist/`` of the previous version on ``main`` (the newest commit of ``main``'s
first-parent history whose ``dist/`` differs from this checkout's; ``JC_UPGRADE_FROM``
picks another revision) is synced to Synced/Healthy; a user's home PVC exists and files
are in the volumes. Then this checkout's ``dist/`` is committed on top — and its
Applications applied, as an app-of-apps parent would — and ArgoCD must reach
Synced/Healthy at the new commit on its own: no manual step, no failed sync, and the hub
database PVC, the shared-data PVC and the user's home PVC the same objects with their
files.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.argocd.conftest import DIST, ROOT, Cluster, DeployFactory
from tests.argocd.platform import create_user_home, data_claims, losses, remember
from tests.argocd.test_first_sync import FIRST_SYNC_BOUND, sync_first_time
from tests.support.kube import binaries
from tests.support.kube.history import NoHistory, export, previous_release, subject

pytestmark = pytest.mark.argocd


def _previous_dist(tmp_path: Path) -> tuple[Path, str]:
    try:
        rev = previous_release(ROOT)
    except NoHistory as error:
        if binaries.in_ci():
            pytest.fail(f"no earlier dist/ to upgrade from: {error}", pytrace=False)
        pytest.skip(f"no earlier dist/ to upgrade from: {error}")
    return export(ROOT, rev, "dist", tmp_path / "previous"), subject(ROOT, rev)


def test_the_previous_version_upgrades_in_place(
    cluster: Cluster, deploy: DeployFactory, tmp_path: Path, record_property: object
) -> None:
    previous, what = _previous_dist(tmp_path)
    deployment = deploy(previous)
    sync_first_time(cluster, deployment)
    namespace = deployment.namespace
    objects = deployment.objects()
    home = create_user_home(cluster.admin, namespace, objects)
    kept = remember(cluster.admin, namespace, [*data_claims(objects), home])

    revision = deployment.publish(DIST, "upgrade to this checkout's dist/")
    deployment.apply_applications()
    for app in deployment.applications:
        cluster.argocd.refresh(app["metadata"]["name"])
    for app in deployment.applications:
        cluster.argocd.wait_synced_healthy(
            app["metadata"]["name"], FIRST_SYNC_BOUND, revision=revision
        )
    lost = losses(cluster.admin, kept)
    assert not lost, f"upgrading from {what} lost user data:\n" + "\n".join(lost)

"""Nothing that holds user data is deleted by a GitOps action (issue 20, test 3).

After a first sync, a user's home PVC is created the way the real KubeSpawner creates it
(its manifest rendered from the generated hub config, created with the hub
ServiceAccount's own token), and a file is written into every bound volume. Then one
GitOps action per test, done the way an operator does it:

- ``kubectl delete application`` (renaming the Application, or an app-of-apps refactor,
  does the same): ArgoCD's ``resources-finalizer.argocd.argoproj.io`` deletes what the
  Application deployed;
- a commit that removes the data-holding objects from git (a construct renamed or
  removed), synced with the Application's ``prune: true``;
- a commit that changes a field of the hub database PVC that Kubernetes cannot change in
  place (its StorageClass), synced as configured.

Afterwards the namespace, the hub database PVC, the shared-data PVC and the user's home
PVC must be the same objects (same uid, not being deleted) and the files in their
volumes must be there. The volumes' StorageClass has ``reclaimPolicy: Delete``, the
default of the clouds' classes: a deleted claim takes its data with it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import yaml

from tests.argocd.conftest import DIST, Cluster, DeployFactory
from tests.argocd.platform import DataLost, Kept, create_user_home, data_claims, losses, remember
from tests.argocd.test_first_sync import sync_first_time
from tests.support.argocd import Deployment, describe, operation
from tests.support.kube.client import wait_until
from tests.support.kube.storage import CLASSES, IMMEDIATE, WAIT_FOR_FIRST_CONSUMER

pytestmark = pytest.mark.argocd

#: Bound for ArgoCD to finish what a GitOps action started (s).
ACTION_BOUND = 90
#: After the action finished, how long data-holding objects are watched for a deletion
#: that happens later (namespace deletion is asynchronous) (s).
SETTLE = 8


@dataclass
class Deployed:
    deployment: Deployment
    kept: list[Kept]


@pytest.fixture
def deployed(cluster: Cluster, deploy: DeployFactory) -> Deployed:
    """``dist/`` synced, a user's home PVC made by KubeSpawner's manifest, files written."""
    deployment = deploy(DIST)
    sync_first_time(cluster, deployment)
    objects = deployment.objects()
    namespace = deployment.namespace
    home = create_user_home(cluster.admin, namespace, objects)
    claims = [*data_claims(objects), home]
    path = f"/api/v1/namespaces/{namespace}/persistentvolumeclaims"
    wait_until(
        lambda: all(
            c["status"].get("phase") == "Bound"
            for c in cluster.admin.get(path)["items"]
            if c["metadata"]["name"] in claims
        ),
        60,
        "every claim to be bound (Immediate binding)",
    )
    return Deployed(deployment, remember(cluster.admin, namespace, claims))


def assert_kept(
    cluster: Cluster, kept: list[Kept], action: str, argocd_said: Callable[[], str]
) -> None:
    """No loss now, nor during ``SETTLE`` seconds (deletions may follow asynchronously).

    Raises:
        DataLost: What was lost, and what ArgoCD said while it did it.
    """
    deadline = time.monotonic() + SETTLE
    while True:
        lost = losses(cluster.admin, kept)
        if lost:
            raise DataLost(
                f"{action} lost user data:\n" + "\n".join(lost) + "\nArgoCD:\n" + argocd_said()
            )
        if time.monotonic() > deadline:
            return
        time.sleep(1)


def test_deleting_the_application_keeps_user_data(cluster: Cluster, deployed: Deployed) -> None:
    name = deployed.deployment.name
    cluster.argocd.delete_application(name)
    wait_until(
        lambda: cluster.argocd.application(name) is None,
        ACTION_BOUND,
        f"ArgoCD to finish deleting Application {name}",
    )
    assert_kept(
        cluster,
        deployed.kept,
        f"Deleting Application {name}",
        lambda: cluster.argocd.logs(
            20,
            match=lambda line: (
                name in line and re.search(r'msg="[^"]*(?:[Dd]elet|finaliz)', line) is not None
            ),
        ),
    )


def test_removing_data_objects_from_git_keeps_user_data(
    cluster: Cluster, deployed: Deployed
) -> None:
    deployment = deployed.deployment
    removed: dict[str, str | None] = {}
    for relative, text in deployment.repo.files(deployment.prefix or ".").items():
        kinds = {d["kind"] for d in yaml.safe_load_all(text) if d}
        if kinds & {"PersistentVolumeClaim", "Namespace"}:
            removed[relative] = None
    assert removed, "no data-holding object in git to remove"
    revision = deployment.repo.commit(removed, "remove the data-holding objects")
    cluster.argocd.refresh(deployment.name)
    app = cluster.argocd.wait_operation_done(deployment.name, revision, ACTION_BOUND)
    assert_kept(
        cluster, deployed.kept, f"Syncing a commit without {sorted(removed)}", lambda: describe(app)
    )


def test_a_change_that_cannot_apply_in_place_keeps_user_data(
    cluster: Cluster, deployed: Deployed
) -> None:
    """Moving the hub database to another StorageClass needs a new PVC: Kubernetes
    refuses the change in place. ArgoCD must report that (the sync fails) and keep the
    claim; it must not delete and recreate it."""
    deployment = deployed.deployment
    changed = {}
    other_class = CLASSES[WAIT_FOR_FIRST_CONSUMER]
    assert cluster.provisioner.use(IMMEDIATE) != other_class
    for relative, text in deployment.repo.files(deployment.prefix or ".").items():
        docs = [d for d in yaml.safe_load_all(text) if d]
        for doc in docs:
            if doc["kind"] == "PersistentVolumeClaim" and doc["metadata"]["name"] == "hub-db-dir":
                doc["spec"]["storageClassName"] = other_class
                changed[relative] = yaml.safe_dump_all(docs, sort_keys=False)
    assert changed, "no hub-db-dir PVC in git"
    revision = deployment.repo.commit(changed, "move the hub database to another class")
    cluster.argocd.refresh(deployment.name)

    def refused(app: dict) -> bool:  # type: ignore[type-arg]
        op = operation(app)
        return (op.get("syncResult") or {}).get("revision") == revision and (
            "immutable" in str(op.get("message", ""))
        )

    app = cluster.argocd.wait(
        deployment.name, refused, ACTION_BOUND, "the sync to report the refusal", fail_fast=False
    )
    assert_kept(
        cluster, deployed.kept, "Syncing a PVC change that needs a replace", lambda: describe(app)
    )

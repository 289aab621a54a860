"""The first sync by a real ArgoCD reaches Synced/Healthy (issue 20, test 1).

ArgoCD v3.2.11's application controller and repo server sync the rendered output from a
git repository: waves in order, the bootstrap Job run as a ``Sync`` hook before the hub,
every resource healthy by ArgoCD's own health checks (Deployments available, the Job
complete, PVCs bound, the Ingress with an address). With both binding modes of the
default StorageClass:

- ``Immediate``: a PVC binds as soon as it exists;
- ``WaitForFirstConsumer`` (the default on EKS gp3, GKE and AKS): a PVC binds only once a
  pod that uses it is scheduled. ArgoCD reports a Pending PVC as Progressing and waits
  for a wave to be healthy before the next one, so a PVC whose first consumer is in a
  later wave can never bind: the sync waits forever (argoproj/argo-cd#12840). The test
  proves the deadlock as soon as it is certain (the wave waits only on claims that no
  pod uses) and fails with ArgoCD's own "waiting for healthy state of ..." message.

Then nothing re-runs on its own: after two resync periods without a change, no new sync
operation has started and the hook Job is the same object (the hook runs on every sync,
so an endless OutOfSync would show here as a new Job).

Each rendered output with an ArgoCD Application is tested: ``dist/`` and every example
whose app adds an ``ArgoCdApplication`` (none of today's examples does).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.argocd.conftest import DIST, RESYNC_SECONDS, ROOT, Cluster, DeployFactory
from tests.argocd.platform import create_credentials, ensure_namespace
from tests.support.argocd import (
    Deployment,
    WaveStuck,
    describe,
    health_status,
    is_application,
    load_output,
    operation,
    sync_status,
)
from tests.support.kube.storage import IMMEDIATE, WAIT_FOR_FIRST_CONSUMER
from tests.support.kube.sync import HOOK, WAVE

pytestmark = pytest.mark.argocd

#: The stated bound of a first sync (s). Seen: about 30 s on two busy cores.
FIRST_SYNC_BOUND = 150
#: How long a wave may wait on claims that no pod uses before that counts as the
#: WaitForFirstConsumer deadlock (no later wave can ever start a consumer).
DEADLOCK_AFTER = 30


class WaitForFirstConsumerDeadlock(AssertionError):
    """ArgoCD waits for a PVC to be healthy that can only bind once a later wave runs."""


#: The examples that deploy with ArgoCD: those whose app adds the construct that renders
#: an Application (read from their source, so that examples without one cost nothing).
EXAMPLES = sorted(
    e for e in (ROOT / "examples").glob("*.py") if "ArgoCdApplication" in e.read_text()
)


def rendered(output: str, tmp_path: Path) -> Path:
    """``dist`` -> the checkout's ``dist/``; ``examples/NAME.py`` -> its output, rendered
    as its README says (``CDK8S_OUTDIR``), which must hold an ArgoCD Application."""
    if output == "dist":
        return DIST
    out = tmp_path / "example"
    subprocess.run(
        [sys.executable, output],
        cwd=ROOT,
        env={**os.environ, "CDK8S_OUTDIR": str(out)},
        check=True,
        capture_output=True,
        timeout=300,
    )
    assert any(is_application(o) for objs in load_output(out).values() for o in objs), (
        f"{Path(output).name} uses ArgoCdApplication but renders no ArgoCD Application"
    )
    return out


def prepare(cluster: Cluster, deployment: Deployment) -> None:
    """The operator's steps before the first sync: each destination namespace with the
    credential Secrets in it, then the AppProject and the Applications."""
    objects = deployment.objects()
    for app in deployment.applications:
        namespace = app["spec"]["destination"]["namespace"]
        ensure_namespace(cluster.admin, namespace)
        create_credentials(cluster.admin, namespace, objects)
    deployment.apply_applications()


def wait_for_consumer_deadlock(cluster: Cluster) -> Any:
    """A ``stuck`` check for ``ArgoCD.wait``: for ``DEADLOCK_AFTER`` seconds the sync has
    been waiting for the health of a PersistentVolumeClaim, and every Pending claim of the
    Application is one that no pod mounts (only a later wave could start one)."""
    since: dict[str, float] = {}

    def stuck(app: dict[str, Any], waited: float) -> bool:
        op = operation(app)
        message = str(op.get("message", ""))
        if op.get("phase") != "Running" or not message.startswith(
            "waiting for healthy state of /PersistentVolumeClaim/"
        ):
            since.clear()
            return False
        pending = []
        for claim in app["status"].get("resources") or []:
            if claim["kind"] != "PersistentVolumeClaim":
                continue
            path = f"/api/v1/namespaces/{claim['namespace']}/persistentvolumeclaims/{claim['name']}"
            if cluster.admin.exists(path):
                live = cluster.admin.get(path)
                if live["status"].get("phase") == "Pending":
                    pending.append((claim["namespace"], claim["name"]))
        used = set()
        for namespace in {ns for ns, _ in pending}:
            for pod in cluster.admin.get(f"/api/v1/namespaces/{namespace}/pods")["items"]:
                for volume in pod["spec"].get("volumes") or []:
                    if "persistentVolumeClaim" in volume:
                        used.add((namespace, volume["persistentVolumeClaim"]["claimName"]))
        if not pending or any(claim in used for claim in pending):
            since.clear()
            return False
        first = since.setdefault(message, time.monotonic())
        return time.monotonic() - first > DEADLOCK_AFTER

    return stuck


def sync_first_time(cluster: Cluster, deployment: Deployment) -> float:
    """Prepare, apply, and wait for every Application; returns the seconds it took.

    Raises:
        WaitForFirstConsumerDeadlock: ArgoCD waits on PVCs no pod can use yet.
    """
    prepare(cluster, deployment)
    start = time.monotonic()
    for app in deployment.applications:
        try:
            cluster.argocd.wait_synced_healthy(
                app["metadata"]["name"],
                FIRST_SYNC_BOUND,
                revision=deployment.repo.head(),
                stuck=wait_for_consumer_deadlock(cluster),
            )
        except WaveStuck as error:
            if "PersistentVolumeClaim" in error.operation_message:
                raise WaitForFirstConsumerDeadlock(str(error)) from error
            raise
    return time.monotonic() - start


def _timestamp(value: str) -> float:
    return time.mktime(time.strptime(value, "%Y-%m-%dT%H:%M:%SZ"))


def check_hooks_ran_first(cluster: Cluster, deployment: Deployment) -> dict[str, str]:
    """Each ``Sync`` hook Job completed before any workload of a later wave was created;
    returns hook Job name -> uid."""
    objects = deployment.objects()
    hooks = [
        o
        for o in objects
        if o["kind"] == "Job" and HOOK in (o["metadata"].get("annotations") or {})
    ]
    uids = {}
    for hook in hooks:
        namespace = hook["metadata"]["namespace"]
        job = cluster.admin.get(
            f"/apis/batch/v1/namespaces/{namespace}/jobs/{hook['metadata']['name']}"
        )
        completed = job["status"].get("completionTime")
        assert completed, f"hook Job {hook['metadata']['name']} did not complete: {job['status']}"
        hook_wave = int(hook["metadata"]["annotations"].get(WAVE, "0"))
        for workload in objects:
            annotations = workload["metadata"].get("annotations") or {}
            if workload["kind"] not in ("Deployment", "DaemonSet", "StatefulSet") or (
                int(annotations.get(WAVE, "0")) <= hook_wave
            ):
                continue
            resource = cluster.admin.resource(workload["apiVersion"], workload["kind"])
            live = cluster.admin.get(
                f"{resource.collection(workload['metadata']['namespace'])}/"
                f"{workload['metadata']['name']}"
            )
            created = live["metadata"]["creationTimestamp"]
            assert _timestamp(completed) <= _timestamp(created), (
                f"{workload['kind']}/{workload['metadata']['name']} was created at {created}, "
                f"before hook Job {hook['metadata']['name']} completed at {completed}"
            )
        uids[hook["metadata"]["name"]] = job["metadata"]["uid"]
    return uids


def stays_synced(cluster: Cluster, name: str, periods: int = 2) -> dict[str, Any]:
    """Watch the Application through ``periods`` resyncs: it stays Synced and Healthy and
    no new sync operation starts (with self-heal on, drift would start one). Returns the
    Application at the end.

    Raises:
        AssertionError: With ArgoCD's view of the first observation that was not Synced.
    """
    app = cluster.argocd.application(name)
    assert app is not None
    started = operation(app).get("startedAt")
    reconciled = {app["status"].get("reconciledAt")}
    deadline = time.monotonic() + RESYNC_SECONDS * (periods + 3) + 30
    while len(reconciled) <= periods:
        assert time.monotonic() < deadline, (
            f"ArgoCD did not reconcile {name} {periods} times in time: {describe(app)}"
        )
        time.sleep(1)
        app = cluster.argocd.application(name)
        assert app is not None
        assert sync_status(app) == "Synced" and health_status(app) == "Healthy", (
            f"{name} left Synced/Healthy without any change in git:\n{describe(app)}"
        )
        assert operation(app).get("startedAt") == started, (
            f"ArgoCD started a new sync of {name} without any change in git:\n{describe(app)}"
        )
        reconciled.add(app["status"].get("reconciledAt"))
    return app


@pytest.mark.parametrize(
    "storage",
    [
        pytest.param(IMMEDIATE, id="immediate"),
        pytest.param(WAIT_FOR_FIRST_CONSUMER, id="wait-for-first-consumer"),
    ],
    indirect=True,
)
@pytest.mark.parametrize(
    "output",
    ["dist", *(str(e) for e in EXAMPLES)],
    ids=["dist", *(f"example-{e.stem}" for e in EXAMPLES)],
)
def test_first_sync_is_synced_and_healthy(
    cluster: Cluster,
    deploy: DeployFactory,
    storage: str,
    output: str,
    record_property: Any,
    tmp_path: Path,
) -> None:
    deployment = deploy(rendered(output, tmp_path))
    seconds = sync_first_time(cluster, deployment)
    record_property("first_sync_seconds", round(seconds, 1))
    print(f"first sync ({storage}): Synced/Healthy after {seconds:.1f} s")
    hook_jobs = check_hooks_ran_first(cluster, deployment)
    for app in deployment.applications:
        stays_synced(cluster, app["metadata"]["name"])
    for name, uid in hook_jobs.items():
        job = next(
            o for o in deployment.objects() if o["kind"] == "Job" and o["metadata"]["name"] == name
        )
        live = cluster.admin.get(
            f"/apis/batch/v1/namespaces/{job['metadata']['namespace']}/jobs/{name}"
        )
        assert live["metadata"]["uid"] == uid, f"hook Job {name} ran again without a change"

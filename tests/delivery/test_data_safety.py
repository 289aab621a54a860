"""Nothing that holds user data can be deleted or pruned by an ArgoCD action (issue 17).

Checked over the committed ``dist/`` and the output of every example: each object that
holds user data carries the sync options ``Delete=false`` (a cascading deletion of the
Application keeps it; ArgoCD's ``shouldBeDeleted``, argo-cd ``controller/appcontroller.go``)
and ``Prune=false`` (it is not deleted when it leaves git). Data-holding objects:

- a Namespace: deleting it deletes the users' home PVCs, which KubeSpawner creates in it
  and git never lists, and the hub's generated Secrets (the crypt key of auth state);
- a PersistentVolumeClaim (the hub database, the shared data);
- a StatefulSet's volume claim templates: its ``persistentVolumeClaimRetentionPolicy``
  must not delete them;
- a PersistentVolume: its reclaim policy must not be ``Delete``.

The issue's reports: deleting or renaming the Application deleted every home directory
(the Application's resources finalizer cascaded to the Namespace object); renaming a
PVC's construct id pruned the old PVC and its data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cdk8s
import pytest
from cdk8s_plus_27 import k8s

from jupyter_constructs.delivery.synth import synthesize
from tests.helpers import EXAMPLES, ROOT, load_manifests, output_folders, run_example

OPTIONS = "argocd.argoproj.io/sync-options"


def _options(obj: dict[str, Any]) -> set[str]:
    raw = (obj["metadata"].get("annotations") or {}).get(OPTIONS, "")
    return {o.strip() for o in raw.split(",") if o.strip()}


def unprotected(objects: list[dict[str, Any]]) -> list[str]:
    """Every data-holding object ArgoCD could delete or prune, with the reason."""
    problems = []
    for obj in objects:
        name = f"{obj['kind']}/{obj['metadata']['name']}"
        if obj["kind"] in ("Namespace", "PersistentVolumeClaim"):
            missing = {"Delete=false", "Prune=false"} - _options(obj)
            if missing:
                problems.append(f"{name}: no {', '.join(sorted(missing))}")
        if obj["kind"] == "StatefulSet" and obj["spec"].get("volumeClaimTemplates"):
            policy = obj["spec"].get("persistentVolumeClaimRetentionPolicy") or {}
            if "Delete" in policy.values():
                problems.append(f"{name}: persistentVolumeClaimRetentionPolicy {policy}")
            missing = {"Delete=false", "Prune=false"} - _options(obj)
            if missing:
                problems.append(f"{name} (has volumeClaimTemplates): no {sorted(missing)}")
        reclaim = (obj.get("spec") or {}).get("persistentVolumeReclaimPolicy", "Retain")
        if obj["kind"] == "PersistentVolume" and reclaim == "Delete":
            problems.append(f"{name}: persistentVolumeReclaimPolicy Delete")
    return problems


def _outputs() -> list[Any]:
    return [pytest.param(None, id="dist")] + [
        pytest.param(example, id=f"example-{example.stem}") for example in EXAMPLES
    ]


@pytest.fixture(params=_outputs())
def output(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    example = request.param
    if example is None:
        return ROOT / "dist"
    return run_example(example, tmp_path / example.stem)


def test_every_data_holding_object_is_protected(output: Path) -> None:
    folders = output_folders(output)
    objects = [o for objs in folders.values() for o in objs]
    kinds = {o["kind"] for o in objects}
    assert "PersistentVolumeClaim" in kinds or "Namespace" in kinds, (
        f"{output} renders no data-holding object: the test would prove nothing"
    )
    assert unprotected(objects) == []


def test_the_check_finds_an_unprotected_claim() -> None:
    """The checker above is not a pass-through: it flags what ArgoCD could delete."""
    claim = {"kind": "PersistentVolumeClaim", "metadata": {"name": "home"}, "spec": {}}
    pruned_only = {
        "kind": "Namespace",
        "metadata": {"name": "jupyter", "annotations": {OPTIONS: "Prune=false"}},
    }
    sts = {
        "kind": "StatefulSet",
        "metadata": {"name": "db", "annotations": {OPTIONS: "Delete=false, Prune=false"}},
        "spec": {
            "volumeClaimTemplates": [{}],
            "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Delete"},
        },
    }
    assert unprotected([claim, pruned_only, sts]) == [
        "PersistentVolumeClaim/home: no Delete=false, Prune=false",
        "Namespace/jupyter: no Delete=false",
        "StatefulSet/db: persistentVolumeClaimRetentionPolicy {'whenDeleted': 'Delete'}",
    ]


def test_claims_of_other_libraries_are_protected_by_synthesize(tmp_path: Path) -> None:
    """A consumer's own cdk8s-plus PVC and Namespace get the same protection."""

    def build(app: cdk8s.App) -> None:
        chart = cdk8s.Chart(app, "prod", namespace="data")
        k8s.KubeNamespace(chart, "ns", metadata=k8s.ObjectMeta(name="data"))
        k8s.KubePersistentVolumeClaim(
            chart,
            "scratch",
            metadata=k8s.ObjectMeta(annotations={OPTIONS: "ServerSideApply=true"}),
            spec=k8s.PersistentVolumeClaimSpec(access_modes=["ReadWriteOnce"]),
        )
        k8s.KubeConfigMap(chart, "settings", data={"a": "b"})

    objects = load_manifests(synthesize(build, outdir=tmp_path / "dist"))
    assert unprotected(objects) == []
    claim = next(o for o in objects if o["kind"] == "PersistentVolumeClaim")
    assert _options(claim) == {"ServerSideApply=true", "Delete=false", "Prune=false"}
    config = next(o for o in objects if o["kind"] == "ConfigMap")
    assert OPTIONS not in (config["metadata"].get("annotations") or {})


def test_the_application_does_not_cascade_by_default() -> None:
    """Deleting the Application (or an app-of-apps refactor renaming it) deletes nothing."""
    (app,) = load_manifests(ROOT / "dist" / "argocd")
    assert not app["metadata"].get("finalizers"), app["metadata"]

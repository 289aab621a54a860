"""The first sync completes with both volume binding modes (issue 17; argo-cd#12840).

A model of ArgoCD's sync (``tests/support/wave_model.py``) walks the waves of each
Application folder of ``dist/`` and of every example: with ``Immediate`` binding and
with ``WaitForFirstConsumer`` (the default StorageClass mode on EKS gp3, GKE and AKS),
no wave may wait on a claim whose first consumer comes later or is not in git, and the
Application must be Healthy at the end. The real ArgoCD harness (``tests/argocd``)
checks the same on a real controller; this model runs in milliseconds on every output.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import EXAMPLES, ROOT, output_folders, run_example
from tests.support.wave_model import IMMEDIATE, MODES, WAIT_FOR_FIRST_CONSUMER, walk_waves

WAVE = "argocd.argoproj.io/sync-wave"


def _application_folders(root: Path) -> dict[str, list[dict[str, Any]]]:
    """Folders deployed by an Application (every folder but the Applications' own)."""
    folders = output_folders(root)
    applications = [o for objs in folders.values() for o in objs if o["kind"] == "Application"]
    paths = {a["spec"]["source"]["path"].split("/", 1)[-1] for a in applications}
    return {
        name: objs
        for name, objs in folders.items()
        if not any(o["kind"] == "Application" for o in objs)
        and (not paths or name.split("/", 1)[-1] in paths)
    }


def _outputs() -> list[Any]:
    return [pytest.param(None, id="dist")] + [
        pytest.param(example, id=f"example-{example.stem}") for example in EXAMPLES
    ]


@pytest.fixture(params=_outputs())
def folders(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, list[dict[str, Any]]]:
    example = request.param
    root = ROOT / "dist" if example is None else run_example(example, tmp_path / example.stem)
    found = _application_folders(root)
    assert found, f"no folder to sync in {root}"
    return found


@pytest.mark.parametrize("mode", MODES)
def test_first_sync_completes_and_is_healthy(
    folders: dict[str, list[dict[str, Any]]], mode: str
) -> None:
    for name, objects in folders.items():
        outcome = walk_waves(objects, mode)
        assert outcome.completed and not outcome.unhealthy, f"{name} ({mode}):\n" + (
            outcome.describe()
        )


def _dist_objects() -> list[dict[str, Any]]:
    return output_folders(ROOT / "dist")["dist/prod"]


def test_the_model_finds_the_reported_deadlock() -> None:
    """argo-cd#12840 as this product had it: the database claim in wave -2, the hub in 0."""
    objects = copy.deepcopy(_dist_objects())
    for obj in objects:
        if obj["kind"] == "PersistentVolumeClaim":
            obj["metadata"]["annotations"][WAVE] = "-2"
    assert walk_waves(objects, IMMEDIATE).completed
    outcome = walk_waves(objects, WAIT_FOR_FIRST_CONSUMER)
    assert not outcome.completed
    assert outcome.stuck_at == ("Sync", -2)
    assert "PersistentVolumeClaim/jupyter/hub-db-dir" in outcome.waiting_for


def test_a_claim_only_user_servers_mount_would_block_a_later_wave() -> None:
    """The shared data claim in the workloads' wave: no pod in git mounts it, wave 1
    (the custom resources) never starts."""
    objects = copy.deepcopy(_dist_objects())
    (shared,) = [o for o in objects if o["metadata"]["name"] == "shared-data"]
    shared["metadata"]["annotations"][WAVE] = "0"
    outcome = walk_waves(objects, WAIT_FOR_FIRST_CONSUMER)
    assert outcome.stuck_at == ("Sync", 0)
    assert outcome.waiting_for == ["PersistentVolumeClaim/jupyter/shared-data"]


def test_a_pending_claim_in_the_last_wave_needs_the_health_exemption() -> None:
    """ArgoCD does not wait on the last wave, but the Application stays Progressing while
    the claim is Pending unless it is left out of the health (ignore-healthcheck)."""
    objects = copy.deepcopy(_dist_objects())
    (shared,) = [o for o in objects if o["metadata"]["name"] == "shared-data"]
    del shared["metadata"]["annotations"]["argocd.argoproj.io/ignore-healthcheck"]
    outcome = walk_waves(objects, WAIT_FOR_FIRST_CONSUMER)
    assert outcome.completed
    assert outcome.unhealthy == ["PersistentVolumeClaim/jupyter/shared-data"]


def test_a_claim_reserved_for_a_static_volume_binds_in_any_wave(tmp_path: Path) -> None:
    """The shared homes of ``UserStorage.shared`` are an NFS export: a static
    PersistentVolume (wave -2) and a claim reserved for it (``volumeName``, no class).
    Only user servers mount it, yet it binds at once with either mode; the same claim
    asking a ``WaitForFirstConsumer`` class would not."""
    example = EXAMPLES[[e.stem for e in EXAMPLES].index("home_shared")]
    root = run_example(example, tmp_path / example.stem)
    objects = [o for objs in _application_folders(root).values() for o in objs]
    (claim,) = [
        o for o in objects if o["kind"] == "PersistentVolumeClaim" and o["spec"].get("volumeName")
    ]
    assert claim["spec"]["storageClassName"] == ""
    assert walk_waves(objects, WAIT_FOR_FIRST_CONSUMER).unhealthy == []
    claim["spec"]["storageClassName"] = "gp3"
    outcome = walk_waves(objects, WAIT_FOR_FIRST_CONSUMER)
    assert outcome.stuck_at == ("Sync", int(claim["metadata"]["annotations"][WAVE]))
    assert outcome.waiting_for == [f"PersistentVolumeClaim/jupyter/{claim['metadata']['name']}"]

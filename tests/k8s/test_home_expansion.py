"""Homes grown where Kubernetes can (issue 21, "storage over time"), on the real API server.

The hub ran with ``UserStorage(size="1Gi")``; the operator raised it to ``2Gi``. KubeSpawner
sets a claim's size only when it creates it, so existing users kept 1Gi. The real hub
(generated config, the hub ServiceAccount's own token) now grows an existing home claim
before the spawn (``hub/files/home_expansion.py``), through the API server's
PersistentVolumeClaimResize admission:

- a claim of a StorageClass with ``allowVolumeExpansion: true`` is raised to 2Gi;
- a claim of a class without it is refused by the API server ("only dynamically
  provisioned pvc can be resized and the storageclass that provisions the pvc must
  support resize"): the server starts with 1Gi, the hub logs a warning naming the claim,
  the sizes and the API server's reason, and the files in the home are untouched;
- a claim bigger than the configured size (grown by hand) is never lowered;
- a ``pre_spawn_hook`` of the hub's custom code still runs (the growth is chained after it).

The claims are bound the way the PV binder controller binds a provisioned volume (a
PersistentVolume with a ``claimRef``, the claim's ``volumeName`` and ``Bound`` status):
admission grows only bound claims.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest

from jupyter_constructs import UserStorage
from tests.helpers import make_hub, synth
from tests.k8s.test_spawn import Hub, prepare_platform, running_hub, user_pods, wait
from tests.support.kube.client import KubeClient
from tests.support.kube.fixtures import apply_product, delete_namespace
from tests.support.kube.kubelet import TestKubelet

pytestmark = [pytest.mark.k8s, pytest.mark.integration]

REFUSAL = (
    "only dynamically provisioned pvc can be resized and the storageclass that provisions "
    "the pvc must support resize"
)


CUSTOM_HOOK = """
def team_hook(spawner):
    spawner.environment = {**spawner.environment, "TEAM_HOOK": "ran"}


c.KubeSpawner.pre_spawn_hook = team_hook
"""


def storage_class(admin: KubeClient, name: str, *, expandable: bool) -> None:
    body: dict[str, Any] = {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": name},
        "provisioner": "volumes.test.jupyter-constructs.invalid",
        "reclaimPolicy": "Retain",
    }
    if expandable:
        body["allowVolumeExpansion"] = True
    admin.post("/apis/storage.k8s.io/v1/storageclasses", body)


def bound_home(
    admin: KubeClient, namespace: str, claim: str, size: str, klass: str, folder: Path
) -> str:
    """A home claim as an earlier hub made it and a provisioner bound it; returns its PV."""
    volume = f"pv-{namespace}-{claim}"
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o777)
    (folder / "notebook.ipynb").write_text("{}")
    admin.post(
        f"/api/v1/namespaces/{namespace}/persistentvolumeclaims",
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": claim},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": size}},
                "storageClassName": klass,
                "volumeName": volume,
            },
        },
    )
    uid = admin.get(f"/api/v1/namespaces/{namespace}/persistentvolumeclaims/{claim}")["metadata"][
        "uid"
    ]
    admin.post(
        "/api/v1/persistentvolumes",
        {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {"name": volume},
            "spec": {
                "capacity": {"storage": size},
                "accessModes": ["ReadWriteOnce"],
                "storageClassName": klass,
                "persistentVolumeReclaimPolicy": "Retain",
                "claimRef": {"namespace": namespace, "name": claim, "uid": uid},
                "hostPath": {"path": str(folder)},
            },
        },
    )
    admin.patch(
        f"/api/v1/namespaces/{namespace}/persistentvolumeclaims/{claim}/status",
        {
            "status": {
                "phase": "Bound",
                "accessModes": ["ReadWriteOnce"],
                "capacity": {"storage": size},
            }
        },
    )
    return volume


def requested(admin: KubeClient, namespace: str, claim: str) -> str:
    path = f"/api/v1/namespaces/{namespace}/persistentvolumeclaims/{claim}"
    return str(admin.get(path)["spec"]["resources"]["requests"]["storage"])


def start(hub: Hub, kubelet: TestKubelet, user: str) -> None:
    hub.api("POST", f"/users/{user}")
    hub.api("POST", f"/users/{user}/server")
    wait(lambda: (hub.server(user) or {}).get("ready"), 150, f"{user}'s server", hub, kubelet)


def test_existing_homes_grow_where_the_storage_class_allows_it(
    admin: KubeClient, kubelet: TestKubelet, crds: list[str], tmp_path: Path
) -> None:
    suffix = secrets.token_hex(3)
    namespace = f"homes-{suffix}"
    expandable, fixed = f"expandable-{suffix}", f"fixed-{suffix}"
    chart, built = make_hub(user_storage=UserStorage.dynamic(size="2Gi"))
    built.add_python_file("spawn_hooks.py", CUSTOM_HOOK)
    objects = synth(chart)
    volumes: list[str] = []
    # The volumes' folders, readable by the users' servers (pytest's are private to root).
    disks = Path(tempfile.mkdtemp(prefix="jc-homes-"))
    disks.chmod(0o755)
    try:
        storage_class(admin, expandable, expandable=True)
        storage_class(admin, fixed, expandable=False)
        apply_product(admin, namespace, objects)
        prepare_platform(admin, namespace, objects, tmp_path)
        homes = {
            "alice": ("1Gi", expandable),  # grown
            "bob": ("1Gi", fixed),  # the API server refuses: kept, with a warning
            "carol": ("3Gi", expandable),  # bigger than configured: never lowered
        }
        for user, (size, klass) in homes.items():
            volumes.append(bound_home(admin, namespace, f"claim-{user}", size, klass, disks / user))
        with running_hub(admin, namespace, objects, tmp_path / "hub") as hub:
            for user in homes:
                start(hub, kubelet, user)
                (pod,) = user_pods(admin, namespace, user)
                home = next(v for v in pod["spec"]["volumes"] if v["name"] == "home")
                assert home["persistentVolumeClaim"]["claimName"] == f"claim-{user}"
                env = {e["name"]: e.get("value") for e in pod["spec"]["containers"][0]["env"]}
                assert env["TEAM_HOOK"] == "ran"  # the custom code's hook ran too
            log = hub.log.read_text()
            for user in homes:
                hub.api("DELETE", f"/users/{user}/server")
            for user in homes:
                wait(lambda u=user: not user_pods(admin, namespace, u), 60, "stop", hub, kubelet)

        assert requested(admin, namespace, "claim-alice") == "2Gi"
        assert f"Home claim {namespace}/claim-alice grown from 1Gi to 2Gi" in log

        assert requested(admin, namespace, "claim-bob") == "1Gi"
        warning = next(line for line in log.splitlines() if "claim-bob stays 1Gi" in line)
        print(f"\nthe hub logs: {warning}")
        assert "[W " in warning and "smaller than the configured 2Gi" in warning
        assert REFUSAL in warning and "allowVolumeExpansion: true" in warning

        assert requested(admin, namespace, "claim-carol") == "3Gi"
        assert "claim-carol" not in " ".join(
            line for line in log.splitlines() if "grown" in line or "stays" in line
        )
        for user in homes:  # nothing in any home was touched
            assert (disks / user / "notebook.ipynb").read_text() == "{}"
    finally:
        delete_namespace(admin, namespace)
        for volume in volumes:
            admin.delete(f"/api/v1/persistentvolumes/{volume}")
        for klass in (expandable, fixed):
            admin.delete(f"/apis/storage.k8s.io/v1/storageclasses/{klass}")
        shutil.rmtree(disks, ignore_errors=True)

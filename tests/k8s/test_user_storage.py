"""User storage on a real API server: every home mode and volume through admission, static
NFS claims bound by the real PersistentVolume controller, a shared home's folder made by
its user, and homes that outlive their users.

Each hub is applied the way ArgoCD syncs it into a namespace of its own (restricted Pod
Security enforced, ResourceQuota and LimitRange in force); the user's PVC and pod are
rendered by the real KubeSpawner 7 from the generated hub config and created **with the
hub ServiceAccount's own token**, as the hub does when a user presses Start.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path
from typing import Any

import pytest

from jupyter_constructs import (
    ExtraFile,
    FileItem,
    Mount,
    NfsExport,
    SharedData,
    SingleUser,
    SlugScheme,
    UserContainer,
    UserStorage,
    UserVolume,
)
from tests.helpers import make_hub, synth
from tests.k8s.test_spawn import prepare_platform, running_hub, user_pods, wait
from tests.support.kube.client import ApiError, KubeClient, wait_until
from tests.support.kube.fixtures import apply_product, delete_namespace
from tests.support.kube.kubelet import TestKubelet
from tests.support.kube.product import UserChoice, render_user_pod

pytestmark = pytest.mark.k8s

BUSYBOX = "docker.io/library/busybox:1.36"
USER = "alice.smith@example.org"
NFS_VOLUME = UserVolume.nfs_export(
    "archive",
    server="nfs.example.internal",
    path="/exports/archive",
    mount_path="/mnt/archive",
    read_only=True,
)
#: Every kind of volume, file and added container, on top of each home mode.
EVERYTHING = SingleUser(
    volumes=[
        UserVolume.existing_claim(
            "datasets",
            claim_name="team-datasets",
            mount_path="/home/jovyan/datasets",
            read_only=True,
        ),
        NFS_VOLUME,
        UserVolume.config_map("settings", config_map_name="team-settings", mount_path="/etc/team"),
        UserVolume.secret(
            "ssh",
            secret_name="team-ssh",
            mount_path="/home/jovyan/.ssh-team",
            items=[FileItem("id_ed25519", "id_ed25519", mode=0o440)],
        ),
        UserVolume.empty_dir("cache", mount_path="/cache", size_limit="5Gi"),
    ],
    extra_files={"motd": ExtraFile("/etc/motd", text="welcome")},
    init_containers=[
        UserContainer("seed", image=BUSYBOX, command=["true"], mounts=[Mount("cache", "/c")])
    ],
    extra_containers=[UserContainer("agent", image=BUSYBOX, command=["sleep", "1d"])],
    extra_labels={"example.com/cost-center": "ml"},
    shm_size="1Gi",
    pre_stop_command=["sh", "-c", "sync"],
)
MODES: dict[str, UserStorage] = {
    "dynamic": UserStorage(),
    "dynamic-escape": UserStorage.dynamic(slug_scheme=SlugScheme.ESCAPE),
    "shared": UserStorage.shared("homes"),
    "shared-nfs": UserStorage.shared(
        "homes", nfs=NfsExport("nfs.example.internal", "/exports/homes")
    ),
    "none": UserStorage.none(),
}


def _objects(storage: UserStorage, singleuser: SingleUser | None = None) -> list[dict[str, Any]]:
    chart, _ = make_hub(user_storage=storage, singleuser=singleuser, shared_data=SharedData())
    return synth(chart)


def _namespace(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(3)}"


def _cleanup(admin: KubeClient, namespace: str) -> None:
    delete_namespace(admin, namespace)
    for volume in admin.get("/api/v1/persistentvolumes")["items"]:
        if volume["metadata"]["name"].startswith(f"{namespace}-"):
            admin.delete(f"/api/v1/persistentvolumes/{volume['metadata']['name']}")


def _create(client: KubeClient, obj: dict[str, Any], namespace: str) -> dict[str, Any]:
    try:
        stored, warnings = client.create(obj, namespace)
    except ApiError as error:
        pytest.fail(
            f"{obj['kind']} {obj['metadata']['name']} refused: {error.message}", pytrace=False
        )
    assert not warnings, warnings
    return stored


@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("settings", ["plain", "everything"])
def test_each_home_mode_is_admitted_as_the_hub(
    admin: KubeClient, crds: list[str], mode: str, settings: str
) -> None:
    objects = _objects(MODES[mode], EVERYTHING if settings == "everything" else None)
    namespace = _namespace(f"home-{mode}")
    try:
        apply_product(admin, namespace, objects)
        hub = admin.as_service_account(namespace, "hub")
        pod, pvc = render_user_pod(objects, UserChoice("small"), USER)
        if MODES[mode].type.value == "dynamic":
            stored = _create(hub, pvc, namespace)
            assert stored["metadata"]["name"] == pod_claim(pod)
        stored_pod = _create(hub, pod, namespace)
        # What the API server stored is what KubeSpawner sent: nothing dropped or defaulted away.
        assert [v["name"] for v in stored_pod["spec"]["volumes"]] == [
            v["name"] for v in pod["spec"]["volumes"]
        ]
        assert stored_pod["spec"]["securityContext"]["fsGroupChangePolicy"] == "OnRootMismatch"
        labels = stored_pod["metadata"]["labels"]
        assert labels["jupyter-constructs.io/profile"] == "small"
        assert labels["app.kubernetes.io/instance"] == "jupyter"
    finally:
        _cleanup(admin, namespace)


def pod_claim(pod: dict[str, Any]) -> str | None:
    home = next((v for v in pod["spec"]["volumes"] if v["name"] == "home"), None)
    return home["persistentVolumeClaim"]["claimName"] if home else None


def test_escape_scheme_names_the_claim_as_z2jh_3_did(admin: KubeClient, crds: list[str]) -> None:
    objects = _objects(MODES["dynamic-escape"])
    namespace = _namespace("escape")
    try:
        apply_product(admin, namespace, objects)
        hub = admin.as_service_account(namespace, "hub")
        _, pvc = render_user_pod(objects, UserChoice("small"), USER)
        stored = _create(hub, pvc, namespace)
        assert stored["metadata"]["name"] == "claim-alice-2esmith-40example-2eorg"
    finally:
        _cleanup(admin, namespace)


def test_static_nfs_claims_bind_to_their_volumes(
    admin: KubeClient, crds: list[str], workload_controllers: Any
) -> None:
    """The real PersistentVolume controller binds each rendered claim to its static volume
    (``claimRef`` + ``volumeName`` + ``storageClassName: ""``), never to a provisioned one."""
    objects = _objects(MODES["shared-nfs"], SingleUser(volumes=[NFS_VOLUME]))
    namespace = _namespace("nfs")
    try:
        apply_product(admin, namespace, objects)
        for claim, access in (("homes", "ReadWriteMany"), ("archive", "ReadOnlyMany")):
            path = f"/api/v1/namespaces/{namespace}/persistentvolumeclaims/{claim}"
            wait_until(
                lambda path=path: admin.get(path).get("status", {}).get("phase") == "Bound",
                60,
                f"claim {claim} to be bound",
            )
            stored = admin.get(path)
            assert stored["spec"]["volumeName"] == f"{namespace}-{claim}"
            assert stored["status"]["accessModes"] == [access]
            volume = admin.get(f"/api/v1/persistentvolumes/{namespace}-{claim}")
            assert volume["status"]["phase"] == "Bound"
            assert volume["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
    finally:
        _cleanup(admin, namespace)


@pytest.mark.parametrize("make_home_dir", [True, False])
def test_a_shared_home_folder_belongs_to_its_user(
    admin: KubeClient, crds: list[str], kubelet: TestKubelet, make_home_dir: bool
) -> None:
    """The kubelet makes a missing ``subPath`` folder as root (kubernetes/kubernetes#95945):
    the user could not write their own home. The ``home-dir`` init container makes it first,
    as the user."""
    if os.geteuid() != 0:
        pytest.skip("the test kubelet can run a pod as its user only when run as root")
    storage = UserStorage.shared("homes", make_home_dir=make_home_dir)
    objects = _objects(storage)
    namespace = _namespace("shared-home")
    try:
        apply_product(admin, namespace, objects)
        # The storage team's claim (UserStorage.shared mounts it, it does not render it).
        admin.create(
            {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": {"name": "homes"},
                "spec": {
                    "accessModes": ["ReadWriteMany"],
                    "resources": {"requests": {"storage": "1Gi"}},
                },
            },
            namespace,
        )
        pod, _ = render_user_pod(objects, UserChoice("small"), "bob")
        _create(admin.as_service_account(namespace, "hub"), pod, namespace)
        folder = Path(kubelet.workdir) / "persistent-volumes" / namespace / "homes" / "bob"
        wait_until(folder.is_dir, 60, f"the home folder {folder}")
        owner = folder.stat().st_uid
        assert owner == (1000 if make_home_dir else 0), (owner, kubelet.logs(20))
    finally:
        _cleanup(admin, namespace)


@pytest.mark.parametrize("delete_pvc", [False, True])
def test_deleting_a_user_keeps_their_home_unless_told_otherwise(
    admin: KubeClient, crds: list[str], kubelet: TestKubelet, tmp_path: Path, delete_pvc: bool
) -> None:
    """KubeSpawner deletes a user's home claim with the user by default (``delete_pvc``);
    the library keeps it unless ``UserStorage(delete_pvc=True)`` opts in. Issue 21: culling
    users (``IdleCuller(cull_users=True)``) deleted their homes this way."""
    chart, _ = make_hub(user_storage=UserStorage.dynamic(delete_pvc=delete_pvc))
    objects = synth(chart)
    namespace = _namespace("keep-home" if not delete_pvc else "drop-home")
    try:
        apply_product(admin, namespace, objects)
        prepare_platform(admin, namespace, objects, tmp_path)
        with running_hub(admin, namespace, objects, tmp_path / "hub") as hub:
            hub.api("POST", "/users/carol")
            hub.api("POST", "/users/carol/server")
            wait(
                lambda: (hub.server("carol") or {}).get("ready"),
                150,
                "carol's server",
                hub,
                kubelet,
            )
            claims = f"/api/v1/namespaces/{namespace}/persistentvolumeclaims"
            (home,) = [
                c["metadata"]["name"]
                for c in admin.get(claims)["items"]
                if c["metadata"]["name"].startswith("claim-")
            ]
            hub.api("DELETE", "/users/carol/server")
            wait(lambda: not user_pods(admin, namespace, "carol"), 60, "the stop", hub, kubelet)
            hub.api("DELETE", "/users/carol")
            path = f"{claims}/{home}"
            if delete_pvc:
                wait_until(
                    lambda: (
                        not admin.exists(path) or "deletionTimestamp" in admin.get(path)["metadata"]
                    ),
                    30,
                    "the opted-in deletion of the home claim",
                )
            else:
                time.sleep(3)  # room for a deletion the hub would have asked for
                assert admin.exists(path), "the home claim must outlive its user"
                assert "deletionTimestamp" not in admin.get(path)["metadata"]
    finally:
        _cleanup(admin, namespace)

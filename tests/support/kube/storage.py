"""A volume provisioner stand-in speaking the external-provisioner protocol, with both
binding modes of real StorageClasses.

Two StorageClasses share one provisioner name; ``use()`` makes one of them the cluster's
default (the one a PVC without ``storageClassName`` gets from the DefaultStorageClass
admission plugin):

- ``Immediate``: the PV binder controller (kube-controller-manager) marks a new claim
  for our provisioner at once; we create its PersistentVolume; the binder binds them.
- ``WaitForFirstConsumer`` (the default class on EKS gp3, GKE and AKS): the claim stays
  ``Pending`` until kube-scheduler picks a node for a pod that uses it and writes
  ``volume.kubernetes.io/selected-node``; only then is it marked for us, provisioned on
  that node and bound, and the pod is bound after it. A claim no pod uses never binds.

The volumes are folders (``hostPath``; the test kubelet mounts a bound claim's folder).
``reclaimPolicy: Delete`` is the classes' policy, as on the clouds: when a claim is
deleted its volume is Released and we delete the PersistentVolume *and its folder* —
the data is gone, as it would be.

Needs kube-controller-manager's ``persistentvolume-binder-controller`` and kube-scheduler
(the workload level of ``tests.support.kube.control_plane``).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from tests.support.kube.background import PollingLoop
from tests.support.kube.client import ApiError, KubeClient

Obj = dict[str, Any]

PROVISIONER = "volumes.test.jupyter-constructs.invalid"
IMMEDIATE = "Immediate"
WAIT_FOR_FIRST_CONSUMER = "WaitForFirstConsumer"
#: StorageClass name of each binding mode.
CLASSES = {IMMEDIATE: "test-immediate", WAIT_FOR_FIRST_CONSUMER: "test-wait-for-consumer"}
DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"
#: Written by the PV binder controller when a claim is ours to provision.
PROVISIONER_ANNOTATIONS = (
    "volume.kubernetes.io/storage-provisioner",
    "volume.beta.kubernetes.io/storage-provisioner",
)
SELECTED_NODE = "volume.kubernetes.io/selected-node"
PROVISIONED_BY = "pv.kubernetes.io/provisioned-by"


class VolumeProvisioner(PollingLoop):
    """Provisions and deletes volumes for the claims of our StorageClasses."""

    name = "volume-provisioner"

    def __init__(self, admin: KubeClient, directory: Path, reclaim_policy: str = "Delete") -> None:
        super().__init__()
        self.admin = admin
        self.directory = directory
        self.reclaim_policy = reclaim_policy
        self.provisioned: dict[str, str] = {}  # PV name -> namespace/claim

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.directory.chmod(0o755)
        for mode, name in CLASSES.items():
            if not self.admin.exists(f"/apis/storage.k8s.io/v1/storageclasses/{name}"):
                self.admin.post(
                    "/apis/storage.k8s.io/v1/storageclasses",
                    {
                        "apiVersion": "storage.k8s.io/v1",
                        "kind": "StorageClass",
                        "metadata": {"name": name, "annotations": {DEFAULT_CLASS: "false"}},
                        "provisioner": PROVISIONER,
                        "reclaimPolicy": self.reclaim_policy,
                        "volumeBindingMode": mode,
                        "allowVolumeExpansion": True,
                    },
                )
        super().start()

    def use(self, mode: str) -> str:
        """Make the class of binding ``mode`` the cluster's only default; returns its name."""
        if mode not in CLASSES:
            raise ValueError(f"binding mode {mode!r}: one of {', '.join(CLASSES)}")
        for other, name in CLASSES.items():
            self.admin.patch(
                f"/apis/storage.k8s.io/v1/storageclasses/{name}",
                {"metadata": {"annotations": {DEFAULT_CLASS: str(other == mode).lower()}}},
            )
        return CLASSES[mode]

    # ------------------------------------------------------------------ the loop

    def sync_once(self) -> None:
        classes = {
            c["metadata"]["name"]: c
            for c in self.admin.get("/apis/storage.k8s.io/v1/storageclasses")["items"]
            if c.get("provisioner") == PROVISIONER
        }
        for claim in self.admin.get("/api/v1/persistentvolumeclaims")["items"]:
            storage_class = classes.get(claim["spec"].get("storageClassName") or "")
            if storage_class is not None and self._wants_volume(claim, storage_class):
                self._provision(claim, storage_class)
        for volume in self.admin.get("/api/v1/persistentvolumes")["items"]:
            annotations = volume["metadata"].get("annotations") or {}
            if (
                annotations.get(PROVISIONED_BY) == PROVISIONER
                and volume.get("status", {}).get("phase") == "Released"
                and volume["spec"].get("persistentVolumeReclaimPolicy") == "Delete"
            ):
                self._delete(volume)

    def _wants_volume(self, claim: Obj, storage_class: Obj) -> bool:
        if claim["spec"].get("volumeName") or claim["metadata"].get("deletionTimestamp"):
            return False
        annotations = claim["metadata"].get("annotations") or {}
        if not any(annotations.get(a) == PROVISIONER for a in PROVISIONER_ANNOTATIONS):
            return False  # the binder has not handed it to a provisioner (yet)
        if storage_class.get("volumeBindingMode") == WAIT_FOR_FIRST_CONSUMER:
            return bool(annotations.get(SELECTED_NODE))
        return True

    def _provision(self, claim: Obj, storage_class: Obj) -> None:
        meta = claim["metadata"]
        name = f"pvc-{meta['uid']}"
        if self.admin.exists(f"/api/v1/persistentvolumes/{name}"):
            return
        folder = self.directory / name
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o777)
        spec: Obj = {
            "capacity": {"storage": claim["spec"]["resources"]["requests"]["storage"]},
            "accessModes": claim["spec"]["accessModes"],
            "volumeMode": claim["spec"].get("volumeMode", "Filesystem"),
            "storageClassName": storage_class["metadata"]["name"],
            "persistentVolumeReclaimPolicy": storage_class.get("reclaimPolicy", "Delete"),
            "claimRef": {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "namespace": meta["namespace"],
                "name": meta["name"],
                "uid": meta["uid"],
            },
            "hostPath": {"path": str(folder), "type": "DirectoryOrCreate"},
        }
        node = (meta.get("annotations") or {}).get(SELECTED_NODE)
        if node:  # a local volume: only its node can mount it
            spec["nodeAffinity"] = {
                "required": {
                    "nodeSelectorTerms": [
                        {
                            "matchExpressions": [
                                {
                                    "key": "kubernetes.io/hostname",
                                    "operator": "In",
                                    "values": [node],
                                }
                            ]
                        }
                    ]
                }
            }
        try:
            self.admin.post(
                "/api/v1/persistentvolumes",
                {
                    "apiVersion": "v1",
                    "kind": "PersistentVolume",
                    "metadata": {"name": name, "annotations": {PROVISIONED_BY: PROVISIONER}},
                    "spec": spec,
                },
            )
        except ApiError as error:
            if error.status != 409:
                raise
            return
        self.provisioned[name] = f"{meta['namespace']}/{meta['name']}"
        self.note(f"provisioned {name} for {meta['namespace']}/{meta['name']}")

    def _delete(self, volume: Obj) -> None:
        name = volume["metadata"]["name"]
        host_path = (volume["spec"].get("hostPath") or {}).get("path")
        if host_path and Path(host_path).is_relative_to(self.directory):
            shutil.rmtree(host_path, ignore_errors=True)
        try:
            self.admin.delete(f"/api/v1/persistentvolumes/{name}")
        except ApiError as error:
            if error.status != 404:
                raise
        self.note(f"deleted {name} (of {self.provisioned.get(name, '?')}) and its data")

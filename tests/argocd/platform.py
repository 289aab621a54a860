"""What the ArgoCD tests need to know of the product's output: the credential Secrets an
operator creates, the objects that hold user data, a user's home PVC made the way
KubeSpawner makes it, and a marker written into a volume to see data survive.
"""

from __future__ import annotations

import base64
import contextlib
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.kube.client import ApiError, KubeClient
from tests.support.kube.product import (
    WORKLOAD_KINDS,
    bootstrap_secret_name,
    render_user_pod,
    user_choices,
)

Obj = dict[str, Any]
MARKER = "written-by-the-test.txt"


def _walk_secret_refs(tree: Any, found: dict[str, set[str]]) -> None:
    if isinstance(tree, dict):
        ref = tree.get("secretKeyRef")
        if isinstance(ref, dict) and not ref.get("optional"):
            found.setdefault(ref["name"], set()).add(ref["key"])
        ref = tree.get("secretRef")
        if isinstance(ref, dict) and "name" in ref and not ref.get("optional"):
            found.setdefault(ref["name"], set())
        volume = tree.get("secret")
        if isinstance(volume, dict) and "secretName" in volume and not volume.get("optional"):
            found.setdefault(volume["secretName"], set())
        for value in tree.values():
            _walk_secret_refs(value, found)
    elif isinstance(tree, list):
        for value in tree:
            _walk_secret_refs(value, found)


def credential_secrets(objects: list[Obj]) -> dict[str, set[str]]:
    """Secrets the product's pods need that nothing in the output creates: Secret name ->
    keys. (The hub's own Secret comes from the bootstrap Job; Secrets in git or made by
    an ExternalSecret are not the operator's to create.)"""
    found: dict[str, set[str]] = {}
    for obj in objects:
        if obj["kind"] in WORKLOAD_KINDS:
            _walk_secret_refs(obj["spec"]["template"], found)
    made = {o["metadata"]["name"] for o in objects if o["kind"] == "Secret"}
    made |= {
        (o["spec"].get("target") or {}).get("name") or o["metadata"]["name"]
        for o in objects
        if o["kind"] == "ExternalSecret"
    }
    with contextlib.suppress(StopIteration):  # no bootstrap Job with existing_secret=
        made.add(bootstrap_secret_name(objects))
    return {name: keys for name, keys in found.items() if name not in made}


def create_credentials(admin: KubeClient, namespace: str, objects: list[Obj]) -> list[str]:
    """The operator's step: each credential Secret with test values; returns their names."""
    names = []
    for name, keys in sorted(credential_secrets(objects).items()):
        data = {
            key: base64.b64encode(secrets.token_hex(16).encode()).decode() for key in sorted(keys)
        }
        admin.post(
            f"/api/v1/namespaces/{namespace}/secrets",
            {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "data": data},
        )
        names.append(name)
    return names


def ensure_namespace(admin: KubeClient, namespace: str) -> None:
    if not admin.exists(f"/api/v1/namespaces/{namespace}"):
        admin.post("/api/v1/namespaces", {"metadata": {"name": namespace}})


def data_claims(objects: list[Obj]) -> list[str]:
    """The PersistentVolumeClaims in the output (the hub database, shared data)."""
    return sorted(o["metadata"]["name"] for o in objects if o["kind"] == "PersistentVolumeClaim")


def create_user_home(
    admin: KubeClient, namespace: str, objects: list[Obj], user: str = "alice@example.com"
) -> str:
    """A user's home PVC exactly as the real KubeSpawner renders it from the generated hub
    config, created with the hub ServiceAccount's own token (as the hub does at first
    spawn). Returns its name."""
    _, pvc = render_user_pod(objects, user_choices(objects)[0], user)
    admin.as_service_account(namespace, "hub").create(pvc, namespace)
    return str(pvc["metadata"]["name"])


@dataclass(frozen=True)
class Kept:
    """A data-holding object as first seen: its uid, and the marker file in its volume."""

    path: str
    uid: str
    marker: str | None = None


def _claim_folder(admin: KubeClient, claim: Obj) -> Path | None:
    volume_name = claim["spec"].get("volumeName")
    if not volume_name:
        return None
    volume = admin.get(f"/api/v1/persistentvolumes/{volume_name}")
    host_path = (volume["spec"].get("hostPath") or {}).get("path")
    return Path(host_path) if host_path else None


def remember(admin: KubeClient, namespace: str, claims: list[str]) -> list[Kept]:
    """The namespace and each claim as they are now; a marker written into each bound
    claim's volume (what a user's file would be)."""
    kept = [
        Kept(
            f"/api/v1/namespaces/{namespace}",
            admin.get(f"/api/v1/namespaces/{namespace}")["metadata"]["uid"],
        )
    ]
    for name in claims:
        path = f"/api/v1/namespaces/{namespace}/persistentvolumeclaims/{name}"
        claim = admin.get(path)
        folder = _claim_folder(admin, claim)
        marker = None
        if folder is not None:
            marker = secrets.token_hex(8)
            (folder / MARKER).write_text(marker)
        kept.append(Kept(path, claim["metadata"]["uid"], marker))
    return kept


class DataLost(AssertionError):
    """A GitOps action deleted (or replaced) an object that holds user data."""


def losses(admin: KubeClient, kept: list[Kept]) -> list[str]:
    """What happened to each remembered object that is not "still there, same object,
    not being deleted, marker intact"."""
    problems = []
    for item in kept:
        try:
            obj = admin.get(item.path)
        except ApiError as error:
            if error.status == 404:
                problems.append(f"{item.path}: deleted")
                continue
            raise
        if obj["metadata"]["uid"] != item.uid:
            problems.append(f"{item.path}: replaced by a new object (uid changed)")
        elif obj["metadata"].get("deletionTimestamp"):
            problems.append(f"{item.path}: being deleted (deletionTimestamp set)")
        elif item.marker is not None:
            folder = _claim_folder(admin, obj)
            marker = folder / MARKER if folder else None
            if marker is None or not marker.exists() or marker.read_text() != item.marker:
                problems.append(f"{item.path}: the file written into its volume is gone")
    return problems

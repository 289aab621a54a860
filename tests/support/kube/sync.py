"""Apply rendered manifests the way ArgoCD syncs them: wave by wave, kind order, server-side.

What is reproduced from ArgoCD (``ServerSideApply=true``, gitops-engine's sync tasks):

- objects are grouped by ``argocd.argoproj.io/sync-wave`` (default 0), lowest first;
- inside a wave, by kind in gitops-engine's kind order, then by name;
- server-side apply with the ``argocd-controller`` field manager, ``force=true``, and
  strict field validation (an unknown field is an error, never silently dropped);
- ``Sync`` hooks with ``hook-delete-policy: BeforeHookCreation`` are deleted and created
  again, so their immutable fields never block an upgrade;
- a wave that has an error stops the sync: later waves are not applied.

Not reproduced: health waits between waves (a Job hook would need its pod to complete;
the controller tests do that), pruning (reported by ``diff_pruned``, not executed).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.support.kube.client import ApiError, KubeClient, wait_until

Obj = dict[str, Any]

WAVE = "argocd.argoproj.io/sync-wave"
HOOK = "argocd.argoproj.io/hook"
HOOK_DELETE_POLICY = "argocd.argoproj.io/hook-delete-policy"
SYNC_OPTIONS = "argocd.argoproj.io/sync-options"

# gitops-engine pkg/sync/sync_tasks.go (the same order as Helm's install order).
KIND_ORDER = (
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
)


def load_manifests(directory: Path) -> list[Obj]:
    """Every YAML document under ``directory`` (recursively), in file-name order."""
    docs: list[Obj] = []
    for path in sorted(directory.rglob("*.yaml")):
        docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


def key(obj: Obj) -> str:
    """``Kind/namespace/name`` (``Kind/name`` when cluster-scoped)."""
    meta = obj["metadata"]
    ns = meta.get("namespace")
    return f"{obj['kind']}/{ns}/{meta['name']}" if ns else f"{obj['kind']}/{meta['name']}"


def wave(obj: Obj) -> int:
    return int((obj["metadata"].get("annotations") or {}).get(WAVE, "0"))


def _kind_rank(obj: Obj) -> int:
    kind = obj["kind"]
    return KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)


def in_sync_order(objects: Iterable[Obj]) -> list[tuple[int, list[Obj]]]:
    """``[(wave, objects in that wave in apply order), ...]``, lowest wave first."""
    waves: dict[int, list[Obj]] = {}
    for obj in objects:
        waves.setdefault(wave(obj), []).append(obj)
    return [
        (w, sorted(waves[w], key=lambda o: (_kind_rank(o), o["kind"], o["metadata"]["name"])))
        for w in sorted(waves)
    ]


def retarget(objects: Iterable[Obj], namespace: str, original: str = "jupyter") -> list[Obj]:
    """A copy of ``objects`` moved from namespace ``original`` into ``namespace``.

    A static PersistentVolume reserved for a claim of ``original`` (``claimRef``) follows
    its claim; when its name is the product's ``<original>-<claim>`` it is renamed
    ``<namespace>-<claim>`` (PersistentVolumes are cluster-wide: two namespaces must not
    share one), and so is the claim's ``volumeName``.
    """
    objects = [copy.deepcopy(o) for o in objects]
    renamed = {}
    for obj in objects:
        meta = obj["metadata"]
        claim_ref = (obj.get("spec") or {}).get("claimRef") or {}
        if obj["kind"] == "PersistentVolume" and claim_ref.get("namespace") == original:
            claim_ref["namespace"] = namespace
            if meta["name"].startswith(f"{original}-"):
                new_name = f"{namespace}-{meta['name'].removeprefix(f'{original}-')}"
                renamed[meta["name"]] = new_name
                meta["name"] = new_name
    moved = []
    for obj in objects:
        meta = obj["metadata"]
        if obj["kind"] == "Namespace" and meta["name"] == original:
            meta["name"] = namespace
            labels = meta.get("labels") or {}
            if "kubernetes.io/metadata.name" in labels:
                labels["kubernetes.io/metadata.name"] = namespace
        elif meta.get("namespace") == original:
            meta["namespace"] = namespace
            spec = obj.get("spec") or {}
            if obj["kind"] == "PersistentVolumeClaim" and spec.get("volumeName") in renamed:
                spec["volumeName"] = renamed[spec["volumeName"]]
        moved.append(obj)
    return moved


def namespaces_of(objects: Iterable[Obj]) -> set[str]:
    """Every namespace the objects live in or define."""
    names = set()
    for obj in objects:
        if obj["kind"] == "Namespace":
            names.add(obj["metadata"]["name"])
        elif obj["metadata"].get("namespace"):
            names.add(obj["metadata"]["namespace"])
    return names


def rename_namespaces(objects: Iterable[Obj], suffix: str) -> tuple[list[Obj], list[str]]:
    """A copy of ``objects`` with every namespace ``N`` renamed ``N-suffix``.

    Returns:
        The objects, and the renamed namespaces the objects use without defining them
        (created by someone else in a real cluster, e.g. ``argocd``): create those first.
    """
    objects = list(objects)
    moved = objects
    for name in sorted(namespaces_of(objects)):
        moved = retarget(moved, f"{name}-{suffix}", original=name)
    defined = {o["metadata"]["name"] for o in moved if o["kind"] == "Namespace"}
    used = namespaces_of(moved)
    return moved, sorted(used - defined)


@dataclass
class SyncResult:
    """What one sync did: objects applied (with their warnings) and the errors."""

    applied: dict[str, list[str]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    stopped_at_wave: int | None = None

    @property
    def warnings(self) -> dict[str, list[str]]:
        return {k: w for k, w in self.applied.items() if w}

    def report(self) -> str:
        lines = [f"{k}: {m}" for k, m in self.errors.items()]
        lines += [f"{k}: warning: {w}" for k, ws in self.warnings.items() for w in ws]
        if self.stopped_at_wave is not None:
            lines.append(f"(sync stopped at wave {self.stopped_at_wave})")
        return "\n".join(lines)


def _is_recreated_hook(obj: Obj) -> bool:
    annotations = obj["metadata"].get("annotations") or {}
    policies = annotations.get(HOOK_DELETE_POLICY, "")
    return HOOK in annotations and "BeforeHookCreation" in policies


def _delete_and_wait(client: KubeClient, obj: Obj) -> None:
    path = client.path_of(obj)
    if not client.exists(path):
        return
    client.request(
        "DELETE",
        path,
        {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"},
    )
    wait_until(lambda: not client.exists(path), 30, f"{key(obj)} to be deleted")


def sync(client: KubeClient, objects: Iterable[Obj], *, dry_run: bool = False) -> SyncResult:
    """Apply ``objects`` wave by wave; collect warnings and errors (never raises ApiError)."""
    result = SyncResult()
    for number, group in in_sync_order(objects):
        for obj in group:
            name = key(obj)
            try:
                if _is_recreated_hook(obj) and not dry_run:
                    _delete_and_wait(client, obj)
                _, warnings = client.apply(obj, dry_run=dry_run)
                result.applied[name] = warnings
            except (ApiError, KeyError) as error:
                result.errors[name] = getattr(error, "message", str(error))
        if result.errors:
            result.stopped_at_wave = number
            break
    return result


def pruned(old: Iterable[Obj], new: Iterable[Obj]) -> list[Obj]:
    """Objects of ``old`` that ``new`` no longer has: what an ArgoCD sync with prune deletes."""
    kept = {key(o) for o in new}
    return [o for o in old if key(o) not in kept]


def prune_protected(obj: Obj) -> bool:
    """True when ArgoCD never prunes ``obj`` (``Prune=false`` or ``Delete=false``)."""
    options = (obj["metadata"].get("annotations") or {}).get(SYNC_OPTIONS, "")
    return "Prune=false" in options or "Delete=false" in options

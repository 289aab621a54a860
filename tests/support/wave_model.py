"""A model of one ArgoCD sync, wave by wave, against a StorageClass binding mode.

What it reproduces from ArgoCD (gitops-engine ``pkg/sync/sync_context.go``, the
``Sync`` of v0.7, used by ArgoCD 3.x) and from Kubernetes' volume binding:

- tasks run by phase (``PreSync``, ``Sync``, ``PostSync``) then by wave; resources
  without a hook annotation are ``Sync`` tasks;
- after a wave is applied, when later waves or phases remain (a multi-step sync), the
  sync waits until every resource of that wave is healthy and every hook completed; the
  last wave's resources are *not* waited on ("if it is the last phase/wave and the only
  remaining tasks are non-hooks, then we are successful EVEN if those objects
  subsequently degraded"); ``argocd.argoproj.io/ignore-healthcheck`` plays no part in
  that wait (it only leaves the resource out of the Application's health);
- a PersistentVolumeClaim is healthy once ``Bound`` and Progressing while ``Pending``
  (gitops-engine ``pkg/health/health_pvc.go``);
- with ``Immediate`` binding a claim binds when it is created; with
  ``WaitForFirstConsumer`` only once a pod that mounts it is scheduled
  (https://kubernetes.io/docs/concepts/storage/storage-classes/#volume-binding-mode);
  the pods of a Deployment, DaemonSet, StatefulSet or Job exist as soon as the workload
  is applied; a CronJob makes none during a sync; user servers (KubeSpawner's pods) are
  not in git and start only after the sync;
- a claim reserved for a static PersistentVolume (``spec.volumeName``, no StorageClass:
  ``storageClassName: ""``) binds as soon as both exist, whatever the binding mode:
  delayed binding is a property of a StorageClass, and such a claim has none
  (https://kubernetes.io/docs/concepts/storage/persistent-volumes/#reserving-a-persistentvolume;
  ``IsDelayBindingMode`` in Kubernetes' ``pkg/controller/volume/persistentvolume/util``);
- a workload whose pods mount an unbound claim cannot start, so it is not healthy.

The model answers one question: does the first sync finish, and is the Application
healthy afterwards (argoproj/argo-cd#12840 is the deadlock it is built to find)?
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

IMMEDIATE = "Immediate"
WAIT_FOR_FIRST_CONSUMER = "WaitForFirstConsumer"
MODES = (IMMEDIATE, WAIT_FOR_FIRST_CONSUMER)

WAVE = "argocd.argoproj.io/sync-wave"
HOOK = "argocd.argoproj.io/hook"
IGNORE_HEALTH = "argocd.argoproj.io/ignore-healthcheck"
PHASES = ("PreSync", "Sync", "PostSync")
WORKLOAD_KINDS = ("Deployment", "DaemonSet", "StatefulSet", "Job", "Pod", "ReplicaSet")

Obj = dict[str, Any]


def _annotations(obj: Obj) -> dict[str, str]:
    return obj["metadata"].get("annotations") or {}


def _ref(obj: Obj) -> str:
    meta = obj["metadata"]
    ns = meta.get("namespace")
    return f"{obj['kind']}/{ns}/{meta['name']}" if ns else f"{obj['kind']}/{meta['name']}"


def _phase(obj: Obj) -> str:
    hooks = [h.strip() for h in _annotations(obj).get(HOOK, "").split(",") if h.strip()]
    for phase in PHASES:
        if phase in hooks:
            return phase
    return "Sync"


def _wave(obj: Obj) -> int:
    return int(_annotations(obj).get(WAVE, "0"))


def _pod_spec(obj: Obj) -> dict[str, Any] | None:
    if obj["kind"] == "Pod":
        return dict(obj.get("spec") or {})
    if obj["kind"] in WORKLOAD_KINDS:
        return dict(((obj.get("spec") or {}).get("template") or {}).get("spec") or {})
    return None


def claims_mounted_by(obj: Obj) -> set[tuple[str, str]]:
    """``(namespace, claim)`` of every PVC the pods of ``obj`` mount (empty if none)."""
    spec = _pod_spec(obj)
    if spec is None:
        return set()
    namespace = obj["metadata"].get("namespace", "")
    return {
        (namespace, volume["persistentVolumeClaim"]["claimName"])
        for volume in spec.get("volumes") or []
        if "persistentVolumeClaim" in volume
    }


def _claim_key(obj: Obj) -> tuple[str, str]:
    return obj["metadata"].get("namespace", ""), obj["metadata"]["name"]


@dataclass
class SyncOutcome:
    """What the modelled sync did.

    Attributes:
        completed: The operation finished (no wave waits forever).
        stuck_at: ``(phase, wave)`` the sync waits on forever, when not completed.
        waiting_for: What it waits for there (``Kind/namespace/name``), as ArgoCD's
            "waiting for healthy state of ..." message names them.
        unhealthy: Resources that keep the Application from Healthy after the sync.
        steps: ``(phase, wave, [resources applied])`` in order, for messages.
    """

    completed: bool
    stuck_at: tuple[str, int] | None = None
    waiting_for: list[str] = field(default_factory=list)
    unhealthy: list[str] = field(default_factory=list)
    steps: list[tuple[str, int, list[str]]] = field(default_factory=list)

    def describe(self) -> str:
        lines = [f"{phase} wave {wave}: {', '.join(refs)}" for phase, wave, refs in self.steps]
        if not self.completed:
            lines.append(
                f"STUCK at {self.stuck_at}: waiting for healthy state of "
                + ", ".join(self.waiting_for)
            )
        if self.unhealthy:
            lines.append("Application not Healthy because of: " + ", ".join(self.unhealthy))
        return "\n".join(lines)


def walk_waves(objects: Iterable[Obj], mode: str) -> SyncOutcome:
    """Model the first sync of ``objects`` (one Application) with binding ``mode``.

    Args:
        objects: The manifests of the Application's folder.
        mode: ``IMMEDIATE`` or ``WAIT_FOR_FIRST_CONSUMER``.

    Returns:
        The outcome; ``completed`` is False when a wave waits forever.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    tasks = sorted(objects, key=lambda o: (PHASES.index(_phase(o)), _wave(o), o["kind"], _ref(o)))
    steps = sorted({(PHASES.index(_phase(o)), _wave(o)) for o in tasks})
    applied: list[Obj] = []
    bound: set[tuple[str, str]] = set()
    outcome = SyncOutcome(completed=True)

    def healthy(obj: Obj) -> bool:
        if obj["kind"] == "PersistentVolumeClaim":
            return _claim_key(obj) in bound
        return claims_mounted_by(obj) <= bound

    for index, (phase_index, wave) in enumerate(steps):
        step = [o for o in tasks if (PHASES.index(_phase(o)), _wave(o)) == (phase_index, wave)]
        applied += step
        outcome.steps.append((PHASES[phase_index], wave, [_ref(o) for o in step]))
        claims = {_claim_key(o) for o in applied if o["kind"] == "PersistentVolumeClaim"}
        volumes = {o["metadata"]["name"] for o in applied if o["kind"] == "PersistentVolume"}
        bound |= {
            _claim_key(o)
            for o in applied
            if o["kind"] == "PersistentVolumeClaim"
            and o.get("spec", {}).get("storageClassName") == ""
            and o.get("spec", {}).get("volumeName") in volumes
        }
        if mode == IMMEDIATE:
            bound |= claims
        else:
            consumed = set().union(*(claims_mounted_by(o) for o in applied))
            bound |= claims & consumed
        last = index == len(steps) - 1
        waited = [o for o in step if HOOK in _annotations(o) or not last]
        waiting = [_ref(o) for o in waited if not healthy(o)]
        if waiting:
            outcome.completed = False
            outcome.stuck_at = (PHASES[phase_index], wave)
            outcome.waiting_for = waiting
            return outcome
    outcome.unhealthy = [
        _ref(o)
        for o in applied
        if HOOK not in _annotations(o)
        and _annotations(o).get(IGNORE_HEALTH) != "true"
        and not healthy(o)
    ]
    return outcome

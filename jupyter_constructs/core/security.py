"""The security defaults every pod we create follows: the ``restricted`` Pod Security Standard.

One place so that each rule is visible and explained once:
- run as a fixed non-root uid/gid (images differ in what they declare);
- no privilege escalation, every Linux capability dropped;
- the container runtime's default seccomp profile;
- a read-only root filesystem, with writable emptyDir/PVC mounts where needed;
- no service account token unless the pod talks to the Kubernetes API.
"""

from __future__ import annotations

from typing import Any

# Pod Security Admission labels for a namespace that enforces the restricted standard.
RESTRICTED_NAMESPACE_LABELS = {
    "pod-security.kubernetes.io/enforce": "restricted",
    "pod-security.kubernetes.io/enforce-version": "latest",
    "pod-security.kubernetes.io/audit": "restricted",
    "pod-security.kubernetes.io/warn": "restricted",
}

_RUNTIME_DEFAULT = {"type": "RuntimeDefault"}


def restricted_container(uid: int, gid: int) -> dict[str, Any]:
    """Restricted container ``securityContext`` running as ``uid:gid`` (Kubernetes JSON)."""
    return {
        "runAsNonRoot": True,
        "runAsUser": uid,
        "runAsGroup": gid,
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": dict(_RUNTIME_DEFAULT),
    }


def restricted_pod(fs_group: int | None = None, *, run_as: int | None = None) -> dict[str, Any]:
    """Restricted pod ``securityContext`` (Kubernetes JSON).

    Args:
        fs_group: Group that owns mounted volumes, so the pod can write them. Default: none.
        run_as: Run every container as this uid and gid unless it says otherwise (for
            images that declare a non-numeric user). Default: the containers decide.
    """
    context: dict[str, Any] = {"runAsNonRoot": True, "seccompProfile": dict(_RUNTIME_DEFAULT)}
    if run_as is not None:
        context["runAsUser"] = run_as
        context["runAsGroup"] = run_as
    if fs_group is not None:
        context["fsGroup"] = fs_group
    return context


def user_container_security_context() -> dict[str, Any]:
    """KubeSpawner ``container_security_context`` for user servers.

    KubeSpawner sets runAsUser/runAsGroup from ``uid``/``gid`` itself. The root
    filesystem stays writable: notebook users ``pip install --user`` and write caches.
    """
    return {
        "runAsNonRoot": True,
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": dict(_RUNTIME_DEFAULT),
    }


def user_pod_security_context() -> dict[str, Any]:
    """KubeSpawner ``pod_security_context`` for user servers (fsGroup comes from ``fs_gid``)."""
    return {"runAsNonRoot": True, "seccompProfile": dict(_RUNTIME_DEFAULT)}

"""The security defaults every pod we create follows: the ``restricted`` Pod Security Standard.

One place so that each rule is visible and explained once:
- run as a fixed non-root uid/gid (images differ in what they declare);
- no privilege escalation, every Linux capability dropped;
- the container runtime's default seccomp profile;
- a read-only root filesystem, with writable emptyDir/PVC mounts where needed;
- no service account token unless the pod talks to the Kubernetes API.
"""

from __future__ import annotations

import re
from typing import Any

from cdk8s_plus_27 import k8s

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


def restricted_pod(fs_group: int | None = None) -> dict[str, Any]:
    """Restricted pod ``securityContext``; ``fs_group`` makes mounted volumes writable."""
    context: dict[str, Any] = {"runAsNonRoot": True, "seccompProfile": dict(_RUNTIME_DEFAULT)}
    if fs_group is not None:
        context["fsGroup"] = fs_group
    return context


def container_security_context(uid: int, gid: int) -> k8s.SecurityContext:
    """``restricted_container`` as cdk8s-plus's typed struct."""
    return k8s.SecurityContext(**_snake_case(restricted_container(uid, gid)))


def pod_security_context(fs_group: int | None = None) -> k8s.PodSecurityContext:
    """``restricted_pod`` as cdk8s-plus's typed struct."""
    return k8s.PodSecurityContext(**_snake_case(restricted_pod(fs_group)))


def _snake_case(json: dict[str, Any]) -> dict[str, Any]:
    # The typed structs take Python names (runAsNonRoot -> run_as_non_root), nested too.
    return {
        re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower(): (
            _snake_case(value) if isinstance(value, dict) else value
        )
        for key, value in json.items()
    }


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

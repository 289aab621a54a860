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

from cdk8s_plus_27 import k8s

# Pod Security Admission labels for a namespace that enforces the restricted standard.
RESTRICTED_NAMESPACE_LABELS = {
    "pod-security.kubernetes.io/enforce": "restricted",
    "pod-security.kubernetes.io/enforce-version": "latest",
    "pod-security.kubernetes.io/audit": "restricted",
    "pod-security.kubernetes.io/warn": "restricted",
}

_RUNTIME_DEFAULT = {"type": "RuntimeDefault"}


def container_security_context(uid: int, gid: int) -> k8s.SecurityContext:
    """Restricted container security context running as ``uid:gid``."""
    return k8s.SecurityContext(
        run_as_non_root=True,
        run_as_user=uid,
        run_as_group=gid,
        allow_privilege_escalation=False,
        read_only_root_filesystem=True,
        capabilities=k8s.Capabilities(drop=["ALL"]),
        seccomp_profile=k8s.SeccompProfile(type="RuntimeDefault"),
    )


def pod_security_context(fs_group: int | None = None) -> k8s.PodSecurityContext:
    """Restricted pod security context; ``fs_group`` makes mounted volumes writable."""
    return k8s.PodSecurityContext(
        run_as_non_root=True,
        fs_group=fs_group,
        seccomp_profile=k8s.SeccompProfile(type="RuntimeDefault"),
    )


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

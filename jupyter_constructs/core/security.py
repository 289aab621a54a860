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


# -- scanner exceptions (checkov), scoped per object --------------------------------------

#: Annotation prefix checkov reads on an object's metadata: ``checkov.io/skip<n>`` with the
#: value ``<check id>=<reason>`` skips that check for that object only.
SCANNER_SKIP_PREFIX = "checkov.io/skip"

#: Why each check is skipped, where it is; one sentence each (no ``=``: checkov splits on it).
PULL_POLICY = (
    "IfNotPresent is deliberate: images are pinned (a release tag, a digest where verified), "
    "and a restart must not depend on the registry (the pre-puller relies on it too)"
)
HUB_ENV_VARS = (
    "JupyterHub reads its cookie secret, crypt key, proxy and service tokens only from "
    "environment variables, set by secretKeyRef"
)
PROXY_ENV_VARS = "configurable-http-proxy reads CONFIGPROXY_AUTH_TOKEN only from its environment"
TUNNEL_ENV_VARS = "cloudflared reads TUNNEL_TOKEN from its environment, set by secretKeyRef"
HUB_API_TOKEN = "KubeSpawner calls the Kubernetes API with this token (Role hub, tested)"
BOOTSTRAP_API_TOKEN = (
    "the bootstrap script fills its Secrets through the Kubernetes API with this token "
    "(get and patch on those names only, tested)"
)
HUB_IMAGE_UID = (
    "the upstream hub image's files belong to uid 1000 (z2jh's default); non-root is "
    "enforced by Pod Security"
)
NOTHING_TO_PROBE = (
    "the pause container serves nothing to probe and the init containers only pull images"
)


def scanner_exceptions(reasons: dict[str, str | None]) -> dict[str, str]:
    """Annotations that skip the checkov checks in ``reasons`` for one object.

    Args:
        reasons: Check id (``"CKV_K8S_35"``) to why this object does what the check
            forbids; a ``None`` reason means the check needs no exception here.

    Returns:
        ``{"checkov.io/skip1": "CKV_...=reason", ...}`` in check-id order.

    Raises:
        ValueError: A reason is empty or contains ``=`` (checkov splits on it).
    """
    kept = sorted((check, reason) for check, reason in reasons.items() if reason is not None)
    for check, reason in kept:
        if not reason.strip() or "=" in reason:
            raise ValueError(f"scanner exception {check}: a reason without '=' is required")
    return {
        f"{SCANNER_SKIP_PREFIX}{index}": f"{check}={reason}"
        for index, (check, reason) in enumerate(kept, start=1)
    }

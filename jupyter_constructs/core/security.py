"""The security defaults every pod we create follows: the ``restricted`` Pod Security Standard.

One place so that each rule is visible and explained once:
- run as a fixed non-root uid/gid (images differ in what they declare);
- no privilege escalation, every Linux capability dropped;
- the container runtime's default seccomp profile;
- a read-only root filesystem, with writable emptyDir/PVC mounts where needed;
- no service account token unless the pod talks to the Kubernetes API;
- volumes whose ownership the kubelet changes to ``fsGroup`` only when their root does
  not match already (``fsGroupChangePolicy: OnRootMismatch``), so a large home volume is
  not walked file by file at every start.

Containers that users add to pods (init containers, sidecars, typed or given raw through
``extra_overrides``) get the restricted settings from one function, ``secure_container``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jupyter_constructs.core.errors import Where, invalid

# Pod Security Admission labels for a namespace that enforces the restricted standard.
RESTRICTED_NAMESPACE_LABELS = {
    "pod-security.kubernetes.io/enforce": "restricted",
    "pod-security.kubernetes.io/enforce-version": "latest",
    "pod-security.kubernetes.io/audit": "restricted",
    "pod-security.kubernetes.io/warn": "restricted",
}

_RUNTIME_DEFAULT = {"type": "RuntimeDefault"}

FS_GROUP_CHANGE_POLICY = "OnRootMismatch"
"""``fsGroupChangePolicy`` of every pod with an ``fsGroup``: the kubelet changes the
ownership of a volume only when its root directory does not match yet, instead of
walking every file at every start (minutes on a large home volume).
https://kubernetes.io/docs/tasks/configure-pod-container/security-context/#configure-volume-permission-and-ownership-change-policy-for-pods
"""


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
        context["fsGroupChangePolicy"] = FS_GROUP_CHANGE_POLICY
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
    """KubeSpawner ``pod_security_context`` for user servers (fsGroup comes from ``fs_gid``).

    ``fsGroupChangePolicy: OnRootMismatch``: without it every start re-chowns the whole
    home volume to ``fs_gid``.
    """
    return {
        "runAsNonRoot": True,
        "seccompProfile": dict(_RUNTIME_DEFAULT),
        "fsGroupChangePolicy": FS_GROUP_CHANGE_POLICY,
    }


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


# -- containers users add to pods ---------------------------------------------------------

#: What the restricted standard requires of every container; a container that leaves a
#: field out gets it (https://kubernetes.io/docs/concepts/security/pod-security-standards/).
_RESTRICTED_CONTAINER_DEFAULTS: dict[str, Any] = {
    "runAsNonRoot": True,
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": dict(_RUNTIME_DEFAULT),
}
#: The same, public: what KubeSpawner's ``container_security_context`` gives the notebook
#: container before a profile's ``extra_container_config`` is merged over it.
RESTRICTED_CONTAINER_FIELDS = _RESTRICTED_CONTAINER_DEFAULTS
#: The only capability the restricted standard lets a container add.
_ADDABLE_CAPABILITIES = ("NET_BIND_SERVICE",)
_SECCOMP_TYPES = ("RuntimeDefault", "Localhost")
POD_SECURITY_STANDARDS = "https://kubernetes.io/docs/concepts/security/pod-security-standards/"


def restricted_violations(context: Mapping[str, Any]) -> list[str]:
    """What in a container ``securityContext`` breaks the ``restricted`` Pod Security Standard.

    Checks the fields a container may set (privileged, allowPrivilegeEscalation,
    runAsNonRoot, runAsUser 0, capabilities, seccompProfile, procMount, windows
    hostProcess), as the PodSecurity admission plugin does
    (k8s.io/pod-security-admission/policy, ``check_*.go``). The context is judged on its
    own: ``runAsNonRoot`` and ``seccompProfile`` must be set on it.

    Args:
        context: A container ``securityContext`` (Kubernetes JSON).

    Returns:
        One short phrase per broken rule; empty when the context is restricted.
    """
    problems = []
    if context.get("privileged") not in (None, False):
        problems.append("privileged must be false")
    if context.get("allowPrivilegeEscalation") is not False:
        problems.append("allowPrivilegeEscalation must be false")
    if context.get("runAsNonRoot") is not True:
        problems.append("runAsNonRoot must be true")
    if context.get("runAsUser") == 0:
        problems.append("runAsUser must not be 0")
    capabilities = context.get("capabilities") or {}
    if not isinstance(capabilities, Mapping):
        problems.append("capabilities must be a mapping")
    else:
        if "ALL" not in (capabilities.get("drop") or []):
            problems.append("capabilities.drop must include ALL")
        added = [c for c in capabilities.get("add") or [] if c not in _ADDABLE_CAPABILITIES]
        if added:
            problems.append(f"capabilities.add may only hold NET_BIND_SERVICE, not {added}")
    seccomp = context.get("seccompProfile")
    if not isinstance(seccomp, Mapping) or seccomp.get("type") not in _SECCOMP_TYPES:
        problems.append("seccompProfile.type must be RuntimeDefault or Localhost")
    if context.get("procMount") not in (None, "Default"):
        problems.append("procMount must be Default")
    windows = context.get("windowsOptions") or {}
    if isinstance(windows, Mapping) and windows.get("hostProcess"):
        problems.append("windowsOptions.hostProcess must be false")
    return problems


def secure_container(
    where: Where,
    what: str,
    container: Mapping[str, Any],
    *,
    uid: int | None = None,
    gid: int | None = None,
) -> dict[str, Any]:
    """A container added to a pod (init container, sidecar) under the restricted standard.

    The one place where containers that users add get their security context: typed
    ``UserContainer``s and raw containers given through a profile's ``extra_overrides``
    (KubeSpawner ``init_containers``, ``extra_containers``) alike. Fields of the
    restricted ``securityContext`` the container leaves out are filled in (non-root, no
    privilege escalation, every capability dropped, RuntimeDefault seccomp), and it runs
    as ``uid``/``gid`` unless it says otherwise, so an image whose user is root still
    starts under ``runAsNonRoot``. Fields set against the standard are refused, as are
    host ports: the namespace would refuse the pod when the user presses Start.

    Args:
        where: The construct an error names.
        what: The parameter, e.g. ``"extra_overrides['init_containers'][0]"``.
        container: The container (Kubernetes JSON).
        uid: ``runAsUser`` when the container sets none. Default: the image's user.
        gid: ``runAsGroup`` when the container sets none. Default: the image's group.

    Returns:
        A copy of ``container`` with the restricted ``securityContext`` merged in.

    Raises:
        ConfigurationError: The container is not a mapping, or it breaks the standard.
    """
    if not isinstance(container, Mapping):
        raise invalid(
            where,
            what,
            container,
            allowed="a container as a mapping (Kubernetes JSON: name, image, command...)",
            fix='pass {"name": "seed", "image": "busybox:1.36", "command": ["true"]}',
        )
    given = container.get("securityContext") or {}
    if not isinstance(given, Mapping):
        raise invalid(
            where,
            f"{what}.securityContext",
            given,
            allowed="a mapping",
            fix="leave securityContext out: the restricted one is filled in",
        )
    context: dict[str, Any] = {**_RESTRICTED_CONTAINER_DEFAULTS}
    if uid is not None:
        context["runAsUser"] = uid
    if gid is not None:
        context["runAsGroup"] = gid
    context.update(given)
    capabilities = given.get("capabilities")
    if isinstance(capabilities, Mapping) and "drop" not in capabilities:
        context["capabilities"] = {**capabilities, "drop": ["ALL"]}
    problems = restricted_violations(context)
    if problems:
        raise invalid(
            where,
            f"{what} securityContext",
            dict(given),
            allowed="what the restricted Pod Security Standard of the namespace allows ("
            + "; ".join(problems)
            + ")",
            fix="leave securityContext out (the restricted one is filled in), or set only "
            f"what the standard allows: {POD_SECURITY_STANDARDS}",
        )
    for index, port in enumerate(container.get("ports") or []):
        if isinstance(port, Mapping) and port.get("hostPort") not in (None, 0):
            raise invalid(
                where,
                f"{what}.ports[{index}].hostPort",
                port.get("hostPort"),
                allowed="no host port (the baseline and restricted standards refuse them)",
                fix="drop hostPort; reach the container through the pod's IP",
            )
    return {**container, "securityContext": context}

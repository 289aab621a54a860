"""The hub's ServiceAccount and Role (exactly what KubeSpawner uses), and the user pods' account."""

from __future__ import annotations

from constructs import Construct

from jupyter_constructs.core.objects import KubeObject

HUB_SERVICE_ACCOUNT = "hub"
USER_SERVICE_ACCOUNT = "user-server"


def hub_rbac(scope: Construct, *, labels: dict[str, str]) -> tuple[KubeObject, ...]:
    """The hub's ServiceAccount, Role and RoleBinding, all named ``hub``.

    The Role is exactly what KubeSpawner 7.0 calls (``kubespawner/spawner.py`` and
    ``reflector.py``), each verb used:

    - pods: ``list`` and ``watch`` (the pod reflector), ``create`` (start), ``delete``
      (stop). Not ``get``: KubeSpawner reads pods from its reflector only.
    - persistentvolumeclaims: ``create`` (the home volume), ``delete`` (``delete_forever``
      with ``delete_pvc``), ``get``: read back when ``create`` answers 403 (a full
      ``persistentvolumeclaims`` quota also refuses the create of a claim that exists,
      and the user's server must still start) and to find a claim of the pre-7 naming.
    - events: ``list`` and ``watch`` (the event reflector: spawn progress).

    No secrets, no services (KubeSpawner needs those only with
    ``internal_ssl``/``services_enabled``). Stated plainly: ``create`` on pods lets the hub
    start a pod that mounts any Secret of the namespace (or runs any image), so the hub's
    ServiceAccount can reach every Secret there indirectly; the namespace holds only what
    the hub and its users need, and restricted Pod Security still applies to such pods.

    Args:
        scope: The hub.
        labels: Labels of the three objects.

    Returns:
        ``(service_account, role, role_binding)``.
    """
    service_account = KubeObject(
        scope,
        "ServiceAccount",
        api_version="v1",
        kind="ServiceAccount",
        name=HUB_SERVICE_ACCOUNT,
        labels=labels,
        body={"automountServiceAccountToken": False},
    )
    role = KubeObject(
        scope,
        "Role",
        api_version="rbac.authorization.k8s.io/v1",
        kind="Role",
        name="hub",
        labels=labels,
        body={
            "rules": [
                {
                    "apiGroups": [""],
                    "resources": ["pods"],
                    "verbs": ["list", "watch", "create", "delete"],
                },
                {
                    "apiGroups": [""],
                    "resources": ["persistentvolumeclaims"],
                    "verbs": ["get", "create", "delete"],
                },
                {"apiGroups": [""], "resources": ["events"], "verbs": ["list", "watch"]},
            ]
        },
    )
    role_binding = KubeObject(
        scope,
        "RoleBinding",
        api_version="rbac.authorization.k8s.io/v1",
        kind="RoleBinding",
        name="hub",
        labels=labels,
        body={
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "hub"},
            "subjects": [{"kind": "ServiceAccount", "name": HUB_SERVICE_ACCOUNT}],
        },
    )
    return service_account, role, role_binding


def user_service_account(scope: Construct, *, labels: dict[str, str]) -> KubeObject:
    """The ServiceAccount of user pods: no token is mounted, it has no Role."""
    return KubeObject(
        scope,
        "UserServiceAccount",
        api_version="v1",
        kind="ServiceAccount",
        name=USER_SERVICE_ACCOUNT,
        labels=labels,
        body={"automountServiceAccountToken": False},
    )

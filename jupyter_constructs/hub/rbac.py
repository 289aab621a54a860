"""The hub's ServiceAccount and Role (exactly what KubeSpawner uses), and the user pods' account."""

from __future__ import annotations

from constructs import Construct

from jupyter_constructs.core.objects import KubeObject

HUB_SERVICE_ACCOUNT = "hub"
USER_SERVICE_ACCOUNT = "user-server"


def hub_rbac(
    scope: Construct, *, labels: dict[str, str], grow_claims: bool = False
) -> tuple[KubeObject, ...]:
    """The hub's ServiceAccount, Role and RoleBinding, all named ``hub``.

    The Role is exactly what KubeSpawner uses: it creates, watches and deletes user pods
    and their home PVCs, and reads events to report spawn progress. No secrets, no
    services (KubeSpawner needs those only with ``internal_ssl``/``services_enabled``).
    With ``grow_claims``, ``patch`` on PVCs too: the hub's pre-spawn hook raises an
    existing home claim's size (``hub/files/home_expansion.py``); RBAC cannot narrow a
    patch to one field, the API server refuses shrinking and changes of other fields
    of a bound claim.

    Args:
        scope: The hub.
        labels: Labels of the three objects.
        grow_claims: Allow ``patch`` on PVCs. Default: False.

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
                    "resources": ["pods", "persistentvolumeclaims"],
                    "verbs": ["get", "list", "watch", "create", "delete"],
                },
                {"apiGroups": [""], "resources": ["events"], "verbs": ["get", "list", "watch"]},
            ]
            + (
                [{"apiGroups": [""], "resources": ["persistentvolumeclaims"], "verbs": ["patch"]}]
                if grow_claims
                else []
            )
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

"""The Job that creates the hub's random secrets inside the cluster, once.

No secret value may be in ``dist/`` (it is in git), and values rendered at synth
time would change on every synth (z2jh's ``helm template`` does that, and ArgoCD then
redeploys forever). So the Secret is created in the cluster by this Job, which is
idempotent: it creates what is missing and never changes an existing value.

RBAC, stated plainly: Kubernetes cannot limit ``create`` by resource name, so the
Job's Role may create any Secret in the namespace; ``get`` and ``patch`` are limited
to the one Secret. The Job's pod template is immutable, so it is an Argo CD ``Sync``
hook with ``BeforeHookCreation``: every sync recreates it from the current template.
"""

from __future__ import annotations

from importlib import resources

from constructs import Construct

from jupyter_constructs.core import security
from jupyter_constructs.core.images import HUB_UID
from jupyter_constructs.core.objects import KubeObject, adopt
from jupyter_constructs.core.sync_waves import SyncWave
from jupyter_constructs.hub.scheduling import Placement

SCRIPT_FILE = "secret_bootstrap.py"
SCRIPT_DIR = "/etc/jupyter-constructs/bootstrap"

# Keys of the hub Secret, and the env var each reaches the hub container as.
COOKIE_SECRET_KEY = "cookie-secret"
CRYPT_KEY_KEY = "crypt-key"
PROXY_TOKEN_KEY = "proxy-token"
METRICS_TOKEN_KEY = "metrics-api-token"
SECRET_KEYS = (COOKIE_SECRET_KEY, CRYPT_KEY_KEY, PROXY_TOKEN_KEY, METRICS_TOKEN_KEY)


def bootstrap_script() -> str:
    """The text of the stdlib-only bootstrap script."""
    return resources.files("jupyter_constructs.hub.files").joinpath(SCRIPT_FILE).read_text("utf-8")


class HubSecretBootstrap(Construct):
    """ServiceAccount, Role, RoleBinding, script ConfigMap and Job creating ``secret_name``.

    Args:
        scope: The hub.
        id: Construct id.
        secret_name: The Secret the Job creates.
        image: The image the Job runs (the hub image: it has Python).
        labels: Labels of every object and of the Job's pod.
        placement: The core pool's node affinity and tolerations. Default: none.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        secret_name: str,
        image: str,
        labels: dict[str, str],
        placement: Placement | None = None,
    ) -> None:
        super().__init__(scope, id)
        adopt(self, scope, id)
        name = f"{secret_name}-bootstrap"
        self.service_account = KubeObject(
            self,
            "ServiceAccount",
            api_version="v1",
            kind="ServiceAccount",
            name=name,
            labels=labels,
            body={"automountServiceAccountToken": False},
        )
        self.role = KubeObject(
            self,
            "Role",
            api_version="rbac.authorization.k8s.io/v1",
            kind="Role",
            name=name,
            labels=labels,
            body={
                "rules": [
                    # Limited to the one Secret.
                    {
                        "apiGroups": [""],
                        "resources": ["secrets"],
                        "resourceNames": [secret_name],
                        "verbs": ["get", "patch"],
                    },
                    # RBAC cannot restrict create by name: any Secret in this namespace.
                    {"apiGroups": [""], "resources": ["secrets"], "verbs": ["create"]},
                ]
            },
        )
        self.role_binding = KubeObject(
            self,
            "RoleBinding",
            api_version="rbac.authorization.k8s.io/v1",
            kind="RoleBinding",
            name=name,
            labels=labels,
            body={
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
                "subjects": [{"kind": "ServiceAccount", "name": name}],
            },
        )
        self.config_map = KubeObject(
            self,
            "Script",
            api_version="v1",
            kind="ConfigMap",
            name=name,
            labels=labels,
            body={"data": {SCRIPT_FILE: bootstrap_script()}},
        )
        container = {
            "name": "bootstrap",
            "image": image,
            "command": ["python3", f"{SCRIPT_DIR}/{SCRIPT_FILE}"],
            "env": [
                {"name": "SECRET_NAME", "value": secret_name},
                {"name": "SECRET_KEYS", "value": ",".join(SECRET_KEYS)},
                {
                    "name": "POD_NAMESPACE",
                    "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}},
                },
            ],
            "resources": {
                "requests": {"cpu": "10m", "memory": "32Mi"},
                "limits": {"cpu": "200m", "memory": "128Mi"},
            },
            "securityContext": security.restricted_container(HUB_UID, HUB_UID),
            "volumeMounts": [{"name": "script", "mountPath": SCRIPT_DIR, "readOnly": True}],
        }
        self.job = KubeObject(
            self,
            "Job",
            api_version="batch/v1",
            kind="Job",
            name=name,
            labels=labels,
            # An ArgoCD Sync hook recreated before each sync: a Job's pod template is
            # immutable, so a changed Job could not be applied in place.
            annotations={
                "argocd.argoproj.io/hook": "Sync",
                "argocd.argoproj.io/hook-delete-policy": "BeforeHookCreation",
            },
            wave=SyncWave.SECRET_BOOTSTRAP,
            body={
                "spec": {
                    "backoffLimit": 6,
                    "activeDeadlineSeconds": 600,
                    "template": {
                        "metadata": {"labels": labels},
                        "spec": {
                            "serviceAccountName": name,
                            # The one pod that talks to the Kubernetes API.
                            "automountServiceAccountToken": True,
                            "restartPolicy": "OnFailure",
                            "securityContext": security.restricted_pod(),
                            "containers": [container],
                            "volumes": [{"name": "script", "configMap": {"name": name}}],
                            **(placement.pod_fields() if placement else {}),
                        },
                    },
                }
            },
        )


__all__ = ["SECRET_KEYS", "HubSecretBootstrap", "bootstrap_script"]

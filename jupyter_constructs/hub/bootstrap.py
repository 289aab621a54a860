"""The Job that fills the hub's random secrets inside the cluster, once.

No secret value may be in ``dist/`` (it is in git), and values rendered at synth
time would change on every synth (z2jh's ``helm template`` does that, and ArgoCD then
redeploys forever). So the values are generated in the cluster by this Job, which is
idempotent: it fills what is missing (or too short to be a secret) and never changes a
good value.

The Secrets themselves are rendered, empty (``type: Opaque``, no ``data``), with ArgoCD's
``Prune=false,Delete=false``: ArgoCD creates them and never deletes them (losing the
cookie secret logs everyone out; losing the crypt key loses every user's stored tokens).
The Job only fills them, so its Role is ``get`` and ``patch`` on those names and nothing
else: no ``create``, which Kubernetes could not have limited to a name. Each service token
(the metrics token) has a Secret of its own, so whatever reads it (Prometheus) cannot read
the cookie secret, the crypt key or the proxy token. The Job's pod template is immutable,
so it is an Argo CD ``Sync`` hook with ``BeforeHookCreation``: every sync recreates it from
the current template.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from importlib import resources
from typing import Any

from constructs import Construct

from jupyter_constructs.core import security
from jupyter_constructs.core.images import HUB_UID, unpinned_reason
from jupyter_constructs.core.objects import KubeObject, adopt
from jupyter_constructs.core.sync_waves import SYNC_OPTIONS_ANNOTATION, SyncWave
from jupyter_constructs.hub.scheduling import Placement

SCRIPT_FILE = "secret_bootstrap.py"
SCRIPT_DIR = "/etc/jupyter-constructs/bootstrap"

# Keys of the hub Secret, and the env var each reaches the hub container as.
COOKIE_SECRET_KEY = "cookie-secret"
CRYPT_KEY_KEY = "crypt-key"
PROXY_TOKEN_KEY = "proxy-token"
METRICS_TOKEN_KEY = "metrics-api-token"
#: The keys of the hub Secret (``hub-secrets``).
HUB_SECRET_KEYS = (COOKIE_SECRET_KEY, CRYPT_KEY_KEY, PROXY_TOKEN_KEY)
#: Every key the bootstrap generates, service tokens included.
SECRET_KEYS = (*HUB_SECRET_KEYS, METRICS_TOKEN_KEY)
#: ArgoCD never prunes or deletes these Secrets (they hold what every session depends on).
KEEP_SYNC_OPTIONS = "Prune=false,Delete=false"


def bootstrap_script() -> str:
    """The text of the stdlib-only bootstrap script."""
    return resources.files("jupyter_constructs.hub.files").joinpath(SCRIPT_FILE).read_text("utf-8")


class HubSecretBootstrap(Construct):
    """Empty Secrets, and the Job (ServiceAccount, Role, RoleBinding, script) filling them.

    Args:
        scope: The hub.
        id: Construct id.
        secret_name: The hub Secret (keys ``HUB_SECRET_KEYS``).
        image: The image the Job runs (the hub image: it has Python).
        labels: Labels of every object and of the Job's pod.
        placement: The core pool's node affinity and tolerations. Default: none.

    Attributes:
        secrets: The rendered Secrets by name (``add_secret`` adds more).
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
        self._labels = labels
        self._placement = placement
        self._keys: dict[str, list[str]] = {}
        self.secrets: dict[str, KubeObject] = {}
        self.add_secret(secret_name, HUB_SECRET_KEYS)
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
            # Read and fill the rendered Secrets, by name; nothing else (no create).
            body=lambda: {
                "rules": [
                    {
                        "apiGroups": [""],
                        "resources": ["secrets"],
                        "resourceNames": sorted(self._keys),
                        "verbs": ["get", "patch"],
                    }
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
                **security.scanner_exceptions(
                    {
                        "CKV_K8S_15": security.PULL_POLICY,
                        "CKV_K8S_38": security.BOOTSTRAP_API_TOKEN,
                        "CKV_K8S_40": security.HUB_IMAGE_UID,
                        "CKV_K8S_43": unpinned_reason([image]),
                    }
                ),
            },
            wave=SyncWave.SECRET_BOOTSTRAP,
            body=lambda: self._job_body(name, image),
        )

    def snapshot(self) -> tuple[dict[str, list[str]], dict[str, KubeObject]]:
        """The Secrets rendered so far, for ``restore`` (a failed add-on leaves no trace)."""
        return {n: list(k) for n, k in self._keys.items()}, dict(self.secrets)

    def restore(self, snapshot: tuple[dict[str, list[str]], dict[str, KubeObject]]) -> None:
        """Go back to a ``snapshot``: the Job fills, and its Role names, only those Secrets.

        The Secret objects added since are removed by the caller (``core.objects``).
        """
        keys, secrets = snapshot
        self._keys = {n: list(k) for n, k in keys.items()}
        self.secrets = dict(secrets)

    def add_secret(self, name: str, keys: Sequence[str]) -> KubeObject:
        """Render Secret ``name`` (empty) and have the Job fill ``keys`` in it.

        Args:
            name: The Secret's name (unique in the namespace).
            keys: The keys the Job fills with random values.

        Returns:
            The rendered Secret.

        Raises:
            ValueError: ``name`` is already rendered.
        """
        if name in self._keys:
            raise ValueError(f"secret bootstrap: Secret {name!r} is already rendered")
        self._keys[name] = list(keys)
        self.secrets[name] = KubeObject(
            self,
            f"Secret-{name}",
            api_version="v1",
            kind="Secret",
            name=name,
            labels=self._labels,
            # The Job writes the values; ArgoCD must never remove the object holding them.
            annotations={SYNC_OPTIONS_ANNOTATION: KEEP_SYNC_OPTIONS},
            body={"type": "Opaque"},
        )
        return self.secrets[name]

    @property
    def secret_keys(self) -> dict[str, list[str]]:
        """Secret name to the keys the Job fills (the Job's ``SECRETS``)."""
        return {name: list(keys) for name, keys in sorted(self._keys.items())}

    def _job_body(self, name: str, image: str) -> dict[str, Any]:
        container = {
            "name": "bootstrap",
            "image": image,
            "command": ["python3", f"{SCRIPT_DIR}/{SCRIPT_FILE}"],
            "env": [
                {"name": "SECRETS", "value": json.dumps(self.secret_keys, sort_keys=True)},
                # The Secrets are rendered; the Role could not create one anyway.
                {"name": "CREATE_SECRET", "value": "false"},
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
        return {
            "spec": {
                "backoffLimit": 6,
                "activeDeadlineSeconds": 600,
                "template": {
                    "metadata": {"labels": self._labels},
                    "spec": {
                        "serviceAccountName": name,
                        # The one pod that talks to the Kubernetes API.
                        "automountServiceAccountToken": True,
                        "restartPolicy": "OnFailure",
                        "securityContext": security.restricted_pod(),
                        "containers": [container],
                        "volumes": [{"name": "script", "configMap": {"name": name}}],
                        **(self._placement.pod_fields() if self._placement else {}),
                    },
                },
            }
        }


__all__ = ["HUB_SECRET_KEYS", "SECRET_KEYS", "HubSecretBootstrap", "bootstrap_script"]

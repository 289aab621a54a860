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

from cdk8s_plus_27 import k8s
from constructs import Construct

from jupyter_constructs.core import security
from jupyter_constructs.core.images import HUB_UID
from jupyter_constructs.delivery.gitops import SYNC_WAVE_ANNOTATION, SyncWave

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
    """ServiceAccount, Role, RoleBinding, script ConfigMap and Job creating ``secret_name``."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        secret_name: str,
        image: str,
        labels: dict[str, str],
    ) -> None:
        super().__init__(scope, id)
        name = f"{secret_name}-bootstrap"

        def meta() -> k8s.ObjectMeta:
            return k8s.ObjectMeta(name=name, labels=labels)

        self.service_account = k8s.KubeServiceAccount(
            self,
            "ServiceAccount",
            metadata=meta(),
            automount_service_account_token=False,
        )
        self.role = k8s.KubeRole(
            self,
            "Role",
            metadata=meta(),
            rules=[
                # Limited to the one Secret.
                k8s.PolicyRule(
                    api_groups=[""],
                    resources=["secrets"],
                    resource_names=[secret_name],
                    verbs=["get", "patch"],
                ),
                # RBAC cannot restrict create by name: any Secret in this namespace.
                k8s.PolicyRule(api_groups=[""], resources=["secrets"], verbs=["create"]),
            ],
        )
        self.role_binding = k8s.KubeRoleBinding(
            self,
            "RoleBinding",
            metadata=meta(),
            role_ref=k8s.RoleRef(api_group="rbac.authorization.k8s.io", kind="Role", name=name),
            subjects=[k8s.Subject(kind="ServiceAccount", name=name)],
        )
        self.config_map = k8s.KubeConfigMap(
            self,
            "Script",
            metadata=meta(),
            data={SCRIPT_FILE: bootstrap_script()},
        )
        self.job = k8s.KubeJob(
            self,
            "Job",
            metadata=k8s.ObjectMeta(
                name=name,
                labels=labels,
                annotations={
                    SYNC_WAVE_ANNOTATION: str(int(SyncWave.SECRET_BOOTSTRAP)),
                    "argocd.argoproj.io/hook": "Sync",
                    "argocd.argoproj.io/hook-delete-policy": "BeforeHookCreation",
                },
            ),
            spec=k8s.JobSpec(
                backoff_limit=6,
                active_deadline_seconds=600,
                template=k8s.PodTemplateSpec(
                    metadata=k8s.ObjectMeta(labels=labels),
                    spec=k8s.PodSpec(
                        service_account_name=name,
                        # The one pod that talks to the Kubernetes API.
                        automount_service_account_token=True,
                        restart_policy="OnFailure",
                        security_context=security.pod_security_context(),
                        containers=[
                            k8s.Container(
                                name="bootstrap",
                                image=image,
                                command=["python3", f"{SCRIPT_DIR}/{SCRIPT_FILE}"],
                                env=[
                                    k8s.EnvVar(name="SECRET_NAME", value=secret_name),
                                    k8s.EnvVar(name="SECRET_KEYS", value=",".join(SECRET_KEYS)),
                                    k8s.EnvVar(
                                        name="POD_NAMESPACE",
                                        value_from=k8s.EnvVarSource(
                                            field_ref=k8s.ObjectFieldSelector(
                                                field_path="metadata.namespace"
                                            )
                                        ),
                                    ),
                                ],
                                resources=k8s.ResourceRequirements(
                                    requests={
                                        "cpu": k8s.Quantity.from_string("10m"),
                                        "memory": k8s.Quantity.from_string("32Mi"),
                                    },
                                    limits={
                                        "cpu": k8s.Quantity.from_string("200m"),
                                        "memory": k8s.Quantity.from_string("128Mi"),
                                    },
                                ),
                                security_context=security.container_security_context(
                                    HUB_UID, HUB_UID
                                ),
                                volume_mounts=[
                                    k8s.VolumeMount(
                                        name="script", mount_path=SCRIPT_DIR, read_only=True
                                    )
                                ],
                            )
                        ],
                        volumes=[
                            k8s.Volume(
                                name="script", config_map=k8s.ConfigMapVolumeSource(name=name)
                            )
                        ],
                    ),
                ),
            ),
        )


__all__ = ["SECRET_KEYS", "HubSecretBootstrap", "bootstrap_script"]

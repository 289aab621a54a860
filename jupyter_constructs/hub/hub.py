"""``JupyterHub``: hub, proxy, ingress, RBAC, secrets bootstrap and the generated hub config."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import cdk8s
import jsii
from cdk8s_plus_27 import k8s
from constructs import Construct, IValidation

from jupyter_constructs.core import security
from jupyter_constructs.core._utils import (
    LateApiObject,
    attach_binding,
    check_dns_label,
    check_domain,
    check_image,
    sha256_of,
)
from jupyter_constructs.core.errors import ConfigurationError, invalid
from jupyter_constructs.core.images import (
    DEFAULT_NOTEBOOK_IMAGE,
    HUB_IMAGE,
    HUB_UID,
    NOTEBOOK_FS_GID,
    NOTEBOOK_UID,
    PROXY_IMAGE,
)
from jupyter_constructs.core.quantities import Resources, Usage
from jupyter_constructs.core.secrets import SecretRef
from jupyter_constructs.hub.auth import AuthSettings, HubAuth
from jupyter_constructs.hub.bootstrap import (
    COOKIE_SECRET_KEY,
    CRYPT_KEY_KEY,
    PROXY_TOKEN_KEY,
    HubSecretBootstrap,
)
from jupyter_constructs.hub.config import (
    CONFIG_FILE,
    SETTINGS_FILE,
    HubConfig,
    static_config_source,
)
from jupyter_constructs.hub.culler import SERVICE_NAME as CULLER_SERVICE
from jupyter_constructs.hub.culler import IdleCuller
from jupyter_constructs.hub.database import HUB_DATA_DIR, HubDatabase
from jupyter_constructs.hub.ingress import HubIngress, IngressOptions
from jupyter_constructs.hub.network import HubNetworkPolicies, NetworkOptions
from jupyter_constructs.hub.prepuller import ImagePuller, placement_key
from jupyter_constructs.hub.profiles import NotebookProfile
from jupyter_constructs.hub.proxy import (
    API_PORT,
    API_SERVICE,
    HTTP_PORT,
    METRICS_PORT,
    PUBLIC_SERVICE,
    HubProxy,
)
from jupyter_constructs.hub.proxy import DEFAULT_RESOURCES as PROXY_RESOURCES
from jupyter_constructs.hub.quota import (
    ContainerLimits,
    NamespaceQuota,
    capacity,
    limit_range_excess,
    shortfall,
)
from jupyter_constructs.hub.storage import HOME_MOUNT_PATH, SharedData, UserStorage

if TYPE_CHECKING:
    from jupyter_constructs.addons.bindings.binding import PlatformServiceBinding

HUB_PORT = 8081
HUB_SERVICE = "hub"
HUB_SERVICE_ACCOUNT = "hub"
USER_SERVICE_ACCOUNT = "user-server"
CONFIG_DIR = "/usr/local/etc/jupyterhub"
DEFAULT_HUB_RESOURCES = Resources("500m", "2", "1Gi", "4Gi")
APP_NAME = "jupyterhub"
# Frozen value objects, so sharing one default instance is safe.
DEFAULT_IDLE_CULLER = IdleCuller()
DEFAULT_QUOTA = NamespaceQuota()
DEFAULT_CONTAINER_LIMITS = ContainerLimits()
DEFAULT_NETWORK = NetworkOptions()


class JupyterHub(Construct):
    """A production JupyterHub in the chart's namespace.

    Renders: Namespace (restricted Pod Security), hub Deployment (exactly one replica,
    ``Recreate``), hub Service (8081), the proxy and its ``proxy-api``/``proxy-public``
    Services, an Ingress with TLS, ServiceAccounts, a namespaced Role for KubeSpawner,
    the hub ConfigMap with the generated config, the hub database volume, and the Job
    that creates the hub's secrets in the cluster.

    Required: ``domain`` (host name users open) and ``auth`` (``OidcAuth``,
    ``CloudflareAccessAuth``). The chart must have a namespace. Defaults:

    - ``database``: ``HubDatabase.sqlite_pvc()`` (1Gi PVC).
    - ``replicas``: 1, the only allowed value (the hub owns its database and its
      in-memory state; two hubs corrupt sqlite and race on spawns).
    - ``hub_image``/``proxy_image``: the pinned upstream images in ``images.py``.
    - ``hub_resources``: 500m/2 CPU, 1Gi/4Gi memory (request/limit).
    - ``ingress``: ``IngressOptions()`` (nginx, TLS Secret ``jupyterhub-tls``).
    - ``existing_secret``: ``None``: the bootstrap Job creates Secret ``hub-secrets``. When
      given, that Secret must hold keys cookie-secret, crypt-key, proxy-token and
      (for metrics) metrics-api-token, and no Job is rendered.
    - ``create_namespace``: True, with Pod Security Admission ``enforce: restricted``.
    - ``notebook_image``: image of user servers when a profile names none.
    - ``start_timeout``: 300 s for a user server to start.
    - ``user_storage``: ``UserStorage()``: a 10Gi home PVC ``claim-{username}`` per user.
    - ``shared_data``: ``None``; ``SharedData()`` adds a 50Gi ReadWriteMany volume that
      every user pod mounts at /home/jovyan/shared.
    - ``idle_culler``: ``IdleCuller()``: stop servers idle for an hour.
    - ``quota``/``container_limits``: a ResourceQuota and a LimitRange for the namespace,
      checked against every profile at synth; ``None`` renders neither.
    - ``image_puller``: True: DaemonSets keep every profile image pulled on its nodes.
    - ``network``: ``NetworkOptions()``: default-deny NetworkPolicies for the namespace
      and one policy per component (see ``network.py`` and docs/security.md); profiles
      with ``internet_access=True`` get public internet egress. ``None`` renders no
      NetworkPolicy at all.

    Profiles: at least one, exactly one of them the default (``add_profile``).

    One hub per namespace: object names (``hub``, ``proxy-api``, ``proxy-public``) are
    fixed and documented, because other systems (tunnels, dashboards, runbooks) use them.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        domain: str,
        auth: HubAuth,
        database: HubDatabase | None = None,
        replicas: int = 1,
        hub_image: str = HUB_IMAGE,
        proxy_image: str = PROXY_IMAGE,
        notebook_image: str = DEFAULT_NOTEBOOK_IMAGE,
        hub_resources: Resources = DEFAULT_HUB_RESOURCES,
        ingress: IngressOptions | None = None,
        existing_secret: str | None = None,
        create_namespace: bool = True,
        start_timeout: int = 300,
        admin_users: Sequence[str] = (),
        user_storage: UserStorage | None = None,
        shared_data: SharedData | None = None,
        idle_culler: IdleCuller | None = DEFAULT_IDLE_CULLER,
        quota: NamespaceQuota | None = DEFAULT_QUOTA,
        container_limits: ContainerLimits | None = DEFAULT_CONTAINER_LIMITS,
        image_puller: bool = True,
        network: NetworkOptions | None = DEFAULT_NETWORK,
    ) -> None:
        super().__init__(scope, id)
        chart = cdk8s.Chart.of(self)
        namespace = chart.namespace
        if not namespace:
            raise invalid(
                self,
                "chart namespace",
                namespace,
                allowed="a Chart created with namespace=...",
                fix='create the chart as Chart(app, "jupyterhub", namespace="jupyter")',
            )
        self.namespace: str = check_dns_label(self, "namespace", namespace)
        self.domain: str = check_domain(self, domain)
        if replicas != 1:
            raise invalid(
                self,
                "replicas",
                replicas,
                allowed="1",
                fix="remove replicas=: JupyterHub keeps state in its database and in memory "
                "and must own its database; two hubs corrupt sqlite and race on spawns. "
                "For availability use HubDatabase.postgres(...); user servers keep running "
                "while the hub restarts",
            )
        if not isinstance(auth, HubAuth):
            raise invalid(
                self,
                "auth",
                type(auth).__name__,
                allowed="an OidcAuth or CloudflareAccessAuth (a HubAuth)",
                fix="pass auth=OidcAuth(...) or auth=CloudflareAccessAuth(...); there is "
                "deliberately no open or dummy authenticator",
            )
        for what, image in (
            ("hub_image", hub_image),
            ("proxy_image", proxy_image),
            ("notebook_image", notebook_image),
        ):
            check_image(self, what, image)
        if existing_secret is not None:
            check_dns_label(self, "existing_secret", existing_secret)
        if start_timeout <= 0:
            raise invalid(
                self, "start_timeout", start_timeout, allowed="seconds > 0", fix="e.g. 300"
            )
        self._check_one_hub_per_namespace(chart)

        self.database = database or HubDatabase.sqlite_pvc()
        self.database.check(self)
        self.hub_resources = hub_resources.checked(self, "hub_resources")
        self.auth_settings: AuthSettings = auth.settings(self, domain=self.domain)
        self.secret_name: str = existing_secret or "hub-secrets"
        self.hub_service_name = HUB_SERVICE
        self.hub_port = HUB_PORT
        self.proxy_api_service_name = API_SERVICE
        self.proxy_public_service_name = PUBLIC_SERVICE
        self.proxy_public_port = 80
        self.proxy_http_port = HTTP_PORT
        self.proxy_metrics_port = METRICS_PORT
        self.user_service_account_name = USER_SERVICE_ACCOUNT
        self.notebook_image = notebook_image
        self.hub_image = hub_image
        self.config = HubConfig()
        self._profiles: list[NotebookProfile] = []
        self._bindings: list[PlatformServiceBinding] = []
        self._pullers: list[ImagePuller] = []
        self.image_puller_enabled = image_puller
        self.user_storage = (user_storage or UserStorage()).check(self)
        self.shared_data = shared_data.check(self) if shared_data else None
        self.idle_culler = idle_culler.check(self) if idle_culler else None
        self.quota = quota.check(self) if quota else None
        self.container_limits = container_limits.check(self) if container_limits else None

        if create_namespace:
            self.namespace_object: k8s.KubeNamespace | None = k8s.KubeNamespace(
                self,
                "Namespace",
                metadata=k8s.ObjectMeta(
                    name=self.namespace,
                    labels={**security.RESTRICTED_NAMESPACE_LABELS},
                ),
            )
            # A Namespace is cluster-scoped; the chart would otherwise stamp its own namespace.
            self.namespace_object.add_json_patch(cdk8s.JsonPatch.remove("/metadata/namespace"))
        else:
            self.namespace_object = None

        self.secret_bootstrap: HubSecretBootstrap | None = None
        if existing_secret is None:
            self.secret_bootstrap = HubSecretBootstrap(
                self,
                "SecretBootstrap",
                secret_name=self.secret_name,
                image=hub_image,
                labels=self.labels("secret-bootstrap"),
            )

        self._hub_rbac()
        self._user_service_account()
        self._configure(start_timeout=start_timeout, admin_users=admin_users)
        if self.idle_culler is not None:
            self.add_hub_service(
                CULLER_SERVICE,
                scopes=self.idle_culler.scopes(),
                command=self.idle_culler.command(),
            )
        self._storage_objects()
        self._quota_objects()
        self.config_map = LateApiObject(
            self,
            "Config",
            api_version="v1",
            kind="ConfigMap",
            name="hub-config",
            labels=self.labels("hub"),
            render=lambda: {"data": self.config_files()},
        )
        self.pvc: k8s.KubePersistentVolumeClaim | None = None
        if self.database.uses_volume:
            self.pvc = k8s.KubePersistentVolumeClaim(
                self,
                "DatabaseVolume",
                metadata=k8s.ObjectMeta(name="hub-db-dir", labels=self.labels("hub")),
                spec=k8s.PersistentVolumeClaimSpec(
                    access_modes=["ReadWriteOnce"],
                    storage_class_name=self.database.storage_class,
                    resources=k8s.ResourceRequirements(
                        requests={"storage": k8s.Quantity.from_string(self.database.size)}
                    ),
                ),
            )
        self.deployment = LateApiObject(
            self,
            "Deployment",
            api_version="apps/v1",
            kind="Deployment",
            name="hub",
            labels=self.labels("hub"),
            render=self._render_deployment,
        )
        self.service = k8s.KubeService(
            self,
            "Service",
            metadata=k8s.ObjectMeta(name=HUB_SERVICE, labels=self.labels("hub")),
            spec=k8s.ServiceSpec(
                selector=self.selector_labels("hub"),
                ports=[
                    k8s.ServicePort(
                        name="http", port=HUB_PORT, target_port=k8s.IntOrString.from_string("http")
                    )
                ],
            ),
        )
        self.proxy = HubProxy(
            self,
            "Proxy",
            image=proxy_image,
            hub_url=f"http://{HUB_SERVICE}:{HUB_PORT}",
            auth_token=SecretRef(self.secret_name, PROXY_TOKEN_KEY),
            labels=self.labels("proxy"),
            selector=self.selector_labels("proxy"),
        )
        self.proxy_deployment = self.proxy.deployment
        self.proxy_service = self.proxy.public_service
        self.proxy_api_service = self.proxy.api_service
        ingress_options = ingress or IngressOptions()
        self.ingress: HubIngress | None = None
        if ingress_options.enabled:
            self.ingress = HubIngress(
                self,
                "Ingress",
                domain=self.domain,
                options=ingress_options,
                labels=self.labels("proxy"),
            )
        self.network_options = network
        self.network: HubNetworkPolicies | None = None
        if network is not None:
            self.network = HubNetworkPolicies(self, "NetworkPolicies", hub=self, options=network)
        self.node.add_validation(_HubValidation(self))

    # -- labels -------------------------------------------------------------------------

    def selector_labels(self, component: str) -> dict[str, str]:
        """Labels that select the pods of ``component`` (hub, proxy, singleuser-server, ...)."""
        return {
            "app.kubernetes.io/name": APP_NAME,
            "app.kubernetes.io/instance": self.namespace,
            "app.kubernetes.io/component": component,
        }

    def labels(self, component: str) -> dict[str, str]:
        """Selector labels plus the informational ones."""
        return {
            **self.selector_labels(component),
            "app.kubernetes.io/part-of": APP_NAME,
            "app.kubernetes.io/managed-by": "jupyter-constructs",
        }

    @property
    def proxy_pod_labels(self) -> dict[str, str]:
        """Labels selecting the proxy pods (for NetworkPolicies of other constructs)."""
        return self.selector_labels("proxy")

    def user_pod_labels(self) -> dict[str, str]:
        """Labels KubeSpawner adds to every user pod (besides its own component label)."""
        return {"app.kubernetes.io/instance": self.namespace, "app.kubernetes.io/part-of": APP_NAME}

    # -- profiles and bindings ----------------------------------------------------------

    def add_profile(self, slug: str, *, display_name: str, **options: Any) -> NotebookProfile:
        """Create a ``NotebookProfile`` (its options are documented there) and attach it."""
        profile = NotebookProfile(
            self, f"Profile-{slug}", slug=slug, display_name=display_name, **options
        )
        self.attach_profile(profile)
        return profile

    def attach_profile(self, profile: NotebookProfile) -> None:
        """Attach a profile built elsewhere. Slugs must be unique."""
        if any(p.slug == profile.slug for p in self._profiles):
            raise invalid(
                self,
                "profile slug",
                profile.slug,
                allowed="a slug not used by another profile",
                fix="give each profile its own slug",
            )
        profile._hub = self
        self._profiles.append(profile)
        if self.image_puller_enabled:
            self._pull_images_of(profile)
        if self.network is not None and profile.internet_access:
            self.network.allow_profile_internet(profile)

    def add_binding(self, binding: PlatformServiceBinding) -> None:
        """Give every profile's servers access to ``binding``'s service."""
        attach_binding(self, self._bindings, binding)

    def user_volumes(
        self, *, shared_read_only: bool
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """KubeSpawner ``volumes`` and ``volume_mounts`` of user pods: home, shared data."""
        volumes: list[dict[str, Any]] = [
            {"name": "home", "persistentVolumeClaim": {"claimName": "{pvc_name}"}}
        ]
        mounts: list[dict[str, Any]] = [{"name": "home", "mountPath": HOME_MOUNT_PATH}]
        if self.shared_data is not None:
            volumes.append(
                {
                    "name": "shared-data",
                    "persistentVolumeClaim": {"claimName": self.shared_data.claim_name},
                }
            )
            mounts.append(
                {
                    "name": "shared-data",
                    "mountPath": self.shared_data.mount_path,
                    "readOnly": shared_read_only,
                }
            )
        return volumes, mounts

    def reserved_usage(self) -> Usage:
        """What the hub and proxy pods take from the quota before any user server."""
        return self.hub_resources.usage() + PROXY_RESOURCES.usage()

    def capacity_summary(self) -> dict[str, tuple[int, str]]:
        """For each profile: how many servers of only that profile the quota admits at once,
        and the quota item that limits it. Empty without a quota.
        """
        if self.quota is None:
            return {}
        reserved = self.reserved_usage()
        return {p.slug: capacity(self.quota, reserved, p.usage()) for p in self._profiles}

    def format_capacity(self) -> str:
        """``capacity_summary`` as lines a person reads after synth."""
        lines = [f"capacity of namespace {self.namespace} (servers of one profile at once):"]
        for slug, (count, limit) in self.capacity_summary().items():
            lines.append(f"  {slug}: {count} (limited by {limit})")
        return "\n".join(lines)

    def _pull_images_of(self, profile: NotebookProfile) -> None:
        key = placement_key(profile)
        for puller in self._pullers:
            if puller.key == key:
                puller.add(profile)
                return
        name = "image-puller" if not self._pullers else f"image-puller-{profile.slug}"
        self._pullers.append(
            ImagePuller(
                self,
                f"ImagePuller-{profile.slug}",
                name=name,
                labels={**self.labels("image-puller"), "hub.jupyter.org/image-puller": name},
                selector={
                    **self.selector_labels("image-puller"),
                    "hub.jupyter.org/image-puller": name,
                },
                first_profile=profile,
            )
        )

    @property
    def profiles(self) -> list[NotebookProfile]:
        """The notebook profiles, in the order users see them."""
        return list(self._profiles)

    @property
    def bindings(self) -> list[PlatformServiceBinding]:
        """Bindings given to every profile (``add_binding``)."""
        return list(self._bindings)

    # -- hub services (metrics scrapers, culler, ...) ------------------------------------

    def add_hub_service(
        self,
        name: str,
        *,
        scopes: Sequence[str],
        api_token_secret_key: str | None = None,
        command: Sequence[str] | None = None,
    ) -> None:
        """Declare a JupyterHub service with a role granting exactly ``scopes``.

        ``api_token_secret_key``: the key of the hub Secret holding the service's token
        (external services such as Prometheus). ``command``: a hub-managed service the hub
        starts itself (its token is generated by the hub).
        """
        check_dns_label(self, "hub service name", name)
        service: dict[str, Any] = {"name": name}
        if api_token_secret_key is not None:
            env_var = "JUPYTERHUB_SERVICE_TOKEN_" + name.upper().replace("-", "_")
            service["api_token_env"] = env_var
            self._service_token_env[env_var] = SecretRef(self.secret_name, api_token_secret_key)
        if command is not None:
            service["command"] = list(command)
        try:
            self.config.add_service(service)
            self.config.add_role(
                {"name": f"{name}-service", "scopes": list(scopes), "services": [name]}
            )
        except ValueError as err:
            raise invalid(
                self,
                "hub service",
                name,
                allowed="a name not used yet",
                fix="give each hub service its own name",
            ) from err

    # -- rendering ----------------------------------------------------------------------

    def config_files(self) -> dict[str, str]:
        """The hub ConfigMap's files: static config, rendered settings, auth modules."""
        files = {CONFIG_FILE: static_config_source(), SETTINGS_FILE: self.rendered_config()}
        files.update(self.auth_settings.files)
        return dict(sorted(files.items()))

    def rendered_config(self) -> str:
        """``hub_config.json`` with every profile and binding added so far."""
        self._apply_profiles()
        return self.config.render()

    def _apply_profiles(self) -> None:
        # Profiles render their KubeSpawner profile_list entries; done late so that
        # add_profile/add_binding calls made after construction are included.
        self.config.replace(
            "KubeSpawner", "profile_list", [p.to_profile_entry() for p in self._profiles]
        )

    def validation_errors(self) -> list[str]:
        """Checks that need every profile: one default, quota and LimitRange fit."""
        if not self._profiles:
            return [
                str(
                    invalid(
                        self,
                        "profiles",
                        [],
                        allowed="at least one NotebookProfile",
                        fix='call hub.add_profile("small", display_name="Small", '
                        "default=True, ...)",
                    )
                )
            ]
        defaults = [p.slug for p in self._profiles if p.default]
        if len(defaults) != 1:
            return [
                str(
                    invalid(
                        self,
                        "default profiles",
                        defaults,
                        allowed="exactly one profile with default=True",
                        fix="mark the profile most users need as default=True, and only that one",
                    )
                )
            ]
        errors = []
        reserved = self.reserved_usage()
        for profile in self._profiles:
            if self.container_limits is not None:
                excess = limit_range_excess(self.container_limits, profile)
                if excess:
                    errors.append(
                        str(
                            invalid(
                                profile,
                                "profile for the LimitRange",
                                profile.slug,
                                allowed=f"containers within ContainerLimits ({excess})",
                                fix="lower the profile's limits or raise ContainerLimits",
                            )
                        )
                    )
            if self.quota is not None:
                missing = shortfall(self.quota, reserved, profile)
                if missing:
                    errors.append(
                        str(
                            invalid(
                                profile,
                                "profile for the namespace quota",
                                profile.slug,
                                allowed=f"one server must fit in NamespaceQuota ({missing})",
                                fix="lower the profile's requests/limits or raise NamespaceQuota",
                            )
                        )
                    )
        return errors

    def _storage_objects(self) -> None:
        storage = self.user_storage
        traits: dict[str, Any] = {
            "storage_pvc_ensure": True,
            "pvc_name_template": "claim-{username}",
            "storage_capacity": storage.size,
            "storage_access_modes": [storage.access_mode],
        }
        if storage.storage_class is not None:
            traits["storage_class"] = storage.storage_class
        self.config.update("KubeSpawner", traits)
        self.shared_data_pvc: k8s.KubePersistentVolumeClaim | None = None
        if self.shared_data is not None:
            self.shared_data_pvc = k8s.KubePersistentVolumeClaim(
                self,
                "SharedData",
                metadata=k8s.ObjectMeta(
                    name=self.shared_data.claim_name, labels=self.labels("shared-data")
                ),
                spec=k8s.PersistentVolumeClaimSpec(
                    access_modes=[self.shared_data.access_mode],
                    storage_class_name=self.shared_data.storage_class,
                    resources=k8s.ResourceRequirements(
                        requests={"storage": k8s.Quantity.from_string(self.shared_data.size)}
                    ),
                ),
            )

    def _quota_objects(self) -> None:
        self.resource_quota: k8s.KubeResourceQuota | None = None
        self.limit_range: k8s.KubeLimitRange | None = None
        if self.quota is not None:
            self.resource_quota = k8s.KubeResourceQuota(
                self,
                "ResourceQuota",
                metadata=k8s.ObjectMeta(name="jupyterhub", labels=self.labels("quota")),
                spec=k8s.ResourceQuotaSpec(
                    hard={k: k8s.Quantity.from_string(v) for k, v in self.quota.hard().items()}
                ),
            )
        if self.container_limits is not None:
            limits = self.container_limits
            q = k8s.Quantity.from_string
            self.limit_range = k8s.KubeLimitRange(
                self,
                "LimitRange",
                metadata=k8s.ObjectMeta(name="jupyterhub", labels=self.labels("quota")),
                spec=k8s.LimitRangeSpec(
                    limits=[
                        k8s.LimitRangeItem(
                            type="Container",
                            max={"cpu": q(limits.max_cpu), "memory": q(limits.max_memory)},
                            default_request={k: q(v) for k, v in limits.default_request.items()},
                            default={k: q(v) for k, v in limits.default_limit.items()},
                        )
                    ]
                ),
            )

    def _check_one_hub_per_namespace(self, chart: cdk8s.Chart) -> None:
        for other in chart.node.find_all():
            if other is not self and isinstance(other, JupyterHub):
                raise invalid(
                    self,
                    "second JupyterHub in namespace",
                    self.namespace,
                    allowed="one JupyterHub per namespace (object names such as 'hub' and "
                    "'proxy-public' are fixed)",
                    fix="put each hub in its own Chart with its own namespace",
                )

    def _hub_rbac(self) -> None:
        labels = self.labels("hub")
        self.service_account = k8s.KubeServiceAccount(
            self,
            "ServiceAccount",
            metadata=k8s.ObjectMeta(
                name=HUB_SERVICE_ACCOUNT,
                labels=labels,
            ),
            automount_service_account_token=False,
        )
        # Exactly what KubeSpawner uses: it creates, watches and deletes user pods and
        # their home PVCs, and reads events to report spawn progress. No secrets, no
        # services (KubeSpawner needs those only with internal_ssl / services_enabled).
        self.role = k8s.KubeRole(
            self,
            "Role",
            metadata=k8s.ObjectMeta(name="hub", labels=labels),
            rules=[
                k8s.PolicyRule(
                    api_groups=[""],
                    resources=["pods", "persistentvolumeclaims"],
                    verbs=["get", "list", "watch", "create", "delete"],
                ),
                k8s.PolicyRule(
                    api_groups=[""], resources=["events"], verbs=["get", "list", "watch"]
                ),
            ],
        )
        self.role_binding = k8s.KubeRoleBinding(
            self,
            "RoleBinding",
            metadata=k8s.ObjectMeta(name="hub", labels=labels),
            role_ref=k8s.RoleRef(api_group="rbac.authorization.k8s.io", kind="Role", name="hub"),
            subjects=[k8s.Subject(kind="ServiceAccount", name=HUB_SERVICE_ACCOUNT)],
        )

    def _user_service_account(self) -> None:
        self.user_service_account = k8s.KubeServiceAccount(
            self,
            "UserServiceAccount",
            metadata=k8s.ObjectMeta(
                name=USER_SERVICE_ACCOUNT,
                labels=self.labels("singleuser-server"),
            ),
            automount_service_account_token=False,
        )

    def _configure(self, *, start_timeout: int, admin_users: Sequence[str]) -> None:
        self._service_token_env: dict[str, SecretRef] = {}
        cfg = self.config
        cfg.update(
            "JupyterHub",
            {
                "authenticator_class": self.auth_settings.authenticator_class,
                "spawner_class": "kubespawner.KubeSpawner",
                "db_url": self.database.db_url(),
                "upgrade_db": True,
                "hub_bind_url": f"http://:{HUB_PORT}",
                "hub_connect_url": f"http://{HUB_SERVICE}:{HUB_PORT}",
                # User servers outlive hub restarts: the hub must not stop them.
                "cleanup_servers": False,
                "last_activity_interval": 60,
                "authenticate_prometheus": True,
                # Report slow spawns through the progress page instead of a timeout error.
                "tornado_settings": {"slow_spawn_timeout": 0},
            },
        )
        cfg.update(
            "ConfigurableHTTPProxy",
            {"api_url": f"http://{API_SERVICE}:{API_PORT}", "should_start": False},
        )
        for class_name, traits in self.auth_settings.traits.items():
            cfg.update(class_name, traits)
        for target, env_var in self.auth_settings.traits_from_env.items():
            class_name, trait = target.split(".", 1)
            cfg.set_from_env(class_name, trait, env_var)
        if admin_users:
            cfg.set("Authenticator", "admin_users", sorted(admin_users))
        cfg.update(
            "KubeSpawner",
            {
                "namespace": self.namespace,
                "image": self.notebook_image,
                "uid": NOTEBOOK_UID,
                "fs_gid": NOTEBOOK_FS_GID,
                "service_account": USER_SERVICE_ACCOUNT,
                "automount_service_account_token": False,
                "allow_privilege_escalation": False,
                "container_security_context": security.user_container_security_context(),
                "pod_security_context": security.user_pod_security_context(),
                "start_timeout": start_timeout,
                "http_timeout": 120,
                "extra_labels": self.user_pod_labels(),
                "profile_list": [],
            },
        )

    def _hub_env(self) -> list[dict[str, Any]]:
        hub_secret = self.secret_name
        # Only secrets: the namespace and everything else are in hub_config.json.
        env: list[dict[str, Any]] = []
        secret_env = {
            "JPY_COOKIE_SECRET": SecretRef(hub_secret, COOKIE_SECRET_KEY),
            "JUPYTERHUB_CRYPT_KEY": SecretRef(hub_secret, CRYPT_KEY_KEY),
            "CONFIGPROXY_AUTH_TOKEN": SecretRef(hub_secret, PROXY_TOKEN_KEY),
        }
        env += [
            {"name": name, "valueFrom": ref.env_value_from()} for name, ref in secret_env.items()
        ]
        extra = {
            **self.database.secret_env(),
            **self.auth_settings.secret_env,
            **self._service_token_env,
        }
        env += [
            {"name": name, "valueFrom": ref.env_value_from()} for name, ref in sorted(extra.items())
        ]
        return env

    def _render_deployment(self) -> dict[str, Any]:
        # Plain Kubernetes JSON rather than typed structs: this runs for every hub at synth,
        # and the structs' runtime type checks cost more than the rest of the render.
        # Strict schema validation in the tests guards the shape instead.
        health = {"httpGet": {"path": "/hub/health", "port": "http"}, "timeoutSeconds": 3}
        if self.pvc is not None:
            data_volume = {"name": "hub-data", "persistentVolumeClaim": {"claimName": "hub-db-dir"}}
        else:
            data_volume = {"name": "hub-data", "emptyDir": {}}
        container = {
            "name": "hub",
            "image": self.hub_image,
            "command": ["jupyterhub", "--config", f"{CONFIG_DIR}/{CONFIG_FILE}"],
            "env": self._hub_env(),
            "ports": [{"name": "http", "containerPort": HUB_PORT}],
            "resources": self.hub_resources.to_kube(),
            "securityContext": security.restricted_container(HUB_UID, HUB_UID),
            # A database upgrade on start can take minutes: the startup probe allows 5.
            "startupProbe": {**health, "periodSeconds": 5, "failureThreshold": 60},
            "livenessProbe": {**health, "periodSeconds": 10, "failureThreshold": 6},
            "readinessProbe": {**health, "periodSeconds": 5, "failureThreshold": 2},
            "volumeMounts": [
                {"name": "config", "mountPath": CONFIG_DIR, "readOnly": True},
                {"name": "hub-data", "mountPath": HUB_DATA_DIR},
                {"name": "tmp", "mountPath": "/tmp"},
            ],
        }
        return {
            "spec": {
                # Exactly one: see the class docstring. Recreate, so the old hub has
                # released its database and its volume before the new one starts.
                "replicas": 1,
                "strategy": {"type": "Recreate"},
                "selector": {"matchLabels": self.selector_labels("hub")},
                "template": {
                    "metadata": {
                        "labels": self.labels("hub"),
                        "annotations": {"checksum/config": sha256_of(self.config_files())},
                    },
                    "spec": {
                        "serviceAccountName": HUB_SERVICE_ACCOUNT,
                        # The hub talks to the Kubernetes API (KubeSpawner): it needs a token.
                        "automountServiceAccountToken": True,
                        "enableServiceLinks": False,
                        "securityContext": security.restricted_pod(fs_group=HUB_UID),
                        "containers": [container],
                        "volumes": [
                            {"name": "config", "configMap": {"name": "hub-config"}},
                            data_volume,
                            {"name": "tmp", "emptyDir": {}},
                        ],
                    },
                },
            }
        }


@jsii.implements(IValidation)
class _HubValidation:
    """Checks that need the whole picture; run by cdk8s at synth."""

    def __init__(self, hub: JupyterHub) -> None:
        self.hub = hub

    def validate(self) -> list[str]:
        errors = self.hub.validation_errors()
        if errors:
            return errors
        try:
            self.hub.rendered_config()
        except ConfigurationError as err:
            return [str(err)]
        return []

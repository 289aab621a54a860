"""``JupyterHub``: the hub, its parts, and the one way add-ons attach to it.

The hub composes its parts (proxy, ingress, RBAC, secret bootstrap, database, image
pre-puller, quota, NetworkPolicies, generated config) and keeps everything attached to
it, so the checks that need the whole picture live here:

- **Profiles**: ``hub.add_profile(...)`` creates one; ``hub.attach_profile(p)`` takes
  one built elsewhere.
- **Platform service bindings**: ``hub.add_binding(b)`` (every profile) or
  ``profile.add_binding(b)`` (one profile).
- **Any other add-on** (observability, tunnel, external secrets, yours):
  ``hub.attach_addon(addon)`` calls ``addon.bind(hub)`` once (``HubAddon``). Add-on
  constructs that take ``hub=`` do this in their constructor.

In ``bind`` an add-on registers what it needs through the hub's public methods:
``add_hub_service`` (a JupyterHub service and its role), ``allow_traffic`` (a
NetworkPolicy, rendered only when the hub renders NetworkPolicies),
``add_entry_point`` (another way users reach the hub), ``reserve_capacity`` (pods that
take their share of the namespace quota), ``use_user_scheduler`` and ``pod_priority``
(where and how user pods are scheduled), and the facts it reads (``namespace``,
``selector_labels``, ports, ``core_pod_placement``, ``capacity_summary``...).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol, Unpack, cast

from constructs import Construct, Node

from jupyter_constructs.core import network_policy as netpol
from jupyter_constructs.core import security
from jupyter_constructs.core.checks import add_check, check_count, drop_checks_after
from jupyter_constructs.core.errors import ConfigurationError, Where, invalid, questionable
from jupyter_constructs.core.images import (
    DEFAULT_NOTEBOOK_IMAGE,
    HUB_IMAGE,
    PROXY_IMAGE,
    unpinned_reason,
)
from jupyter_constructs.core.network_policy import Rule
from jupyter_constructs.core.objects import (
    KubeObject,
    adopt,
    adopted_count,
    chart_namespace,
    chart_of,
    path_of,
    remove_adopted_since,
    sha256_of,
)
from jupyter_constructs.core.quantities import Resources, Usage, parse_memory
from jupyter_constructs.core.rules import (
    CONFIG_MAP_KEY_RULE,
    check,
    check_bool,
    check_dns_label,
    check_dns_subdomain,
    check_domain,
    check_image,
    check_int,
    check_sequence,
    check_text,
    is_int,
)
from jupyter_constructs.core.secrets import SecretRef
from jupyter_constructs.hub.auth import AuthSettings, HubAuth, SignIn
from jupyter_constructs.hub.bindings import HubBindings
from jupyter_constructs.hub.bootstrap import (
    COOKIE_SECRET_KEY,
    CRYPT_KEY_KEY,
    PROXY_TOKEN_KEY,
    HubSecretBootstrap,
)
from jupyter_constructs.hub.config import (
    CONFIG_FILE,
    HOME_EXPANSION_FILE,
    PROFILE_ACCESS_FILE,
    SETTINGS_FILE,
    HubConfig,
    home_expansion_source,
    profile_access_source,
    static_config_source,
)
from jupyter_constructs.hub.culler import SERVICE_NAME as CULLER_SERVICE
from jupyter_constructs.hub.culler import IdleCuller
from jupyter_constructs.hub.custom_code import (
    TEMPLATE_KEY_PREFIX,
    TEMPLATES_DIR,
    check_python_file,
    check_template,
)
from jupyter_constructs.hub.database import DATABASE_CLAIM, HubDatabase
from jupyter_constructs.hub.deployment import (
    CONFIG_MAP,
    HUB_PORT,
    hub_deployment_body,
    secret_env,
)
from jupyter_constructs.hub.edge import GatewayRoute, HubRoute, PublicService
from jupyter_constructs.hub.gpus import VISIBLE_DEVICES, GpuIsolation, with_required
from jupyter_constructs.hub.ingress import HubIngress, IngressController, IngressOptions
from jupyter_constructs.hub.named_servers import (
    DEFAULT_CLAIM_TEMPLATE,
    PER_SERVER_CLAIM_TEMPLATE,
    NamedServers,
)
from jupyter_constructs.hub.network import (
    USER_COMPONENT,
    HubNetworkPolicies,
    NetworkOptions,
    Selector,
)
from jupyter_constructs.hub.prepuller import ImagePuller, ImagePullerOptions, placement_key
from jupyter_constructs.hub.profiles import (
    PROFILE_LABEL,
    NotebookProfile,
    ProfileOptions,
    UserPodBinding,
)
from jupyter_constructs.hub.proxy import (
    API_PORT,
    API_SERVICE,
    HTTP_PORT,
    METRICS_PORT,
    METRICS_PORT_NAME,
    PUBLIC_PORT,
    PUBLIC_SERVICE,
    HubProxy,
)
from jupyter_constructs.hub.proxy import DEFAULT_RESOURCES as PROXY_RESOURCES
from jupyter_constructs.hub.quota import (
    ContainerLimits,
    NamespaceQuota,
    Reservation,
    ServerCount,
    capacity,
    describe,
    overbooked,
    profile_errors,
    quota_objects,
    server_counts,
)
from jupyter_constructs.hub.rbac import USER_SERVICE_ACCOUNT, hub_rbac, user_service_account
from jupyter_constructs.hub.scheduling import NodeAffinity, NodePool, Placement, PodPriority
from jupyter_constructs.hub.singleuser import (
    EXTRA_FILES_CONFIG_MAP,
    SingleUser,
    UserPodContext,
)
from jupyter_constructs.hub.storage import (
    HomeStorage,
    SharedData,
    UserStorage,
    volume_claim,
)
from jupyter_constructs.hub.tunables import (
    KNOWN_TRAITS,
    HubTunables,
    check_guarded_trait,
    check_trait,
)
from jupyter_constructs.hub.volumes import UserVolume, nfs_objects

HUB_SERVICE = "hub"
#: ``JupyterHub.base_url`` (rendered explicitly): the hub serves under ``/hub/``.
BASE_URL = "/"
DEFAULT_HUB_RESOURCES = Resources("500m", "2", "1Gi", "4Gi")
APP_NAME = "jupyterhub"
# Frozen value objects, so sharing one default instance is safe.
DEFAULT_IDLE_CULLER = IdleCuller()
DEFAULT_QUOTA = NamespaceQuota()
DEFAULT_GPU_ISOLATION = GpuIsolation()
DEFAULT_CONTAINER_LIMITS = ContainerLimits()
DEFAULT_NETWORK = NetworkOptions()
DEFAULT_COOKIE_MAX_AGE_DAYS = 1.0
MAX_COOKIE_MAX_AGE_DAYS = 14.0  # JupyterHub's own default: never longer than upstream
DEFAULT_TOKEN_EXPIRES_IN_MAX_SECONDS = 86400
MIN_TOKEN_SECONDS = 60
MAX_TOKEN_SECONDS = 365 * 86400


class HubAddon(Protocol):
    """Something that attaches to a hub: observability, a tunnel, a binding, yours.

    ``JupyterHub.attach_addon(addon)`` calls ``bind`` exactly once. In ``bind`` the
    add-on reads the facts it needs from the hub and registers what it needs through
    the hub's public methods (``add_hub_service``, ``allow_traffic``,
    ``add_entry_point``). It may keep the hub to answer later questions.
    """

    @property
    def node(self) -> Node:
        """The add-on's construct node (its path names it in messages)."""
        ...

    def bind(self, hub: JupyterHub) -> None:
        """Attach to ``hub``; called once by ``hub.attach_addon``."""
        ...


class PlatformBinding(HubAddon, UserPodBinding, Protocol):
    """A platform service binding as the hub sees it (``PlatformServiceBinding``)."""

    @property
    def name(self) -> str:
        """The binding's name, unique per hub."""
        ...


class JupyterHub(Construct):
    """A production JupyterHub in the chart's namespace.

    Renders: Namespace (restricted Pod Security), hub Deployment (exactly one replica,
    ``Recreate``), hub Service (8081), the proxy and its ``proxy-api``/``proxy-public``
    Services, an Ingress with TLS, ServiceAccounts, a namespaced Role for KubeSpawner,
    the hub ConfigMap with the generated config, the hub database volume, and the Job
    that creates the hub's secrets in the cluster.

    Profiles: at least one, exactly one of them the default (``add_profile``). Add-ons
    attach through ``attach_addon`` (module docstring).

    One hub per namespace: object names (``hub``, ``proxy-api``, ``proxy-public``) are
    fixed and documented, because other systems (tunnels, dashboards, runbooks) use them.

    Args:
        scope: The chart (it must have a namespace).
        id: Construct id.
        domain: The host name users open, e.g. ``"jupyter.example.com"``.
        auth: How users sign in (``OidcAuth``, ``CloudflareAccessAuth``).
        database: Where the hub keeps its state. Default: ``HubDatabase.sqlite_pvc()``
            (1Gi PVC).
        replicas: 1, the only allowed value (the hub owns its database and its
            in-memory state; two hubs corrupt sqlite and race on spawns).
        hub_image: Default: the pinned upstream hub image (``core.images``).
        proxy_image: Default: the pinned configurable-http-proxy image.
        notebook_image: Image of user servers when a profile names none.
        hub_resources: Default: 500m/2 CPU, 1Gi/4Gi memory (request/limit).
        ingress: Default: ``IngressOptions()`` (nginx, TLS Secret ``jupyterhub-tls``).
        existing_secret: Default ``None``: Secret ``hub-secrets`` is rendered empty and
            the bootstrap Job fills it (and each service token's own Secret,
            ``<service>-hub-token``). When given, that Secret must hold keys
            cookie-secret, crypt-key, proxy-token and (for metrics) metrics-api-token, and
            no Secret or Job is rendered.
        create_namespace: Default True, with Pod Security Admission ``enforce: restricted``.
        start_timeout: Seconds for a user server to start. Default: 300.
        admin_users: Hub admins (``Authenticator.admin_users``). Default: none.
        user_storage: Users' homes. Default: ``UserStorage()``, a 10Gi home PVC
            ``claim-{username}`` per user, kept when the user is deleted, and grown to
            a larger ``size`` at the user's next start where the StorageClass allows
            volume expansion (``hub/files/home_expansion.py``);
            ``UserStorage.shared(claim)``: a folder per user on one claim;
            ``UserStorage.none()``: no home volume.
        shared_data: Default ``None``; ``SharedData()`` adds a 50Gi ReadWriteMany volume
            that every user pod mounts at /home/jovyan/shared.
        singleuser: Settings of every user server that profiles may override (z2jh
            ``singleuser``): env, ``default_url``, ``cmd``, uid/gid, pull secrets,
            volumes, extra files, init and sidecar containers, labels, annotations,
            hooks, extended resources, ``/dev/shm``. Default: ``SingleUser()``, uid 1000,
            fs_gid 100 and the image's defaults.
        idle_culler: Default: ``IdleCuller()``, stop servers idle for an hour; ``None``:
            no culler.
        quota: A ResourceQuota for the namespace, checked against every profile at
            synth; the hub's active server limit is derived from it (``server_limit``),
            so a full namespace gives users the hub's own refusal. Default:
            ``NamespaceQuota()``; ``None``: no quota (and no limit).
        container_limits: A LimitRange, checked the same way. Default:
            ``ContainerLimits()``; ``None``: no LimitRange.
        image_puller: DaemonSets keep every profile's images (and its containers')
            pulled on its nodes, with its pull secrets. Default: True;
            ``ImagePullerOptions(...)`` adds images, resources and tolerations (z2jh
            ``prePuller``); False: no puller.
        network: Default-deny NetworkPolicies for the namespace and one policy per
            component (``hub.network`` and docs/security.md). Default:
            ``NetworkOptions()``: kube-dns/CoreDNS pods as resolvers, a CNI whose
            ``ipBlock`` rules match the API server, user servers on the internet (private
            ranges and metadata excluded); ``None`` renders no NetworkPolicy at all, the
            add-ons' included.
        cookie_max_age_days: Lifetime of the hub's login cookie, in days, for every
            sign-in option (more than 0, at most 14). Default: 1 (JupyterHub's own
            default is 14). OAuth tokens of user servers and services expire with it.
            ``JupyterHub.cookie_max_age_days``,
            https://jupyterhub.readthedocs.io/en/stable/reference/api/app.html
        token_expires_in_max_seconds: Longest lifetime of an API token a user creates
            (``/hub/token``, ``POST /hub/api/users/<name>/tokens``), in seconds (60 to
            31536000). Default: 86400 (a day): a token minted during a session cannot
            outlive it by much, and a token without expiry cannot be created.
            ``JupyterHub.token_expires_in_max_seconds`` (JupyterHub 5.1).
        base_url: The path the hub is served under, e.g. ``"/jupyter/"`` (starts and ends
            with ``/``). Everything follows it: ``JupyterHub.base_url``, the hub's probes
            (``<base_url>hub/health``), the proxy's error target, the Ingress path, the
            culler's and hub services' API URL, the metrics path, OAuth callback URLs.
            Default: ``"/"``. ``JupyterHub.base_url``,
            https://jupyterhub.readthedocs.io/en/stable/reference/api/app.html
        gateway: Serve the hub through a Gateway API ``HTTPRoute`` attached to this
            Gateway instead of an Ingress (``hub.edge.GatewayRoute``); then no Ingress is
            rendered unless ``ingress=`` says so explicitly, which is refused (one way
            in). Default: none.
        public_service: The ``proxy-public`` Service: ``PublicService.load_balancer(
            source_ranges=[...])`` or ``.node_port_service(...)`` exposes the proxy
            directly, admitting only ``source_ranges`` (``loadBalancerSourceRanges`` and
            the proxy's NetworkPolicy). Default: ClusterIP.
        redirect_domains: More hostnames for the hub, answered with a permanent redirect
            to ``https://<domain>`` (same path), so sign-in cookies and OAuth callbacks
            stay on one host: a second HTTPRoute with a ``RequestRedirect`` filter, or,
            with an ingress-nginx Ingress, a second Ingress with its ``permanent-redirect``
            annotation. Default: none.
        core_pods: The node pool of the hub's own pods (z2jh ``scheduling.corePods``):
            hub, proxy, secret bootstrap Job, and the pods of add-ons that serve the hub
            (tunnel, user scheduler) get its node affinity and tolerations. Example:
            ``NodePool.core()``. Default ``None``: no affinity, no toleration.
        user_pods: The node pool of user servers, hub-wide (z2jh
            ``scheduling.userPods``): every user pod (each profile's own node selector
            and tolerations on top), the image pre-puller and user placeholders. Example:
            ``NodePool.user()``. Default ``None``: no affinity, no toleration.
        gpu_isolation: How servers of profiles that ask for no GPU are kept away from
            GPUs (``GpuIsolation``): off nodes with the GPU node labels (a required node
            affinity) and ``NVIDIA_VISIBLE_DEVICES=void`` in their environment, which
            overrides the ``all`` of CUDA images. Default: ``GpuIsolation()``, both on;
            ``GpuIsolation(keep_off_gpu_nodes=False)`` lets CPU servers use GPU nodes;
            ``None``: neither (docs/user-servers.md, GPU isolation).
        named_servers: Let users run several named servers (``NamedServers``: a limit per
            user, a home claim per server by default). Default: ``None``, one server per
            user. See ``IdleCuller(remove_named_servers=...)``.
        tunables: Spawn limits, failure limit, redirect and logout behaviour, template
            variables, log level (``HubTunables``). Default: ``HubTunables()``: z2jh's
            spawn and failure limits, and an active server limit derived from ``quota``
            (``server_limit``). Any other trait: ``hub.set_trait(...)``, checked against
            the real classes.

    Raises:
        ConfigurationError: A value is invalid; the message says which and how to fix it.
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
        singleuser: SingleUser | None = None,
        idle_culler: IdleCuller | None = DEFAULT_IDLE_CULLER,
        quota: NamespaceQuota | None = DEFAULT_QUOTA,
        container_limits: ContainerLimits | None = DEFAULT_CONTAINER_LIMITS,
        image_puller: bool | ImagePullerOptions = True,
        network: NetworkOptions | None = DEFAULT_NETWORK,
        cookie_max_age_days: float = DEFAULT_COOKIE_MAX_AGE_DAYS,
        token_expires_in_max_seconds: int = DEFAULT_TOKEN_EXPIRES_IN_MAX_SECONDS,
        base_url: str = BASE_URL,
        gateway: GatewayRoute | None = None,
        public_service: PublicService | None = None,
        redirect_domains: Sequence[str] = (),
        core_pods: NodePool | None = None,
        user_pods: NodePool | None = None,
        gpu_isolation: GpuIsolation | None = DEFAULT_GPU_ISOLATION,
        named_servers: NamedServers | None = None,
        tunables: HubTunables | None = None,
    ) -> None:
        super().__init__(scope, id)
        adopt(self, scope, id)
        chart = chart_of(scope)
        namespace = chart_namespace(scope)
        if not namespace:
            raise invalid(
                self,
                "chart namespace",
                namespace,
                allowed="a Chart created with namespace=...",
                fix='create the chart as Chart(app, "jupyterhub", namespace="jupyter")',
            )
        self.namespace: str = check_dns_label(self, "namespace", namespace)
        if namespace in RESERVED_NAMESPACES or namespace.startswith("kube-"):
            raise invalid(
                self,
                "namespace",
                namespace,
                allowed="a namespace of the hub's own: the hub renders it with the restricted "
                "Pod Security Standard and a default-deny NetworkPolicy, which would cut "
                "DNS and system pods in a system namespace",
                fix='give the chart a namespace of its own, e.g. namespace="jupyter"',
            )
        self.domain: str = check_domain(self, domain)
        if not is_int(replicas) or replicas != 1:
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
            check_dns_subdomain(self, "existing_secret", existing_secret)
        check_int(self, "start_timeout", start_timeout, minimum=1, fix="seconds, e.g. 300")
        check_bool(self, "create_namespace", create_namespace)
        if not isinstance(image_puller, ImagePullerOptions):
            check_bool(self, "image_puller", image_puller)
        admin_users = check_sequence(
            self, "admin_users", admin_users, lambda what, user: check_text(self, what, user)
        )
        for what, value, kind in (
            ("singleuser", singleuser, SingleUser),
            ("database", database, HubDatabase),
            ("hub_resources", hub_resources, Resources),
            ("ingress", ingress, IngressOptions),
            ("user_storage", user_storage, UserStorage),
            ("shared_data", shared_data, SharedData),
            ("idle_culler", idle_culler, IdleCuller),
            ("quota", quota, NamespaceQuota),
            ("container_limits", container_limits, ContainerLimits),
            ("network", network, NetworkOptions),
            ("core_pods", core_pods, NodePool),
            ("user_pods", user_pods, NodePool),
            ("gpu_isolation", gpu_isolation, GpuIsolation),
            ("named_servers", named_servers, NamedServers),
            ("tunables", tunables, HubTunables),
            ("gateway", gateway, GatewayRoute),
            ("public_service", public_service, PublicService),
        ):
            if value is not None and not isinstance(value, kind):
                raise invalid(
                    self,
                    what,
                    type(value).__name__,
                    allowed=f"a {kind.__name__}(...)"
                    + ("" if what == "hub_resources" else " or None"),
                    fix=f"pass {what}={kind.__name__}(...)",
                )
        _check_session_limits(self, cookie_max_age_days, token_expires_in_max_seconds)
        #: The path the hub is served under (``"/"`` or ``"/<path>/"``).
        self.base_url: str = check_base_url(self, base_url)
        self.core_pods = core_pods.check(self, "core_pods") if core_pods is not None else None
        self.user_pods = user_pods.check(self, "user_pods") if user_pods is not None else None
        self._claim_namespace(chart)

        self.database = database or HubDatabase.sqlite_pvc()
        self.database.check(self)
        self.hub_resources = hub_resources.checked(self, "hub_resources")
        self.auth_settings: AuthSettings = _under_base_url(
            auth.settings(self, domain=self.domain), self.domain, self.base_url
        )
        #: Where user servers are served (``<name>.<user_server_domain>``), or ``None``
        #: when they are under the hub's host (``/user/<name>/``).
        self.user_server_domain: str | None = None
        self.public_service: PublicService = (public_service or PublicService()).check(self)
        if self.auth_settings.user_server_domain is not None:
            self.user_server_domain = _check_user_server_domain(
                self, self.auth_settings.user_server_domain, self.domain
            )
        self.secret_name: str = existing_secret or "hub-secrets"
        self.hub_service_name = HUB_SERVICE
        self.hub_port = HUB_PORT
        #: The hub's REST API as hub-managed services reach it: over the hub pod's own
        #: loopback (z2jh's culler does the same). Through the ``hub`` Service it would be
        #: hairpin traffic, which default-deny NetworkPolicies drop on iptables CNIs.
        self.loopback_api_url = f"http://localhost:{HUB_PORT}{self.base_url}hub/api"
        #: The hub's Prometheus metrics (``read:metrics`` scope), on the hub port.
        self.metrics_path = f"{self.base_url}hub/metrics"
        self.proxy_api_service_name = API_SERVICE
        self.proxy_public_service_name = PUBLIC_SERVICE
        self.proxy_public_port = PUBLIC_PORT
        self.proxy_http_port = HTTP_PORT
        self.proxy_metrics_port = METRICS_PORT
        self.proxy_metrics_port_name = METRICS_PORT_NAME
        self.user_service_account_name = USER_SERVICE_ACCOUNT
        self.notebook_image = notebook_image
        self.hub_image = hub_image
        self.config = HubConfig(self)
        self._service_token_env: dict[str, SecretRef] = {}
        self._profiles: list[NotebookProfile] = []
        self._pullers: list[ImagePuller] = []
        self._addons: list[HubAddon] = []
        self._bindings = HubBindings(path_of(self))
        self._reservations: list[Reservation] = []
        self._user_scheduler: tuple[str, Construct] | None = None
        self._pod_priority: PodPriority | None = None
        # (what, its construct, meant to be the only way in, the edge it passes through)
        self._entry_points: list[tuple[str, Construct, bool, str | None]] = []
        self._generation = 0  # bumped by every change that alters the generated config
        self._config_cache: tuple[int, dict[str, str]] | None = None
        self._python_files: dict[str, str] = {}
        self._templates: dict[str, str] = {}
        self.image_puller_enabled = image_puller is not False
        self.image_puller_options = (
            image_puller.check(self)
            if isinstance(image_puller, ImagePullerOptions)
            else ImagePullerOptions()
        )
        self.user_storage = (user_storage or UserStorage()).check(self)
        self.shared_data = shared_data.check(self) if shared_data else None
        self._singleuser = (singleuser or SingleUser()).check(self, "SingleUser.")
        self.idle_culler = idle_culler.check(self) if idle_culler else None
        self.named_servers = named_servers.check(self) if named_servers else None
        self._check_named_server_homes()
        self.tunables = (tunables or HubTunables()).check(self)
        if self.user_storage.delete_pvc and self.idle_culler and self.idle_culler.cull_users:
            warnings.warn(
                questionable(
                    self,
                    "UserStorage.delete_pvc",
                    True,
                    why="with IdleCuller(cull_users=True) every user idle for the culler's "
                    "timeout is deleted, and their home claim with every file in it",
                    fix="keep delete_pvc=False (homes outlive their users), or cull servers "
                    "only (cull_users=False)",
                ),
                stacklevel=2,
            )
        self.quota = quota.check(self) if quota else None
        self.gpu_isolation = gpu_isolation.check(self) if gpu_isolation else None
        self.container_limits = container_limits.check(self) if container_limits else None

        self.namespace_object: KubeObject | None = None
        if create_namespace:
            self.namespace_object = KubeObject(
                self,
                "Namespace",
                api_version="v1",
                kind="Namespace",
                name=self.namespace,
                cluster_scoped=True,
                labels=security.RESTRICTED_NAMESPACE_LABELS,
            )

        self.secret_bootstrap: HubSecretBootstrap | None = None
        if existing_secret is None:
            self.secret_bootstrap = HubSecretBootstrap(
                self,
                "SecretBootstrap",
                secret_name=self.secret_name,
                image=hub_image,
                labels=self.labels("secret-bootstrap"),
                placement=self.core_pod_placement(),
            )

        self.service_account, self.role, self.role_binding = hub_rbac(
            self, labels=self.labels("hub"), grow_claims=self._grows_homes()
        )
        self.user_service_account = user_service_account(
            self, labels=self.labels("singleuser-server")
        )
        self.start_timeout: int = start_timeout
        self._configure(
            start_timeout=start_timeout,
            admin_users=admin_users,
            cookie_max_age_days=float(cookie_max_age_days),
            token_expires_in_max_seconds=token_expires_in_max_seconds,
        )
        if self.idle_culler is not None:
            self.add_hub_service(
                CULLER_SERVICE,
                scopes=self.idle_culler.scopes(),
                command=self.idle_culler.command(hub_api_url=self.loopback_api_url),
            )
        self.extra_files_config_map: KubeObject | None = None
        # NFS volumes: claim name -> (the volume, its PersistentVolume and claim).
        self._nfs: dict[str, tuple[UserVolume, KubeObject, KubeObject]] = {}
        self._add_settings_objects(self._singleuser)
        home_nfs = self.user_storage.nfs_volume()
        if home_nfs is not None:
            self._add_nfs(home_nfs, read_only=lambda: False)
        self.shared_data_pvc: KubeObject | None = None
        if self.shared_data is not None and not self.shared_data.existing_claim:
            self.shared_data_pvc = volume_claim(
                self,
                "SharedData",
                name=self.shared_data.claim_name,
                labels=self.labels("shared-data"),
                access_mode=self.shared_data.access_mode,
                size=self.shared_data.size,
                storage_class=self.shared_data.storage_class,
                # Only user servers mount it (pods KubeSpawner creates, not in git).
                consumed_in_git=False,
            )
        self.resource_quota, self.limit_range = quota_objects(
            self, quota=self.quota, limits=self.container_limits, labels=self.labels("quota")
        )
        self.config_map = KubeObject(
            self,
            "Config",
            api_version="v1",
            kind="ConfigMap",
            name=CONFIG_MAP,
            labels=self.labels("hub"),
            body=lambda: {"data": self.config_files()},
        )
        self.pvc: KubeObject | None = None
        if self.database.uses_volume:
            self.pvc = volume_claim(
                self,
                "DatabaseVolume",
                name=DATABASE_CLAIM,
                labels=self.labels("hub"),
                access_mode="ReadWriteOnce",
                size=self.database.size,
                storage_class=self.database.storage_class,
            )
        self.deployment = KubeObject(
            self,
            "Deployment",
            api_version="apps/v1",
            kind="Deployment",
            name="hub",
            labels=self.labels("hub"),
            annotations=security.scanner_exceptions(
                {
                    "CKV_K8S_15": security.PULL_POLICY,
                    "CKV_K8S_35": security.HUB_ENV_VARS,
                    "CKV_K8S_38": security.HUB_API_TOKEN,
                    "CKV_K8S_40": security.HUB_IMAGE_UID,
                    "CKV_K8S_43": unpinned_reason([hub_image]),
                }
            ),
            body=lambda: hub_deployment_body(
                image=self.hub_image,
                env=self._hub_env(),
                resources=self.hub_resources,
                selector=self.selector_labels("hub"),
                labels=self.labels("hub"),
                config_checksum=sha256_of(self.config_files()),
                database_volume=self.pvc is not None,
                secret_files=self.auth_settings.secret_files,
                probe_path=f"{self.base_url}hub/health",
                placement=self.core_pod_placement(),
                config_items=self._config_items(),
            ),
        )
        self.service = KubeObject(
            self,
            "Service",
            api_version="v1",
            kind="Service",
            name=HUB_SERVICE,
            labels=self.labels("hub"),
            body={
                "spec": {
                    "selector": self.selector_labels("hub"),
                    "ports": [{"name": "http", "port": HUB_PORT, "targetPort": "http"}],
                }
            },
        )
        self.proxy = HubProxy(
            self,
            "Proxy",
            image=proxy_image,
            hub_url=f"http://{HUB_SERVICE}:{HUB_PORT}",
            auth_token=SecretRef(self.secret_name, PROXY_TOKEN_KEY),
            labels=self.labels("proxy"),
            selector=self.selector_labels("proxy"),
            host_routing=self.user_server_domain is not None,
            error_path=f"{self.base_url}hub/error",
            public_service_spec=self.public_service.spec_fields(),
            public_service_annotations=self.public_service.annotations,
            public_port_fields=self.public_service.port_fields(),
            placement=self.core_pod_placement(),
        )
        self.proxy_deployment = self.proxy.deployment
        # Hub and proxy read their Secrets once, at start: a changed Secret (a rotation,
        # the bootstrap Job re-creating it, an ExternalSecret refresh) must restart both
        # together, or the pair's proxy token disagrees (docs/runbook.md, "Rotating the
        # hub's secrets"). Stakater Reloader's annotation; without Reloader it does nothing
        # and the runbook's procedure applies.
        self._annotate_reload()
        self.proxy_deployment.add_annotation(RELOAD_ANNOTATION, self.secret_name)
        self.proxy_service = self.proxy.public_service
        self.proxy_api_service = self.proxy.api_service
        self.redirect_domains: list[str] = [
            check_domain(self, d, what="redirect_domains entry") for d in redirect_domains
        ]
        if isinstance(redirect_domains, str) or self.domain in self.redirect_domains:
            raise invalid(
                self,
                "redirect_domains",
                redirect_domains,
                allowed="a list of other host names than domain",
                fix="pass redirect_domains=['jupyterhub.example.com']",
            )
        if gateway is not None and ingress is not None and ingress.enabled:
            raise invalid(
                self,
                "ingress",
                "enabled beside gateway",
                allowed="an HTTPRoute (gateway=) or an Ingress (ingress=), not both",
                fix="drop ingress= when the hub is served through a Gateway",
            )
        ingress_options = ingress or IngressOptions(enabled=gateway is None)
        self.route: HubRoute | None = None
        if gateway is not None:
            self.route = HubRoute(
                self,
                "Route",
                options=gateway,
                hostnames=[self.domain, *self.user_server_hosts()],
                redirect_hostnames=self.redirect_domains,
                base_url=self.base_url,
                labels=self.labels("proxy"),
            )
            self._entry_points.append(("the HTTPRoute of", self, False, None))
        if self.public_service.exposed:
            self._entry_points.append(
                (f"the {self.public_service.type} Service proxy-public of", self, False, None)
            )
        self.ingress: HubIngress | None = None
        ingress_options.check(self)
        if ingress_options.enabled:
            self.ingress = HubIngress(
                self,
                "Ingress",
                domain=self.domain,
                options=ingress_options,
                labels=self.labels("proxy"),
                extra_hosts=self.user_server_hosts(),
                path=self.base_url,
                redirect_hosts=self.redirect_domains,
            )
            self._entry_points.append(("the Ingress of", self, False, None))
        self.network_options = network
        self.network: HubNetworkPolicies | None = None
        if network is not None:
            self.network = HubNetworkPolicies(
                self,
                "NetworkPolicies",
                options=network,
                selector_labels=self.selector_labels,
                labels=self.labels("network-policy"),
                hub_port=HUB_PORT,
                identity_provider=self.auth_settings.needs_internet_egress,
                database_port=None if self.database.uses_volume else self.database.port,
                ingress_controller=self._front_proxy_peers(),
                secret_bootstrap=self.secret_bootstrap is not None,
                image_puller=self.image_puller_enabled,
            )
        if self.public_service.exposed:
            # Clients of the LoadBalancer/NodePort Service: exactly its source ranges.
            self.allow_traffic(
                self,
                "PublicClients",
                name="proxy-public-clients",
                pod_selector={"matchLabels": self.selector_labels("proxy")},
                ingress_rules=[
                    netpol.ingress(
                        netpol.cidrs(list(self.public_service.source_ranges)),
                        [netpol.tcp(HTTP_PORT)],
                    )
                ],
                labels=self.labels("network-policy"),
            )
        #: The sign-in option as an add-on (``HubAuth.bind``: its egress, its objects).
        self.sign_in = SignIn(self, "SignIn", auth=auth)
        self.attach_addon(self.sign_in)
        add_check(self, self._validate)

    def _front_proxy_peers(self) -> IngressController | None:
        """Who sends users' traffic to the proxy: the Ingress controller or the Gateway."""
        if self.ingress is not None:
            return self.ingress.controller
        if self.route is not None:
            gateway = self.route.options
            return IngressController(
                class_name="gateway",
                namespace=gateway.data_plane_namespace,
                pod_labels=dict(gateway.data_plane_pod_labels),
                cidrs=tuple(gateway.data_plane_cidrs),
            )
        return None

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

    def user_pod_selector(
        self, profiles: Sequence[NotebookProfile] | None = None
    ) -> dict[str, Any]:
        """The LabelSelector of this hub's user pods, or of ``profiles``' pods only.

        Args:
            profiles: Select only these profiles' servers. Default: every user pod.
        """
        selector: dict[str, Any] = {
            "matchLabels": {
                "app.kubernetes.io/component": USER_COMPONENT,
                "app.kubernetes.io/instance": self.namespace,
            }
        }
        if profiles is not None:
            selector["matchExpressions"] = [
                {
                    "key": PROFILE_LABEL,
                    "operator": "In",
                    # Former slugs too: running servers keep their label through a rename.
                    "values": [slug for p in profiles for slug in p.slugs],
                }
            ]
        return selector

    # -- profiles -----------------------------------------------------------------------

    def add_profile(
        self, slug: str, *, display_name: str, **options: Unpack[ProfileOptions]
    ) -> NotebookProfile:
        """Create a ``NotebookProfile`` and attach it.

        Args:
            slug: The profile's short name (a DNS label, unique per hub).
            display_name: What users see on the spawn page.
            **options: The other ``NotebookProfile`` parameters (``ProfileOptions``), e.g.
                ``former_slugs=("medium",)`` when renaming profile ``medium``.

        Returns:
            The profile.

        Raises:
            ConfigurationError: A value is invalid (see ``NotebookProfile``), ``slug`` is
                another profile's slug or former slug, or a former slug is another
                profile's slug or former slug.
        """
        self._check_new_slug(slug)  # before the construct id Profile-<slug> is taken
        former = options.get("former_slugs", ())
        if isinstance(former, list | tuple):
            self._check_former_slugs(f"{self.node.path}/Profile-{slug}", former)
        profile = NotebookProfile(
            self, f"Profile-{slug}", slug=slug, display_name=display_name, **options
        )
        self.attach_profile(profile)
        return profile

    def _check_new_slug(self, slug: object) -> None:
        if any(p.slug == slug for p in self._profiles):
            raise invalid(
                self,
                "profile slug",
                slug,
                allowed="a slug not used by another profile",
                fix="give each profile its own slug",
            )
        owner = next((p for p in self._profiles if slug in p.former_slugs), None)
        if owner is not None:
            raise invalid(
                self,
                "profile slug",
                slug,
                allowed=f"a slug that is not a former slug of profile {owner.slug!r} (the "
                "hub maps a user's stored choice of a former slug to that profile, and its "
                "NetworkPolicies select pods labelled with it)",
                fix=f"choose another slug, or remove {slug!r} from {owner.slug!r}'s "
                "former_slugs once no server started before that rename is running",
            )

    def _check_former_slugs(self, where: Where, former_slugs: Sequence[str]) -> None:
        for former in former_slugs:
            taken = next((p for p in self._profiles if former in p.slugs), None)
            if taken is not None:
                what = "the slug" if taken.slug == former else "a former slug"
                raise invalid(
                    where,
                    "former_slugs",
                    former,
                    allowed=f"a slug no other profile uses ({former!r} is {what} of profile "
                    f"{taken.slug!r}): a former slug names the one profile its users' stored "
                    "choices and running servers belong to",
                    fix=f"remove {former!r} from one of the two profiles",
                )

    def attach_profile(self, profile: NotebookProfile) -> None:
        """Attach a profile built elsewhere. Slugs must be unique.

        Raises:
            ConfigurationError: Another profile of this hub has the same slug.
        """
        self._check_new_slug(profile.slug)
        self._check_former_slugs(profile, profile.former_slugs)
        with self._all_or_nothing(profile):
            profile.bind(self)
            self._add_settings_objects(profile.settings)
            self._profiles.append(profile)
            self._generation += 1
            if self.image_puller_enabled:
                self._pull_images_of(profile)
            if self.network is not None:
                self.network.add_profile(profile)

    @property
    def profiles(self) -> list[NotebookProfile]:
        """The notebook profiles, in the order users see them."""
        return list(self._profiles)

    def _pull_images_of(self, profile: NotebookProfile) -> None:
        # Where the profile's servers run: its own node selector and tolerations, in the
        # user pool (the puller pulls user images on user nodes).
        placement = self.user_pod_placement(profile).pod_fields()
        key = placement_key(placement)
        puller = next((p for p in self._pullers if p.key == key), None)
        if puller is None:
            name = "image-puller" if not self._pullers else f"image-puller-{profile.slug}"
            puller = ImagePuller(
                self,
                f"ImagePuller-{profile.slug}",
                name=name,
                labels={**self.labels("image-puller"), "hub.jupyter.org/image-puller": name},
                selector={
                    **self.selector_labels("image-puller"),
                    "hub.jupyter.org/image-puller": name,
                },
                placement=placement,
                options=self.image_puller_options,
            )
            self._pullers.append(puller)
        # The server's image, then its init and sidecar containers', with its pull secrets.
        for image in [profile.image or self.notebook_image, *profile.images()]:
            puller.add_image(image)
        for secret in profile.effective_settings(self._singleuser).image_pull_secrets:
            puller.add_pull_secret(secret)

    # -- add-ons ------------------------------------------------------------------------

    def attach_addon(self, addon: HubAddon) -> None:
        """Attach ``addon``: call its ``bind(self)`` once and keep it.

        Raises:
            ConfigurationError: The add-on is already attached.
        """
        if addon in self._addons:
            raise invalid(
                self,
                "add-on",
                addon.node.path,
                allowed="each add-on once",
                fix="attach it once (constructs given hub= attach themselves)",
            )
        with self._all_or_nothing(addon):
            addon.bind(self)
            self._addons.append(addon)
            self._generation += 1

    @contextmanager
    def _all_or_nothing(self, part: Any) -> Iterator[None]:
        """Undo what a failed ``bind`` did to this hub, so a caught error leaves no trace.

        Restores the generated config, the service tokens (their bootstrap Secrets and the
        Reloader annotation), entry points, profiles, pre-pullers, NFS volumes, the extra
        files' ConfigMap, NetworkPolicy names and whole-picture checks, and removes the
        constructs of this library (``KubeObject`` and the rest, ``core.objects.adopt``)
        created meanwhile.
        """
        mark = adopted_count()
        state = (
            self.config.snapshot(),
            dict(self._service_token_env),
            list(self._entry_points),
            list(self._profiles),
            list(self._pullers),
            list(self._addons),
            dict(self.network.policies) if self.network is not None else {},
            self._generation,
            check_count(self),
        )
        puller_images = [list(p._images) for p in self._pullers]
        nfs, extra_files_map = dict(self._nfs), self.extra_files_config_map
        bootstrap = self.secret_bootstrap.snapshot() if self.secret_bootstrap else None
        try:
            yield
        except BaseException:
            config, tokens, entries, profiles, pullers, addons, policies, generation, checks = state
            self.config.restore(config)
            self._service_token_env = tokens
            self._entry_points = entries
            self._profiles = profiles
            self._pullers = pullers
            for puller, images in zip(pullers, puller_images, strict=True):
                puller._images = images
            self._addons = addons
            self._nfs, self.extra_files_config_map = nfs, extra_files_map
            if self.network is not None:
                self.network.policies = policies
            self._generation = generation + 1
            drop_checks_after(self, checks)
            remove_adopted_since(mark)
            if self.secret_bootstrap is not None and bootstrap is not None:
                self.secret_bootstrap.restore(bootstrap)
            self._annotate_reload()
            raise

    @property
    def addons(self) -> list[HubAddon]:
        """Everything attached to this hub (bindings included), in the order attached."""
        return list(self._addons)

    def add_binding(
        self, binding: PlatformBinding, *, profile: NotebookProfile | None = None
    ) -> None:
        """Give every profile's servers (or only ``profile``'s) access to ``binding``'s service.

        ``profile.add_binding(b)`` calls this with ``profile``; prefer that spelling. The
        first call attaches the binding (``attach_addon``).

        Args:
            binding: A platform service binding (``PlatformServiceBinding``).
            profile: Only this profile. Default: every profile, later ones included.

        Raises:
            ConfigurationError: The binding is already bound to the hub, bound both to the
                hub and to profiles, its name is taken, or it sets a variable another
                binding of an affected profile sets.
        """
        self._bindings.check_new(binding, profile, self._profiles)
        if binding not in self._bindings:
            self.attach_addon(binding)
        self._bindings.add(binding, profile)
        self._generation += 1

    @property
    def bindings(self) -> list[PlatformBinding]:
        """Bindings given to every profile (``add_binding``)."""
        return cast("list[PlatformBinding]", self._bindings.hub_wide)

    def bindings_of(self, profile: NotebookProfile) -> list[PlatformBinding]:
        """Bindings reaching ``profile``'s servers: hub-wide ones, then its own."""
        return cast("list[PlatformBinding]", self._bindings.of(profile))

    def binding_profiles(self, binding: PlatformBinding) -> list[NotebookProfile] | None:
        """The profiles ``binding`` is bound to; ``None`` when it is bound hub-wide."""
        return self._bindings.profiles_of(binding)

    # -- custom hub code --------------------------------------------------------------------

    def add_python_file(self, name: str, source: str) -> None:
        """Run ``source`` in the hub after the generated config (z2jh ``hub.extraConfig``).

        Files run in the order added, with ``c`` (the hub's config) in scope, so
        ``c.KubeSpawner.pre_spawn_hook = ...`` works as in z2jh. The file is part of the
        hub ConfigMap: a change rolls the hub (config checksum). It is compiled at synth,
        so a syntax error fails the synth instead of the hub.

        Args:
            name: The file name, e.g. ``"spawn_hooks.py"``.
            source: The Python text (at most 256 KiB).

        Raises:
            ConfigurationError: Bad or taken name, too large, or a syntax error.
        """
        taken = set(self.config_files())
        self._python_files[name] = check_python_file(self, name, source, taken)
        self._generation += 1

    def add_template(self, name: str, text: str) -> None:
        """Add a page template, used before JupyterHub's own (``JupyterHub.template_paths``).

        ``{% extends "templates/page.html" %}`` extends the stock template; variables come
        from ``HubTunables(template_vars=...)``. Part of the hub ConfigMap (a change rolls
        the hub). Reference: https://jupyterhub.readthedocs.io/en/stable/howto/templates.html

        Args:
            name: The template's file name, e.g. ``"page.html"`` or ``"login.html"``.
            text: The Jinja2 template (at most 256 KiB).

        Raises:
            ConfigurationError: Bad or taken name, or too large.
        """
        self._templates[name] = check_template(self, name, text, set(self._templates))
        self._generation += 1

    def _config_items(self) -> list[dict[str, str]] | None:
        """The config volume's ``items`` when templates need a folder; else every key."""
        if not self._templates:
            return None
        return [
            {
                "key": key,
                "path": f"{TEMPLATES_DIR}/{key.removeprefix(TEMPLATE_KEY_PREFIX)}"
                if key.startswith(TEMPLATE_KEY_PREFIX)
                else key,
            }
            for key in self.config_files()
        ]

    # -- the escape hatch -----------------------------------------------------------------

    def set_trait(self, class_name: str, trait: str, value: Any) -> None:
        """Set any other configurable trait of the hub's classes (z2jh ``hub.config``), checked.

        The name is checked against the real class's configurable traits (tables
        generated from the pinned JupyterHub, oauthenticator and KubeSpawner), so a
        misspelled ``concurent_spawn_limt`` fails here instead of being ignored by the
        hub. A trait the library or a typed parameter already sets cannot be changed
        this way. Prefer the typed parameters (``tunables=``, ``named_servers=``...).

        Args:
            class_name: ``"JupyterHub"``, ``"Spawner"``, ``"KubeSpawner"``,
                ``"Authenticator"``, ``"ConfigurableHTTPProxy"``, ``"OAuthenticator"`` or
                ``"GenericOAuthenticator"``.
            trait: The trait name.
            value: A JSON value (the hub config is rendered as JSON).

        Raises:
            ConfigurationError: Unknown class or trait, a value that is not JSON, or a
                trait already set to another value.
        """
        check_trait(self, class_name, trait)
        check_guarded_trait(self, class_name, trait)
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError) as err:
            raise invalid(
                self,
                f"{class_name}.{trait} value",
                type(value).__name__,
                allowed="a JSON value: text, number, bool, None, list or dict of those",
                fix="give plain data; code belongs in a hub Python file",
            ) from err
        already = self.config.to_dict()["traits"].get(class_name, {})
        if trait not in already:
            self.config.set(class_name, trait, value)  # checks the value's type
        elif already[trait] != value:
            raise invalid(
                self,
                f"{class_name}.{trait}",
                value,
                allowed="a trait the library does not already set (it is set to "
                f"{already[trait]!r})",
                fix="use the typed parameter that sets it",
            )
        self._generation += 1

    def _unknown_trait_errors(self) -> list[str]:
        errors = []
        for class_name, traits in self.config.trait_names().items():
            if class_name not in KNOWN_TRAITS:
                continue  # a custom HubAuth's own class (docs/authentication.md): its author's
            for trait in traits:
                try:
                    check_trait(self, class_name, trait)
                except ConfigurationError as err:
                    errors.append(str(err))
        return errors

    # -- what add-ons register ------------------------------------------------------------

    def add_hub_service(
        self,
        name: str,
        *,
        scopes: Sequence[str],
        api_token_secret_key: str | None = None,
        command: Sequence[str] | None = None,
    ) -> SecretRef | None:
        """Declare a JupyterHub service with a role granting exactly ``scopes``.

        Args:
            name: The service's name (a DNS label, unique per hub).
            scopes: The JupyterHub scopes its role grants, e.g. ``["read:metrics"]``.
            api_token_secret_key: For an external service (such as Prometheus), the key
                holding its token: in a Secret of its own, ``<name>-hub-token``, rendered
                empty and filled by the bootstrap Job (so whatever reads the token cannot
                read the hub's other secrets); in ``existing_secret`` when the hub was
                given one. Default: none.
            command: A hub-managed service the hub starts itself (its token is generated
                by the hub). It runs in the hub pod and gets the hub's API over the
                pod's loopback (``JUPYTERHUB_API_URL`` = ``loopback_api_url``).
                Default: none.

        Returns:
            Where the service's token is (for whatever presents it), or ``None`` without
            ``api_token_secret_key``.

        Raises:
            ConfigurationError: The name is not a DNS label or is taken.
        """
        check_dns_label(self, "hub service name", name)
        scopes = check_sequence(self, "scopes", scopes, self._check_scope)
        service: dict[str, Any] = {"name": name}
        env_var = "JUPYTERHUB_SERVICE_TOKEN_" + name.upper().replace("-", "_")
        if api_token_secret_key is not None:
            check(
                self,
                "api_token_secret_key",
                api_token_secret_key,
                CONFIG_MAP_KEY_RULE,
                fix="name the key of the hub Secret, e.g. 'metrics-api-token'",
            )
            service["api_token_env"] = env_var
        if command is not None:
            service["command"] = check_sequence(
                self, "command", command, lambda what, arg: check_text(self, what, arg)
            )
            # Spawner.environment is applied last, so this replaces the hub's own
            # JUPYTERHUB_API_URL (hub_connect_url: the hub Service, hairpin traffic).
            service["environment"] = {"JUPYTERHUB_API_URL": self.loopback_api_url}
        # Checked before anything changes, so a refused service leaves no trace.
        self.config.add_service(
            service, role={"name": f"{name}-service", "scopes": list(scopes), "services": [name]}
        )
        token: SecretRef | None = None
        if api_token_secret_key is not None:
            token = self._service_token_secret(name, api_token_secret_key)
            self._service_token_env[env_var] = token
            self._annotate_reload()  # the token's Secret (``<name>-hub-token``) too
        self._generation += 1
        return token

    def _check_scope(self, what: str, scope: object) -> str:
        text = check_text(self, what, cast("str", scope))
        if any(c.isspace() for c in text):
            raise invalid(
                self,
                what,
                scope,
                allowed="a JupyterHub scope such as 'read:metrics' or 'list:users' (no spaces)",
                fix="see https://jupyterhub.readthedocs.io/en/stable/rbac/scopes.html",
            )
        return text

    def _service_token_secret(self, service: str, key: str) -> SecretRef:
        if self.secret_bootstrap is None:
            return SecretRef(self.secret_name, key)
        secret = f"{service}-hub-token"
        try:
            self.secret_bootstrap.add_secret(secret, [key])
        except ValueError as err:
            raise invalid(
                self,
                "hub service",
                service,
                allowed="a name whose token Secret (<name>-hub-token) is not used yet",
                fix="give each hub service its own name",
            ) from err
        return SecretRef(secret, key)

    def allow_traffic(
        self,
        scope: Construct,
        id: str,
        *,
        pod_selector: Selector,
        ingress_rules: Sequence[Rule] | None = None,
        egress_rules: Sequence[Rule] | None = None,
        name: str | None = None,
        labels: dict[str, str] | None = None,
    ) -> KubeObject | None:
        """Add a NetworkPolicy for pods of this hub's namespace, if the hub renders them.

        The one way to add a NetworkPolicy beside a hub: with ``network=None`` nothing
        is rendered and this returns ``None``. Build the rules with
        ``jupyter_constructs.core.network_policy`` (``ingress``, ``egress``, ``pods``,
        ``tcp``...).

        Args:
            scope: The construct the policy belongs to (usually the add-on).
            id: Its construct id.
            pod_selector: The pods it applies to (a LabelSelector), or a function
                returning it at synth.
            ingress_rules: Allowed ingress; ``[]`` isolates, ``None`` leaves ingress alone.
            egress_rules: Allowed egress; same meaning.
            name: ``metadata.name``. Default: generated from the construct path.
            labels: ``metadata.labels``. Default: none.

        Returns:
            The NetworkPolicy, or ``None`` when the hub renders no NetworkPolicies.
        """
        if self.network is None:
            return None
        return self.network.allow(
            scope,
            id,
            pod_selector=pod_selector,
            ingress_rules=ingress_rules,
            egress_rules=egress_rules,
            name=name,
            labels=labels,
        )

    def add_entry_point(
        self, description: str, scope: Construct, *, exclusive: bool, via: str | None = None
    ) -> None:
        """Record another way users reach the hub (the Ingress is one; a tunnel another).

        Args:
            description: What it is, for messages (``"the Cloudflare Tunnel"``).
            scope: The construct that provides it (its path completes the description).
            exclusive: It is meant to be the only way in. A hub with an exclusive entry
                point and another one gets a ``ConfigurationWarning`` at synth: access
                rules enforced only on the exclusive path can be bypassed.
            via: The edge network every request of this entry point passes through
                (``"Cloudflare"`` for a Cloudflare Tunnel). A sign-in option that trusts
                what an edge adds to requests (``AuthSettings.front_door``) refuses, at
                synth, entry points that do not pass through it. Default: none.
        """
        self._entry_points.append((description, scope, exclusive, via))

    def user_server_hosts(self) -> list[str]:
        """Host names of user servers besides the hub's own.

        Returns:
            ``["*.<user_server_domain>"]`` when user servers have hosts of their own, else
            none. Entry points (Ingress, tunnel) route these to the proxy too.
        """
        return [f"*.{self.user_server_domain}"] if self.user_server_domain else []

    # -- user pods ----------------------------------------------------------------------

    @property
    def singleuser(self) -> SingleUser:
        """The hub-wide user server settings (``JupyterHub(singleuser=...)``)."""
        return self._singleuser

    def user_pod_context(self) -> UserPodContext:
        """What every profile's pod gets from the hub: image, labels, settings, volumes."""
        shared = self.shared_data
        return UserPodContext(
            notebook_image=self.notebook_image,
            pod_labels=self.user_pod_labels(),
            defaults=self._singleuser,
            home=self.user_storage.home_volume(),
            home_dir_container=self.user_storage.home_dir_container,
            shared_data=(lambda read_only: shared.volume(read_only=read_only)) if shared else None,
            file_key=extra_file_key,
            gpu_isolation=self.gpu_isolation,
        )

    def profile_entry(self, profile: NotebookProfile) -> dict[str, Any]:
        """``profile``'s ``profile_list`` entry, with this hub's defaults and bindings."""
        self._check_scheduling_overrides(profile)
        entry = profile.to_profile_entry(self.user_pod_context(), self.bindings_of(profile))
        override = entry["kubespawner_override"]
        preferred = profile.extra_overrides.get("node_affinity_preferred")
        if self.user_pods is not None and preferred is not None:
            # Preferences add up: the pool's term first, then the profile's (KubeSpawner
            # would replace the hub-wide list with the profile's).
            pool = self.user_pods.kubespawner_traits().get("node_affinity_preferred", [])
            override["node_affinity_preferred"] = [*pool, *preferred]
        away = self.gpu_free_requirements(profile)
        if away:
            # Required terms are ORed, a term's expressions ANDed: "no GPU" goes into every
            # term (the profile's own, else the user pool's), or is the only term.
            terms = override.get("node_affinity_required")
            if terms is None and self.user_pods is not None:
                terms = self.user_pods.kubespawner_traits().get("node_affinity_required")
            override["node_affinity_required"] = with_required(terms, away)
        if self.user_pods is not None and "tolerations" in override:
            # A profile's tolerations replace the hub-wide ones in KubeSpawner (a list
            # override is not merged): keep the user pool's first.
            override["tolerations"] = [
                dict(t) for t in self.user_pod_placement(profile).tolerations
            ]
        return entry

    def gpu_free_requirements(self, profile: NotebookProfile) -> list[dict[str, Any]]:
        """What keeps ``profile``'s servers off GPU nodes (``GpuIsolation``), or ``[]``.

        ``NodeSelectorRequirement``s for a profile without a GPU when the hub keeps such
        profiles off GPU nodes; none for a GPU profile or without isolation.

        Raises:
            ConfigurationError: The profile asks for no GPU but selects GPU nodes by a
                label (its servers could never be scheduled).
        """
        isolation = self.gpu_isolation
        if (
            isolation is None
            or not isolation.keep_off_gpu_nodes
            or not profile.without_gpu(isolation)
        ):
            return []
        label = isolation.gpu_selector(profile.node_selector)
        if label is not None:
            raise invalid(
                profile,
                "node_selector",
                label,
                allowed="labels of nodes without GPUs: a profile that asks for no GPU "
                "is kept off GPU nodes (GpuIsolation.gpu_node_labels), so no node would "
                "match",
                fix="give the profile a GPU (gpu=Gpu(...)), or let CPU servers use GPU "
                "nodes: JupyterHub(gpu_isolation=GpuIsolation(keep_off_gpu_nodes=False))",
            )
        return isolation.node_requirements()

    def _check_scheduling_overrides(self, profile: NotebookProfile) -> None:
        """Refuse ``extra_overrides`` that would undo how the hub schedules user pods.

        KubeSpawner replaces a hub-wide setting with a profile's override, so a profile
        naming another scheduler would escape packing, another priority class could
        preempt other users' servers (or never preempt a placeholder), and its own
        required node affinity would drop the user pool's term.

        Raises:
            ConfigurationError: The profile overrides what the hub set.
        """
        owned = {}
        if self.user_scheduler_name is not None:
            owned["scheduler_name"] = (
                f"the hub's user scheduler ({self.user_scheduler_name}) schedules every "
                "user pod, so servers are packed and placeholders preempted",
                "drop it (to stop packing, do not create a UserScheduler)",
            )
        if self._pod_priority is not None:
            owned["priority_class_name"] = (
                f"user servers get {self._pod_priority.user_class_name}: above the "
                "placeholders they preempt, equal to each other, so no user evicts another",
                "drop it",
            )
        if self.user_pods is not None and self.user_pods.affinity is NodeAffinity.REQUIRED:
            owned["node_affinity_required"] = (
                "user pods require the user pool (JupyterHub(user_pods=...)); a profile's "
                "terms would replace the pool's in KubeSpawner",
                "narrow the profile's nodes with node_selector= (added to the pool's term)",
            )
        for key in sorted(set(owned) & set(profile.extra_overrides)):
            allowed, fix = owned[key]
            raise invalid(
                profile,
                "extra_overrides key",
                key,
                allowed=f"keys the hub does not set: {allowed}",
                fix=fix,
            )

    def extra_files(self) -> dict[str, str]:
        """Every extra file of the hub and its profiles: ConfigMap key -> text."""
        files = {
            extra_file_key(name, None): f.content()
            for name, f in self._singleuser.extra_files.items()
        }
        for profile in self._profiles:
            for name, extra_file in profile.settings.extra_files.items():
                files[extra_file_key(name, profile.slug)] = extra_file.content()
        return dict(sorted(files.items()))

    def _add_settings_objects(self, settings: SingleUser) -> None:
        """Render what ``settings`` need beside the pods: the extra files' ConfigMap, NFS claims."""
        if settings.extra_files and self.extra_files_config_map is None:
            self.extra_files_config_map = KubeObject(
                self,
                "ExtraFiles",
                api_version="v1",
                kind="ConfigMap",
                name=EXTRA_FILES_CONFIG_MAP,
                labels=self.labels("singleuser-server"),
                body=lambda: {"data": self.extra_files()},
            )
        for volume in settings.volumes:
            if volume.renders_claim:
                assert volume.claim_name is not None
                self._add_nfs(
                    volume, read_only=functools.partial(self._nfs_read_only, volume.claim_name)
                )

    def _add_nfs(self, volume: UserVolume, *, read_only: Callable[[], bool]) -> None:
        """Render the PersistentVolume and claim of an NFS volume, once per claim."""
        claim = volume.claim_name
        assert claim is not None
        known = self._nfs.get(claim)
        if known is not None:
            if (known[0].name, known[0].nfs) != (volume.name, volume.nfs):
                raise invalid(
                    self,
                    "NFS volume claim_name",
                    claim,
                    allowed=f"one claim per export: {claim!r} is volume {known[0].name!r} of "
                    f"{known[0].nfs}",
                    fix="give the other export its own claim_name, or the same settings",
                )
            return
        persistent_volume, pvc = nfs_objects(
            self,
            f"NfsVolume-{claim}",
            volume=volume,
            namespace=self.namespace,
            labels=self.labels("user-volume"),
            read_only=read_only,
        )
        self._nfs[claim] = (volume, persistent_volume, pvc)

    def _nfs_read_only(self, claim: str) -> bool:
        """True when every profile mounts the NFS claim ``claim`` read-only."""
        uses = [
            volume.read_only
            for profile in self._profiles
            for volume in profile.effective_settings(self._singleuser).volumes
            if volume.renders_claim and volume.claim_name == claim
        ]
        return bool(uses) and all(uses)

    # -- scheduling -----------------------------------------------------------------------

    def core_pod_placement(self) -> Placement:
        """Where the hub's own pods run: the ``core_pods`` pool's affinity and tolerations.

        Hub, proxy and bootstrap Job use it; add-ons whose pods serve the hub (tunnel,
        user scheduler) put ``core_pod_placement().pod_fields()`` into their pod specs.

        Returns:
            The placement (empty without ``core_pods``).
        """
        return Placement.of(self.core_pods)

    def user_pod_placement(self, profile: NotebookProfile | None = None) -> Placement:
        """Where user servers (of ``profile``) run: the user pool, then the profile's own.

        The ``user_pods`` pool's affinity and tolerations, then the profile's node
        selector, GPU placement and tolerations; a profile without a GPU also requires a
        node without GPUs (``GpuIsolation``). The pre-puller and user placeholders use
        it, so they land where the servers do.

        Args:
            profile: A profile of this hub. Default: none (the pool alone).
        """
        if profile is None:
            return Placement.of(self.user_pods)
        own = profile.placement()
        return Placement.of(
            self.user_pods,
            node_selector=own["nodeSelector"],
            tolerations=own["tolerations"],
            required=self.gpu_free_requirements(profile),
        )

    def use_user_scheduler(self, scheduler_name: str, scope: Construct) -> None:
        """Have every user pod scheduled by ``scheduler_name`` (KubeSpawner ``scheduler_name``).

        ``UserScheduler`` calls this when it attaches; user placeholders read
        ``user_scheduler_name`` so they are scheduled the same way.

        Args:
            scheduler_name: The ``schedulerName`` of the scheduler's profile.
            scope: The construct providing it (named when a second one is refused).

        Raises:
            ConfigurationError: Another user scheduler is already in use.
        """
        if self._user_scheduler is not None:
            raise invalid(
                self,
                "user scheduler",
                path_of(scope),
                allowed=f"one user scheduler per hub ({path_of(self._user_scheduler[1])} "
                "is already attached)",
                fix="create one UserScheduler for the hub",
            )
        self._user_scheduler = (scheduler_name, scope)
        self.config.set("KubeSpawner", "scheduler_name", scheduler_name)
        self._generation += 1

    @property
    def user_scheduler_name(self) -> str | None:
        """The scheduler of user pods (``use_user_scheduler``); ``None``: the default one."""
        return self._user_scheduler[0] if self._user_scheduler else None

    def pod_priority(self) -> PodPriority:
        """The hub's PriorityClass pair, created on first use; user pods get the user class.

        ``UserPlaceholders`` calls it; every placeholder group of the hub shares the pair.

        Returns:
            The ``PodPriority`` (class names: ``user_class_name``,
            ``placeholder_class_name``).
        """
        if self._pod_priority is None:
            self._pod_priority = PodPriority(
                self, "PodPriority", namespace=self.namespace, labels=self.labels("scheduling")
            )
            self.config.set(
                "KubeSpawner", "priority_class_name", self._pod_priority.user_class_name
            )
            self._generation += 1
        return self._pod_priority

    def allow_api_server(
        self, scope: Construct, id: str, *, name: str, pod_labels: dict[str, str]
    ) -> list[KubeObject]:
        """Let an add-on's pods reach the Kubernetes API server only (no ingress).

        Rendered only when the hub renders NetworkPolicies (``HubNetworkPolicies.
        allow_api_server``: ``api_server_cidrs``, and Cilium's ``kube-apiserver`` entity).

        Args:
            scope: The construct the policy belongs to.
            id: Its construct id.
            name: The NetworkPolicy's name.
            pod_labels: Labels selecting the pods.

        Returns:
            The policies, or ``[]`` when the hub renders no NetworkPolicies.
        """
        if self.network is None:
            return []
        return self.network.allow_api_server(
            scope, id, name=name, pod_labels=pod_labels, labels=self.labels("network-policy")
        )

    # -- capacity -------------------------------------------------------------------------

    def reserve_capacity(self, what: str, per_pod: Usage, pods: int) -> None:
        """Count ``pods`` pods of an add-on against the namespace quota, before user servers.

        ``capacity_summary``, ``format_capacity`` and the quota check at synth then leave
        room for them (user placeholders, the user scheduler, tunnel connectors).

        Args:
            what: What they are, for messages (``"user placeholders test/warm"``).
            per_pod: Requests and limits of one pod (``Resources(...).usage()``).
            pods: How many pods run at once.
        """
        self._reservations.append(Reservation(what, per_pod, pods))

    def reservations(self) -> list[Reservation]:
        """What the quota holds before any user server: hub, proxy, then add-ons' pods."""
        return [
            Reservation("the hub", self.hub_resources.usage(), 1, add_on=False),
            Reservation("the proxy", PROXY_RESOURCES.usage(), 1, add_on=False),
            *self._reservations,
        ]

    def reserved_usage(self) -> Usage:
        """What ``reservations`` take from the quota together."""
        total = self.hub_resources.usage() + PROXY_RESOURCES.usage()
        for reservation in self._reservations:
            total = total + reservation.usage()
        return total

    def capacity_summary(self) -> dict[str, tuple[int, str]]:
        """How many servers of each profile the quota admits at once, and what limits it.

        Counted after what the quota holds before any user server (``reservations``: the
        hub, the proxy, user placeholders, the user scheduler, tunnel connectors).

        Returns:
            Profile slug -> (servers of only that profile, the limiting quota item).
            Empty without a quota.
        """
        if self.quota is None:
            return {}
        reservations = self.reservations()
        return {p.slug: capacity(self.quota, reservations, p.usage()) for p in self._profiles}

    def default_profile_capacity(self) -> int | None:
        """Servers of the default profile the quota admits; ``None`` without quota or default."""
        defaults = [p.slug for p in self._profiles if p.default]
        summary = self.capacity_summary()
        if len(defaults) != 1 or defaults[0] not in summary:
            return None
        return summary[defaults[0]][0]

    def server_counts(self) -> tuple[ServerCount, ServerCount] | None:
        """Servers the quota holds whatever profiles users pick, and the most it ever holds.

        Counted on the quota's pods, CPU and memory after ``reservations``; GPUs bound
        only the profiles that ask for them (``capacity_summary``). ``None`` without a
        quota. See ``quota.server_counts``.
        """
        if self.quota is None:
            return None
        usages = {p.slug: p.usage() for p in self._profiles}
        return server_counts(self.quota, self.reservations(), usages)

    def server_limit(self) -> int | None:
        """The hub's ``JupyterHub.active_server_limit``; ``None``: no limit.

        ``HubTunables(active_server_limit=N)`` when given (0: no limit); otherwise, with a
        quota, the number of servers that always fit in it whatever profiles users pick
        (``server_counts``), so that a full namespace gives users the hub's own refusal
        (HTTP 429 "Active user limit exceeded", spawn status ``too-many-users``) instead
        of the API server's "exceeded quota". Without a quota: no limit.
        """
        given = self.tunables.active_server_limit
        if given is not None:
            return given or None
        counts = self.server_counts()
        if counts is None or counts[0].servers < 1:
            return None
        return counts[0].servers

    def format_capacity(self) -> str:
        """``capacity_summary`` as lines a person reads after synth, and the server limit."""
        lines = [f"capacity of namespace {self.namespace} (servers of one profile at once):"]
        for slug, (count, limit) in self.capacity_summary().items():
            lines.append(f"  {slug}: {count} (limited by {limit})")
        limit_line = self._server_limit_line()
        if limit_line:
            lines.append(limit_line)
        extra = [r for r in self.reservations() if r.add_on and r.pods]
        if self.quota is not None and extra:
            lines.append("  counted after the hub, the proxy and what add-ons reserve:")
            lines += [f"    {describe([r])}" for r in extra]
        if self.quota is not None:
            # Each device by its own quota item: a MIG slice is not counted as a GPU.
            lines.append("  devices, each by its own quota item:")
            for name, total in self.quota.devices().items():
                users = [p.slug for p in self._profiles if p.usage().extended.get(name)]
                asked = f"asked for by {', '.join(users)}" if users else "asked for by no profile"
                lines.append(f"    requests.{name}: {total} ({asked})")
        return "\n".join(lines)

    def _server_limit_line(self) -> str | None:
        counts = self.server_counts()
        limit = self.server_limit()
        if self.tunables.active_server_limit is not None:
            if limit is None:
                return "  active server limit: none (HubTunables(active_server_limit=0))"
            return f"  active server limit: {limit} (HubTunables(active_server_limit={limit}))"
        if counts is None or limit is None:
            return None
        always, most = counts
        text = (
            f"  active server limit: {limit}, servers that always fit whatever profiles "
            f"users pick (one more overflows {always.limited_by} when "
            f"users pick {always.profile} first)"
        )
        if most.servers > always.servers:
            text += (
                f"; up to {most.servers} of {most.profile} fit: "
                "HubTunables(active_server_limit=N) admits more"
            )
        return text

    # -- rendering ----------------------------------------------------------------------

    def _reset_stale_overrides(self, entries: list[dict[str, Any]]) -> None:
        """Make each profile undo what another profile's override leaves on a spawner.

        JupyterHub reuses a user's spawner after a failed start (jupyterhub#3592, open;
        kubespawner#546), and KubeSpawner applies the next profile's overrides on top of
        the last one's: a dict override is merged key by key and a list replaces the
        hub-wide value only when given. Without this, a CPU server started after a failed
        GPU start keeps the GPU's node selector and request (and, with ``GpuIsolation``,
        can never be scheduled), and a GPU server after a CPU one keeps "no GPU node"
        and ``NVIDIA_VISIBLE_DEVICES=void``. So each entry deletes (``None``) the keys
        of placement and device mappings that only other profiles set, and gives the
        hub-wide value of the placement lists that only other profiles set.
        """
        overrides = [entry["kubespawner_override"] for entry in entries]
        pool = self.user_pods.kubespawner_traits() if self.user_pods is not None else {}
        for key in ("node_selector", "extra_resource_limits", "extra_resource_guarantees"):
            names = {name for o in overrides for name in o.get(key) or {}}
            for override in overrides:
                stale = names - set(override.get(key) or {})
                if stale:
                    override[key] = {**(override.get(key) or {}), **dict.fromkeys(sorted(stale))}
        if any(VISIBLE_DEVICES in (o.get("environment") or {}) for o in overrides):
            for override in overrides:
                override.setdefault("environment", {}).setdefault(VISIBLE_DEVICES, None)
        for key in ("node_affinity_required", "tolerations"):
            if any(key in o for o in overrides):
                for override in overrides:
                    override.setdefault(key, list(pool.get(key) or []))

    def config_files(self) -> dict[str, str]:
        """The hub ConfigMap's files: static config, rendered settings, auth modules."""
        cached = self._config_cache
        if cached is not None and cached[0] == self._generation:
            return dict(cached[1])
        files = {CONFIG_FILE: static_config_source(), SETTINGS_FILE: self.rendered_config()}
        files.update(self.auth_settings.files)
        if any(p.restricted or p.former_slugs for p in self._profiles):
            files[PROFILE_ACCESS_FILE] = profile_access_source()
        if self._grows_homes():
            files[HOME_EXPANSION_FILE] = home_expansion_source()
        files.update(self._python_files)
        files.update({TEMPLATE_KEY_PREFIX + n: t for n, t in self._templates.items()})
        files = dict(sorted(files.items()))
        self._config_cache = (self._generation, files)
        return dict(files)

    def rendered_config(self) -> str:
        """``hub_config.json`` with every profile and binding added so far."""
        # Rendered late, so add_profile/add_binding calls after construction count.
        entries = [self.profile_entry(p) for p in self._profiles]
        self._reset_stale_overrides(entries)
        # JupyterHub reads start_timeout before KubeSpawner applies the chosen profile
        # (jupyterhub/user.py: the spawn is awaited for spawner.start_timeout, and
        # KubeSpawner loads the profile inside start()): the hub-wide value is the longest
        # any profile needs, and every profile carries its own, which KubeSpawner applies
        # to its own wait for the pod. A fast profile is not given a slow one's timeout.
        longest = max([self.start_timeout, *(p.start_timeout or 0 for p in self._profiles)])
        self.config.replace("KubeSpawner", "start_timeout", longest)
        if longest > self.start_timeout:
            for entry in entries:
                entry["kubespawner_override"].setdefault("start_timeout", self.start_timeout)
        self.config.replace("KubeSpawner", "profile_list", entries)
        if self.tunables.active_server_limit is None:
            derived = self.server_limit()
            if derived is not None:
                self.config.replace("JupyterHub", "active_server_limit", derived)
        self.config.set_profile_access({p.slug: p.access() for p in self._profiles if p.restricted})
        self.config.set_profile_renames(
            {former: p.slug for p in self._profiles for former in p.former_slugs}
        )
        self.config.set_custom_code(
            list(self._python_files), bool(self._templates), grow_homes=self._grows_homes()
        )
        # A server is stopped by a spawner whose profile may not be loaded (after a hub
        # restart KubeSpawner stops it with the hub-wide settings): the hub-wide grace
        # period is the longest any profile needs.
        graces = [
            g
            for p in self._profiles
            if (g := p.effective_settings(self._singleuser).effective_stop_grace_period)
        ]
        if graces:
            self.config.replace("KubeSpawner", "delete_grace_period", max(graces))
        return self.config.render()

    def validation_errors(self) -> list[str]:
        """Checks that need every profile: one default, quota and LimitRange fit, bindings."""
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
        reservations = self.reservations()
        if self.quota is not None:
            too_much = overbooked(self.quota, reservations)
            if too_much:
                return [
                    str(
                        invalid(
                            self,
                            "namespace quota",
                            self.quota,
                            allowed="room for the pods that run before any user server: "
                            f"{describe(reservations)} ({too_much})",
                            fix="raise NamespaceQuota or reserve less (fewer placeholders)",
                        )
                    )
                ]
        errors = self._server_limit_errors()
        errors += profile_errors(
            self._profiles,
            quota=self.quota,
            limits=self.container_limits,
            reservations=reservations,
        )
        if self.shared_data is not None:
            writers = [p.slug for p in self._profiles if not p.shared_data_read_only]
            errors += self.shared_data.read_only_errors(self, writers)
        return errors + self._bindings.errors(self._profiles)

    def _server_limit_errors(self) -> list[str]:
        """An explicit active server limit the quota can never reach."""
        given = self.tunables.active_server_limit
        counts = self.server_counts()
        if not given or counts is None:
            return []
        always, most = counts
        if given <= most.servers:
            return []
        return [
            str(
                invalid(
                    self,
                    "HubTunables.active_server_limit",
                    given,
                    allowed=f"at most {most.servers}, the most servers NamespaceQuota ever "
                    f"holds ({most.servers} of profile {most.profile!r} fill "
                    f"{most.limited_by}); above it the hub never refuses and users get the "
                    "API server's 'exceeded quota' instead",
                    fix=f"leave it unset (the hub derives {always.servers}, servers that "
                    f"always fit), give at most {most.servers}, raise NamespaceQuota, or 0 "
                    "for no hub limit",
                )
            )
        ]

    def _warn_home_quota(self) -> None:
        """Warn when the quota holds fewer home claims than the servers the hub admits."""
        quota, limit = self.quota, self.server_limit()
        if quota is None or limit is None or not self._grows_homes():
            return
        size = parse_memory(self, "UserStorage.size", self.user_storage.size)
        storage = parse_memory(self, "NamespaceQuota.requests_storage", quota.requests_storage)
        homes = min(quota.persistent_volume_claims, storage // size if size else limit)
        if homes >= limit:
            return
        warnings.warn(
            questionable(
                self,
                "NamespaceQuota for home claims",
                f"persistent_volume_claims={quota.persistent_volume_claims}, "
                f"requests_storage={quota.requests_storage}",
                why=f"it holds the home claims of at most {homes} users "
                f"({self.user_storage.size} each), fewer than the {limit} servers the hub "
                "admits at once; homes outlive servers, so once that many users have a "
                "home the next new user's start fails with the API server's 'exceeded "
                "quota' instead of the hub's refusal",
                fix="raise NamespaceQuota(persistent_volume_claims=..., requests_storage=...) "
                "to hold every user's home (a larger home size needs the room too), or "
                "lower HubTunables(active_server_limit=...)",
            ),
            stacklevel=3,
        )

    def _validate(self) -> list[str]:
        errors = self.validation_errors()
        if errors:
            return errors
        self._warn_home_quota()
        try:
            self.config_files()
        except ConfigurationError as err:
            return [str(err)]
        front_door = self._front_door_errors()
        if front_door:
            return front_door
        unknown = self._unknown_trait_errors()
        if unknown:
            return unknown
        entry_points = [
            (f"{what} {scope.node.path}", only) for what, scope, only, _ in self._entry_points
        ]
        exclusive = [what for what, only in entry_points if only]
        if exclusive and len(entry_points) > 1:
            warnings.warn(
                questionable(
                    self,
                    "entry points",
                    [what for what, _ in entry_points],
                    why="users reach the hub more than one way, so access rules that only "
                    "one of them enforces (a Cloudflare Access policy in front of a tunnel) "
                    "can be bypassed through the other",
                    fix=f"pass ingress=IngressOptions(enabled=False) when {exclusive[0]} is "
                    "meant to be the only way in; if both are intended (the hub's own sign-in "
                    "is the access control you rely on), say so where it is created "
                    "(CloudflareTunnel(..., exclusive=False))",
                ),
                stacklevel=2,
            )
        return []

    def _front_door_errors(self) -> list[str]:
        """Entry points that bypass the edge the sign-in trusts.

        An error each, or one warning when the sign-in option says they are intended.
        """
        front = self.auth_settings.front_door
        if front is None:
            return []
        bypass = [
            f"{what} {scope.node.path}"
            for what, scope, _, via in self._entry_points
            if via != front
        ]
        if not bypass:
            return []
        why = (
            f"sign-in trusts what {front} adds to every request, and these ways in do not "
            f"pass through {front}: whoever reaches them directly skips its access policy, "
            "and a captured sign-in token can be replayed there"
        )
        if self.auth_settings.other_entry_points_accepted:
            warnings.warn(
                questionable(
                    self,
                    "entry points",
                    bypass,
                    why=why + " (accepted on the sign-in option)",
                    fix=f"make sure they accept only {front}'s traffic, or remove them",
                ),
                stacklevel=3,
            )
            return []
        return [
            str(
                invalid(
                    self,
                    "entry points",
                    bypass,
                    allowed=f"only ways in that pass through {front} ({why})",
                    fix="pass ingress=IngressOptions(enabled=False) and reach the hub through "
                    f"{front} (a CloudflareTunnel); {self.auth_settings.front_door_fix}",
                )
            )
        ]

    def _claim_namespace(self, chart: Construct) -> None:
        if _HUB_OF.setdefault(chart, self) is not self:
            raise invalid(
                self,
                "second JupyterHub in namespace",
                self.namespace,
                allowed="one JupyterHub per namespace (object names such as 'hub' and "
                "'proxy-public' are fixed)",
                fix="put each hub in its own Chart with its own namespace",
            )

    def _configure(
        self,
        *,
        start_timeout: int,
        admin_users: Sequence[str],
        cookie_max_age_days: float,
        token_expires_in_max_seconds: int,
    ) -> None:
        cfg = self.config
        cfg.update(
            "JupyterHub",
            {
                "authenticator_class": self.auth_settings.authenticator_class,
                "spawner_class": "kubespawner.KubeSpawner",
                "db_url": self.database.db_url(),
                "upgrade_db": True,
                "base_url": self.base_url,
                "hub_bind_url": f"http://:{HUB_PORT}",
                "hub_connect_url": f"http://{HUB_SERVICE}:{HUB_PORT}",
                # User servers outlive hub restarts: the hub must not stop them.
                "cleanup_servers": False,
                "last_activity_interval": 60,
                "authenticate_prometheus": True,
                # Report slow spawns through the progress page instead of a timeout error.
                "tornado_settings": {"slow_spawn_timeout": 0},
                # Sessions are bounded for every sign-in option (docs/authentication.md).
                "cookie_max_age_days": cookie_max_age_days,
                "token_expires_in_max_seconds": token_expires_in_max_seconds,
            },
        )
        if self.user_server_domain is not None:
            # User servers on hosts of their own (docs/authentication.md): the hub stays
            # at public_url, user servers at <name>.<user_server_domain>.
            cfg.update(
                "JupyterHub",
                {
                    "public_url": f"https://{self.domain}{self.base_url}",
                    "subdomain_host": f"https://{self.user_server_domain}",
                },
            )
            cfg.set_setting("user_server_domain", self.user_server_domain)
        cfg.update(
            "ConfigurableHTTPProxy",
            {"api_url": f"http://{API_SERVICE}:{API_PORT}", "should_start": False},
        )
        sections = {name: dict(traits) for name, traits in self.auth_settings.traits.items()}
        if admin_users:
            # The authenticator's own class (its first section) wins over Authenticator in
            # traitlets, so the hub's admins are merged into that section's list.
            own = next(iter(sections), "Authenticator")
            given = sections.setdefault(own, {}).get("admin_users", [])
            sections[own]["admin_users"] = sorted({*given, *admin_users})
        for class_name, traits in sections.items():
            cfg.add_custom_class(class_name)  # a custom authenticator's own class
            cfg.update(class_name, traits)
        for target, env_var in self.auth_settings.traits_from_env.items():
            class_name, trait = target.split(".", 1)
            cfg.set_from_env(class_name, trait, env_var)
        singleuser = self._singleuser
        hub_wide: dict[str, Any] = {}
        if singleuser.gid is not None:
            hub_wide["gid"] = singleuser.gid
        if singleuser.default_url is not None:
            hub_wide["default_url"] = singleuser.default_url
        if singleuser.cmd is not None:
            hub_wide["cmd"] = list(singleuser.cmd)
        cfg.update(
            "KubeSpawner",
            {
                "namespace": self.namespace,
                "image": self.notebook_image,
                "uid": singleuser.effective_uid,
                "fs_gid": singleuser.effective_fs_gid,
                **hub_wide,
                "service_account": USER_SERVICE_ACCOUNT,
                "automount_service_account_token": False,
                "allow_privilege_escalation": False,
                "container_security_context": security.user_container_security_context(),
                "pod_security_context": security.user_pod_security_context(),
                "start_timeout": start_timeout,
                "http_timeout": 120,
                "extra_labels": self.user_pod_labels(),
                "profile_list": [],
                **self._storage_traits(),
            },
        )
        if self.user_pods is not None:
            cfg.update("KubeSpawner", self.user_pods.kubespawner_traits())
        if self.named_servers is not None:
            cfg.update("JupyterHub", self.named_servers.hub_traits())
        for class_name, traits in self.tunables.traits().items():
            cfg.update(class_name, traits)

    def _grows_homes(self) -> bool:
        """Whether the hub grows existing home claims on spawn (a claim per user)."""
        return self.user_storage.type is HomeStorage.DYNAMIC

    def _per_server_homes(self) -> bool:
        named = self.named_servers
        return (
            named is not None
            and named.home_per_server
            and self.user_storage.type is HomeStorage.DYNAMIC
        )

    def _check_named_server_homes(self) -> None:
        named, storage = self.named_servers, self.user_storage
        if named is None or storage.type is not HomeStorage.DYNAMIC:
            return
        template = storage.pvc_name_template
        if named.home_per_server:
            if template != DEFAULT_CLAIM_TEMPLATE and not (
                "{user_server}" in template or "{servername}" in template
            ):
                raise invalid(
                    self,
                    "UserStorage.pvc_name_template",
                    template,
                    allowed="with NamedServers(home_per_server=True), a template naming the "
                    "server too: {user_server} (or {servername})",
                    fix=f"use {PER_SERVER_CLAIM_TEMPLATE!r}, or "
                    "NamedServers(home_per_server=False) with a ReadWriteMany home",
                )
        elif storage.access_mode == "ReadWriteOnce":
            warnings.warn(
                questionable(
                    self,
                    "NamedServers.home_per_server",
                    False,
                    why="every server of a user mounts the one ReadWriteOnce home claim, which "
                    "attaches to one node: a second server scheduled on another node never "
                    "starts",
                    fix="keep home_per_server=True, or give homes "
                    "UserStorage(access_mode='ReadWriteMany')",
                ),
                stacklevel=3,
            )

    def _storage_traits(self) -> dict[str, Any]:
        traits = self.user_storage.kubespawner_traits()
        if self._per_server_homes() and traits.get("pvc_name_template") == DEFAULT_CLAIM_TEMPLATE:
            # The default server's {user_server} is {username}: its home keeps its claim.
            traits["pvc_name_template"] = PER_SERVER_CLAIM_TEMPLATE
        return traits

    def _annotate_reload(self) -> None:
        """Name every Secret the hub container reads in its Reloader annotation."""
        consumed = {
            self.secret_name,
            *(ref.name for ref in self.database.secret_env().values()),
            *(ref.name for ref in self.auth_settings.secret_env.values()),
            *(ref.name for ref in self._service_token_env.values()),
        }
        self.deployment.add_annotation(RELOAD_ANNOTATION, ",".join(sorted(consumed)))

    def _hub_env(self) -> list[dict[str, Any]]:
        hub_secret = self.secret_name
        # Only secrets: the namespace and everything else are in hub_config.json.
        fixed = {
            "JPY_COOKIE_SECRET": SecretRef(hub_secret, COOKIE_SECRET_KEY),
            "JUPYTERHUB_CRYPT_KEY": SecretRef(hub_secret, CRYPT_KEY_KEY),
            "CONFIGPROXY_AUTH_TOKEN": SecretRef(hub_secret, PROXY_TOKEN_KEY),
        }
        extra = {
            **self.database.secret_env(),
            **self.auth_settings.secret_env,
            **self._service_token_env,
        }
        return secret_env(fixed) + secret_env(dict(sorted(extra.items())))


_BASE_URL = re.compile(r"\A/(?:[A-Za-z0-9._~-]+/)*\Z")  # \Z: "$" lets a final newline in


def check_base_url(scope: Where, value: object) -> str:
    """``value`` as ``JupyterHub.base_url``: ``/`` or ``/a/b/``, URL-safe characters only.

    Args:
        scope: What the error names (the hub, or a label such as ``"ServiceCatalogEntry"``).
        value: The path.

    Returns:
        ``value``.

    Raises:
        ConfigurationError: Not of that form.
    """
    if (
        not isinstance(value, str)
        or not _BASE_URL.match(value)
        or "/./" in value
        or "/../" in value
    ):
        raise invalid(
            scope,
            "base_url",
            value,
            allowed="'/' or a path that starts and ends with '/', made of letters, digits, "
            "'-', '.', '_' and '~' (e.g. '/jupyter/')",
            fix="write the path users open after the host, with both slashes: '/jupyter/'",
        )
    return value


def _under_base_url(settings: AuthSettings, domain: str, base_url: str) -> AuthSettings:
    """``settings`` with OAuth callback URLs moved under ``base_url``.

    Sign-in options render ``https://<domain>/hub/oauth_callback``; under a path the hub
    serves it at ``https://<domain><base_url>hub/oauth_callback``.
    """
    if base_url == BASE_URL:
        return settings
    root = f"https://{domain}/hub/"
    traits = {
        section: {
            name: f"https://{domain}{base_url}hub/{value.removeprefix(root)}"
            if name == "oauth_callback_url" and isinstance(value, str) and value.startswith(root)
            else value
            for name, value in values.items()
        }
        for section, values in settings.traits.items()
    }
    return dataclasses.replace(settings, traits=traits)


def _check_user_server_domain(scope: Construct, value: str, domain: str) -> str:
    users = check_domain(scope, value, what="user_server_domain")
    if users == domain or users.endswith("." + domain) or domain.endswith("." + users):
        # A user host under the hub's host receives the hub's Domain cookies; the hub's
        # host under the user domain could be a user's host.
        raise invalid(
            scope,
            "user_server_domain",
            users,
            allowed=f"a domain beside the hub's {domain!r}, neither under the other",
            fix=f"e.g. {'jupyter-users.' + domain.split('.', 1)[-1]!r} for the hub at {domain!r}",
        )
    return users


def _check_session_limits(scope: Construct, cookie_days: object, token_seconds: object) -> None:
    if (
        isinstance(cookie_days, bool)
        or not isinstance(cookie_days, int | float)
        or not 0 < cookie_days <= MAX_COOKIE_MAX_AGE_DAYS
    ):
        raise invalid(
            scope,
            "cookie_max_age_days",
            cookie_days,
            allowed=f"days, more than 0 and at most {MAX_COOKIE_MAX_AGE_DAYS:g}",
            fix="keep the default 1 (sign in again every day) or give a number of days such "
            "as 0.5 or 7",
        )
    if (
        isinstance(token_seconds, bool)
        or not isinstance(token_seconds, int)
        or not MIN_TOKEN_SECONDS <= token_seconds <= MAX_TOKEN_SECONDS
    ):
        raise invalid(
            scope,
            "token_expires_in_max_seconds",
            token_seconds,
            allowed=f"whole seconds from {MIN_TOKEN_SECONDS} to {MAX_TOKEN_SECONDS} (a year)",
            fix="keep the default 86400 (a day); automation that needs longer-lived tokens "
            "should use a hub service instead",
        )


#: Namespaces a hub must not take over (its restricted labels and default-deny policy).
RESERVED_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})

#: Stakater Reloader: restart the Deployment when one of these Secrets changes.
RELOAD_ANNOTATION = "secret.reloader.stakater.com/reload"


def extra_file_key(name: str, slug: str | None) -> str:
    """The ConfigMap key of extra file ``name`` (hub-wide, or of profile ``slug``).

    File names start with a letter or digit and slugs hold no ``_``, so hub-wide keys and
    every profile's keys never collide.
    """
    return name if slug is None else f"_{slug}_{name}"


# The hub of each chart: one per namespace, and the chart knows it without a tree walk.
_HUB_OF: dict[Construct, JupyterHub] = {}

"""The inventory of what is checked at synth: every public parameter, where it lands, its rule.

Each ``Param`` row says which public parameter (``api`` + ``name``) reaches which
Kubernetes field or hub trait, the kind of rule that field follows (``tests.strategies``
kinds, most of them ``jupyter_constructs.core.rules`` rules) and where the library checks
it. ``build(value)`` renders a small valid setup with that one parameter set to
``value``: the objects as ``synthesize`` writes them, or a ``ConfigurationError``.

The tests walk this table (tests/core/test_validation.py):

- every parameter of the public API is listed here (so a parameter added later must say
  how it is checked);
- every known-bad value of a row's kind fails with a ``ConfigurationError`` naming the
  construct path and the value, what is allowed and how to fix it;
- generated strings (Hypothesis) either fail that way or render objects that validate.

docs/validation.md is rendered from it (``render_markdown``; ``make docs`` writes it).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import cdk8s

from jupyter_constructs import (
    ArgoCdApplication,
    AzureAdAuth,
    CloudflareAccessAuth,
    CloudflareTunnel,
    ClusterDns,
    ContainerLimits,
    Environment,
    ExternalSecretSource,
    ExtraFile,
    FileItem,
    GatewayRoute,
    GitHubAuth,
    GoogleAuth,
    Gpu,
    GpuIsolation,
    HomeStorage,
    HubDatabase,
    HubTunables,
    IdleCuller,
    ImagePullerOptions,
    IngressController,
    IngressOptions,
    JupyterHub,
    KubeObject,
    LdapAuth,
    Mount,
    NamedServers,
    NamespaceQuota,
    NetworkOptions,
    NfsExport,
    NodeAffinity,
    NodePool,
    ObservabilityBundle,
    OidcAuth,
    PlatformServiceBinding,
    ProfileChoice,
    ProfileOption,
    PublicService,
    Resources,
    SecretRef,
    SharedData,
    SingleUser,
    Toleration,
    UnlistedChoice,
    UserContainer,
    UserPlaceholders,
    UserScheduler,
    UserStorage,
    UserVolume,
    VeleroBackups,
)
from jupyter_constructs.core import network_policy
from jupyter_constructs.core.checks import validate_app
from jupyter_constructs.core.rules import is_extended_resource_name
from jupyter_constructs.delivery.gitops import apply_sync_waves
from jupyter_constructs.delivery.portal import ServiceCatalogEntry
from tests import strategies
from tests.helpers import DOMAIN, new_chart, oidc_auth

Objects = list[dict[str, Any]]


@dataclass(frozen=True)
class Param:
    """One public parameter and how it is checked.

    Attributes:
        api: The class, factory or function (``"JupyterHub"``, ``"Gpu"``...).
        name: The parameter (``"domain"``); ``extra_overrides['init_containers']`` style for
            entries of an escape hatch.
        reaches: The Kubernetes field or hub trait it ends up in.
        kind: The rule (a ``tests.strategies`` kind).
        checked_in: The function that checks it.
        build: Renders a valid setup with this parameter set to the value.
        path: The construct path error messages name.
        bad: Values that must be refused. Default: ``strategies.BAD[kind]``.
        strings: Generated strings may be fed to it (it takes a string).
        good: Values that must render (a builder that always fails would make the row's
            bad values prove nothing). Default: ``strategies.EXAMPLE[kind]``.
    """

    api: str
    name: str
    reaches: str
    kind: str
    checked_in: str
    build: Callable[[Any], Objects]
    path: str
    bad: tuple[Any, ...] | None = None
    strings: bool = True
    good: tuple[Any, ...] | None = None


# -- building blocks ------------------------------------------------------------------------


def render(chart: cdk8s.Chart) -> Objects:
    """The chart's objects as ``synthesize`` writes them: checks first, then synth."""
    validate_app(chart)
    apply_sync_waves(chart)
    return [json.loads(json.dumps(o)) for o in cdk8s.Testing.synth(chart)]


def _hub(chart: cdk8s.Chart, **options: Any) -> JupyterHub:
    settings: dict[str, Any] = {"domain": DOMAIN, "auth": oidc_auth()}
    settings.update(options)
    return JupyterHub(chart, "hub", **settings)


def hub_with(**options: Any) -> Objects:
    """A hub with ``options`` and one default profile."""
    chart = new_chart()
    _hub(chart, **options).add_profile("small", display_name="Small", default=True)
    return render(chart)


def profile_with(**options: Any) -> Objects:
    """A hub whose default profile ``x`` has ``options``."""
    chart = new_chart()
    settings: dict[str, Any] = {"display_name": "X", "default": True}
    settings.update(options)
    slug = settings.pop("slug", "x")
    _hub(chart).add_profile(slug, **settings)
    return render(chart)


def _gpu_profile(resource_name: Any) -> Objects:
    """A hub whose default profile ``x`` has ``Gpu(resource_name=...)``, bounded by the
    quota's own item for that name (a name the quota cannot take is the profile's error)."""
    chart = new_chart()
    items = {resource_name: 8} if is_extended_resource_name(resource_name) else {}
    hub = _hub(chart, quota=NamespaceQuota(extended_resources=items))
    hub.add_profile("x", display_name="X", default=True, gpu=Gpu(resource_name=resource_name))
    return render(chart)


def binding_with(factory: str, **options: Any) -> Objects:
    """A hub with a ``PlatformServiceBinding.<factory>`` binding bound to every profile."""
    chart = new_chart()
    hub = _hub(chart)
    hub.add_profile("small", display_name="Small", default=True)
    settings = dict(BINDING_DEFAULTS[factory])
    settings.update(options)
    hub.add_binding(getattr(PlatformServiceBinding, factory)(chart, factory, **settings))
    return render(chart)


BINDING_DEFAULTS: dict[str, dict[str, Any]] = {
    "trino": {"host": "trino.data", "catalog": "iceberg", "user": "{unescaped_username}"},
    "s3": {
        "host": "minio.data",
        "access_key_id": SecretRef("minio", "id"),
        "secret_access_key": SecretRef("minio", "key"),
    },
    "mlflow": {"host": "mlflow.ml"},
    "postgres": {
        "host": "postgres.data",
        "database": "analytics",
        "user": "jupyter",
        "password": SecretRef("pg", "password"),
    },
    "datahub": {"host": "datahub-gms.data"},
    "ray": {"host": "ray-head.ray"},
    "kafka": {"host": "kafka.data"},
}


def oidc_with(**options: Any) -> Objects:
    """A hub signing in with an ``OidcAuth`` that has ``options``."""
    return hub_with(auth=oidc_auth(**options))


def saas_with(**options: Any) -> Objects:
    """A hub signing in with ``OidcAuth.cloudflare_access_saas(**options)``."""
    settings: dict[str, Any] = {
        "team_domain": "team.cloudflareaccess.com",
        "client_id": "abc123",
        "client_secret": SecretRef("oidc", "secret"),
        "allow_all": True,
    }
    settings.update(options)
    return hub_with(auth=OidcAuth.cloudflare_access_saas(**settings))


def cloudflare_with(**options: Any) -> Objects:
    """A hub signing in with a ``CloudflareAccessAuth`` that has ``options``."""
    settings: dict[str, Any] = {
        "team_domain": "team.cloudflareaccess.com",
        "audience": "aud-tag",
        "allowed_emails": ["a@example.com"],
        "user_server_domain": "jupyter-users.example.org",
        "user_server_audience": "users-aud-tag",
    }
    settings.update(options)
    # Header sign-in refuses an Ingress beside it (the tunnel is the front door).
    return hub_with(auth=CloudflareAccessAuth(**settings), ingress=IngressOptions(enabled=False))


def tunnel_with(**options: Any) -> Objects:
    """A hub with a ``CloudflareTunnel`` that has ``options``."""
    chart = new_chart()
    hub = _hub(chart)
    hub.add_profile("small", display_name="Small", default=True)
    settings: dict[str, Any] = {
        "hub": hub,
        "tunnel_token": SecretRef("cloudflared", "token"),
        "exclusive": False,
    }
    settings.update(options)
    CloudflareTunnel(chart, "tunnel", **settings)
    return render(chart)


def observability_with(**options: Any) -> Objects:
    """A hub with an ``ObservabilityBundle`` that has ``options``."""
    chart = new_chart()
    hub = _hub(chart)
    hub.add_profile("small", display_name="Small", default=True)
    settings: dict[str, Any] = {"hub": hub}
    settings.update(options)
    ObservabilityBundle(chart, "observability", **settings)
    return render(chart)


def external_secret_with(**options: Any) -> Objects:
    """An ``ExternalSecretSource`` with ``options``."""
    chart = new_chart()
    settings: dict[str, Any] = {
        "secret_name": "oidc",
        "store": "vault",
        "keys": {"client-secret": "jupyterhub/oidc#secret"},
    }
    settings.update(options)
    ExternalSecretSource(chart, "secret", **settings)
    return render(chart)


def argocd_with(**options: Any) -> Objects:
    """An ``ArgoCdApplication`` with ``options``."""
    chart = new_chart()
    settings: dict[str, Any] = {
        "name": "jupyterhub",
        "repo_url": "https://github.com/example/platform.git",
        "path": "dist/prod",
        "destination_namespace": "jupyter",
    }
    settings.update(options)
    ArgoCdApplication(chart, "app", **settings)
    return render(chart)


def environment_with(**options: Any) -> Objects:
    """An ``Environment`` with ``options`` and its Application."""
    settings: dict[str, Any] = {"name": "prod", "cluster": "in-cluster"}
    settings.update(options)
    env = Environment(**settings)
    chart = new_chart()
    env.add_application(
        chart, repo_url="https://github.com/example/platform.git", destination_namespace="jupyter"
    )
    return render(chart)


def chart_with(**options: Any) -> Objects:
    """``Environment.chart(app, **options)`` with a hub in it."""
    app = cdk8s.Testing.app()
    chart = Environment("prod", cluster="in-cluster").chart(app, **options)
    return render(chart) if chart.namespace is None else hub_in(chart)


def hub_in(chart: cdk8s.Chart) -> Objects:
    """A hub in ``chart``."""
    _hub(chart).add_profile("small", display_name="Small", default=True)
    return render(chart)


def add_application_with(**options: Any) -> Objects:
    """``Environment.add_application`` with ``options``."""
    settings: dict[str, Any] = {
        "repo_url": "https://github.com/example/platform.git",
        "destination_namespace": "jupyter",
    }
    settings.update(options)
    chart = new_chart()
    Environment("prod", cluster="in-cluster").add_application(chart, **settings)
    return render(chart)


def portal_with(**options: Any) -> Objects:
    """A ``ServiceCatalogEntry`` with ``options`` on the hub's Ingress annotations."""
    settings: dict[str, Any] = {
        "name": "JupyterHub",
        "url": f"https://{DOMAIN}/",
        "icon": "jupyter",
        "description": "Notebooks.",
    }
    settings.update(options)
    entry = ServiceCatalogEntry(**settings)
    return hub_with(ingress=IngressOptions(annotations=entry.ingress_annotations()))


def hub_config_with(class_name: str, trait: str, value: Any) -> Objects:
    """A hub whose config sets ``class_name.trait = value`` through ``hub.config``."""
    chart = new_chart()
    hub = _hub(chart)
    hub.add_profile("small", display_name="Small", default=True)
    hub.config.set(class_name, trait, value)
    return render(chart)


def policy_with(function: Callable[..., Any], *args: Any) -> Objects:
    """A hub with a NetworkPolicy letting user pods reach ``function(*args)``."""
    chart = new_chart()
    hub = _hub(chart)
    hub.add_profile("small", display_name="Small", default=True)
    piece = function(*args)
    assert hub.network is not None
    if function in (network_policy.tcp, network_policy.udp):
        to, ports = [network_policy.pods({"app": "x"})], [piece]
    else:
        to, ports = piece if isinstance(piece, list) else [piece], [network_policy.tcp(80)]
    hub.network.allow_user_egress("singleuser-to-x", to=to, ports=ports)
    return render(chart)


def _toleration(**fields: Any) -> Objects:
    settings: dict[str, Any] = {"key": "dedicated", "operator": "Equal", "value": "gpu"}
    settings.update(fields)
    return profile_with(tolerations=[Toleration(**settings)])


_HUB = "test/hub"
_PROFILE = "test/hub/Profile-x"

# -- the inventory ----------------------------------------------------------------------------

H = "jupyter_constructs.hub"
R = "core.rules"

INVENTORY: list[Param] = []


def _add(*rows: Param) -> None:
    INVENTORY.extend(rows)


def hub_param(name: str, reaches: str, kind: str, checked_in: str, **extra: Any) -> Param:
    """A ``JupyterHub(...)`` parameter."""
    return Param(
        "JupyterHub",
        name,
        reaches,
        kind,
        checked_in,
        lambda v, n=name: hub_with(**{n: v}),
        _HUB,
        **extra,
    )


_add(
    hub_param(
        "domain",
        "Ingress spec.rules[].host, tls hosts; OAuth callback URL",
        "host-name",
        f"{R}.check_domain",
    ),
    hub_param(
        "auth",
        "JupyterHub.authenticator_class and its traits",
        "auth",
        "hub.JupyterHub",
        bad=(None, "oidc"),
        strings=False,
    ),
    hub_param(
        "database",
        "JupyterHub.db_url; hub PVC",
        "database",
        "hub.JupyterHub",
        bad=("sqlite",),
        strings=False,
    ),
    hub_param(
        "replicas",
        "Deployment hub spec.replicas (always 1)",
        "one",
        "hub.JupyterHub",
        bad=(2, True, "1", 0),
        strings=False,
    ),
    hub_param("hub_image", "Deployment hub containers[].image", "image", f"{R}.check_image"),
    hub_param("proxy_image", "Deployment proxy containers[].image", "image", f"{R}.check_image"),
    hub_param("notebook_image", "KubeSpawner.image", "image", f"{R}.check_image"),
    hub_param(
        "hub_resources",
        "Deployment hub containers[].resources",
        "resources",
        "core.quantities.Resources.checked",
        bad=("500m",),
        strings=False,
    ),
    hub_param(
        "ingress", "Ingress", "options", "hub.JupyterHub", bad=({"enabled": False},), strings=False
    ),
    hub_param(
        "existing_secret",
        "secretKeyRef.name of the hub env (a Secret name)",
        "dns-subdomain",
        f"{R}.check_dns_subdomain",
    ),
    hub_param("create_namespace", "the Namespace object", "bool", f"{R}.check_bool", strings=False),
    hub_param(
        "start_timeout",
        "KubeSpawner.start_timeout (Integer)",
        "int>=1",
        f"{R}.check_int",
        strings=False,
    ),
    hub_param(
        "admin_users",
        "<Authenticator class>.admin_users (merged with the auth's)",
        "text-list",
        f"{R}.check_sequence/check_text",
        strings=False,
    ),
    hub_param(
        "user_storage",
        "KubeSpawner.storage_*",
        "options",
        "hub.JupyterHub",
        bad=("10Gi",),
        strings=False,
    ),
    hub_param(
        "shared_data",
        "PVC shared-data; KubeSpawner.volumes",
        "options",
        "hub.JupyterHub",
        bad=("50Gi",),
        strings=False,
    ),
    hub_param(
        "idle_culler",
        "JupyterHub.services idle-culler command",
        "options",
        "hub.JupyterHub",
        bad=(3600,),
        strings=False,
    ),
    hub_param(
        "quota",
        "ResourceQuota jupyterhub",
        "options",
        "hub.JupyterHub",
        bad=({"pods": 1},),
        strings=False,
    ),
    hub_param(
        "container_limits",
        "LimitRange jupyterhub",
        "options",
        "hub.JupyterHub",
        bad=({"max_cpu": "1"},),
        strings=False,
    ),
    hub_param(
        "network", "NetworkPolicies", "options", "hub.JupyterHub", bad=(True,), strings=False
    ),
)


def profile_param(name: str, reaches: str, kind: str, checked_in: str, **extra: Any) -> Param:
    """A ``NotebookProfile`` / ``hub.add_profile`` parameter."""
    return Param(
        "NotebookProfile",
        name,
        reaches,
        kind,
        checked_in,
        lambda v, n=name: profile_with(**{n: v}),
        _PROFILE,
        **extra,
    )


_add(
    Param(
        "NotebookProfile",
        "slug",
        "label jupyter-constructs.io/profile; DaemonSet image-puller-<slug> label",
        "dns-label",
        f"{H}.profiles.NotebookProfile",
        lambda v: profile_with(slug=v),
        "test/hub/Profile-",
        bad=("Small", "gpu_large", "-x", "", "small\n", "a" * 51),
    ),
    profile_param(
        "display_name", "profile_list[].display_name (spawn page)", "text", f"{R}.check_text"
    ),
    profile_param(
        "description", "profile_list[].description (spawn page)", "text-or-empty", f"{R}.check_text"
    ),
    profile_param("default", "profile_list[].default", "bool", f"{R}.check_bool", strings=False),
    profile_param(
        "image", "kubespawner_override.image (container image)", "image", f"{R}.check_image"
    ),
    profile_param(
        "image_pull_policy",
        "containers[].imagePullPolicy",
        "enum",
        f"{R}.check_choice",
        bad=("ifnotpresent", "Always\n", ""),
    ),
    profile_param(
        "image_pull_secrets",
        "spec.imagePullSecrets[].name (Secret names)",
        "dns-subdomain-list",
        f"{R}.check_sequence",
        bad=("regcred", ["Reg_Cred"], ["regcred\n"]),
        strings=False,
    ),
    profile_param(
        "cpu_request", "resources.requests.cpu (cpu_guarantee)", "cpu", "core.quantities.parse_cpu"
    ),
    profile_param("cpu_limit", "resources.limits.cpu", "cpu", "core.quantities.parse_cpu"),
    profile_param(
        "memory_request",
        "resources.requests.memory (mem_guarantee)",
        "memory",
        "core.quantities.parse_memory",
    ),
    profile_param(
        "memory_limit", "resources.limits.memory", "memory", "core.quantities.parse_memory"
    ),
    profile_param(
        "gpu",
        "extended resource requests/limits, nodeSelector, tolerations",
        "options",
        f"{H}.profiles.NotebookProfile._check_gpu",
        bad=(1,),
        strings=False,
    ),
    profile_param(
        "env",
        "containers[].env (KubeSpawner.environment)",
        "env",
        f"{R}.check_env",
        bad=({"A=B": "x"}, {"1A": "x"}, {"A": 1}, {"A": "a\x00b"}, {"A": "{unknown}"}),
        strings=False,
    ),
    profile_param(
        "node_selector",
        "spec.nodeSelector",
        "labels",
        f"{R}.check_node_selector",
        bad=({"gpu type": "a100"}, {"gpu": "a 100"}, {"gpu\n": "x"}),
        strings=False,
    ),
    profile_param(
        "tolerations",
        "spec.tolerations",
        "toleration-list",
        f"{H}.profiles.NotebookProfile._check_toleration",
        bad=("dedicated", [{"key": "x"}]),
        strings=False,
    ),
    profile_param(
        "start_timeout", "KubeSpawner.start_timeout", "int>=1", f"{R}.check_int", strings=False
    ),
    profile_param(
        "post_start_command",
        "lifecycle.postStart.exec.command",
        "argv",
        "jupyter_constructs.hub.singleuser.check_command",
        bad=("echo hi", [], ["echo", 1], ["a\x00"]),
        strings=False,
    ),
    profile_param(
        "shared_data_read_only",
        "volumeMounts[shared-data].readOnly",
        "bool",
        f"{R}.check_bool",
        strings=False,
    ),
    profile_param(
        "internet_access",
        "NetworkPolicy singleuser-internet-<slug> (None: the hub's default)",
        "bool",
        f"{R}.check_bool",
        bad=(1, "true"),
        strings=False,
    ),
    profile_param(
        "extra_overrides",
        "any other kubespawner_override key",
        "overrides",
        f"{H}.singleuser.check_override_key/check_override_value",
        bad=(
            "image=x",
            {"cpu_guarentee": 1},
            {"image": "x:1"},
            {"namespace": "other"},
            {"privileged": True},
        ),
        strings=False,
    ),
)


def override(
    key: str,
    reaches: str,
    bad: tuple[Any, ...],
    checked_in: str = f"{H}.singleuser.check_override_key/check_override_value",
) -> Param:
    """One key of ``extra_overrides`` with a rule of its own."""
    return Param(
        "NotebookProfile",
        f"extra_overrides[{key!r}]",
        reaches,
        "override",
        checked_in,
        lambda v, k=key: profile_with(extra_overrides={k: v}),
        _PROFILE,
        bad=bad,
        strings=False,
    )


_SEED = {"name": "seed", "image": "busybox:1.36", "command": ["true"]}
_add(
    override(
        "init_containers",
        "spec.initContainers (restricted securityContext filled in)",
        (
            [{**_SEED, "securityContext": {"privileged": True}}],
            [{**_SEED, "securityContext": {"runAsUser": 0}}],
            [{**_SEED, "securityContext": {"capabilities": {"add": ["SYS_ADMIN"]}}}],
            [{**_SEED, "name": "notebook"}],
            [{**_SEED, "name": "Seed"}],
            [{**_SEED, "image": "busybox"}],
            [{**_SEED, "ports": [{"containerPort": 80, "hostPort": 80}]}],
            [{**_SEED, "env": [{"name": "A=B", "value": "x"}]}],
            [{**_SEED, "command": "true"}],
            [_SEED, _SEED],
            "seed",
        ),
        f"core.security.secure_container; {H}.singleuser.check_raw_container",
    ),
    override(
        "extra_containers",
        "spec.containers (sidecars, restricted securityContext)",
        (
            [{**_SEED, "securityContext": {"allowPrivilegeEscalation": True}}],
            [{**_SEED, "securityContext": {"seccompProfile": {"type": "Unconfined"}}}],
        ),
        f"core.security.secure_container; {H}.singleuser.check_raw_container",
    ),
    override(
        "extra_container_config",
        "the notebook container (securityContext may not weaken)",
        ({"securityContext": {"privileged": True}},),
    ),
    override(
        "extra_pod_config",
        "the pod spec (no host namespaces, no securityContext)",
        (
            {"hostNetwork": True},
            {"securityContext": {"runAsUser": 0}},
            [],
        ),
    ),
    override(
        "extra_labels", "pod metadata.labels", ({"gpu type": "x"}, {"a": "b c"}, {"a": "{nope}"})
    ),
    override("extra_annotations", "pod metadata.annotations", ({"not a key": "x"}, {"a": 1})),
    override("uid", "securityContext.runAsUser", (0, True, "1000")),
    override(
        "volumes",
        "spec.volumes (merged by name; names IsDNS1123Label, restricted sources)",
        (
            [{"name": "Data", "emptyDir": {}}],
            [{"name": "data\n", "emptyDir": {}}],
            [{"name": "data", "hostPath": {"path": "/"}}],
            [{"name": "home", "emptyDir": {}}],
            [{"emptyDir": {}}],
        ),
        f"{H}.singleuser.PodParts.add_volume",
    ),
    override(
        "volume_mounts",
        "volumeMounts (merged by path; absolute paths, relative subPath)",
        (
            [{"name": "home", "mountPath": "relative"}],
            [{"name": "home", "mountPath": "/x\n"}],
            [{"name": "home", "mountPath": "/x", "subPath": "../etc"}],
            [{"name": "nope", "mountPath": "/x"}],
        ),
        f"{H}.singleuser.PodParts.add_mount",
    ),
    override("default_url", "JupyterHub Spawner.default_url", (" /lab", 1)),
    override("lifecycle_hooks", "typed key (post_start_command)", ({},)),
    override("profile_list", "hub-owned key", ([],)),
)


def dataclass_param(
    api: str,
    name: str,
    reaches: str,
    kind: str,
    checked_in: str,
    wrap: Callable[[Any], Objects],
    path: str,
    **extra: Any,
) -> Param:
    """A field of an options dataclass."""
    return Param(api, name, reaches, kind, checked_in, wrap, path, **extra)


_add(
    dataclass_param(
        "Gpu",
        "count",
        "resources.limits[<resource_name>]",
        "int>=1",
        f"{R}.check_int",
        lambda v: profile_with(gpu=Gpu(count=v)),
        _PROFILE,
        strings=False,
    ),
    dataclass_param(
        "Gpu",
        "resource_name",
        "resources requests/limits key",
        "extended-resource-name",
        f"{R}.is_extended_resource_name",
        # Its own quota item: the quota refuses a resource it does not bound (issue 21).
        lambda v: _gpu_profile(v),
        _PROFILE,
    ),
    dataclass_param(
        "Gpu",
        "node_selector",
        "spec.nodeSelector",
        "labels",
        f"{R}.check_node_selector",
        lambda v: profile_with(gpu=Gpu(node_selector=v)),
        _PROFILE,
        bad=({"gpu type": "x"},),
        strings=False,
    ),
    dataclass_param(
        "Gpu",
        "tolerations",
        "spec.tolerations",
        "toleration-list",
        f"{H}.profiles.NotebookProfile._check_toleration",
        lambda v: profile_with(gpu=Gpu(tolerations=v)),
        _PROFILE,
        bad=(["nvidia.com/gpu"],),
        strings=False,
    ),
    dataclass_param(
        "Toleration",
        "key",
        "tolerations[].key",
        "label-key",
        f"{R}.check_toleration",
        lambda v: _toleration(key=v),
        _PROFILE,
    ),
    dataclass_param(
        "Toleration",
        "operator",
        "tolerations[].operator",
        "enum",
        f"{R}.check_toleration",
        lambda v: _toleration(operator=v),
        _PROFILE,
        bad=("Is", "exists", ""),
    ),
    dataclass_param(
        "Toleration",
        "value",
        "tolerations[].value (a label value; none with Exists)",
        "label-value",
        f"{R}.check_toleration",
        lambda v: _toleration(value=v),
        _PROFILE,
    ),
    dataclass_param(
        "Toleration",
        "effect",
        "tolerations[].effect",
        "enum",
        f"{R}.check_toleration",
        lambda v: _toleration(effect=v),
        _PROFILE,
        bad=("noschedule", "Never"),
    ),
    dataclass_param(
        "Toleration",
        "operator+value",
        "Exists with a value; empty key with Equal",
        "combination",
        f"{R}.check_toleration",
        lambda v: _toleration(**v),
        _PROFILE,
        bad=({"operator": "Exists", "value": "x"}, {"key": "", "operator": "Equal"}),
        strings=False,
    ),
)

for _field in ("cpu_request", "cpu_limit", "memory_request", "memory_limit"):
    _add(
        dataclass_param(
            "Resources",
            _field,
            f"hub container resources ({_field})",
            "cpu" if _field.startswith("cpu") else "memory",
            "core.quantities.Resources.checked",
            lambda v, f=_field: hub_with(
                hub_resources=Resources(
                    **{
                        **dict(
                            cpu_request="1", cpu_limit="2", memory_request="1Gi", memory_limit="2Gi"
                        ),
                        f: v,
                    }
                )
            ),
            _HUB,
        )
    )

for _api, _cls, _hub_arg in (
    ("UserStorage", UserStorage, "user_storage"),
    ("SharedData", SharedData, "shared_data"),
):
    _add(
        dataclass_param(
            _api,
            "size",
            "PVC spec.resources.requests.storage",
            "memory",
            "core.quantities.parse_memory",
            lambda v, c=_cls, a=_hub_arg: hub_with(**{a: c(size=v)}),
            _HUB,
        ),
        dataclass_param(
            _api,
            "storage_class",
            "PVC spec.storageClassName",
            "dns-subdomain",
            f"{R}.check_dns_subdomain",
            lambda v, c=_cls, a=_hub_arg: hub_with(**{a: c(storage_class=v)}),
            _HUB,
        ),
        dataclass_param(
            _api,
            "access_mode",
            "PVC spec.accessModes",
            "enum",
            f"{R}.check_choice",
            lambda v, c=_cls, a=_hub_arg: hub_with(**{a: c(access_mode=v)}),
            _HUB,
            bad=("RWO", "readwriteonce"),
        ),
    )
_add(
    dataclass_param(
        "SharedData",
        "mount_path",
        "volumeMounts[].mountPath",
        "absolute-path",
        f"{R}.is_absolute_path",
        lambda v: hub_with(shared_data=SharedData(mount_path=v)),
        _HUB,
        bad=("relative", "/a/../b", "/home/jovyan", "/a\n"),
    ),
    dataclass_param(
        "SharedData",
        "claim_name",
        "PVC metadata.name, volumes[].persistentVolumeClaim.claimName",
        "dns-subdomain",
        f"{R}.check_dns_subdomain",
        lambda v: hub_with(shared_data=SharedData(claim_name=v)),
        _HUB,
    ),
)
for _field, _kind in (
    ("timeout", "int>=1"),
    ("interval", "int>=1"),
    ("max_age", "int>=0"),
    ("cull_users", "bool"),
    ("concurrency", "int>=1"),
):
    _add(
        dataclass_param(
            "IdleCuller",
            _field,
            f"idle-culler --{_field.replace('_', '-')}",
            _kind,
            f"{H}.culler.IdleCuller.check",
            lambda v, f=_field: hub_with(idle_culler=IdleCuller(**{f: v})),
            _HUB,
            strings=False,
        )
    )
for _field, _kind in (
    ("requests_cpu", "cpu"),
    ("limits_cpu", "cpu"),
    ("requests_memory", "memory"),
    ("limits_memory", "memory"),
    ("requests_storage", "memory"),
    ("gpus", "int>=0"),
    ("pods", "int>=0"),
    ("persistent_volume_claims", "int>=0"),
    ("gpu_resource", "extended-resource-name"),
):
    _add(
        dataclass_param(
            "NamespaceQuota",
            _field,
            f"ResourceQuota spec.hard ({_field})",
            _kind,
            f"{H}.quota.NamespaceQuota.check",
            lambda v, f=_field: hub_with(quota=NamespaceQuota(**{f: v})),
            _HUB,
            strings=_kind not in ("int>=0",),
        )
    )
_add(
    dataclass_param(
        "NamespaceQuota",
        "extended_resources",
        "ResourceQuota spec.hard (requests.<name> per extended resource)",
        "options",
        f"{H}.quota.NamespaceQuota.check ({R}.is_extended_resource_name, check_int)",
        lambda v: hub_with(quota=NamespaceQuota(extended_resources=v)),
        _HUB,
        good=({"nvidia.com/mig-1g.10gb": 14}, {"amd.com/gpu": 0}),
        bad=(
            {"NVIDIA GPU": 1},
            {"nvidia.com/mig-1g.10gb": -1},
            {"nvidia.com/mig-1g.10gb": "4"},
            {"nvidia.com/mig-1g.10gb": 1.5},
            {"cpu": 4},
            {"kubernetes.io/x": 1},
            ["nvidia.com/gpu"],
        ),
        strings=False,
    )
)
_add(
    dataclass_param(
        "ContainerLimits",
        "max_cpu",
        "LimitRange limits[].max.cpu",
        "cpu",
        f"{H}.quota.ContainerLimits.check",
        lambda v: hub_with(container_limits=ContainerLimits(max_cpu=v)),
        _HUB,
    ),
    dataclass_param(
        "ContainerLimits",
        "max_memory",
        "LimitRange limits[].max.memory",
        "memory",
        f"{H}.quota.ContainerLimits.check",
        lambda v: hub_with(container_limits=ContainerLimits(max_memory=v)),
        _HUB,
    ),
    dataclass_param(
        "ContainerLimits",
        "default_request",
        "LimitRange limits[].defaultRequest",
        "quantities",
        f"{H}.quota.ContainerLimits.check",
        lambda v: hub_with(container_limits=ContainerLimits(default_request=v)),
        _HUB,
        bad=({"cpu": "1 core", "memory": "1Gi"}, {"cpu": "2", "memory": "1Gi"}, {"cpu": "1"}),
        strings=False,
    ),
    dataclass_param(
        "ContainerLimits",
        "default_limit",
        "LimitRange limits[].default",
        "quantities",
        f"{H}.quota.ContainerLimits.check",
        lambda v: hub_with(container_limits=ContainerLimits(default_limit=v)),
        _HUB,
        bad=({"cpu": "32", "memory": "1Gi"}, {"cpu": "1", "memory": "1 Gi"}),
        strings=False,
    ),
)
_add(
    dataclass_param(
        "IngressOptions",
        "enabled",
        "the Ingress",
        "bool",
        f"{R}.check_bool",
        lambda v: hub_with(ingress=IngressOptions(enabled=v)),
        _HUB,
        strings=False,
    ),
    dataclass_param(
        "IngressOptions",
        "controller",
        "Ingress class, annotations, proxy NetworkPolicy",
        "options",
        f"{H}.ingress.IngressOptions.check",
        lambda v: hub_with(ingress=IngressOptions(controller=v)),
        _HUB,
        bad=("nginx",),
        strings=False,
    ),
    dataclass_param(
        "IngressOptions",
        "tls_secret_name",
        "Ingress spec.tls[].secretName (Secret name)",
        "dns-subdomain",
        f"{H}.ingress.IngressOptions.check",
        lambda v: hub_with(ingress=IngressOptions(tls_secret_name=v)),
        _HUB,
        bad=("Jupyter_TLS", "tls\n", ""),
    ),
    dataclass_param(
        "IngressOptions",
        "cert_manager_cluster_issuer",
        "annotation cert-manager.io/cluster-issuer (ClusterIssuer name)",
        "dns-subdomain",
        f"{H}.ingress.IngressOptions.check",
        lambda v: hub_with(ingress=IngressOptions(cert_manager_cluster_issuer=v)),
        _HUB,
    ),
    dataclass_param(
        "IngressOptions",
        "annotations",
        "Ingress metadata.annotations",
        "annotations",
        f"{R}.check_annotations",
        lambda v: hub_with(ingress=IngressOptions(annotations=v)),
        _HUB,
        bad=({"not a key": "x"}, {"a/b/c": "x"}, {"x": 1}, {"x": "y" * 300_000}),
        strings=False,
    ),
)
_add(
    dataclass_param(
        "NetworkOptions",
        "dns",
        "DNS egress rules (ClusterDns)",
        "options",
        f"{H}.network.NetworkOptions.check",
        lambda v: hub_with(network=NetworkOptions(dns=v)),
        _HUB,
        bad=("kube-dns",),
        strings=False,
    ),
    dataclass_param(
        "NetworkOptions",
        "api_server_cidrs",
        "NetworkPolicy ipBlock.cidr",
        "cidrs",
        f"{R}.check_cidr",
        lambda v: hub_with(network=NetworkOptions(api_server_cidrs=v)),
        _HUB,
        strings=False,
    ),
    dataclass_param(
        "NetworkOptions",
        "database_cidrs",
        "NetworkPolicy ipBlock.cidr",
        "cidrs",
        f"{R}.check_cidr",
        lambda v: hub_with(network=NetworkOptions(database_cidrs=v)),
        _HUB,
        strings=False,
    ),
    dataclass_param(
        "NetworkOptions",
        "user_internet_access",
        "NetworkPolicy singleuser-internet",
        "bool",
        f"{R}.check_bool",
        lambda v: hub_with(network=NetworkOptions(user_internet_access=v)),
        _HUB,
        strings=False,
    ),
    dataclass_param(
        "NetworkOptions",
        "cni",
        "CiliumNetworkPolicy or not",
        "enum",
        f"{H}.network.NetworkOptions.check",
        lambda v: hub_with(network=NetworkOptions(cni=v)),
        _HUB,
        bad=("cilium", 1),
    ),
    dataclass_param(
        "NetworkOptions",
        "ipv6",
        "NetworkPolicy ipBlock ::/0",
        "bool",
        f"{R}.check_bool",
        lambda v: hub_with(network=NetworkOptions(ipv6=v)),
        _HUB,
        strings=False,
    ),
)
for _field, _kind, _bad, _strings in (
    ("namespace", "dns-label", None, True),
    ("pod_labels", "labels-list", ({"k8s-app": "kube-dns"}, [{"k8s app": "x"}], [{}]), False),
    ("cidrs", "cidrs", ("169.254.20.10/32", ["169.254.20.10"]), False),
    ("port", "port-number", None, False),
):
    _add(
        dataclass_param(
            "ClusterDns",
            _field,
            f"DNS egress ({_field})",
            _kind,
            f"{H}.network.ClusterDns.check",
            lambda v, f=_field: hub_with(network=NetworkOptions(dns=ClusterDns(**{f: v}))),
            _HUB,
            bad=_bad,
            strings=_strings,
        )
    )
_add(
    dataclass_param(
        "ClusterDns.kube_dns",
        "namespace",
        "DNS egress namespaceSelector",
        "dns-label",
        f"{H}.network.ClusterDns.check",
        lambda v: hub_with(network=NetworkOptions(dns=ClusterDns.kube_dns(namespace=v))),
        _HUB,
    ),
    dataclass_param(
        "ClusterDns.kube_dns",
        "pod_labels",
        "DNS egress podSelector",
        "labels",
        f"{H}.network.ClusterDns.check",
        lambda v: hub_with(network=NetworkOptions(dns=ClusterDns.kube_dns(pod_labels=v))),
        _HUB,
        bad=({"k8s app": "x"},),
        strings=False,
    ),
    dataclass_param(
        "ClusterDns.node_local_dns",
        "kube_dns_service_ip",
        "DNS egress ipBlock /32",
        "ip-address",
        f"{H}.network._host_cidr",
        lambda v: hub_with(
            network=NetworkOptions(dns=ClusterDns.node_local_dns(kube_dns_service_ip=v))
        ),
        "ClusterDns.node_local_dns",
        bad=("10.96.0.10/32", "kube-dns", "10.96.0.10\n", ""),
    ),
    dataclass_param(
        "ClusterDns.node_local_dns",
        "local_address",
        "DNS egress ipBlock /32",
        "ip-address",
        f"{H}.network._host_cidr",
        lambda v: hub_with(
            network=NetworkOptions(
                dns=ClusterDns.node_local_dns(kube_dns_service_ip="10.96.0.10", local_address=v)
            )
        ),
        "ClusterDns.node_local_dns",
        bad=("169.254.20.10/32", "x"),
    ),
    dataclass_param(
        "ClusterDns.node_local_dns",
        "namespace",
        "DNS egress namespaceSelector",
        "dns-label",
        f"{H}.network.ClusterDns.check",
        lambda v: hub_with(
            network=NetworkOptions(
                dns=ClusterDns.node_local_dns(kube_dns_service_ip="10.96.0.10", namespace=v)
            )
        ),
        _HUB,
    ),
    dataclass_param(
        "ClusterDns.node_local_dns",
        "pod_labels",
        "DNS egress podSelector",
        "labels",
        f"{H}.network.ClusterDns.check",
        lambda v: hub_with(
            network=NetworkOptions(
                dns=ClusterDns.node_local_dns(kube_dns_service_ip="10.96.0.10", pod_labels=v)
            )
        ),
        _HUB,
        bad=({"k8s app": "x"},),
        strings=False,
    ),
)
for _field, _kind, _bad, _strings in (
    ("class_name", "dns-subdomain", None, True),
    ("namespace", "dns-label", None, True),
    ("pod_labels", "labels", ({"app name": "x"}, {}), False),
    ("cidrs", "cidrs", ("10.0.0.0/8", ["10.0.0.1/8"]), False),
    ("annotations", "annotations", None, False),
):
    _add(
        dataclass_param(
            "IngressController",
            _field,
            f"Ingress class, proxy NetworkPolicy ({_field})",
            _kind,
            f"{H}.ingress.IngressController.check",
            lambda v, f=_field: hub_with(
                ingress=IngressOptions(
                    controller=IngressController(
                        **{
                            "class_name": "nginx",
                            "namespace": "ingress-nginx",
                            "pod_labels": {"app": "nginx"},
                            f: v,
                        }
                    )
                )
            ),
            _HUB,
            bad=_bad,
            strings=_strings,
        )
    )
for _preset in ("nginx", "traefik"):
    for _field, _kind, _bad, _strings in (
        ("namespace", "dns-label", None, True),
        ("class_name", "dns-subdomain", None, True),
        ("pod_labels", "labels", ({"app name": "x"},), False),
    ):
        _add(
            dataclass_param(
                f"IngressController.{_preset}",
                _field,
                f"Ingress class, proxy NetworkPolicy ({_field})",
                _kind,
                f"{H}.ingress.IngressController.check",
                lambda v, p=_preset, f=_field: hub_with(
                    ingress=IngressOptions(controller=getattr(IngressController, p)(**{f: v}))
                ),
                _HUB,
                bad=_bad,
                strings=_strings,
            )
        )


def _postgres(**fields: Any) -> Objects:
    settings: dict[str, Any] = {
        "host": "pg.db",
        "database": "hub",
        "user": "hub",
        "password": SecretRef("hub-db", "password"),
    }
    settings.update(fields)
    return hub_with(database=HubDatabase.postgres(**settings))


_add(
    dataclass_param(
        "HubDatabase.sqlite_pvc",
        "size",
        "PVC hub-db-dir storage",
        "memory",
        "core.quantities.parse_memory",
        lambda v: hub_with(database=HubDatabase.sqlite_pvc(size=v)),
        _HUB,
    ),
    dataclass_param(
        "HubDatabase.sqlite_pvc",
        "storage_class",
        "PVC storageClassName",
        "dns-subdomain",
        f"{R}.check_dns_subdomain",
        lambda v: hub_with(database=HubDatabase.sqlite_pvc(storage_class=v)),
        _HUB,
    ),
    dataclass_param(
        "HubDatabase.postgres",
        "host",
        "JupyterHub.db_url host; NetworkPolicy",
        "dns-subdomain",
        f"{H}.database.HubDatabase.check",
        lambda v: _postgres(host=v),
        _HUB,
    ),
    dataclass_param(
        "HubDatabase.postgres",
        "database",
        "JupyterHub.db_url path (URL-quoted)",
        "token",
        f"{R}.check_text",
        lambda v: _postgres(database=v),
        _HUB,
    ),
    dataclass_param(
        "HubDatabase.postgres",
        "user",
        "JupyterHub.db_url user (URL-quoted)",
        "token",
        f"{R}.check_text",
        lambda v: _postgres(user=v),
        _HUB,
    ),
    dataclass_param(
        "HubDatabase.postgres",
        "password",
        "env PGPASSWORD secretKeyRef",
        "secret-ref",
        "core.secrets.check_secret",
        lambda v: _postgres(password=v),
        _HUB,
        strings=False,
    ),
    dataclass_param(
        "HubDatabase.postgres",
        "port",
        "JupyterHub.db_url port; NetworkPolicy port",
        "port-number",
        f"{R}.check_int",
        lambda v: _postgres(port=v),
        _HUB,
        strings=False,
    ),
    dataclass_param(
        "HubDatabase.postgres",
        "ssl_mode",
        "JupyterHub.db_url sslmode",
        "enum",
        f"{R}.check_choice",
        lambda v: _postgres(ssl_mode=v),
        _HUB,
        bad=("REQUIRE", "on"),
    ),
    dataclass_param(
        "SecretRef",
        "name",
        "secretKeyRef.name (a Secret name)",
        "dns-subdomain",
        "core.secrets.SecretRef",
        lambda v: _postgres(password=SecretRef(v, "password")),
        "SecretRef",
    ),
    dataclass_param(
        "SecretRef",
        "key",
        "secretKeyRef.key",
        "config-map-key",
        "core.secrets.SecretRef",
        lambda v: _postgres(password=SecretRef("hub-db", v)),
        "SecretRef",
        bad=("a b", "..x", "", "k\n"),
    ),
)

for _field, _kind, _bad in (
    ("client_id", "token", None),
    ("client_secret", "secret-ref", ("the-actual-secret",)),
    ("authorize_url", "https-url", None),
    ("token_url", "https-url", None),
    ("userdata_url", "https-url", None),
    ("username_claim", "token", None),
    ("scopes", "token-list", ("openid email", ["open id"], ["openid\n"])),
    ("allowed_users", "text-list", None),
    ("allowed_groups", "text-list", None),
    ("admin_users", "text-list", None),
    ("admin_groups", "text-list", None),
    ("groups_claim", "token", None),
    ("allow_all", "bool", None),
    ("login_service", "text", None),
):
    _add(
        Param(
            "OidcAuth",
            _field,
            f"GenericOAuthenticator.{_field}",
            _kind,
            "addons.signin.oidc.OidcAuth.settings",
            lambda v, f=_field: oidc_with(**{f: v}),
            _HUB,
            bad=_bad,
            strings=_kind in ("token", "https-url", "text"),
        )
    )
_add(
    Param(
        "OidcAuth.cloudflare_access_saas",
        "team_domain",
        "the provider's URLs",
        "team-domain",
        "addons.signin.oidc.OidcAuth.cloudflare_access_saas",
        lambda v: saas_with(team_domain=v),
        "OidcAuth.cloudflare_access_saas",
        bad=(
            "team.example.com",
            "team.cloudflareaccess.com\n",
            "https://team.cloudflareaccess.com",
        ),
    ),
    Param(
        "OidcAuth.cloudflare_access_saas",
        "client_id",
        "the provider's URLs, GenericOAuthenticator.client_id",
        "url-segment",
        "addons.signin.oidc.OidcAuth.cloudflare_access_saas",
        lambda v: saas_with(client_id=v),
        "OidcAuth.cloudflare_access_saas",
        bad=("a/b", "a b", "<client id>", ""),
    ),
)
for _field in (
    "client_secret",
    "username_claim",
    "scopes",
    "allowed_users",
    "allowed_groups",
    "admin_users",
    "admin_groups",
    "groups_claim",
    "allow_all",
    "login_service",
):
    _oidc = next(p for p in INVENTORY if p.api == "OidcAuth" and p.name == _field)
    _add(
        Param(
            "OidcAuth.cloudflare_access_saas",
            _field,
            _oidc.reaches,
            _oidc.kind,
            _oidc.checked_in,
            lambda v, f=_field: saas_with(**{f: v}),
            _HUB,
            bad=_oidc.bad,
            strings=_oidc.strings,
        )
    )

for _field, _kind, _bad, _strings in (
    ("team_domain", "team-domain", ("team.example.com", "team.cloudflareaccess.com\n"), True),
    ("audience", "text", ("", " tag", "tag\n"), True),
    ("allowed_emails", "email-list", ("a@example.com", ["not an email"], ["a@b\x00"]), False),
    ("allowed_email_domains", "domain-list", ("example.com", ["exa mple.com"]), False),
    ("allowed_groups", "text-list", None, False),
    ("admin_users", "email-list", (["not an email"],), False),
    ("allow_service_tokens", "bool", None, False),
    ("allow_all", "bool", None, False),
    ("jwks_url", "https-url", ("ftp://x.example.com", "https://x.example.com/certs\n"), True),
):
    _add(
        Param(
            "CloudflareAccessAuth",
            _field,
            f"CloudflareAccessAuthenticator.{_field}",
            _kind,
            "addons.signin.cloudflare_access.CloudflareAccessAuth.settings",
            lambda v, f=_field: cloudflare_with(**{f: v}),
            _HUB,
            bad=_bad,
            strings=_strings,
        )
    )

# Sessions, paths and edge of the hub (issues 14 and 16).
_add(
    hub_param(
        "cookie_max_age_days",
        "JupyterHub.cookie_max_age_days",
        "seconds>0",
        "hub.hub._check_session_limits",
        bad=(0, -1, True, "1", 15, float("nan")),
        strings=False,
    ),
    hub_param(
        "token_expires_in_max_seconds",
        "JupyterHub.token_expires_in_max_seconds",
        "int>=1",
        "hub.hub._check_session_limits",
        bad=(0, 59, True, "86400", 1.5, 366 * 86400),
        strings=False,
    ),
    hub_param(
        "base_url",
        "JupyterHub.base_url; probes, Ingress/HTTPRoute paths, proxy error target, culler URL",
        "base-url",
        "hub.hub.check_base_url",
        bad=("jupyter", "/jupyter", "jupyter/", "/a b/", "/a/../b/", "/a\n/", 7),
    ),
    hub_param(
        "gateway",
        "HTTPRoute jupyterhub (parentRefs, hostnames); proxy NetworkPolicy peers",
        "options",
        "hub.edge.GatewayRoute",
        bad=("my-gateway", {"name": "gw"}),
        strings=False,
    ),
    hub_param(
        "public_service",
        "Service proxy-public (type, loadBalancerSourceRanges); NetworkPolicy proxy-public-clients",
        "options",
        "hub.edge.PublicService",
        bad=("LoadBalancer", True),
        strings=False,
    ),
    hub_param(
        "redirect_domains",
        "the redirect HTTPRoute/Ingress hosts",
        "host-name-list",
        "core.rules.check_domain",
        bad=("old.example.com", ["Old.Example.com"], ["old example.com"], [DOMAIN], [7]),
        strings=False,
    ),
    Param(
        "OidcAuth",
        "auth_refresh_age",
        "Authenticator.auth_refresh_age",
        "int>=1",
        "addons.signin.oidc.OidcAuth.settings",
        lambda v: oidc_with(auth_refresh_age=v),
        _HUB,
        bad=(0, True, "300", 3601),
        strings=False,
    ),
    Param(
        "OidcAuth",
        "user_server_domain",
        "JupyterHub.subdomain_host; proxy host routing; Ingress hosts",
        "host-name",
        "hub.hub (beside the hub's domain)",
        lambda v: oidc_with(user_server_domain=v),
        _HUB,
        bad=(
            "Users.Example.org",
            "users example.org",
            DOMAIN,
            "x." + DOMAIN,
            "https://u.example.org",
        ),
    ),
    Param(
        "CloudflareAccessAuth",
        "user_server_domain",
        "JupyterHub.subdomain_host; tunnel hosts *.<domain>",
        "host-name",
        "addons.signin.cloudflare_access.CloudflareAccessAuth._user_server_layout",
        lambda v: cloudflare_with(user_server_domain=v),
        _HUB,
        bad=("Users.Example.org", "users example.org", DOMAIN, "x." + DOMAIN),
    ),
    Param(
        "CloudflareAccessAuth",
        "user_server_audience",
        "the AUD the hub refuses (CloudflareAccessAuthenticator)",
        "text",
        "addons.signin.cloudflare_access.CloudflareAccessAuth._user_server_layout",
        lambda v: cloudflare_with(user_server_audience=v),
        _HUB,
        bad=("", "   ", "aud-tag", None),
        strings=False,
    ),
    Param(
        "CloudflareAccessAuth",
        "user_servers_on_hub_host",
        "the shared layout (a loud opt-in)",
        "bool",
        "addons.signin.cloudflare_access.CloudflareAccessAuth._user_server_layout",
        lambda v: cloudflare_with(user_servers_on_hub_host=v),
        _HUB,
        bad=(True, 1, "true"),
        strings=False,
    ),
    Param(
        "CloudflareAccessAuth",
        "allow_ingress",
        "an Ingress beside header sign-in (a loud opt-in)",
        "bool",
        "hub.hub (front door check)",
        lambda v: cloudflare_with(allow_ingress=v),
        _HUB,
        bad=(1, "true", None),
        strings=False,
    ),
    Param(
        "ServiceCatalogEntry.jupyterhub",
        "base_url",
        "card url https://<domain><base_url>",
        "base-url",
        "hub.hub.check_base_url",
        lambda v: hub_with(
            ingress=IngressOptions(
                annotations=ServiceCatalogEntry.jupyterhub(DOMAIN, base_url=v).ingress_annotations()
            )
        ),
        "ServiceCatalogEntry",
        bad=("jupyter", "/a b/", "/x"),
    ),
)

# The seven bindings' factories: their own options, then the options they all share.
_BINDING_OWN: dict[str, tuple[tuple[str, str, str, tuple[Any, ...] | None], ...]] = {
    "trino": (
        (
            "catalog",
            "env TRINO_CATALOG, trino-cli.properties",
            "no-space-text",
            ("ice berg", "iceberg\n", "{x}"),
        ),
        (
            "user",
            "env TRINO_USER (a KubeSpawner template)",
            "templated-user",
            ("a b", "{unknown}", ""),
        ),
        ("schema", "env TRINO_SCHEMA", "no-space-text", ("a b",)),
        ("password", "env TRINO_PASSWORD secretKeyRef", "secret-ref", ("hunter2",)),
        ("tls", "env TRINO_HTTP_SCHEME", "bool", None),
    ),
    "s3": (
        ("access_key_id", "env AWS_ACCESS_KEY_ID secretKeyRef", "secret-ref", ("AKIA...",)),
        ("secret_access_key", "env AWS_SECRET_ACCESS_KEY secretKeyRef", "secret-ref", ("s3cr3t",)),
        ("region", "env AWS_DEFAULT_REGION, aws-config", "no-space-text", ("us east",)),
        ("bucket", "env S3_BUCKET", "s3-bucket", ("Notebooks", "a", "notebooks\n")),
        ("tls", "env S3_ENDPOINT_URL scheme", "bool", None),
        ("verify_tls", "env S3_VERIFY_TLS", "bool", ("yes", 1)),
    ),
    "mlflow": (
        ("tls", "env MLFLOW_TRACKING_URI scheme", "bool", None),
        ("username", "env MLFLOW_TRACKING_USERNAME", "no-space-text", ("a b",)),
        ("password", "env MLFLOW_TRACKING_PASSWORD secretKeyRef", "secret-ref", ("hunter2",)),
        ("artifact_store", "env MLFLOW_S3_ENDPOINT_URL", "binding", ("http://minio:9000",)),
    ),
    "postgres": (
        ("database", "env PGDATABASE, pg_service.conf", "no-space-text", ("my db",)),
        ("user", "env PGUSER", "no-space-text", ("my user",)),
        ("password", "env PGPASSWORD secretKeyRef", "secret-ref", ("hunter2",)),
        ("sslmode", "env PGSSLMODE", "enum", ("require",)),
    ),
    "datahub": (
        ("tls", "env DATAHUB_GMS_URL scheme", "bool", None),
        ("token", "env DATAHUB_GMS_TOKEN secretKeyRef", "secret-ref", ("eyJhbGciOi",)),
    ),
    "ray": (),
    "kafka": (
        ("security_protocol", "env KAFKA_SECURITY_PROTOCOL", "enum", ("SASL_SSL",)),
        ("sasl_mechanism", "env KAFKA_SASL_MECHANISM (with SASL only)", "enum", ("PLAIN",)),
        (
            "sasl_username",
            "env KAFKA_SASL_USERNAME (with SASL only)",
            "no-space-text",
            ("jupyter",),
        ),
        (
            "sasl_password",
            "env KAFKA_SASL_PASSWORD secretKeyRef (with SASL only)",
            "secret-ref",
            ("hunter2",),
        ),
    ),
}
_BINDING_COMMON: tuple[tuple[str, str, str, tuple[Any, ...] | None], ...] = (
    (
        "host",
        "env *_HOST/URLs; NetworkPolicy namespace",
        "dns-subdomain",
        ("Trino.data", "trino.data\n", "10.0.0.1", "http://trino.data"),
    ),
    ("port", "env ports/URLs", "port-number", None),
    ("namespace", "NetworkPolicy namespaceSelector", "dns-label", ("Data", "other")),
    ("target_port", "NetworkPolicy egress port", "port-number", None),
    ("service_pod_labels", "NetworkPolicy podSelector.matchLabels", "labels", ({"app name": "x"},)),
    (
        "name",
        "mount /etc/platform-services/<name>, volume binding-<name>, label value",
        "dns-label",
        ("Trino", "a" * 56, "trino\n"),
    ),
    ("namespace_wide", "NetworkPolicy egress to every pod of the namespace", "bool", (1, "yes")),
)
for _factory, _own in _BINDING_OWN.items():
    for _field, _reaches, _kind, _bad in (*_own, *_BINDING_COMMON):
        _add(
            Param(
                f"PlatformServiceBinding.{_factory}",
                _field,
                _reaches,
                _kind,
                "addons.bindings (factory, ServiceBinding checks)",
                lambda v, f=_factory, n=_field: binding_with(f, **{n: v}),
                f"test/{_factory}",
                bad=_bad,
                strings=_kind in ("dns-subdomain", "dns-label", "no-space-text", "templated-user"),
            )
        )

for _field, _reaches, _kind, _bad, _strings in (
    ("hub", "the hub it attaches to", "hub", ("hub",), False),
    ("tunnel_token", "env TUNNEL_TOKEN secretKeyRef", "secret-ref", ("eyJh...",), False),
    ("replicas", "Deployment spec.replicas", "int>=1", None, False),
    ("image", "containers[].image", "image", None, True),
    ("cpu_request", "resources.requests.cpu", "cpu", None, True),
    ("memory_request", "resources.requests.memory", "memory", None, True),
    ("cpu_limit", "resources.limits.cpu", "cpu", None, True),
    ("memory_limit", "resources.limits.memory", "memory", None, True),
    ("exclusive", "entry-point warning", "bool", None, False),
):
    _add(
        Param(
            "CloudflareTunnel",
            _field,
            _reaches,
            _kind,
            "addons.tunnel.CloudflareTunnel",
            lambda v, f=_field: tunnel_with(**{f: v}),
            "test/tunnel",
            bad=_bad,
            strings=_strings,
        )
    )

for _field, _reaches, _kind, _bad, _strings in (
    ("hub", "the hub it observes", "hub", ("hub",), False),
    ("prometheus_namespace", "NetworkPolicy namespaceSelector", "dns-label", None, True),
    ("prometheus_pod_labels", "NetworkPolicy podSelector.matchLabels", "labels", None, False),
    (
        "monitor_labels",
        "ServiceMonitor/PodMonitor/PrometheusRule metadata.labels",
        "labels",
        None,
        False,
    ),
    ("scrape_interval", "endpoints[].interval", "prometheus-duration", None, True),
    (
        "dashboard_label",
        "ConfigMap metadata.labels",
        "label-pair",
        (("a b", "1"), ("grafana_dashboard", "a b"), "grafana_dashboard"),
        False,
    ),
    ("dashboard_folder", "annotation grafana_folder", "text", None, True),
    ("dashboard_namespace", "ConfigMap metadata.namespace", "dns-label", None, True),
    ("datasource_uid", "dashboard datasource uid", "token", ("", "a b", 'a"b'), True),
    ("server_capacity", "alert JupyterHubServersNearCapacity", "int>=1", None, False),
    ("spawn_failure_rate", "alert threshold", "ratio", None, False),
    ("spawn_p95_seconds", "alert threshold", "seconds>0", None, False),
    ("api_p95_seconds", "alert threshold", "seconds>0", None, False),
    ("api_5xx_ratio", "alert threshold", "ratio", None, False),
    ("event_loop_lag_seconds", "alert threshold", "seconds>0", None, False),
    ("runbook_base_url", "annotation runbook_url", "url-or-path", None, True),
):
    _add(
        Param(
            "ObservabilityBundle",
            _field,
            _reaches,
            _kind,
            "addons.observability.bundle.ObservabilityBundle",
            lambda v, f=_field: observability_with(**{f: v}),
            "test/observability",
            bad=_bad,
            strings=_strings,
        )
    )

for _field, _reaches, _kind, _bad, _strings in (
    ("secret_name", "ExternalSecret target.name (a Secret name)", "dns-subdomain", None, True),
    ("store", "secretStoreRef.name", "dns-subdomain", None, True),
    (
        "keys",
        "data[].secretKey / remoteRef",
        "secret-keys",
        ({}, {"a b": "x"}, {"key": ""}, {"key": "path\n"}),
        False,
    ),
    ("store_kind", "secretStoreRef.kind", "enum", ("clustersecretstore",), True),
    ("refresh_interval", "spec.refreshInterval (metav1.Duration)", "go-duration", None, True),
):
    _add(
        Param(
            "ExternalSecretSource",
            _field,
            _reaches,
            _kind,
            "addons.external_secrets.ExternalSecretSource",
            lambda v, f=_field: external_secret_with(**{f: v}),
            "test/secret" if _field != "keys" else "",
            bad=_bad,
            strings=_strings,
        )
    )

for _field, _reaches, _kind, _bad, _strings in (
    ("name", "Application metadata.name", "dns-label", None, True),
    (
        "repo_url",
        "spec.source.repoURL",
        "repo-url",
        ("github.com/x/y", "https://github.com/x/y\n", "file:///x"),
        True,
    ),
    ("path", "spec.source.path", "repo-path", ("/dist", "dist/../x", "dist/", "dist\n"), True),
    ("destination_namespace", "spec.destination.namespace", "dns-label", None, True),
    ("target_revision", "spec.source.targetRevision", "git-ref", ("main\n", "a..b", ""), True),
    ("project", "spec.project", "dns-subdomain", None, True),
    (
        "destination_server",
        "spec.destination.server",
        "https-url",
        ("http://x:6443", "https://x:6443\n"),
        True,
    ),
    ("argocd_namespace", "Application metadata.namespace", "dns-label", None, True),
    ("sync_wave", "annotation argocd.argoproj.io/sync-wave", "int", (True, "1", 1.5), False),
    ("automated", "syncPolicy.automated", "bool", None, False),
    ("prune", "syncPolicy.automated.prune", "bool", None, False),
    ("self_heal", "syncPolicy.automated.selfHeal", "bool", None, False),
    ("retry_limit", "syncPolicy.retry.limit", "int>=0", None, False),
    (
        "backoff_duration",
        "syncPolicy.retry.backoff.duration",
        "argocd-duration",
        ("10", "10 s", "0s", "10s\n"),
        True,
    ),
    ("backoff_factor", "syncPolicy.retry.backoff.factor", "int>=1", None, False),
    (
        "backoff_max_duration",
        "syncPolicy.retry.backoff.maxDuration",
        "argocd-duration",
        ("3 m", "1s"),
        True,
    ),
    ("create_namespace", "syncOptions CreateNamespace=true", "bool", None, False),
    ("server_side_apply", "syncOptions ServerSideApply=true", "bool", None, False),
):
    _add(
        Param(
            "ArgoCdApplication",
            _field,
            _reaches,
            _kind,
            "delivery.argocd.ArgoCdApplication",
            lambda v, f=_field: argocd_with(**{f: v}),
            "test/app",
            bad=_bad,
            strings=_strings,
        )
    )

_add(
    Param(
        "Environment",
        "name",
        "chart id, folder dist/<name>, Application name",
        "dns-label",
        "delivery.synth.Environment",
        lambda v: environment_with(name=v),
        "Environment",
        bad=("Prod", "prod\n", "argocd"),
    ),
    Param(
        "Environment",
        "cluster",
        "documentation only",
        "dns-label",
        "delivery.synth.Environment",
        lambda v: environment_with(cluster=v),
        "Environment",
    ),
    Param(
        "Environment",
        "destination_server",
        "Application spec.destination.server",
        "https-url",
        "delivery.synth.Environment",
        lambda v: environment_with(destination_server=v),
        "Environment",
        bad=("http://x", "https://x\n"),
    ),
    Param(
        "Environment",
        "values",
        "read by your build function",
        "mapping",
        "delivery.synth.Environment",
        lambda v: environment_with(values=v),
        "Environment",
        bad=(),
        strings=False,
    ),
    Param(
        "Environment.chart",
        "namespace",
        "every object's metadata.namespace",
        "dns-label",
        "delivery.synth.Environment.chart",
        lambda v: chart_with(namespace=v),
        "Environment 'prod'",
        bad=("Jupyter", "jupyter\n"),
    ),
    Param(
        "Environment.chart",
        "labels",
        "every object's metadata.labels",
        "labels",
        "delivery.synth.Environment.chart",
        lambda v: chart_with(labels=v),
        "Environment 'prod'",
        strings=False,
    ),
    Param(
        "Environment.chart",
        "disable_resource_name_hashes",
        "generated names",
        "bool",
        "delivery.synth.Environment.chart",
        lambda v: chart_with(disable_resource_name_hashes=v),
        "Environment 'prod'",
        bad=(1, "yes"),
        strings=False,
    ),
    Param(
        "Environment.add_application",
        "repo_url",
        "Application spec.source.repoURL",
        "repo-url",
        "delivery.argocd.ArgoCdApplication",
        lambda v: add_application_with(repo_url=v),
        "test/prod",
        bad=("x",),
    ),
    Param(
        "Environment.add_application",
        "destination_namespace",
        "Application spec.destination.namespace",
        "dns-label",
        "delivery.argocd.ArgoCdApplication",
        lambda v: add_application_with(destination_namespace=v),
        "test/prod",
    ),
    Param(
        "Environment.add_application",
        "app_name",
        "Application metadata.name (<app_name>-<env>)",
        "dns-label",
        "delivery.argocd.ArgoCdApplication",
        lambda v: add_application_with(app_name=v),
        "test/prod",
        bad=("Jupyter", "a" * 60),
    ),
    Param(
        "Environment.add_application",
        "dist",
        "Application spec.source.path",
        "repo-path",
        "delivery.argocd.ArgoCdApplication",
        lambda v: add_application_with(dist=v),
        "test/prod",
        bad=("/dist", "di st"),
    ),
    Param(
        "Environment.add_application",
        "**options",
        "ArgoCdApplication options (ApplicationOptions)",
        "typed",
        "delivery.argocd.ArgoCdApplication",
        lambda v: add_application_with(**v),
        "test/prod",
        bad=({"retry_limit": "5"},),
        strings=False,
    ),
)

for _field, _kind, _bad in (
    ("name", "text", None),
    ("url", "https-url", None),
    ("icon", "text", None),
    ("description", "text", None),
    ("category", "text", None),
    ("docs_url", "https-url", None),
    ("dashboard_url", "https-url", None),
):
    _add(
        Param(
            "ServiceCatalogEntry",
            _field,
            f"portal card {_field}; Ingress annotation",
            _kind,
            "delivery.portal.ServiceCatalogEntry",
            lambda v, f=_field: portal_with(**{f: v}),
            "ServiceCatalogEntry",
            bad=_bad,
        )
    )

_add(
    Param(
        "network_policy.tcp",
        "port",
        "NetworkPolicy ports[].port",
        "port",
        f"{R}.check (port number or name)",
        lambda v: policy_with(network_policy.tcp, v),
        "tcp",
        bad=(0, 70000, True, "HTTP", "a--b", "8080"),
    ),
    Param(
        "network_policy.udp",
        "port",
        "NetworkPolicy ports[].port",
        "port",
        f"{R}.check (port number or name)",
        lambda v: policy_with(network_policy.udp, v),
        "udp",
        bad=(0, "DNS"),
    ),
    Param(
        "network_policy.pods",
        "labels",
        "NetworkPolicy podSelector.matchLabels",
        "labels",
        f"{R}.check_labels",
        lambda v: policy_with(network_policy.pods, v),
        "pods",
        strings=False,
    ),
    Param(
        "network_policy.pods_in_namespace",
        "namespace",
        "namespaceSelector kubernetes.io/metadata.name",
        "dns-label",
        f"{R}.check_dns_label",
        lambda v: policy_with(network_policy.pods_in_namespace, v),
        "pods_in_namespace",
    ),
    Param(
        "network_policy.pods_in_namespace",
        "labels",
        "podSelector.matchLabels",
        "labels",
        f"{R}.check_labels",
        lambda v: policy_with(network_policy.pods_in_namespace, "data", v),
        "pods_in_namespace",
        strings=False,
    ),
    Param(
        "network_policy.cidrs",
        "blocks",
        "ipBlock.cidr",
        "cidrs",
        f"{R}.check_cidr",
        lambda v: policy_with(network_policy.cidrs, v),
        "cidrs",
        bad=("10.0.0.0/8", ["10.0.0.1/8"]),
        strings=False,
    ),
    Param(
        "hub.config",
        "Class.trait = value",
        "the generated hub_config.json",
        "trait",
        "hub.config.check_trait_value",
        lambda v: hub_config_with(*v),
        _HUB,
        bad=(
            ("JupyterHub", "concurent_spawn_limit", 10),
            ("KubeSpawner", "start_timeout", "600"),
            ("NoSuchClass", "x", 1),
            ("JupyterHub", "concurrent_spawn_limit", True),
            ("Spawner", "pre_spawn_hook", "f"),
        ),
        strings=False,
    ),
)


def kube_object_with(**options: Any) -> Objects:
    """A hub and a ``KubeObject`` (a ConfigMap) with ``options``."""
    chart = new_chart()
    _hub(chart).add_profile("small", display_name="Small", default=True)
    settings: dict[str, Any] = {"api_version": "v1", "kind": "ConfigMap", "body": {"data": {}}}
    settings.update(options)
    KubeObject(chart, "mine", **settings)
    return render(chart)


def hub_service_with(**options: Any) -> Objects:
    """A hub with ``hub.add_hub_service(**options)``."""
    chart = new_chart()
    hub = _hub(chart)
    hub.add_profile("small", display_name="Small", default=True)
    settings: dict[str, Any] = {"name": "mine", "scopes": ["read:metrics"]}
    settings.update(options)
    hub.add_hub_service(**settings)
    return render(chart)


def user_egress_with(**options: Any) -> Objects:
    """A hub with ``hub.network.allow_user_egress(**options)``."""
    chart = new_chart()
    hub = _hub(chart)
    hub.add_profile("small", display_name="Small", default=True)
    settings: dict[str, Any] = {
        "name": "singleuser-to-x",
        "to": [network_policy.pods({"app": "x"})],
        "ports": [network_policy.tcp(80)],
    }
    settings.update(options)
    assert hub.network is not None
    hub.network.allow_user_egress(**settings)
    return render(chart)


_add(
    Param(
        "KubeObject",
        "name",
        "metadata.name (a DNS subdomain; Namespace: label; Service: DNS-1035)",
        "dns-subdomain",
        "core.objects.KubeObject",
        lambda v: kube_object_with(name=v),
        "test/mine",
    ),
    Param(
        "KubeObject",
        "namespace",
        "metadata.namespace",
        "dns-label",
        "core.objects.KubeObject",
        lambda v: kube_object_with(namespace=v),
        "test/mine",
    ),
    Param(
        "KubeObject",
        "labels",
        "metadata.labels",
        "labels",
        f"{R}.check_labels",
        lambda v: kube_object_with(labels=v),
        "test/mine",
        strings=False,
    ),
    Param(
        "KubeObject",
        "annotations",
        "metadata.annotations",
        "annotations",
        f"{R}.check_annotations",
        lambda v: kube_object_with(annotations=v),
        "test/mine",
        strings=False,
    ),
    Param(
        "KubeObject",
        "finalizers",
        "metadata.finalizers (qualified names)",
        "label-key-list",
        "core.objects.KubeObject",
        lambda v: kube_object_with(finalizers=v),
        "test/mine",
        bad=(["bad finalizer"], ["a/b/c"]),
        strings=False,
    ),
    Param(
        "KubeObject",
        "wave",
        "annotation argocd.argoproj.io/sync-wave",
        "int",
        f"{R}.check_int",
        lambda v: kube_object_with(wave=v),
        "test/mine",
        bad=("1", True, 1.5),
        strings=False,
    ),
    Param(
        "KubeObject",
        "api_version",
        "apiVersion",
        "api-version",
        "core.objects._check_type",
        lambda v: kube_object_with(api_version=v),
        "test/mine",
        bad=("", "v 1", "v1\n", "apps/v1/x", "Apps/v1"),
        strings=False,  # whether the cluster serves it is the API server's call
    ),
    Param(
        "KubeObject",
        "kind",
        "kind",
        "kind",
        "core.objects._check_type",
        lambda v: kube_object_with(kind=v),
        "test/mine",
        bad=("", "Config Map", "ConfigMap\n", "1Map"),
        strings=False,  # whether the cluster serves it is the API server's call
    ),
    Param(
        "JupyterHub.add_hub_service",
        "name",
        "JupyterHub.services[].name, role <name>-service",
        "dns-label",
        f"{R}.check_dns_label",
        lambda v: hub_service_with(name=v),
        _HUB,
    ),
    Param(
        "JupyterHub.add_hub_service",
        "scopes",
        "JupyterHub.load_roles[].scopes",
        "token-list",
        "hub.JupyterHub._check_scope",
        lambda v: hub_service_with(scopes=v),
        _HUB,
        bad=("read:metrics", ["read metrics"], [""]),
        strings=False,
    ),
    Param(
        "JupyterHub.add_hub_service",
        "api_token_secret_key",
        "env JUPYTERHUB_SERVICE_TOKEN_* secretKeyRef.key",
        "config-map-key",
        f"{R}.CONFIG_MAP_KEY_RULE",
        lambda v: hub_service_with(api_token_secret_key=v),
        _HUB,
    ),
    Param(
        "JupyterHub.add_hub_service",
        "command",
        "JupyterHub.services[].command",
        "text-list",
        f"{R}.check_sequence",
        lambda v: hub_service_with(command=v),
        _HUB,
        bad=("python3 -m x", ["python3\n"]),
        strings=False,
    ),
    Param(
        "HubNetworkPolicies.allow_user_egress",
        "name",
        "NetworkPolicy metadata.name",
        "dns-label",
        f"{R}.check_dns_label",
        lambda v: user_egress_with(name=v),
        "test/hub/NetworkPolicies",
    ),
    Param(
        "HubNetworkPolicies.allow_user_egress",
        "ports",
        "NetworkPolicy egress ports",
        "ports",
        "hub.network.HubNetworkPolicies.allow_user_egress",
        lambda v: user_egress_with(ports=v),
        "test/hub/NetworkPolicies",
        bad=([],),
        strings=False,
    ),
    Param(
        "ServiceCatalogEntry.jupyterhub",
        "domain",
        "card url https://<domain>/",
        "host-name",
        "delivery.portal.ServiceCatalogEntry",
        lambda v: hub_with(
            ingress=IngressOptions(
                annotations=ServiceCatalogEntry.jupyterhub(v).ingress_annotations()
            )
        ),
        "ServiceCatalogEntry",
        bad=("jupyter.example.com\n", "a b"),
    ),
    Param(
        "ServiceCatalogEntry.jupyterhub",
        "docs_url",
        "card docsUrl",
        "https-url",
        "delivery.portal.ServiceCatalogEntry",
        lambda v: hub_with(
            ingress=IngressOptions(
                annotations=ServiceCatalogEntry.jupyterhub(DOMAIN, docs_url=v).ingress_annotations()
            )
        ),
        "ServiceCatalogEntry",
    ),
    Param(
        "ServiceCatalogEntry.jupyterhub",
        "dashboard_url",
        "card dashboardUrl",
        "https-url",
        "delivery.portal.ServiceCatalogEntry",
        lambda v: hub_with(
            ingress=IngressOptions(
                annotations=ServiceCatalogEntry.jupyterhub(
                    DOMAIN, dashboard_url=v
                ).ingress_annotations()
            )
        ),
        "ServiceCatalogEntry",
    ),
    Param(
        "ServiceCatalogEntry.jupyterhub",
        "category",
        "card category",
        "text",
        "delivery.portal.ServiceCatalogEntry",
        lambda v: hub_with(
            ingress=IngressOptions(
                annotations=ServiceCatalogEntry.jupyterhub(DOMAIN, category=v).ingress_annotations()
            )
        ),
        "ServiceCatalogEntry",
    ),
)

# -- user servers (issue 13): SingleUser, volumes, files, containers, homes, the pre-puller ------

_SU = "jupyter_constructs.hub.singleuser"
_VOL = "jupyter_constructs.hub.volumes"
_CON = "jupyter_constructs.hub.containers"
_BUSYBOX = "busybox:1.36"


def _volume(factory: str, **fields: Any) -> UserVolume:
    defaults: dict[str, dict[str, Any]] = {
        "existing_claim": {
            "name": "datasets",
            "claim_name": "datasets",
            "mount_path": "/home/jovyan/datasets",
        },
        "nfs_export": {
            "name": "nfsdata",
            "server": "nfs.example.internal",
            "path": "/exports/data",
            "mount_path": "/home/jovyan/nfs",
        },
        "config_map": {"name": "conf", "config_map_name": "team-conf", "mount_path": "/etc/team"},
        "secret": {"name": "ssh", "secret_name": "team-ssh", "mount_path": "/etc/team-ssh"},
        "empty_dir": {"name": "scratch", "mount_path": "/scratch"},
    }
    settings = {**defaults[factory], **fields}
    return getattr(UserVolume, factory)(**settings)  # type: ignore[no-any-return]


def _container(**fields: Any) -> UserContainer:
    return UserContainer(**{"name": "seed", "image": _BUSYBOX, **fields})


_VOLUMES_BAD = (
    "datasets",
    [_volume("empty_dir", name="Scratch")],
    [_volume("empty_dir"), _volume("empty_dir")],
    [_volume("empty_dir", mount_path="/home/jovyan")],
    [_volume("empty_dir", mount_path="/scratch\n")],
    [_volume("existing_claim", claim_name="data_sets")],
)
_FILES_BAD = (
    {"a b": ExtraFile("/etc/x.json", text="{}")},
    {"cfg": "text"},
    {"cfg": ExtraFile("relative.json", text="{}")},
    {"cfg": ExtraFile("/etc/x.json", text="{}", data={})},
    {"cfg": ExtraFile("/etc/x.yaml", data={"a": 1})},
    {"cfg": ExtraFile("/etc/x.json", data={"a": float("nan")})},
    {"cfg": ExtraFile("/etc/x.json", text="{}", mode=0o1000)},
)
_CONTAINERS_BAD = (
    "seed",
    [_container(name="Seed")],
    [_container(name="notebook")],
    [_container(image="busybox")],
    [_container(image="busybox:1.36\n")],
    [_container(env={"A=B": "x"})],
    [_container(env={"A": "a\x00b"})],
    [_container(command="true")],
    [_container(command=["a\x00"])],
    [_container(mounts=[Mount("nope", "/x")])],
    [_container(mounts=[Mount("home", "relative")])],
    [_container(run_as_user=0)],
    [_container(), _container()],
)
_RESOURCES_BAD = (
    {"NVIDIA GPU": "1"},
    {"nvidia.com/gpu": "1.5"},
    {"nvidia.com/gpu": "1\n"},
    {"nvidia.com/gpu": "1" * 19},
    {"nvidia.com/gpu": 1},
    {"cpu": "1"},
    {"kubernetes.io/x": "1"},
    {"hugepages-2Mi": "1 Gi"},
    {"ephemeral-storage": "10 Gi"},
)
_OWNED_LABELS_BAD = (
    {"gpu type": "a100"},
    {"app": "a b"},
    {"team\n": "x"},
    {"app.kubernetes.io/name": "x"},
    {"jupyter-constructs.io/profile": "other"},
    {"team": None},
    {"team": "{nope}"},
)

# (field, reaches, kind, checked in, bad values, takes strings): SingleUser's fields, which
# hub.add_profile takes under the same names (the profile's value wins).
_USER_SETTINGS: tuple[tuple[str, str, str, str, tuple[Any, ...] | None, bool], ...] = (
    (
        "env",
        "containers[].env (KubeSpawner.environment)",
        "env",
        f"{_SU}.check_env ({R}.is_env_var_name)",
        ({"A=B": "x"}, {"1A": "x"}, {"A": 1}, {"A": "a\x00b"}, {"A": "{unknown}"}, "A=1"),
        False,
    ),
    (
        "default_url",
        "KubeSpawner.default_url",
        "server-path",
        f"{_SU}.SingleUser.check",
        ("lab", " /lab", "/lab\n", "/{nope}", 7),
        True,
    ),
    (
        "cmd",
        "KubeSpawner.cmd (the notebook container's command)",
        "argv",
        f"{_SU}.check_command",
        ("jupyterhub-singleuser", [], [1], ["a\x00"]),
        False,
    ),
    (
        "uid",
        "securityContext.runAsUser",
        "int>=1",
        f"{_SU}.check_id",
        (0, True, "1000", 2**31, -1),
        False,
    ),
    ("gid", "securityContext.runAsGroup", "int>=0", f"{_SU}.check_id", None, False),
    ("fs_gid", "securityContext.fsGroup", "int>=0", f"{_SU}.check_id", None, False),
    (
        "image_pull_secrets",
        "spec.imagePullSecrets[].name (Secret names)",
        "dns-subdomain-list",
        f"{_SU}.SingleUser.check ({R}.is_dns_subdomain)",
        ("regcred", ["Reg_Cred"], ["regcred\n"], [7]),
        False,
    ),
    (
        "volumes",
        "spec.volumes, volumeMounts (unique names and paths, restricted sources)",
        "user-volumes",
        f"{_VOL}.UserVolume.check; {_SU}.PodParts",
        _VOLUMES_BAD,
        False,
    ),
    (
        "extra_files",
        "ConfigMap singleuser-extra-files data; subPath mounts",
        "extra-files",
        f"{_VOL}.ExtraFile.check; {_VOL}.check_file_name",
        _FILES_BAD,
        False,
    ),
    (
        "init_containers",
        "spec.initContainers (restricted securityContext)",
        "user-containers",
        f"{_CON}.UserContainer.check; core.security.secure_container",
        _CONTAINERS_BAD,
        False,
    ),
    (
        "extra_containers",
        "spec.containers (sidecars, restricted securityContext)",
        "user-containers",
        f"{_CON}.UserContainer.check; core.security.secure_container",
        _CONTAINERS_BAD,
        False,
    ),
    (
        "extra_labels",
        "pod metadata.labels (not the ones NetworkPolicies select by)",
        "labels",
        f"{_SU}.check_labels ({R}.is_label_key/is_label_value)",
        _OWNED_LABELS_BAD,
        False,
    ),
    (
        "extra_annotations",
        "pod metadata.annotations",
        "annotations",
        f"{_SU}.check_annotations ({R}.is_annotation_key)",
        ({"not a key": "x"}, {"a/b/c": "x"}, {"x": 1}, {"hub.jupyter.org/x": "y"}, {"x": None}),
        False,
    ),
    (
        "extra_resources",
        "resources requests/limits (extended resources)",
        "extended-resources",
        f"{_SU}.check_extra_resources ({R}.is_extended_resource_name, is_whole_number)",
        _RESOURCES_BAD,
        False,
    ),
    (
        "shm_size",
        "emptyDir medium Memory sizeLimit at /dev/shm",
        "memory",
        "core.quantities.parse_memory",
        None,
        True,
    ),
    (
        "post_start_command",
        "lifecycle.postStart.exec.command",
        "argv",
        f"{_SU}.check_command",
        ("echo hi", [], ["echo", 1], ["a\x00"]),
        False,
    ),
    (
        "pre_stop_command",
        "lifecycle.preStop.exec.command",
        "argv",
        f"{_SU}.check_command",
        ("sync", [], [1], ["a\x00"]),
        False,
    ),
    (
        "stop_grace_period",
        "KubeSpawner.delete_grace_period (terminationGracePeriodSeconds)",
        "int>=1",
        f"{_SU}.SingleUser.check",
        (0, True, "30", 3601, 1.5),
        False,
    ),
)
for _field, _reaches, _kind, _where, _bad, _strings in _USER_SETTINGS:
    _add(
        dataclass_param(
            "SingleUser",
            _field,
            _reaches,
            _kind,
            _where,
            lambda v, f=_field: hub_with(singleuser=SingleUser(**{f: v})),
            _HUB,
            bad=_bad,
            strings=_strings,
        )
    )
    if _field not in ("env", "image_pull_secrets", "post_start_command"):  # rows above
        _add(profile_param(_field, _reaches, _kind, _where, bad=_bad, strings=_strings))

_add(
    hub_param(
        "core_pods",
        "nodeSelector/tolerations of the hub's own pods (NodePool: label keys and values, "
        "tolerations checked in hub.scheduling)",
        "options",
        f"{H}.scheduling.NodePool.check",
        bad=("core", {"node-role": "core"}),
        strings=False,
    ),
    hub_param(
        "gpu_isolation",
        "required node affinity and NVIDIA_VISIBLE_DEVICES of servers of profiles without "
        "a GPU (GpuIsolation: label keys and values, resource domains)",
        "options",
        f"{H}.gpus.GpuIsolation.check",
        good=(
            GpuIsolation(keep_off_gpu_nodes=False),
            GpuIsolation(gpu_node_labels={"accelerator": ()}),
            None,
        ),
        bad=(
            True,
            "on",
            GpuIsolation(keep_off_gpu_nodes=1),  # type: ignore[arg-type]
            GpuIsolation(gpu_node_labels={}),
            GpuIsolation(gpu_node_labels={"gpu node": ()}),
            GpuIsolation(gpu_node_labels={"nvidia.com/gpu.present": "true"}),
            GpuIsolation(gpu_node_labels={"nvidia.com/gpu.present": ("not a value!",)}),
            GpuIsolation(gpu_resource_domains=("nvidia.com/gpu",)),
        ),
        strings=False,
    ),
    hub_param(
        "user_pods",
        "nodeSelector/tolerations of user servers (NodePool)",
        "options",
        f"{H}.scheduling.NodePool.check",
        bad=("user", {"node-role": "user"}),
        strings=False,
    ),
    hub_param(
        "singleuser",
        "every user server (SingleUser)",
        "options",
        "hub.JupyterHub",
        bad=({"env": {}}, "lab"),
        strings=False,
    ),
    hub_param(
        "image_puller",
        "DaemonSets image-puller* (True, False or ImagePullerOptions)",
        "bool",
        f"{R}.check_bool; {H}.prepuller.ImagePullerOptions.check",
        bad=(1, "true", None),
        strings=False,
    ),
    dataclass_param(
        "SharedData",
        "existing_claim",
        "whether the claim is rendered",
        "bool",
        f"{R}.check_bool",
        lambda v: hub_with(shared_data=SharedData(existing_claim=v)),
        _HUB,
        bad=(1, "true"),
        strings=False,
    ),
)


def _storage(**fields: Any) -> Objects:
    return hub_with(user_storage=UserStorage(**fields))


def _shared_home(**fields: Any) -> Objects:
    return _storage(**{"type": HomeStorage.SHARED, "claim_name": "homes", **fields})


_add(
    dataclass_param(
        "UserStorage",
        "type",
        "the home volume: a claim per user, a folder of one claim, or none",
        "enum",
        f"{H}.storage.UserStorage.check",
        lambda v: _storage(type=v),
        _HUB,
        bad=("dynamic", None),
        strings=False,
    ),
    dataclass_param(
        "UserStorage",
        "pvc_name_template",
        "KubeSpawner.pvc_name_template (PVC metadata.name once expanded)",
        "claim-template",
        f"{_VOL}.check_claim_template ({R}.is_dns_subdomain)",
        lambda v: _storage(pvc_name_template=v),
        _HUB,
        bad=(
            "claim-{unescaped_username}",
            "Claim-{username}",
            "claim",
            "claim-{nope}",
            "claim-{username}\n",
        ),
    ),
    dataclass_param(
        "UserStorage",
        "slug_scheme",
        "KubeSpawner.slug_scheme",
        "enum",
        f"{H}.storage.UserStorage.check",
        lambda v: _storage(slug_scheme=v),
        _HUB,
        bad=("safe",),
        strings=False,
    ),
    dataclass_param(
        "UserStorage",
        "delete_pvc",
        "KubeSpawner.delete_pvc",
        "bool",
        f"{R}.check_bool",
        lambda v: _storage(delete_pvc=v),
        _HUB,
        bad=(1, "false"),
        strings=False,
    ),
    dataclass_param(
        "UserStorage",
        "claim_name",
        "volumes[home].persistentVolumeClaim.claimName (shared homes)",
        "dns-subdomain",
        f"{_VOL}.check_claim_name ({R}.is_dns_subdomain)",
        lambda v: _shared_home(claim_name=v),
        _HUB,
    ),
    dataclass_param(
        "UserStorage",
        "sub_path",
        "volumeMounts[home].subPath (a folder per user)",
        "relative-template",
        f"{_VOL}.check_relative_path",
        lambda v: _shared_home(sub_path=v),
        _HUB,
        bad=("/{username}", "../{username}", "{unescaped_username}", "fixed", "{username}\n"),
    ),
    dataclass_param(
        "UserStorage",
        "nfs",
        "PersistentVolume spec.nfs (shared homes on NFS)",
        "options",
        f"{_VOL}.NfsExport.check",
        lambda v: _shared_home(nfs=v),
        _HUB,
        bad=("nfs.example.internal:/exports/home",),
        strings=False,
    ),
    dataclass_param(
        "UserStorage",
        "make_home_dir",
        "the home-dir init container (shared homes)",
        "bool",
        f"{R}.check_bool",
        lambda v: _shared_home(make_home_dir=v),
        _HUB,
        bad=(1, "true"),
        strings=False,
    ),
    dataclass_param(
        "UserStorage",
        "mount_path",
        "volumeMounts[home].mountPath",
        "absolute-path",
        f"{_VOL}.check_mount_path ({R}.is_absolute_path)",
        lambda v: _storage(mount_path=v),
        _HUB,
    ),
)


def _nfs_home(**fields: Any) -> Objects:
    export = NfsExport(**{"server": "nfs.example.internal", "path": "/exports/home", **fields})
    return _shared_home(nfs=export)


_HOST_OR_IP_BAD = (
    "NFS.example.internal",
    "nfs example",
    "nfs.example.internal\n",
    "",
    "http://nfs",
)
_MOUNT_OPTIONS_BAD = ("nfsvers=4.1", ["a,b"], [""], ["hard\n"], ["a b"])
_add(
    dataclass_param(
        "NfsExport",
        "server",
        "PersistentVolume spec.nfs.server",
        "host-or-ip",
        f"{_VOL}.NfsExport.check ({R}.is_dns_subdomain, ipaddress)",
        lambda v: _nfs_home(server=v),
        _HUB,
        bad=_HOST_OR_IP_BAD,
    ),
    dataclass_param(
        "NfsExport",
        "path",
        "PersistentVolume spec.nfs.path",
        "absolute-path",
        f"{_VOL}.check_mount_path",
        lambda v: _nfs_home(path=v),
        _HUB,
    ),
    dataclass_param(
        "NfsExport",
        "mount_options",
        "PersistentVolume spec.mountOptions",
        "mount-options",
        f"{_VOL}.NfsExport.check",
        lambda v: _nfs_home(mount_options=v),
        _HUB,
        bad=_MOUNT_OPTIONS_BAD,
        strings=False,
    ),
    dataclass_param(
        "NfsExport",
        "capacity",
        "PersistentVolume spec.capacity.storage, PVC requests.storage",
        "memory",
        "core.quantities.parse_memory",
        lambda v: _nfs_home(capacity=v),
        _HUB,
    ),
)

_FILE_MODE_BAD = (0o1000, -1, True, "0644")


def _in_profile_volume(factory: str, **fields: Any) -> Objects:
    return profile_with(volumes=[_volume(factory, **fields)])


# (factory, parameter, reaches, kind, checked in, bad, strings)
_VOLUME_FACTORY_ROWS: tuple[tuple[str, str, str, str, str, tuple[Any, ...] | None, bool], ...] = (
    *(
        (f, "name", "spec.volumes[].name", "dns-label", f"{_VOL}.UserVolume.check", None, True)
        for f in ("existing_claim", "nfs_export", "config_map", "secret", "empty_dir")
    ),
    *(
        (
            f,
            "mount_path",
            "volumeMounts[].mountPath",
            "absolute-path",
            f"{_VOL}.check_mount_path",
            None,
            True,
        )
        for f in ("existing_claim", "nfs_export", "config_map", "secret", "empty_dir")
    ),
    *(
        (f, "read_only", "volumeMounts[].readOnly", "bool", f"{R}.check_bool", (1, "true"), False)
        for f in ("existing_claim", "nfs_export")
    ),
    *(
        (
            f,
            "sub_path",
            "volumeMounts[].subPath",
            "relative-template",
            f"{_VOL}.check_relative_path",
            ("/abs", "../x", "{unescaped_username}", "x\n", "{nope}"),
            True,
        )
        for f in ("existing_claim", "nfs_export")
    ),
    (
        "existing_claim",
        "claim_name",
        "volumes[].persistentVolumeClaim.claimName (KubeSpawner expands it)",
        "claim-template",
        f"{_VOL}.check_claim_template",
        ("Data", "data_sets", "{unescaped_username}", "data\n", "{nope}"),
        True,
    ),
    (
        "nfs_export",
        "claim_name",
        "PVC metadata.name (rendered once)",
        "dns-subdomain",
        f"{_VOL}.check_claim_template",
        ("Data", "claim-{username}", "data\n"),
        True,
    ),
    (
        "nfs_export",
        "server",
        "PersistentVolume spec.nfs.server",
        "host-or-ip",
        f"{_VOL}.NfsExport.check",
        _HOST_OR_IP_BAD,
        True,
    ),
    (
        "nfs_export",
        "path",
        "PersistentVolume spec.nfs.path",
        "absolute-path",
        f"{_VOL}.check_mount_path",
        None,
        True,
    ),
    (
        "nfs_export",
        "mount_options",
        "PersistentVolume spec.mountOptions",
        "mount-options",
        f"{_VOL}.NfsExport.check",
        _MOUNT_OPTIONS_BAD,
        False,
    ),
    (
        "nfs_export",
        "capacity",
        "PersistentVolume spec.capacity.storage",
        "memory",
        "core.quantities.parse_memory",
        None,
        True,
    ),
    (
        "config_map",
        "config_map_name",
        "volumes[].configMap.name",
        "dns-subdomain",
        f"{_VOL}.check_claim_name",
        None,
        True,
    ),
    (
        "secret",
        "secret_name",
        "volumes[].secret.secretName",
        "dns-subdomain",
        f"{_VOL}.check_claim_name",
        None,
        True,
    ),
    *(
        (
            f,
            "items",
            f"volumes[].{f}.items",
            "file-items",
            f"{_VOL}.FileItem.check",
            ("a", [FileItem("a b", "a")], [FileItem("a", "/abs")], ["a"]),
            False,
        )
        for f in ("config_map", "secret")
    ),
    *(
        (
            f,
            "default_mode",
            f"volumes[].{f}.defaultMode",
            "file-mode",
            f"{_VOL}.check_mode",
            _FILE_MODE_BAD,
            False,
        )
        for f in ("config_map", "secret")
    ),
    (
        "empty_dir",
        "size_limit",
        "volumes[].emptyDir.sizeLimit",
        "memory",
        "core.quantities.parse_memory",
        None,
        True,
    ),
    (
        "empty_dir",
        "memory",
        "volumes[].emptyDir.medium",
        "bool",
        f"{R}.check_bool",
        (1, "true"),
        False,
    ),
)
for _factory, _field, _reaches, _kind, _where, _bad, _strings in _VOLUME_FACTORY_ROWS:
    _add(
        Param(
            f"UserVolume.{_factory}",
            _field,
            _reaches,
            _kind,
            _where,
            lambda v, fa=_factory, f=_field: _in_profile_volume(fa, **{f: v}),
            _PROFILE,
            bad=_bad,
            strings=_strings,
        )
    )


def _file_item(**fields: Any) -> Objects:
    item = FileItem(**{"key": "token", "path": "token", **fields})
    return _in_profile_volume("secret", items=[item])


def _extra_file(**fields: Any) -> Objects:
    extra = ExtraFile(**{"mount_path": "/etc/jupyter/settings.json", "text": "{}", **fields})
    return profile_with(extra_files={"settings": extra})


def _user_container(**fields: Any) -> Objects:
    return profile_with(init_containers=[_container(**fields)])


def _mount(**fields: Any) -> Objects:
    mount = Mount(**{"volume": "home", "path": "/home/jovyan", **fields})
    return _user_container(mounts=[mount])


def _puller(**fields: Any) -> Objects:
    return hub_with(image_puller=ImagePullerOptions(**fields))


_add(
    dataclass_param(
        "FileItem",
        "key",
        "volumes[].secret.items[].key",
        "config-map-key",
        f"{_VOL}.FileItem.check ({R}.is_config_map_key)",
        lambda v: _file_item(key=v),
        _PROFILE,
    ),
    dataclass_param(
        "FileItem",
        "path",
        "volumes[].secret.items[].path",
        "relative-path",
        f"{_VOL}.check_relative_path",
        lambda v: _file_item(path=v),
        _PROFILE,
        bad=("/abs", "../x", "", "x\n", "a/../../b"),
    ),
    dataclass_param(
        "FileItem",
        "mode",
        "volumes[].secret.items[].mode",
        "file-mode",
        f"{_VOL}.check_mode",
        lambda v: _file_item(mode=v),
        _PROFILE,
        bad=_FILE_MODE_BAD,
        strings=False,
    ),
    dataclass_param(
        "ExtraFile",
        "mount_path",
        "volumeMounts[extra-files].mountPath",
        "absolute-path",
        f"{_VOL}.check_mount_path",
        lambda v: _extra_file(mount_path=v),
        _PROFILE,
    ),
    dataclass_param(
        "ExtraFile",
        "text",
        "ConfigMap singleuser-extra-files data (any text)",
        "file-text",
        f"{_VOL}.ExtraFile.check",
        lambda v: _extra_file(text=v),
        _PROFILE,
        bad=(7, b"{}", "a\x7fb", "a\x85b", "line\u2028break", "a\ufffe"),
    ),
    dataclass_param(
        "ExtraFile",
        "data",
        "ConfigMap singleuser-extra-files data (written as JSON)",
        "json-data",
        f"{_VOL}.ExtraFile.check",
        lambda v: _extra_file(text=None, data=v),
        _PROFILE,
        bad=({"a": {1, 2}}, {"a": float("nan")}, {"a": float("inf")}),
        strings=False,
    ),
    dataclass_param(
        "ExtraFile",
        "mode",
        "configMap items[].mode",
        "file-mode",
        f"{_VOL}.check_mode",
        lambda v: _extra_file(mode=v),
        _PROFILE,
        bad=_FILE_MODE_BAD,
        strings=False,
    ),
    dataclass_param(
        "UserContainer",
        "name",
        "initContainers[].name",
        "dns-label",
        f"{_CON}.UserContainer.check ({R}.is_dns_label)",
        lambda v: _user_container(name=v),
        _PROFILE,
        bad=("Seed", "notebook", "seed\n", "", "-seed"),
    ),
    dataclass_param(
        "UserContainer",
        "image",
        "initContainers[].image",
        "image",
        f"{R}.check_image",
        lambda v: _user_container(image=v),
        _PROFILE,
    ),
    dataclass_param(
        "UserContainer",
        "command",
        "initContainers[].command",
        "argv",
        f"{_CON}.UserContainer.check",
        lambda v: _user_container(command=v),
        _PROFILE,
        bad=("true", [1], ["a\x00"], ["{nope}"]),
        strings=False,
    ),
    dataclass_param(
        "UserContainer",
        "args",
        "initContainers[].args",
        "argv",
        f"{_CON}.UserContainer.check",
        lambda v: _user_container(args=v),
        _PROFILE,
        bad=("x", [1], ["a\x00"]),
        strings=False,
    ),
    dataclass_param(
        "UserContainer",
        "env",
        "initContainers[].env",
        "env",
        f"{_CON}.UserContainer.check ({R}.is_env_var_name)",
        lambda v: _user_container(env=v),
        _PROFILE,
        bad=({"A=B": "x"}, {"1A": "x"}, {"A": 1}, {"A": "a\x00b"}, "A=1"),
        strings=False,
    ),
    dataclass_param(
        "UserContainer",
        "mounts",
        "initContainers[].volumeMounts",
        "mounts",
        f"{_CON}.UserContainer.check; {_SU}.PodParts.check_mounts",
        lambda v: _user_container(mounts=v),
        _PROFILE,
        bad=("home", [("home", "/home/jovyan")], [Mount("nope", "/x")]),
        strings=False,
    ),
    dataclass_param(
        "UserContainer",
        "resources",
        "initContainers[].resources",
        "resources",
        "core.quantities.Resources.checked",
        lambda v: _user_container(resources=v),
        _PROFILE,
        bad=("500m",),
        strings=False,
    ),
    dataclass_param(
        "UserContainer",
        "image_pull_policy",
        "initContainers[].imagePullPolicy",
        "enum",
        f"{_CON}.UserContainer.check",
        lambda v: _user_container(image_pull_policy=v),
        _PROFILE,
        bad=("ifnotpresent", "Always\n", ""),
    ),
    dataclass_param(
        "UserContainer",
        "read_only_root_filesystem",
        "initContainers[].securityContext.readOnlyRootFilesystem",
        "bool",
        f"{R}.check_bool",
        lambda v: _user_container(read_only_root_filesystem=v),
        _PROFILE,
        bad=(1, "true", None),
        strings=False,
    ),
    dataclass_param(
        "UserContainer",
        "run_as_user",
        "initContainers[].securityContext.runAsUser",
        "int>=1",
        f"{_CON}.UserContainer.check",
        lambda v: _user_container(run_as_user=v),
        _PROFILE,
        bad=(0, True, "1000", -1),
        strings=False,
    ),
    dataclass_param(
        "Mount",
        "volume",
        "initContainers[].volumeMounts[].name (a volume of the pod)",
        "dns-label",
        f"{_CON}.UserContainer.check; {_SU}.PodParts.check_mounts",
        lambda v: _mount(volume=v),
        _PROFILE,
        bad=("nope", "Home", "home\n", ""),
    ),
    dataclass_param(
        "Mount",
        "path",
        "initContainers[].volumeMounts[].mountPath",
        "absolute-path",
        f"{_VOL}.check_mount_path",
        lambda v: _mount(path=v),
        _PROFILE,
    ),
    dataclass_param(
        "Mount",
        "read_only",
        "initContainers[].volumeMounts[].readOnly",
        "bool",
        f"{R}.check_bool",
        lambda v: _mount(read_only=v),
        _PROFILE,
        bad=(1, "true"),
        strings=False,
    ),
    dataclass_param(
        "Mount",
        "sub_path",
        "initContainers[].volumeMounts[].subPath",
        "relative-template",
        f"{_VOL}.check_relative_path",
        lambda v: _mount(sub_path=v),
        _PROFILE,
        bad=("/abs", "../x", "{unescaped_username}", "x\n", "{nope}"),
    ),
    dataclass_param(
        "ImagePullerOptions",
        "extra_images",
        "DaemonSet image-puller initContainers[].image",
        "image-list",
        f"{R}.check_image",
        lambda v: _puller(extra_images=v),
        _HUB,
        bad=("busybox:1.36", ["busybox"], ["busybox:1.36\n"], [7]),
        strings=False,
    ),
    dataclass_param(
        "ImagePullerOptions",
        "pull_secrets",
        "DaemonSet image-puller spec.imagePullSecrets[].name",
        "dns-subdomain-list",
        f"{R}.check_sequence/check_dns_subdomain",
        lambda v: _puller(pull_secrets=v),
        _HUB,
        bad=("regcred", ["Reg_Cred"], ["regcred\n"]),
        strings=False,
    ),
    dataclass_param(
        "ImagePullerOptions",
        "resources",
        "DaemonSet image-puller containers[].resources",
        "resources",
        "core.quantities.Resources.checked",
        lambda v: _puller(resources=v),
        _HUB,
        bad=("10m",),
        strings=False,
    ),
    dataclass_param(
        "ImagePullerOptions",
        "extra_tolerations",
        "DaemonSet image-puller spec.tolerations",
        "toleration-list",
        f"{R}.check_toleration",
        lambda v: _puller(extra_tolerations=v),
        _HUB,
        bad=("dedicated", [{"key": "x"}], [Toleration("gpu type")]),
        strings=False,
    ),
)


# -- added by the merge of main (hub features, day two, argocd): issue 11's rules on them -----

_P = f"{H}.profile_options"
_LONG_TEXT = "x" * (256 * 1024 + 1)


def _choice(**fields: Any) -> ProfileChoice:
    settings: dict[str, Any] = {"display_name": "Small", "default": True}
    settings.update(fields)
    return ProfileChoice(**settings)


def options_with(option: Any = None, **choice_fields: Any) -> Objects:
    """A default profile ``x`` with one option ``size`` (one choice with ``choice_fields``)."""
    if option is None:
        option = ProfileOption("Size", {"small": _choice(**choice_fields)})
    return profile_with(options={"size": option})


def unlisted_with(**fields: Any) -> Objects:
    """A profile option ``image`` whose ``UnlistedChoice`` has ``fields``."""
    settings: dict[str, Any] = {
        "display_name": "Image",
        "validation_regex": r"^quay\.io/jupyter/[a-z-]+:[0-9a-f]+$",
    }
    settings.update(fields)
    option = ProfileOption(
        "Image",
        {"scipy": _choice(image="quay.io/jupyter/scipy-notebook:2024-01-15")},
        unlisted_choice=UnlistedChoice(**settings),
    )
    return options_with(option)


def restricted_profile_with(**options: Any) -> Objects:
    """A hub with an open default profile and a restricted profile ``x`` with ``options``."""
    chart = new_chart()
    hub = _hub(chart)
    hub.add_profile("small", display_name="Small", default=True)
    hub.add_profile("x", display_name="X", **options)
    return render(chart)


def hub_calls(method: str, *args: Any) -> Objects:
    """A hub on which ``hub.<method>(*args)`` was called."""
    chart = new_chart()
    hub = _hub(chart)
    hub.add_profile("small", display_name="Small", default=True)
    getattr(hub, method)(*args)
    return render(chart)


def backups_with(**options: Any) -> Objects:
    """A hub with ``VeleroBackups`` that has ``options``."""
    chart = new_chart()
    hub = _hub(chart)
    hub.add_profile("small", display_name="Small", default=True)
    settings: dict[str, Any] = {"hub": hub}
    settings.update(options)
    VeleroBackups(chart, "backups", **settings)
    return render(chart)


_add(
    Param(
        "ProfileOption",
        "display_name",
        "profile_list[].profile_options[].display_name",
        "text",
        f"{_P}.check_options ({R}.check_text)",
        lambda v: options_with(ProfileOption(v, {"small": _choice()})),
        _PROFILE,
    ),
    Param(
        "ProfileOption",
        "choices",
        "profile_list[].profile_options[].choices",
        "typed",
        f"{_P}.check_options",
        lambda v: options_with(ProfileOption("Size", v)),
        _PROFILE,
        bad=({}, [_choice()], {"Small": _choice()}, {"small": "Small"}),
        strings=False,
    ),
    Param(
        "ProfileOption",
        "unlisted_choice",
        "profile_list[].profile_options[].unlisted_choice",
        "typed",
        f"{_P}._check_unlisted",
        lambda v: options_with(ProfileOption("Size", {"small": _choice()}, unlisted_choice=v)),
        _PROFILE,
        bad=(r"^x$", {"display_name": "Image"}),
        strings=False,
    ),
)
for _field, _reaches, _kind, _bad, _strings in (
    ("display_name", "profile_options[].choices[].display_name", "text", None, True),
    ("default", "profile_options[].choices[].default", "bool", None, False),
    ("image", "kubespawner_override.image", "image", None, True),
    ("cpu_request", "kubespawner_override.cpu_guarantee", "cpu", None, True),
    ("cpu_limit", "kubespawner_override.cpu_limit", "cpu", None, True),
    ("memory_request", "kubespawner_override.mem_guarantee", "memory", None, True),
    ("memory_limit", "kubespawner_override.mem_limit", "memory", None, True),
    (
        "env",
        "kubespawner_override.environment (containers[].env)",
        "env",
        ({"A=B": "x"}, {"1A": "x"}, {"A": 1}, {"A": "a\x00b"}, {"A": "{unknown}"}, "A=1"),
        False,
    ),
    (
        "default_url",
        "kubespawner_override.default_url",
        "server-path",
        ("lab", " /lab", "/lab\n", "/{nope}", 7),
        True,
    ),
):
    _add(
        Param(
            "ProfileChoice",
            _field,
            _reaches,
            _kind,
            f"{_P}._check_choice",
            lambda v, f=_field: options_with(**{f: v}),
            _PROFILE,
            bad=_bad,
            strings=_strings,
        )
    )
for _field, _reaches, _kind, _bad, _strings in (
    ("display_name", "unlisted_choice.display_name", "text", None, True),
    (
        "validation_regex",
        "unlisted_choice.validation_regex (KubeSpawner re.match)",
        "typed",
        ("[", r"^quay\.io/.*", r"quay\.io/.*$", "^.*$", 7),
        False,
    ),
    ("validation_message", "unlisted_choice.validation_message", "text-or-empty", None, True),
    (
        "image",
        "unlisted_choice.kubespawner_override.image",
        "typed",
        ("quay.io/jupyter/scipy-notebook:latest", "{value}{other}", "{value", 7),
        False,
    ),
    ("display_name_in_choices", "unlisted_choice.display_name_in_choices", "text", None, True),
):
    _add(
        Param(
            "UnlistedChoice",
            _field,
            _reaches,
            _kind,
            f"{_P}._check_unlisted",
            lambda v, f=_field: unlisted_with(**{f: v}),
            _PROFILE,
            bad=_bad,
            strings=_strings,
        )
    )
_add(
    hub_param(
        "named_servers",
        "JupyterHub.allow_named_servers, named_server_limit_per_user",
        "options",
        "hub.JupyterHub",
        bad=(3, True),
        strings=False,
    ),
    hub_param(
        "tunables",
        "JupyterHub / Spawner traits",
        "options",
        "hub.JupyterHub",
        bad=({"log_level": "INFO"},),
        strings=False,
    ),
    Param(
        "NamedServers",
        "limit_per_user",
        "JupyterHub.named_server_limit_per_user",
        "int>=0",
        f"{H}.named_servers.NamedServers.check",
        lambda v: hub_with(named_servers=NamedServers(limit_per_user=v)),
        _HUB,
        strings=False,
    ),
    Param(
        "NamedServers",
        "home_per_server",
        "KubeSpawner.pvc_name_template (claim-{user_server})",
        "bool",
        f"{H}.named_servers.NamedServers.check ({R}.check_bool)",
        lambda v: hub_with(named_servers=NamedServers(home_per_server=v)),
        _HUB,
        strings=False,
    ),
)
for _field, _reaches, _kind, _bad in (
    ("concurrent_spawn_limit", "JupyterHub.concurrent_spawn_limit", "int>=0", None),
    ("active_server_limit", "JupyterHub.active_server_limit", "int>=0", None),
    ("consecutive_failure_limit", "Spawner.consecutive_failure_limit", "int>=0", None),
    ("redirect_to_server", "JupyterHub.redirect_to_server", "bool", (1, "true")),
    ("shutdown_on_logout", "JupyterHub.shutdown_on_logout", "bool", (1, "true")),
    (
        "template_vars",
        "JupyterHub.template_vars",
        "typed",
        ({"not an identifier": "x"}, {"x": 1}, ["announcement"], "announcement"),
    ),
    ("log_level", "JupyterHub.log_level", "enum", ("debug", "INFO ", "", 10)),
):
    _add(
        Param(
            "HubTunables",
            _field,
            _reaches,
            _kind,
            f"{H}.tunables.HubTunables.check",
            lambda v, f=_field: hub_with(tunables=HubTunables(**{f: v})),
            _HUB,
            bad=_bad,
            strings=False,
        )
    )
_add(
    Param(
        "NotebookProfile",
        "options",
        "profile_list[].profile_options",
        "typed",
        f"{_P}.check_options",
        lambda v: profile_with(options=v),
        _PROFILE,
        bad=(
            ["size"],
            {"Size": ProfileOption("Size", {"small": _choice()})},
            {"size--x": ProfileOption("Size", {"small": _choice()})},
            {"profile": ProfileOption("Size", {"small": _choice()})},
            {"size": {"small": _choice()}},
        ),
        strings=False,
    ),
    *(
        Param(
            "NotebookProfile",
            _field,
            f"hub profile_access.{_field.removeprefix('allowed_')} (enforced in the hub)",
            "text-list",
            f"{H}.profiles.NotebookProfile._check_names",
            lambda v, f=_field: restricted_profile_with(**{f: v}),
            _PROFILE,
            strings=False,
        )
        for _field in ("allowed_groups", "allowed_users")
    ),
    Param(
        "NotebookProfile",
        "former_slugs",
        "NetworkPolicy podSelector jupyter-constructs.io/profile In [slug, *former_slugs]; "
        "hub profile_renames (a stored former choice starts this profile)",
        "text-list",
        f"{H}.profiles.NotebookProfile._check_former_slugs; {H}.hub.JupyterHub."
        "_check_former_slugs (not another profile's slug or former slug)",
        lambda v: profile_with(former_slugs=v),
        _PROFILE,
        bad=("medium", ["Medium"], ["medium\n"], [7], ["x"], ["a" * 51], ["small", "small"]),
        strings=False,
    ),
)
for _field in ("remove_named_servers", "cull_admin_users"):
    _add(
        Param(
            "IdleCuller",
            _field,
            f"idle-culler --{_field.replace('_', '-')}",
            "bool",
            f"{H}.culler.IdleCuller.check",
            lambda v, f=_field: hub_with(idle_culler=IdleCuller(cull_users=True, **{f: v})),
            _HUB,
            strings=False,
        )
    )
_add(
    Param(
        "ArgoCdApplication",
        "cascade_delete",
        "metadata.finalizers (resources-finalizer.argocd.argoproj.io)",
        "bool",
        "delivery.argocd.ArgoCdApplication",
        lambda v: argocd_with(cascade_delete=v),
        "test/app",
        strings=False,
    ),
    Param(
        "JupyterHub.set_trait",
        "class_name",
        "the hub config's traits (JSON)",
        "trait",
        f"{H}.tunables.check_trait",
        lambda v: hub_calls("set_trait", v, "api_page_default_limit", 10),
        _HUB,
        bad=("Jupyterhub", "os", "", 7),
        strings=False,
    ),
    Param(
        "JupyterHub.set_trait",
        "trait",
        "the hub config's traits (JSON)",
        "trait",
        f"{H}.tunables.check_trait",
        lambda v: hub_calls("set_trait", "JupyterHub", v, 10),
        _HUB,
        bad=("concurent_spawn_limit", "", "concurrent_spawn_limit\n", 7),
        strings=False,
    ),
    Param(
        "JupyterHub.set_trait",
        "value",
        "the hub config's traits (JSON)",
        "trait",
        f"{H}.config.check_trait_value (kinds of hub.traits)",
        lambda v: hub_calls("set_trait", "JupyterHub", "api_page_default_limit", v),
        _HUB,
        bad=("10", 1.5, float("nan"), {10}, [10]),
        strings=False,
    ),
    Param(
        "JupyterHub.add_python_file",
        "name",
        "hub ConfigMap key (IsConfigMapKey), file name in the hub",
        "config-map-key",
        f"{H}.custom_code.check_python_file",
        lambda v: hub_calls("add_python_file", v, "c.JupyterHub.cleanup_servers = False\n"),
        _HUB,
        bad=("Hooks.py", "hooks", "a/b.py", "hooks.py\n", "..py", "", 7),
        strings=True,
    ),
    Param(
        "JupyterHub.add_python_file",
        "source",
        "hub ConfigMap data (compiled at synth)",
        "file-text",
        f"{H}.custom_code.check_python_file",
        lambda v: hub_calls("add_python_file", "hooks.py", v),
        _HUB,
        bad=("def (:", "x = 1\x00", 7, _LONG_TEXT),
        strings=False,
    ),
    Param(
        "JupyterHub.add_template",
        "name",
        "hub ConfigMap key template.<name> (IsConfigMapKey)",
        "config-map-key",
        f"{H}.custom_code.check_template",
        lambda v: hub_calls("add_template", v, '{% extends "templates/page.html" %}\n'),
        _HUB,
        bad=("page", "../page.html", "a/page.html", "page.html\n", ".html", "", 7),
        strings=True,
    ),
    Param(
        "JupyterHub.add_template",
        "text",
        "hub ConfigMap data",
        "file-text",
        f"{H}.custom_code.check_template",
        lambda v: hub_calls("add_template", "page.html", v),
        _HUB,
        bad=(7, _LONG_TEXT),
        strings=False,
    ),
)
for _field, _reaches, _kind, _bad, _strings in (
    ("hub", "the hub whose namespace it backs up", "hub", ("hub",), False),
    (
        "schedule",
        "Schedule spec.schedule (cron)",
        "typed",
        ("0 3 * *", "daily", "0 3 * * *\nx", "", 7),
        False,
    ),
    (
        "retention",
        "Schedule spec.template.ttl",
        "go-duration",
        ("1 h", "1d", "", "1h\n", "0h", 60),
        False,
    ),
    (
        "volume_method",
        "Schedule spec.template snapshot settings",
        "enum",
        ("snapshots", "", 7),
        False,
    ),
    ("velero_namespace", "Schedule metadata.namespace", "dns-label", None, True),
    ("storage_location", "Schedule spec.template.storageLocation", "dns-label", None, True),
    ("name", "Schedule metadata.name", "dns-label", None, True),
):
    _add(
        Param(
            "VeleroBackups",
            _field,
            _reaches,
            _kind,
            "addons.backups.VeleroBackups",
            lambda v, f=_field: backups_with(**{f: v}),
            "test/backups",
            bad=_bad,
            strings=_strings,
        )
    )


# -- sign-in providers and the hub's edge (issue 14 part B) ---------------------------------

_TENANT = "6f1c2b9e-0d4a-4a57-9a43-2b8f3c1d7e55"
_PROVIDER_DEFAULTS: dict[str, tuple[type[Any], dict[str, Any]]] = {
    "GitHubAuth": (
        GitHubAuth,
        {
            "client_id": "gh-client",
            "client_secret": SecretRef("github", "client-secret"),
            "allowed_organizations": ["data-org", "data-org:analysts"],
        },
    ),
    "GoogleAuth": (
        GoogleAuth,
        {
            "client_id": "g-client",
            "client_secret": SecretRef("google", "client-secret"),
            "hosted_domains": ["example.org"],
            "allowed_groups": {"example.org": ["data@example.org"]},
            "gsuite_administrator": {"example.org": "it-admin"},
            "service_account_key": SecretRef("google-sa", "key.json"),
        },
    ),
    "AzureAdAuth": (
        AzureAdAuth,
        {
            "tenant_id": _TENANT,
            "client_id": "az-client",
            "client_secret": SecretRef("azure", "client-secret"),
            "allowed_groups": ["0d1e2f3a-aaaa-bbbb-cccc-000000000001"],
        },
    ),
    "LdapAuth": (
        LdapAuth,
        {
            "server_address": "ldap.example.org",
            "server_cidrs": ["10.20.0.15/32"],
            "user_search_base": "ou=people,dc=example,dc=org",
            "search_user": "cn=hub,ou=services,dc=example,dc=org",
            "search_password": SecretRef("ldap", "search-password"),
            "allowed_groups": ["cn=data,ou=groups,dc=example,dc=org"],
        },
    ),
}


def provider_with(api: str, **options: Any) -> Objects:
    """A hub signing in with the provider ``api`` (``GitHubAuth``...) that has ``options``."""
    cls, defaults = _PROVIDER_DEFAULTS[api]
    return hub_with(auth=cls(**{**defaults, **options}))


def _provider(
    api: str,
    name: str,
    reaches: str,
    kind: str,
    *,
    bad: tuple[Any, ...] | None = None,
    good: tuple[Any, ...] | None = None,
    strings: bool = False,
    extra: dict[str, Any] | None = None,
) -> Param:
    module = "ldap" if api == "LdapAuth" else "oauth_providers"
    section = {
        "GitHubAuth": "GitHubOAuthenticator",
        "GoogleAuth": "GoogleOAuthenticator",
        "AzureAdAuth": "AzureAdOAuthenticator",
        "LdapAuth": "LDAPAuthenticator",
    }[api]
    return Param(
        api,
        name,
        reaches if "." in reaches or " " in reaches else f"{section}.{reaches}",
        kind,
        f"addons.signin.{module}.{api}.settings",
        lambda v: provider_with(api, **{**(extra or {}), name: v}),
        _HUB,
        bad=bad,
        good=good,
        strings=strings,
    )


LONG_LABEL = "a" * 64
_CIDRS_BAD = ("10.0.0.0/8", ["10.0.0.1/8"], ["10.0.0.0/33"], ["ldap.example.org"], [7])
_DN_BAD = ("", "people", "ou=people\n,dc=example,dc=org", " ou=people,dc=example", 7)

for _api in ("GitHubAuth", "GoogleAuth", "AzureAdAuth"):
    _add(
        _provider(_api, "client_id", "client_id", "token", good=("hub-client",), strings=True),
        _provider(
            _api,
            "client_secret",
            "env OAUTH_CLIENT_SECRET secretKeyRef",
            "secret-ref",
            good=(SecretRef("oauth", "client-secret"),),
        ),
        _provider(_api, "allowed_users", "allowed_users", "text-list", good=(["ada"],)),
        _provider(_api, "admin_users", "admin_users", "text-list", good=(["ada"],)),
        _provider(
            _api,
            "auth_refresh_age",
            "auth_refresh_age",
            "int>=1",
            bad=(0, -1, True, "300", 1.5, 3601),
            good=(60,),
        ),
    )
_add(
    _provider(
        "GitHubAuth",
        "allowed_organizations",
        "allowed_organizations",
        "github-org-list",
        bad=(
            "data-org",
            ["Data Org"],
            ["data-org:Data Team"],
            ["data-org\n"],
            ["data-org:team\n"],
            ["-org"],
            [""],
            [7],
        ),
        good=(["data-org", "data-org:analysts"],),
    ),
    _provider(
        "GitHubAuth",
        "teams_in_auth_state",
        "populate_teams_in_auth_state",
        "bool",
        good=(True,),
    ),
    _provider(
        "GitHubAuth",
        "github_url",
        "github_url",
        "https-origin",
        bad=(
            "http://github.example.com",
            "https://github.example.com\n",
            "https://github.example.com/api/v3",
            "https://",
            "github.example.com",
            7,
        ),
        good=("https://github.example.com",),
        strings=True,
    ),
    _provider(
        "GitHubAuth",
        "provider_cidrs",
        "NetworkPolicy hub-to-github ipBlock",
        "cidrs",
        bad=_CIDRS_BAD,
        good=(["10.30.0.0/24"],),
    ),
    _provider(
        "GoogleAuth",
        "hosted_domains",
        "hosted_domain",
        "host-name-list",
        bad=("example.org", [], ["Example.org"], ["exa mple.org"], ["example.org\n"], [7]),
        good=(["example.org"],),
    ),
    _provider(
        "GoogleAuth",
        "allow_all_in_domains",
        "allow_all",
        "bool",
        good=(True,),
        extra={"allowed_groups": {}},
    ),
    _provider(
        "GoogleAuth",
        "allowed_groups",
        "allowed_google_groups",
        "google-groups",
        bad=(
            ["data@example.org"],
            {"other.org": ["x@other.org"]},
            {"example.org": "data@example.org"},
            {"example.org": [""]},
            {"example.org": ["data@example.org\n"]},
        ),
        good=({"example.org": ["analysts@example.org"]},),
    ),
    _provider(
        "GoogleAuth",
        "admin_groups",
        "admin_google_groups",
        "google-groups",
        bad=(
            ["admins@example.org"],
            {"other.org": ["x@other.org"]},
            {"example.org": "admins@example.org"},
            {"example.org": [" admins@example.org"]},
        ),
        good=({"example.org": ["admins@example.org"]},),
    ),
    _provider(
        "GoogleAuth",
        "gsuite_administrator",
        "gsuite_administrator",
        "domain-to-name",
        bad=("it-admin", {}, {"example.org": ""}, {"example.org": "it admin"}, {"example.org": 7}),
        good=({"example.org": "admin"},),
    ),
    _provider(
        "GoogleAuth",
        "service_account_key",
        "a file of the hub's auth Secret volume",
        "secret-ref",
        bad=('{"type": "service_account"}',),
        good=(SecretRef("google-sa", "sa.json"),),
    ),
    _provider(
        "AzureAdAuth",
        "tenant_id",
        "tenant_id",
        "azure-tenant",
        bad=(
            "common",
            "organizations",
            "Consumers",
            "contoso",
            "",
            _TENANT + "\n",
            "Contoso.onmicrosoft.com",
            7,
        ),
        good=("contoso.onmicrosoft.com",),
        strings=True,
    ),
    _provider("AzureAdAuth", "allow_all_in_tenant", "allow_all", "bool", good=(True,)),
    _provider(
        "AzureAdAuth",
        "allowed_groups",
        "allowed_groups",
        "text-list",
        good=(["0d1e2f3a-aaaa-bbbb-cccc-000000000002"],),
    ),
    _provider(
        "AzureAdAuth",
        "admin_groups",
        "admin_groups",
        "text-list",
        good=(["0d1e2f3a-aaaa-bbbb-cccc-000000000003"],),
    ),
    _provider(
        "AzureAdAuth",
        "username_claim",
        "username_claim",
        "token",
        good=("upn",),
        strings=True,
    ),
    _provider("LdapAuth", "server_address", "server_address", "host-name", strings=True),
    _provider(
        "LdapAuth",
        "server_cidrs",
        "server_address's NetworkPolicy hub-to-ldap ipBlock",
        "cidrs",
        bad=(*_CIDRS_BAD, []),
        good=(["10.20.0.0/24"],),
    ),
    _provider(
        "LdapAuth",
        "tls",
        "tls_strategy",
        "enum",
        bad=("insecure", "STARTTLS", "none", None, ""),
        good=("ldaps",),
    ),
    _provider("LdapAuth", "server_port", "server_port", "port-number", good=(3269,)),
    _provider(
        "LdapAuth",
        "ca_certificate",
        "tls_kwargs.ca_certs_file (a file of the hub's auth Secret volume)",
        "secret-ref",
        bad=("-----BEGIN CERTIFICATE-----",),
        good=(SecretRef("ldap-ca", "ca.crt"),),
    ),
    _provider(
        "LdapAuth",
        "bind_dn_templates",
        "bind_dn_template",
        "dn-template-list",
        bad=(
            "uid={username},ou=people,dc=example,dc=org",
            ["uid=x,dc=example"],
            ["{username}"],
            ["uid={username}\n,dc=example"],
            ["uid={username},dc={unknown}"],
            [""],
            [7],
        ),
        good=(["uid={username},ou=people,dc=example,dc=org"],),
    ),
    _provider(
        "LdapAuth",
        "user_search_base",
        "user_search_base",
        "dn",
        bad=_DN_BAD,
        good=("ou=staff,dc=example,dc=org",),
        strings=True,
    ),
    _provider(
        "LdapAuth",
        "user_attribute",
        "user_attribute, lookup_dn_user_dn_attribute",
        "token",
        good=("sAMAccountName",),
        strings=True,
    ),
    _provider(
        "LdapAuth",
        "search_user",
        "lookup_dn_search_user",
        "dn",
        bad=_DN_BAD,
        good=("cn=reader,dc=example,dc=org",),
        strings=True,
    ),
    _provider(
        "LdapAuth",
        "search_password",
        "env LDAP_SEARCH_PASSWORD secretKeyRef",
        "secret-ref",
        bad=("hunter2",),
        good=(SecretRef("ldap", "password"),),
    ),
    _provider(
        "LdapAuth",
        "allowed_groups",
        "allowed_groups",
        "text-list",
        good=(["cn=ops,ou=groups,dc=example,dc=org"],),
    ),
    _provider(
        "LdapAuth",
        "group_search_filter",
        "group_search_filter",
        "ldap-filter",
        bad=("member={userdn}", "(member={userdn})\n", "(member={userdn}", "(member={x})", "", 7),
        good=("(member={userdn})",),
        strings=True,
    ),
    _provider("LdapAuth", "allowed_users", "allowed_users", "text-list", good=(["ada"],)),
    _provider("LdapAuth", "allow_all", "allow_all", "bool", good=(True,)),
    _provider("LdapAuth", "admin_users", "admin_users", "text-list", good=(["ada"],)),
)


def gateway_with(factory: str | None = None, **options: Any) -> Objects:
    """A hub behind ``GatewayRoute`` (or ``GatewayRoute.<factory>``) with ``options``."""
    settings: dict[str, Any] = {"gateway_name": "public", "gateway_namespace": "gateways"}
    if factory is None:
        settings["data_plane_namespace"] = "envoy-gateway-system"
        settings["data_plane_pod_labels"] = {"app": "envoy"}
    settings.update(options)
    make = GatewayRoute if factory is None else getattr(GatewayRoute, factory)
    return hub_with(gateway=make(**settings))


def public_service_with(factory: str | None = None, **options: Any) -> Objects:
    """A hub whose ``proxy-public`` is ``PublicService`` (or ``.<factory>``) with ``options``."""
    settings: dict[str, Any] = {"source_ranges": ["203.0.113.0/24"]}
    if factory is None:
        settings["type"] = "LoadBalancer"
    settings.update(options)
    make = PublicService if factory is None else getattr(PublicService, factory)
    return hub_with(public_service=make(**settings), ingress=IngressOptions(enabled=False))


_GATEWAY_FIELDS: tuple[tuple[str, str, str, tuple[Any, ...] | None, Any], ...] = (
    ("gateway_name", "HTTPRoute parentRefs[].name", "dns-subdomain", None, "edge"),
    ("gateway_namespace", "HTTPRoute parentRefs[].namespace", "dns-label", None, "gateways-b"),
    (
        "section_name",
        "HTTPRoute parentRefs[].sectionName",
        "dns-subdomain",
        None,
        "https",
    ),
)
for _name, _reaches, _kind, _bad, _good in _GATEWAY_FIELDS:
    for _factory in (None, "envoy_gateway", "per_gateway_deployment"):
        _add(
            Param(
                "GatewayRoute" + (f".{_factory}" if _factory else ""),
                _name,
                _reaches,
                _kind,
                f"{H}.edge.GatewayRoute.check",
                lambda v, n=_name, f=_factory: gateway_with(f, **{n: v}),
                _HUB,
                bad=_bad,
                good=(_good,),
            )
        )
_add(
    Param(
        "GatewayRoute",
        "data_plane_namespace",
        "proxy NetworkPolicy namespaceSelector",
        "dns-label",
        f"{H}.edge.GatewayRoute.check",
        lambda v: gateway_with(data_plane_namespace=v),
        _HUB,
        good=("istio-system",),
    ),
    Param(
        "GatewayRoute",
        "data_plane_pod_labels",
        "proxy NetworkPolicy podSelector.matchLabels",
        "labels",
        f"{H}.edge.GatewayRoute.check",
        lambda v: gateway_with(data_plane_pod_labels=v),
        _HUB,
        bad=({}, {"gpu type": "x"}, {"app": "a b"}, "app=envoy"),
        good=({"istio": "ingressgateway"},),
        strings=False,
    ),
    Param(
        "GatewayRoute",
        "data_plane_cidrs",
        "proxy NetworkPolicy ipBlock",
        "cidrs",
        f"{H}.edge.GatewayRoute.check",
        lambda v: gateway_with(
            data_plane_namespace=None, data_plane_pod_labels={}, data_plane_cidrs=v
        ),
        _HUB,
        bad=("10.0.0.0/8", [], ["10.0.0.1/8"], ["gateway.example.com"], [7]),
        good=(["10.0.0.0/16"],),
        strings=False,
    ),
    Param(
        "GatewayRoute.envoy_gateway",
        "controller_namespace",
        "proxy NetworkPolicy namespaceSelector",
        "dns-label",
        f"{H}.edge.GatewayRoute.check",
        lambda v: gateway_with("envoy_gateway", controller_namespace=v),
        _HUB,
        good=("envoy-gateway",),
    ),
)
_NODE_PORT_BAD = (80, 0, 29999, 32768, True, "30080", 30080.0)
for _factory, _fields in (
    (None, ("type", "source_ranges", "annotations", "node_port")),
    ("load_balancer", ("source_ranges", "annotations")),
    ("node_port_service", ("source_ranges", "node_port")),
):
    _api = "PublicService" + (f".{_factory}" if _factory else "")
    for _name in _fields:
        _row: dict[str, Any] = {
            "type": {
                "reaches": "Service proxy-public spec.type",
                "kind": "enum",
                "bad": ("loadbalancer", "ExternalName", "LoadBalancer ", None),
                "good": ("NodePort",),
            },
            "source_ranges": {
                "reaches": "loadBalancerSourceRanges; NetworkPolicy proxy-public-clients ipBlock",
                "kind": "cidrs",
                "bad": ("203.0.113.0/24", [], ["203.0.113.1/24"], ["0.0.0.0/33"], [7]),
                "good": (["0.0.0.0/0"],),
            },
            "annotations": {
                "reaches": "Service proxy-public metadata.annotations",
                "kind": "annotations",
                "bad": None,
                "good": ({"service.beta.kubernetes.io/aws-load-balancer-type": "nlb"},),
            },
            "node_port": {
                "reaches": "Service proxy-public ports[].nodePort",
                "kind": "node-port",
                "bad": _NODE_PORT_BAD,
                "good": (30080,),
            },
        }[_name]
        _defaults: dict[str, Any] = {}
        if _factory is None and _name == "node_port":
            _defaults["type"] = "NodePort"
        _add(
            Param(
                _api,
                _name,
                _row["reaches"],
                _row["kind"],
                f"{H}.edge.PublicService.check",
                lambda v, n=_name, f=_factory, d=_defaults: public_service_with(f, **{**d, n: v}),
                _HUB,
                bad=_row["bad"],
                good=_row["good"],
                strings=False,
            )
        )


# -- scheduling (issue 21): node pools, the user scheduler, placeholders --------------------


def _pool_hub(pool: Any) -> Objects:
    return hub_with(user_pods=pool)


for _api, _make in (
    ("NodePool", lambda **f: NodePool(**{"node_labels": {"pool": "users"}, **f})),
    (
        "NodePool.by_purpose",
        lambda **f: NodePool.by_purpose(
            **{"purpose": "gpu", "affinity": NodeAffinity.REQUIRED, **f}
        ),
    ),
    ("NodePool.core", NodePool.core),
    ("NodePool.user", NodePool.user),
):
    _add(
        Param(
            _api,
            "affinity",
            "requiredDuringScheduling/preferredDuringScheduling node affinity",
            "enum",
            f"{H}.scheduling.NodePool.check",
            lambda v, m=_make: _pool_hub(m(affinity=v)),
            _HUB,
            bad=("required", "REQUIRED", 1, None),
            good=(NodeAffinity.REQUIRED, NodeAffinity.PREFERRED),
            strings=False,
        )
    )
_add(
    Param(
        "NodePool",
        "node_labels",
        "nodeSelector / nodeAffinity matchExpressions",
        "labels",
        f"{H}.scheduling.NodePool.check",
        lambda v: _pool_hub(NodePool(node_labels=v)),
        _HUB,
        bad=({}, {"gpu type": "a100"}, {"pool": "a b"}, {"pool": ""}, "pool=users"),
        good=({"cloud.google.com/gke-nodepool": "users"},),
        strings=False,
    ),
    Param(
        "NodePool",
        "tolerations",
        "spec.tolerations",
        "toleration-list",
        f"{R}.check_toleration",
        lambda v: _pool_hub(NodePool(node_labels={"pool": "users"}, tolerations=v)),
        _HUB,
        bad=("dedicated", [Toleration("bad key!")], ["dedicated=users:NoSchedule"]),
        good=((Toleration("dedicated", operator="Equal", value="users", effect="NoSchedule"),),),
        strings=False,
    ),
    Param(
        "NodePool",
        "weight",
        "preferredDuringSchedulingIgnoredDuringExecution[].weight",
        "int>=1",
        f"{H}.scheduling.NodePool.check",
        lambda v: _pool_hub(NodePool(node_labels={"pool": "users"}, weight=v)),
        _HUB,
        bad=(0, 101, True, "50", 1.5),
        good=(1, 100),
        strings=False,
    ),
    Param(
        "NodePool.by_purpose",
        "purpose",
        "node label hub.jupyter.org/node-purpose and taint hub.jupyter.org/dedicated value",
        "label-value",
        f"{H}.scheduling.NodePool.check",
        lambda v: _pool_hub(NodePool.by_purpose(v, affinity=NodeAffinity.REQUIRED)),
        _HUB,
        bad=("", "a b", "gpu\n", "-gpu", LONG_LABEL, 7),
        good=("gpu",),
    ),
)


def scheduler_with(**options: Any) -> Objects:
    """A hub with a ``UserScheduler`` that has ``options``."""
    chart = new_chart()
    hub = _hub(chart)
    hub.add_profile("small", display_name="Small", default=True)
    UserScheduler(chart, "scheduler", **{"hub": hub, **options})
    return render(chart)


def placeholders_with(**options: Any) -> Objects:
    """A hub with ``UserPlaceholders`` for its profile, with ``options``."""
    chart = new_chart()
    hub = _hub(chart)
    profile = hub.add_profile("small", display_name="Small", default=True)
    UserPlaceholders(chart, "placeholders", **{"hub": hub, "profile": profile, **options})
    return render(chart)


_SCHEDULER = "addons.scheduling.UserScheduler"
_add(
    Param(
        "UserScheduler",
        "hub",
        "the hub it attaches to",
        "hub",
        _SCHEDULER,
        lambda v: scheduler_with(hub=v),
        "test/scheduler",
        bad=("hub", None),
        strings=False,
    ),
    Param(
        "UserScheduler",
        "kubernetes_version",
        "image tag, KubeSchedulerConfiguration apiVersion",
        "k8s-version",
        _SCHEDULER,
        lambda v: scheduler_with(kubernetes_version=v),
        "test/scheduler",
        bad=("v1.34.3", "1.29.0", "1.36.0", "1.34", "1.34.3\n", " 1.34.3", "1.34.03", 1.34),
        good=("1.33.1",),
    ),
    Param(
        "UserScheduler",
        "image",
        "Deployment user-scheduler containers[].image",
        "image",
        f"{R}.check_image",
        lambda v: scheduler_with(image=v),
        "test/scheduler",
        good=("registry.k8s.io/kube-scheduler:v1.34.3",),
    ),
    Param(
        "UserScheduler",
        "replicas",
        "Deployment user-scheduler spec.replicas",
        "int>=1",
        _SCHEDULER,
        lambda v: scheduler_with(replicas=v),
        "test/scheduler",
        good=(1, 3),
        strings=False,
    ),
    Param(
        "UserScheduler",
        "resources",
        "Deployment user-scheduler containers[].resources",
        "resources",
        "core.quantities.Resources.checked",
        lambda v: scheduler_with(resources=v),
        "test/scheduler",
        bad=("500m", Resources("2", "1", "256Mi", "512Mi")),
        good=(Resources("100m", "1", "256Mi", "512Mi"),),
        strings=False,
    ),
    Param(
        "UserScheduler",
        "log_level",
        "kube-scheduler --v",
        "int>=0",
        _SCHEDULER,
        lambda v: scheduler_with(log_level=v),
        "test/scheduler",
        good=(0, 4),
        strings=False,
    ),
    Param(
        "UserScheduler",
        "lease_duration",
        "leaderElection.leaseDuration",
        "int>=1",
        _SCHEDULER,
        lambda v: scheduler_with(lease_duration=v),
        "test/scheduler",
        bad=(0, -1, True, "15", 1.5, 10),
        good=(30,),
        strings=False,
    ),
    Param(
        "UserScheduler",
        "renew_deadline",
        "leaderElection.renewDeadline",
        "int>=1",
        _SCHEDULER,
        lambda v: scheduler_with(renew_deadline=v),
        "test/scheduler",
        bad=(0, True, "10", 1.5, 15, 2),
        good=(12,),
        strings=False,
    ),
    Param(
        "UserScheduler",
        "retry_period",
        "leaderElection.retryPeriod",
        "int>=1",
        _SCHEDULER,
        lambda v: scheduler_with(retry_period=v),
        "test/scheduler",
        bad=(0, True, "2", 1.5, 9),
        good=(1, 8),
        strings=False,
    ),
    Param(
        "UserScheduler",
        "bind_static_volumes",
        "ClusterRole persistentvolumes patch/update",
        "bool",
        _SCHEDULER,
        lambda v: scheduler_with(bind_static_volumes=v),
        "test/scheduler",
        strings=False,
    ),
    Param(
        "UserPlaceholders",
        "hub",
        "the hub it attaches to",
        "hub",
        "addons.scheduling.UserPlaceholders",
        lambda v: placeholders_with(hub=v),
        "test/placeholders",
        bad=("hub", None),
        strings=False,
    ),
    Param(
        "UserPlaceholders",
        "profile",
        "Deployment user-placeholder-<slug> (requests, placement)",
        "options",
        "addons.scheduling.UserPlaceholders",
        lambda v: placeholders_with(profile=v),
        "test/placeholders",
        bad=("small", None),
        strings=False,
    ),
    Param(
        "UserPlaceholders",
        "count",
        "Deployment user-placeholder-<slug> spec.replicas",
        "int>=1",
        "addons.scheduling.UserPlaceholders",
        lambda v: placeholders_with(count=v),
        "test/placeholders",
        good=(1, 3),
        strings=False,
    ),
)


# Rows whose field takes a narrower value than its kind's ``strategies.EXAMPLE``.
_GOOD: dict[tuple[str, str], tuple[Any, ...]] = {
    ("NotebookProfile", "default"): (True,),
    # The pod is rendered for alice (tests.support.kube.product): a profile she may use.
    ("NotebookProfile", "allowed_users"): (["alice@example.com"],),
    ("NotebookProfile", "allowed_groups"): (),
    ("JupyterHub.add_hub_service", "api_token_secret_key"): ("api-token",),
    ("NamespaceQuota", "requests_cpu"): ("250",),
    ("NamespaceQuota", "limits_cpu"): ("500",),
    ("NamespaceQuota", "requests_memory"): ("900Gi",),
    ("NamespaceQuota", "limits_memory"): ("1700Gi",),
    ("NamespaceQuota", "pods"): (300,),
    ("ContainerLimits", "max_cpu"): ("8",),
    ("ContainerLimits", "max_memory"): ("64Gi",),
    ("OidcAuth.cloudflare_access_saas", "allow_all"): (True,),
    ("JupyterHub", "cookie_max_age_days"): (7, 0.5),
    ("JupyterHub", "token_expires_in_max_seconds"): (3600,),
    ("CloudflareAccessAuth", "user_servers_on_hub_host"): (False,),
    ("PlatformServiceBinding.s3", "verify_tls"): (False,),
    ("CloudflareTunnel", "cpu_request"): ("100m",),
    ("CloudflareTunnel", "memory_request"): ("128Mi",),
    ("Mount", "volume"): ("home",),
    ("JupyterHub.add_python_file", "name"): ("spawn_hooks.py",),
    ("JupyterHub.add_template", "name"): ("page.html",),
    **{
        (f"PlatformServiceBinding.{factory}", "namespace"): (
            BINDING_DEFAULTS[factory]["host"].rsplit(".", 1)[1],
        )
        for factory in BINDING_DEFAULTS
    },
}
INVENTORY[:] = [
    replace(row, good=_GOOD[(row.api, row.name)]) if (row.api, row.name) in _GOOD else row
    for row in INVENTORY
]


def good_values(row: Param) -> tuple[Any, ...]:
    """Values ``row.build`` must render: ``row.good``, else its kind's example."""
    if row.good is not None:
        return row.good
    return strategies.EXAMPLE.get(row.kind, ())


# Rows with neither ``good`` nor an example of their kind yet (the list may only shrink:
# tests/core/test_validation.py renders every other row with a valid value).
WITHOUT_GOOD_VALUE: frozenset[tuple[str, str]] = frozenset(
    (api, name)
    for api, names in {
        "JupyterHub": (
            "auth",
            "database",
            "replicas",
            "hub_resources",
            "ingress",
            "user_storage",
            "shared_data",
            "idle_culler",
            "quota",
            "container_limits",
            "network",
            "gateway",
            "public_service",
            "core_pods",
            "user_pods",
            "singleuser",
            "named_servers",
            "tunables",
        ),
        "NotebookProfile": (
            "allowed_groups",  # alice, who the user pod is rendered for, has no groups
            "image_pull_policy",
            "gpu",
            "tolerations",
            "extra_overrides",
            "extra_overrides['init_containers']",
            "extra_overrides['extra_containers']",
            "extra_overrides['extra_container_config']",
            "extra_overrides['extra_pod_config']",
            "extra_overrides['extra_labels']",
            "extra_overrides['extra_annotations']",
            "extra_overrides['uid']",
            "extra_overrides['volumes']",
            "extra_overrides['volume_mounts']",
            "extra_overrides['default_url']",
            "extra_overrides['lifecycle_hooks']",
            "extra_overrides['profile_list']",
            "default_url",
            "volumes",
            "extra_files",
            "init_containers",
            "extra_containers",
            "extra_resources",
            "options",
        ),
        "Gpu": ("tolerations",),
        "Toleration": (
            "operator",
            "effect",
            "operator+value",
        ),
        "UserStorage": (
            "access_mode",
            "type",
            "pvc_name_template",
            "slug_scheme",
            "sub_path",
            "nfs",
        ),
        "SharedData": ("access_mode",),
        "ContainerLimits": (
            "default_request",
            "default_limit",
        ),
        "IngressOptions": ("controller",),
        "NetworkOptions": (
            "dns",
            "cni",
        ),
        "ClusterDns": ("pod_labels",),
        "ClusterDns.node_local_dns": (
            "kube_dns_service_ip",
            "local_address",
        ),
        "HubDatabase.postgres": (
            "password",
            "ssl_mode",
        ),
        "OidcAuth": ("client_secret",),
        "OidcAuth.cloudflare_access_saas": (
            "team_domain",
            "client_id",
            "client_secret",
        ),
        "CloudflareAccessAuth": ("team_domain",),
        "PlatformServiceBinding.trino": (
            "catalog",
            "user",
            "schema",
            "password",
        ),
        "PlatformServiceBinding.s3": (
            "access_key_id",
            "secret_access_key",
            "region",
            "bucket",
        ),
        "PlatformServiceBinding.mlflow": (
            "username",
            "password",
            "artifact_store",
        ),
        "PlatformServiceBinding.postgres": (
            "database",
            "user",
            "password",
            "sslmode",
        ),
        "PlatformServiceBinding.datahub": ("token",),
        "PlatformServiceBinding.kafka": (
            "security_protocol",
            "sasl_mechanism",
            "sasl_username",
            "sasl_password",
        ),
        "CloudflareTunnel": (
            "hub",
            "tunnel_token",
        ),
        "ObservabilityBundle": (
            "hub",
            "dashboard_label",
            "runbook_base_url",
        ),
        "ExternalSecretSource": (
            "keys",
            "store_kind",
        ),
        "ArgoCdApplication": (
            "repo_url",
            "path",
            "target_revision",
            "backoff_duration",
            "backoff_max_duration",
        ),
        "Environment": ("values",),
        "Environment.add_application": (
            "repo_url",
            "dist",
            "**options",
        ),
        "network_policy.tcp": ("port",),
        "network_policy.udp": ("port",),
        "hub.config": ("Class.trait = value",),
        "KubeObject": (
            "finalizers",
            "api_version",
            "kind",
        ),
        "HubNetworkPolicies.allow_user_egress": ("ports",),
        "SingleUser": (
            "default_url",
            "volumes",
            "extra_files",
            "init_containers",
            "extra_containers",
            "extra_resources",
        ),
        "NfsExport": (
            "server",
            "mount_options",
        ),
        "UserVolume.existing_claim": (
            "sub_path",
            "claim_name",
        ),
        "UserVolume.nfs_export": (
            "sub_path",
            "server",
            "mount_options",
        ),
        "UserVolume.config_map": (
            "items",
            "default_mode",
        ),
        "UserVolume.secret": (
            "items",
            "default_mode",
        ),
        "FileItem": (
            "path",
            "mode",
        ),
        "ExtraFile": (
            "text",
            "data",
            "mode",
        ),
        "UserContainer": (
            "mounts",
            "resources",
            "image_pull_policy",
        ),
        "Mount": ("sub_path",),
        "ImagePullerOptions": (
            "extra_images",
            "resources",
            "extra_tolerations",
        ),
        "ProfileOption": (
            "choices",
            "unlisted_choice",
        ),
        "ProfileChoice": ("default_url",),
        "UnlistedChoice": (
            "validation_regex",
            "image",
        ),
        "HubTunables": (
            "template_vars",
            "log_level",
        ),
        "JupyterHub.set_trait": (
            "class_name",
            "trait",
            "value",
        ),
        "JupyterHub.add_python_file": ("source",),
        "JupyterHub.add_template": ("text",),
        "VeleroBackups": (
            "hub",
            "schedule",
            "volume_method",
        ),
        # Built inside the builder (a hub and its profile): no value to pass from outside.
        "UserScheduler": ("hub",),
        "UserPlaceholders": ("hub", "profile"),
    }.items()
    for name in names
)

# Parameters of the public API that reach nothing a rule could check, with why.
UNCHECKED: dict[tuple[str, str], str] = {
    ("Environment", "values"): "free-form settings your build function reads; never rendered",
    ("KubeObject", "body"): "the escape hatch for any manifest body: checked against the "
    "schemas by the tests, by the API server when applied",
    ("KubeObject", "cluster_scoped"): "a bool that decides whether a namespace is written",
    ("HubNetworkPolicies.allow_user_egress", "to"): "peers built by core.network_policy "
    "(pods, pods_in_namespace, cidrs), each checked there",
    ("HubNetworkPolicies.allow_user_egress", "profile"): "a NotebookProfile object",
}


# -- the document ------------------------------------------------------------------------------

KIND_RULES: dict[str, str] = {
    "dns-label": "IsDNS1123Label (apimachinery validation.go)",
    "dns-subdomain": "IsDNS1123Subdomain (apimachinery validation.go)",
    "host-name": "IsDNS1123Subdomain, not an IP (networking validation: Ingress host)",
    "label-key": "IsQualifiedName (apimachinery validation.go)",
    "label-key-list": "a list of qualified names (ValidateFinalizerName)",
    "api-version": "[group/]version: a DNS subdomain and a DNS-1035 label; the kind must "
    "exist in the cluster (the API server decides)",
    "kind": "a letter, then letters and digits; the kind must exist in the cluster",
    "labels-list": "a list of non-empty label sets",
    "ip-address": "an IPv4 or IPv6 address",
    "ports": "a non-empty list of NetworkPolicy ports (tcp/udp)",
    "label-value": "IsValidLabelValue (apimachinery validation.go)",
    "labels": "ValidateLabels: keys IsQualifiedName, values IsValidLabelValue",
    "annotations": "ValidateAnnotations: keys IsQualifiedName (lower-cased), 256 KiB in all",
    "env": "ValidateEnv: names IsEnvVarName (the pre-1.32 rule every version accepts); values "
    "without NUL; KubeSpawner template syntax",
    "env-var-name": "IsEnvVarName (apimachinery validation.go)",
    "port-number": "IsValidPortNum: an int 1-65535, not a bool",
    "port": "IsValidPortNum or IsValidPortName",
    "extended-resource-name": "IsExtendedResourceName (core helper), validateContainerResourceName",
    "image": "validateContainers (no surrounding whitespace) + distribution/reference, pinned",
    "absolute-path": "ValidateVolumeMounts (+ normalised absolute path), unique per container",
    "go-duration": "time.ParseDuration (metav1.Duration)",
    "prometheus-duration": "the Prometheus Operator CRDs' Duration pattern",
    "argocd-duration": "ArgoCD backoff durations (h/m/s), positive, max >= duration",
    "cidr": "validateIPBlock: a canonical CIDR",
    "cidrs": "a non-empty list of canonical CIDRs",
    "cpu": "resource.Quantity for CPU: cores or millicores, positive, ASCII digits",
    "memory": "resource.Quantity for bytes: binary or decimal suffix, positive",
    "quantities": "LimitRange: cpu/memory quantities, defaultRequest <= default <= max",
    "resources": "Resources: four quantities, limit >= request",
    "text": "clean text: no control/format characters, no surrounding whitespace, non-empty",
    "text-or-empty": "clean text, may be empty",
    "text-list": "a list (not a str) of clean texts",
    "token": "non-empty, no whitespace or control characters",
    "token-list": "a list of tokens",
    "no-space-text": "non-empty, no whitespace, braces or control characters",
    "templated-user": "no whitespace; a valid KubeSpawner template ({unescaped_username})",
    "https-url": "an absolute https:// URL with a DNS host, no whitespace",
    "url-or-path": "clean text without whitespace or '#'",
    "url-segment": "letters, digits, '-', '.', '_', '~' (a URL path segment)",
    "team-domain": "<team>.cloudflareaccess.com",
    "email-list": "a list of e-mail addresses or service-token ids (trimmed, lower-cased)",
    "domain-list": "a list of domain names (trimmed, lower-cased)",
    "bool": "True or False (not 1, not 'true')",
    "int": "an int (not a bool, not a str)",
    "int>=0": "an int >= 0 (not a bool, not a str)",
    "int>=1": "an int >= 1 (not a bool, not a str)",
    "one": "exactly the int 1",
    "ratio": "a finite number strictly between 0 and 1",
    "seconds>0": "a finite number > 0",
    "enum": "one of a closed set (exact case)",
    "secret-ref": "a SecretRef; a plain string is refused without being echoed",
    "secret-keys": "Secret keys (IsConfigMapKey) -> 'path' or 'path#property'",
    "s3-bucket": "an S3 bucket name",
    "binding": "an s3/minio PlatformServiceBinding",
    "label-pair": "(label key, label value)",
    "mapping": "a mapping",
    "repo-url": "https://, ssh:// or scp-like git URL",
    "repo-path": "a relative path without '.'/'..' segments",
    "git-ref": "a branch, tag or commit",
    "dns-subdomain-list": "a list of Secret names (IsDNS1123Subdomain)",
    "toleration-list": "a list of Toleration (ValidateTolerations)",
    "combination": "ValidateTolerations: Exists => no value; empty key => Exists",
    "argv": "a non-empty list of strings without NUL",
    "overrides": "KubeSpawner trait names and value types; typed and hub-owned keys refused, "
    "and keys JupyterHub reads before the profile applies (server_token_scopes, the OAuth "
    "client, the options form)",
    "override": "the key's own rule (see the row)",
    "trait": "a configurable trait of that class (the pinned hub image's version), value of "
    "its type, JSON-serialisable",
    "typed": "the parameters of ArgoCdApplication (a TypedDict)",
    "options": "the library's options class (its fields have rows of their own)",
    "auth": "a HubAuth (OidcAuth, CloudflareAccessAuth)",
    "database": "a HubDatabase",
    "hub": "a JupyterHub",
    "enum-or-none": "one of a closed set, or None",
    "config-map-key": "IsConfigMapKey (apimachinery validation.go)",
    "server-path": "a path on the user's server: '/' first, clean text, KubeSpawner template",
    "user-volumes": "UserVolume list: names IsDNS1123Label and unique, mount paths absolute and "
    "unique, sources the restricted standard allows, claim names IsDNS1123Subdomain",
    "extra-files": "file names IsConfigMapKey; ExtraFile: absolute path, text or JSON data",
    "user-containers": "UserContainer list: names IsDNS1123Label (not 'notebook'), unique; "
    "pinned images; argv; env IsEnvVarName; mounts of pod volumes; restricted securityContext",
    "extended-resources": "IsExtendedResourceName / hugepages-<size> / ephemeral-storage; "
    "integer amounts for extended resources (ValidateResourceRequirements)",
    "claim-template": "IsDNS1123Subdomain once KubeSpawner expands {username} (not "
    "{unescaped_username})",
    "relative-template": "a relative path without '..' (validateLocalDescendingPath), "
    "KubeSpawner template, not the raw user name",
    "relative-path": "a relative path without '..' (validateLocalDescendingPath)",
    "host-or-ip": "IsDNS1123Subdomain or an IP address (NFS server)",
    "mount-options": "a list of single mount options (no ',', whitespace or control characters)",
    "file-items": "FileItem list: keys IsConfigMapKey, relative paths, modes 0-0o777",
    "file-mode": "an int 0-0o777 (validateKeyToPath / defaultMode)",
    "file-text": "a string YAML carries as written: no DEL, C1 control characters, U+2028, "
    "U+2029, U+FFFE or U+FFFF (core.rules.MANIFEST_TEXT_RULE; any written manifest is "
    "checked for them too)",
    "json-data": "JSON-serialisable data, no NaN or Infinity",
    "mounts": "Mount list: volumes of the pod, absolute paths",
    "image-list": "a list of pinned images",
    "base-url": "'/' or '/path/': starts and ends with '/', letters, digits, '-', '.', '_', '~'",
    "host-name-list": "a list of host names (IsDNS1123Subdomain, not an IP), not the hub's own",
    "github-org-list": "a list of GitHub organization logins ('org') or 'org:team-slug'",
    "https-origin": "https://<host>[:port], no path (a server's address)",
    "google-groups": "a mapping of hosted domain -> list of group addresses",
    "domain-to-name": "a mapping of hosted domain -> administrator name (a token)",
    "azure-tenant": "a tenant GUID or verified domain (IsDNS1123Subdomain); not common, "
    "organizations or consumers",
    "dn": "an LDAP distinguished name: clean text of attribute=value parts (RFC 4514)",
    "dn-template-list": "a list of DNs containing {username} once, no other field",
    "ldap-filter": "an LDAP filter in parentheses (RFC 4515), fields {userdn} and {uid} only",
    "k8s-version": "a Kubernetes release 1.30.x to 1.35.x ('1.34.3', no 'v')",
    "node-port": "an int 30000-32767 (the default service-node-port-range), NodePort only",
}


def kinds() -> list[str]:
    """Every kind the inventory uses, sorted."""
    return sorted({p.kind for p in INVENTORY})


def render_markdown() -> str:
    """docs/validation.md."""
    lines = [
        "# What is checked at synth",
        "",
        "Every public parameter, the Kubernetes field or hub trait it reaches, the rule that",
        "field follows and where the library checks it. A value that breaks a rule fails",
        "`synthesize` (and `make synth`, `cdk8s synth`) with a `ConfigurationError` naming",
        "the construct path, the value (never a secret), what is allowed and how to fix it;",
        "`dist/` is left as it was. The rules are written from the Kubernetes sources",
        "(`jupyter_constructs/core/rules.py` cites each one); where the library is stricter",
        "than the API server it says so (environment variable names follow the rule every",
        "Kubernetes version since 1.27 accepts; mount paths must be normalised; images must",
        "be pinned).",
        "",
        "Escape hatches are checked too: `extra_overrides` keys against KubeSpawner's",
        "configurable traits, their values by the trait's type, containers given there get",
        "the restricted security context (or an error when they ask for more);",
        "`hub.config.set(Class, trait, value)` against the traits of every class the hub",
        "configures (`jupyter_constructs/hub/traits.py`, generated from the pinned versions).",
        "",
        "Whole-picture checks at synth: exactly one default profile, profiles fit the quota",
        "and LimitRange, every profile and binding attached, no two objects of one kind and",
        "name in one output folder, no variable set twice on a profile; no written manifest",
        "holds a character YAML cannot carry as written (DEL, C1 control characters, U+2028,",
        "U+2029, U+FFFE, U+FFFF: kubectl and ArgoCD would refuse the file).",
        "",
        "## Whatever synth accepts, the API server accepts (property test)",
        "",
        "The rows below are the kinds of bad value someone listed. For the kinds nobody",
        "listed, `tests/k8s/test_property.py` draws whole apps from the public API with",
        "Hypothesis (`tests/support/strategies.py`: one to three hubs, each in its own chart",
        "and namespace, with one to three profiles, add-ons (observability, tunnel, Trino and",
        "Ray bindings) and, now and then, their ArgoCD Applications; values as people write",
        "them, one in 24 a plausible mistake) and checks, against a real kube-apiserver 1.34",
        "with the CRDs installed, that either synth refuses the app with a `ConfigurationError`",
        "in the format above (and leaves the output folder untouched), or the API server",
        "accepts everything it renders: every object applied server-side, wave by wave, with",
        "strict field validation and no warning (PodSecurity's `restricted` verdict on pod",
        "templates included), and the PVC and pod the real KubeSpawner renders for every",
        "profile created as the hub's ServiceAccount (RBAC, quota and LimitRange admission).",
        "Objects user-pod admission depends on (Namespace, ServiceAccount, Role, RoleBinding,",
        "ResourceQuota, LimitRange, PriorityClass) are stored; everything else is a",
        "server-side dry run, validated and admitted the same way.",
        "",
        "- `make test` (marker `k8s`) runs `JC_PROPERTY_EXAMPLES` examples (default 40,",
        "  derandomized: the same apps every run).",
        "- `make fuzz` runs `FUZZ_EXAMPLES` (default 2000) with a fresh seed, printed at the",
        "  start and the end; `make fuzz SEED=<seed>` replays a campaign.",
        "- A counterexample is shrunk to the smallest app that breaks the property and printed",
        "  as the Python that builds it, with the API server's refusal; it is also kept in",
        "  `.hypothesis/` (not in git) and replayed first by the next run. Hypothesis also",
        "  prints `@reproduce_failure(...)` to replay that exact app.",
        "- `tests/k8s/test_property.py::test_property_finds_a_removed_check` proves the",
        "  property can fail: with the label-value check of `node_selector` removed it finds",
        "  an app the API server refuses.",
        "",
        "One warning is tolerated, by its exact text, on user PVCs only: KubeSpawner 7.0",
        "writes the annotation `volume.beta.kubernetes.io/storage-class` beside",
        "`storageClassName` whenever a storage class is set, and the API server calls it",
        "deprecated; no KubeSpawner 7.0 setting avoids it.",
        "",
        "Each counterexample found so far became a check of its whole kind, a regression",
        "test (replayed by the property on every run) and a row or bad value here: text",
        "YAML cannot carry (ExtraFile text, env values, arguments, annotations, and any",
        "written manifest); a quota without room for the hub with the observability bundle",
        "(the bundle failed with its alert helper's own message instead of the hub's).",
        "",
        "This table is generated from `tests/validation_inventory.py` (`make docs`); the",
        "tests walk it: every public parameter must have a row, and every row's bad values",
        "must fail with the message above.",
        "",
        "To enumerate it from a test: `tests.validation_inventory.INVENTORY` is the list of",
        "rows (`api`, `name`, `kind`, `reaches`, `path`, `bad`, `strings`, and",
        "`build(value)`, which renders a small valid hub with that one parameter set and",
        "returns the objects `synthesize` would write, or raises `ConfigurationError`);",
        "`tests.strategies.strings(kind)` and `strategies.BAD[kind]` give values of each",
        "kind; `PUBLIC_API` in `tests/core/test_validation.py` lists the public callables",
        "whose parameters must all have a row. The rules themselves are the `is_*`",
        "predicates of `jupyter_constructs/core/rules.py`.",
        "",
        f"{len(INVENTORY)} parameters, {len(kinds())} kinds of rule.",
        "",
        "| API | Parameter | Reaches | Rule | Checked in |",
        "| --- | --- | --- | --- | --- |",
    ]

    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    for p in INVENTORY:
        rule = KIND_RULES.get(p.kind, p.kind)
        lines.append(
            f"| `{p.api}` | `{cell(p.name)}` | {cell(p.reaches)} | {cell(rule)} | "
            f"`{cell(p.checked_in)}` |"
        )
    return "\n".join(lines) + "\n"


DOC = Path(__file__).resolve().parents[1] / "docs" / "validation.md"


def write_markdown() -> Path:
    """Write docs/validation.md."""
    DOC.write_text(render_markdown(), encoding="utf-8")
    return DOC


if __name__ == "__main__":
    print(write_markdown())


__all__ = ["INVENTORY", "Param", "render", "render_markdown"]

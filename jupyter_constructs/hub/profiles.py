"""``NotebookProfile``: one typed entry of KubeSpawner's ``profile_list``.

z2jh passes ``profileList`` through untyped, so a misspelled key inside
``kubespawner_override`` fails silently in production. Here every field is typed and
checked when the profile is built, and the escape hatch ``extra_overrides`` is checked
against KubeSpawner's real trait names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypedDict

from constructs import Construct, Node

from jupyter_constructs.core.errors import invalid
from jupyter_constructs.core.objects import adopt
from jupyter_constructs.core.quantities import Usage, parse_cpu, parse_memory
from jupyter_constructs.core.rules import DNS_LABEL, check_image
from jupyter_constructs.hub.kubespawner_traits import KUBESPAWNER_TRAITS
from jupyter_constructs.hub.storage import HOME_MOUNT_PATH

PROFILE_LABEL = "jupyter-constructs.io/profile"
"""Label on every user pod naming its profile (NetworkPolicies select by it)."""


class UserPodBinding(Protocol):
    """What a profile needs from a platform service binding (``PlatformServiceBinding``)."""

    @property
    def node(self) -> Node:
        """The binding's construct node (its path names it in messages)."""
        ...

    def environment(self) -> dict[str, Any]:
        """KubeSpawner ``environment`` entries of the binding."""
        ...

    def user_volumes(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """KubeSpawner ``volumes`` and ``volume_mounts`` for the binding's files."""
        ...


class ProfileHost(Protocol):
    """What a profile needs from the hub it is attached to (``JupyterHub``)."""

    def add_binding(self, binding: Any, *, profile: NotebookProfile | None = None) -> None:
        """Bind ``binding`` to the hub, or only to ``profile``."""
        ...


_PULL_POLICIES = ("IfNotPresent", "Always", "Never")
_TOLERATION_OPERATORS = ("Equal", "Exists")
_TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
# Keys that typed parameters own; extra_overrides may not set them.
_TYPED_KEYS = frozenset(
    {
        "image",
        "image_pull_policy",
        "image_pull_secrets",
        "cpu_guarantee",
        "cpu_limit",
        "mem_guarantee",
        "mem_limit",
        "extra_resource_guarantees",
        "extra_resource_limits",
        "node_selector",
        "tolerations",
        "environment",
        "start_timeout",
        "lifecycle_hooks",
        "volumes",
        "volume_mounts",
    }
)


@dataclass(frozen=True)
class Toleration:
    """A pod toleration (Kubernetes ``Toleration``).

    Attributes:
        key: The taint key tolerated.
        operator: ``"Exists"`` (any value of ``key``) or ``"Equal"``. Default: ``"Exists"``.
        value: The taint value, with ``"Equal"``. Default: none.
        effect: ``NoSchedule``, ``PreferNoSchedule`` or ``NoExecute``. Default: every effect.
    """

    key: str
    operator: str = "Exists"
    value: str | None = None
    effect: str | None = None

    def to_kube(self) -> dict[str, str]:
        """The toleration as Kubernetes JSON."""
        kube = {"key": self.key, "operator": self.operator}
        if self.value is not None:
            kube["value"] = self.value
        if self.effect is not None:
            kube["effect"] = self.effect
        return kube


@dataclass(frozen=True)
class Gpu:
    """GPUs for a profile; the defaults fit the NVIDIA device plugin and GPU operator.

    Attributes:
        count: Whole GPUs per server. Default: 1.
        resource_name: The extended resource. Default: ``"nvidia.com/gpu"``.
        node_selector: Where GPU servers run. Default: ``nvidia.com/gpu.present=true``.
        tolerations: Default: tolerate the ``nvidia.com/gpu`` taint (``NoSchedule``).
    """

    count: int = 1
    resource_name: str = "nvidia.com/gpu"
    node_selector: Mapping[str, str] = field(
        default_factory=lambda: {"nvidia.com/gpu.present": "true"}
    )
    tolerations: Sequence[Toleration] = (Toleration("nvidia.com/gpu", effect="NoSchedule"),)


class ProfileOptions(TypedDict, total=False):
    """The optional settings of a profile, as ``hub.add_profile`` takes them.

    Each key is the ``NotebookProfile`` parameter of the same name; see its docstring
    for meanings and defaults.
    """

    description: str
    default: bool
    image: str | None
    image_pull_policy: str
    image_pull_secrets: Sequence[str]
    cpu_request: str
    cpu_limit: str
    memory_request: str
    memory_limit: str
    gpu: Gpu | None
    env: Mapping[str, str] | None
    node_selector: Mapping[str, str] | None
    tolerations: Sequence[Toleration]
    start_timeout: int | None
    post_start_command: Sequence[str] | None
    shared_data_read_only: bool
    internet_access: bool | None
    extra_overrides: Mapping[str, Any] | None


class NotebookProfile(Construct):
    """One choice on the spawn page: image, CPU, memory, GPUs, env and bindings.

    Build it with ``hub.add_profile(slug, display_name=..., ...)``; each field becomes a
    checked entry of KubeSpawner's ``profile_list`` (z2jh's ``singleuser.profileList``).
    Reference: https://jupyterhub-kubespawner.readthedocs.io/en/latest/spawner.html

    Args:
        scope: The hub.
        id: Construct id (``hub.add_profile`` uses ``Profile-<slug>``).
        slug: Short name (a DNS label, unique per hub); labels the servers' pods.
        display_name: What users see on the spawn page.
        description: A sentence under it. Default: none.
        default: The profile preselected; exactly one per hub. Default: False.
        image: The notebook image (pinned by tag or digest). Default: the hub's
            ``notebook_image``.
        image_pull_policy: ``IfNotPresent``, ``Always`` or ``Never``. Default:
            ``"IfNotPresent"``.
        image_pull_secrets: Secrets for a private registry. Default: none.
        cpu_request: CPU request, cores (``cpu_guarantee``). Default: ``"1"``.
        cpu_limit: CPU limit, cores. Default: ``"2"``.
        memory_request: Memory request (``mem_guarantee``). Default: ``"2Gi"``.
        memory_limit: Memory limit. Default: ``"4Gi"``.
        gpu: GPUs (``Gpu``). Default: none.
        env: Environment variables. Default: none.
        node_selector: Extra node labels the servers require. Default: none.
        tolerations: Extra tolerations. Default: none.
        start_timeout: Seconds for a server to start. Default: the hub's.
        post_start_command: Command run after the server starts
            (``lifecycle_hooks.postStart``). Default: none.
        shared_data_read_only: Mount the shared data volume read-only. Default: False.
        internet_access: Let the servers reach public addresses on any port (True) or
            not (False); private ranges and cloud metadata stay blocked either way.
            Default: ``None``, the hub's ``NetworkOptions.user_internet_access`` (True).
        extra_overrides: Other ``kubespawner_override`` keys, checked against
            KubeSpawner's trait names. Default: none.

    Raises:
        ConfigurationError: A value is invalid or an override key unknown.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        slug: str,
        display_name: str,
        description: str = "",
        default: bool = False,
        image: str | None = None,
        image_pull_policy: str = "IfNotPresent",
        image_pull_secrets: Sequence[str] = (),
        cpu_request: str = "1",
        cpu_limit: str = "2",
        memory_request: str = "2Gi",
        memory_limit: str = "4Gi",
        gpu: Gpu | None = None,
        env: Mapping[str, str] | None = None,
        node_selector: Mapping[str, str] | None = None,
        tolerations: Sequence[Toleration] = (),
        start_timeout: int | None = None,
        post_start_command: Sequence[str] | None = None,
        shared_data_read_only: bool = False,
        internet_access: bool | None = None,
        extra_overrides: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(scope, id)
        adopt(self, scope, id)
        if not isinstance(slug, str) or not DNS_LABEL.match(slug):
            raise invalid(
                self,
                "profile slug",
                slug,
                allowed="a DNS-1123 label: 1-63 lowercase letters, digits and '-'",
                fix="use a short name like 'small' or 'gpu-a100'",
            )
        if not display_name:
            raise invalid(
                self,
                "display_name",
                display_name,
                allowed="a non-empty string",
                fix="give the name users see on the spawn page",
            )
        self.slug = slug
        self.display_name = display_name
        self.description = description
        self.default = default
        self.image = check_image(self, "image", image) if image is not None else None
        if image_pull_policy not in _PULL_POLICIES:
            raise invalid(
                self,
                "image_pull_policy",
                image_pull_policy,
                allowed=", ".join(_PULL_POLICIES),
                fix="usually 'IfNotPresent'",
            )
        self.image_pull_policy = image_pull_policy
        self.image_pull_secrets = list(image_pull_secrets)
        self._cpu = (
            parse_cpu(self, "cpu_request", cpu_request),
            parse_cpu(self, "cpu_limit", cpu_limit),
        )
        self._memory = (
            parse_memory(self, "memory_request", memory_request),
            parse_memory(self, "memory_limit", memory_limit),
        )
        if self._cpu[1] < self._cpu[0]:
            raise invalid(
                self,
                "cpu_limit",
                cpu_limit,
                allowed=f"at least the CPU request {cpu_request!r}",
                fix="raise the limit or lower the request",
            )
        if self._memory[1] < self._memory[0]:
            raise invalid(
                self,
                "memory_limit",
                memory_limit,
                allowed=f"at least the memory request {memory_request!r}",
                fix="raise the limit or lower the request",
            )
        self.cpu_request, self.cpu_limit = cpu_request, cpu_limit
        self.memory_request, self.memory_limit = memory_request, memory_limit
        if gpu is not None:
            self._check_gpu(gpu)
        self.gpu = gpu
        self.env = dict(env or {})
        self.node_selector = dict(node_selector or {})
        self.tolerations = list(tolerations)
        for toleration in self.tolerations:
            self._check_toleration(toleration)
        if start_timeout is not None and start_timeout <= 0:
            raise invalid(
                self,
                "start_timeout",
                start_timeout,
                allowed="seconds > 0",
                fix="e.g. 600 for large images",
            )
        self.start_timeout = start_timeout
        self.post_start_command = list(post_start_command) if post_start_command else None
        self.shared_data_read_only = shared_data_read_only
        self.internet_access = internet_access
        self.extra_overrides = dict(extra_overrides or {})
        for key in sorted(self.extra_overrides):
            self._check_override_key(key)
        self._bindings: list[UserPodBinding] = []
        self._host: ProfileHost | None = None

    # -- checks -------------------------------------------------------------------------

    def _check_gpu(self, gpu: Gpu) -> None:
        if not isinstance(gpu.count, int) or isinstance(gpu.count, bool) or gpu.count < 1:
            raise invalid(
                self,
                "gpu.count",
                gpu.count,
                allowed="a whole number of GPUs, 1 or more",
                fix="GPUs cannot be shared by fractions here; use Gpu(count=1)",
            )
        for toleration in gpu.tolerations:
            self._check_toleration(toleration)

    def _check_toleration(self, toleration: Toleration) -> None:
        if toleration.operator not in _TOLERATION_OPERATORS:
            raise invalid(
                self,
                "toleration operator",
                toleration.operator,
                allowed=", ".join(_TOLERATION_OPERATORS),
                fix="use 'Exists' or 'Equal'",
            )
        if toleration.effect is not None and toleration.effect not in _TAINT_EFFECTS:
            raise invalid(
                self,
                "toleration effect",
                toleration.effect,
                allowed=", ".join(_TAINT_EFFECTS),
                fix="use 'NoSchedule'",
            )

    def _check_override_key(self, key: str) -> None:
        if key in _TYPED_KEYS:
            raise invalid(
                self,
                "extra_overrides key",
                key,
                allowed="KubeSpawner options without a typed parameter",
                fix=f"use the typed NotebookProfile parameter for {key!r}",
            )
        if key not in KUBESPAWNER_TRAITS:
            raise invalid(
                self,
                "extra_overrides key",
                key,
                allowed="a configurable trait of KubeSpawner (see its docs)",
                fix="check the spelling against KubeSpawner's configuration reference",
            )

    # -- attaching ---------------------------------------------------------------------

    def bind(self, hub: ProfileHost) -> None:
        """Attach this profile to ``hub``; called by ``hub.attach_profile``, call that instead."""
        if self._host is not None:
            raise invalid(
                self,
                "profile",
                self.slug,
                allowed="a profile attached to one hub",
                fix="build one profile per hub",
            )
        self._host = hub

    def add_binding(self, binding: UserPodBinding) -> None:
        """Give only this profile's servers access to ``binding``'s service.

        Args:
            binding: A platform service binding, e.g. ``PlatformServiceBinding.ray(...)``.

        Raises:
            ConfigurationError: The profile is not attached to a hub, the binding is
                already bound to it or to the whole hub, or it sets a variable another
                binding of this profile sets.
        """
        if self._host is None:
            raise invalid(
                self,
                "profile",
                self.slug,
                allowed="a profile added to a hub",
                fix="use hub.add_profile(...) or hub.attach_profile(profile)",
            )
        if binding in self._bindings:
            raise invalid(
                self,
                "binding",
                binding.node.path,
                allowed="each binding once",
                fix="remove the second add_binding call",
            )
        self._host.add_binding(binding, profile=self)
        self._bindings.append(binding)

    @property
    def bindings(self) -> list[UserPodBinding]:
        """Bindings of this profile only (hub-wide ones are on the hub)."""
        return list(self._bindings)

    # -- rendering ----------------------------------------------------------------------

    def usage(self) -> Usage:
        """The requests and limits of one server of this profile."""
        return Usage(
            self._cpu[0],
            self._cpu[1],
            self._memory[0],
            self._memory[1],
            self.gpu.count if self.gpu else 0,
        )

    def placement(self) -> dict[str, Any]:
        """Where this profile's servers run, GPU placement included.

        Returns:
            Kubernetes JSON: ``{"nodeSelector": {...}, "tolerations": [...]}``.
        """
        node_selector = dict(self.node_selector)
        tolerations = [t.to_kube() for t in self.tolerations]
        if self.gpu is not None:
            node_selector.update(self.gpu.node_selector)
            tolerations += [t.to_kube() for t in self.gpu.tolerations]
        return {"nodeSelector": dict(sorted(node_selector.items())), "tolerations": tolerations}

    def environment(self, bindings: Sequence[UserPodBinding]) -> dict[str, Any]:
        """KubeSpawner ``environment``: ``bindings``' variables, then the profile's own."""
        env: dict[str, Any] = {}
        for binding in bindings:
            env.update(binding.environment())
        for name, value in self.env.items():
            if name in env:
                raise invalid(
                    self,
                    "env",
                    name,
                    allowed="a name no binding sets",
                    fix="rename the variable or drop it from env=",
                )
            env[name] = value
        return dict(sorted(env.items()))

    def to_profile_entry(
        self,
        *,
        notebook_image: str,
        pod_labels: Mapping[str, str],
        volumes: Sequence[dict[str, Any]],
        volume_mounts: Sequence[dict[str, Any]],
        bindings: Sequence[UserPodBinding],
    ) -> dict[str, Any]:
        """The ``profile_list`` entry.

        Args:
            notebook_image: The hub's image for profiles that name none.
            pod_labels: Labels the hub puts on every user pod.
            volumes: The hub's user volumes (home, shared data).
            volume_mounts: Their mounts.
            bindings: The bindings reaching this profile's pods (hub-wide ones first).
        """
        override: dict[str, Any] = {
            "image": self.image or notebook_image,
            "image_pull_policy": self.image_pull_policy,
            "cpu_guarantee": float(self._cpu[0]),
            "cpu_limit": float(self._cpu[1]),
            "mem_guarantee": self._memory[0],
            "mem_limit": self._memory[1],
        }
        if self.image_pull_secrets:
            override["image_pull_secrets"] = self.image_pull_secrets
        if self.gpu is not None:
            count = str(self.gpu.count)
            override["extra_resource_guarantees"] = {self.gpu.resource_name: count}
            override["extra_resource_limits"] = {self.gpu.resource_name: count}
        where = self.placement()
        if where["nodeSelector"]:
            override["node_selector"] = where["nodeSelector"]
        if where["tolerations"]:
            override["tolerations"] = where["tolerations"]
        environment = self.environment(bindings)
        if environment:
            override["environment"] = environment
        if self.start_timeout is not None:
            override["start_timeout"] = self.start_timeout
        if self.post_start_command:
            override["lifecycle_hooks"] = {
                "postStart": {"exec": {"command": self.post_start_command}}
            }
        # The profile label lets NetworkPolicies select one profile's servers.
        override["extra_labels"] = {**pod_labels, PROFILE_LABEL: self.slug}
        all_volumes, all_mounts = list(volumes), list(volume_mounts)
        # Bindings' client config files, read-only under /etc/platform-services/<name>/.
        for binding in bindings:
            binding_volumes, binding_mounts = binding.user_volumes()
            all_volumes += binding_volumes
            all_mounts += binding_mounts
        override["volumes"] = all_volumes
        override["volume_mounts"] = all_mounts
        override.update(self.extra_overrides)
        entry: dict[str, Any] = {
            "display_name": self.display_name,
            "slug": self.slug,
            "description": self.description,
            "kubespawner_override": override,
        }
        if self.default:
            entry["default"] = True
        return entry


__all__ = ["HOME_MOUNT_PATH", "Gpu", "NotebookProfile", "Toleration"]

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

from jupyter_constructs.core.checks import add_check
from jupyter_constructs.core.errors import invalid
from jupyter_constructs.core.objects import adopt
from jupyter_constructs.core.quantities import Usage, parse_cpu, parse_memory
from jupyter_constructs.core.rules import (
    EXTENDED_RESOURCE_RULE,
    check,
    check_bool,
    check_choice,
    check_image,
    check_int,
    check_node_selector,
    check_sequence,
    check_text,
    check_toleration,
    is_dns_label,
    is_extended_resource_name,
)
from jupyter_constructs.core.secrets import SecretRef
from jupyter_constructs.core.security import secure_container
from jupyter_constructs.hub.containers import UserContainer
from jupyter_constructs.hub.gpus import NO_DEVICES, VISIBLE_DEVICES, GpuIsolation
from jupyter_constructs.hub.kubespawner_traits import KUBESPAWNER_TRAITS
from jupyter_constructs.hub.profile_options import (
    ProfileOption,
    check_options,
    max_resources,
    option_images,
)
from jupyter_constructs.hub.singleuser import (
    EXTRA_FILES_CHECKSUM,
    PodParts,
    SingleUser,
    UserPodContext,
    add_settings_volumes,
    check_command,
    check_override_key,
    check_override_value,
    env_entries,
    files_checksum,
    merge_overrides,
    render_parts,
)
from jupyter_constructs.hub.storage import HOME_MOUNT_PATH, HOME_VOLUME, SHARED_DATA_VOLUME
from jupyter_constructs.hub.volumes import ExtraFile, UserVolume

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

    @property
    def singleuser(self) -> SingleUser:
        """The hub-wide user server settings."""
        ...

    def add_binding(self, binding: Any, *, profile: NotebookProfile | None = None) -> None:
        """Bind ``binding`` to the hub, or only to ``profile``."""
        ...


_PULL_POLICIES = ("IfNotPresent", "Always", "Never")
#: The longest slug: ``image-puller-<slug>`` labels the pre-puller's pods (a label value).
MAX_SLUG_LENGTH = 63 - len("image-puller-")


def _as_dict(value: Any) -> Any:
    """A mapping as a dict (``None``: empty); anything else as given, for the check to refuse."""
    if value is None:
        return {}
    return dict(value) if isinstance(value, Mapping) else value


def _as_tuple(value: Any) -> Any:
    """A list or tuple as a tuple; anything else as given, for the check to refuse it."""
    return tuple(value) if isinstance(value, list | tuple) else value


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
    env: Mapping[str, str | SecretRef] | None
    node_selector: Mapping[str, str] | None
    tolerations: Sequence[Toleration]
    start_timeout: int | None
    post_start_command: Sequence[str] | None
    pre_stop_command: Sequence[str] | None
    stop_grace_period: int | None
    shared_data_read_only: bool
    internet_access: bool | None
    default_url: str | None
    cmd: Sequence[str] | None
    uid: int | None
    gid: int | None
    fs_gid: int | None
    volumes: Sequence[UserVolume]
    extra_files: Mapping[str, ExtraFile] | None
    shm_size: str | None
    init_containers: Sequence[UserContainer]
    extra_containers: Sequence[UserContainer]
    extra_labels: Mapping[str, str] | None
    extra_annotations: Mapping[str, str] | None
    extra_resources: Mapping[str, str] | None
    extra_overrides: Mapping[str, Any] | None
    options: Mapping[str, ProfileOption] | None
    allowed_groups: Sequence[str]
    allowed_users: Sequence[str]
    former_slugs: Sequence[str]


class NotebookProfile(Construct):
    """One choice on the spawn page: image, CPU, memory, GPUs, env, volumes and bindings.

    Build it with ``hub.add_profile(slug, display_name=..., ...)``; each field becomes a
    checked entry of KubeSpawner's ``profile_list`` (z2jh's ``singleuser.profileList``).
    Parameters that ``SingleUser`` also has override the hub-wide ones (mappings and named
    things merge, the profile's entry winning; see ``hub.singleuser``).
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
        env: Environment variables: text, or ``SecretRef`` for a Secret's key
            (KubeSpawner ``environment``). Default: the hub-wide ones.
        node_selector: Extra node labels the servers require. Default: none.
        tolerations: Extra tolerations. Default: none.
        start_timeout: Seconds for a server to start. Default: the hub's.
        post_start_command: Command run after the server starts
            (``lifecycle_hooks.postStart``). Default: the hub-wide one, if any.
        pre_stop_command: Command run before the server stops
            (``lifecycle_hooks.preStop``). Default: the hub-wide one, if any.
        stop_grace_period: Seconds a stopping server gets (KubeSpawner
            ``delete_grace_period``). Default: 30 with a ``pre_stop_command``, else 1.
        shared_data_read_only: Mount the shared data volume read-only. Default: False.
        internet_access: Let the servers reach public addresses on any port (True) or
            not (False); private ranges and cloud metadata stay blocked either way.
            Default: ``None``, the hub's ``NetworkOptions.user_internet_access`` (True).
        default_url: The page servers open on, e.g. ``"/lab"``. Default: the hub-wide one.
        cmd: The notebook container's command (KubeSpawner ``cmd``). Default: the
            hub-wide one, else ``jupyterhub-singleuser``.
        uid: The server's uid. Default: the hub-wide one (1000).
        gid: The server's gid. Default: the hub-wide one (the image's).
        fs_gid: The volumes' group. Default: the hub-wide one (100).
        volumes: Volumes the servers mount (``UserVolume``); one named like a hub-wide
            volume replaces it here. Default: the hub-wide ones.
        extra_files: Files put into the servers (``ExtraFile``), by name; same rule.
            Default: the hub-wide ones.
        shm_size: Size of a memory-backed ``/dev/shm``, at most ``memory_limit``
            (PyTorch's DataLoader needs more than the runtime's 64MiB). Default: the
            hub-wide one, if any.
        init_containers: Containers run before the server (``UserContainer``).
            Default: the hub-wide ones.
        extra_containers: Sidecars (``UserContainer``). Default: the hub-wide ones.
        extra_labels: Pod labels (KubeSpawner ``extra_labels``); labels the
            NetworkPolicies select by are refused. Default: the hub-wide ones.
        extra_annotations: Pod annotations. Default: the hub-wide ones.
        extra_resources: Extended resources by name, requested and limited alike
            (``ephemeral-storage``, ``hugepages-2Mi``, ``nvidia.com/mig-1g.10gb``...).
            Default: the hub-wide ones.
        extra_overrides: Other ``kubespawner_override`` keys, checked against
            KubeSpawner's trait names; mappings and lists merge with what the library
            renders and cannot replace or remove it. Default: none.
        options: Choices inside the profile (KubeSpawner ``profile_options``), by key:
            a drop-down each (``ProfileOption``), whose choices change the image, CPU,
            memory, env or default URL, with an optional free-form image field
            (``UnlistedChoice``) checked against a regex. The quota and LimitRange are
            checked against the largest choice; choice images are pre-pulled.
            Default: none.
        allowed_groups: Only members of these JupyterHub groups see and may start this
            profile (enforced in the hub, the REST API included). Default: everyone.
        allowed_users: These users too (hub user names). Default: none. The default
            profile must stay open to everyone.
        former_slugs: Slugs this profile had before a rename (DNS labels like ``slug``),
            e.g. ``former_slugs=("medium",)`` after renaming ``medium`` to ``standard``.
            Running servers keep the old slug in their pod label until they restart: every
            NetworkPolicy that selects this profile's servers selects the former slugs
            too, so they keep internet and platform-service access; and the hub maps a
            former slug in a user's stored or requested choice to this profile, so a start
            without options (the REST API reuses the last choice) starts this profile
            instead of failing with "No such profile". Keep them until every server
            started before the rename has stopped. Default: none. See
            docs/user-servers.md, "Renaming a profile".

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
        env: Mapping[str, str | SecretRef] | None = None,
        node_selector: Mapping[str, str] | None = None,
        tolerations: Sequence[Toleration] = (),
        start_timeout: int | None = None,
        post_start_command: Sequence[str] | None = None,
        pre_stop_command: Sequence[str] | None = None,
        stop_grace_period: int | None = None,
        shared_data_read_only: bool = False,
        internet_access: bool | None = None,
        default_url: str | None = None,
        cmd: Sequence[str] | None = None,
        uid: int | None = None,
        gid: int | None = None,
        fs_gid: int | None = None,
        volumes: Sequence[UserVolume] = (),
        extra_files: Mapping[str, ExtraFile] | None = None,
        shm_size: str | None = None,
        init_containers: Sequence[UserContainer] = (),
        extra_containers: Sequence[UserContainer] = (),
        extra_labels: Mapping[str, str] | None = None,
        extra_annotations: Mapping[str, str] | None = None,
        extra_resources: Mapping[str, str] | None = None,
        extra_overrides: Mapping[str, Any] | None = None,
        options: Mapping[str, ProfileOption] | None = None,
        allowed_groups: Sequence[str] = (),
        allowed_users: Sequence[str] = (),
        former_slugs: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, id)
        adopt(self, scope, id)
        if not is_dns_label(slug) or len(slug) > MAX_SLUG_LENGTH:
            raise invalid(
                self,
                "profile slug",
                slug,
                allowed=f"a DNS-1123 label of at most {MAX_SLUG_LENGTH} characters: lowercase "
                "letters, digits and '-', starting and ending with a letter or digit",
                fix="use a short name like 'small' or 'gpu-a100'",
            )
        self.slug = slug
        self.former_slugs = self._check_former_slugs(former_slugs)
        self.display_name = check_text(self, "display_name", display_name, max_length=256)
        self.description = check_text(self, "description", description, empty=True)
        self.default = check_bool(self, "default", default)
        self.image = check_image(self, "image", image) if image is not None else None
        self.image_pull_policy = check_choice(
            self,
            "image_pull_policy",
            image_pull_policy,
            _PULL_POLICIES,
            fix="usually 'IfNotPresent'",
        )
        self.image_pull_secrets = list(_as_tuple(image_pull_secrets))
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
        self.env = _as_dict(env)
        self.node_selector = check_node_selector(self, "node_selector", node_selector or {})
        self.tolerations = check_sequence(
            self, "tolerations", tolerations, lambda what, t: self._check_toleration(what, t)
        )
        if start_timeout is not None:
            check_int(
                self, "start_timeout", start_timeout, minimum=1, fix="e.g. 600 for large images"
            )
        self.start_timeout = start_timeout
        if post_start_command is not None:
            check_command(self, "post_start_command", post_start_command)
        self.post_start_command = list(post_start_command) if post_start_command else None
        self.shared_data_read_only = check_bool(
            self, "shared_data_read_only", shared_data_read_only
        )
        if internet_access is not None:
            check_bool(self, "internet_access", internet_access)
        self.internet_access = internet_access
        self.settings = SingleUser(
            env=_as_dict(env),
            default_url=default_url,
            cmd=_as_tuple(cmd) if cmd is not None else None,
            uid=uid,
            gid=gid,
            fs_gid=fs_gid,
            image_pull_secrets=_as_tuple(image_pull_secrets),
            volumes=_as_tuple(volumes),
            extra_files=_as_dict(extra_files),
            init_containers=_as_tuple(init_containers),
            extra_containers=_as_tuple(extra_containers),
            extra_labels=_as_dict(extra_labels),
            extra_annotations=_as_dict(extra_annotations),
            extra_resources=_as_dict(extra_resources),
            shm_size=shm_size,
            post_start_command=self.post_start_command,
            pre_stop_command=_as_tuple(pre_stop_command) if pre_stop_command is not None else None,
            stop_grace_period=stop_grace_period,
        ).check(self)
        if gpu is not None and gpu.resource_name in self.settings.extra_resources:
            raise invalid(
                self,
                "extra_resources name",
                gpu.resource_name,
                allowed="a resource gpu= does not already request",
                fix=f"ask for {gpu.resource_name} once: with gpu=Gpu(count=...) or in "
                "extra_resources",
            )
        if extra_overrides is not None and not isinstance(extra_overrides, Mapping):
            raise invalid(
                self,
                "extra_overrides",
                extra_overrides,
                allowed="a dict of KubeSpawner trait name -> value",
                fix='e.g. extra_overrides={"working_dir": "/home/jovyan/work"}',
            )
        self.extra_overrides = dict(extra_overrides or {})
        for key in sorted(self.extra_overrides):
            check_override_key(self, key, KUBESPAWNER_TRAITS)
            check_override_value(self, key, self.extra_overrides[key])
        if options is not None and not isinstance(options, Mapping):
            raise invalid(
                self,
                "options",
                options,
                allowed="a mapping of option keys to ProfileOption",
                fix='e.g. options={"size": ProfileOption("Size", {...})}',
            )
        self.options = dict(options or {})
        check_options(
            self, self.options, cpu=self._cpu, memory=self._memory, env_names=set(self.env)
        )
        self.allowed_groups = self._check_names("allowed_groups", allowed_groups)
        self.allowed_users = self._check_names("allowed_users", allowed_users)
        self._bindings: list[UserPodBinding] = []
        self._host: ProfileHost | None = None
        add_check(self, self._check_attached)

    # -- checks -------------------------------------------------------------------------

    @property
    def restricted(self) -> bool:
        """True when only some groups or users may use this profile."""
        return bool(self.allowed_groups or self.allowed_users)

    def access(self) -> dict[str, list[str]]:
        """Who may use this profile: ``{"groups": [...], "users": [...]}`` (empty: everyone)."""
        return {"groups": list(self.allowed_groups), "users": list(self.allowed_users)}

    @property
    def slugs(self) -> tuple[str, ...]:
        """The slug and the former slugs: every value this profile's pods may be labelled with."""
        return (self.slug, *self.former_slugs)

    def _check_former_slugs(self, former_slugs: Sequence[str]) -> tuple[str, ...]:
        values = former_slugs
        if isinstance(values, str) or not isinstance(values, list | tuple):
            raise invalid(
                self,
                "former_slugs",
                former_slugs,
                allowed="a list of the slugs this profile had before (DNS labels)",
                fix='e.g. former_slugs=("medium",) after renaming "medium"',
            )
        seen: list[str] = []
        for value in values:
            if not is_dns_label(value) or len(value) > MAX_SLUG_LENGTH:
                raise invalid(
                    self,
                    "former_slugs",
                    value,
                    allowed=f"a DNS-1123 label of at most {MAX_SLUG_LENGTH} characters, as "
                    "the slug was",
                    fix="list the profile's old slug exactly as it was rendered",
                )
            if value == self.slug or value in seen:
                raise invalid(
                    self,
                    "former_slugs",
                    value,
                    allowed="slugs other than the profile's own slug, each listed once",
                    fix=f"remove {value!r} from former_slugs",
                )
            seen.append(value)
        return tuple(seen)

    def _check_names(self, what: str, names: Sequence[str]) -> list[str]:
        values = list(names) if isinstance(names, list | tuple | set | frozenset) else names
        if not isinstance(values, list) or not all(
            isinstance(n, str) and n and n.strip() == n for n in values
        ):
            raise invalid(
                self,
                what,
                names,
                allowed="a list of non-empty names without surrounding spaces",
                fix=f'e.g. {what}=["data-science"]',
            )
        if self.default and values:
            raise invalid(
                self,
                what,
                values,
                allowed="no restriction on the default profile (users outside the groups "
                "would have no profile left to start)",
                fix="restrict another profile, or make an open profile the default",
            )
        return sorted(set(values))

    def _check_gpu(self, gpu: Gpu) -> None:
        if not isinstance(gpu, Gpu):
            raise invalid(
                self, "gpu", gpu, allowed="a Gpu(...) or None", fix="pass gpu=Gpu(count=1)"
            )
        check_int(
            self,
            "gpu.count",
            gpu.count,
            minimum=1,
            maximum=64,
            fix="GPUs cannot be shared by fractions here; use Gpu(count=1)",
        )
        check(
            self,
            "gpu.resource_name",
            gpu.resource_name,
            EXTENDED_RESOURCE_RULE,
            fix="use the name the device plugin advertises, e.g. 'nvidia.com/gpu'",
        )
        check_node_selector(self, "gpu.node_selector", gpu.node_selector)
        check_sequence(
            self,
            "gpu.tolerations",
            gpu.tolerations,
            lambda what, t: self._check_toleration(what, t),
        )

    def _check_toleration(self, what: str, toleration: object) -> None:
        if not isinstance(toleration, Toleration):
            raise invalid(
                self,
                what,
                toleration,
                allowed="a Toleration(key, operator, value, effect)",
                fix='pass Toleration("nvidia.com/gpu", effect="NoSchedule")',
            )
        check_toleration(
            self,
            what,
            key=toleration.key,
            operator=toleration.operator,
            value=toleration.value,
            effect=toleration.effect,
        )

    def _check_attached(self) -> list[str]:
        if self._host is not None:
            return []
        return [
            str(
                invalid(
                    self,
                    "profile",
                    self.slug,
                    allowed="a profile attached to a hub",
                    fix="attach it with hub.attach_profile(profile), build it with "
                    "hub.add_profile(...), or delete it",
                )
            )
        ]

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

    def effective_settings(self, defaults: SingleUser | None = None) -> SingleUser:
        """The hub-wide settings (``defaults``; the host's by default) merged with this one's."""
        if defaults is None:
            defaults = self._host.singleuser if self._host is not None else SingleUser()
        return defaults.merged_with(self.settings)

    def usage(self) -> Usage:
        """The requests and limits of one server of this profile, added containers included.

        A pod takes the sum of its containers, or its largest init container if that is
        more (init containers run one at a time, before the others).
        """
        settings = self.effective_settings()
        cpu, memory = max_resources(self.options, self._cpu, self._memory)
        extended = {
            name: int(count)
            for name, count in self.extended_resources().items()
            if is_extended_resource_name(name)
        }
        gpus = self.gpu.count if self.gpu else 0
        server = Usage(cpu[0], cpu[1], memory[0], memory[1], gpus, extended)
        for sidecar in settings.extra_containers:
            server = server + sidecar.usage()
        for init in settings.init_containers:
            usage = init.usage()
            server = Usage(
                max(server.requests_cpu, usage.requests_cpu),
                max(server.limits_cpu, usage.limits_cpu),
                max(server.requests_memory, usage.requests_memory),
                max(server.limits_memory, usage.limits_memory),
                server.gpus,
                server.extended,
            )
        return server

    def extended_resources(self) -> dict[str, str]:
        """Extended resources one server requests, by name (the GPU's included)."""
        resources = dict(self.effective_settings().extra_resources)
        if self.gpu is not None:
            resources[self.gpu.resource_name] = str(self.gpu.count)
        return dict(sorted(resources.items()))

    def without_gpu(self, isolation: GpuIsolation) -> bool:
        """True when this profile asks for no GPU: no ``gpu=``, no GPU in ``extra_resources``.

        Args:
            isolation: Which extended resources are GPUs (``gpu_resource_domains``).
        """
        return isolation.isolates(self.gpu is not None, self.extended_resources())

    def images(self) -> list[str]:
        """Every image of this profile's pods that is known at synth, for the pre-puller.

        The notebook image (``None`` here when the profile uses the hub's) is the
        caller's; these are the added containers' images, typed and raw.
        """
        settings = self.effective_settings()
        images = [c.image for c in (*settings.init_containers, *settings.extra_containers)]
        images += option_images(self.options)
        for key in ("init_containers", "extra_containers"):
            raw = self.extra_overrides.get(key) or []
            for container in raw.values() if isinstance(raw, Mapping) else raw:
                if isinstance(container, Mapping) and isinstance(container.get("image"), str):
                    images.append(container["image"])
        return list(dict.fromkeys(images))

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

    def environment(
        self, bindings: Sequence[UserPodBinding], settings: SingleUser | None = None
    ) -> dict[str, Any]:
        """KubeSpawner ``environment``: ``bindings``' variables, then the settings' own.

        Args:
            bindings: The bindings reaching this profile's pods.
            settings: The effective settings. Default: this profile's merged with the hub's.

        Raises:
            ConfigurationError: A variable of the settings is one a binding sets.
        """
        settings = settings or self.effective_settings()
        env: dict[str, Any] = {}
        for binding in bindings:
            env.update(binding.environment())
        for name, value in env_entries(settings.env).items():
            if name in env:
                raise invalid(
                    self,
                    "env",
                    name,
                    allowed="a name no binding sets",
                    fix="rename the variable or drop it from env= (here or in SingleUser)",
                )
            env[name] = value
        return dict(sorted(env.items()))

    def to_profile_entry(
        self,
        context: UserPodContext,
        bindings: Sequence[UserPodBinding],
    ) -> dict[str, Any]:
        """The ``profile_list`` entry, with the hub's part of the pod (``context``) merged in.

        Args:
            context: What the hub gives every profile (image, labels, hub-wide settings,
                home and shared data volumes).
            bindings: The bindings reaching this profile's pods (hub-wide ones first).

        Raises:
            ConfigurationError: Two parts of the pod clash (a mount path, a volume or
                container name, a variable, a label), or an override would replace or
                remove what the library set.
        """
        settings = context.defaults.merged_with(self.settings)
        image = self.image or context.notebook_image
        override: dict[str, Any] = {
            "image": image,
            "image_pull_policy": self.image_pull_policy,
            "cpu_guarantee": float(self._cpu[0]),
            "cpu_limit": float(self._cpu[1]),
            "mem_guarantee": self._memory[0],
            "mem_limit": self._memory[1],
        }
        # Scalars the hub sets hub-wide (KubeSpawner class config) and this profile changes.
        for key in ("default_url", "cmd", "uid", "gid", "fs_gid"):
            value = getattr(self.settings, key)
            if value is not None:
                override[key] = list(value) if key == "cmd" else value
        if settings.image_pull_secrets:
            override["image_pull_secrets"] = list(settings.image_pull_secrets)
        resources = self.extended_resources()
        if resources:
            override["extra_resource_guarantees"] = resources
            override["extra_resource_limits"] = dict(resources)
        where = self.placement()
        if where["nodeSelector"]:
            override["node_selector"] = where["nodeSelector"]
        if where["tolerations"]:
            override["tolerations"] = where["tolerations"]
        environment = self.environment(bindings, settings)
        isolation = context.gpu_isolation
        if isolation is not None and isolation.hide_devices and self.without_gpu(isolation):
            # The pod's env overrides the image's NVIDIA_VISIBLE_DEVICES=all (CUDA images).
            if VISIBLE_DEVICES in environment:
                raise invalid(
                    self,
                    "env",
                    VISIBLE_DEVICES,
                    allowed=f"a variable the hub does not set: servers of profiles without a "
                    f"GPU get {VISIBLE_DEVICES}={NO_DEVICES}, so they see no GPU of the node",
                    fix="drop it, give the profile a GPU, or pass "
                    "JupyterHub(gpu_isolation=GpuIsolation(hide_devices=False))",
                )
            environment = dict(sorted({**environment, VISIBLE_DEVICES: NO_DEVICES}.items()))
        if environment:
            override["environment"] = environment
        if self.start_timeout is not None:
            override["start_timeout"] = self.start_timeout
        hooks: dict[str, Any] = {}
        if settings.post_start_command:
            hooks["postStart"] = {"exec": {"command": list(settings.post_start_command)}}
        if settings.pre_stop_command:
            hooks["preStop"] = {"exec": {"command": list(settings.pre_stop_command)}}
        if hooks:
            override["lifecycle_hooks"] = hooks
        grace = settings.effective_stop_grace_period
        if grace is not None:
            override["delete_grace_period"] = grace
        # The profile label lets NetworkPolicies select one profile's servers; it is last,
        # and labels the library sets are refused in extra_labels (hub.singleuser).
        override["extra_labels"] = {
            **context.pod_labels,
            **settings.extra_labels,
            PROFILE_LABEL: self.slug,
        }
        parts = self._pod_parts(context, settings, bindings, image)
        files = add_settings_volumes(
            parts,
            settings,
            context,
            owner=lambda name: self.slug if name in self.settings.extra_files else None,
        )
        annotations = dict(settings.extra_annotations)
        if files:
            annotations[EXTRA_FILES_CHECKSUM] = files_checksum(files)
        if annotations:
            override["extra_annotations"] = annotations
        merge_overrides(
            self,
            override,
            self.extra_overrides,
            parts,
            uid=settings.effective_uid,
            gid=settings.gid,
        )
        data_paths = {}
        if context.home is not None:
            data_paths[context.home[1]["mountPath"]] = "the home volume"
        if context.shared_data is not None:
            data_paths[context.shared_data(False)[1]["mountPath"]] = "the shared data volume"
        parts.check_mounts(data_paths)
        render_parts(override, parts)
        entry: dict[str, Any] = {
            "display_name": self.display_name,
            "slug": self.slug,
            "description": self.description,
            "kubespawner_override": override,
        }
        if self.options:
            for name, option in self.options.items():
                for key, choice in option.choices.items():
                    clash = sorted(set(choice.env) & set(environment))
                    if clash:
                        raise invalid(
                            self,
                            f"options[{name!r}].choices[{key!r}].env",
                            clash[0],
                            allowed="a variable the profile, its bindings and the hub do not set",
                            fix="rename it: a choice adds variables, it cannot replace them",
                        )
            entry["profile_options"] = {
                name: option.entry() for name, option in self.options.items()
            }
        if self.default:
            entry["default"] = True
        return entry

    def _pod_parts(
        self,
        context: UserPodContext,
        settings: SingleUser,
        bindings: Sequence[UserPodBinding],
        image: str,
    ) -> PodParts:
        parts = PodParts(self)
        uid, gid = settings.effective_uid, settings.gid
        if context.home is not None:
            parts.add_volume(context.home[0], "the home volume")
            parts.add_mount(context.home[1], "the home volume")
            home_dir = context.home_dir_container(image)
            if home_dir is not None:
                parts.add_container(
                    secure_container(self, "home-dir", home_dir, uid=uid, gid=gid),
                    "UserStorage.shared",
                    init=True,
                )
        if context.shared_data is not None:
            volume, mount = context.shared_data(self.shared_data_read_only)
            parts.add_volume(volume, "the shared data volume")
            parts.add_mount(mount, "the shared data volume")
        # Bindings' client config files, read-only under /etc/platform-services/<name>/.
        for binding in bindings:
            binding_volumes, binding_mounts = binding.user_volumes()
            for volume in binding_volumes:
                parts.add_volume(volume, f"binding {binding.node.path}")
            for mount in binding_mounts:
                parts.add_mount(mount, f"binding {binding.node.path}")
        if settings.shm_size is not None:
            shm = UserVolume.dev_shm(settings.shm_size)
            if parse_memory(self, "shm_size", settings.shm_size) > self._memory[1]:
                raise invalid(
                    self,
                    "shm_size",
                    settings.shm_size,
                    allowed=f"at most the memory limit {self.memory_limit!r} (a memory-backed "
                    "/dev/shm counts against it)",
                    fix="lower shm_size or raise memory_limit",
                )
            parts.add_volume(shm.kube_volume(), "shm_size")
            parts.add_mount(shm.kube_mount(), "shm_size")
        for what, containers in (
            ("init_containers", settings.init_containers),
            ("extra_containers", settings.extra_containers),
        ):
            for container in containers:
                parts.add_container(
                    container.to_kube(self, f"{what} {container.name!r}", uid=uid, gid=gid),
                    f"{what} {container.name!r}",
                    init=what == "init_containers",
                )
        return parts


__all__ = [
    "HOME_MOUNT_PATH",
    "HOME_VOLUME",
    "SHARED_DATA_VOLUME",
    "Gpu",
    "NotebookProfile",
    "Toleration",
]

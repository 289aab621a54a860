"""Settings of every user server, hub-wide (``SingleUser``) and merged with each profile's.

z2jh's ``singleuser`` section: environment (plain or from Secrets), the start page
(``default_url``), the command, uid/gid, pull secrets, volumes, extra files, init and
sidecar containers, labels, annotations, lifecycle hooks, extended resources, and a
``/dev/shm`` size. ``JupyterHub(singleuser=SingleUser(...))`` sets them for every
profile; ``hub.add_profile(...)`` takes the same names and its values win:

- mappings (``env``, ``extra_labels``, ``extra_annotations``, ``extra_resources``,
  ``extra_files``) and named things (``volumes``, ``init_containers``,
  ``extra_containers``) are merged, the profile's entry replacing the hub-wide one of
  the same key or name;
- ``image_pull_secrets`` add up;
- single values (``default_url``, ``cmd``, ``uid``...) are the profile's when it gives one.

A profile's ``extra_overrides`` (raw ``kubespawner_override`` keys) **merge** with what
the library renders, too (``merge_overrides``): a label, annotation, variable, volume,
mount or container is added, and one that would replace or remove what the library set
(a label the NetworkPolicies select user pods by, above all) is refused at synth.
KubeSpawner itself merges a ``kubespawner_override`` mapping into the hub-wide value and
deletes the keys whose value is ``None``; lists it replaces. So the library renders every
list and mapping of a profile complete, and ``None`` values are refused.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from constructs import Construct

from jupyter_constructs.core.errors import Where, invalid
from jupyter_constructs.core.images import NOTEBOOK_FS_GID, NOTEBOOK_UID
from jupyter_constructs.core.quantities import parse_memory
from jupyter_constructs.core.rules import (
    check_image,
    check_int,
    check_manifest_text,
    check_text,
    is_annotation_key,
    is_clean_text,
    is_dns_label,
    is_dns_subdomain,
    is_env_var_name,
    is_extended_resource_name,
    is_hugepages_resource_name,
    is_label_key,
    is_label_value,
    is_whole_number,
)
from jupyter_constructs.core.secrets import SecretRef
from jupyter_constructs.core.security import (
    RESTRICTED_CONTAINER_FIELDS,
    restricted_violations,
    secure_container,
)
from jupyter_constructs.hub.config import check_trait_value
from jupyter_constructs.hub.containers import NOTEBOOK_CONTAINER, UserContainer
from jupyter_constructs.hub.gpus import GpuIsolation
from jupyter_constructs.hub.kubespawner_traits import check_templates
from jupyter_constructs.hub.volumes import (
    ExtraFile,
    UserVolume,
    check_file_name,
    check_mount_path,
    check_relative_path,
    sample,
    template_fields,
)

#: The ConfigMap holding every ``extra_files`` file of a hub.
EXTRA_FILES_CONFIG_MAP = "singleuser-extra-files"
#: The volume of the extra files in user pods.
EXTRA_FILES_VOLUME = "extra-files"
#: Pod annotation: checksum of the extra files the pod was started with.
EXTRA_FILES_CHECKSUM = "jupyter-constructs.io/extra-files-checksum"
#: Label and annotation prefixes the library and KubeSpawner own on user pods.
OWNED_PREFIXES = ("jupyter-constructs.io/", "hub.jupyter.org/")
#: Labels KubeSpawner sets on every user pod itself (``common_labels`` and the component).
KUBESPAWNER_LABELS = frozenset(
    {
        "app.kubernetes.io/name",
        "app.kubernetes.io/managed-by",
        "app.kubernetes.io/component",
        "app",
        "heritage",
        "component",
    }
)
#: KubeSpawner 7's default ``common_labels`` (tests compare it with the real class).
KUBESPAWNER_COMMON_LABELS = {
    "app.kubernetes.io/name": "jupyterhub",
    "app.kubernetes.io/managed-by": "kubespawner",
    "app": "jupyterhub",
    "heritage": "jupyterhub",
}
#: Volume sources the restricted Pod Security Standard allows in a pod.
RESTRICTED_VOLUME_SOURCES = frozenset(
    {
        "configMap",
        "csi",
        "downwardAPI",
        "emptyDir",
        "ephemeral",
        "persistentVolumeClaim",
        "projected",
        "secret",
    }
)


# -- the settings -----------------------------------------------------------------------


@dataclass(frozen=True)
class SingleUser:
    """Settings of every user server (z2jh ``singleuser``); profiles override them.

    Pass it as ``JupyterHub(singleuser=SingleUser(...))``; ``add_profile`` takes the same
    names. Merge rules: module docstring.

    Attributes:
        env: Environment variables (z2jh ``extraEnv``, KubeSpawner ``environment``): text,
            with KubeSpawner's ``{username}``, or ``SecretRef`` for a Secret's key (only the
            reference reaches git). Default: none.
        default_url: The page a server opens on, e.g. ``"/lab"`` (KubeSpawner and z2jh
            ``default_url``). Default: the image's (JupyterLab for docker-stacks images).
        cmd: The command of the notebook container (KubeSpawner ``cmd``, z2jh
            ``singleuser.cmd``). Default: ``jupyterhub-singleuser``, KubeSpawner's.
        uid: The user id of the notebook container (KubeSpawner/z2jh ``uid``).
            Default: 1000.
        gid: Its group id (KubeSpawner ``gid``). Default: the image's.
        fs_gid: The group that owns the pod's volumes (KubeSpawner ``fs_gid``, z2jh
            ``fsGid``). Default: 100.
        image_pull_secrets: Secrets for private registries (z2jh ``image.pullSecrets``);
            also given to the pre-puller. Default: none.
        volumes: Volumes every server mounts (``UserVolume``). Default: none.
        extra_files: Files put into every server (z2jh ``extraFiles``), by name.
            Default: none.
        init_containers: Containers run before the server (``UserContainer``).
            Default: none.
        extra_containers: Sidecars run beside it (``UserContainer``). Default: none.
        extra_labels: Pod labels (KubeSpawner ``extra_labels``), e.g. cost centres.
            Labels the library or KubeSpawner set are refused. Default: none.
        extra_annotations: Pod annotations (KubeSpawner ``extra_annotations``).
            Default: none.
        extra_resources: Extended resources each server requests and is limited to, by
            name (KubeSpawner ``extra_resource_guarantees``/``_limits``, z2jh
            ``extraResource``): ``ephemeral-storage``, ``hugepages-2Mi``, MIG slices such
            as ``nvidia.com/mig-1g.10gb``... Whole GPUs: ``Gpu``. Default: none.
        shm_size: Size of a memory-backed ``/dev/shm`` (the container runtime gives 64MiB;
            PyTorch's DataLoader needs more). At most the memory limit. Default: none.
        post_start_command: Run after the server starts (``lifecycle_hooks.postStart``).
            Default: none.
        pre_stop_command: Run before the server stops (``lifecycle_hooks.preStop``), e.g.
            to sync files. Default: none.
        stop_grace_period: Seconds a stopping server gets (KubeSpawner
            ``delete_grace_period``, whose default of 1 second cuts any ``preStop``
            short). Default: 30 with a ``pre_stop_command``, else KubeSpawner's 1.
    """

    env: Mapping[str, str | SecretRef] = field(default_factory=dict)
    default_url: str | None = None
    cmd: Sequence[str] | None = None
    uid: int | None = None
    gid: int | None = None
    fs_gid: int | None = None
    image_pull_secrets: Sequence[str] = ()
    volumes: Sequence[UserVolume] = ()
    extra_files: Mapping[str, ExtraFile] = field(default_factory=dict)
    init_containers: Sequence[UserContainer] = ()
    extra_containers: Sequence[UserContainer] = ()
    extra_labels: Mapping[str, str] = field(default_factory=dict)
    extra_annotations: Mapping[str, str] = field(default_factory=dict)
    extra_resources: Mapping[str, str] = field(default_factory=dict)
    shm_size: str | None = None
    post_start_command: Sequence[str] | None = None
    pre_stop_command: Sequence[str] | None = None
    stop_grace_period: int | None = None

    # -- derived ------------------------------------------------------------------------

    @property
    def effective_uid(self) -> int:
        """``uid``, or 1000."""
        return NOTEBOOK_UID if self.uid is None else self.uid

    @property
    def effective_fs_gid(self) -> int:
        """``fs_gid``, or 100."""
        return NOTEBOOK_FS_GID if self.fs_gid is None else self.fs_gid

    @property
    def effective_stop_grace_period(self) -> int | None:
        """``stop_grace_period``, or 30 with a ``pre_stop_command``; ``None``: KubeSpawner's."""
        if self.stop_grace_period is not None:
            return self.stop_grace_period
        return DEFAULT_PRE_STOP_GRACE if self.pre_stop_command else None

    def merged_with(self, other: SingleUser) -> SingleUser:
        """These settings overridden by ``other``'s (a profile's): rules in the module docstring."""

        def by_name(ours: Iterable[Any], theirs: Iterable[Any]) -> tuple[Any, ...]:
            merged = {item.name: item for item in ours}
            merged.update((item.name, item) for item in theirs)
            return tuple(merged.values())

        def scalar(name: str) -> Any:
            value = getattr(other, name)
            return getattr(self, name) if value is None else value

        return SingleUser(
            env={**self.env, **other.env},
            default_url=scalar("default_url"),
            cmd=scalar("cmd"),
            uid=scalar("uid"),
            gid=scalar("gid"),
            fs_gid=scalar("fs_gid"),
            image_pull_secrets=tuple(
                dict.fromkeys([*self.image_pull_secrets, *other.image_pull_secrets])
            ),
            volumes=by_name(self.volumes, other.volumes),
            extra_files={**self.extra_files, **other.extra_files},
            init_containers=by_name(self.init_containers, other.init_containers),
            extra_containers=by_name(self.extra_containers, other.extra_containers),
            extra_labels={**self.extra_labels, **other.extra_labels},
            extra_annotations={**self.extra_annotations, **other.extra_annotations},
            extra_resources={**self.extra_resources, **other.extra_resources},
            shm_size=scalar("shm_size"),
            post_start_command=scalar("post_start_command"),
            pre_stop_command=scalar("pre_stop_command"),
            stop_grace_period=scalar("stop_grace_period"),
        )

    # -- checks -------------------------------------------------------------------------

    def check(self, where: Construct, prefix: str = "") -> SingleUser:
        """Return self if every value is valid.

        Args:
            where: The hub or profile (errors name its path).
            prefix: Put before parameter names in messages (``"SingleUser."``).

        Raises:
            ConfigurationError: A value is invalid.
        """
        for what in ("image_pull_secrets", "volumes", "init_containers", "extra_containers"):
            value = getattr(self, what)
            if not isinstance(value, list | tuple):
                raise invalid(
                    where,
                    f"{prefix}{what}",
                    value,
                    allowed="a list",
                    fix=f"pass {what}=[...], even for one",
                )
        for what in ("env", "extra_files", "extra_labels", "extra_annotations", "extra_resources"):
            if not isinstance(getattr(self, what), Mapping):
                raise invalid(
                    where,
                    f"{prefix}{what}",
                    getattr(self, what),
                    allowed="a mapping",
                    fix=f"pass {what}={{...}}",
                )
        check_env(where, f"{prefix}env", self.env)
        if self.default_url is not None:
            if not is_clean_text(self.default_url) or not str(self.default_url).startswith("/"):
                raise invalid(
                    where,
                    f"{prefix}default_url",
                    self.default_url,
                    allowed="a path on the user's server, starting with '/'",
                    fix="e.g. default_url='/lab'",
                )
            template_fields(where, f"{prefix}default_url", self.default_url)
        for what in ("cmd", "post_start_command", "pre_stop_command"):
            value = getattr(self, what)
            if value is not None:
                check_command(where, f"{prefix}{what}", value)
        for what, lowest in (("uid", 1), ("gid", 0), ("fs_gid", 0)):
            check_id(where, f"{prefix}{what}", getattr(self, what), lowest)
        for secret in self.image_pull_secrets:
            if not is_dns_subdomain(secret):
                raise invalid(
                    where,
                    f"{prefix}image_pull_secrets",
                    secret,
                    allowed="names of Secrets of type kubernetes.io/dockerconfigjson",
                    fix='e.g. image_pull_secrets=["registry-credentials"]',
                )
        check_unique(
            where, f"{prefix}volumes", [v.name for v in self.volumes if isinstance(v, UserVolume)]
        )
        for index, volume in enumerate(self.volumes):
            if not isinstance(volume, UserVolume):
                raise invalid(
                    where,
                    f"{prefix}volumes[{index}]",
                    volume,
                    allowed="a UserVolume",
                    fix="build it with UserVolume.existing_claim(...), .nfs_export(...), "
                    ".config_map(...), .secret(...) or .empty_dir(...)",
                )
            volume.check(where, f"{prefix}volumes[{index}]")
        for name, extra_file in self.extra_files.items():
            check_file_name(where, f"{prefix}extra_files name", name)
            if not isinstance(extra_file, ExtraFile):
                raise invalid(
                    where,
                    f"{prefix}extra_files[{name!r}]",
                    extra_file,
                    allowed="an ExtraFile(mount_path, text=... or data=...)",
                    fix='e.g. ExtraFile("/etc/jupyter/jupyter_server_config.json", data={...})',
                )
            extra_file.check(where, f"{prefix}extra_files[{name!r}]")
        for what in ("init_containers", "extra_containers"):
            containers = getattr(self, what)
            for index, container in enumerate(containers):
                if not isinstance(container, UserContainer):
                    raise invalid(
                        where,
                        f"{prefix}{what}[{index}]",
                        container,
                        allowed="a UserContainer",
                        fix='e.g. UserContainer("seed", image="busybox:1.36", command=[...])',
                    )
                container.check(where, f"{prefix}{what}[{index}]")
            check_unique(where, f"{prefix}{what}", [c.name for c in containers])
        check_labels(where, f"{prefix}extra_labels", self.extra_labels)
        check_annotations(where, f"{prefix}extra_annotations", self.extra_annotations)
        check_extra_resources(where, f"{prefix}extra_resources", self.extra_resources)
        if self.shm_size is not None:
            parse_memory(where, f"{prefix}shm_size", self.shm_size)
        if self.stop_grace_period is not None and (
            isinstance(self.stop_grace_period, bool)
            or not isinstance(self.stop_grace_period, int)
            or not 1 <= self.stop_grace_period <= 3600
        ):
            raise invalid(
                where,
                f"{prefix}stop_grace_period",
                self.stop_grace_period,
                allowed="seconds from 1 to 3600",
                fix="e.g. stop_grace_period=60 for a preStop hook that syncs files",
            )
        return self


#: Seconds a stopping server gets when it has a ``pre_stop_command`` and no
#: ``stop_grace_period`` (Kubernetes' own default for pods).
DEFAULT_PRE_STOP_GRACE = 30


# -- value checks -----------------------------------------------------------------------


def check_unique(where: Where, what: str, names: Sequence[str]) -> None:
    """Raise if a name occurs twice in ``names``."""
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise invalid(
                where,
                what,
                name,
                allowed="each name once",
                fix="give each one its own name",
            )
        seen.add(name)


def check_id(where: Where, what: str, value: int | None, lowest: int) -> None:
    """Raise unless ``value`` is ``None`` or a whole number from ``lowest`` up."""
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, int) or not lowest <= value < 2**31
    ):
        raise invalid(
            where,
            what,
            value,
            allowed=f"a whole number from {lowest} (0, root, is refused by the restricted "
            "standard for the uid)"
            if lowest
            else "a whole number from 0",
            fix="keep the defaults: uid 1000, fs_gid 100",
        )


def check_command(where: Where, what: str, command: Sequence[str]) -> None:
    """Raise unless ``command`` is a non-empty sequence of strings (templates checked)."""
    if (
        isinstance(command, str)
        or not isinstance(command, list | tuple)
        or not command
        or not all(isinstance(a, str) and "\0" not in a for a in command)
    ):
        raise invalid(
            where,
            what,
            command,
            allowed="a non-empty sequence of strings, one per argument (no NUL characters)",
            fix='e.g. ["sh", "-c", "echo ready"]',
        )
    for index, argument in enumerate(command):
        check_manifest_text(where, f"{what}[{index}]", argument, fix="write the argument as text")
        template_fields(where, what, argument)


def check_env(where: Where, what: str, env: Mapping[str, Any]) -> None:
    """Raise unless every name is a variable name and every value text or a ``SecretRef``."""
    for name, value in env.items():
        if not is_env_var_name(name):
            raise invalid(
                where,
                f"{what} name",
                name,
                allowed="letters, digits, '_', '-' and '.', not starting with a digit or '..' "
                "(IsEnvVarName)",
                fix="name the variable like 'TEAM'",
            )
        if isinstance(value, str):
            if "\0" in value:
                raise invalid(
                    where,
                    f"{what}[{name!r}]",
                    value,
                    allowed="text without NUL characters (the kernel's environment is "
                    "NUL-separated)",
                    fix="drop the NUL character",
                )
            check_manifest_text(where, f"{what}[{name!r}]", value, fix="write the value as text")
            template_fields(where, f"{what}[{name!r}]", value)
        elif not isinstance(value, SecretRef):
            raise invalid(
                where,
                f"{what}[{name!r}]",
                type(value).__name__,
                allowed="text, or a SecretRef for a Secret's key",
                fix='pass SecretRef("secret", "key") for credentials',
            )


def _owned(key: str) -> bool:
    return key in KUBESPAWNER_LABELS or key.startswith(OWNED_PREFIXES) or key in _LIBRARY_LABELS


#: Labels the library puts on every user pod; the NetworkPolicies select by them.
_LIBRARY_LABELS = frozenset({"app.kubernetes.io/instance", "app.kubernetes.io/part-of"})


def check_labels(where: Where, what: str, labels: Mapping[str, Any]) -> None:
    """Raise unless ``labels`` are valid labels that neither the library nor KubeSpawner set.

    The NetworkPolicies select user pods by ``app.kubernetes.io/name``, ``/instance``,
    ``/component`` and ``jupyter-constructs.io/profile``: a pod that lost or changed one
    would silently lose its network access (or gain another profile's).
    """
    for key, value in labels.items():
        if value is None or (isinstance(key, str) and _owned(key)):
            raise invalid(
                where,
                f"{what} key",
                key,
                allowed="a label the library and KubeSpawner do not set (not "
                "app.kubernetes.io/name, /instance, /component, /part-of, /managed-by, app, "
                "heritage, component, jupyter-constructs.io/*, hub.jupyter.org/*): the "
                "NetworkPolicies select user pods by them, and a None value would delete one",
                fix="use a label of your own, e.g. 'example.com/cost-center'",
            )
        if not isinstance(value, str):
            raise invalid(
                where, f"{what}[{key!r}]", value, allowed="text", fix="quote the label value"
            )
        template_fields(where, f"{what}[{key!r}]", value)
        if not is_label_key(key) or not is_label_value(sample(value)):
            raise invalid(
                where,
                what,
                {key: value},
                allowed="Kubernetes labels: keys like 'example.com/team' and values of at most "
                "63 letters, digits, '-', '_' and '.'",
                fix="shorten or simplify the label",
            )


def check_annotations(where: Where, what: str, annotations: Mapping[str, Any]) -> None:
    """Raise unless ``annotations`` are valid annotations the library and KubeSpawner do not set."""
    for key, value in annotations.items():
        if value is None or not isinstance(key, str) or key.startswith(OWNED_PREFIXES):
            raise invalid(
                where,
                f"{what} key",
                key,
                allowed="an annotation key of your own (not jupyter-constructs.io/* or "
                "hub.jupyter.org/*), with a value",
                fix="use a key like 'example.com/owner'",
            )
        if not is_annotation_key(key) or not isinstance(value, str):
            raise invalid(
                where,
                what,
                {key: value},
                allowed="annotation keys like 'example.com/owner' with text values",
                fix="fix the key or quote the value",
            )
        check_manifest_text(where, f"{what}[{key!r}]", value, fix="write the value as text")
        template_fields(where, f"{what}[{key!r}]", value)


def check_extra_resources(where: Where, what: str, resources: Mapping[str, Any]) -> None:
    """Raise unless every entry is an extended resource with a valid amount.

    ``ephemeral-storage`` and ``hugepages-<size>`` take quantities; device-plugin
    resources (``nvidia.com/mig-1g.10gb``) take whole numbers, as the API server demands.
    """
    for name, amount in resources.items():
        if name in ("cpu", "memory") or not (
            name == "ephemeral-storage"
            or is_hugepages_resource_name(name)
            or is_extended_resource_name(name)
        ):
            raise invalid(
                where,
                f"{what} name",
                name,
                allowed="an extended resource name: 'ephemeral-storage', 'hugepages-2Mi', or "
                "a device plugin's 'vendor.example/name' (cpu and memory have their own "
                "parameters)",
                fix="e.g. {'nvidia.com/mig-1g.10gb': '1'}",
            )
        if name == "ephemeral-storage" or is_hugepages_resource_name(name):
            parse_memory(
                where if isinstance(where, Construct) else str(where), f"{what}[{name!r}]", amount
            )
        else:
            if not is_whole_number(amount):
                raise invalid(
                    where,
                    f"{what}[{name!r}]",
                    amount,
                    allowed="a whole number as text (device plugin resources cannot be "
                    "shared by fractions)",
                    fix="e.g. '1'",
                )


# -- a profile's pod ---------------------------------------------------------------------


@dataclass(frozen=True)
class UserPodContext:
    """What the hub gives a profile to render its part of the user pod.

    Attributes:
        notebook_image: The hub's image for profiles that name none.
        pod_labels: Labels the hub puts on every user pod (policy labels included).
        defaults: The hub-wide ``SingleUser`` settings.
        home: The home volume and mount, or ``None`` (``UserStorage.home_volume``).
        home_dir_container: The ``home-dir`` init container factory (shared homes).
        shared_data: The shared data volume and mount (read-write, read-only), or ``None``.
        file_key: The ConfigMap key of an extra file: ``(name, profile slug or None)``.
        gpu_isolation: How profiles without a GPU are kept away from GPUs, or ``None``.
            Default: none.
    """

    notebook_image: str
    pod_labels: Mapping[str, str]
    defaults: SingleUser
    home: tuple[dict[str, Any], dict[str, Any]] | None
    home_dir_container: Callable[[str], dict[str, Any] | None]
    shared_data: Callable[[bool], tuple[dict[str, Any], dict[str, Any]]] | None
    file_key: Callable[[str, str | None], str]
    gpu_isolation: GpuIsolation | None = None


class PodParts:
    """The volumes, mounts and containers of one user pod, with where each came from.

    Volumes are keyed by name, mounts by path (KubeSpawner's dict form, so a later
    ``kubespawner_override`` merges instead of replacing); a duplicate is refused with
    both sources named.
    """

    def __init__(self, where: Where) -> None:
        self.where = where
        self.volumes: dict[str, dict[str, Any]] = {}
        self.mounts: dict[str, dict[str, Any]] = {}
        self.init_containers: list[dict[str, Any]] = []
        self.extra_containers: list[dict[str, Any]] = []
        self._volume_source: dict[str, str] = {}
        self._mount_source: dict[str, str] = {}
        self._container_source: dict[str, str] = {NOTEBOOK_CONTAINER: "KubeSpawner"}

    def add_volume(self, volume: Mapping[str, Any], source: str) -> None:
        """Add a pod volume; refused when another source has a volume of that name."""
        name = volume.get("name")
        if not isinstance(name, str) or name in self._volume_source:
            raise invalid(
                self.where,
                f"volume name (from {source})",
                name,
                allowed="a name no other volume of the pod has"
                + (
                    f" ({name!r} is {self._volume_source[name]}'s)"
                    if name in self._volume_source
                    else ""
                ),
                fix="rename the volume",
            )
        template_fields(self.where, f"volume name (from {source})", name)
        if not is_dns_label(sample(name)):
            raise invalid(
                self.where,
                f"volume name (from {source})",
                name,
                allowed="a DNS-1123 label (IsDNS1123Label): 1-63 lowercase letters, digits and "
                "'-', starting and ending with a letter or digit",
                fix="name the volume like 'datasets'",
            )
        kinds = set(volume) - {"name"}
        if len(kinds) != 1 or not kinds <= RESTRICTED_VOLUME_SOURCES:
            raise invalid(
                self.where,
                f"volume {name!r} (from {source})",
                sorted(kinds),
                allowed="one volume source the restricted Pod Security Standard allows: "
                + ", ".join(sorted(RESTRICTED_VOLUME_SOURCES)),
                fix="use a PersistentVolumeClaim (UserVolume.nfs_export renders one for NFS)",
            )
        self.volumes[name] = dict(volume)
        self._volume_source[name] = source

    def add_mount(self, mount: Mapping[str, Any], source: str) -> None:
        """Add a mount of the notebook container; refused on a path mounted already."""
        path = mount.get("mountPath")
        if not isinstance(path, str) or path in self._mount_source:
            raise invalid(
                self.where,
                f"mount path (from {source})",
                path,
                allowed="a path nothing else is mounted at"
                + (
                    f" ({self._mount_source[path]} is mounted there)"
                    if path in self._mount_source
                    else ""
                ),
                fix="mount it somewhere else",
            )
        template_fields(self.where, f"mount path (from {source})", path)
        check_mount_path(self.where, f"mount path (from {source})", sample(path))
        sub_path = mount.get("subPath")
        if sub_path is not None:
            check_relative_path(self.where, f"mount {path!r} subPath", sub_path, template=True)
        self.mounts[path] = dict(mount)
        self._mount_source[path] = source

    def add_container(self, container: Mapping[str, Any], source: str, *, init: bool) -> None:
        """Add an init container or a sidecar; refused when the name is taken."""
        name = container.get("name")
        if not isinstance(name, str) or name in self._container_source:
            raise invalid(
                self.where,
                f"container name (from {source})",
                name,
                allowed="a name no other container of the pod has"
                + (
                    f" ({name!r} is {self._container_source[name]}'s)"
                    if name in self._container_source
                    else ""
                ),
                fix="rename the container",
            )
        (self.init_containers if init else self.extra_containers).append(dict(container))
        self._container_source[name] = source

    def check_mounts(self, data_paths: Mapping[str, str]) -> None:
        """Refuse mounts that clash: hiding the home or shared data, or inside a read-only one.

        Args:
            data_paths: Paths of the data mounts (home, shared data) -> what they are.

        Raises:
            ConfigurationError: A mount's volume does not exist, a mount is at a parent of
                a data mount (the runtime would create that mount point, as root, on the
                other volume), or inside a read-only mount (the container runtime cannot
                create the mount point there: the pod never starts).
        """
        for path, mount in self.mounts.items():
            if mount.get("name") not in self.volumes:
                raise invalid(
                    self.where,
                    f"mount {path!r} (from {self._mount_source[path]}) volume",
                    mount.get("name"),
                    allowed="a volume of the pod: " + ", ".join(sorted(self.volumes)),
                    fix="add the volume, or mount one of those",
                )
        containers = self.init_containers + self.extra_containers
        for container in containers:
            for mount in container.get("volumeMounts") or []:
                if mount.get("name") not in self.volumes:
                    raise invalid(
                        self.where,
                        f"container {container.get('name')!r} mount volume",
                        mount.get("name"),
                        allowed="a volume of the pod: " + ", ".join(sorted(self.volumes)),
                        fix="mount one of those, or add the volume",
                    )
        paths = sorted(self.mounts)
        for path in paths:
            for data_path, what in data_paths.items():
                # The data volumes nest by design (shared data inside the home).
                if path not in data_paths and data_path.startswith(path + "/"):
                    raise invalid(
                        self.where,
                        f"mount path (from {self._mount_source[path]})",
                        path,
                        allowed=f"a path that is not a parent of {what} ({data_path}): its "
                        "mount point would be made, as root, on the other volume",
                        fix=f"mount it beside or below {data_path}",
                    )
            for outer in paths:
                if (
                    outer != path
                    and path.startswith(outer + "/")
                    and self.mounts[outer].get("readOnly")
                ):
                    raise invalid(
                        self.where,
                        f"mount path (from {self._mount_source[path]})",
                        path,
                        allowed=f"a path outside the read-only mount {outer} "
                        f"({self._mount_source[outer]}): the container runtime cannot create "
                        "a mount point in it, and the server would never start",
                        fix=f"mount it beside {outer}",
                    )


def files_checksum(files: Mapping[str, str]) -> str:
    """The checksum of extra files (ConfigMap key -> text), for the pod annotation."""
    digest = hashlib.sha256()
    for key in sorted(files):
        digest.update(key.encode() + b"\0" + files[key].encode() + b"\0")
    return digest.hexdigest()


def add_settings_volumes(
    parts: PodParts,
    settings: SingleUser,
    context: UserPodContext,
    *,
    owner: Callable[[str], str | None],
) -> dict[str, str]:
    """Add the volumes, mounts and files of ``settings`` to ``parts``.

    Args:
        parts: The pod.
        settings: The effective settings of the profile.
        context: The hub's part.
        owner: Slug of the profile a file name belongs to (``None``: hub-wide).

    Returns:
        The extra files of the pod: ConfigMap key -> text.
    """
    for volume in settings.volumes:
        parts.add_volume(volume.kube_volume(), f"volume {volume.name!r}")
        parts.add_mount(volume.kube_mount(), f"volume {volume.name!r}")
    files: dict[str, str] = {}
    items = []
    for name, extra_file in sorted(settings.extra_files.items()):
        key = context.file_key(name, owner(name))
        files[key] = extra_file.content()
        item: dict[str, Any] = {"key": key, "path": key}
        if extra_file.mode is not None:
            item["mode"] = extra_file.mode
        items.append(item)
        parts.add_mount(
            {
                "name": EXTRA_FILES_VOLUME,
                "mountPath": extra_file.mount_path,
                "subPath": key,
                "readOnly": True,
            },
            f"extra file {name!r}",
        )
    if items:
        parts.add_volume(
            {
                "name": EXTRA_FILES_VOLUME,
                "configMap": {"name": EXTRA_FILES_CONFIG_MAP, "items": items},
            },
            "extra files",
        )
    return files


def env_entries(env: Mapping[str, str | SecretRef]) -> dict[str, Any]:
    """KubeSpawner ``environment`` entries: text, or ``valueFrom`` a Secret's key."""
    return {
        name: {"valueFrom": value.env_value_from()} if isinstance(value, SecretRef) else value
        for name, value in env.items()
    }


# -- extra_overrides ------------------------------------------------------------------

#: Keys a typed parameter owns -> that parameter.
TYPED_OVERRIDE_KEYS: dict[str, str] = {
    "image": "image",
    "image_pull_policy": "image_pull_policy",
    "image_pull_secrets": "image_pull_secrets",
    "cpu_guarantee": "cpu_request",
    "cpu_limit": "cpu_limit",
    "mem_guarantee": "memory_request",
    "mem_limit": "memory_limit",
    "extra_resource_guarantees": "extra_resources (or gpu)",
    "extra_resource_limits": "extra_resources (or gpu)",
    "node_selector": "node_selector",
    "tolerations": "tolerations",
    "start_timeout": "start_timeout",
    "lifecycle_hooks": "post_start_command / pre_stop_command",
    "default_url": "default_url",
    "cmd": "cmd",
    "uid": "uid",
    "gid": "gid",
    "fs_gid": "fs_gid",
    "delete_grace_period": "stop_grace_period",
}
_HOME = (
    "homes are hub-wide (UserStorage): a profile that named or sized them its own way "
    "would give its users another, empty home"
)
_NAMESPACE = (
    "every user pod runs in the hub's namespace, where its NetworkPolicies, quota and RBAC apply"
)
_RESTRICTED = "the namespace enforces the restricted Pod Security Standard"
#: Keys the hub decides for every profile -> why.
HUB_OVERRIDE_KEYS: dict[str, str] = {
    "component_label": "the NetworkPolicies select user pods by app.kubernetes.io/component",
    "namespace": _NAMESPACE,
    "enable_user_namespaces": _NAMESPACE,
    "user_namespace_template": _NAMESPACE,
    "user_namespace_labels": _NAMESPACE,
    "user_namespace_annotations": _NAMESPACE,
    "profile_list": "profiles are listed by the hub (hub.add_profile)",
    "group_overrides": "nested overrides would bypass these checks",
    "apply_user_options": "it lets a user's own spawn options set KubeSpawner settings",
    "pvc_name_template": _HOME,
    "storage_pvc_ensure": _HOME,
    "storage_capacity": _HOME,
    "storage_class": _HOME,
    "storage_access_modes": _HOME,
    "storage_selector": _HOME,
    "slug_scheme": _HOME,
    "delete_pvc": _HOME,
    "remember_pvc_name": _HOME,
    "handle_legacy_names": _HOME,
    "service_account": "user pods never get a ServiceAccount token (the hub's can delete "
    "every home)",
    "automount_service_account_token": "user pods never get a ServiceAccount token",
    "privileged": _RESTRICTED,
    "allow_privilege_escalation": _RESTRICTED,
    "container_security_context": _RESTRICTED,
    "pod_security_context": _RESTRICTED,
    "port": "the NetworkPolicies let the proxy and the hub reach user servers on port 8888 "
    "only: a server on another port never answers",
}
#: KubeSpawner keys JupyterHub reads before the chosen profile is applied -> when. A
#: profile's value would be silently unused (jupyterhub/user.py ``User.spawn``: the server's
#: token scopes and OAuth client are made, and the options form shown, before
#: ``_run_apply_user_options`` loads the profile); ``start_timeout`` has its typed parameter.
BEFORE_PROFILE_KEYS: dict[str, str] = {
    "server_token_scopes": "the server's API token is made before the profile is applied",
    "oauth_client_allowed_scopes": "the server's OAuth client is made before the profile "
    "is applied",
    "oauth_roles": "the server's OAuth client is made before the profile is applied",
    "oauth_client_id": "the server's OAuth client is made before the profile is applied",
    "options_form": "the form is shown before any profile is chosen",
    "options_from_form": "the form is read before any profile is chosen",
}
#: Mapping keys merged with what the library renders (conflicts and ``None`` refused).
MERGED_MAPPING_KEYS = frozenset(
    {
        "extra_labels",
        "extra_annotations",
        "environment",
        "common_labels",
        "storage_extra_labels",
        "storage_extra_annotations",
        "extra_pod_config",
        "extra_container_config",
    }
)
#: List keys merged item by item with what the library renders -> the key naming an item.
NAMED_LIST_KEYS: dict[str, str] = {
    "volumes": "name",
    "volume_mounts": "mountPath",
    "init_containers": "name",
    "extra_containers": "name",
}


def check_override_key(where: Where, key: str, known: frozenset[str]) -> None:
    """Raise unless ``key`` may be given in ``extra_overrides``.

    Args:
        where: The profile.
        key: The ``kubespawner_override`` key.
        known: KubeSpawner's configurable trait names.
    """
    if key in TYPED_OVERRIDE_KEYS:
        raise invalid(
            where,
            "extra_overrides key",
            key,
            allowed="KubeSpawner options without a typed parameter",
            fix=f"use the typed NotebookProfile parameter {TYPED_OVERRIDE_KEYS[key]} for {key!r}",
        )
    if key in HUB_OVERRIDE_KEYS:
        raise invalid(
            where,
            "extra_overrides key",
            key,
            allowed=f"a KubeSpawner option a profile may change ({HUB_OVERRIDE_KEYS[key]})",
            fix=f"drop {key!r} from extra_overrides",
        )
    if key in BEFORE_PROFILE_KEYS:
        raise invalid(
            where,
            "extra_overrides key",
            key,
            allowed="a KubeSpawner option JupyterHub reads after the profile is applied "
            f"({BEFORE_PROFILE_KEYS[key]}: a profile's value would be silently unused)",
            fix=f"set it for every profile: hub.set_trait('KubeSpawner', {key!r}, ...)",
        )
    if key not in known:
        raise invalid(
            where,
            "extra_overrides key",
            key,
            allowed="a configurable trait of KubeSpawner (see its docs)",
            fix="check the spelling against KubeSpawner's configuration reference",
        )


#: ``extra_pod_config`` keys that break the restricted standard or the hub's own settings.
POD_CONFIG_FORBIDDEN = ("hostNetwork", "hostPID", "hostIPC", "hostUsers", "securityContext")


def check_override_value(where: Where, key: str, value: Any) -> None:
    """Check what can be checked of one ``extra_overrides`` entry before the pod is rendered.

    The value must have the trait's type (``hub.config.check_trait_value``, from the real
    KubeSpawner class) and every string in it must be a template KubeSpawner can expand.
    Then the key's own rule: labels and annotations by the API server's rules (a label
    the NetworkPolicies select by, or a ``None`` that would delete one, is refused),
    ids and ports by range, ``extra_container_config``/``extra_pod_config`` may not
    weaken the restricted Pod Security Standard. Clashes with the rest of the pod
    (volume names, mount paths, container names) are found when the pod is rendered.
    """
    what = f"extra_overrides[{key!r}]"
    if key in MERGED_MAPPING_KEYS and not isinstance(value, Mapping):
        raise invalid(where, what, value, allowed="a mapping", fix=f"give {key} as a dict")
    check_trait_value(where, "KubeSpawner", key, value)
    check_templates(where, what, value)
    if key in ("extra_labels", "common_labels", "storage_extra_labels"):
        check_labels(where, what, value)
    elif key in ("extra_annotations", "storage_extra_annotations"):
        check_annotations(where, what, value)
    elif key == "environment":
        check_env(where, what, {k: v for k, v in value.items() if not isinstance(v, Mapping)})
    elif key == "extra_container_config":
        replaced = sorted(set(value) & set(CONTAINER_CONFIG_DECIDED_BY_HUB))
        if replaced:
            raise invalid(
                where,
                f"{what} key",
                replaced[0],
                allowed="a container field the hub does not render (KubeSpawner replaces "
                f"the field whole: {CONTAINER_CONFIG_DECIDED_BY_HUB[replaced[0]]})",
                fix=f"drop {replaced[0]!r}; use the typed NotebookProfile parameter",
            )
        context = value.get("securityContext")
        if context is not None:
            problems = restricted_violations(
                {**RESTRICTED_CONTAINER_FIELDS, **context}
                if isinstance(context, Mapping)
                else {"privileged": True}
            )
            if problems:
                raise invalid(
                    where,
                    f"{what}['securityContext']",
                    context,
                    allowed="the restricted Pod Security Standard (" + "; ".join(problems) + ")",
                    fix="leave securityContext out: the hub sets the restricted one",
                )
    elif key == "extra_pod_config":
        decided = sorted(set(value) & set(POD_CONFIG_DECIDED_BY_HUB))
        if decided:
            why = POD_CONFIG_DECIDED_BY_HUB[decided[0]]
            raise invalid(
                where,
                f"{what} key",
                decided[0],
                allowed=f"a pod field the hub does not decide ({why})",
                fix=f"drop {decided[0]!r}",
            )
        for forbidden in POD_CONFIG_FORBIDDEN:
            if forbidden in value:
                raise invalid(
                    where,
                    f"{what} key",
                    forbidden,
                    allowed="pod fields that keep the restricted Pod Security Standard "
                    f"(not {', '.join(POD_CONFIG_FORBIDDEN)})",
                    fix=f"drop {forbidden!r}; the hub sets the pod's security context",
                )
    elif key == "supplemental_gids":
        for index, gid in enumerate(value):
            check_int(where, f"{what}[{index}]", gid, minimum=0, maximum=2**31 - 1)
    elif key in ("http_timeout", "port") and value is not None:
        check_int(where, what, value, minimum=1, maximum=65535 if key == "port" else None)
    elif key in ("working_dir", "notebook_dir", "priority_class_name", "scheduler_name") and (
        value is not None
    ):
        check_text(where, what, value, empty=key in ("working_dir", "notebook_dir"))
        if key in ("priority_class_name", "scheduler_name") and not is_dns_subdomain(value):
            raise invalid(
                where,
                what,
                value,
                allowed="a DNS-1123 subdomain (IsDNS1123Subdomain): the name of the "
                "PriorityClass or scheduler",
                fix="copy the name from kubectl get priorityclasses",
            )


#: Pod fields ``extra_pod_config`` may not set -> why (the hub decides them for every pod).
POD_CONFIG_DECIDED_BY_HUB: dict[str, str] = {
    "serviceAccountName": "user pods never get a ServiceAccount token",
    "serviceAccount": "user pods never get a ServiceAccount token",
    "automountServiceAccountToken": "user pods never get a ServiceAccount token",
    "nodeName": "placement goes through node_selector and tolerations",
    # KubeSpawner replaces these fields whole with extra_pod_config's: the user pool's
    # placement and GpuIsolation's "no GPU node" requirement would be dropped.
    "affinity": "placement goes through node_selector, tolerations and the node_affinity_* "
    "overrides; this would drop the user pool's and GpuIsolation's required node affinity",
    "nodeSelector": "placement goes through node_selector",
    "tolerations": "placement goes through tolerations",
}

#: Notebook container fields ``extra_container_config`` may not set -> what replacing them
#: drops (KubeSpawner's ``update_k8s_model`` replaces a field whole).
CONTAINER_CONFIG_DECIDED_BY_HUB: dict[str, str] = {
    "env": "the server's JUPYTERHUB_* variables, the profile's env and "
    "NVIDIA_VISIBLE_DEVICES=void (GpuIsolation) would be lost; use env=",
    "resources": "the CPU and memory the quota and the server limit count would be lost, "
    "and a device added here escapes GpuIsolation; use cpu_*, memory_*, gpu= or "
    "extra_resources=",
    "volumeMounts": "the home and the other mounts would be lost",
}


def check_raw_container(where: Where, what: str, container: Mapping[str, Any]) -> None:
    """A container given as Kubernetes JSON (``extra_overrides`` containers), checked.

    By the API server's rules: a DNS-1123 label name (``ValidateContainers``), a pinned image,
    command and args as lists of strings, env names ``IsEnvVarName``, and mount paths
    absolute (``ValidateVolumeMounts``, CORE).
    """
    name = container.get("name")
    if not is_dns_label(name) or name == NOTEBOOK_CONTAINER:
        raise invalid(
            where,
            f"{what} name",
            name,
            allowed="a DNS-1123 label other than 'notebook' (KubeSpawner's container): "
            "1-63 lowercase letters, digits and '-'",
            fix="name the container like 'seed'",
        )
    check_image(where, f"{what} image", container.get("image"))
    for arg_key in ("command", "args"):
        if arg_key in container:
            check_command(where, f"{what} {arg_key}", container[arg_key])
    env = container.get("env") or []
    if not isinstance(env, list):
        raise invalid(
            where, f"{what} env", env, allowed="a list", fix='e.g. [{"name": "A", "value": "1"}]'
        )
    for index, variable in enumerate(env):
        if not isinstance(variable, Mapping) or not is_env_var_name(variable.get("name")):
            raise invalid(
                where,
                f"{what} env[{index}]",
                variable,
                allowed="a mapping whose name is a variable name (IsEnvVarName: letters, "
                "digits, '_', '-' and '.', not starting with a digit)",
                fix='e.g. {"name": "MODE", "value": "seed"}',
            )
    for index, mount in enumerate(container.get("volumeMounts") or []):
        path = mount.get("mountPath") if isinstance(mount, Mapping) else None
        if not isinstance(path, str):
            raise invalid(
                where,
                f"{what} volumeMounts[{index}]",
                mount,
                allowed="a mapping with name and mountPath",
                fix='e.g. {"name": "home", "mountPath": "/home/jovyan"}',
            )
        template_fields(where, f"{what} volumeMounts[{index}] mountPath", path)
        check_mount_path(where, f"{what} volumeMounts[{index}] mountPath", sample(path))


def _merge_mapping(
    where: Where, what: str, base: Mapping[str, Any], extra: Mapping[str, Any]
) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if value is None:
            raise invalid(
                where,
                f"{what} key",
                key,
                allowed="a value (KubeSpawner deletes a key whose override is None: what the "
                "library set cannot be removed)",
                fix=f"drop {key!r}",
            )
        if key in merged and isinstance(merged[key], Mapping) and isinstance(value, Mapping):
            merged[key] = _merge_mapping(where, f"{what}[{key!r}]", merged[key], value)
        elif key in merged and merged[key] != value:
            raise invalid(
                where,
                f"{what} key",
                key,
                allowed=f"a key the library does not set (it sets {key!r} to {merged[key]!r}); "
                "overrides add to what the library renders, they do not replace it",
                fix="use the typed parameter that sets it, or another key",
            )
        else:
            merged[key] = value
    return merged


def _items(where: Where, what: str, value: Any, key: str) -> list[Mapping[str, Any]]:
    items = list(value.values()) if isinstance(value, Mapping) else value
    if not isinstance(items, list) or not all(
        isinstance(i, Mapping) and isinstance(i.get(key), str) for i in items
    ):
        raise invalid(
            where,
            what,
            value,
            allowed=f"a list (or KubeSpawner's mapping form) of entries, each with {key!r}",
            fix=f"give each entry its {key!r}",
        )
    return items


def merge_overrides(
    where: Construct,
    override: dict[str, Any],
    extra: Mapping[str, Any],
    parts: PodParts,
    *,
    uid: int,
    gid: int | None,
) -> list[str]:
    """Merge a profile's ``extra_overrides`` into its rendered ``kubespawner_override``.

    Mappings and named lists are merged with what the library renders (module
    docstring); containers get the restricted security context
    (``core.security.secure_container``); other keys are set as given.

    Args:
        where: The profile (errors name its path).
        override: The rendered override; changed in place.
        extra: The profile's ``extra_overrides`` (keys already checked).
        parts: The pod's volumes, mounts and containers (the raw ones are added).
        uid: The server's uid (added containers run as it unless they say otherwise).
        gid: The server's gid, if any.

    Returns:
        Images of the containers added, for the pre-puller.

    Raises:
        ConfigurationError: An entry would replace or remove what the library set.
    """
    images: list[str] = []
    for key, value in extra.items():
        what = f"extra_overrides[{key!r}]"
        if key in MERGED_MAPPING_KEYS:
            check_override_value(where, key, value)
            base = KUBESPAWNER_COMMON_LABELS if key == "common_labels" else override.get(key, {})
            merged = _merge_mapping(where, what, base, value)
            if key == "common_labels":
                # KubeSpawner merges the override into its own default itself.
                merged = {k: v for k, v in merged.items() if k not in KUBESPAWNER_COMMON_LABELS}
            override[key] = merged
        elif key in NAMED_LIST_KEYS:
            for index, item in enumerate(_items(where, what, value, NAMED_LIST_KEYS[key])):
                entry = f"{what}[{index}]"
                if key == "volumes":
                    parts.add_volume(item, entry)
                elif key == "volume_mounts":
                    parts.add_mount(item, entry)
                else:
                    container = secure_container(where, entry, item, uid=uid, gid=gid)
                    check_raw_container(where, entry, container)
                    image = container.get("image")
                    images.append(str(image))
                    parts.add_container(container, entry, init=key == "init_containers")
        else:
            override[key] = value
    return images


def render_parts(override: dict[str, Any], parts: PodParts) -> None:
    """Write the pod's volumes, mounts and containers into ``override``."""
    override["volumes"] = dict(parts.volumes)
    override["volume_mounts"] = {_mount_key(m): m for m in parts.mounts.values()}
    if parts.init_containers:
        override["init_containers"] = list(parts.init_containers)
    if parts.extra_containers:
        override["extra_containers"] = list(parts.extra_containers)


def _mount_key(mount: Mapping[str, Any]) -> str:
    # KubeSpawner orders mounts by key; the volume's name, then the path, keeps the home
    # first and a volume's mounts together.
    return f"{mount['name']}:{mount['mountPath']}"


__all__ = [
    "BEFORE_PROFILE_KEYS",
    "EXTRA_FILES_CHECKSUM",
    "EXTRA_FILES_CONFIG_MAP",
    "HUB_OVERRIDE_KEYS",
    "KUBESPAWNER_COMMON_LABELS",
    "MERGED_MAPPING_KEYS",
    "NAMED_LIST_KEYS",
    "TYPED_OVERRIDE_KEYS",
    "PodParts",
    "SingleUser",
    "UserPodContext",
    "merge_overrides",
]

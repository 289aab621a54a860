"""Volumes and files in user pods: ``UserVolume``, ``NfsExport``, ``FileItem``, ``ExtraFile``.

What z2jh spells ``singleuser.storage.extraVolumes`` + ``extraVolumeMounts`` (one typed
value per volume, mount included) and ``singleuser.extraFiles``. Hub-wide through
``SingleUser(volumes=..., extra_files=...)``, per profile through ``add_profile(...,
volumes=..., extra_files=...)``; a profile's volume or file of the same name replaces
the hub-wide one (``read_only=True`` in one profile is a read-only mount there).

Every kind of volume the ``restricted`` Pod Security Standard allows in a pod is offered
(https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted): an
existing PersistentVolumeClaim, a ConfigMap, a Secret, an ``emptyDir``. An ``nfs:`` volume
in a pod is refused by that standard, so ``UserVolume.nfs`` renders a static
PersistentVolume (reclaim policy ``Retain``: deleting it never touches the export) and a
claim bound to it, and the pods mount the claim.

Strings that KubeSpawner expands per user (``subPath``, the claim name) may use its
template fields, ``{username}`` above all; they are checked here, because a field
KubeSpawner does not know fails every spawn with a ``KeyError``.
"""

from __future__ import annotations

import enum
import ipaddress
import json
import posixpath
import re
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from constructs import Construct

from jupyter_constructs.core.errors import Where, invalid
from jupyter_constructs.core.objects import KubeObject
from jupyter_constructs.core.quantities import parse_memory
from jupyter_constructs.core.rules import (
    check_bool,
    check_manifest_text,
    is_absolute_path,
    is_clean_text,
    is_config_map_key,
    is_dns_label,
    is_dns_subdomain,
    is_relative_path,
)
from jupyter_constructs.core.sync_waves import SyncWave
from jupyter_constructs.hub.database import DATABASE_CLAIM
from jupyter_constructs.hub.kubespawner_traits import TEMPLATE_FIELDS

#: Template fields KubeSpawner 7 expands in user pod settings (``_expand_user_properties``);
#: one list for the library, ``hub.kubespawner_traits.TEMPLATE_FIELDS``.
KUBESPAWNER_TEMPLATE_FIELDS = TEMPLATE_FIELDS
#: Fields whose value is a user's name as typed (``alice.smith@example.org``): unsafe in a
#: path (``..``, ``/``) and in object names.
_RAW_FIELDS = frozenset({"unescaped_username", "unescaped_servername"})
# Extra file names become ConfigMap keys (``IsConfigMapKey``) and file names in the pod.
_FILE_NAME = re.compile(r"\A[a-zA-Z0-9][-._a-zA-Z0-9]{0,199}\Z", re.ASCII)
_MAX_MODE = 0o777


def _scope(where: Where) -> Construct | str:
    """``where`` as the quantity parsers take it."""
    return where if isinstance(where, Construct) else str(where)


def template_fields(where: Where, what: str, value: str) -> set[str]:
    """The KubeSpawner template fields in ``value``, checked.

    KubeSpawner formats these strings with ``str.format`` for every user: a literal brace
    must be doubled (``{{``), and a field it does not know fails the spawn.

    Args:
        where: The construct an error names.
        what: The parameter.
        value: The string.

    Returns:
        The field names used.

    Raises:
        ConfigurationError: A field is unknown, has a format spec, or a brace is unpaired.
    """
    try:
        parsed = list(string.Formatter().parse(value))
    except ValueError:
        parsed = None
    fields = set()
    for _, name, spec, conversion in parsed or []:
        if name is None:
            continue
        if name not in KUBESPAWNER_TEMPLATE_FIELDS or spec or conversion:
            parsed = None
            break
        fields.add(name)
    if parsed is None:
        raise invalid(
            where,
            what,
            value,
            allowed="text where KubeSpawner's template fields stand in braces ("
            + ", ".join(f"{{{f}}}" for f in sorted(KUBESPAWNER_TEMPLATE_FIELDS))
            + ") and a literal brace is doubled ('{{', '}}')",
            fix="use {username} for the user's name; write '{{' and '}}' for literal braces "
            "(KubeSpawner formats the text for every user)",
        )
    return fields


def sample(value: str) -> str:
    """``value`` with every template field replaced by a plain sample value (``x``)."""
    return value.format_map({f: "x" for f in KUBESPAWNER_TEMPLATE_FIELDS})


def check_mount_path(where: Where, what: str, path: str) -> str:
    """Return ``path`` if it is an absolute, normalised path other than ``/``."""
    # core.rules.is_absolute_path: ValidateVolumeMounts, normalised, clean text.
    if not is_absolute_path(path) or posixpath.normpath(path) != path:
        raise invalid(
            where,
            what,
            path,
            allowed="an absolute path in normal form other than '/' (no '..', '.', '//', "
            "':', trailing '/', whitespace at the ends or control characters)",
            fix="e.g. '/home/jovyan/datasets'",
        )
    return path


def check_relative_path(where: Where, what: str, path: str, *, template: bool = False) -> str:
    """Return ``path`` if it is relative and stays inside its volume (no ``..``)."""
    fields = template_fields(where, what, path) if template and isinstance(path, str) else set()
    text = sample(path) if template and isinstance(path, str) else path
    if (
        # core.rules.is_relative_path: validateLocalDescendingPath, clean text.
        not is_relative_path(text) or fields & _RAW_FIELDS
    ):
        raise invalid(
            where,
            what,
            path,
            allowed="a relative path inside the volume, without '..' (and without "
            "{unescaped_username}: a user's name as typed can hold '/' or '..')",
            fix="e.g. '{username}' or 'team-a/{username}'" if template else "e.g. 'config.yaml'",
        )
    return path


def check_claim_name(where: Where, what: str, name: str) -> str:
    """Return ``name`` if it is a valid PersistentVolumeClaim name (DNS-1123 subdomain)."""
    if not is_dns_subdomain(name):
        raise invalid(
            where,
            what,
            name,
            allowed="a DNS-1123 subdomain: lowercase letters, digits, '-' and '.', at most "
            "253 characters",
            fix="name the PersistentVolumeClaim as it is in the namespace, e.g. 'datasets'",
        )
    return name


def check_user_claim(where: Where, what: str, name: str) -> str:
    """``check_claim_name``, and never the hub database's claim (users mount it)."""
    check_claim_name(where, what, name)
    if name == DATABASE_CLAIM:
        raise invalid(
            where,
            what,
            name,
            allowed="a claim of data for users, not the hub's database (a user who can "
            "write the sqlite file can make themselves a hub admin)",
            fix="mount another claim",
        )
    return name


def check_claim_template(where: Where, what: str, name: str) -> set[str]:
    """Check a claim name that KubeSpawner expands per user; return its template fields.

    Raises:
        ConfigurationError: A field is unknown or is the user's raw name, or the name is
            not a DNS-1123 subdomain once expanded.
    """
    if not isinstance(name, str) or name == DATABASE_CLAIM:
        check_user_claim(where, what, name)
    fields = template_fields(where, what, name)
    if fields & _RAW_FIELDS or not is_dns_subdomain(sample(name)):
        raise invalid(
            where,
            what,
            name,
            allowed="a DNS-1123 subdomain once KubeSpawner expands it (lowercase letters, "
            "digits, '-' and '.'; {username} and {userid}, not {unescaped_username}, for "
            "per-user names)",
            fix="e.g. 'datasets' or 'claim-{username}'",
        )
    return fields


def check_mode(where: Where, what: str, mode: int | None) -> int | None:
    """Return ``mode`` if it is ``None`` or a file mode 0-0o777 (write it in octal)."""
    if mode is not None and (
        isinstance(mode, bool) or not isinstance(mode, int) or not 0 <= mode <= _MAX_MODE
    ):
        raise invalid(
            where,
            what,
            mode,
            allowed="a file mode from 0 to 0o777",
            fix="write the mode in octal, e.g. 0o440",
        )
    return mode


class VolumeSource(enum.Enum):
    """Where a ``UserVolume``'s data comes from (the Kubernetes volume source)."""

    EXISTING_CLAIM = "persistentVolumeClaim"
    """A PersistentVolumeClaim that exists in the namespace (not rendered here)."""
    NFS = "nfs"
    """An NFS export, through a static PersistentVolume and claim rendered here."""
    CONFIG_MAP = "configMap"
    """Files from a ConfigMap."""
    SECRET = "secret"
    """Files from a Secret."""
    EMPTY_DIR = "emptyDir"
    """Scratch space that lives as long as the pod (on the node's disk, or in memory)."""


@dataclass(frozen=True)
class FileItem:
    """One key of a ConfigMap or Secret as a file (Kubernetes ``KeyToPath``).

    Attributes:
        key: The key in the ConfigMap or Secret.
        path: The file's path inside the volume (relative, no ``..``).
        mode: The file's mode, e.g. ``0o440``. Default: the volume's ``default_mode``.
    """

    key: str
    path: str
    mode: int | None = None

    def check(self, where: Where, what: str) -> FileItem:
        """Return self if every field is valid, else raise a ``ConfigurationError``."""
        if not is_config_map_key(self.key):
            raise invalid(
                where,
                f"{what}.key",
                self.key,
                allowed="a ConfigMap/Secret key: letters, digits, '-', '_' and '.'",
                fix="name the key as it is in the ConfigMap or Secret",
            )
        check_relative_path(where, f"{what}.path", self.path)
        check_mode(where, f"{what}.mode", self.mode)
        return self

    def to_kube(self) -> dict[str, Any]:
        """The ``KeyToPath`` (Kubernetes JSON)."""
        item: dict[str, Any] = {"key": self.key, "path": self.path}
        if self.mode is not None:
            item["mode"] = self.mode
        return item


@dataclass(frozen=True)
class NfsExport:
    """An NFS export (z2jh users write it as ``extraVolumes: [{nfs: ...}]``).

    Attributes:
        server: The NFS server's host name or IP address.
        path: The exported path, e.g. ``"/exports/datasets"``.
        mount_options: PersistentVolume ``mountOptions``, e.g. ``("nfsvers=4.1",)``.
            Default: none (the node's defaults).
        capacity: The size written on the PersistentVolume and its claim. NFS enforces
            none; it only counts against the namespace quota's ``requests.storage``.
            Default: ``"1Gi"``.
    """

    server: str
    path: str
    mount_options: Sequence[str] = ()
    capacity: str = "1Gi"

    def check(self, where: Where, what: str) -> NfsExport:
        """Return self if every field is valid, else raise a ``ConfigurationError``."""
        server_ok = is_dns_subdomain(self.server)
        if not server_ok and isinstance(self.server, str):
            try:
                ipaddress.ip_address(self.server)
                server_ok = True
            except ValueError:
                pass
        if not server_ok:
            raise invalid(
                where,
                f"{what}.server",
                self.server,
                allowed="a host name (lowercase DNS name) or an IP address",
                fix="e.g. 'nfs.example.internal' or '10.0.0.12'",
            )
        check_mount_path(where, f"{what}.path", self.path)
        if isinstance(self.mount_options, str) or not all(
            isinstance(o, str) and o and is_clean_text(o) and "," not in o and " " not in o
            for o in self.mount_options
        ):
            raise invalid(
                where,
                f"{what}.mount_options",
                self.mount_options,
                allowed="a sequence of single mount options",
                fix='e.g. mount_options=("nfsvers=4.1", "hard")',
            )
        parse_memory(_scope(where), f"{what}.capacity", self.capacity)
        return self


@dataclass(frozen=True)
class UserVolume:
    """A volume user pods mount: build it with a factory (``existing_claim``, ``nfs``, ...).

    z2jh: one entry of ``singleuser.storage.extraVolumes`` and its
    ``extraVolumeMounts`` entry; KubeSpawner: ``volumes`` and ``volume_mounts``. Mount
    paths are checked against the home and shared data volumes (and every other mount)
    when the hub is synthesized.

    Attributes:
        name: The volume's name in the pod (a DNS label, unique per pod).
        mount_path: Where the notebook container sees it.
        source: The kind of volume (set by the factory).
        read_only: Mount it read-only. Default: False (True for ConfigMaps and Secrets).
        sub_path: Mount only this directory of the volume; KubeSpawner expands
            ``{username}``. Default: the whole volume.
        claim_name: The PersistentVolumeClaim (existing claim, NFS).
        nfs: The NFS export (``UserVolume.nfs``).
        object_name: The ConfigMap or Secret.
        items: Which keys become which files (ConfigMap, Secret). Default: every key.
        default_mode: Mode of the files (ConfigMap, Secret). Default: Kubernetes' 0o644.
        size_limit: Most an ``emptyDir`` may hold. Default: no limit.
        memory: The ``emptyDir`` is in memory (``medium: Memory``). Default: False.
    """

    name: str
    mount_path: str
    source: VolumeSource
    read_only: bool = False
    sub_path: str | None = None
    claim_name: str | None = None
    nfs: NfsExport | None = None
    object_name: str | None = None
    items: Sequence[FileItem] = ()
    default_mode: int | None = None
    size_limit: str | None = None
    memory: bool = False

    # -- factories ------------------------------------------------------------------------

    @classmethod
    def existing_claim(
        cls,
        name: str,
        *,
        claim_name: str,
        mount_path: str,
        read_only: bool = False,
        sub_path: str | None = None,
    ) -> UserVolume:
        """A PersistentVolumeClaim that already exists in the namespace; nothing is rendered.

        A pre-populated dataset, a claim your storage team made, an EFS access point.
        Example: ``UserVolume.existing_claim("datasets", claim_name="datasets",
        mount_path="/home/jovyan/datasets", read_only=True)``.

        Args:
            name: The volume's name in the pod.
            claim_name: The claim.
            mount_path: Where users see it.
            read_only: Mount it read-only. Default: False.
            sub_path: Only this directory, e.g. ``"{username}"`` for a per-user folder.
                Default: the whole claim.
        """
        return cls(
            name=name,
            mount_path=mount_path,
            source=VolumeSource.EXISTING_CLAIM,
            read_only=read_only,
            sub_path=sub_path,
            claim_name=claim_name,
        )

    @classmethod
    def nfs_export(
        cls,
        name: str,
        *,
        server: str,
        path: str,
        mount_path: str,
        read_only: bool = False,
        sub_path: str | None = None,
        claim_name: str | None = None,
        mount_options: Sequence[str] = (),
        capacity: str = "1Gi",
    ) -> UserVolume:
        """An NFS export (EFS, Filestore, Azure Files NFS, your filer).

        Renders a static PersistentVolume ``<namespace>-<claim_name>`` (``Retain``:
        deleting it leaves the export untouched; ``ReadOnlyMany`` when every mount is
        read-only, else ``ReadWriteMany``) and the claim bound to it, because the
        restricted Pod Security Standard refuses ``nfs:`` volumes in pods. Deploying it
        needs the right to create PersistentVolumes (cluster-scoped).

        Args:
            name: The volume's name in the pod.
            server: The NFS server.
            path: The exported path.
            mount_path: Where users see it.
            read_only: Mount it read-only. Default: False.
            sub_path: Only this directory, e.g. ``"{username}"``. Default: the whole export.
            claim_name: The claim's name. Default: ``name``.
            mount_options: NFS mount options. Default: the node's.
            capacity: Size written on the PersistentVolume and claim (NFS enforces none).
                Default: ``"1Gi"``.
        """
        return cls(
            name=name,
            mount_path=mount_path,
            source=VolumeSource.NFS,
            read_only=read_only,
            sub_path=sub_path,
            claim_name=claim_name or name,
            nfs=NfsExport(
                server,
                path,
                tuple(mount_options) if isinstance(mount_options, list | tuple) else mount_options,
                capacity,
            ),
        )

    @classmethod
    def config_map(
        cls,
        name: str,
        *,
        config_map_name: str,
        mount_path: str,
        items: Sequence[FileItem] = (),
        default_mode: int | None = None,
    ) -> UserVolume:
        """Files from a ConfigMap of the namespace, read-only.

        Args:
            name: The volume's name in the pod.
            config_map_name: The ConfigMap.
            mount_path: The directory the files appear in.
            items: Which keys, as which files. Default: every key, as a file of its name.
            default_mode: The files' mode. Default: 0o644.
        """
        return cls(
            name=name,
            mount_path=mount_path,
            source=VolumeSource.CONFIG_MAP,
            read_only=True,
            object_name=config_map_name,
            items=tuple(items),
            default_mode=default_mode,
        )

    @classmethod
    def secret(
        cls,
        name: str,
        *,
        secret_name: str,
        mount_path: str,
        items: Sequence[FileItem] = (),
        default_mode: int | None = None,
    ) -> UserVolume:
        """Files from a Secret of the namespace, read-only, with the modes you give.

        Example: ``UserVolume.secret("ssh", secret_name="team-ssh",
        mount_path="/home/jovyan/.ssh-team", items=[FileItem("id_ed25519", "id_ed25519",
        mode=0o400)])``. The files belong to root and the pod's ``fs_gid`` group (100):
        a mode without group read (0o400) is readable only if the server runs as root,
        which it never does here; use 0o440.

        Args:
            name: The volume's name in the pod.
            secret_name: The Secret.
            mount_path: The directory the files appear in.
            items: Which keys, as which files, with which modes. Default: every key.
            default_mode: The files' mode. Default: Kubernetes' 0o644.
        """
        return cls(
            name=name,
            mount_path=mount_path,
            source=VolumeSource.SECRET,
            read_only=True,
            object_name=secret_name,
            items=tuple(items),
            default_mode=default_mode,
        )

    @classmethod
    def empty_dir(
        cls, name: str, *, mount_path: str, size_limit: str | None = None, memory: bool = False
    ) -> UserVolume:
        """Scratch space that lives as long as the server's pod.

        Args:
            name: The volume's name in the pod.
            mount_path: Where users see it.
            size_limit: The most it may hold (``"20Gi"``); the kubelet evicts the pod
                beyond it. Default: no limit.
            memory: Keep it in memory (``medium: Memory``, a tmpfs). It counts against
                the server's memory limit. Default: False (the node's disk).
        """
        return cls(
            name=name,
            mount_path=mount_path,
            source=VolumeSource.EMPTY_DIR,
            size_limit=size_limit,
            memory=memory,
        )

    @classmethod
    def dev_shm(cls, size_limit: str) -> UserVolume:
        """A memory-backed ``/dev/shm`` of ``size_limit`` (``add_profile(shm_size=...)``).

        Containers get a 64MiB ``/dev/shm``; PyTorch's DataLoader with workers and NCCL
        need far more, and fail with "bus error" without it.
        """
        return cls.empty_dir(SHM_VOLUME, mount_path=SHM_PATH, size_limit=size_limit, memory=True)

    # -- checks ---------------------------------------------------------------------------

    def check(self, where: Where, what: str = "volume") -> UserVolume:
        """Return self if every field is valid.

        Args:
            where: The construct an error names.
            what: The parameter, e.g. ``"volumes[0]"``.

        Raises:
            ConfigurationError: A field is invalid.
        """
        what = f"{what} {self.name!r}" if isinstance(self.name, str) else what
        if not isinstance(self.source, VolumeSource):
            raise invalid(
                where,
                f"{what} source",
                self.source,
                allowed="a VolumeSource (build the volume with a UserVolume factory)",
                fix="use UserVolume.existing_claim(...), .nfs_export(...), .config_map(...), "
                ".secret(...) or .empty_dir(...)",
            )
        if not is_dns_label(self.name):
            raise invalid(
                where,
                "volume name",
                self.name,
                allowed="a DNS-1123 label: 1-63 lowercase letters, digits and '-'",
                fix="name the volume like 'datasets'",
            )
        check_mount_path(where, f"{what} mount_path", self.mount_path)
        check_bool(where, f"{what} read_only", self.read_only)
        check_bool(where, f"{what} memory", self.memory)
        if self.sub_path is not None:
            check_relative_path(where, f"{what} sub_path", self.sub_path, template=True)
        if self.source in (VolumeSource.EXISTING_CLAIM, VolumeSource.NFS):
            check_claim_template(where, f"{what} claim_name", self.claim_name)  # type: ignore[arg-type]
        if self.source is VolumeSource.NFS:
            if not isinstance(self.nfs, NfsExport):
                raise invalid(
                    where,
                    f"{what} nfs",
                    self.nfs,
                    allowed="an NfsExport",
                    fix="build the volume with UserVolume.nfs_export(...)",
                )
            if isinstance(self.claim_name, str) and "{" in self.claim_name:
                raise invalid(
                    where,
                    f"{what} claim_name",
                    self.claim_name,
                    allowed="a fixed name (the claim is rendered once, for every user)",
                    fix="use sub_path='{username}' for per-user folders",
                )
            self.nfs.check(where, f"{what} nfs")
        if self.source in (VolumeSource.CONFIG_MAP, VolumeSource.SECRET):
            check_claim_name(where, f"{what} {self.source.value} name", self.object_name or "")
            for index, item in enumerate(self.items):
                if not isinstance(item, FileItem):
                    raise invalid(
                        where,
                        f"{what} items[{index}]",
                        item,
                        allowed="a FileItem(key, path, mode)",
                        fix='e.g. FileItem("token", "token", mode=0o440)',
                    )
                item.check(where, f"{what} items[{index}]")
            check_mode(where, f"{what} default_mode", self.default_mode)
            if not self.read_only:
                raise invalid(
                    where,
                    f"{what} read_only",
                    self.read_only,
                    allowed="True: Kubernetes mounts ConfigMaps and Secrets read-only",
                    fix="build the volume with UserVolume.config_map(...) or .secret(...)",
                )
        if self.source is VolumeSource.EMPTY_DIR and self.size_limit is not None:
            parse_memory(_scope(where), f"{what} size_limit", self.size_limit)
        return self

    # -- rendering ------------------------------------------------------------------------

    @property
    def renders_claim(self) -> bool:
        """True when the hub renders objects for this volume (a PersistentVolume and claim)."""
        return self.source is VolumeSource.NFS

    def kube_volume(self) -> dict[str, Any]:
        """The pod's ``volumes`` entry (Kubernetes JSON)."""
        if self.source in (VolumeSource.EXISTING_CLAIM, VolumeSource.NFS):
            claim: dict[str, Any] = {"claimName": self.claim_name}
            if self.read_only:
                claim["readOnly"] = True
            return {"name": self.name, "persistentVolumeClaim": claim}
        if self.source in (VolumeSource.CONFIG_MAP, VolumeSource.SECRET):
            name_key = "name" if self.source is VolumeSource.CONFIG_MAP else "secretName"
            files: dict[str, Any] = {name_key: self.object_name}
            if self.items:
                files["items"] = [item.to_kube() for item in self.items]
            if self.default_mode is not None:
                files["defaultMode"] = self.default_mode
            return {"name": self.name, self.source.value: files}
        empty: dict[str, Any] = {}
        if self.memory:
            empty["medium"] = "Memory"
        if self.size_limit is not None:
            empty["sizeLimit"] = self.size_limit
        return {"name": self.name, "emptyDir": empty}

    def kube_mount(self) -> dict[str, Any]:
        """The notebook container's ``volumeMounts`` entry (Kubernetes JSON)."""
        mount: dict[str, Any] = {"name": self.name, "mountPath": self.mount_path}
        if self.sub_path is not None:
            mount["subPath"] = self.sub_path
        if self.read_only:
            mount["readOnly"] = True
        return mount


#: The volume name and mount path of ``shm_size`` (``UserVolume.dev_shm``).
SHM_VOLUME = "dev-shm"
SHM_PATH = "/dev/shm"


def nfs_objects(
    scope: Construct,
    id: str,
    *,
    volume: UserVolume,
    namespace: str,
    labels: Mapping[str, str],
    read_only: Callable[[], bool],
) -> tuple[KubeObject, KubeObject]:
    """The static PersistentVolume and the claim bound to it, for an NFS ``UserVolume``.

    The PersistentVolume is reserved for the claim (``claimRef``) and the claim for it
    (``volumeName``, ``storageClassName: ""``), so no dynamic provisioner and no other
    claim gets in between. Both are in the same sync wave.

    Args:
        scope: The hub.
        id: Construct id of the PersistentVolume (the claim's is ``id + "-Claim"``).
        volume: The NFS volume.
        namespace: The hub's namespace (the claim's).
        labels: Labels of both objects.
        read_only: Tells at synth whether every mount of the volume is read-only:
            then ``ReadOnlyMany``, and an NFS mount that is read-only on the node too.

    Returns:
        ``(persistent_volume, claim)``.
    """
    export = volume.nfs
    assert export is not None and volume.claim_name is not None
    claim = volume.claim_name
    pv_name = persistent_volume_name(namespace, claim)

    def access() -> str:
        return "ReadOnlyMany" if read_only() else "ReadWriteMany"

    def volume_body() -> dict[str, Any]:
        assert export is not None
        nfs: dict[str, Any] = {"server": export.server, "path": export.path}
        if read_only():
            nfs["readOnly"] = True
        return {
            "spec": {
                "capacity": {"storage": export.capacity},
                "accessModes": [access()],
                # Deleting the PersistentVolume (or its claim) never touches the export.
                "persistentVolumeReclaimPolicy": "Retain",
                "storageClassName": "",
                "mountOptions": list(export.mount_options) or None,
                "nfs": nfs,
                "claimRef": {"namespace": namespace, "name": claim},
            }
        }

    def claim_body() -> dict[str, Any]:
        assert export is not None
        return {
            "spec": {
                "accessModes": [access()],
                "storageClassName": "",
                "volumeName": pv_name,
                "resources": {"requests": {"storage": export.capacity}},
            }
        }

    persistent_volume = KubeObject(
        scope,
        id,
        api_version="v1",
        kind="PersistentVolume",
        name=pv_name,
        cluster_scoped=True,
        labels=labels,
        body=volume_body,
    )
    claim_object = KubeObject(
        scope,
        f"{id}-Claim",
        api_version="v1",
        kind="PersistentVolumeClaim",
        name=claim,
        labels=labels,
        # The volume's wave: reserved for it (volumeName, no StorageClass), it binds at
        # once, WaitForFirstConsumer or not, so no wave ever waits on it.
        wave=SyncWave.CONFIGURATION,
        body=claim_body,
    )
    return persistent_volume, claim_object


def persistent_volume_name(namespace: str, claim: str) -> str:
    """The cluster-wide name of the PersistentVolume of claim ``claim`` in ``namespace``."""
    return f"{namespace}-{claim}"


# -- extra files ----------------------------------------------------------------------


@dataclass(frozen=True)
class ExtraFile:
    """A file the library puts into user pods (z2jh ``singleuser.extraFiles``).

    The hub renders every file into one ConfigMap, ``singleuser-extra-files``, and mounts
    each file on its own (``subPath``) where you say. The pods carry the checksum of their
    files in the annotation ``jupyter-constructs.io/extra-files-checksum``, so a changed
    file shows on every new server, and ``kubectl get pods -o yaml`` tells which servers
    still run the old one (a running server keeps the file it started with).

    Give exactly one of ``text`` and ``data``.

    Attributes:
        mount_path: The file's absolute path in the pod, e.g.
            ``"/etc/jupyter/jupyter_server_config.json"``.
        text: The file's content as text (z2jh ``stringData``).
        data: Structured content, written as JSON (z2jh ``data``); the path must end in
            ``.json``. For YAML or TOML, render the text yourself.
        mode: The file's mode. Default: 0o644.
    """

    mount_path: str
    text: str | None = None
    data: Mapping[str, Any] | None = field(default=None, hash=False)
    mode: int | None = None

    def check(self, where: Where, what: str) -> ExtraFile:
        """Return self if every field is valid, else raise a ``ConfigurationError``."""
        check_mount_path(where, f"{what} mount_path", self.mount_path)
        if (self.text is None) == (self.data is None):
            raise invalid(
                where,
                what,
                self.mount_path,
                allowed="a file with exactly one of text= and data=",
                fix="give the content as text='...' or as data={...} (written as JSON)",
            )
        if self.text is not None and not isinstance(self.text, str):
            raise invalid(
                where,
                f"{what} text",
                type(self.text).__name__,
                allowed="a string",
                fix="pass the file's content as text",
            )
        if self.data is not None:
            if not self.mount_path.endswith(".json"):
                raise invalid(
                    where,
                    f"{what} data",
                    self.mount_path,
                    allowed="data= for a file ending in .json (it is written as JSON)",
                    fix="render YAML or TOML yourself and pass it as text=",
                )
            try:
                self.content()
            except (TypeError, ValueError) as err:
                raise invalid(
                    where,
                    f"{what} data",
                    self.mount_path,
                    allowed="JSON-serializable data (dicts, lists, strings, numbers, booleans)",
                    fix=f"convert what JSON cannot write ({err})",
                ) from err
        check_manifest_text(
            where,
            f"{what} " + ("text" if self.text is not None else "data"),
            self.content(),
            fix="ship binary content in a ConfigMap or Secret of your own (binaryData) and "
            "mount it with UserVolume",
        )
        check_mode(where, f"{what} mode", self.mode)
        return self

    def content(self) -> str:
        """The file's text."""
        if self.text is not None:
            return self.text
        # allow_nan=False: NaN and Infinity are not JSON; a reader would refuse the file.
        return (
            json.dumps(self.data, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False)
            + "\n"
        )


def check_file_name(where: Where, what: str, name: str) -> str:
    """Return ``name`` if it can name an extra file (a ConfigMap key starting with a letter)."""
    if not isinstance(name, str) or not _FILE_NAME.match(name) or not is_config_map_key(name):
        raise invalid(
            where,
            what,
            name,
            allowed="a name of letters, digits, '-', '_' and '.' (a ConfigMap key) starting "
            "with a letter or digit, at most 200 characters",
            fix="name the file like 'jupyter-server-config'",
        )
    return name


__all__ = [
    "KUBESPAWNER_TEMPLATE_FIELDS",
    "SHM_PATH",
    "SHM_VOLUME",
    "ExtraFile",
    "FileItem",
    "NfsExport",
    "UserVolume",
    "VolumeSource",
    "nfs_objects",
]

"""User storage: each user's home (three modes), and an optional data volume shared by all.

Homes (``UserStorage``, z2jh ``singleuser.storage``):

- ``UserStorage.dynamic(...)`` (the default, z2jh ``type: dynamic``): KubeSpawner creates
  a PersistentVolumeClaim per user on first spawn (``claim-{username}``), which outlives
  the server and the hub.
- ``UserStorage.shared(claim_name, ...)`` (z2jh ``type: static``): every home is a folder
  (``subPath``, ``{username}`` by default) of one existing ReadWriteMany claim (NFS, EFS,
  CephFS...). Large hubs do this so as not to run one disk per user.
- ``UserStorage.none()`` (z2jh ``type: none``): no home volume; whatever users write is
  lost when their server stops. For trial hubs and workshops.

What happens to existing homes when a setting changes, and why no setting deletes a
home unless ``delete_pvc=True`` says so: docs/user-servers.md.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from constructs import Construct

from jupyter_constructs.core.errors import invalid
from jupyter_constructs.core.objects import KubeObject
from jupyter_constructs.core.quantities import Resources, parse_memory
from jupyter_constructs.core.rules import check_bool, check_dns_subdomain
from jupyter_constructs.core.sync_waves import IGNORE_HEALTHCHECK_ANNOTATION, SyncWave
from jupyter_constructs.hub.volumes import (
    NfsExport,
    UserVolume,
    VolumeSource,
    check_claim_template,
    check_mount_path,
    check_relative_path,
    check_user_claim,
    template_fields,
)

HOME_MOUNT_PATH = "/home/jovyan"
#: The name of the home volume in user pods.
HOME_VOLUME = "home"
#: The name of the shared data volume in user pods.
SHARED_DATA_VOLUME = "shared-data"
#: Where the ``home-dir`` init container of ``UserStorage.shared`` sees the whole claim.
SHARED_HOMES_ROOT = "/mnt/homes"
HOME_DIR_RESOURCES = Resources("10m", "100m", "16Mi", "64Mi")
_HOME_ACCESS_MODES = ("ReadWriteOnce", "ReadWriteOncePod", "ReadWriteMany")
_SHARED_ACCESS_MODES = ("ReadWriteMany", "ReadOnlyMany")
#: KubeSpawner template fields that differ from one user to another: a home's name or
#: folder needs one, or two users share a home ({servername} alone is "" for everyone's
#: default server).
PER_USER_FIELDS = frozenset(
    {
        "username",
        "userid",
        "user_server",
        "escaped_username",
        "safe_username",
        "escaped_user_server",
        "safe_user_server",
    }
)


class HomeStorage(enum.Enum):
    """How users' homes are stored (z2jh ``singleuser.storage.type``)."""

    DYNAMIC = "dynamic"
    """A PersistentVolumeClaim per user, created by KubeSpawner on first spawn."""
    SHARED = "static"
    """A folder per user on one existing shared claim (z2jh calls it ``static``)."""
    NONE = "none"
    """No home volume: the server's files are lost when it stops."""


class SlugScheme(enum.Enum):
    """How KubeSpawner turns a user name into ``{username}`` (KubeSpawner ``slug_scheme``).

    It decides the names of home claims (``claim-{username}``), pods and per-user folders.
    ``alice.smith@example.org`` becomes ``alice-smith-example-org---<hash>`` under
    ``SAFE`` and ``alice-2esmith-40example-2eorg`` under ``ESCAPE``.
    """

    SAFE = "safe"
    """KubeSpawner 7's default (z2jh 4): always a valid name, escaped only when needed."""
    ESCAPE = "escape"
    """KubeSpawner < 7 (z2jh 3.x and earlier): keep it to keep those hubs' home claims."""


@dataclass(frozen=True)
class UserStorage:
    """Each user's home, mounted at /home/jovyan: build it with a factory, or as the default.

    ``UserStorage()`` (or ``UserStorage.dynamic()``): a 10Gi ReadWriteOnce claim
    ``claim-{username}`` per user. ``UserStorage.shared("homes")``: a folder per user on
    an existing shared claim. ``UserStorage.none()``: no home volume.

    KubeSpawner settings: ``storage_pvc_ensure``, ``pvc_name_template``,
    ``storage_capacity``, ``storage_class``, ``storage_access_modes``, ``slug_scheme``,
    ``delete_pvc``; the home volume and mount in ``volumes``/``volume_mounts``.

    Attributes:
        type: The mode (``HomeStorage``). Default: ``HomeStorage.DYNAMIC``.
        size: Each home claim's request (dynamic). Default: ``"10Gi"``.
        storage_class: The claims' StorageClass (dynamic). Default: the cluster's default.
        access_mode: The claims' access mode (dynamic). Default: ``"ReadWriteOnce"``.
        pvc_name_template: Name of each user's claim (dynamic), with KubeSpawner's
            template fields. Default: ``"claim-{username}"``, z2jh's.
        slug_scheme: How ``{username}`` is written (``SlugScheme``). Default:
            ``SlugScheme.SAFE``, KubeSpawner 7's; ``SlugScheme.ESCAPE`` keeps the home
            claims of z2jh 3.x and earlier (``claim-alice-2esmith-40example-2eorg``).
        delete_pvc: Delete a user's home claim, and every file in it, when the user is
            deleted (by an admin, or by ``IdleCuller(cull_users=True)``). Default: False,
            the home is kept (KubeSpawner's own default is True: it deletes it).
        claim_name: The existing claim holding every home (shared).
        sub_path: Each user's folder on it (shared). Default: ``"{username}"``.
        nfs: The NFS export behind ``claim_name`` (shared): the hub renders a static
            PersistentVolume and the claim, as for ``UserVolume.nfs_export``. Default:
            ``None``, the claim exists already.
        make_home_dir: Create a new user's folder as that user (shared): an init
            container ``home-dir`` runs ``mkdir -p`` as the user, because the kubelet
            creates a missing ``subPath`` folder as root (kubernetes/kubernetes#95945)
            and the user could not write their own home. Default: True.
        mount_path: Where the home is mounted. Default: ``/home/jovyan`` (z2jh
            ``homeMountPath``).
    """

    type: HomeStorage = HomeStorage.DYNAMIC
    size: str = "10Gi"
    storage_class: str | None = None
    access_mode: str = "ReadWriteOnce"
    pvc_name_template: str = "claim-{username}"
    slug_scheme: SlugScheme = SlugScheme.SAFE
    delete_pvc: bool = False
    claim_name: str | None = None
    sub_path: str = "{username}"
    nfs: NfsExport | None = None
    make_home_dir: bool = True
    mount_path: str = HOME_MOUNT_PATH

    # -- factories ------------------------------------------------------------------------

    @classmethod
    def dynamic(
        cls,
        *,
        size: str = "10Gi",
        storage_class: str | None = None,
        access_mode: str = "ReadWriteOnce",
        pvc_name_template: str = "claim-{username}",
        slug_scheme: SlugScheme = SlugScheme.SAFE,
        delete_pvc: bool = False,
        mount_path: str = HOME_MOUNT_PATH,
    ) -> UserStorage:
        """A PersistentVolumeClaim per user (z2jh ``type: dynamic``), the default.

        Args:
            size: Each claim's request. Default: ``"10Gi"``.
            storage_class: Default: the cluster's default StorageClass.
            access_mode: Default: ``"ReadWriteOnce"``.
            pvc_name_template: Default: ``"claim-{username}"``.
            slug_scheme: Default: ``SlugScheme.SAFE``; ``ESCAPE`` for z2jh 3.x homes.
            delete_pvc: Delete the claim with its user. Default: False (kept).
            mount_path: Default: ``/home/jovyan``.
        """
        return cls(
            type=HomeStorage.DYNAMIC,
            size=size,
            storage_class=storage_class,
            access_mode=access_mode,
            pvc_name_template=pvc_name_template,
            slug_scheme=slug_scheme,
            delete_pvc=delete_pvc,
            mount_path=mount_path,
        )

    @classmethod
    def shared(
        cls,
        claim_name: str,
        *,
        sub_path: str = "{username}",
        nfs: NfsExport | None = None,
        slug_scheme: SlugScheme = SlugScheme.SAFE,
        make_home_dir: bool = True,
        mount_path: str = HOME_MOUNT_PATH,
    ) -> UserStorage:
        """Every home a folder of one ReadWriteMany claim (z2jh ``type: static``).

        Without ``nfs`` the claim is not rendered: it must exist before users start
        servers (EFS, CephFS, Azure Files... made by your storage team). With ``nfs``
        the hub renders a static PersistentVolume (``Retain``) for the export and the
        claim. The claim's root must be writable by the users' group (``fs_gid``, 100)
        for new folders to be created.

        Args:
            claim_name: The claim (z2jh ``static.pvcName``).
            sub_path: Each user's folder. Default: ``"{username}"`` (z2jh ``static.subPath``).
            nfs: The NFS export to render the claim for. Default: the claim exists.
            slug_scheme: Default: ``SlugScheme.SAFE``; ``ESCAPE`` for z2jh 3.x folders.
            make_home_dir: Create a new user's folder as the user. Default: True.
            mount_path: Default: ``/home/jovyan``.
        """
        return cls(
            type=HomeStorage.SHARED,
            claim_name=claim_name,
            sub_path=sub_path,
            nfs=nfs,
            slug_scheme=slug_scheme,
            make_home_dir=make_home_dir,
            mount_path=mount_path,
        )

    @classmethod
    def none(cls) -> UserStorage:
        """No home volume (z2jh ``type: none``): files are lost when a server stops."""
        return cls(type=HomeStorage.NONE)

    # -- checks ---------------------------------------------------------------------------

    def check(self, scope: Construct) -> UserStorage:
        """Return self if every field is valid.

        Args:
            scope: The construct that uses it (errors name its path).

        Raises:
            ConfigurationError: A field is invalid.
        """
        if not isinstance(self.type, HomeStorage):
            raise invalid(
                scope,
                "UserStorage.type",
                self.type,
                allowed="a HomeStorage member",
                fix="build it with UserStorage.dynamic(), UserStorage.shared(...) or "
                "UserStorage.none()",
            )
        if not isinstance(self.slug_scheme, SlugScheme):
            raise invalid(
                scope,
                "UserStorage.slug_scheme",
                self.slug_scheme,
                allowed="SlugScheme.SAFE or SlugScheme.ESCAPE",
                fix="use SlugScheme.ESCAPE only to keep homes named by z2jh 3.x or earlier",
            )
        check_mount_path(scope, "UserStorage.mount_path", self.mount_path)
        check_bool(scope, "UserStorage.delete_pvc", self.delete_pvc)
        check_bool(scope, "UserStorage.make_home_dir", self.make_home_dir)
        if self.type is HomeStorage.DYNAMIC:
            parse_memory(scope, "UserStorage.size", self.size)
            if self.storage_class is not None:
                check_dns_subdomain(scope, "UserStorage.storage_class", self.storage_class)
            if self.access_mode not in _HOME_ACCESS_MODES:
                raise invalid(
                    scope,
                    "UserStorage.access_mode",
                    self.access_mode,
                    allowed=", ".join(_HOME_ACCESS_MODES),
                    fix="use ReadWriteOnce for a home volume",
                )
            fields = check_claim_template(
                scope, "UserStorage.pvc_name_template", self.pvc_name_template
            )
            if not fields & PER_USER_FIELDS:
                raise invalid(
                    scope,
                    "UserStorage.pvc_name_template",
                    self.pvc_name_template,
                    allowed="a template naming each user's claim by the user "
                    "({username}, {user_server}, {userid}...; not {unescaped_username})",
                    fix="keep the default 'claim-{username}'",
                )
        elif self.type is HomeStorage.SHARED:
            check_user_claim(scope, "UserStorage.claim_name", self.claim_name or "")
            if self.nfs is not None:
                if not isinstance(self.nfs, NfsExport):
                    raise invalid(
                        scope,
                        "UserStorage.nfs",
                        self.nfs,
                        allowed="an NfsExport(server, path)",
                        fix='e.g. nfs=NfsExport("nfs.example.internal", "/exports/home")',
                    )
                self.nfs.check(scope, "UserStorage.nfs")
            check_relative_path(scope, "UserStorage.sub_path", self.sub_path, template=True)
            if not template_fields(scope, "UserStorage.sub_path", self.sub_path) & PER_USER_FIELDS:
                raise invalid(
                    scope,
                    "UserStorage.sub_path",
                    self.sub_path,
                    allowed="a folder per user: a template with {username} (or {userid})",
                    fix="keep the default '{username}'",
                )
        if self.delete_pvc and self.type is not HomeStorage.DYNAMIC:
            raise invalid(
                scope,
                "UserStorage.delete_pvc",
                self.delete_pvc,
                allowed="False unless every user has a claim of their own (UserStorage.dynamic)",
                fix="drop delete_pvc=True",
            )
        return self

    # -- rendering ------------------------------------------------------------------------

    @property
    def has_home_volume(self) -> bool:
        """True unless the mode is ``NONE``."""
        return self.type is not HomeStorage.NONE

    def nfs_volume(self) -> UserVolume | None:
        """The NFS claim to render for the homes (shared mode with ``nfs``), as a volume."""
        if self.type is not HomeStorage.SHARED or self.nfs is None:
            return None
        return UserVolume(
            name=HOME_VOLUME,
            mount_path=self.mount_path,
            source=VolumeSource.NFS,
            claim_name=self.claim_name,
            nfs=self.nfs,
        )

    def kubespawner_traits(self) -> dict[str, Any]:
        """The hub-wide KubeSpawner settings of this mode."""
        traits: dict[str, Any] = {
            "slug_scheme": self.slug_scheme.value,
            # KubeSpawner's default (True) deletes the home claim with its user.
            "delete_pvc": self.delete_pvc,
        }
        if self.type is HomeStorage.DYNAMIC:
            traits.update(
                {
                    "storage_pvc_ensure": True,
                    "pvc_name_template": self.pvc_name_template,
                    "storage_capacity": self.size,
                    "storage_access_modes": [self.access_mode],
                }
            )
            if self.storage_class is not None:
                traits["storage_class"] = self.storage_class
        else:
            traits["storage_pvc_ensure"] = False
        return traits

    def home_volume(self) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """The home's ``volumes`` and ``volume_mounts`` entries; ``None`` without a home."""
        if self.type is HomeStorage.DYNAMIC:
            volume = {"name": HOME_VOLUME, "persistentVolumeClaim": {"claimName": "{pvc_name}"}}
            return volume, {"name": HOME_VOLUME, "mountPath": self.mount_path}
        if self.type is HomeStorage.SHARED:
            volume = {"name": HOME_VOLUME, "persistentVolumeClaim": {"claimName": self.claim_name}}
            mount = {"name": HOME_VOLUME, "mountPath": self.mount_path, "subPath": self.sub_path}
            return volume, mount
        return None

    def home_dir_container(self, image: str) -> dict[str, Any] | None:
        """The ``home-dir`` init container (shared mode), before security defaults.

        It mounts the whole claim and creates the user's folder as the user, so the folder
        belongs to the user instead of root (kubernetes/kubernetes#95945). KubeSpawner
        expands the ``{username}`` of its command.

        Args:
            image: The user server's image (already on the node, it has ``mkdir``).
        """
        if self.type is not HomeStorage.SHARED or not self.make_home_dir:
            return None
        return {
            "name": "home-dir",
            "image": image,
            "command": ["mkdir", "-p", f"{SHARED_HOMES_ROOT}/{self.sub_path}"],
            "resources": HOME_DIR_RESOURCES.to_kube(),
            "volumeMounts": [{"name": HOME_VOLUME, "mountPath": SHARED_HOMES_ROOT}],
            "securityContext": {"readOnlyRootFilesystem": True},
        }


@dataclass(frozen=True)
class SharedData:
    """A data volume every user pod mounts, read-write unless a profile says otherwise.

    Profiles created with ``shared_data_read_only=True`` mount it read-only. Only access
    modes that let every user's server mount it at once are accepted: a
    ``ReadWriteOnce`` claim is attached to one node, and servers on other nodes fail
    to start with a multi-attach error.

    Attributes:
        size: Storage request. Default: ``"50Gi"``.
        storage_class: StorageClass; it must support the access mode (NFS, CephFS, EFS...).
            Default: ``None``, the cluster's default.
        access_mode: ``"ReadWriteMany"``, or ``"ReadOnlyMany"`` (a pre-populated dataset;
            then every profile must mount it read-only). Default: ``"ReadWriteMany"``.
        mount_path: Where user pods see it. Default: ``/home/jovyan/shared``.
        claim_name: The PVC's name. Default: ``"shared-data"``.
        existing_claim: The claim exists already (made by your storage team, bound to a
            pre-populated volume): it is mounted, not rendered, and ``size`` and
            ``storage_class`` are not used; ``access_mode`` says what the claim offers and
            is checked as for a rendered claim (``ReadOnlyMany``: every profile mounts it
            read-only). Default: False.
    """

    size: str = "50Gi"
    storage_class: str | None = None
    access_mode: str = "ReadWriteMany"
    mount_path: str = f"{HOME_MOUNT_PATH}/shared"
    claim_name: str = "shared-data"
    existing_claim: bool = False

    def check(self, scope: Construct) -> SharedData:
        """Return self if every field is valid.

        Args:
            scope: The construct that uses it (errors name its path).

        Raises:
            ConfigurationError: A field is invalid.
        """
        check_user_claim(scope, "SharedData.claim_name", self.claim_name)
        check_mount_path(scope, "SharedData.mount_path", self.mount_path)
        # An existing claim's access mode is checked too: it is what the claim offers, and
        # a ReadOnlyMany dataset mounted read-write, or a ReadWriteOnce claim, fails the
        # servers the same way whoever made the claim.
        if not check_bool(scope, "SharedData.existing_claim", self.existing_claim):
            parse_memory(scope, "SharedData.size", self.size)
            if self.storage_class is not None:
                check_dns_subdomain(scope, "SharedData.storage_class", self.storage_class)
        if self.access_mode not in _SHARED_ACCESS_MODES:
            raise invalid(
                scope,
                "SharedData.access_mode",
                self.access_mode,
                allowed="ReadWriteMany, or ReadOnlyMany with every profile mounting it "
                "read-only (a ReadWriteOnce or ReadWriteOncePod claim is attached to one "
                "node: servers elsewhere fail with a multi-attach error)",
                fix="use a StorageClass that offers ReadWriteMany (NFS, CephFS, EFS, Azure "
                "Files), or give each user their own volume",
            )
        return self

    def read_only_errors(self, scope: Construct, writers: Sequence[str]) -> list[str]:
        """Why profiles ``writers`` (mounting it read-write) cannot have it, or nothing."""
        if self.access_mode != "ReadOnlyMany" or not writers:
            return []
        return [
            str(
                invalid(
                    scope,
                    "SharedData.access_mode",
                    self.access_mode,
                    allowed="ReadOnlyMany only when every profile mounts it read-only "
                    f"(profiles {list(writers)} mount it read-write)",
                    fix="create those profiles with shared_data_read_only=True, or use "
                    "ReadWriteMany",
                )
            )
        ]

    def volume(self, *, read_only: bool) -> tuple[dict[str, Any], dict[str, Any]]:
        """The ``volumes`` and ``volume_mounts`` entries of user pods."""
        claim: dict[str, Any] = {"claimName": self.claim_name}
        if read_only:
            claim["readOnly"] = True
        return (
            {"name": SHARED_DATA_VOLUME, "persistentVolumeClaim": claim},
            {"name": SHARED_DATA_VOLUME, "mountPath": self.mount_path, "readOnly": read_only},
        )


def volume_claim(
    scope: Construct,
    id: str,
    *,
    name: str,
    labels: dict[str, str],
    access_mode: str,
    size: str,
    storage_class: str | None,
    consumed_in_git: bool = True,
) -> KubeObject:
    """A PersistentVolumeClaim (``v1``) for ``size`` of storage, protected from ArgoCD.

    It carries ``Delete=false,Prune=false`` (``core.sync_waves``: deleting the
    Application or removing the claim from git never deletes its data). Its sync wave
    follows its first consumer, so that it can bind with a ``WaitForFirstConsumer``
    StorageClass: the workloads' wave when a workload in git mounts it, else the last
    wave (``SyncWave.USER_CLAIMS``) with ``argocd.argoproj.io/ignore-healthcheck``, since
    it stays Pending until a user server mounts it.

    Args:
        scope: The construct it belongs to.
        id: Its construct id.
        name: ``metadata.name``.
        labels: ``metadata.labels``.
        access_mode: ``ReadWriteOnce``, ``ReadWriteOncePod``, ``ReadWriteMany`` or
            ``ReadOnlyMany``.
        size: The storage request, a Kubernetes quantity (``"10Gi"``).
        storage_class: The StorageClass; ``None`` uses the cluster's default.
        consumed_in_git: A workload of the rendered output (wave 0) mounts it. Default:
            True. False for claims only user servers mount.
    """
    return KubeObject(
        scope,
        id,
        api_version="v1",
        kind="PersistentVolumeClaim",
        name=name,
        labels=labels,
        wave=SyncWave.WORKLOADS if consumed_in_git else SyncWave.USER_CLAIMS,
        annotations=None if consumed_in_git else {IGNORE_HEALTHCHECK_ANNOTATION: "true"},
        body={
            "spec": {
                "accessModes": [access_mode],
                "storageClassName": storage_class,
                "resources": {"requests": {"storage": size}},
            }
        },
    )


__all__ = [
    "HOME_MOUNT_PATH",
    "HomeStorage",
    "SharedData",
    "SlugScheme",
    "UserStorage",
    "volume_claim",
]

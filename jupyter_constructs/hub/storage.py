"""User storage: a home volume per user, and an optional data volume shared by all users."""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from jupyter_constructs.core.errors import invalid
from jupyter_constructs.core.objects import KubeObject
from jupyter_constructs.core.quantities import parse_memory
from jupyter_constructs.core.rules import (
    ABSOLUTE_PATH_RULE,
    check,
    check_choice,
    check_dns_subdomain,
)

HOME_MOUNT_PATH = "/home/jovyan"
_ACCESS_MODES = ("ReadWriteOnce", "ReadWriteOncePod", "ReadWriteMany")


def _check_common(
    scope: Construct, what: str, size: str, storage_class: str | None, access_mode: str
) -> None:
    parse_memory(scope, f"{what}.size", size)
    if storage_class is not None:
        # StorageClass names are DNS-1123 subdomains (ValidateClassName).
        check_dns_subdomain(scope, f"{what}.storage_class", storage_class)
    check_choice(
        scope,
        f"{what}.access_mode",
        access_mode,
        _ACCESS_MODES,
        fix="use ReadWriteOnce for a home volume, ReadWriteMany for shared data",
    )


@dataclass(frozen=True)
class UserStorage:
    """Each user's home: PVC ``claim-{username}`` mounted at /home/jovyan, kept across servers.

    KubeSpawner creates the claim on first spawn; it outlives the server (and the hub).
    KubeSpawner settings: ``storage_capacity``, ``storage_class``, ``storage_access_modes``.

    Attributes:
        size: Storage request, a Kubernetes quantity. Default: ``"10Gi"``.
        storage_class: StorageClass. Default: ``None``, the cluster's default.
        access_mode: Default: ``"ReadWriteOnce"``.
    """

    size: str = "10Gi"
    storage_class: str | None = None
    access_mode: str = "ReadWriteOnce"

    def check(self, scope: Construct) -> UserStorage:
        """Return self if every field is valid.

        Args:
            scope: The construct that uses it (errors name its path).

        Raises:
            ConfigurationError: A field is invalid.
        """
        _check_common(scope, "UserStorage", self.size, self.storage_class, self.access_mode)
        return self


@dataclass(frozen=True)
class SharedData:
    """A data volume every user pod mounts, read-write unless a profile says otherwise.

    Profiles created with ``shared_data_read_only=True`` mount it read-only.

    Attributes:
        size: Storage request. Default: ``"50Gi"``.
        storage_class: StorageClass; it must support ReadWriteMany (NFS, CephFS...).
            Default: ``None``, the cluster's default.
        access_mode: Default: ``"ReadWriteMany"``.
        mount_path: Where user pods see it. Default: ``/home/jovyan/shared``.
        claim_name: The PVC's name. Default: ``"shared-data"``.
    """

    size: str = "50Gi"
    storage_class: str | None = None
    access_mode: str = "ReadWriteMany"
    mount_path: str = f"{HOME_MOUNT_PATH}/shared"
    claim_name: str = "shared-data"

    def check(self, scope: Construct) -> SharedData:
        """Return self if every field is valid.

        Args:
            scope: The construct that uses it (errors name its path).

        Raises:
            ConfigurationError: A field is invalid.
        """
        _check_common(scope, "SharedData", self.size, self.storage_class, self.access_mode)
        check_dns_subdomain(scope, "SharedData.claim_name", self.claim_name)
        check(
            scope,
            "SharedData.mount_path",
            self.mount_path,
            ABSOLUTE_PATH_RULE,
            fix="e.g. '/home/jovyan/shared'",
        )
        if self.mount_path == HOME_MOUNT_PATH:
            raise invalid(
                scope,
                "SharedData.mount_path",
                self.mount_path,
                allowed=f"a path other than the home volume's {HOME_MOUNT_PATH}",
                fix="e.g. '/home/jovyan/shared'",
            )
        return self


def volume_claim(
    scope: Construct,
    id: str,
    *,
    name: str,
    labels: dict[str, str],
    access_mode: str,
    size: str,
    storage_class: str | None,
) -> KubeObject:
    """A PersistentVolumeClaim (``v1``) for ``size`` of storage.

    Args:
        scope: The construct it belongs to.
        id: Its construct id.
        name: ``metadata.name``.
        labels: ``metadata.labels``.
        access_mode: ``ReadWriteOnce``, ``ReadWriteOncePod`` or ``ReadWriteMany``.
        size: The storage request, a Kubernetes quantity (``"10Gi"``).
        storage_class: The StorageClass; ``None`` uses the cluster's default.
    """
    return KubeObject(
        scope,
        id,
        api_version="v1",
        kind="PersistentVolumeClaim",
        name=name,
        labels=labels,
        body={
            "spec": {
                "accessModes": [access_mode],
                "storageClassName": storage_class,
                "resources": {"requests": {"storage": size}},
            }
        },
    )

"""Backups of the hub's data with Velero: opt-in, one ``Schedule`` per hub.

``VeleroBackups(chart, "backups", hub=hub)`` renders a Velero ``Schedule``
(``velero.io/v1``, in Velero's own namespace, where Velero reads schedules) that backs
up, from the hub's namespace:

- every PersistentVolumeClaim and its PersistentVolume, with the volume's data: the hub
  database (``hub-db-dir``, sqlite), the users' home volumes (``claim-<user>``, created
  by KubeSpawner) and the shared data volume;
- the Secrets: the hub's generated ``hub-secrets`` (the cookie secret and the crypt key
  that encrypts the auth state stored in the database: a database restored without it
  cannot decrypt that state) and the credential Secrets beside it. The backup storage
  therefore holds credentials: protect its bucket like the cluster's Secrets.

Everything else is in git and comes back with the next ArgoCD sync. With
``HubDatabase.postgres(...)`` the database is not in the cluster: back it up with the
database's own tools; the Schedule still covers the homes.

How volume data is captured (``volume_method``):

- ``"snapshot-move-data"`` (default): a CSI snapshot of each volume, whose data Velero's
  data mover then copies to the backup storage location (object storage). It covers
  volumes that no pod mounts, which is most home volumes most of the time (a server
  stopped by the idle culler), and the copy survives the loss of the cluster and its
  disks. Needs a CSI driver with VolumeSnapshot support, a ``VolumeSnapshotClass``
  labelled ``velero.io/csi-volumesnapshot-class: "true"`` and Velero's node agent.
- ``"snapshot"``: the snapshot only (CSI or a cloud provider plugin); it stays with the
  storage provider, in the same region: not a copy off the cluster's storage.
- ``"fs-backup"``: Velero's file-system backup (Kopia) through its node agent, without
  snapshots. It copies only volumes **mounted by a running pod**: a stopped user's home
  is not backed up. Only for clusters without snapshots.

Retention: each backup is deleted ``retention`` after it was taken (Velero's ``ttl``;
default ``"720h"``, 30 days). Schedule: ``schedule`` (cron, default ``"0 3 * * *"``,
daily at 03:00 in Velero's time zone, UTC unless configured).

Supported: Velero 1.12 or later (``snapshotMoveData``); the typed resource comes from
the v1.18.1 CRD. The restore procedure is in ``docs/runbook.md`` ("Backups and
restore").

ArgoCD: the Schedule is in the ``velero`` namespace, not the hub's: the Application's
project must allow that destination (``spec.destinations`` of the AppProject). It is a
custom resource, so it syncs last (wave 1) and is skipped cleanly where Velero is not
installed (``SkipDryRunOnMissingResource``). Deleting the Schedule (or the Application)
does not delete the backups already taken (``useOwnerReferencesInBackup: false``).

Reference: https://velero.io/docs/main/api-types/schedule/ and
https://velero.io/docs/main/csi-snapshot-data-movement/
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Literal

from constructs import Construct

from jupyter_constructs.core.errors import invalid
from jupyter_constructs.core.objects import adopt
from jupyter_constructs.core.rules import check_dns_label
from jupyter_constructs.crds.velero import Schedule
from jupyter_constructs.hub.hub import JupyterHub

if TYPE_CHECKING:
    from jupyter_constructs.crds.velero.schedule import ScheduleSpec, ScheduleSpecTemplate

VolumeMethod = Literal["snapshot-move-data", "snapshot", "fs-backup"]
VOLUME_METHODS: tuple[VolumeMethod, ...] = ("snapshot-move-data", "snapshot", "fs-backup")

#: What the Schedule backs up from the hub's namespace (besides the volumes' data).
BACKED_UP_RESOURCES = ("persistentvolumeclaims", "persistentvolumes", "secrets")

_CRON_FIELD = r"[0-9*/,\-A-Za-z?]+"
_CRON = re.compile(rf"\A{_CRON_FIELD}( {_CRON_FIELD}){{4}}\Z")
_MACRO = re.compile(r"\A@(yearly|annually|monthly|weekly|daily|midnight|hourly|every [0-9hms]+)\Z")
_DURATION = re.compile(r"\A([0-9]+h)?([0-9]+m)?([0-9]+s)?\Z")


class VeleroBackups(Construct):
    """A Velero ``Schedule`` backing up the hub's volumes and Secrets (module docstring).

    Args:
        scope: The hub's chart.
        id: Construct id.
        hub: The hub whose namespace is backed up (attached as an add-on).
        schedule: When, as a cron expression (5 fields) or a macro such as
            ``"@daily"`` / ``"@every 6h"``. Default: ``"0 3 * * *"``.
        retention: How long each backup is kept, a Go duration in hours, minutes and
            seconds (``"720h"``, ``"168h"``). Default: ``"720h"`` (30 days).
        volume_method: ``"snapshot-move-data"``, ``"snapshot"`` or ``"fs-backup"``.
            Default: ``"snapshot-move-data"``.
        velero_namespace: Where Velero runs and reads schedules. Default: ``"velero"``.
        storage_location: The ``BackupStorageLocation`` to use. Default: ``None``,
            Velero's default location.
        name: The Schedule's name. Default: ``"<hub namespace>-hub-data"``.

    Raises:
        ConfigurationError: A value is invalid.

    Example::

        VeleroBackups(chart, "backups", hub=hub, schedule="0 */6 * * *", retention="336h")
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        hub: JupyterHub,
        schedule: str = "0 3 * * *",
        retention: str = "720h",
        volume_method: VolumeMethod = "snapshot-move-data",
        velero_namespace: str = "velero",
        storage_location: str | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        adopt(self, scope, id)
        if not isinstance(hub, JupyterHub):
            raise invalid(
                self, "hub", type(hub).__name__, allowed="a JupyterHub", fix="pass hub=hub"
            )
        if not isinstance(schedule, str) or not (
            _CRON.match(schedule.strip()) or _MACRO.match(schedule.strip())
        ):
            raise invalid(
                self,
                "schedule",
                schedule,
                allowed="a cron expression of 5 fields ('0 3 * * *') or a macro "
                "('@daily', '@every 6h')",
                fix="e.g. '0 3 * * *' for every day at 03:00",
            )
        if (
            not isinstance(retention, str)
            or not retention
            or not _DURATION.match(retention)
            or not any(c.isdigit() and c != "0" for c in retention)
        ):
            raise invalid(
                self,
                "retention",
                retention,
                allowed="a positive Go duration in hours, minutes and seconds ('720h', "
                "'168h', '36h30m')",
                fix="e.g. '720h' for 30 days (Go durations have no day unit)",
            )
        if not any(volume_method == m and type(volume_method) is str for m in VOLUME_METHODS):
            raise invalid(
                self,
                "volume_method",
                volume_method,
                allowed=", ".join(VOLUME_METHODS),
                fix="use 'snapshot-move-data' (CSI snapshots copied to object storage) "
                "unless the cluster has no snapshots",
            )
        check_dns_label(self, "velero_namespace", velero_namespace)
        if storage_location is not None:
            check_dns_label(self, "storage_location", storage_location)
        self.schedule_name = f"{hub.namespace}-hub-data" if name is None else name
        check_dns_label(self, "name", self.schedule_name)
        self._cron = schedule.strip()
        self._retention = retention
        self._volume_method: VolumeMethod = volume_method
        self._velero_namespace = velero_namespace
        self._storage_location = storage_location
        self.schedule: Schedule | None = None
        hub.attach_addon(self)

    def bind(self, hub: JupyterHub) -> None:
        """Render the Schedule for ``hub``'s namespace; called once by ``hub.attach_addon``."""
        template: ScheduleSpecTemplate = {
            "includedNamespaces": [hub.namespace],
            # PersistentVolumes are cluster-scoped: with includeClusterResources left
            # unset, Velero takes only those bound to the claims it backs up (True
            # would take every volume of the cluster).
            "includedResources": list(BACKED_UP_RESOURCES),
            "ttl": self._retention,
            "metadata": {"labels": hub.selector_labels("backup")},
        }
        if self._volume_method == "fs-backup":
            template["defaultVolumesToFsBackup"] = True
            template["snapshotVolumes"] = False
        else:
            template["snapshotVolumes"] = True
            template["snapshotMoveData"] = self._volume_method == "snapshot-move-data"
            template["defaultVolumesToFsBackup"] = False
        if self._storage_location is not None:
            template["storageLocation"] = self._storage_location
        spec: ScheduleSpec = {
            "schedule": self._cron,
            # Deleting the Schedule must never delete the backups it took.
            "useOwnerReferencesInBackup": False,
            "template": template,
        }
        self.schedule = Schedule(
            self,
            "Schedule",
            name=self.schedule_name,
            namespace=self._velero_namespace,
            labels=hub.labels("backup"),
            spec=spec,
        )

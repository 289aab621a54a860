"""VeleroBackups: an opt-in Velero Schedule for the hub's volumes and Secrets (issue 17)."""

from __future__ import annotations

from typing import Any

import pytest

from jupyter_constructs import ConfigurationError, HubDatabase, SecretRef, VeleroBackups
from tests.crd_schemas import missing_defaults, validate_custom_resource
from tests.helpers import make_hub, synth


def _schedule(**options: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    hub_options = options.pop("hub_options", {})
    chart, hub = make_hub(**hub_options)
    VeleroBackups(chart, "backups", hub=hub, **options)
    objects = synth(chart)
    (schedule,) = [o for o in objects if o["kind"] == "Schedule"]
    return schedule, objects


def test_defaults_back_up_the_namespace_volumes_and_secrets_nightly_for_30_days() -> None:
    schedule, _ = _schedule()
    validate_custom_resource(schedule)
    assert missing_defaults(schedule) == []
    assert schedule["apiVersion"] == "velero.io/v1"
    assert schedule["metadata"]["namespace"] == "velero"
    assert schedule["metadata"]["name"] == "jupyter-hub-data"
    assert schedule["metadata"]["annotations"] == {
        "argocd.argoproj.io/sync-wave": "1",
        "argocd.argoproj.io/sync-options": "SkipDryRunOnMissingResource=true",
    }
    spec = schedule["spec"]
    assert spec["schedule"] == "0 3 * * *"
    assert spec["useOwnerReferencesInBackup"] is False
    template = spec["template"]
    assert template["includedNamespaces"] == ["jupyter"]
    assert template["includedResources"] == [
        "persistentvolumeclaims",
        "persistentvolumes",
        "secrets",
    ]
    # Never every volume of the cluster: only those bound to the claims backed up.
    assert "includeClusterResources" not in template
    assert template["ttl"] == "720h"
    assert (template["snapshotVolumes"], template["snapshotMoveData"]) == (True, True)
    assert template["defaultVolumesToFsBackup"] is False
    assert "storageLocation" not in template


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        (
            "snapshot",
            {"snapshotVolumes": True, "snapshotMoveData": False, "defaultVolumesToFsBackup": False},
        ),
        ("fs-backup", {"snapshotVolumes": False, "defaultVolumesToFsBackup": True}),
    ],
)
def test_volume_methods(method: str, expected: dict[str, bool]) -> None:
    schedule, _ = _schedule(volume_method=method)
    template = schedule["spec"]["template"]
    assert {k: template.get(k) for k in expected} == expected
    if method == "fs-backup":
        assert "snapshotMoveData" not in template
    validate_custom_resource(schedule)


def test_options() -> None:
    schedule, _ = _schedule(
        schedule="@every 6h",
        retention="168h",
        velero_namespace="backup-system",
        storage_location="offsite",
        name="hub-backups",
    )
    assert schedule["metadata"]["namespace"] == "backup-system"
    assert schedule["metadata"]["name"] == "hub-backups"
    assert schedule["spec"]["schedule"] == "@every 6h"
    assert schedule["spec"]["template"]["ttl"] == "168h"
    assert schedule["spec"]["template"]["storageLocation"] == "offsite"


def test_an_external_database_still_gets_its_homes_backed_up() -> None:
    database = HubDatabase.postgres(
        host="db", database="hub", user="hub", password=SecretRef("hub-db", "password")
    )
    schedule, objects = _schedule(hub_options={"database": database})
    assert not [o for o in objects if o["metadata"]["name"] == "hub-db-dir"]
    assert schedule["spec"]["template"]["includedResources"][0] == "persistentvolumeclaims"


def test_is_attached_to_the_hub() -> None:
    chart, hub = make_hub()
    backups = VeleroBackups(chart, "backups", hub=hub)
    assert backups in hub.addons


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("schedule", "daily", "invalid schedule 'daily'"),
        ("schedule", "0 3 * *", "invalid schedule '0 3 * *'"),
        ("retention", "30d", "invalid retention '30d'. Allowed: a positive Go duration"),
        ("retention", "0h", "invalid retention '0h'"),
        ("volume_method", "restic", "invalid volume_method 'restic'"),
        ("velero_namespace", "Velero", "invalid velero_namespace 'Velero'"),
        ("storage_location", "my_bucket", "invalid storage_location 'my_bucket'"),
    ],
)
def test_bad_input_names_the_construct_and_the_fix(option: str, value: str, message: str) -> None:
    chart, hub = make_hub()
    with pytest.raises(ConfigurationError) as error:
        VeleroBackups(chart, "backups", hub=hub, **{option: value})
    assert str(error.value).startswith(f"test/backups: {message}")
    assert "Fix: " in str(error.value)

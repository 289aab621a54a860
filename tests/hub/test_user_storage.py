"""Homes in three modes, their naming, and why no setting deletes one by surprise.

Each mode is rendered into the hub config, then the real KubeSpawner 7 makes the user's
pod and PVC from it (``load_user_options``, ``get_pod_manifest``, ``get_pvc_manifest``);
the pod validates strictly and meets the restricted Pod Security Standard. The same pods
are created through admission on a real API server in tests/k8s/test_user_storage.py.
"""

from __future__ import annotations

import warnings

import pytest
from kubespawner import KubeSpawner

from jupyter_constructs import (
    ConfigurationError,
    ConfigurationWarning,
    HomeStorage,
    IdleCuller,
    NfsExport,
    SharedData,
    SlugScheme,
    UserStorage,
)
from jupyter_constructs.hub.storage import SHARED_HOMES_ROOT
from tests.helpers import find, make_hub, pod_spec, synth, validate
from tests.hub.user_pods import (
    check_pod,
    check_pvc,
    profile_override,
    spawn,
    spawner_traits,
)

USER = "alice.smith@example.org"
STORAGE_KEYS = (
    "delete_pvc",
    "pvc_name_template",
    "slug_scheme",
    "storage_access_modes",
    "storage_capacity",
    "storage_class",
    "storage_pvc_ensure",
)
MODES = {
    "dynamic": UserStorage(),
    "dynamic-escape": UserStorage.dynamic(
        size="20Gi", storage_class="fast-ssd", slug_scheme=SlugScheme.ESCAPE
    ),
    "shared": UserStorage.shared("homes"),
    "shared-nfs": UserStorage.shared(
        "homes", nfs=NfsExport("nfs.example.internal", "/exports/homes"), sub_path="u/{username}"
    ),
    "none": UserStorage.none(),
}


def _objects(storage: UserStorage, **hub: object) -> list[dict]:
    chart, _ = make_hub(user_storage=storage, **hub)
    return synth(chart)


@pytest.mark.parametrize("mode", sorted(MODES))
def test_snapshot(snapshot, mode: str) -> None:
    objects = _objects(MODES[mode])
    traits = spawner_traits(objects)
    override = profile_override(objects, "small")
    rendered = {
        "traits": {k: traits[k] for k in STORAGE_KEYS if k in traits},
        "volumes": override["volumes"],
        "volume_mounts": override["volume_mounts"],
        "init_containers": override.get("init_containers"),
        "objects": sorted(
            f"{o['kind']}/{o['metadata']['name']}"
            for o in objects
            if o["kind"] in ("PersistentVolume", "PersistentVolumeClaim")
        ),
    }
    assert rendered == snapshot


@pytest.mark.parametrize("mode", sorted(MODES))
def test_real_kubespawner_renders_a_valid_restricted_pod_and_pvc(mode: str) -> None:
    spawned = spawn(_objects(MODES[mode]), "small", USER)
    check_pod(spawned.pod)
    # KubeSpawner creates the PVC it renders only in the dynamic mode.
    assert spawned.spawner.storage_pvc_ensure is mode.startswith("dynamic")
    if spawned.spawner.storage_pvc_ensure:
        check_pvc(spawned.pvc)
    # Home storage never changes the labels the NetworkPolicies select by.
    assert spawned.pod["metadata"]["labels"]["app.kubernetes.io/component"] == "singleuser-server"
    # Homes are kept when a user is deleted, whatever the mode.
    assert spawned.spawner.delete_pvc is False


def test_dynamic_homes_are_one_claim_per_user() -> None:
    spawned = spawn(_objects(MODES["dynamic"]), "small", USER)
    assert spawned.spawner.storage_pvc_ensure is True
    claim = spawned.volumes["home"]["persistentVolumeClaim"]["claimName"]
    assert claim == spawned.pvc["metadata"]["name"] == spawned.spawner.pvc_name
    # KubeSpawner 7's safe scheme: escaped only where needed, with a hash.
    assert claim.startswith("claim-alice-smith-example-org---")
    assert spawned.pvc["spec"]["resources"]["requests"]["storage"] == "10Gi"
    assert spawned.pvc["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert "storageClassName" not in spawned.pvc["spec"]
    assert spawned.mounts["/home/jovyan"] == {"mountPath": "/home/jovyan", "name": "home"}
    assert "initContainers" not in spawned.pod["spec"]


def test_escape_slug_scheme_keeps_the_home_claims_of_z2jh_3() -> None:
    """z2jh 3.x (KubeSpawner 6) named homes ``claim-<escaped name>``; a hub moving from it
    with a fresh database finds them only with ``SlugScheme.ESCAPE`` (KubeSpawner 7
    looks for the old name itself only when the spawner's state came from KubeSpawner 6)."""
    spawned = spawn(_objects(MODES["dynamic-escape"]), "small", USER)
    assert spawned.pvc["metadata"]["name"] == "claim-alice-2esmith-40example-2eorg"
    assert spawned.volumes["home"]["persistentVolumeClaim"]["claimName"] == (
        "claim-alice-2esmith-40example-2eorg"
    )
    assert spawned.pvc["spec"]["storageClassName"] == "fast-ssd"
    assert spawned.pvc["spec"]["resources"]["requests"]["storage"] == "20Gi"
    # A name that needs no escaping is the same in both schemes.
    safe = spawn(_objects(MODES["dynamic"]), "small", "bob")
    assert safe.pvc["metadata"]["name"] == "claim-bob"


def test_shared_homes_are_a_folder_per_user_made_by_the_user() -> None:
    spawned = spawn(_objects(MODES["shared"]), "small", USER)
    assert spawned.spawner.storage_pvc_ensure is False
    assert spawned.volumes["home"] == {
        "name": "home",
        "persistentVolumeClaim": {"claimName": "homes"},
    }
    folder = spawned.mounts["/home/jovyan"]["subPath"]
    assert folder == spawned.spawner._expand_user_properties("{username}")
    (init,) = spawned.pod["spec"]["initContainers"]
    assert init["name"] == "home-dir"
    assert init["command"] == ["mkdir", "-p", f"{SHARED_HOMES_ROOT}/{folder}"]
    assert init["volumeMounts"] == [{"mountPath": SHARED_HOMES_ROOT, "name": "home"}]
    # Made as the user, so the user owns it (the kubelet would make it as root).
    assert init["securityContext"]["runAsUser"] == 1000
    assert init["image"] == spawned.notebook["image"]


def test_shared_homes_on_nfs_render_a_retained_volume_and_its_claim() -> None:
    objects = _objects(MODES["shared-nfs"])
    volume = find(objects, "PersistentVolume", "jupyter-homes")
    claim = find(objects, "PersistentVolumeClaim", "homes")
    assert volume["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
    assert volume["spec"]["nfs"] == {"server": "nfs.example.internal", "path": "/exports/homes"}
    assert volume["spec"]["accessModes"] == claim["spec"]["accessModes"] == ["ReadWriteMany"]
    assert volume["spec"]["claimRef"] == {"namespace": "jupyter", "name": "homes"}
    assert claim["spec"]["volumeName"] == "jupyter-homes"
    assert claim["spec"]["storageClassName"] == volume["spec"]["storageClassName"] == ""
    # Same sync wave: the claim never waits on a later wave for its volume.
    waves = {o["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"] for o in (volume, claim)}
    assert waves == {"-2"}
    spawned = spawn(objects, "small", "bob")
    assert spawned.mounts["/home/jovyan"]["subPath"] == "u/bob"


def test_no_home_volume() -> None:
    objects = _objects(MODES["none"])
    spawned = spawn(objects, "small", USER)
    assert spawned.spawner.storage_pvc_ensure is False
    assert "home" not in spawned.volumes
    assert "/home/jovyan" not in spawned.mounts
    claims = [o["metadata"]["name"] for o in objects if o["kind"] == "PersistentVolumeClaim"]
    assert claims == ["hub-db-dir"]


def test_home_mount_path_is_settable() -> None:
    storage = UserStorage.dynamic(mount_path="/home/user")
    spawned = spawn(_objects(storage), "small", "bob")
    assert spawned.mounts["/home/user"]["name"] == "home"


def test_delete_pvc_defaults_to_keeping_homes_unlike_kubespawner() -> None:
    """KubeSpawner deletes a user's home claim with the user by default; we do not."""
    assert KubeSpawner.class_traits()["delete_pvc"].default_value is True
    assert spawner_traits(_objects(UserStorage()))["delete_pvc"] is False
    opted_in = UserStorage.dynamic(delete_pvc=True)
    assert spawn(_objects(opted_in), "small", "bob").spawner.delete_pvc is True


def test_deleting_homes_with_culled_users_is_warned_about() -> None:
    with pytest.warns(ConfigurationWarning) as caught:
        make_hub(
            user_storage=UserStorage.dynamic(delete_pvc=True),
            idle_culler=IdleCuller(cull_users=True),
        )
    assert str(caught[0].message) == (
        "test/hub: questionable UserStorage.delete_pvc True: with IdleCuller(cull_users=True) "
        "every user idle for the culler's timeout is deleted, and their home claim with every "
        "file in it. Fix: keep delete_pvc=False (homes outlive their users), or cull servers "
        "only (cull_users=False)"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        make_hub(idle_culler=IdleCuller(cull_users=True))


def test_user_pods_and_the_hub_change_volume_ownership_only_on_a_mismatch() -> None:
    """Without ``fsGroupChangePolicy: OnRootMismatch`` every start re-chowns the home."""
    objects = _objects(UserStorage())
    spawned = spawn(objects, "small", "bob")
    context = spawned.pod["spec"]["securityContext"]
    assert context["fsGroup"] == 100
    assert context["fsGroupChangePolicy"] == "OnRootMismatch"
    hub = pod_spec(find(objects, "Deployment", "hub"))["securityContext"]
    assert hub["fsGroupChangePolicy"] == "OnRootMismatch"


# -- shared data ------------------------------------------------------------------------


def test_shared_data_read_only_many_needs_every_profile_read_only() -> None:
    chart, hub = make_hub(with_profile=False, shared_data=SharedData(access_mode="ReadOnlyMany"))
    hub.add_profile("small", display_name="Small", default=True, shared_data_read_only=True)
    hub.add_profile("writer", display_name="Writer")
    assert validate(chart) == [
        "test/hub: invalid SharedData.access_mode 'ReadOnlyMany'. Allowed: ReadOnlyMany only "
        "when every profile mounts it read-only (profiles ['writer'] mount it read-write). "
        "Fix: create those profiles with shared_data_read_only=True, or use ReadWriteMany"
    ]
    chart, hub = make_hub(with_profile=False, shared_data=SharedData(access_mode="ReadOnlyMany"))
    hub.add_profile("small", display_name="Small", default=True, shared_data_read_only=True)
    objects = synth(chart)
    assert find(objects, "PersistentVolumeClaim", "shared-data")["spec"]["accessModes"] == [
        "ReadOnlyMany"
    ]
    spawned = spawn(objects, "small", "bob")
    assert spawned.volumes["shared-data"]["persistentVolumeClaim"]["readOnly"] is True
    assert spawned.mounts["/home/jovyan/shared"]["readOnly"] is True


@pytest.mark.parametrize("mode", ["ReadWriteOnce", "ReadWriteOncePod"])
def test_fails_when_shared_data_can_be_attached_to_one_node_only(mode: str) -> None:
    """A ReadWriteOnce claim serves the first server only; the others time out on a
    multi-attach error (issue 21's report)."""
    with pytest.raises(ConfigurationError) as err:
        make_hub(shared_data=SharedData(access_mode=mode))
    assert str(err.value).startswith(
        f"test/hub: invalid SharedData.access_mode {mode!r}. Allowed: ReadWriteMany, or "
        "ReadOnlyMany with every profile mounting it read-only (a ReadWriteOnce or "
        "ReadWriteOncePod claim is attached to one node"
    )


def test_an_existing_shared_claim_is_mounted_not_rendered() -> None:
    objects = _objects(
        UserStorage(), shared_data=SharedData(claim_name="datasets", existing_claim=True)
    )
    assert not [
        o
        for o in objects
        if o["kind"] == "PersistentVolumeClaim" and o["metadata"]["name"] == "datasets"
    ]
    spawned = spawn(objects, "small", "bob")
    assert spawned.volumes["shared-data"]["persistentVolumeClaim"]["claimName"] == "datasets"


@pytest.mark.parametrize("mode", ["ReadWriteOnce", "ReadOnlyMany"])
def test_an_existing_shared_claim_s_access_mode_is_checked_too(mode: str) -> None:
    """Found by the simulated month (issue 21): ``SharedData(access_mode="ReadOnlyMany",
    existing_claim=True)`` with a profile mounting it read-write, and an existing
    ReadWriteOnce claim, were accepted: the mode was silently not used for an existing
    claim, while the servers fail the same way whoever made the claim."""
    shared = SharedData(access_mode=mode, claim_name="datasets", existing_claim=True)
    if mode == "ReadWriteOnce":
        with pytest.raises(ConfigurationError, match=r"invalid SharedData\.access_mode"):
            make_hub(shared_data=shared)
        return
    chart, hub = make_hub(with_profile=False, shared_data=shared)
    hub.add_profile("small", display_name="Small", default=True, shared_data_read_only=True)
    hub.add_profile("writer", display_name="Writer")
    assert [e for e in validate(chart) if "SharedData" in e] == [
        "test/hub: invalid SharedData.access_mode 'ReadOnlyMany'. Allowed: ReadOnlyMany only "
        "when every profile mounts it read-only (profiles ['writer'] mount it read-write). "
        "Fix: create those profiles with shared_data_read_only=True, or use ReadWriteMany"
    ]


# -- bad input --------------------------------------------------------------------------


def _storage_error(storage: UserStorage) -> str:
    with pytest.raises(ConfigurationError) as err:
        make_hub(user_storage=storage)
    return str(err.value)


def test_fails_when_the_claim_template_has_an_unknown_field() -> None:
    assert _storage_error(UserStorage.dynamic(pvc_name_template="claim-{user}")) == (
        "test/hub: invalid UserStorage.pvc_name_template 'claim-{user}'. Allowed: text where "
        "KubeSpawner's template fields stand in braces ({escaped_servername}, "
        "{escaped_user_server}, {escaped_username}, {hubnamespace}, {namespace}, {pod_name}, "
        "{pvc_name}, {safe_servername}, {safe_user_server}, {safe_username}, {servername}, "
        "{unescaped_servername}, {unescaped_username}, {user_server}, {userid}, {username}) "
        "and a literal brace is doubled ('{{', '}}'). Fix: use {username} for the user's "
        "name; write '{{' and '}}' for literal braces (KubeSpawner formats the text for "
        "every user)"
    )


@pytest.mark.parametrize("template", ["claim-home", "claim-{namespace}"])
def test_fails_when_the_claim_template_does_not_name_the_user_safely(template: str) -> None:
    assert _storage_error(UserStorage.dynamic(pvc_name_template=template)) == (
        f"test/hub: invalid UserStorage.pvc_name_template {template!r}. Allowed: a template "
        "naming each user's claim by the user ({username}, {user_server}, {userid}...; not "
        "{unescaped_username}). Fix: keep the default 'claim-{username}'"
    )


@pytest.mark.parametrize("template", ["claim-{unescaped_username}", "Claim-{username}"])
def test_fails_when_the_claim_template_can_make_an_invalid_name(template: str) -> None:
    assert _storage_error(UserStorage.dynamic(pvc_name_template=template)) == (
        f"test/hub: invalid UserStorage.pvc_name_template {template!r}. Allowed: a DNS-1123 "
        "subdomain once KubeSpawner expands it (lowercase letters, digits, '-' and '.'; "
        "{username} and {userid}, not {unescaped_username}, for per-user names). Fix: e.g. "
        "'datasets' or 'claim-{username}'"
    )


@pytest.mark.parametrize("sub_path", ["../{username}", "/homes/{username}", "{unescaped_username}"])
def test_fails_when_the_home_folder_can_leave_the_claim(sub_path: str) -> None:
    assert _storage_error(UserStorage.shared("homes", sub_path=sub_path)).startswith(
        f"test/hub: invalid UserStorage.sub_path {sub_path!r}. Allowed: a relative path "
        "inside the volume, without '..'"
    )


def test_fails_when_every_user_would_share_one_home_folder() -> None:
    assert _storage_error(UserStorage.shared("homes", sub_path="home")) == (
        "test/hub: invalid UserStorage.sub_path 'home'. Allowed: a folder per user: a "
        "template with {username} (or {userid}). Fix: keep the default '{username}'"
    )


def test_fails_when_shared_homes_would_be_deleted_with_a_user() -> None:
    storage = UserStorage(type=HomeStorage.SHARED, claim_name="homes", delete_pvc=True)
    assert _storage_error(storage) == (
        "test/hub: invalid UserStorage.delete_pvc True. Allowed: False unless every user has "
        "a claim of their own (UserStorage.dynamic). Fix: drop delete_pvc=True"
    )


def test_fails_when_a_home_claim_is_read_only_many() -> None:
    assert _storage_error(UserStorage(access_mode="ReadOnlyMany")) == (
        "test/hub: invalid UserStorage.access_mode 'ReadOnlyMany'. Allowed: ReadWriteOnce, "
        "ReadWriteOncePod, ReadWriteMany. Fix: use ReadWriteOnce for a home volume"
    )

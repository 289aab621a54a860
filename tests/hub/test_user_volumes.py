"""Volumes, files, containers and the hub-wide settings of user servers, per profile.

Every option is rendered into the hub config and the real KubeSpawner 7 makes the pod
from it; the pod validates strictly and meets the restricted Pod Security Standard.
"""

from __future__ import annotations

import json

import pytest

from jupyter_constructs import (
    ConfigurationError,
    ExtraFile,
    FileItem,
    Gpu,
    ImagePullerOptions,
    Mount,
    NamespaceQuota,
    PlatformServiceBinding,
    Resources,
    SecretRef,
    SharedData,
    SingleUser,
    Toleration,
    UserContainer,
    UserVolume,
)
from tests.helpers import find, make_hub, pod_spec, synth, validate
from tests.hub.user_pods import check_pod, profile_override, spawn, spawner_traits

BUSYBOX = "docker.io/library/busybox:1.36"
DATASETS = UserVolume.existing_claim(
    "datasets", claim_name="team-datasets", mount_path="/home/jovyan/datasets", read_only=True
)
EVERY_KIND = [
    DATASETS,
    UserVolume.existing_claim(
        "scratch", claim_name="scratch", mount_path="/scratch", sub_path="{username}"
    ),
    UserVolume.nfs_export(
        "archive",
        server="nfs.example.internal",
        path="/exports/archive",
        mount_path="/mnt/archive",
        read_only=True,
        mount_options=("nfsvers=4.1",),
    ),
    UserVolume.config_map(
        "settings",
        config_map_name="team-settings",
        mount_path="/etc/team",
        items=[FileItem("settings.yaml", "settings.yaml")],
    ),
    UserVolume.secret(
        "ssh",
        secret_name="team-ssh",
        mount_path="/home/jovyan/.ssh-team",
        items=[FileItem("id_ed25519", "id_ed25519", mode=0o440)],
        default_mode=0o440,
    ),
    UserVolume.empty_dir("cache", mount_path="/cache", size_limit="20Gi"),
    UserVolume.empty_dir("fast", mount_path="/fast", size_limit="1Gi", memory=True),
]


def _hub(singleuser: SingleUser | None = None, **profile: object):
    chart, hub = make_hub(with_profile=False, shared_data=SharedData(), singleuser=singleuser)
    hub.add_profile("small", display_name="Small", default=True, **profile)
    return chart, hub


def test_snapshot(snapshot) -> None:
    chart, _ = _hub(
        SingleUser(
            env={"TEAM": "data", "TOKEN": SecretRef("team-token", "token")},
            default_url="/lab",
            image_pull_secrets=["registry"],
            volumes=EVERY_KIND,
            extra_files={
                "server-config": ExtraFile(
                    "/etc/jupyter/jupyter_server_config.json", data={"ServerApp": {"x": 1}}
                )
            },
            init_containers=[UserContainer("seed", image=BUSYBOX, command=["true"])],
            extra_containers=[UserContainer("agent", image=BUSYBOX, command=["sleep", "1d"])],
            extra_labels={"example.com/cost-center": "ml"},
            extra_annotations={"example.com/owner": "data-team"},
            pre_stop_command=["sh", "-c", "sync"],
        ),
        shm_size="1Gi",
        extra_resources={"ephemeral-storage": "10Gi"},
    )
    objects = synth(chart)
    traits = spawner_traits(objects)
    assert {
        "hub-wide": {k: v for k, v in traits.items() if k != "profile_list"},
        "profile": profile_override(objects, "small"),
        "objects": [
            o
            for o in objects
            if o["kind"] == "PersistentVolume"
            or o["metadata"]["name"] in ("archive", "singleuser-extra-files")
        ],
    } == snapshot


def test_every_kind_of_volume_reaches_the_pod() -> None:
    chart, _ = _hub(SingleUser(volumes=EVERY_KIND))
    objects = synth(chart)
    spawned = spawn(objects, "small", "bob")
    check_pod(spawned.pod)
    volumes, mounts = spawned.volumes, spawned.mounts
    assert volumes["datasets"] == {
        "name": "datasets",
        "persistentVolumeClaim": {"claimName": "team-datasets", "readOnly": True},
    }
    assert mounts["/home/jovyan/datasets"]["readOnly"] is True
    # {username} is expanded by KubeSpawner for each user.
    assert mounts["/scratch"]["subPath"] == "bob"
    assert volumes["archive"]["persistentVolumeClaim"] == {"claimName": "archive", "readOnly": True}
    assert volumes["settings"]["configMap"] == {
        "name": "team-settings",
        "items": [{"key": "settings.yaml", "path": "settings.yaml"}],
    }
    assert mounts["/etc/team"]["readOnly"] is True
    assert volumes["ssh"]["secret"] == {
        "secretName": "team-ssh",
        "items": [{"key": "id_ed25519", "path": "id_ed25519", "mode": 0o440}],
        "defaultMode": 0o440,
    }
    assert volumes["cache"]["emptyDir"] == {"sizeLimit": "20Gi"}
    assert volumes["fast"]["emptyDir"] == {"medium": "Memory", "sizeLimit": "1Gi"}
    # The home and shared data are still there.
    assert mounts["/home/jovyan"]["name"] == "home"
    assert mounts["/home/jovyan/shared"]["name"] == "shared-data"


def test_nfs_is_a_retained_persistent_volume_read_only_where_every_mount_is() -> None:
    """The restricted standard refuses ``nfs:`` in a pod: the pod mounts a claim bound to a
    static PersistentVolume, ReadOnlyMany when every profile mounts it read-only."""
    archive = EVERY_KIND[2]
    chart, hub = _hub(SingleUser(volumes=[archive]))
    objects = synth(chart)
    volume = find(objects, "PersistentVolume", "jupyter-archive")
    claim = find(objects, "PersistentVolumeClaim", "archive")
    assert volume["spec"] == {
        "accessModes": ["ReadOnlyMany"],
        "capacity": {"storage": "1Gi"},
        "claimRef": {"name": "archive", "namespace": "jupyter"},
        "mountOptions": ["nfsvers=4.1"],
        "nfs": {"path": "/exports/archive", "readOnly": True, "server": "nfs.example.internal"},
        "persistentVolumeReclaimPolicy": "Retain",
        "storageClassName": "",
    }
    assert claim["spec"]["volumeName"] == "jupyter-archive"
    assert claim["spec"]["accessModes"] == ["ReadOnlyMany"]
    # One profile writes to it: ReadWriteMany, and a writable NFS mount on the node.
    writable = UserVolume.nfs_export(
        "archive",
        server="nfs.example.internal",
        path="/exports/archive",
        mount_path="/mnt/archive",
        mount_options=("nfsvers=4.1",),
    )
    hub.add_profile("curator", display_name="Curator", volumes=[writable])
    objects = synth(chart)
    volume = find(objects, "PersistentVolume", "jupyter-archive")
    assert volume["spec"]["accessModes"] == ["ReadWriteMany"]
    assert "readOnly" not in volume["spec"]["nfs"]
    assert spawn(objects, "curator", "bob").mounts["/mnt/archive"].get("readOnly") is None


def test_fails_when_two_exports_claim_one_name() -> None:
    other = UserVolume.nfs_export(
        "archive", server="nfs2.example.internal", path="/x", mount_path="/mnt/archive"
    )
    _, hub = _hub(SingleUser(volumes=[EVERY_KIND[2]]))
    with pytest.raises(ConfigurationError, match="invalid NFS volume claim_name 'archive'"):
        hub.add_profile("other", display_name="Other", volumes=[other])


def test_a_profile_replaces_a_hub_wide_volume_of_the_same_name() -> None:
    """Per-profile read-only (or read-write) mounts of a hub-wide volume."""
    writable = UserVolume.existing_claim(
        "datasets", claim_name="team-datasets", mount_path="/home/jovyan/datasets"
    )
    chart, hub = _hub(SingleUser(volumes=[DATASETS]))
    hub.add_profile("curator", display_name="Curator", volumes=[writable])
    objects = synth(chart)
    assert spawn(objects, "small", "bob").mounts["/home/jovyan/datasets"]["readOnly"] is True
    assert "readOnly" not in spawn(objects, "curator", "bob").mounts["/home/jovyan/datasets"]


def test_shm_size_mounts_a_memory_backed_dev_shm() -> None:
    chart, _ = _hub(shm_size="2Gi", memory_limit="8Gi")
    spawned = spawn(synth(chart), "small", "bob")
    check_pod(spawned.pod)
    assert spawned.volumes["dev-shm"] == {
        "name": "dev-shm",
        "emptyDir": {"medium": "Memory", "sizeLimit": "2Gi"},
    }
    assert spawned.mounts["/dev/shm"] == {"mountPath": "/dev/shm", "name": "dev-shm"}


def test_fails_at_synth_when_shm_exceeds_the_memory_limit() -> None:
    chart, _ = _hub(shm_size="8Gi", memory_limit="4Gi")
    assert validate(chart) == [
        "test/hub/Profile-small: invalid shm_size '8Gi'. Allowed: at most the memory limit "
        "'4Gi' (a memory-backed /dev/shm counts against it). Fix: lower shm_size or raise "
        "memory_limit"
    ]


# -- mount clashes ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mount_path", "message"),
    [
        (
            "/home/jovyan",
            "invalid mount path (from volume 'x') '/home/jovyan'. Allowed: a path nothing "
            "else is mounted at (the home volume is mounted there). Fix: mount it somewhere "
            "else",
        ),
        (
            "/home/jovyan/shared",
            "invalid mount path (from volume 'x') '/home/jovyan/shared'. Allowed: a path "
            "nothing else is mounted at (the shared data volume is mounted there). Fix: mount "
            "it somewhere else",
        ),
        (
            "/home",
            "invalid mount path (from volume 'x') '/home'. Allowed: a path that is not a "
            "parent of the home volume (/home/jovyan): its mount point would be made, as "
            "root, on the other volume. Fix: mount it beside or below /home/jovyan",
        ),
        (
            "/home/jovyan/datasets/more",
            "invalid mount path (from volume 'x') '/home/jovyan/datasets/more'. Allowed: a "
            "path outside the read-only mount /home/jovyan/datasets (volume 'datasets'): the "
            "container runtime cannot create a mount point in it, and the server would never "
            "start. Fix: mount it beside /home/jovyan/datasets",
        ),
    ],
)
def test_fails_at_synth_when_a_mount_clashes(mount_path: str, message: str) -> None:
    clash = UserVolume.empty_dir("x", mount_path=mount_path)
    chart, _ = _hub(SingleUser(volumes=[DATASETS]), volumes=[clash])
    assert validate(chart) == [f"test/hub/Profile-small: {message}"]


def test_fails_at_synth_when_a_file_lands_in_a_read_only_mount() -> None:
    files = {"x": ExtraFile("/home/jovyan/datasets/README.md", text="hi")}
    chart, _ = _hub(SingleUser(volumes=[DATASETS]), extra_files=files)
    assert validate(chart)[0].startswith(
        "test/hub/Profile-small: invalid mount path (from extra file 'x') "
        "'/home/jovyan/datasets/README.md'. Allowed: a path outside the read-only mount"
    )


def test_fails_at_synth_when_a_volume_takes_a_library_name() -> None:
    chart, _ = _hub(volumes=[UserVolume.empty_dir("home", mount_path="/x")])
    assert validate(chart) == [
        "test/hub/Profile-small: invalid volume name (from volume 'home') 'home'. Allowed: a "
        "name no other volume of the pod has ('home' is the home volume's). Fix: rename the "
        "volume"
    ]


def test_fails_when_a_volume_is_not_a_user_volume() -> None:
    with pytest.raises(ConfigurationError) as err:
        make_hub(singleuser=SingleUser(volumes=[{"name": "x", "emptyDir": {}}]))  # type: ignore[list-item]
    assert str(err.value) == (
        "test/hub: invalid SingleUser.volumes[0] {'name': 'x', 'emptyDir': {}}. Allowed: a "
        "UserVolume. Fix: build it with UserVolume.existing_claim(...), .nfs_export(...), "
        ".config_map(...), .secret(...) or .empty_dir(...)"
    )


@pytest.mark.parametrize(
    ("volume", "what"),
    [
        (UserVolume.empty_dir("x", mount_path="relative"), "mount_path"),
        (UserVolume.empty_dir("x", mount_path="/a/../b"), "mount_path"),
        (UserVolume.empty_dir("x", mount_path="/"), "mount_path"),
        (
            UserVolume.existing_claim("x", claim_name="c", mount_path="/x", sub_path="../y"),
            "sub_path",
        ),
        (
            UserVolume.existing_claim("x", claim_name="c", mount_path="/x", sub_path="{user}"),
            "sub_path",
        ),
        (UserVolume.existing_claim("x", claim_name="Bad_Name", mount_path="/x"), "claim_name"),
        (UserVolume.empty_dir("x", mount_path="/x", size_limit="lots"), "size_limit"),
        (
            UserVolume.secret("x", secret_name="s", mount_path="/x", items=[FileItem("k", "../k")]),
            "items[0].path",
        ),
        (
            UserVolume.secret("x", secret_name="s", mount_path="/x", default_mode=0o1777),
            "default_mode",
        ),
        (
            UserVolume.nfs_export("x", server="bad server", path="/e", mount_path="/x"),
            "nfs.server",
        ),
    ],
)
def test_fails_when_a_volume_field_is_invalid(volume: UserVolume, what: str) -> None:
    with pytest.raises(ConfigurationError) as err:
        _hub(volumes=[volume])
    assert f"invalid volumes[0] 'x' {what}" in str(err.value), str(err.value)


# -- extra files ------------------------------------------------------------------------


def test_extra_files_come_from_a_config_map_with_a_checksum_on_the_pod() -> None:
    def build(text: str):
        chart, hub = _hub(
            SingleUser(
                extra_files={
                    "motd": ExtraFile("/etc/motd", text=text, mode=0o444),
                    "lab": ExtraFile(
                        "/opt/conda/share/jupyter/lab/settings/overrides.json",
                        data={
                            "@jupyterlab/apputils-extension:themes": {"theme": "JupyterLab Dark"}
                        },
                    ),
                }
            )
        )
        hub.add_profile(
            "other",
            display_name="Other",
            extra_files={"motd": ExtraFile("/etc/motd", text="other")},
        )
        return synth(chart)

    objects = build("hello")
    config_map = find(objects, "ConfigMap", "singleuser-extra-files")
    assert config_map["data"] == {
        "_other_motd": "other",
        "lab": json.dumps(
            {"@jupyterlab/apputils-extension:themes": {"theme": "JupyterLab Dark"}}, indent=2
        )
        + "\n",
        "motd": "hello",
    }
    spawned = spawn(objects, "small", "bob")
    check_pod(spawned.pod)
    assert spawned.mounts["/etc/motd"] == {
        "mountPath": "/etc/motd",
        "name": "extra-files",
        "readOnly": True,
        "subPath": "motd",
    }
    assert spawned.volumes["extra-files"]["configMap"] == {
        "name": "singleuser-extra-files",
        "items": [
            {"key": "lab", "path": "lab"},
            {"key": "motd", "path": "motd", "mode": 0o444},
        ],
    }
    # The profile's file of the same name replaces the hub-wide one in that profile only.
    assert spawn(objects, "other", "bob").mounts["/etc/motd"]["subPath"] == "_other_motd"
    checksum = "jupyter-constructs.io/extra-files-checksum"
    before = spawned.pod["metadata"]["annotations"][checksum]
    # A changed file changes the checksum of the profiles that get it, and only theirs.
    changed = build("hello again")
    assert spawn(changed, "small", "bob").pod["metadata"]["annotations"][checksum] != before
    assert (
        spawn(changed, "other", "bob").pod["metadata"]["annotations"][checksum]
        == spawn(objects, "other", "bob").pod["metadata"]["annotations"][checksum]
    )


@pytest.mark.parametrize(
    ("extra_file", "message"),
    [
        (
            ExtraFile("/etc/x.yaml", data={"a": 1}),
            "invalid SingleUser.extra_files['x'] data '/etc/x.yaml'. Allowed: data= for a file "
            "ending in .json (it is written as JSON). Fix: render YAML or TOML yourself and "
            "pass it as text=",
        ),
        (
            ExtraFile("/etc/x"),
            "invalid SingleUser.extra_files['x'] '/etc/x'. Allowed: a file with exactly one of "
            "text= and data=. Fix: give the content as text='...' or as data={...} (written "
            "as JSON)",
        ),
    ],
)
def test_fails_when_an_extra_file_is_invalid(extra_file: ExtraFile, message: str) -> None:
    with pytest.raises(ConfigurationError) as err:
        make_hub(singleuser=SingleUser(extra_files={"x": extra_file}))
    assert str(err.value) == f"test/hub: {message}"


# -- hub-wide settings, profile overrides -----------------------------------------------


def test_hub_wide_settings_apply_to_every_profile_and_a_profile_overrides_them() -> None:
    chart, hub = _hub(
        SingleUser(
            env={"TEAM": "data", "TOKEN": SecretRef("team-token", "token")},
            default_url="/lab",
            cmd=["jupyterhub-singleuser", "--debug"],
            uid=1001,
            gid=100,
            fs_gid=101,
            image_pull_secrets=["registry"],
            extra_labels={"example.com/cost-center": "ml"},
            extra_annotations={"example.com/owner": "data-team"},
        )
    )
    hub.add_profile(
        "custom",
        display_name="Custom",
        env={"TEAM": "research"},
        default_url="/tree",
        uid=1002,
        image_pull_secrets=["research-registry"],
        extra_labels={"example.com/cost-center": "research"},
    )
    objects = synth(chart)
    small, custom = spawn(objects, "small", "bob"), spawn(objects, "custom", "bob")
    for spawned in (small, custom):
        check_pod(spawned.pod)
    assert small.env["TEAM"] == "data"
    assert small.env["TOKEN"] == {"secretKeyRef": {"key": "token", "name": "team-token"}}
    assert custom.env["TEAM"] == "research" and "TOKEN" in custom.env
    assert small.spawner.default_url == "/lab" and custom.spawner.default_url == "/tree"
    assert small.notebook["args"] == ["jupyterhub-singleuser", "--debug"]
    assert small.notebook["securityContext"]["runAsUser"] == 1001
    assert small.notebook["securityContext"]["runAsGroup"] == 100
    assert small.pod["spec"]["securityContext"]["fsGroup"] == 101
    assert custom.notebook["securityContext"]["runAsUser"] == 1002
    assert small.pod["spec"]["imagePullSecrets"] == [{"name": "registry"}]
    assert custom.pod["spec"]["imagePullSecrets"] == [
        {"name": "registry"},
        {"name": "research-registry"},
    ]
    assert small.pod["metadata"]["labels"]["example.com/cost-center"] == "ml"
    assert custom.pod["metadata"]["labels"]["example.com/cost-center"] == "research"
    assert small.pod["metadata"]["annotations"]["example.com/owner"] == "data-team"
    # Hub-wide scalars are KubeSpawner's class config; a profile's own are in its override.
    traits = spawner_traits(objects)
    assert (traits["uid"], traits["gid"], traits["fs_gid"]) == (1001, 100, 101)
    assert traits["default_url"] == "/lab"
    assert profile_override(objects, "custom")["uid"] == 1002
    assert "uid" not in profile_override(objects, "small")


def test_pre_stop_hooks_get_time_to_run_even_after_a_hub_restart() -> None:
    """KubeSpawner deletes a pod with ``delete_grace_period`` (default 1 s): a preStop hook
    is cut short without more. After a hub restart a server is stopped by a spawner whose
    profile is not loaded, so the hub-wide value is the longest any profile needs."""
    chart, hub = _hub(pre_stop_command=["sh", "-c", "sync"])
    hub.add_profile("slow", display_name="Slow", pre_stop_command=["sync"], stop_grace_period=120)
    hub.add_profile("plain", display_name="Plain")
    objects = synth(chart)
    small, slow, plain = (spawn(objects, s, "bob") for s in ("small", "slow", "plain"))
    assert small.notebook["lifecycle"] == {"preStop": {"exec": {"command": ["sh", "-c", "sync"]}}}
    assert small.spawner.delete_grace_period == 30
    assert slow.spawner.delete_grace_period == 120
    assert not plain.notebook.get("lifecycle")  # KubeSpawner renders an empty one
    assert spawn(objects, None, "bob").spawner.delete_grace_period == 120
    assert spawner_traits(objects)["delete_grace_period"] == 120


def test_extended_resources_are_requested_and_limited_by_name() -> None:
    # A MIG slice is bounded by its own quota item (issue 21): the quota must name it.
    chart, hub = make_hub(
        with_profile=False,
        shared_data=SharedData(),
        quota=NamespaceQuota(extended_resources={"nvidia.com/mig-1g.10gb": 4}),
    )
    hub.add_profile(
        "small",
        display_name="Small",
        default=True,
        extra_resources={
            "ephemeral-storage": "20Gi",
            "hugepages-2Mi": "1Gi",
            "nvidia.com/mig-1g.10gb": "1",
        },
    )
    spawned = spawn(synth(chart), "small", "bob")
    check_pod(spawned.pod)
    resources = spawned.notebook["resources"]
    for name, amount in (
        ("ephemeral-storage", "20Gi"),
        ("hugepages-2Mi", "1Gi"),
        ("nvidia.com/mig-1g.10gb", "1"),
    ):
        assert resources["requests"][name] == resources["limits"][name] == amount


@pytest.mark.parametrize(
    ("resources", "what"),
    [
        ({"nvidia.com/mig-1g.10gb": "0.5"}, "extra_resources['nvidia.com/mig-1g.10gb'] '0.5'"),
        ({"cpu": "1"}, "extra_resources name 'cpu'"),
        ({"gpu": "1"}, "extra_resources name 'gpu'"),
        ({"ephemeral-storage": "lots"}, "extra_resources['ephemeral-storage'] 'lots'"),
    ],
)
def test_fails_when_an_extended_resource_is_invalid(resources: dict, what: str) -> None:
    with pytest.raises(ConfigurationError) as err:
        _hub(extra_resources=resources)
    assert f"invalid {what}." in str(err.value), str(err.value)


def test_fails_when_a_gpu_is_asked_for_twice() -> None:
    with pytest.raises(ConfigurationError) as err:
        _hub(gpu=Gpu(), extra_resources={"nvidia.com/gpu": "1"})
    assert str(err.value) == (
        "test/hub/Profile-small: invalid extra_resources name 'nvidia.com/gpu'. Allowed: a "
        "resource gpu= does not already request. Fix: ask for nvidia.com/gpu once: with "
        "gpu=Gpu(count=...) or in extra_resources"
    )


def test_fails_when_an_env_value_has_a_stray_brace() -> None:
    """KubeSpawner formats env values for every user: ``{"a": 1}`` fails every spawn."""
    with pytest.raises(ConfigurationError) as err:
        _hub(env={"CONFIG": '{"a": 1}'})
    assert str(err.value).startswith(
        "test/hub/Profile-small: invalid env['CONFIG'] '{\"a\": 1}'. Allowed: text where "
        "KubeSpawner's template fields stand in braces"
    )
    chart, _ = _hub(env={"CONFIG": '{{"a": 1}}', "ME": "{username}"})
    env = spawn(synth(chart), "small", "bob").env
    assert env["CONFIG"] == '{"a": 1}' and env["ME"] == "bob"


# -- init and sidecar containers --------------------------------------------------------


def test_added_containers_are_restricted_resourced_and_pre_pulled() -> None:
    chart, hub = _hub(
        SingleUser(
            image_pull_secrets=["registry"],
            init_containers=[
                UserContainer(
                    "seed",
                    image=BUSYBOX,
                    command=["cp", "-rn", "/seed/.", "/home/jovyan/"],
                    mounts=[Mount("home", "/home/jovyan")],
                )
            ],
        ),
        gpu=Gpu(),
        extra_containers=[
            UserContainer(
                "agent",
                image="quay.io/example/agent:2.1",
                env={"TOKEN": SecretRef("agent", "token")},
                resources=Resources("100m", "1", "128Mi", "512Mi"),
            )
        ],
    )
    objects = synth(chart)
    spawned = spawn(objects, "small", "bob")
    check_pod(spawned.pod)
    (seed,) = spawned.pod["spec"]["initContainers"]
    agent = next(c for c in spawned.pod["spec"]["containers"] if c["name"] == "agent")
    for container in (seed, agent):
        assert container["securityContext"] == {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "runAsUser": 1000,
            "seccompProfile": {"type": "RuntimeDefault"},
        }
    assert seed["volumeMounts"] == [{"mountPath": "/home/jovyan", "name": "home"}]
    assert agent["resources"] == {
        "requests": {"cpu": "100m", "memory": "128Mi"},
        "limits": {"cpu": "1", "memory": "512Mi"},
    }
    assert agent["env"] == [
        {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"key": "token", "name": "agent"}}}
    ]
    # Pre-pulled on the profile's nodes (here GPU nodes), with the profile's pull secret.
    puller = pod_spec(find(objects, "DaemonSet", "image-puller"))
    assert [c["image"] for c in puller["initContainers"]] == [
        "quay.io/jupyterhub/k8s-singleuser-sample:4.4.0",
        BUSYBOX,
        "quay.io/example/agent:2.1",
    ]
    assert puller["imagePullSecrets"] == [{"name": "registry"}]
    assert puller["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
    # The sidecar counts against the quota: 1 CPU more limit per server.
    assert hub.profiles[0].usage().limits_cpu == 3


def test_fails_at_synth_when_a_container_mounts_a_volume_the_pod_lacks() -> None:
    chart, _ = _hub(
        init_containers=[UserContainer("seed", image=BUSYBOX, mounts=[Mount("datasets", "/data")])]
    )
    assert validate(chart)[0].startswith(
        "test/hub/Profile-small: invalid container 'seed' mount volume 'datasets'. Allowed: a "
        "volume of the pod: home, shared-data"
    )


@pytest.mark.parametrize(
    ("container", "message"),
    [
        (
            UserContainer("notebook", image=BUSYBOX),
            "invalid init_containers[0] name 'notebook'. Allowed: a name other than "
            "'notebook' (KubeSpawner's container)",
        ),
        (
            UserContainer("seed", image="busybox"),
            "invalid init_containers[0] 'seed' image 'busybox'. Allowed: an image reference "
            "pinned by tag or digest",
        ),
        (
            UserContainer("seed", image=BUSYBOX, command=["sh", "-c", "echo ${HOME}"]),
            "invalid init_containers[0] 'seed' command 'echo ${HOME}'. Allowed: text where "
            "KubeSpawner's template fields stand in braces",
        ),
    ],
)
def test_fails_when_a_container_is_invalid(container: UserContainer, message: str) -> None:
    with pytest.raises(ConfigurationError) as err:
        _hub(init_containers=[container])
    assert str(err.value).startswith(f"test/hub/Profile-small: {message}"), str(err.value)


def test_a_sidecar_that_does_not_fit_the_quota_fails_at_synth() -> None:
    chart, hub = make_hub(with_profile=False, quota=NamespaceQuota(limits_cpu="6"))
    hub.add_profile(
        "small",
        display_name="Small",
        default=True,
        extra_containers=[
            UserContainer("agent", image=BUSYBOX, resources=Resources("1", "2", "64Mi", "64Mi"))
        ],
    )
    # The hub (2) and proxy (1) leave 3 CPU of limits; the server takes 2 + 2.
    assert "its CPU limit 4 exceeds what the quota leaves (3) by 1" in validate(chart)[0]


# -- the pre-puller ---------------------------------------------------------------------


def test_image_puller_options() -> None:
    chart, hub = make_hub(
        with_profile=False,
        image_puller=ImagePullerOptions(
            extra_images=["quay.io/example/tools:1.0"],
            pull_secrets=["tools-registry"],
            resources=Resources("10m", "50m", "16Mi", "32Mi"),
            extra_tolerations=[Toleration("dedicated", effect="NoSchedule")],
        ),
    )
    hub.add_profile("small", display_name="Small", default=True, image_pull_secrets=["registry"])
    hub.add_profile("gpu", display_name="GPU", gpu=Gpu())
    objects = synth(chart)
    cpu = pod_spec(find(objects, "DaemonSet", "image-puller"))
    gpu = pod_spec(find(objects, "DaemonSet", "image-puller-gpu"))
    for spec in (cpu, gpu):
        assert "quay.io/example/tools:1.0" in [c["image"] for c in spec["initContainers"]]
        assert {"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"} in spec[
            "tolerations"
        ]
        for container in spec["initContainers"] + spec["containers"]:
            assert container["resources"] == {
                "requests": {"cpu": "10m", "memory": "16Mi"},
                "limits": {"cpu": "50m", "memory": "32Mi"},
            }
    # Each puller has the pull secrets of the images it pulls, and only those.
    assert cpu["imagePullSecrets"] == [{"name": "tools-registry"}, {"name": "registry"}]
    assert gpu["imagePullSecrets"] == [{"name": "tools-registry"}]


def test_image_puller_can_be_switched_off() -> None:
    chart, _ = make_hub(image_puller=False)
    assert not [o for o in synth(chart) if o["kind"] == "DaemonSet"]


def test_fails_when_a_puller_image_is_not_pinned() -> None:
    with pytest.raises(ConfigurationError, match=r"invalid ImagePullerOptions\.extra_images"):
        make_hub(image_puller=ImagePullerOptions(extra_images=["quay.io/example/tools"]))


def test_hub_wide_settings_are_in_the_rendered_json_exactly_once() -> None:
    """The file a reviewer reads: profile entries are complete, nothing is duplicated."""
    chart, _ = _hub(SingleUser(default_url="/lab"))
    text = find(synth(chart), "ConfigMap", "hub-config")["data"]["hub_config.json"]
    assert json.loads(text)["traits"]["KubeSpawner"]["default_url"] == "/lab"
    assert text.count('"default_url"') == 1


def test_fails_at_synth_when_a_hub_wide_variable_is_one_a_binding_sets() -> None:
    chart, hub = _hub(SingleUser(env={"TRINO_HOST": "elsewhere"}))
    hub.add_binding(
        PlatformServiceBinding.trino(
            chart, "trino", host="trino.data", port=8080, catalog="x", user="{username}"
        )
    )
    assert validate(chart) == [
        "test/hub/Profile-small: invalid env 'TRINO_HOST'. Allowed: a name no binding sets. "
        "Fix: rename the variable or drop it from env= (here or in SingleUser)"
    ]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"image_pull_secrets": "registry"},
            "invalid image_pull_secrets 'registry'. Allowed: a list. Fix: pass "
            "image_pull_secrets=[...], even for one",
        ),
        (
            {"volumes": DATASETS},
            "invalid volumes",
        ),
        ({"env": "A=1"}, "invalid env 'A=1'. Allowed: a mapping. Fix: pass env={...}"),
        (
            {"post_start_command": "echo hi"},
            "invalid post_start_command 'echo hi'. Allowed: a non-empty sequence of strings, "
            "one per argument",
        ),
        ({"default_url": "lab"}, "invalid default_url 'lab'. Allowed: a path on the user's"),
        ({"uid": 0}, "invalid uid 0. Allowed: a whole number from 1"),
        ({"stop_grace_period": 0}, "invalid stop_grace_period 0. Allowed: seconds from 1"),
    ],
)
def test_fails_when_a_setting_has_the_wrong_shape(options: dict, message: str) -> None:
    """A string where a list belongs would otherwise be split into characters."""
    with pytest.raises(ConfigurationError) as err:
        _hub(**options)
    assert str(err.value).startswith(f"test/hub/Profile-small: {message}"), str(err.value)

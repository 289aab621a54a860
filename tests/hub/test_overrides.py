"""``extra_overrides`` merge with what the library renders and never drop a policy label.

The issue's report: ``extra_overrides={"extra_labels": {"cost-center": "ml"}}`` replaced
the library's labels, so the pod left its NetworkPolicies (no internet, no Ray) without
an error. KubeSpawner merges an override mapping into the hub-wide value and deletes keys
whose value is ``None``; lists it replaces. Here every KubeSpawner trait that takes a
mapping or a list (read from the real class, so a new one in an upgrade fails until it is
listed) is given through ``extra_overrides``: it is refused with a ConfigurationError, or
the real KubeSpawner renders a pod that still carries every label the NetworkPolicies
select by.
"""

from __future__ import annotations

from typing import Any

import pytest
from kubespawner import KubeSpawner
from traitlets import Container, Dict, Union

from jupyter_constructs import ConfigurationError
from jupyter_constructs.hub.singleuser import KUBESPAWNER_COMMON_LABELS
from tests.helpers import make_hub, synth, validate, write_config_dir
from tests.hub.user_pods import POLICY_LABELS, check_pod, profile_override, spawn
from tests.netpol import Evaluator, address, pod
from tests.real_hub import load_config, mock_kubespawner, pod_manifest

BUSYBOX = "docker.io/library/busybox:1.36"
TERM = {"matchExpressions": [{"key": "pool", "operator": "In", "values": ["users"]}]}
AFFINITY = {
    "labelSelector": {"matchLabels": {"team": "a"}},
    "topologyKey": "kubernetes.io/hostname",
}

#: A representative value of every KubeSpawner trait that takes a mapping or a list.
SAMPLES: dict[str, Any] = {
    "additional_profile_form_template_paths": ["/etc/jupyterhub/templates"],
    "apply_user_options": {"image": "image"},
    "args": ["--debug"],
    "cmd": ["jupyterhub-singleuser"],
    "common_labels": {"example.com/team": "a"},
    "container_security_context": {"readOnlyRootFilesystem": True},
    "env_keep": ["LANG"],
    "environment": {"EXTRA": "1"},
    "extra_annotations": {"example.com/owner": "a"},
    "extra_container_config": {"workingDir": "/home/jovyan"},
    "extra_containers": [{"name": "side", "image": BUSYBOX, "command": ["sleep", "1d"]}],
    "extra_labels": {"example.com/cost-center": "ml"},
    "extra_pod_config": {"terminationGracePeriodSeconds": 60},
    "extra_resource_guarantees": {"example.com/fpga": "1"},
    "extra_resource_limits": {"example.com/fpga": "1"},
    "group_overrides": {"admins": {"groups": ["admins"], "spawner_override": {}}},
    "image_pull_secrets": ["registry"],
    "init_containers": [{"name": "init", "image": BUSYBOX, "command": ["true"]}],
    "lifecycle_hooks": {"preStop": {"exec": {"command": ["true"]}}},
    "node_affinity_preferred": [{"weight": 1, "preference": TERM}],
    "node_affinity_required": [TERM],
    "node_selector": {"pool": "users"},
    "oauth_client_allowed_scopes": ["read:users:name"],
    "oauth_roles": ["user"],
    "pod_affinity_preferred": [{"weight": 1, "podAffinityTerm": AFFINITY}],
    "pod_affinity_required": [AFFINITY],
    "pod_anti_affinity_preferred": [{"weight": 1, "podAffinityTerm": AFFINITY}],
    "pod_anti_affinity_required": [AFFINITY],
    "pod_security_context": {"supplementalGroups": [200]},
    "profile_list": [],
    "server_token_scopes": ["users:activity!user"],
    "ssl_alt_names": ["DNS:server.example.internal"],
    "storage_access_modes": ["ReadWriteMany"],
    "storage_extra_annotations": {"example.com/owner": "a"},
    "storage_extra_labels": {"example.com/team": "a"},
    "storage_selector": {"matchLabels": {"tier": "fast"}},
    "supplemental_gids": [200],
    "tolerations": [{"key": "pool", "operator": "Exists"}],
    "user_namespace_annotations": {"example.com/owner": "a"},
    "user_namespace_labels": {"example.com/team": "a"},
    "volume_mounts": [{"name": "home", "mountPath": "/srv/home"}],
    "volumes": [{"name": "scratch", "emptyDir": {}}],
}
#: Values that try to take a policy label away or change it.
HOSTILE: list[tuple[str, Any]] = [
    *[("extra_labels", {key: "other"}) for key in POLICY_LABELS],
    *[("extra_labels", {key: None}) for key in POLICY_LABELS],
    ("extra_labels", {"jupyter-constructs.io/profile": "gpu"}),
    ("extra_labels", {"jupyter-constructs.io/profile": None}),
    ("common_labels", {"app.kubernetes.io/name": "other"}),
    ("common_labels", {"app.kubernetes.io/name": None}),
    ("component_label", "other"),
    ("namespace", "elsewhere"),
    ("enable_user_namespaces", True),
]


def _collection_traits() -> set[str]:
    names = set()
    for name, trait in KubeSpawner.class_traits(config=True).items():
        types = trait.trait_types if isinstance(trait, Union) else [trait]
        if any(isinstance(t, Dict | Container) for t in types):
            names.add(name)
    return names


def _profile(key: str, value: Any) -> list[dict[str, Any]]:
    """The objects of a hub whose profile has ``extra_overrides={key: value}``.

    Raises:
        ConfigurationError: The override is refused, when the profile is built or at synth.
    """
    chart, hub = make_hub(with_profile=False)
    hub.add_profile("small", display_name="Small", default=True, extra_overrides={key: value})
    errors = validate(chart)
    if errors:
        raise ConfigurationError("\n".join(errors))
    return synth(chart)


def _labels_kept(objects: list[dict[str, Any]]) -> dict[str, Any]:
    spawned = spawn(objects, "small", "bob")
    labels = spawned.pod["metadata"]["labels"]
    for key, value in {**POLICY_LABELS, "jupyter-constructs.io/profile": "small"}.items():
        assert labels.get(key) == value, (key, labels)
    return spawned.pod


def test_samples_cover_every_mapping_and_list_trait_of_the_real_kubespawner() -> None:
    assert set(SAMPLES) == _collection_traits()


def test_kubespawner_common_labels_default_is_what_the_library_assumes() -> None:
    assert KubeSpawner.class_traits()["common_labels"].default() == KUBESPAWNER_COMMON_LABELS


@pytest.mark.parametrize("key", sorted(SAMPLES))
def test_every_collection_override_is_refused_or_keeps_the_policy_labels(key: str) -> None:
    try:
        objects = _profile(key, SAMPLES[key])
    except ConfigurationError as err:
        assert "invalid extra_overrides" in str(err), str(err)
        return
    pod_manifest = _labels_kept(objects)
    if key not in ("pod_affinity_required",):  # that sample is only a placement example
        check_pod(pod_manifest)


@pytest.mark.parametrize(("key", "value"), HOSTILE, ids=[f"{k}={v}" for k, v in HOSTILE])
def test_an_override_that_would_drop_or_change_a_policy_label_is_refused(
    key: str, value: Any
) -> None:
    with pytest.raises(ConfigurationError) as err:
        _profile(key, value)
    assert "invalid extra_overrides" in str(err.value), str(err.value)


def test_the_reported_cost_center_label_is_added_and_the_pod_keeps_its_network() -> None:
    """The issue's example: the pod keeps its labels, so its policies still select it."""
    chart, hub = make_hub(with_profile=False)
    hub.add_profile(
        "small",
        display_name="Small",
        default=True,
        internet_access=True,
        extra_overrides={"extra_labels": {"cost-center": "ml"}},
    )
    objects = synth(chart)
    pod_manifest = _labels_kept(objects)
    assert pod_manifest["metadata"]["labels"]["cost-center"] == "ml"
    evaluator = Evaluator.from_objects(objects)
    user = pod("user", "10.244.1.5", "jupyter", pod_manifest["metadata"]["labels"])
    hub_pod = pod(
        "hub", "10.244.0.10", "jupyter", {**POLICY_LABELS, "app.kubernetes.io/component": "hub"}
    )
    assert evaluator.allows(user, hub_pod, 8081)
    assert evaluator.allows(hub_pod, user, 8888)
    assert evaluator.allows(user, address("internet", "8.8.8.8"), 443)


def test_mappings_merge_with_what_the_library_sets() -> None:
    chart, hub = make_hub(with_profile=False)
    hub.add_profile(
        "small",
        display_name="Small",
        default=True,
        env={"TEAM": "data"},
        extra_overrides={
            "environment": {"EXTRA": "1"},
            "extra_annotations": {"example.com/owner": "a"},
            "common_labels": {"example.com/team": "a"},
        },
    )
    objects = synth(chart)
    override = profile_override(objects, "small")
    assert override["environment"] == {
        "EXTRA": "1",
        "NVIDIA_VISIBLE_DEVICES": "void",
        "TEAM": "data",
    }
    # KubeSpawner merges common_labels into its own default: only the addition is rendered.
    assert override["common_labels"] == {"example.com/team": "a"}
    spawned = spawn(objects, "small", "bob")
    assert spawned.env["TEAM"] == "data" and spawned.env["EXTRA"] == "1"
    labels = spawned.pod["metadata"]["labels"]
    assert labels["example.com/team"] == "a" and labels["app"] == "jupyterhub"


def test_fails_at_synth_when_an_override_replaces_a_value_the_library_set() -> None:
    chart, hub = make_hub(with_profile=False)
    hub.add_profile(
        "small",
        display_name="Small",
        default=True,
        env={"TEAM": "data"},
        extra_overrides={"environment": {"TEAM": "research"}},
    )
    assert validate(chart) == [
        "test/hub/Profile-small: invalid extra_overrides['environment'] key 'TEAM'. Allowed: "
        "a key the library does not set (it sets 'TEAM' to 'data'); overrides add to what "
        "the library renders, they do not replace it. Fix: use the typed parameter that sets "
        "it, or another key"
    ]


def test_lists_merge_item_by_item() -> None:
    chart, hub = make_hub(with_profile=False)
    hub.add_profile(
        "small",
        display_name="Small",
        default=True,
        extra_overrides={
            "volumes": [{"name": "scratch", "emptyDir": {}}],
            "volume_mounts": [{"name": "scratch", "mountPath": "/scratch"}],
            "init_containers": [{"name": "init", "image": BUSYBOX, "command": ["true"]}],
        },
    )
    objects = synth(chart)
    spawned = spawn(objects, "small", "bob")
    check_pod(spawned.pod)
    assert {"home", "scratch"} <= set(spawned.volumes)
    assert {"/home/jovyan", "/scratch"} <= set(spawned.mounts)
    (init,) = spawned.pod["spec"]["initContainers"]
    # A raw container gets the restricted security context (core.security.secure_container).
    assert init["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "runAsNonRoot": True,
        "runAsUser": 1000,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    # ... and is pre-pulled on the profile's nodes.
    puller = next(o for o in objects if o["kind"] == "DaemonSet")
    images = [c["image"] for c in puller["spec"]["template"]["spec"]["initContainers"]]
    assert BUSYBOX in images


@pytest.mark.parametrize(
    ("overrides", "start"),
    [
        (
            {"volumes": [{"name": "home", "emptyDir": {}}]},
            "invalid volume name (from extra_overrides['volumes'][0]) 'home'",
        ),
        (
            {"volume_mounts": [{"name": "home", "mountPath": "/home/jovyan"}]},
            "invalid mount path (from extra_overrides['volume_mounts'][0]) '/home/jovyan'",
        ),
        (
            {"volumes": [{"name": "host", "hostPath": {"path": "/"}}]},
            "invalid volume 'host' (from extra_overrides['volumes'][0]) ['hostPath']",
        ),
        (
            {
                "init_containers": [
                    {"name": "x", "image": BUSYBOX, "securityContext": {"privileged": True}}
                ]
            },
            "invalid extra_overrides['init_containers'][0] securityContext {'privileged': True}",
        ),
        (
            {"init_containers": [{"name": "x", "image": "busybox"}]},
            "invalid extra_overrides['init_containers'][0] image 'busybox'",
        ),
    ],
)
def test_fails_at_synth_when_a_list_override_clashes(overrides: dict, start: str) -> None:
    chart, hub = make_hub(with_profile=False)
    hub.add_profile("small", display_name="Small", default=True, extra_overrides=overrides)
    (error,) = validate(chart)
    assert error.startswith(f"test/hub/Profile-small: {start}"), error


def test_one_profiles_labels_never_reach_another_profiles_pods(tmp_path: Any) -> None:
    """KubeSpawner merges a profile's mappings into the spawner's own values in place; the
    hub's config is shared by every spawner, so a leak would give later users the labels
    (or volumes) of an earlier user's profile."""
    chart, hub = make_hub(with_profile=False)
    hub.add_profile(
        "small",
        display_name="Small",
        default=True,
        extra_labels={"example.com/cost-center": "ml"},
        extra_overrides={"volumes": [{"name": "scratch", "emptyDir": {}}]},
    )
    hub.add_profile("plain", display_name="Plain")
    config = load_config(write_config_dir(synth(chart), tmp_path))
    with mock_kubespawner(config, "alice") as spawner:
        first = pod_manifest(spawner, "small")
    with mock_kubespawner(config, "bob") as spawner:
        second = pod_manifest(spawner, "plain")
    assert first["metadata"]["labels"]["example.com/cost-center"] == "ml"
    assert "example.com/cost-center" not in second["metadata"]["labels"]
    assert second["metadata"]["labels"]["jupyter-constructs.io/profile"] == "plain"
    assert "scratch" not in {v["name"] for v in second["spec"]["volumes"]}

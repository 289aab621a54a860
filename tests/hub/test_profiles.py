"""NotebookProfile: typed profile_list entries, proven with the real KubeSpawner."""

from __future__ import annotations

import json

import kubernetes_validate
import pytest
from kubespawner import KubeSpawner

from jupyter_constructs import (
    ConfigurationError,
    ContainerLimits,
    Gpu,
    NamespaceQuota,
    NotebookProfile,
    SharedData,
    Toleration,
)
from jupyter_constructs.hub.kubespawner_traits import KUBESPAWNER_TRAITS
from tests.core.test_manifests import NEWEST_KUBERNETES
from tests.helpers import find, make_hub, pod_spec, synth, validate, write_config_dir
from tests.real_hub import load_config, mock_kubespawner, pod_manifest, unknown_override_keys

GIB = 2**30


def _reference_hub(**overrides):
    chart, hub = make_hub(with_profile=False, shared_data=SharedData(), **overrides)
    hub.add_profile(
        "small",
        display_name="Small",
        default=True,
        cpu_request="500m",
        cpu_limit="1",
        memory_request="1Gi",
        memory_limit="2Gi",
    )
    hub.add_profile(
        "large",
        display_name="Large",
        cpu_request="2",
        cpu_limit="4",
        memory_request="8Gi",
        memory_limit="16Gi",
        env={"TEAM": "data"},
        post_start_command=["sh", "-c", "echo ready"],
        start_timeout=600,
    )
    hub.add_profile(
        "gpu",
        display_name="GPU",
        image="quay.io/jupyter/pytorch-notebook:cuda12-2025-01-13",
        cpu_request="4",
        cpu_limit="8",
        memory_request="16Gi",
        memory_limit="32Gi",
        gpu=Gpu(count=2),
        shared_data_read_only=True,
        extra_overrides={"priority_class_name": "gpu-users"},
    )
    return chart, hub


def _profile_list(chart):
    settings = json.loads(find(synth(chart), "ConfigMap", "hub-config")["data"]["hub_config.json"])
    return settings["traits"]["KubeSpawner"]["profile_list"]


def test_snapshot(snapshot):
    chart, _ = _reference_hub()
    assert _profile_list(chart) == snapshot


def test_trait_list_matches_the_real_kubespawner():
    assert set(KubeSpawner.class_trait_names(config=True)) == KUBESPAWNER_TRAITS


def test_profiles_render_in_order_with_one_default():
    chart, _ = _reference_hub()
    profiles = _profile_list(chart)
    assert [p["slug"] for p in profiles] == ["small", "large", "gpu"]
    assert [p.get("default", False) for p in profiles] == [True, False, False]


def test_quantities_are_converted_to_kubespawner_units():
    chart, _ = _reference_hub()
    large = _profile_list(chart)[1]["kubespawner_override"]
    assert large["cpu_guarantee"] == 2.0 and large["cpu_limit"] == 4.0
    assert large["mem_guarantee"] == 8 * GIB and large["mem_limit"] == 16 * GIB
    small = _profile_list(chart)[0]["kubespawner_override"]
    assert small["cpu_guarantee"] == 0.5


def test_every_override_key_is_a_real_kubespawner_trait(tmp_path):
    chart, _ = _reference_hub()
    config = load_config(write_config_dir(synth(chart), tmp_path))
    assert unknown_override_keys(config) == []
    config.KubeSpawner.profile_list[0]["kubespawner_override"]["cpu_guarentee"] = 1
    assert unknown_override_keys(config) == ["small: cpu_guarentee"]


@pytest.mark.parametrize("slug", ["small", "large", "gpu"])
def test_real_kubespawner_builds_the_profile_pod(tmp_path, slug):
    chart, hub = _reference_hub()
    config = load_config(write_config_dir(synth(chart), tmp_path))
    with mock_kubespawner(config) as spawner:
        pod = pod_manifest(spawner, slug)
    profile = next(p for p in hub.profiles if p.slug == slug)
    container = pod["spec"]["containers"][0]
    resources = container["resources"]
    assert container["image"] == (profile.image or hub.notebook_image)
    # KubeSpawner writes memory in bytes and CPU as a float; compare as numbers.
    usage = profile.usage()
    assert float(resources["requests"]["cpu"]) == float(usage.requests_cpu)
    assert float(resources["limits"]["cpu"]) == float(usage.limits_cpu)
    assert int(resources["requests"]["memory"]) == usage.requests_memory
    assert int(resources["limits"]["memory"]) == usage.limits_memory
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    assert volumes["home"]["persistentVolumeClaim"]["claimName"] == spawner.pvc_name
    assert spawner.pvc_name.startswith("claim-alice")
    assert volumes["shared-data"]["persistentVolumeClaim"]["claimName"] == "shared-data"
    mounts = {m["name"]: m for m in container["volumeMounts"]}
    assert mounts["home"]["mountPath"] == "/home/jovyan"
    assert mounts["shared-data"]["readOnly"] is (slug == "gpu")
    assert pod["metadata"]["labels"]["jupyter-constructs.io/profile"] == slug
    ctx = container["securityContext"]
    assert ctx["runAsUser"] == 1000 and ctx["runAsNonRoot"] is True
    assert ctx["allowPrivilegeEscalation"] is False and ctx["capabilities"] == {"drop": ["ALL"]}
    assert pod["spec"]["securityContext"]["fsGroup"] == 100
    if slug == "gpu":
        assert resources["limits"]["nvidia.com/gpu"] == "2"
        assert resources["requests"]["nvidia.com/gpu"] == "2"
        assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in (
            pod["spec"]["tolerations"]
        )
        assert pod["spec"]["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
        assert pod["spec"]["priorityClassName"] == "gpu-users"
    else:
        assert "nvidia.com/gpu" not in resources["limits"]
        assert not pod["spec"].get("nodeSelector")
    if slug == "large":
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert env["TEAM"] == "data"
        assert container["lifecycle"]["postStart"]["exec"]["command"] == ["sh", "-c", "echo ready"]
        assert spawner.start_timeout == 600
    for version in ("1.27", NEWEST_KUBERNETES):
        kubernetes_validate.validate(pod, version, strict=True)


def test_image_puller_pulls_gpu_images_only_on_gpu_nodes():
    chart, _ = _reference_hub()
    objects = synth(chart)
    cpu = pod_spec(find(objects, "DaemonSet", "image-puller"))
    gpu = pod_spec(find(objects, "DaemonSet", "image-puller-gpu"))
    assert [c["image"] for c in cpu["initContainers"]] == [
        "quay.io/jupyterhub/k8s-singleuser-sample:4.4.0"
    ]
    assert [c["image"] for c in gpu["initContainers"]] == [
        "quay.io/jupyter/pytorch-notebook:cuda12-2025-01-13"
    ]
    assert gpu["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
    assert "nodeSelector" not in cpu and "tolerations" not in cpu
    for spec in (cpu, gpu):
        assert spec["automountServiceAccountToken"] is False
        for container in spec["initContainers"] + spec["containers"]:
            assert container["securityContext"]["runAsNonRoot"] is True
            assert container["resources"]["limits"] == {"cpu": "10m", "memory": "16Mi"}
    assert not [o for o in objects if "helm.sh/hook" in o["metadata"].get("annotations", {})]


def test_profile_added_after_others_still_reaches_config_and_puller():
    chart, hub = _reference_hub()
    hub.add_profile("late", display_name="Late", image="quay.io/jupyter/r-notebook:2025-01-13")
    objects = synth(chart)
    assert [p["slug"] for p in _profile_list(chart)][-1] == "late"
    images = [
        c["image"] for c in pod_spec(find(objects, "DaemonSet", "image-puller"))["initContainers"]
    ]
    assert "quay.io/jupyter/r-notebook:2025-01-13" in images


def test_capacity_summary():
    _, hub = _reference_hub()
    summary = hub.capacity_summary()
    # limits.cpu 400 minus hub (2) and proxy (1) = 397; small has limit 1 CPU.
    assert summary["small"] == (248, "pods")
    assert summary["large"] == (99, "limits.cpu")
    assert summary["gpu"] == (4, "requests.nvidia.com/gpu")
    assert "gpu: 4 (limited by requests.nvidia.com/gpu)" in hub.format_capacity()


def test_culler_service_and_role_are_scoped():
    chart, _ = make_hub()
    settings = json.loads(find(synth(chart), "ConfigMap", "hub-config")["data"]["hub_config.json"])
    roles = settings["traits"]["JupyterHub"]["load_roles"]
    assert roles == [
        {
            "name": "idle-culler-service",
            "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
            "services": ["idle-culler"],
        }
    ]


# -- bad input ------------------------------------------------------------------------


def _profile_error(**options) -> str:
    _, hub = make_hub(with_profile=False)
    options.setdefault("display_name", "X")
    with pytest.raises(ConfigurationError) as err:
        hub.add_profile(options.pop("slug", "x"), **options)
    return str(err.value)


@pytest.mark.parametrize("memory", ["8 GB", "lots", "0Gi", "-1Gi"])
def test_fails_when_memory_is_not_a_quantity(memory):
    assert _profile_error(memory_request=memory) == (
        f"test/hub/Profile-x: invalid memory_request {memory!r}. Allowed: a positive "
        "Kubernetes memory quantity with a binary ('512Mi', '8Gi') or decimal ('8G') suffix "
        "and no space. Fix: write the memory like '8Gi'"
    )


@pytest.mark.parametrize("cpu", ["0", "-1", "0m", "two"])
def test_fails_when_cpu_is_zero_negative_or_not_a_quantity(cpu):
    assert _profile_error(cpu_request=cpu) == (
        f"test/hub/Profile-x: invalid cpu_request {cpu!r}. Allowed: a positive Kubernetes "
        "CPU quantity: cores ('2', '0.5') or millicores ('500m'). Fix: write the CPU like "
        "'500m' or '2'"
    )


def test_fails_when_limit_is_below_request():
    assert _profile_error(memory_request="8Gi", memory_limit="4Gi") == (
        "test/hub/Profile-x: invalid memory_limit '4Gi'. Allowed: at least the memory request "
        "'8Gi'. Fix: raise the limit or lower the request"
    )
    assert "invalid cpu_limit '1'" in _profile_error(cpu_request="2", cpu_limit="1")


@pytest.mark.parametrize("count", [0.5, 0, -1])
def test_fails_when_gpu_count_is_not_a_whole_positive_number(count):
    assert _profile_error(gpu=Gpu(count=count)) == (
        f"test/hub/Profile-x: invalid gpu.count {count!r}. Allowed: an integer at least 1 and "
        "at most 64 (not a bool or a string). Fix: GPUs cannot be shared by fractions here; "
        "use Gpu(count=1)"
    )


def test_fails_when_slug_is_duplicated():
    _, hub = make_hub()
    with pytest.raises(ConfigurationError) as err:
        hub.add_profile("other", display_name="Other")
        hub.attach_profile(NotebookProfile(hub, "dup", slug="small", display_name="Again"))
    assert str(err.value) == (
        "test/hub: invalid profile slug 'small'. Allowed: a slug not used by another profile. "
        "Fix: give each profile its own slug"
    )


def test_fails_at_synth_when_two_profiles_are_default():
    chart, hub = make_hub()
    hub.add_profile("second", display_name="Second", default=True)
    assert validate(chart) == [
        "test/hub: invalid default profiles ['small', 'second']. Allowed: exactly one profile "
        "with default=True. Fix: mark the profile most users need as default=True, and only "
        "that one"
    ]


def test_fails_at_synth_when_no_profile_is_default():
    chart, hub = make_hub(with_profile=False)
    hub.add_profile("a", display_name="A")
    assert validate(chart) == [
        "test/hub: invalid default profiles []. Allowed: exactly one profile with "
        "default=True. Fix: mark the profile most users need as default=True, and only that one"
    ]


def test_fails_at_synth_when_there_is_no_profile():
    chart, _ = make_hub(with_profile=False)
    assert validate(chart)[0].startswith("test/hub: invalid profiles []. Allowed: at least")


@pytest.mark.parametrize(
    "image", ["quay.io/jupyter/scipy-notebook:latest", "quay.io/jupyter/scipy-notebook"]
)
def test_fails_when_image_is_latest_or_untagged(image):
    assert _profile_error(image=image).startswith(
        f"test/hub/Profile-x: invalid image {image!r}. Allowed: an image reference pinned"
    )


@pytest.mark.parametrize("slug", ["Small", "gpu_large", "-x", ""])
def test_fails_when_slug_is_not_a_dns_label(slug):
    assert _profile_error(slug=slug) == (
        f"test/hub/Profile-{slug}: invalid profile slug {slug!r}. Allowed: a DNS-1123 label of "
        "at most 50 characters: lowercase letters, digits and '-', starting and ending with a "
        "letter or digit. Fix: use a short name like 'small' or 'gpu-a100'"
    )


def test_fails_when_override_key_is_not_a_kubespawner_trait():
    assert _profile_error(extra_overrides={"cpu_guarentee": 1}) == (
        "test/hub/Profile-x: invalid extra_overrides key 'cpu_guarentee'. Allowed: a "
        "configurable trait of KubeSpawner (see its docs). Fix: check the spelling against "
        "KubeSpawner's configuration reference"
    )


def test_fails_when_override_key_has_a_typed_parameter():
    assert _profile_error(extra_overrides={"mem_limit": "1G"}) == (
        "test/hub/Profile-x: invalid extra_overrides key 'mem_limit'. Allowed: KubeSpawner "
        "options without a typed parameter. Fix: use the typed NotebookProfile parameter "
        "memory_limit for 'mem_limit'"
    )


def test_fails_when_toleration_operator_is_unknown():
    assert "invalid tolerations[0].operator 'Is'" in _profile_error(
        tolerations=[Toleration("dedicated", operator="Is")]
    )


def test_fails_at_synth_when_a_profile_exceeds_the_limit_range():
    chart, hub = make_hub(container_limits=ContainerLimits(max_memory="12Gi"))
    hub.add_profile("big", display_name="Big", memory_request="8Gi", memory_limit="16Gi")
    assert validate(chart) == [
        "test/hub/Profile-big: invalid profile for the LimitRange 'big'. Allowed: containers "
        "within ContainerLimits (its memory limit 16Gi exceeds the LimitRange maximum 12Gi by "
        "4Gi). Fix: lower the profile's limits or raise ContainerLimits"
    ]


def test_fails_at_synth_when_a_profile_cannot_fit_in_the_quota():
    chart, hub = make_hub(quota=NamespaceQuota(requests_memory="10Gi", gpus=1))
    hub.add_profile("big", display_name="Big", memory_request="12Gi", memory_limit="16Gi")
    # The hub (1Gi) and proxy (512Mi) already take 1.5Gi of the 10Gi.
    assert validate(chart) == [
        "test/hub/Profile-big: invalid profile for the namespace quota 'big'. Allowed: one "
        "server must fit in NamespaceQuota (its memory request 12Gi exceeds what the quota "
        "leaves (8.5Gi) by 3.5Gi). Fix: lower the profile's requests/limits or raise "
        "NamespaceQuota"
    ]


def test_fails_at_synth_when_gpus_exceed_the_quota():
    chart, hub = make_hub(quota=NamespaceQuota(gpus=1))
    hub.add_profile("gpu", display_name="GPU", gpu=Gpu(count=2))
    assert (
        "it asks for 2 nvidia.com/gpu, 1 more than the quota's 1 (requests.nvidia.com/gpu)"
        in validate(chart)[0]
    )


@pytest.mark.parametrize(
    "key", ["server_token_scopes", "oauth_client_allowed_scopes", "oauth_roles", "options_form"]
)
def test_fails_when_override_key_is_read_before_the_profile_applies(key):
    """Found by the simulated month (issue 21), the start_timeout report's kind: JupyterHub
    makes the server's token and OAuth client, and shows the form, before KubeSpawner
    applies the chosen profile, so a profile's value was accepted and silently unused."""
    assert _profile_error(extra_overrides={key: ["x"]}).startswith(
        f"test/hub/Profile-x: invalid extra_overrides key {key!r}. Allowed: a KubeSpawner "
        "option JupyterHub reads after the profile is applied ("
    )


def test_the_keys_refused_as_read_before_the_profile_are_read_before_it():
    """The refusal above stays true of the pinned JupyterHub: in ``User.spawn`` the token
    scopes and the OAuth client are read before ``_run_apply_user_options`` loads the
    profile (a JupyterHub that moved them after it would make the refusal needless)."""
    import inspect

    from jupyterhub.user import User

    source = inspect.getsource(User.spawn)
    applied = source.index("_run_apply_user_options(")
    for read in (
        "spawner.server_token_scopes",
        "spawner._get_oauth_client_allowed_scopes()",
        "spawner.oauth_client_id",
    ):
        assert source.index(read) < applied, read


def test_fails_when_a_profile_moves_the_server_port():
    """The NetworkPolicies admit the proxy and hub on 8888 only: a profile's ``port`` left
    its servers unreachable on a cluster that enforces them."""
    assert "invalid extra_overrides key 'port'" in _profile_error(extra_overrides={"port": 9999})

"""Every GPU resource by its name, and profiles without a GPU kept away from GPUs (issue 21).

Issue 21's report: ``Gpu(resource_name="nvidia.com/mig-1g.10gb")`` asked for the MIG
resource while the ResourceQuota only limited ``requests.nvidia.com/gpu``: nothing
bounded MIG pods, ``format_capacity()`` reported them as limited by the GPU quota, and
``NamespaceQuota(gpus=0)`` refused the MIG profile "for asking for a GPU". The user
pods here are the ones the real KubeSpawner 7 renders from the generated hub config;
admission by the real API server is in ``tests/k8s/test_gpu_quota.py``, placement by the
real kube-scheduler in ``tests/consumers/test_placement.py``.
"""

from __future__ import annotations

from typing import Any

import pytest

from jupyter_constructs import (
    ConfigurationError,
    Gpu,
    GpuIsolation,
    NamespaceQuota,
    NodeAffinity,
    NodePool,
    Toleration,
    UserPlaceholders,
)
from tests.helpers import NO_GPU_NODE, find, make_hub, pod_spec, synth, validate
from tests.support.kube.product import UserChoice, render_user_pod

MIG = "nvidia.com/mig-1g.10gb"


def _hard(objects: list[dict[str, Any]]) -> dict[str, str]:
    return find(objects, "ResourceQuota", "jupyterhub")["spec"]["hard"]  # type: ignore[no-any-return]


def _env(pod: dict[str, Any]) -> dict[str, Any]:
    (notebook,) = [c for c in pod["spec"]["containers"] if c["name"] == "notebook"]
    return {e["name"]: e.get("value") for e in notebook.get("env") or []}


def _required_terms(pod: dict[str, Any]) -> list[dict[str, Any]] | None:
    affinity = (pod["spec"].get("affinity") or {}).get("nodeAffinity") or {}
    required = affinity.get("requiredDuringSchedulingIgnoredDuringExecution")
    return None if required is None else required["nodeSelectorTerms"]  # type: ignore[no-any-return]


# -- quota, one item per resource -------------------------------------------------------


def test_each_gpu_resource_gets_its_own_quota_item() -> None:
    chart, hub = make_hub(quota=NamespaceQuota(gpus=4, extended_resources={MIG: 14}))
    hub.add_profile("gpu", display_name="GPU", gpu=Gpu(count=1))
    hub.add_profile("mig", display_name="MIG", gpu=Gpu(resource_name=MIG))
    hard = _hard(synth(chart))
    assert hard["requests.nvidia.com/gpu"] == "4"
    assert hard[f"requests.{MIG}"] == "14"
    # Extended resources are quota'd by their requests only (Kubernetes refuses limits.<ext>).
    assert not [k for k in hard if k.startswith("limits.") and "/" in k]


def test_a_mig_profile_is_bounded_by_its_own_item_not_by_the_gpu_quota() -> None:
    """The issue's case: ``NamespaceQuota(gpus=0)`` and a MIG profile. With a MIG item the
    profile is accepted (no whole GPU is asked for); the whole-GPU profile is refused
    naming ``nvidia.com/gpu``."""
    chart, hub = make_hub(quota=NamespaceQuota(gpus=0, extended_resources={MIG: 2}))
    hub.add_profile("mig", display_name="MIG", gpu=Gpu(resource_name=MIG))
    assert validate(chart) == []
    hub.add_profile("gpu", display_name="GPU", gpu=Gpu(count=1))
    (error,) = validate(chart)
    assert error.startswith("test/hub/Profile-gpu: ")
    assert "it asks for 1 nvidia.com/gpu, 1 more than the quota's 0 (requests.nvidia.com/gpu)" in (
        error
    )


def test_a_profile_whose_resource_has_no_quota_item_is_refused_naming_it() -> None:
    chart, hub = make_hub(quota=NamespaceQuota(gpus=0))
    hub.add_profile("mig", display_name="MIG", gpu=Gpu(resource_name=MIG))
    (error,) = validate(chart)
    assert error == (
        "test/hub/Profile-mig: invalid profile for the namespace quota 'mig'. Allowed: "
        f"extended resources the quota bounds (it asks for 1 {MIG}, and NamespaceQuota has "
        f"no requests.{MIG} item: nothing would bound these servers; it bounds "
        "nvidia.com/gpu). Fix: give its total: NamespaceQuota(extended_resources="
        f"{{'{MIG}': N}}), N the {MIG} the namespace may use"
    )
    assert "GPUs" not in error


def test_a_mig_item_of_zero_refuses_the_mig_profile_by_that_item() -> None:
    chart, hub = make_hub(quota=NamespaceQuota(extended_resources={MIG: 0}))
    hub.add_profile("mig", display_name="MIG", extra_resources={MIG: "1"})
    (error,) = validate(chart)
    assert f"it asks for 1 {MIG}, 1 more than the quota's 0 (requests.{MIG})" in error


def test_capacity_reports_each_resource_by_its_own_limit() -> None:
    _, hub = make_hub(quota=NamespaceQuota(gpus=4, extended_resources={MIG: 14}))
    hub.add_profile("gpu", display_name="GPU", gpu=Gpu(count=2))
    hub.add_profile("mig", display_name="MIG", extra_resources={MIG: "1"})
    summary = hub.capacity_summary()
    assert summary["gpu"] == (2, "requests.nvidia.com/gpu")
    assert summary["mig"] == (14, f"requests.{MIG}")
    text = hub.format_capacity()
    assert "  mig: 14 (limited by requests.nvidia.com/mig-1g.10gb)\n" in text
    assert text.endswith(
        "  devices, each by its own quota item:\n"
        "    requests.nvidia.com/gpu: 4 (asked for by gpu)\n"
        f"    requests.{MIG}: 14 (asked for by mig)"
    )


def test_gpus_and_gpu_resource_keep_working_for_other_vendors() -> None:
    chart, hub = make_hub(quota=NamespaceQuota(gpus=2, gpu_resource="amd.com/gpu"))
    hub.add_profile("rocm", display_name="ROCm", gpu=Gpu(resource_name="amd.com/gpu"))
    hard = _hard(synth(chart))
    assert hard["requests.amd.com/gpu"] == "2"
    assert "requests.nvidia.com/gpu" not in hard
    assert hub.capacity_summary()["rocm"] == (2, "requests.amd.com/gpu")


def test_time_sliced_gpus_are_counted_apart_from_whole_gpus() -> None:
    """The device plugin's time-slicing with ``renameByDefault`` advertises
    ``nvidia.com/gpu.shared``: its own item, not the whole GPUs'."""
    shared = "nvidia.com/gpu.shared"
    chart, hub = make_hub(quota=NamespaceQuota(gpus=1, extended_resources={shared: 16}))
    hub.add_profile("shared", display_name="Shared GPU", gpu=Gpu(resource_name=shared))
    assert hub.capacity_summary()["shared"] == (16, f"requests.{shared}")
    assert _hard(synth(chart))[f"requests.{shared}"] == "16"


def test_an_extended_resources_entry_replaces_gpus_and_two_totals_are_refused() -> None:
    quota = NamespaceQuota(extended_resources={"nvidia.com/gpu": 2})
    assert quota.devices() == {"nvidia.com/gpu": 2}
    assert quota.limit("nvidia.com/gpu") == 2 and quota.limit(MIG) is None
    with pytest.raises(ConfigurationError) as err:
        make_hub(quota=NamespaceQuota(gpus=4, extended_resources={"nvidia.com/gpu": 2}))
    assert str(err.value) == (
        "test/hub: invalid NamespaceQuota.extended_resources['nvidia.com/gpu'] 2. Allowed: "
        "one total per resource (gpus=4 already counts nvidia.com/gpu). Fix: give "
        "nvidia.com/gpu once: gpus= or extended_resources"
    )


def test_placeholders_of_a_mig_profile_hold_mig_slices() -> None:
    chart, hub = make_hub(quota=NamespaceQuota(gpus=0, extended_resources={MIG: 3}))
    mig = hub.add_profile("mig", display_name="MIG", extra_resources={MIG: "1"})
    UserPlaceholders(chart, "warm-mig", hub=hub, profile=mig, count=2)
    assert hub.capacity_summary()["mig"] == (1, f"requests.{MIG}")
    (pause,) = pod_spec(find(synth(chart), "Deployment", "user-placeholder-mig"))["containers"]
    assert pause["resources"]["requests"][MIG] == pause["resources"]["limits"][MIG] == "1"


# -- isolation, as the real KubeSpawner renders the pods ---------------------------------


def _isolated_hub(**options: Any) -> list[dict[str, Any]]:
    chart, hub = make_hub(quota=NamespaceQuota(extended_resources={MIG: 4}), **options)
    hub.add_profile("gpu", display_name="GPU", gpu=Gpu(count=1))
    hub.add_profile("mig", display_name="MIG", extra_resources={MIG: "1"})
    hub.add_profile(
        "scratch", display_name="Scratch disk", extra_resources={"ephemeral-storage": "20Gi"}
    )
    return synth(chart)


def test_servers_without_a_gpu_hide_the_images_gpus_and_stay_off_gpu_nodes() -> None:
    objects = _isolated_hub()
    for slug in ("small", "scratch"):
        pod, _ = render_user_pod(objects, UserChoice(slug))
        # The pod's env overrides the image's NVIDIA_VISIBLE_DEVICES=all (CUDA images).
        assert _env(pod)["NVIDIA_VISIBLE_DEVICES"] == "void", slug
        assert _required_terms(pod) == [{"matchExpressions": NO_GPU_NODE}], slug
    for slug in ("gpu", "mig"):
        pod, _ = render_user_pod(objects, UserChoice(slug))
        # The device plugin sets the variable for the GPUs it allocated.
        assert "NVIDIA_VISIBLE_DEVICES" not in _env(pod), slug
        assert _required_terms(pod) is None, slug


def test_cpu_work_on_gpu_nodes_is_a_choice_and_the_gpus_stay_hidden() -> None:
    objects = _isolated_hub(gpu_isolation=GpuIsolation(keep_off_gpu_nodes=False))
    pod, _ = render_user_pod(objects, UserChoice("small"))
    assert _required_terms(pod) is None
    assert _env(pod)["NVIDIA_VISIBLE_DEVICES"] == "void"
    pod, _ = render_user_pod(_isolated_hub(gpu_isolation=None), UserChoice("small"))
    assert _required_terms(pod) is None
    assert "NVIDIA_VISIBLE_DEVICES" not in _env(pod)


def test_the_no_gpu_requirement_is_anded_into_the_user_pools_term() -> None:
    """Required terms are ORed: a term of its own would let a CPU server match it on a GPU
    node outside the user pool; it goes into the pool's term instead."""
    chart, _ = make_hub(user_pods=NodePool.user(affinity=NodeAffinity.REQUIRED))
    pod, _ = render_user_pod(synth(chart), UserChoice("small"))
    assert _required_terms(pod) == [
        {
            "matchExpressions": [
                {"key": "hub.jupyter.org/node-purpose", "operator": "In", "values": ["user"]},
                *NO_GPU_NODE,
            ]
        }
    ]


def test_other_gpu_node_labels_can_be_named() -> None:
    isolation = GpuIsolation(gpu_node_labels={"accelerator": (), "pool": ("gpu", "mig")})
    chart, _ = make_hub(gpu_isolation=isolation)
    pod, _ = render_user_pod(synth(chart), UserChoice("small"))
    assert _required_terms(pod) == [
        {
            "matchExpressions": [
                {"key": "accelerator", "operator": "DoesNotExist"},
                {"key": "pool", "operator": "NotIn", "values": ["gpu", "mig"]},
            ]
        }
    ]


def test_a_cpu_profile_selecting_gpu_nodes_is_refused_unless_allowed() -> None:
    def build(isolation: GpuIsolation) -> list[str]:
        chart, hub = make_hub(gpu_isolation=isolation)
        hub.add_profile(
            "cpu-on-gpu",
            display_name="CPU on GPU nodes",
            node_selector={"nvidia.com/gpu.present": "true"},
            tolerations=[Toleration("nvidia.com/gpu", effect="NoSchedule")],
        )
        synth(chart)
        return validate(chart)

    with pytest.raises(ConfigurationError) as err:
        build(GpuIsolation())
    assert str(err.value) == (
        "test/hub/Profile-cpu-on-gpu: invalid node_selector 'nvidia.com/gpu.present=true'. "
        "Allowed: labels of nodes without GPUs: a profile that asks for no GPU is kept off "
        "GPU nodes (GpuIsolation.gpu_node_labels), so no node would match. Fix: give the "
        "profile a GPU (gpu=Gpu(...)), or let CPU servers use GPU nodes: "
        "JupyterHub(gpu_isolation=GpuIsolation(keep_off_gpu_nodes=False))"
    )
    assert build(GpuIsolation(keep_off_gpu_nodes=False)) == []


def test_a_profile_setting_the_variable_itself_is_refused() -> None:
    chart, hub = make_hub()
    hub.add_profile("own", display_name="Own", env={"NVIDIA_VISIBLE_DEVICES": "all"})
    assert validate(chart) == [
        "test/hub/Profile-own: invalid env 'NVIDIA_VISIBLE_DEVICES'. Allowed: a variable the "
        "hub does not set: servers of profiles without a GPU get NVIDIA_VISIBLE_DEVICES=void, "
        "so they see no GPU of the node. Fix: drop it, give the profile a GPU, or pass "
        "JupyterHub(gpu_isolation=GpuIsolation(hide_devices=False))"
    ]


def test_a_spawner_reused_after_a_failed_start_takes_the_next_profile_whole(
    tmp_path: Any,
) -> None:
    """JupyterHub keeps a user's spawner after a failed start and KubeSpawner applies the
    next profile on top of the last one (jupyterhub#3592, open; kubespawner#546): a dict
    override is merged, a list kept unless given. One real KubeSpawner renders GPU, then
    CPU, then GPU, then MIG: each pod is its own profile's, not a mix (a CPU pod with the
    GPU's node selector and "no GPU node" could never be scheduled)."""
    from tests.helpers import write_config_dir
    from tests.real_hub import load_config, mock_kubespawner, pod_manifest
    from tests.support.kube.product import HUB_ENV_VARS

    config = load_config(write_config_dir(_isolated_hub(), tmp_path), HUB_ENV_VARS)
    with mock_kubespawner(config, "alice@example.com") as spawner:
        pods = [(slug, {"spec": pod_manifest(spawner, slug)["spec"]}) for slug in
                ("gpu", "small", "gpu", "mig", "small")]  # fmt: skip
    for slug, pod in pods:
        (notebook,) = [c for c in pod["spec"]["containers"] if c["name"] == "notebook"]
        limits = notebook["resources"].get("limits") or {}
        devices = {name for name in limits if "/" in name}
        selector = pod["spec"].get("nodeSelector") or {}
        if slug == "small":
            assert devices == set(), (slug, limits)
            assert "nvidia.com/gpu.present" not in selector, selector
            assert _required_terms(pod) == [{"matchExpressions": NO_GPU_NODE}]
            assert _env(pod)["NVIDIA_VISIBLE_DEVICES"] == "void"
            assert not pod["spec"].get("tolerations")
        else:
            assert devices == ({"nvidia.com/gpu"} if slug == "gpu" else {MIG}), (slug, limits)
            assert _required_terms(pod) is None, slug
            assert "NVIDIA_VISIBLE_DEVICES" not in _env(pod), slug
        if slug == "gpu":
            assert selector == {"nvidia.com/gpu.present": "true"}
            assert pod["spec"]["tolerations"] == [
                {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
            ]


@pytest.mark.parametrize(
    "overrides",
    [
        # KubeSpawner replaces the pod's affinity whole: "no GPU node" would be gone.
        {"extra_pod_config": {"affinity": {"podAntiAffinity": {}}}},
        {"extra_pod_config": {"nodeSelector": {"nvidia.com/gpu.present": "true"}}},
        {"extra_pod_config": {"tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists"}]}},
        # ... and the container's env whole: NVIDIA_VISIBLE_DEVICES=void would be gone.
        {"extra_container_config": {"env": [{"name": "FOO", "value": "1"}]}},
        # ... and its resources whole: a GPU the isolation does not see, CPU/memory unset.
        {"extra_container_config": {"resources": {"limits": {"nvidia.com/gpu": "1"}}}},
        {"extra_container_config": {"volumeMounts": []}},
    ],
)
def test_raw_pod_and_container_config_cannot_undo_gpu_isolation(overrides: Any) -> None:
    """The real KubeSpawner applies extra_pod_config/extra_container_config with
    update_k8s_model, which replaces a field whole: these keys dropped the required node
    affinity or NVIDIA_VISIBLE_DEVICES=void of a server of a profile without a GPU."""
    chart, hub = make_hub()
    with pytest.raises(ConfigurationError, match="Fix: drop"):
        hub.add_profile("raw", display_name="Raw", extra_overrides=overrides)
        synth(chart)

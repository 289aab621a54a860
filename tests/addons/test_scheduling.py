"""UserScheduler and UserPlaceholders: objects, RBAC, quota arithmetic, the user pod.

The scheduler's configuration is checked here for what we mean by it; that the real
kube-scheduler of the pinned release accepts it (strict decoding, defaulting and
validation) is tests/k8s/test_user_scheduler_config.py, and that it schedules, packs and
preempts with exactly this RBAC is tests/k8s/test_scheduling.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion

from jupyter_constructs import (
    CloudflareTunnel,
    ConfigurationError,
    Gpu,
    NamespaceQuota,
    NetworkOptions,
    NodeAffinity,
    NodePool,
    SecretRef,
    UserPlaceholders,
    UserScheduler,
)
from jupyter_constructs.addons.scheduling import SCHEDULER_CONFIG_FILE, cluster_role_rules
from jupyter_constructs.core.images import PAUSE_IMAGE
from jupyter_constructs.hub.network import Cni
from tests.core.test_manifests import CORE_GROUPS, VERSIONS, _validate
from tests.helpers import NO_GPU_NODE, find, load_manifests, make_hub, pod_spec, synth, validate
from tests.support.kube.product import UserChoice, render_user_pod

ROOT = Path(__file__).resolve().parents[2]
SCHEDULING_COMPONENTS = {"user-scheduler", "user-placeholder", "scheduling"}


def scheduled_hub(**hub_options: Any) -> tuple[Any, Any]:
    """A hub with core and user pools, a GPU profile, a user scheduler and placeholders for
    the default and the GPU profile."""
    hub_options.setdefault("core_pods", NodePool.core())
    hub_options.setdefault("user_pods", NodePool.user(affinity=NodeAffinity.REQUIRED))
    chart, hub = make_hub(**hub_options)
    gpu = hub.add_profile("gpu", display_name="GPU", gpu=Gpu(count=1))
    UserScheduler(chart, "scheduler", hub=hub)
    UserPlaceholders(chart, "warm", hub=hub, profile=hub.profiles[0], count=2)
    UserPlaceholders(chart, "warm-gpu", hub=hub, profile=gpu)
    return chart, hub


def scheduling_objects(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        o
        for o in objects
        if o["metadata"].get("labels", {}).get("app.kubernetes.io/component")
        in SCHEDULING_COMPONENTS
    ]


def _settings(objects: list[dict[str, Any]]) -> dict[str, Any]:
    config = find(objects, "ConfigMap", "hub-config")["data"]["hub_config.json"]
    return json.loads(config)["traits"]["KubeSpawner"]  # type: ignore[no-any-return]


def test_snapshot(snapshot: SnapshotAssertion) -> None:
    chart, _ = scheduled_hub()
    assert scheduling_objects(synth(chart)) == snapshot


@pytest.mark.parametrize("version", VERSIONS)
def test_every_object_is_strictly_valid(version: str) -> None:
    chart, _ = scheduled_hub(network=NetworkOptions())
    objects = synth(chart)
    assert _validate(objects, version) == []
    checked = {o["kind"] for o in objects if o["apiVersion"] in CORE_GROUPS}
    assert {"PriorityClass", "ClusterRole", "PodDisruptionBudget"} <= checked


# -- the user scheduler ---------------------------------------------------------------


def test_the_scheduler_runs_the_pinned_upstream_image_restricted_in_the_core_pool() -> None:
    chart, _ = scheduled_hub()
    objects = synth(chart)
    deployment = find(objects, "Deployment", "user-scheduler")
    spec = pod_spec(deployment)
    (container,) = spec["containers"]
    assert container["image"] == "registry.k8s.io/kube-scheduler:v1.34.3"
    assert container["command"] == [
        "/usr/local/bin/kube-scheduler",
        "--config=/etc/user-scheduler/config.json",
        "--authentication-skip-lookup=true",
        "--v=2",
    ]
    assert container["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 65534,
        "runAsGroup": 65534,
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert container["livenessProbe"]["httpGet"] == {
        "path": "/healthz",
        "port": "https",
        "scheme": "HTTPS",
    }
    assert container["ports"] == [{"name": "https", "containerPort": 10259}]
    assert container["resources"] == {
        "requests": {"cpu": "50m", "memory": "256Mi"},
        "limits": {"cpu": "1", "memory": "512Mi"},
    }
    assert spec["serviceAccountName"] == "user-scheduler"
    assert spec["automountServiceAccountToken"] is True
    assert spec["affinity"] == {"nodeAffinity": NodePool.core().node_affinity()}
    assert spec["tolerations"] == NodePool.core().kube_tolerations()
    assert deployment["spec"]["replicas"] == 2
    # Never a pod more than replicas: the quota reserves exactly two.
    assert deployment["spec"]["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1},
    }
    config_map = find(objects, "ConfigMap", "user-scheduler")
    assert deployment["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
    assert spec["volumes"] == [
        {"name": "config", "configMap": {"name": config_map["metadata"]["name"]}}
    ]


def test_the_scheduler_image_follows_the_cluster_version() -> None:
    chart, hub = make_hub()
    UserScheduler(chart, "scheduler", hub=hub, kubernetes_version="1.33.7")
    (container,) = pod_spec(find(synth(chart), "Deployment", "user-scheduler"))["containers"]
    assert container["image"] == "registry.k8s.io/kube-scheduler:v1.33.7"


def test_the_configuration_packs_and_names_the_scheduler() -> None:
    chart, hub = scheduled_hub()
    objects = synth(chart)
    config = json.loads(find(objects, "ConfigMap", "user-scheduler")["data"][SCHEDULER_CONFIG_FILE])
    assert config["apiVersion"] == "kubescheduler.config.k8s.io/v1"
    assert config["kind"] == "KubeSchedulerConfiguration"
    (profile,) = config["profiles"]
    assert profile["schedulerName"] == "jupyter-user-scheduler" == hub.user_scheduler_name
    (fit,) = profile["pluginConfig"]
    assert fit == {
        "name": "NodeResourcesFit",
        "args": {
            "scoringStrategy": {
                "type": "MostAllocated",
                "resources": [{"name": "cpu", "weight": 1}, {"name": "memory", "weight": 1}],
            }
        },
    }
    # z2jh's weights: the user pool (node affinity) outweighs packing, packing image locality.
    enabled = {p["name"]: p["weight"] for p in profile["plugins"]["score"]["enabled"]}
    assert enabled == {
        "NodeAffinity": 14631,
        "InterPodAffinity": 1331,
        "NodeResourcesFit": 121,
        "ImageLocality": 11,
    }
    assert {"name": "NodeResourcesBalancedAllocation"} in profile["plugins"]["score"]["disabled"]
    assert config["leaderElection"] == {
        "leaderElect": True,
        "resourceLock": "leases",
        "resourceName": "user-scheduler-lock",
        "resourceNamespace": "jupyter",
        "leaseDuration": "15s",
        "renewDeadline": "10s",
        "retryPeriod": "2s",
    }
    assert config["enableProfiling"] is False


#: The one ClusterRole of the library, pinned: a change here is a change of what a
#: component may read in every namespace, and must be reviewed as such (docs/scheduling.md).
PINNED_CLUSTER_ROLE = [
    {
        "apiGroups": [""],
        "resources": [
            "namespaces",
            "nodes",
            "persistentvolumeclaims",
            "persistentvolumes",
            "pods",
            "replicationcontrollers",
            "services",
        ],
        "verbs": ["get", "list", "watch"],
    },
    {
        "apiGroups": ["apps"],
        "resources": ["replicasets", "statefulsets"],
        "verbs": ["get", "list", "watch"],
    },
    {
        "apiGroups": ["policy"],
        "resources": ["poddisruptionbudgets"],
        "verbs": ["get", "list", "watch"],
    },
    {
        "apiGroups": ["storage.k8s.io"],
        "resources": [
            "csidrivers",
            "csinodes",
            "csistoragecapacities",
            "storageclasses",
            "volumeattachments",
        ],
        "verbs": ["get", "list", "watch"],
    },
    {
        "apiGroups": ["resource.k8s.io"],
        "resources": ["deviceclasses", "resourceclaims", "resourceslices"],
        "verbs": ["get", "list", "watch"],
    },
]
PINNED_ROLE = [
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["delete"]},
    {"apiGroups": [""], "resources": ["pods/binding"], "verbs": ["create"]},
    {"apiGroups": [""], "resources": ["pods/status"], "verbs": ["patch", "update"]},
    {"apiGroups": [""], "resources": ["pods/finalizers"], "verbs": ["update"]},
    {
        "apiGroups": ["", "events.k8s.io"],
        "resources": ["events"],
        "verbs": ["create", "patch", "update"],
    },
    {"apiGroups": [""], "resources": ["persistentvolumeclaims"], "verbs": ["patch", "update"]},
    {
        "apiGroups": ["resource.k8s.io"],
        "resources": ["resourceclaims", "resourceclaims/status"],
        "verbs": ["patch", "update"],
    },
    {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["create"]},
    {
        "apiGroups": ["coordination.k8s.io"],
        "resources": ["leases"],
        "resourceNames": ["user-scheduler-lock"],
        "verbs": ["get", "update"],
    },
]


def test_the_cluster_role_is_pinned_and_only_reads() -> None:
    chart, _ = scheduled_hub()
    objects = synth(chart)
    cluster_role = find(objects, "ClusterRole", "jupyterhub:jupyter:user-scheduler")
    assert cluster_role["rules"] == PINNED_CLUSTER_ROLE
    assert {v for rule in cluster_role["rules"] for v in rule["verbs"]} == {"get", "list", "watch"}
    assert not any(
        r in ("secrets", "configmaps", "*")
        for rule in cluster_role["rules"]
        for r in rule["resources"]
    )
    binding = find(objects, "ClusterRoleBinding", "jupyterhub:jupyter:user-scheduler")
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": "jupyterhub:jupyter:user-scheduler",
    }
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "user-scheduler", "namespace": "jupyter"}
    ]
    role = find(objects, "Role", "user-scheduler")
    assert role["rules"] == PINNED_ROLE
    assert role["metadata"]["namespace"] == "jupyter"


def test_static_volume_binding_adds_only_persistent_volume_writes() -> None:
    extra = [
        r for r in cluster_role_rules(bind_static_volumes=True) if r not in PINNED_CLUSTER_ROLE
    ]
    assert extra == [
        {"apiGroups": [""], "resources": ["persistentvolumes"], "verbs": ["patch", "update"]}
    ]


def test_the_user_scheduler_is_the_only_cluster_scoped_rbac_and_it_is_opt_in() -> None:
    """Every add-on attached (the reference platform: bindings, observability, tunnel,
    external secrets) renders no ClusterRole; with a UserScheduler there is exactly one."""
    reference = load_manifests(ROOT / "dist")
    assert not [o for o in reference if o["kind"] in ("ClusterRole", "ClusterRoleBinding")]
    chart, _ = scheduled_hub()
    kinds = [o["kind"] for o in synth(chart)]
    assert kinds.count("ClusterRole") == 1 and kinds.count("ClusterRoleBinding") == 1


def test_the_scheduler_may_reach_only_the_api_server() -> None:
    chart, _ = scheduled_hub(network=NetworkOptions(api_server_cidrs=["10.0.0.1/32"]))
    policy = find(synth(chart), "NetworkPolicy", "user-scheduler")
    assert policy["spec"] == {
        "podSelector": {
            "matchLabels": {
                "app.kubernetes.io/name": "jupyterhub",
                "app.kubernetes.io/instance": "jupyter",
                "app.kubernetes.io/component": "user-scheduler",
            }
        },
        # Ingress listed with no rule: nothing may connect (kubelet probes come from the node).
        "policyTypes": ["Ingress", "Egress"],
        "egress": [
            {
                "to": [{"ipBlock": {"cidr": "10.0.0.1/32"}}],
                "ports": [{"port": 443, "protocol": "TCP"}, {"port": 6443, "protocol": "TCP"}],
            }
        ],
    }


def test_on_cilium_the_scheduler_reaches_the_api_server_entity() -> None:
    chart, _ = scheduled_hub(network=NetworkOptions(cni=Cni.CILIUM))
    policy = find(synth(chart), "CiliumNetworkPolicy", "user-scheduler-api-server")
    assert policy["spec"]["endpointSelector"]["matchLabels"]["app.kubernetes.io/component"] == (
        "user-scheduler"
    )
    assert policy["spec"]["egress"][0]["toEntities"] == ["kube-apiserver"]


def test_without_network_policies_the_scheduler_renders_none() -> None:
    chart, _ = scheduled_hub(network=None)
    objects = synth(chart)
    assert not [o for o in objects if o["kind"] in ("NetworkPolicy", "CiliumNetworkPolicy")]


def test_disruption_budgets_never_block_a_drain() -> None:
    """Only the user scheduler gets a PDB (``maxUnavailable: 1``). Hub and proxy are single
    replicas (a ``minAvailable: 1`` would block every drain forever); placeholders are
    meant to be evicted."""
    chart, _ = scheduled_hub()
    budgets = [o for o in synth(chart) if o["kind"] == "PodDisruptionBudget"]
    assert [b["metadata"]["name"] for b in budgets] == ["user-scheduler"]
    assert budgets[0]["spec"]["maxUnavailable"] == 1
    assert "minAvailable" not in budgets[0]["spec"]


def test_cluster_wide_objects_come_before_the_pods_that_need_them() -> None:
    chart, _ = scheduled_hub()
    for obj in synth(chart):
        if obj["kind"] in ("PriorityClass", "ClusterRole", "ClusterRoleBinding"):
            assert obj["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"] == "-2"
            assert "namespace" not in obj["metadata"]


# -- user pods and placeholders -------------------------------------------------------


def _user_pool(*, gpu: bool) -> dict[str, Any]:
    """The required user pool's node affinity; for a profile without a GPU, with the
    no-GPU requirements in its term (GpuIsolation)."""
    affinity = NodePool.user(affinity=NodeAffinity.REQUIRED).node_affinity()
    if gpu:
        return affinity
    (term,) = affinity["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    return {
        "requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [*term["matchExpressions"], *NO_GPU_NODE]}]
        }
    }


def test_the_user_pod_from_the_real_kubespawner_carries_scheduler_priority_and_pool() -> None:
    chart, _ = scheduled_hub()
    objects = synth(chart)
    settings = _settings(objects)
    assert settings["scheduler_name"] == "jupyter-user-scheduler"
    assert settings["priority_class_name"] == "jupyterhub-jupyter-user"
    for slug in ("small", "gpu"):
        pod, _ = render_user_pod(objects, UserChoice(slug), f"{slug}-user@example.com")
        spec = pod["spec"]
        assert spec["schedulerName"] == "jupyter-user-scheduler"
        assert spec["priorityClassName"] == "jupyterhub-jupyter-user"
        assert spec["affinity"] == {"nodeAffinity": _user_pool(gpu=slug == "gpu")}
        assert spec["tolerations"][:2] == NodePool.user().kube_tolerations()


def test_priority_classes_put_placeholders_below_users() -> None:
    chart, _ = scheduled_hub()
    objects = synth(chart)
    user = find(objects, "PriorityClass", "jupyterhub-jupyter-user")
    placeholder = find(objects, "PriorityClass", "jupyterhub-jupyter-user-placeholder")
    assert placeholder["value"] < user["value"] == 0
    # Not below the cluster autoscaler's default expendable-pods cutoff (-10): a pending
    # placeholder must still make it add a node.
    assert placeholder["value"] == -10
    assert placeholder["preemptionPolicy"] == "Never"
    assert user["preemptionPolicy"] == "PreemptLowerPriority"
    assert user["globalDefault"] is placeholder["globalDefault"] is False


def test_placeholders_hold_the_room_of_a_server_of_their_profile() -> None:
    chart, _ = scheduled_hub()
    objects = synth(chart)
    cpu = find(objects, "Deployment", "user-placeholder-small")
    gpu = find(objects, "Deployment", "user-placeholder-gpu")
    assert cpu["spec"]["replicas"] == 2 and gpu["spec"]["replicas"] == 1
    assert cpu["spec"]["strategy"] == {"type": "Recreate"}
    (pause,) = pod_spec(cpu)["containers"]
    # The pinned pause image: its tag, and its digest where verified (core/images.py).
    assert pause["image"] == PAUSE_IMAGE
    assert pause["image"].startswith("registry.k8s.io/pause:3.10.1")
    # The small profile requests 1 CPU and 2Gi; limits equal to requests.
    assert pause["resources"] == {
        "requests": {"cpu": "1", "memory": "2Gi"},
        "limits": {"cpu": "1", "memory": "2Gi"},
    }
    (gpu_pause,) = pod_spec(gpu)["containers"]
    assert gpu_pause["resources"]["requests"]["nvidia.com/gpu"] == "1"
    assert gpu_pause["resources"]["limits"]["nvidia.com/gpu"] == "1"
    for deployment in (cpu, gpu):
        spec = pod_spec(deployment)
        assert spec["priorityClassName"] == "jupyterhub-jupyter-user-placeholder"
        assert spec["schedulerName"] == "jupyter-user-scheduler"
        assert spec["automountServiceAccountToken"] is False
        # Placed like their profile's servers: the CPU ones off GPU nodes too.
        assert spec["affinity"] == {"nodeAffinity": _user_pool(gpu=deployment is gpu)}
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        # Not a user server: KubeSpawner, the culler and the policies never see them.
        assert labels["app.kubernetes.io/component"] == "user-placeholder"
    # Placed exactly like the GPU profile's servers.
    gpu_server, _ = render_user_pod(objects, UserChoice("gpu"))
    assert pod_spec(gpu)["nodeSelector"] == gpu_server["spec"]["nodeSelector"]
    assert pod_spec(gpu)["tolerations"] == gpu_server["spec"]["tolerations"]


def test_placeholders_use_a_user_scheduler_attached_after_them() -> None:
    chart, hub = make_hub()
    UserPlaceholders(chart, "warm", hub=hub, profile=hub.profiles[0])
    UserScheduler(chart, "scheduler", hub=hub)
    spec = pod_spec(find(synth(chart), "Deployment", "user-placeholder-small"))
    assert spec["schedulerName"] == "jupyter-user-scheduler"


def test_without_a_user_scheduler_placeholders_use_the_default_scheduler() -> None:
    chart, hub = make_hub()
    UserPlaceholders(chart, "warm", hub=hub, profile=hub.profiles[0])
    objects = synth(chart)
    assert "schedulerName" not in pod_spec(find(objects, "Deployment", "user-placeholder-small"))
    assert "scheduler_name" not in _settings(objects)
    assert _settings(objects)["priority_class_name"] == "jupyterhub-jupyter-user"


def test_the_tunnel_runs_in_the_core_pool() -> None:
    chart, hub = make_hub(core_pods=NodePool.core())
    CloudflareTunnel(
        chart,
        "tunnel",
        hub=hub,
        tunnel_token=SecretRef("cloudflared", "token"),
        exclusive=False,
    )
    objects = synth(chart)
    (tunnel,) = [
        o
        for o in objects
        if o["kind"] == "Deployment"
        and o["metadata"]["labels"].get("app.kubernetes.io/name") == "cloudflared"
    ]
    assert pod_spec(tunnel)["affinity"] == {"nodeAffinity": NodePool.core().node_affinity()}
    assert pod_spec(tunnel)["tolerations"] == NodePool.core().kube_tolerations()


# -- quota arithmetic -----------------------------------------------------------------


def test_capacity_counts_placeholders_and_the_scheduler() -> None:
    """Quota 10 CPU requested: hub 500m and proxy 100m, the scheduler 2 x 50m, placeholders
    3 x 1 CPU: 6.3 CPU left for 1-CPU servers, so 6 (placeholders are not preempted by a
    quota: they hold their share until deleted)."""
    chart, hub = make_hub(quota=NamespaceQuota(requests_cpu="10"))
    assert hub.capacity_summary() == {"small": (9, "requests.cpu")}
    UserScheduler(chart, "scheduler", hub=hub)
    UserPlaceholders(chart, "warm", hub=hub, profile=hub.profiles[0], count=3)
    assert hub.capacity_summary() == {"small": (6, "requests.cpu")}
    assert hub.format_capacity() == (
        "capacity of namespace jupyter (servers of one profile at once):\n"
        "  small: 6 (limited by requests.cpu)\n"
        "  counted after the hub, the proxy and what add-ons reserve:\n"
        "    the user scheduler test/scheduler (2 pods, 100m CPU, 512Mi requested)\n"
        "    user placeholders test/warm (3 pods, 3 CPU, 6Gi requested)\n"
        "  devices, each by its own quota item:\n"
        "    requests.nvidia.com/gpu: 8 (asked for by no profile)"
    )
    assert validate(chart) == []


def test_placeholders_take_their_gpus_and_pods_from_the_quota() -> None:
    chart, hub = make_hub(quota=NamespaceQuota(gpus=4, pods=10))
    gpu = hub.add_profile("gpu", display_name="GPU", gpu=Gpu(count=1))
    UserPlaceholders(chart, "warm-gpu", hub=hub, profile=gpu, count=2)
    summary = hub.capacity_summary()
    assert summary["gpu"] == (2, "requests.nvidia.com/gpu")
    # 10 pods: hub, proxy, two placeholders.
    assert summary["small"] == (6, "pods")


def test_fails_when_placeholders_and_the_default_profile_exceed_the_quota() -> None:
    """4 CPU requested in all: hub 500m + proxy 100m + 3 placeholders of 1 CPU leave 400m,
    and one server of the default profile asks for 1 CPU: 600m short."""
    chart, hub = make_hub(quota=NamespaceQuota(requests_cpu="4"))
    UserPlaceholders(chart, "warm", hub=hub, profile=hub.profiles[0], count=3)
    assert validate(chart) == [
        "test/hub/Profile-small: invalid profile for the namespace quota 'small'. Allowed: one "
        "server must fit in NamespaceQuota next to the hub, the proxy and user placeholders "
        "test/warm (3 pods, 3 CPU, 6Gi requested) (its CPU request 1 exceeds what the quota "
        "leaves (400m) by 600m). Fix: lower the profile's requests/limits or raise "
        "NamespaceQuota, or reserve less (fewer placeholders)"
    ]


def test_fails_when_placeholders_alone_exceed_the_quota() -> None:
    chart, hub = make_hub(quota=NamespaceQuota(gpus=1))
    gpu = hub.add_profile("gpu", display_name="GPU", gpu=Gpu(count=1))
    UserPlaceholders(chart, "warm-gpu", hub=hub, profile=gpu, count=2)
    (error,) = validate(chart)
    assert error.startswith("test/hub: invalid namespace quota NamespaceQuota(")
    assert error.endswith(
        "Allowed: room for the pods that run before any user server: the hub (1 pod, 500m CPU, "
        "1Gi requested), the proxy (1 pod, 100m CPU, 512Mi requested), user placeholders "
        "test/warm-gpu (2 pods, 2 CPU, 4Gi, 2 nvidia.com/gpu requested) "
        "(requests.nvidia.com/gpu: they take 2 of 1, 1 too many). Fix: raise NamespaceQuota "
        "or reserve less (fewer placeholders)"
    )


# -- bad input ------------------------------------------------------------------------


def _scheduler_error(**options: Any) -> str:
    chart, hub = make_hub()
    with pytest.raises(ConfigurationError) as err:
        UserScheduler(chart, "scheduler", hub=hub, **options)
    return str(err.value)


@pytest.mark.parametrize("version", ["v1.34.3", "1.34", "1.29.9", "1.36.0", "latest"])
def test_fails_when_the_kubernetes_version_is_not_a_supported_release(version: str) -> None:
    assert _scheduler_error(kubernetes_version=version) == (
        f"test/scheduler: invalid kubernetes_version {version!r}. Allowed: a Kubernetes "
        "release 1.30.x to 1.35.x, written like '1.34.3'. Fix: give your control plane's "
        "version (`kubectl version`, Server Version) without the 'v'"
    )


def test_fails_when_leader_election_cannot_work() -> None:
    assert _scheduler_error(lease_duration=10, renew_deadline=10) == (
        "test/scheduler: invalid renew_deadline 10. Allowed: less than lease_duration (10). "
        "Fix: keep the defaults (15 and 10 seconds) or lower renew_deadline"
    )
    assert _scheduler_error(renew_deadline=6, retry_period=5) == (
        "test/scheduler: invalid retry_period 5. Allowed: less than renew_deadline / 1.2 (5). "
        "Fix: keep the defaults (10 and 2 seconds) or lower retry_period"
    )
    assert "invalid lease_duration 0" in _scheduler_error(lease_duration=0)


def test_fails_when_replicas_are_not_positive() -> None:
    assert "invalid replicas 0. Allowed: an integer of at least 1" in _scheduler_error(replicas=0)


def test_fails_when_the_image_is_not_pinned() -> None:
    assert "invalid image 'registry.k8s.io/kube-scheduler'" in _scheduler_error(
        image="registry.k8s.io/kube-scheduler"
    )


def test_fails_when_a_second_user_scheduler_is_attached() -> None:
    chart, hub = make_hub()
    UserScheduler(chart, "scheduler", hub=hub)
    with pytest.raises(ConfigurationError) as err:
        UserScheduler(chart, "another", hub=hub)
    assert str(err.value) == (
        "test/hub: invalid user scheduler 'test/another'. Allowed: one user scheduler per hub "
        "(test/scheduler is already attached). Fix: create one UserScheduler for the hub"
    )


@pytest.mark.parametrize("count", [0, -1, 1.5, True])
def test_fails_when_the_placeholder_count_is_not_positive(count: Any) -> None:
    chart, hub = make_hub()
    with pytest.raises(ConfigurationError) as err:
        UserPlaceholders(chart, "warm", hub=hub, profile=hub.profiles[0], count=count)
    assert str(err.value) == (
        f"test/warm: invalid count {count!r}. Allowed: an integer of at least 1. Fix: hold "
        "room for at least one server, or do not create UserPlaceholders"
    )


def test_fails_when_the_profile_belongs_to_another_hub() -> None:
    _, other = make_hub()
    chart, hub = make_hub()
    with pytest.raises(ConfigurationError) as err:
        UserPlaceholders(chart, "warm", hub=hub, profile=other.profiles[0])
    assert str(err.value) == (
        "test/warm: invalid profile 'small'. Allowed: a profile of this hub (the object "
        "hub.add_profile returned). Fix: pass profile=hub.add_profile(...)"
    )


def test_fails_when_a_profile_gets_two_placeholder_groups() -> None:
    chart, hub = make_hub()
    UserPlaceholders(chart, "warm", hub=hub, profile=hub.profiles[0])
    with pytest.raises(ConfigurationError) as err:
        UserPlaceholders(chart, "warmer", hub=hub, profile=hub.profiles[0])
    assert str(err.value) == (
        "test/warmer: invalid profile 'small'. Allowed: one UserPlaceholders per profile "
        "(test/warm already holds room for it). Fix: raise count= of test/warm instead"
    )


# -- a profile's extra_overrides cannot undo the hub's scheduling ------------------------


@pytest.mark.parametrize(
    ("key", "value", "allowed"),
    [
        (
            "scheduler_name",
            "default-scheduler",
            "the hub's user scheduler (jupyter-user-scheduler) schedules every user pod, so "
            "servers are packed and placeholders preempted. Fix: drop it (to stop packing, "
            "do not create a UserScheduler)",
        ),
        (
            "priority_class_name",
            "system-cluster-critical",
            "user servers get jupyterhub-jupyter-user: above the placeholders they preempt, "
            "equal to each other, so no user evicts another. Fix: drop it",
        ),
        (
            "node_affinity_required",
            [{"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}],
            "user pods require the user pool (JupyterHub(user_pods=...)); a profile's terms "
            "would replace the pool's in KubeSpawner. Fix: narrow the profile's nodes with "
            "node_selector= (added to the pool's term)",
        ),
    ],
)
def test_fails_when_a_profile_overrides_what_the_hub_schedules(
    key: str, value: Any, allowed: str
) -> None:
    chart, hub = scheduled_hub()
    hub.add_profile("own", display_name="Own", extra_overrides={key: value})
    assert validate(chart) == [
        f"test/hub/Profile-own: invalid extra_overrides key {key!r}. Allowed: keys the hub "
        f"does not set: {allowed}"
    ]


def test_a_profile_may_override_what_the_hub_leaves_to_the_default() -> None:
    """Without a user scheduler, placeholders or a required pool, the keys stay open."""
    chart, hub = make_hub(user_pods=NodePool.user())
    terms = [{"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}]
    hub.add_profile(
        "own",
        display_name="Own",
        extra_overrides={"priority_class_name": "batch", "node_affinity_required": terms},
    )
    pod, _ = render_user_pod(synth(chart), UserChoice("own"), "own@example.com")
    assert pod["spec"]["priorityClassName"] == "batch"
    node_affinity = pod["spec"]["affinity"]["nodeAffinity"]
    # The profile asks for no GPU: "no GPU node" is ANDed into its own term.
    assert node_affinity["requiredDuringSchedulingIgnoredDuringExecution"] == {
        "nodeSelectorTerms": [{"matchExpressions": [*terms[0]["matchExpressions"], *NO_GPU_NODE]}]
    }


def test_a_profiles_node_preferences_add_to_the_user_pools() -> None:
    """KubeSpawner replaces the hub-wide ``node_affinity_preferred`` with a profile's; the
    hub renders both, the pool's first, and the real KubeSpawner puts both in the pod."""
    chart, hub = make_hub(user_pods=NodePool.user())
    fast = {
        "weight": 10,
        "preference": {"matchExpressions": [{"key": "disk", "operator": "In", "values": ["ssd"]}]},
    }
    hub.add_profile(
        "fast", display_name="Fast", extra_overrides={"node_affinity_preferred": [fast]}
    )
    objects = synth(chart)
    pool = NodePool.user().node_affinity()["preferredDuringSchedulingIgnoredDuringExecution"]
    pod, _ = render_user_pod(objects, UserChoice("fast"), "fast@example.com")
    preferred = pod["spec"]["affinity"]["nodeAffinity"][
        "preferredDuringSchedulingIgnoredDuringExecution"
    ]
    assert preferred == [*pool, fast]
    pod, _ = render_user_pod(objects, UserChoice("small"), "small@example.com")
    assert pod["spec"]["affinity"]["nodeAffinity"] == {
        "preferredDuringSchedulingIgnoredDuringExecution": pool,
        "requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": NO_GPU_NODE}]
        },
    }

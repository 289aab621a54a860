"""Core and user node pools (z2jh ``scheduling.corePods``/``userPods``), applied by the hub.

Every core pod (hub, proxy, secret bootstrap Job) gets the core pool's node affinity and
tolerations from the hub itself; user pods get the user pool's through KubeSpawner's
traits (checked on the pod the real KubeSpawner renders), the pre-puller too. Add-on pods
(tunnel, user scheduler, placeholders) are checked in tests/addons/test_scheduling.py.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from jupyter_constructs import (
    ConfigurationError,
    Gpu,
    NodeAffinity,
    NodePool,
    Toleration,
)
from tests.helpers import NO_GPU_NODE, find, make_hub, pod_spec, synth
from tests.support.kube.product import UserChoice, render_user_pod

CORE_TOLERATIONS = [
    {
        "key": "hub.jupyter.org/dedicated",
        "operator": "Equal",
        "value": "core",
        "effect": "NoSchedule",
    },
    {
        "key": "hub.jupyter.org_dedicated",
        "operator": "Equal",
        "value": "core",
        "effect": "NoSchedule",
    },
]
USER_TOLERATIONS = [
    {
        "key": "hub.jupyter.org/dedicated",
        "operator": "Equal",
        "value": "user",
        "effect": "NoSchedule",
    },
    {
        "key": "hub.jupyter.org_dedicated",
        "operator": "Equal",
        "value": "user",
        "effect": "NoSchedule",
    },
]
GPU_TOLERATION = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}


def _purpose(value: str) -> list[dict[str, Any]]:
    return [{"key": "hub.jupyter.org/node-purpose", "operator": "In", "values": [value]}]


def _preferred(value: str) -> dict[str, Any]:
    return {
        "preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 100, "preference": {"matchExpressions": _purpose(value)}}
        ]
    }


def _required(value: str) -> dict[str, Any]:
    return {
        "requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": _purpose(value)}]
        }
    }


def _core_pods(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        f"{kind}/{name}": pod_spec(find(objects, kind, name))
        for kind, name in (
            ("Deployment", "hub"),
            ("Deployment", "proxy"),
            ("Job", "hub-secrets-bootstrap"),
        )
    }


def _settings(objects: list[dict[str, Any]]) -> dict[str, Any]:
    config = find(objects, "ConfigMap", "hub-config")["data"]["hub_config.json"]
    return json.loads(config)["traits"]["KubeSpawner"]  # type: ignore[no-any-return]


def test_the_z2jh_pools_match_its_chart() -> None:
    """z2jh 4.x values.yaml: corePods/userPods tolerate ``hub.jupyter.org/dedicated`` (both
    spellings) and prefer ``hub.jupyter.org/node-purpose`` (``matchNodePurpose: prefer``)."""
    assert NodePool.core().node_affinity() == _preferred("core")
    assert NodePool.core().kube_tolerations() == CORE_TOLERATIONS
    assert NodePool.user(affinity=NodeAffinity.REQUIRED).node_affinity() == _required("user")
    assert NodePool.user().kube_tolerations() == USER_TOLERATIONS


def _required_without_gpu(value: str | None) -> dict[str, Any]:
    pool = [{"key": "hub.jupyter.org/node-purpose", "operator": "In", "values": [value]}]
    return {
        "requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [*(pool if value else []), *NO_GPU_NODE]}]
        }
    }


def test_without_pools_no_pod_gets_affinity_or_tolerations() -> None:
    chart, _ = make_hub()
    objects = synth(chart)
    for name, spec in _core_pods(objects).items():
        assert "affinity" not in spec and "tolerations" not in spec, name
    settings = _settings(objects)
    assert not {"node_affinity_required", "node_affinity_preferred", "tolerations"} & set(settings)


def test_every_core_pod_runs_in_the_core_pool() -> None:
    chart, _ = make_hub(core_pods=NodePool.core(affinity=NodeAffinity.REQUIRED))
    objects = synth(chart)
    for name, spec in _core_pods(objects).items():
        assert spec["affinity"] == {"nodeAffinity": _required("core")}, name
        assert spec["tolerations"] == CORE_TOLERATIONS, name
    # User pods are not core pods.
    settings = _settings(objects)
    assert "tolerations" not in settings and "node_affinity_required" not in settings


def test_user_pods_run_in_the_user_pool_as_the_real_kubespawner_renders_them() -> None:
    """The pod KubeSpawner 7 renders from the generated config: the pool's affinity and
    tolerations hub-wide, and a GPU profile's own tolerations *added* to them (a list in
    ``kubespawner_override`` replaces the hub-wide list, so the hub merges them)."""
    chart, hub = make_hub(
        user_pods=NodePool.user(affinity=NodeAffinity.REQUIRED), core_pods=NodePool.core()
    )
    hub.add_profile("gpu", display_name="GPU", gpu=Gpu(count=1))
    objects = synth(chart)
    small, _ = render_user_pod(objects, UserChoice("small"), "alice@example.com")
    # A CPU profile: the pool's term, with the no-GPU requirements ANDed into it.
    assert small["spec"]["affinity"] == {"nodeAffinity": _required_without_gpu("user")}
    assert small["spec"]["tolerations"] == USER_TOLERATIONS
    gpu, _ = render_user_pod(objects, UserChoice("gpu"), "bob@example.com")
    assert gpu["spec"]["affinity"] == {"nodeAffinity": _required("user")}
    assert gpu["spec"]["tolerations"] == [*USER_TOLERATIONS, GPU_TOLERATION]
    assert gpu["spec"]["nodeSelector"] == {"nvidia.com/gpu.present": "true"}


def test_a_preferred_user_pool_renders_a_preferred_term() -> None:
    chart, _ = make_hub(user_pods=NodePool({"pool": "users"}, weight=50))
    pod, _ = render_user_pod(synth(chart), UserChoice("small"))
    assert pod["spec"]["affinity"] == {
        "nodeAffinity": {
            **_required_without_gpu(None),
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {
                    "weight": 50,
                    "preference": {
                        "matchExpressions": [{"key": "pool", "operator": "In", "values": ["users"]}]
                    },
                }
            ],
        }
    }
    assert "tolerations" not in pod["spec"]


def test_the_pre_puller_pulls_where_user_servers_run() -> None:
    """The pre-puller pulls user images: it follows the user pool (never the core pool),
    and each GPU puller keeps its GPU placement on top."""
    chart, hub = make_hub(core_pods=NodePool.core(), user_pods=NodePool.user())
    hub.add_profile("gpu", display_name="GPU", gpu=Gpu(count=1))
    objects = synth(chart)
    cpu = pod_spec(find(objects, "DaemonSet", "image-puller"))
    gpu = pod_spec(find(objects, "DaemonSet", "image-puller-gpu"))
    assert gpu["affinity"] == {"nodeAffinity": _preferred("user")}
    # The CPU profiles' puller goes where their servers do: off GPU nodes.
    assert cpu["affinity"] == {
        "nodeAffinity": {**_preferred("user"), **_required_without_gpu(None)}
    }
    assert cpu["tolerations"] == USER_TOLERATIONS
    assert gpu["tolerations"] == [*USER_TOLERATIONS, GPU_TOLERATION]
    assert gpu["nodeSelector"] == {"nvidia.com/gpu.present": "true"}


def test_duplicate_tolerations_are_rendered_once() -> None:
    pool = NodePool(
        {"pool": "gpu"}, tolerations=(Toleration("nvidia.com/gpu", effect="NoSchedule"),)
    )
    chart, hub = make_hub(user_pods=pool)
    hub.add_profile("gpu", display_name="GPU", gpu=Gpu(count=1))
    pod, _ = render_user_pod(synth(chart), UserChoice("gpu"))
    assert pod["spec"]["tolerations"] == [GPU_TOLERATION]


# -- bad input ------------------------------------------------------------------------


def _error(**options: Any) -> str:
    with pytest.raises(ConfigurationError) as err:
        make_hub(**options)
    return str(err.value)


def test_fails_when_a_pool_has_no_label() -> None:
    assert _error(user_pods=NodePool({})) == (
        "test/hub: invalid user_pods.node_labels {}. Allowed: at least one node label, as a "
        "mapping of label key to value. Fix: e.g. {'hub.jupyter.org/node-purpose': 'user'}, "
        "or use NodePool.user()"
    )


def test_fails_when_a_pool_label_is_not_a_label() -> None:
    assert _error(core_pods=NodePool({"node purpose": "core"})) == (
        "test/hub: invalid core_pods.node_labels key 'node purpose'. Allowed: a Kubernetes "
        "label key: an optional DNS-subdomain prefix and '/', then 1-63 letters, digits, '-', "
        "'_' or '.'. Fix: copy the key from `kubectl get nodes --show-labels`"
    )
    assert "invalid core_pods.node_labels['pool'] ''" in _error(core_pods=NodePool({"pool": ""}))


@pytest.mark.parametrize("weight", [0, 101, 1.5, True])
def test_fails_when_a_preference_weight_is_out_of_range(weight: Any) -> None:
    assert _error(user_pods=NodePool({"pool": "u"}, weight=weight)) == (
        f"test/hub: invalid user_pods.weight {weight!r}. Allowed: an integer from 1 to 100 "
        "(a preferred scheduling term's weight). Fix: leave the default of 100"
    )


def test_fails_when_the_affinity_is_a_string() -> None:
    message = _error(user_pods=NodePool({"pool": "u"}, affinity="require"))  # type: ignore[arg-type]
    assert message == (
        "test/hub: invalid user_pods.affinity 'require'. Allowed: NodeAffinity.REQUIRED or "
        "NodeAffinity.PREFERRED. Fix: pass affinity=NodeAffinity.PREFERRED (z2jh's 'prefer')"
    )


@pytest.mark.parametrize(
    ("toleration", "expected"),
    [
        (
            Toleration("dedicated", operator="In"),
            "invalid core_pods.tolerations operator 'In'. Allowed: Equal, Exists",
        ),
        (
            Toleration("dedicated", operator="Exists", value="core"),
            "invalid core_pods.tolerations value 'core'. Allowed: no value with operator 'Exists'",
        ),
        (
            Toleration("dedicated", effect="NoExecuteNow"),
            "invalid core_pods.tolerations effect 'NoExecuteNow'. Allowed: NoSchedule, "
            "PreferNoSchedule, NoExecute",
        ),
        (
            Toleration("bad key!"),
            "invalid core_pods.tolerations key 'bad key!'. Allowed: a taint key",
        ),
    ],
)
def test_fails_when_a_pool_toleration_is_invalid(toleration: Toleration, expected: str) -> None:
    message = _error(core_pods=NodePool({"pool": "core"}, tolerations=(toleration,)))
    assert message.startswith(f"test/hub: {expected}"), message

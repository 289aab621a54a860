"""Every GPU resource counted by its own quota item, judged by the real API server (issue 21).

Issue 21's report: ``Gpu(resource_name="nvidia.com/mig-1g.10gb")`` — the pod asks for the
MIG resource, but the ResourceQuota only limited ``requests.nvidia.com/gpu``, so nothing
bounded MIG pods. Here a hub with whole-GPU, MIG and CPU profiles and
``NamespaceQuota(gpus=2, extended_resources={MIG: 2})`` is applied into a namespace of its
own; user pods rendered by the real KubeSpawner 7 from the generated config are created
**as the hub** (its ServiceAccount's token), and the real ResourceQuota admission decides:
two MIG servers are admitted, the third is refused with "exceeded quota" for
``requests.nvidia.com/mig-1g.10gb``, and whole-GPU servers are admitted and refused by
their own item, whatever the MIG servers use.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from jupyter_constructs import Gpu, NamespaceQuota, Toleration
from tests.helpers import make_hub, synth
from tests.support.kube.client import ApiError, KubeClient
from tests.support.kube.fixtures import ProductFactory
from tests.support.kube.product import UserChoice, render_user_pod

pytestmark = [pytest.mark.k8s, pytest.mark.xdist_group("gpu-quota")]

MIG = "nvidia.com/mig-1g.10gb"


@pytest.fixture(scope="module")
def objects() -> list[dict[str, Any]]:
    chart, hub = make_hub(
        with_profile=False,
        quota=NamespaceQuota(gpus=2, extended_resources={MIG: 2}),
    )
    hub.add_profile("small", display_name="Small", default=True)
    hub.add_profile("gpu", display_name="One A100", gpu=Gpu(count=1))
    # A MIG slice asked for through extra_resources, the way z2jh users write it.
    hub.add_profile(
        "mig",
        display_name="A MIG slice",
        extra_resources={MIG: "1"},
        node_selector={"nvidia.com/mig.strategy": "mixed"},
        tolerations=[Toleration("nvidia.com/gpu", effect="NoSchedule")],
    )
    return synth(chart)


@pytest.fixture
def hub_namespace(product: ProductFactory, objects: list[dict[str, Any]]) -> Iterator[str]:
    """The hub applied into a namespace of the test's own (its quota computed)."""
    yield product(objects)


def _start(admin: KubeClient, namespace: str, objects: list[dict[str, Any]], slug: str) -> Any:
    """Create the pod KubeSpawner renders for a new user of ``slug``, as the hub does."""
    hub = admin.as_service_account(namespace, "hub")
    pod, _ = render_user_pod(objects, UserChoice(slug), f"{slug}-{uuid.uuid4().hex[:6]}@x.org")
    stored, _ = hub.create(pod, namespace)
    return stored


def _refused(admin: KubeClient, namespace: str, objects: list[dict[str, Any]], slug: str) -> str:
    with pytest.raises(ApiError) as refused:
        _start(admin, namespace, objects, slug)
    assert refused.value.status == 403, refused.value
    return refused.value.message


def test_the_quota_has_one_item_per_gpu_resource(admin: KubeClient, hub_namespace: str) -> None:
    (quota,) = admin.get(f"/api/v1/namespaces/{hub_namespace}/resourcequotas")["items"]
    hard = quota["status"]["hard"]
    assert hard["requests.nvidia.com/gpu"] == "2"
    assert hard[f"requests.{MIG}"] == "2"


def test_mig_servers_are_bounded_by_their_own_item_and_whole_gpus_by_theirs(
    admin: KubeClient, hub_namespace: str, objects: list[dict[str, Any]]
) -> None:
    for _ in range(2):
        pod = _start(admin, hub_namespace, objects, "mig")
        (container,) = [c for c in pod["spec"]["containers"] if c["name"] == "notebook"]
        assert container["resources"]["requests"][MIG] == "1"
    message = _refused(admin, hub_namespace, objects, "mig")
    print(f"\nthe API server refuses the third MIG server:\n{message}")
    assert "exceeded quota: jupyterhub" in message, message
    assert f"requested: requests.{MIG}=1" in message, message
    assert f"limited: requests.{MIG}=2" in message, message
    assert "requests.nvidia.com/gpu" not in message, message
    # Whole GPUs are not taken by the MIG servers: two fit, the third is refused by
    # its own item.
    for _ in range(2):
        _start(admin, hub_namespace, objects, "gpu")
    message = _refused(admin, hub_namespace, objects, "gpu")
    assert "requested: requests.nvidia.com/gpu=1" in message, message
    assert "limited: requests.nvidia.com/gpu=2" in message, message
    # Servers without a GPU are bounded by neither.
    _start(admin, hub_namespace, objects, "small")


def test_a_server_without_a_gpu_is_stored_with_its_gpus_hidden_and_off_gpu_nodes(
    admin: KubeClient, hub_namespace: str, objects: list[dict[str, Any]]
) -> None:
    """The pod the API server stores for a CPU profile (created as the hub) keeps the
    variable that overrides the image's ``NVIDIA_VISIBLE_DEVICES=all`` and the required
    node affinity that keeps it off GPU nodes; a GPU profile's pod has neither."""
    small = _start(admin, hub_namespace, objects, "small")
    (notebook,) = [c for c in small["spec"]["containers"] if c["name"] == "notebook"]
    env = {e["name"]: e.get("value") for e in notebook.get("env") or []}
    assert env["NVIDIA_VISIBLE_DEVICES"] == "void"
    terms = small["spec"]["affinity"]["nodeAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"
    ]["nodeSelectorTerms"]
    assert terms == [
        {
            "matchExpressions": [
                {"key": "cloud.google.com/gke-accelerator", "operator": "DoesNotExist"},
                {"key": "nvidia.com/gpu.present", "operator": "NotIn", "values": ["true"]},
            ]
        }
    ]
    for slug in ("gpu", "mig"):
        pod = _start(admin, hub_namespace, objects, slug)
        (notebook,) = [c for c in pod["spec"]["containers"] if c["name"] == "notebook"]
        assert "NVIDIA_VISIBLE_DEVICES" not in {e["name"] for e in notebook.get("env") or []}
        assert "affinity" not in pod["spec"], slug

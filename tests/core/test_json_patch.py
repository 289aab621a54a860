"""``add_json_patch`` works on every object the library exposes, numbers and quantities included.

The README promises it as the escape hatch. cdk8s's typed L1 classes drop
``IntOrString`` and ``Quantity`` values given to ``add_json_patch`` (cdk8s issue #2172,
open): patching ``hub.pvc`` storage to ``"5Gi"`` rendered ``requests: {}``, and a hub
egress rule patched to ``port: 636`` rendered a rule with no port, which opens every
port. Every object here is plain data, so every value given is the value written.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import cdk8s
import pytest

from jupyter_constructs import (
    ArgoCdApplication,
    CloudflareTunnel,
    ExternalSecretSource,
    JupyterHub,
    ObservabilityBundle,
    PlatformServiceBinding,
    SecretRef,
    SharedData,
)
from tests.helpers import make_hub, synth

PORT, QUANTITY, TEXT = 636, "5Gi", "patched"


def _platform() -> tuple[cdk8s.Chart, JupyterHub, dict[str, cdk8s.ApiObject]]:
    """A hub with every add-on, and every object it exposes, by attribute path."""
    chart, hub = make_hub(shared_data=SharedData())
    hub.add_profile("gpu", display_name="GPU", internet_access=True)
    trino = PlatformServiceBinding.trino(
        chart, "trino", host="trino.data-platform", catalog="iceberg", user="jupyter"
    )
    hub.add_binding(trino)
    tunnel = CloudflareTunnel(
        chart, "tunnel", hub=hub, tunnel_token=SecretRef("cloudflared", "token"), exclusive=False
    )
    bundle = ObservabilityBundle(chart, "observability", hub=hub)
    source = ExternalSecretSource(
        chart, "creds", secret_name="creds", store="vault", keys={"token": "path#token"}
    )
    argocd = ArgoCdApplication(
        chart,
        "argocd",
        name="jupyterhub",
        repo_url="https://github.com/example/platform.git",
        path="dist/prod",
        destination_namespace="jupyter",
    )
    assert hub.network is not None and hub.secret_bootstrap is not None
    assert hub.pvc is not None and hub.shared_data_pvc is not None and hub.ingress is not None
    assert hub.resource_quota is not None and hub.limit_range is not None
    assert hub.namespace_object is not None and trino.config_map is not None
    assert trino.network_policy is not None
    exposed: dict[str, cdk8s.ApiObject] = {
        "hub.namespace_object": hub.namespace_object,
        "hub.deployment": hub.deployment,
        "hub.service": hub.service,
        "hub.config_map": hub.config_map,
        "hub.pvc": hub.pvc,
        "hub.shared_data_pvc": hub.shared_data_pvc,
        "hub.service_account": hub.service_account,
        "hub.role": hub.role,
        "hub.role_binding": hub.role_binding,
        "hub.user_service_account": hub.user_service_account,
        "hub.resource_quota": hub.resource_quota,
        "hub.limit_range": hub.limit_range,
        "hub.proxy_deployment": hub.proxy_deployment,
        "hub.proxy_service": hub.proxy_service,
        "hub.proxy_api_service": hub.proxy_api_service,
        "hub.ingress.ingress": hub.ingress.ingress,
        "hub.secret_bootstrap.service_account": hub.secret_bootstrap.service_account,
        "hub.secret_bootstrap.role": hub.secret_bootstrap.role,
        "hub.secret_bootstrap.role_binding": hub.secret_bootstrap.role_binding,
        "hub.secret_bootstrap.config_map": hub.secret_bootstrap.config_map,
        "hub.secret_bootstrap.job": hub.secret_bootstrap.job,
        "trino.config_map": trino.config_map,
        "trino.network_policy": trino.network_policy,
        "tunnel.config_map": tunnel.config_map,
        "tunnel.deployment": tunnel.deployment,
        "tunnel.pdb": tunnel.pdb,
        "bundle.service_monitor": bundle.service_monitor,
        "bundle.pod_monitor": bundle.pod_monitor,
        "bundle.prometheus_rule": bundle.prometheus_rule,
        "bundle.dashboard_config_map": bundle.dashboard_config_map,
        "source.external_secret": source.external_secret,
        "argocd.application": argocd.application,
    }
    for name, secret in hub.secret_bootstrap.secrets.items():
        exposed[f"hub.secret_bootstrap.secrets[{name!r}]"] = secret
    for name, policy in hub.network.policies.items():
        exposed[f"hub.network.policies[{name!r}]"] = policy
    for i, policy in enumerate(tunnel.network_policies):
        exposed[f"tunnel.network_policies[{i}]"] = policy
    for i, policy in enumerate(bundle.network_policies):
        exposed[f"bundle.network_policies[{i}]"] = policy
    return chart, hub, exposed


def _find(objects: list[dict[str, Any]], obj: cdk8s.ApiObject) -> dict[str, Any]:
    (found,) = [o for o in objects if o["kind"] == obj.kind and o["metadata"]["name"] == obj.name]
    return found


def _exposed_names() -> Iterator[str]:
    yield from _platform()[2]


@pytest.mark.parametrize("attribute", list(_exposed_names()))
def test_a_port_a_quantity_and_a_string_survive_on(attribute: str) -> None:
    chart, _, exposed = _platform()
    obj = exposed[attribute]
    obj.add_json_patch(
        cdk8s.JsonPatch.add("/x-patched", {"port": PORT, "storage": QUANTITY}),
        cdk8s.JsonPatch.add("/x-patched/text", TEXT),
        cdk8s.JsonPatch.replace("/x-patched/port", PORT + 1),
    )
    manifest = _find(synth(chart), obj)
    assert manifest["x-patched"] == {"port": PORT + 1, "storage": QUANTITY, "text": TEXT}
    # The head stays where cdk8s puts it; patched keys come after.
    assert list(manifest)[:3] == ["apiVersion", "kind", "metadata"]


def test_every_object_of_the_platform_is_exposed() -> None:
    """The list above is the whole picture: every object of the chart is reachable."""
    chart, _, exposed = _platform()
    rendered = {(o["kind"], o["metadata"]["name"]) for o in synth(chart)}
    reachable = {(o.kind, o.name) for o in exposed.values()}
    pullers = {(k, n) for k, n in rendered if k == "DaemonSet"}
    assert rendered - pullers == reachable


def test_the_hub_volume_size_is_patched_as_a_quantity() -> None:
    chart, hub = make_hub()
    assert hub.pvc is not None
    hub.pvc.add_json_patch(cdk8s.JsonPatch.replace("/spec/resources/requests/storage", "5Gi"))
    pvc = _find(synth(chart), hub.pvc)
    assert pvc["spec"]["resources"] == {"requests": {"storage": "5Gi"}}


def test_a_patched_egress_port_stays_a_port() -> None:
    """A rule whose port vanished would open every port."""
    chart, hub = make_hub()
    assert hub.network is not None
    policy = hub.network.policies["hub"]
    policy.add_json_patch(
        cdk8s.JsonPatch.add(
            "/spec/egress/-",
            {"to": [{"ipBlock": {"cidr": "10.0.0.10/32"}}], "ports": [{"port": 636}]},
        )
    )
    rendered = _find(synth(chart), policy)
    assert rendered["spec"]["egress"][-1]["ports"] == [{"port": 636}]


def test_the_hub_service_port_and_the_proxy_memory_are_patched() -> None:
    chart, hub = make_hub()
    hub.service.add_json_patch(cdk8s.JsonPatch.replace("/spec/ports/0/port", 8082))
    hub.proxy_deployment.add_json_patch(
        cdk8s.JsonPatch.replace(
            "/spec/template/spec/containers/0/resources/limits/memory", "1536Mi"
        )
    )
    objects = synth(chart)
    assert _find(objects, hub.service)["spec"]["ports"][0]["port"] == 8082
    container = _find(objects, hub.proxy_deployment)["spec"]["template"]["spec"]["containers"][0]
    assert container["resources"]["limits"]["memory"] == "1536Mi"


def test_metadata_changes_through_cdk8s_are_kept() -> None:
    """cdk8s's own metadata API (``obj.metadata.add_label``) works on every object too."""
    chart, hub = make_hub()
    hub.deployment.metadata.add_label("team", "data")
    hub.deployment.metadata.add_annotation("example.com/owner", "platform")
    deployment = _find(synth(chart), hub.deployment)
    assert deployment["metadata"]["labels"]["team"] == "data"
    assert deployment["metadata"]["labels"]["app.kubernetes.io/component"] == "hub"
    annotations = {
        k: v
        for k, v in deployment["metadata"]["annotations"].items()
        if not k.startswith("checkov.io/skip")  # the object's own scanner exceptions
    }
    assert annotations["example.com/owner"] == "platform"
    # The library's own annotation (Reloader: restart on Secret changes) is kept beside it.
    assert set(annotations) == {"example.com/owner", "secret.reloader.stakater.com/reload"}

"""The library's field rules (core/rules.py) agree with the real kube-apiserver.

Each rule is probed on the field it was written for, with generated strings
(tests/strategies.py: valid values, typical mistakes, arbitrary Unicode), by a dry-run
create (``dryRun=All``: validated, admitted, never stored). Where the library follows the
API server's rule exactly, both must give the same verdict; where it is deliberately
stricter (documented in core/rules.py and docs/validation.md), every value it accepts
must be accepted by the server.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jupyter_constructs.core import rules
from tests import strategies
from tests.support.kube.client import ApiError, KubeClient

pytestmark = pytest.mark.k8s

Obj = dict[str, Any]
EXAMPLES = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _pod(container: Obj | None = None, **spec: Any) -> Obj:
    base = {"name": "c", "image": "registry.k8s.io/pause:3.10.1"}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "probe"},
        "spec": {"containers": [{**base, **(container or {})}], **spec},
    }


def _config_map(**metadata: Any) -> Obj:
    meta = {"name": "probe", **metadata}
    data = meta.pop("data", None)
    obj: Obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta}
    if data is not None:
        obj["data"] = data
    return obj


# rule, how a value is placed in an object, the kind of strings to try, exact or stricter
PROBES: dict[str, tuple[Callable[[object], bool], Callable[[str], Obj], str, bool]] = {
    "dns-subdomain": (rules.is_dns_subdomain, lambda v: _config_map(name=v), "dns-subdomain", True),
    "label-key": (rules.is_label_key, lambda v: _config_map(labels={v: "x"}), "label-key", True),
    "label-value": (
        rules.is_label_value,
        lambda v: _config_map(labels={"k": v}),
        "label-value",
        True,
    ),
    "annotation-key": (
        rules.is_annotation_key,
        lambda v: _config_map(annotations={v: "x"}),
        "label-key",
        True,
    ),
    "config-map-key": (
        rules.is_config_map_key,
        lambda v: _config_map(data={v: "x"}),
        "env-var-name",
        True,
    ),
    "env-var-name": (
        rules.is_env_var_name,
        lambda v: _pod({"env": [{"name": v, "value": "x"}]}),
        "env-var-name",
        False,  # stricter: the 1.27 rule, Kubernetes 1.34 relaxes it
    ),
    "port-name": (
        rules.is_port_name,
        lambda v: _pod({"ports": [{"name": v, "containerPort": 80}]}),
        "dns-label",
        True,
    ),
    "extended-resource-name": (
        rules.is_extended_resource_name,
        lambda v: _pod({"resources": {"limits": {v: "1"}, "requests": {v: "1"}}}),
        "extended-resource-name",
        False,  # stricter: names in kubernetes.io are native, not GPUs
    ),
    "volume-name": (
        rules.is_dns_label,
        lambda v: _pod(volumes=[{"name": v, "emptyDir": {}}]),
        "dns-label",
        True,
    ),
    "mount-path": (
        rules.is_absolute_path,
        lambda v: _pod(
            {"volumeMounts": [{"name": "v", "mountPath": v}]},
            volumes=[{"name": "v", "emptyDir": {}}],
        ),
        "absolute-path",
        False,  # stricter: normalised absolute paths
    ),
    "image": (rules.is_image, lambda v: _pod({"image": v}), "image", False),
    "sub-path": (
        rules.is_relative_path,
        lambda v: _pod(
            {"volumeMounts": [{"name": "v", "mountPath": "/v", "subPath": v}]},
            volumes=[{"name": "v", "emptyDir": {}}],
        ),
        "relative-path",
        False,  # stricter: no control characters or surrounding whitespace
    ),
    "extended-resource-amount": (
        rules.is_whole_number,
        lambda v: _pod({"resources": {"limits": {"example.com/dev": v}}}),
        "whole-number",
        False,  # stricter: positive whole numbers written plainly
    ),
    "file-key": (
        rules.is_config_map_key,
        lambda v: _pod(
            volumes=[{"name": "v", "configMap": {"name": "c", "items": [{"key": v, "path": "p"}]}}]
        ),
        "config-map-key",
        False,  # stricter: the server takes any key here, but no ConfigMap has such a key
    ),
    "toleration-value": (
        rules.is_label_value,
        lambda v: _pod(tolerations=[{"key": "k", "operator": "Equal", "value": v}]),
        "label-value",
        True,
    ),
    "host-name": (
        rules.is_host_name,
        lambda v: {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": {"name": "probe"},
            "spec": {"rules": [{"host": v}]},
        },
        "host-name",
        False,  # stricter: a fully qualified name with a top-level domain
    ),
}


def _known_bad(kind: str) -> list[str]:
    return [b for b in strategies.BAD.get(kind, []) if isinstance(b, str)] or [""]


def server_accepts(admin: KubeClient, namespace: str, obj: Obj) -> bool:
    resource = admin.resource(obj["apiVersion"], obj["kind"])
    try:
        admin.request("POST", resource.collection(namespace), obj, params={"dryRun": "All"})
    except ApiError as error:
        if error.status in (400, 422):
            return False
        raise
    return True


@pytest.mark.parametrize("probe", sorted(PROBES))
def test_the_rule_agrees_with_the_api_server(admin: KubeClient, namespace: str, probe: str):
    rule, place, kind, exact = PROBES[probe]
    disagreements: list[str] = []
    try:  # without a controller manager the ServiceAccount admission needs it made
        admin.post(
            f"/api/v1/namespaces/{namespace}/serviceaccounts", {"metadata": {"name": "default"}}
        )
    except ApiError as error:
        if error.status != 409:
            raise

    @EXAMPLES
    @given(value=strategies.strings(kind) | st.sampled_from(_known_bad(kind)))
    def check(value: str) -> None:
        if probe == "port-name" and value == "":
            return  # an empty port name means "no name": the field is optional
        ours = rule(value)
        if ours and not exact and not server_accepts(admin, namespace, place(value)):
            disagreements.append(f"we accept {value!r}, the API server refuses it")
        elif exact and ours != server_accepts(admin, namespace, place(value)):
            verdict = "accept" if ours else "refuse"
            disagreements.append(f"we {verdict} {value!r}, the API server does not")

    check()
    assert disagreements == []

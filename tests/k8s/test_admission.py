"""Every pod the product runs is admitted by the real PodSecurity admission (issue 19, test 2).

``dist/prod`` is applied into a namespace of its own: its Namespace object carries the
``restricted`` enforcement labels, its LimitRange and ResourceQuota are in force. Then:

- each pod template of ``dist/`` (hub, proxy, pullers, tunnel, bootstrap Job) is created
  as a Pod, as a controller would create it;
- for every profile (and every choice of its options) the real KubeSpawner 7 renders the
  user's PVC and pod from the generated hub config, and they are created **with the hub
  ServiceAccount's own TokenRequest token**, as the hub does when a user presses Start.

A pod the namespace would refuse fails the test with the API server's own message.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.support.kube.client import ApiError, KubeClient
from tests.support.kube.fixtures import DIST
from tests.support.kube.product import pod_templates, render_user_pod, user_choices
from tests.support.kube.sync import load_manifests

pytestmark = pytest.mark.k8s

OBJECTS = load_manifests(DIST / "prod")
TEMPLATES = pod_templates(OBJECTS)
CHOICES = user_choices(OBJECTS)


def _create_and_remove(
    client: KubeClient, admin: KubeClient, obj: dict[str, Any], namespace: str
) -> list[str]:
    """Create ``obj`` (strict validation) as ``client``; delete it (as admin); return warnings."""
    try:
        stored, warnings = client.create(obj, namespace)
    except ApiError as error:
        pytest.fail(
            f"{obj['kind']} {obj['metadata']['name']} refused: {error.message}", pytrace=False
        )
    admin.delete_object(stored, gracePeriodSeconds="0")
    return warnings


def test_every_workload_and_profile_is_checked() -> None:
    assert len(TEMPLATES) >= 6, sorted(TEMPLATES)
    assert len(CHOICES) >= 1


def test_the_namespace_refuses_what_restricted_forbids(
    admin: KubeClient, product_namespace: str
) -> None:
    """The harness is not vacuous: the product's namespace enforces ``restricted``."""
    pod = copy.deepcopy(TEMPLATES["Deployment/proxy"])
    del pod["spec"]["containers"][0]["securityContext"]["allowPrivilegeEscalation"]
    with pytest.raises(ApiError) as refused:
        admin.create(pod, product_namespace)
    assert refused.value.message.endswith(
        'violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false '
        '(container "chp" must set securityContext.allowPrivilegeEscalation=false)'
    ), refused.value.message


@pytest.mark.parametrize("workload", sorted(TEMPLATES))
def test_pod_template_is_admitted(admin: KubeClient, product_namespace: str, workload: str) -> None:
    warnings = _create_and_remove(
        admin, admin, copy.deepcopy(TEMPLATES[workload]), product_namespace
    )
    assert not warnings, warnings


@pytest.mark.parametrize("choice", CHOICES, ids=[c.id for c in CHOICES])
def test_user_pod_and_pvc_are_admitted_as_the_hub(
    admin: KubeClient, product_namespace: str, choice: Any
) -> None:
    hub = admin.as_service_account(product_namespace, "hub")
    # One user per choice: each gets its own PVC name.
    pod, pvc = render_user_pod(OBJECTS, choice, f"user-{CHOICES.index(choice)}@example.com")
    warnings = _create_and_remove(hub, admin, pvc, product_namespace)
    warnings += _create_and_remove(hub, admin, pod, product_namespace)
    assert not warnings, warnings

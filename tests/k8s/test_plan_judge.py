"""The real API server judges ``plan`` (issue 17): what it calls refused is refused.

For every case of ``tests/support/plan_cases.py`` the old object is applied server-side
(as ArgoCD's ``ServerSideApply=true`` does), then the new one. A change the plan calls
``refused`` must be refused by kube-apiserver; a change it lets through (or only notes)
must apply in place, except where the case says the note is about exactly that (a PVC
expansion on a StorageClass without ``allowVolumeExpansion``). A change the plan says
ArgoCD recreates (a hook Job) must be refused in place and accepted after a delete, as
ArgoCD's ``BeforeHookCreation`` does it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from jupyter_constructs.delivery.plan import load_output, make_plan
from tests.support.kube.client import ApiError, KubeClient, wait_until
from tests.support.plan_cases import (
    CASE_IDS,
    CASES,
    EXPANDABLE_CLASS,
    FIXED_CLASS,
    Case,
    in_namespace,
)

pytestmark = pytest.mark.k8s


@pytest.fixture(scope="module")
def storage_classes(admin: KubeClient) -> Iterator[None]:
    for name, expandable in ((EXPANDABLE_CLASS, True), (FIXED_CLASS, False)):
        admin.apply(
            {
                "apiVersion": "storage.k8s.io/v1",
                "kind": "StorageClass",
                "metadata": {"name": name},
                "provisioner": "example.com/plan-judge",
                "allowVolumeExpansion": expandable,
                "volumeBindingMode": "WaitForFirstConsumer",
            }
        )
    yield


def _verdict(tmp_path, case: Case) -> str | None:  # type: ignore[no-untyped-def]
    """The severity the plan itself gives (not the case's expectation)."""
    import yaml

    for side, obj in (("old", case.old), ("new", case.new)):
        folder = tmp_path / side / "prod"
        folder.mkdir(parents=True)
        (folder / "obj.yaml").write_text(yaml.safe_dump(in_namespace(obj, "jupyter")))
    (change,) = make_plan(load_output(tmp_path / "old"), load_output(tmp_path / "new")).changes
    severities = [f.severity for f in change.findings]
    return severities[0] if severities else None


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_the_api_server_agrees_with_the_plan(
    admin: KubeClient,
    storage_classes: None,
    namespace: str,
    case: Case,
    tmp_path,  # type: ignore[no-untyped-def]
) -> None:
    verdict = _verdict(tmp_path, case)
    assert verdict == case.severity, f"plan says {verdict}, the case expects {case.severity}"
    old, new = in_namespace(case.old, namespace), in_namespace(case.new, namespace)
    admin.apply(old)
    if case.bound:
        admin.patch(admin.path_of(old) + "/status", {"status": {"phase": "Bound"}})
    try:
        admin.apply(new)
    except ApiError as error:
        assert not case.accepted_by_api_server, (
            f"the plan lets {case.id} through, but the API server refuses it: {error.message}"
        )
        print(f"{case.id}: refused ({error.status}): {error.message[:200]}")
        if case.severity == "recreated":  # what ArgoCD's BeforeHookCreation does
            admin.delete_object(old, propagationPolicy="Background")
            wait_until(lambda: not admin.exists(admin.path_of(old)), 30, "the old Job to go")
            admin.apply(new)
        return
    assert case.accepted_by_api_server, (
        f"the plan says {case.severity} for {case.id}, but the API server applied it in place"
    )

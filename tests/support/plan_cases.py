"""Changes between two versions of one object, with what ``plan`` must say of each.

Shared by the unit tests of the plan (``tests/delivery/test_plan.py``) and by its judge,
the real API server (``tests/k8s/test_plan_judge.py``), which applies ``old`` then ``new``
server-side as ArgoCD does and checks that every change the plan calls ``refused`` is
really refused, and that every other change applies in place.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

Obj = dict[str, Any]

#: The StorageClass the claim cases use; the judge creates it (expansion allowed).
EXPANDABLE_CLASS = "plan-judge-expandable"
#: A StorageClass without allowVolumeExpansion; the judge creates it too.
FIXED_CLASS = "plan-judge-fixed"


@dataclass(frozen=True)
class Case:
    """``old`` -> ``new`` of one object, and the plan's expected verdict.

    Attributes:
        id: Test id.
        old: The object as deployed.
        new: The object after the change.
        severity: The finding expected on the change (``"refused"``, ``"recreated"``,
            ``"note"``) or ``None`` for a change that applies in place silently.
        field: The field the finding names (``None``: not checked).
        bound: The judge marks the claim Bound before the change (resizing is decided
            on bound claims only).
        applies_in_place: Whether the API server accepts ``new`` over ``old`` (default: it does
            unless the severity is ``refused``; ``note`` cases say it explicitly).
    """

    id: str
    old: Obj
    new: Obj
    severity: str | None
    field: str | None = None
    bound: bool = False
    applies_in_place: bool | None = None

    @property
    def accepted_by_api_server(self) -> bool:
        if self.applies_in_place is not None:
            return self.applies_in_place
        return self.severity not in ("refused", "recreated")


def _pod(labels: dict[str, str], image: str = "registry.k8s.io/pause:3.10.1") -> Obj:
    return {
        "metadata": {"labels": dict(labels)},
        "spec": {"containers": [{"name": "main", "image": image}]},
    }


def deployment(
    kind: str = "Deployment", labels: dict[str, str] | None = None, image: str | None = None
) -> Obj:
    labels = labels or {"app": "web"}
    template = _pod(labels, image or "registry.k8s.io/pause:3.10.1")
    if kind == "Job":
        template["spec"]["restartPolicy"] = "Never"
        return {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": "job"},
            "spec": {"template": template, "backoffLimit": 1, "suspend": True},
        }
    obj: Obj = {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": {"name": kind.lower()},
        "spec": {"selector": {"matchLabels": dict(labels)}, "template": template},
    }
    if kind == "StatefulSet":
        obj["spec"]["serviceName"] = "web"
        obj["spec"]["replicas"] = 0
    if kind == "Deployment":
        obj["spec"]["replicas"] = 0
    return obj


def claim(
    size: str = "1Gi", storage_class: str = EXPANDABLE_CLASS, mode: str = "ReadWriteOnce"
) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "data"},
        "spec": {
            "accessModes": [mode],
            "storageClassName": storage_class,
            "resources": {"requests": {"storage": size}},
        },
    }


def service(cluster_ip: str | None = None, service_type: str = "ClusterIP") -> Obj:
    spec: Obj = {"selector": {"app": "web"}, "ports": [{"port": 80}], "type": service_type}
    if cluster_ip is not None:
        spec["clusterIP"] = cluster_ip
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}, "spec": spec}


def config_map(data: dict[str, str], immutable: bool | None = None) -> Obj:
    obj: Obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}}
    obj["data"] = data
    if immutable is not None:
        obj["immutable"] = immutable
    return obj


def role_binding(role: str, user: str = "alice") -> Obj:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": "readers"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}],
    }


def _with(obj: Obj, path: str, value: Any) -> Obj:
    changed = copy.deepcopy(obj)
    node = changed
    *parents, last = path.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value
    return changed


def _hook(obj: Obj) -> Obj:
    hooked = copy.deepcopy(obj)
    hooked["metadata"]["annotations"] = {
        "argocd.argoproj.io/hook": "Sync",
        "argocd.argoproj.io/hook-delete-policy": "BeforeHookCreation",
    }
    return hooked


CASES: list[Case] = [
    # Workloads: the selector is immutable, the template is not.
    Case(
        "deployment-image-bump",
        deployment(),
        deployment(image="registry.k8s.io/pause:3.10"),
        None,
    ),
    Case(
        "deployment-selector",
        deployment(),
        deployment(labels={"app": "web", "tier": "edge"}),
        "refused",
        "spec.selector",
    ),
    Case(
        "daemonset-selector",
        deployment("DaemonSet"),
        deployment("DaemonSet", labels={"app": "web2"}),
        "refused",
        "spec.selector",
    ),
    Case(
        "statefulset-replicas",
        deployment("StatefulSet"),
        _with(deployment("StatefulSet"), "spec.replicas", 2),
        None,
    ),
    Case(
        "statefulset-service-name",
        deployment("StatefulSet"),
        _with(deployment("StatefulSet"), "spec.serviceName", "web-headless"),
        "refused",
        "spec.serviceName",
    ),
    # A Job's pod template is immutable, unless ArgoCD recreates the Job (a hook).
    Case(
        "job-template",
        deployment("Job"),
        deployment("Job", image="registry.k8s.io/pause:3.10"),
        "refused",
        "spec.template",
    ),
    Case(
        "job-backoff-limit",
        deployment("Job"),
        _with(deployment("Job"), "spec.backoffLimit", 3),
        None,
    ),
    Case(
        "hook-job-template",
        _hook(deployment("Job")),
        _hook(deployment("Job", image="registry.k8s.io/pause:3.10")),
        "recreated",
        "spec",
    ),
    # Claims: only the storage request changes, and only upwards, on a bound claim.
    Case("claim-shrink", claim("2Gi"), claim("1Gi"), "refused", "spec.resources.requests.storage"),
    Case(
        "claim-expand-bound",
        claim("1Gi"),
        claim("2Gi"),
        "note",
        "spec.resources.requests.storage",
        bound=True,
        applies_in_place=True,
    ),
    Case(
        "claim-expand-without-allow-volume-expansion",
        claim("1Gi", storage_class=FIXED_CLASS),
        claim("2Gi", storage_class=FIXED_CLASS),
        "note",
        "spec.resources.requests.storage",
        bound=True,
        applies_in_place=False,
    ),
    Case(
        "claim-storage-class",
        claim(),
        claim(storage_class=FIXED_CLASS),
        "refused",
        "spec.storageClassName",
    ),
    Case(
        "claim-access-modes",
        claim(),
        claim(mode="ReadWriteMany"),
        "refused",
        "spec.accessModes",
    ),
    # Services: the cluster IP, once set, and headless-ness are fixed.
    Case(
        "service-type-nodeport",
        service(),
        service(service_type="NodePort"),
        None,
    ),
    Case(
        "service-cluster-ip",
        service("10.96.200.10"),
        service("10.96.200.11"),
        "refused",
        "spec.clusterIP",
    ),
    Case(
        "service-headless",
        service(),
        service("None"),
        "refused",
        "spec.clusterIP",
    ),
    # Immutable ConfigMaps, RoleBinding roleRef.
    Case("configmap-data", config_map({"a": "1"}), config_map({"a": "2"}), None),
    Case(
        "immutable-configmap-data",
        config_map({"a": "1"}, immutable=True),
        config_map({"a": "2"}, immutable=True),
        "refused",
        "data",
    ),
    Case(
        "rolebinding-subjects",
        role_binding("reader"),
        role_binding("reader", user="bob"),
        None,
    ),
    Case(
        "rolebinding-role-ref",
        role_binding("reader"),
        role_binding("writer"),
        "refused",
        "roleRef",
    ),
]

REMOVALS: list[tuple[str, Obj, str | None]] = [
    ("claim", claim(), "data-loss"),
    (
        "namespace",
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "jupyter"}},
        "data-loss",
    ),
    ("config-map", config_map({"a": "1"}), None),
]


def in_namespace(obj: Obj, namespace: str) -> Obj:
    """A copy of ``obj`` in ``namespace`` (cluster-scoped kinds unchanged)."""
    moved = copy.deepcopy(obj)
    if moved["kind"] != "Namespace":
        moved["metadata"]["namespace"] = namespace
    return moved


CASE_IDS = [c.id for c in CASES]
__all__ = ["CASES", "CASE_IDS", "EXPANDABLE_CLASS", "FIXED_CLASS", "REMOVALS", "Case"]

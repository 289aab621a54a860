"""User scheduler and placeholders meet the real API server: apply, admission, quota, RBAC.

A hub with core and user node pools, a ``UserScheduler`` and ``UserPlaceholders`` is
rendered for a namespace of the test's own (its cluster-scoped objects — the ClusterRole,
its binding and the PriorityClass pair — carry that namespace in their names) and synced
the way ArgoCD does. Then:

- every pod template is admitted by the namespace's ``restricted`` PodSecurity, and the
  user pod the real KubeSpawner renders is admitted as the hub (its ``priorityClassName``
  resolved by the Priority admission plugin, which refuses an unknown class);
- the ResourceQuota admits the placeholders beside the hub, the proxy and the scheduler,
  and then exactly as many user servers as ``hub.capacity_summary()`` says: the next one
  gets the API server's "exceeded quota";
- the user scheduler's ServiceAccount, with its own TokenRequest token, may do what a
  kube-scheduler does (reads everywhere, binds and preempts in its namespace) and nothing
  beyond (no write outside its namespace, no Secret, no RBAC change).

That the real kube-scheduler runs with exactly this RBAC, packs and preempts is
``test_user_scheduler.py``.
"""

from __future__ import annotations

import contextlib
import copy
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from jupyter_constructs import (
    NamespaceQuota,
    NodeAffinity,
    NodePool,
    UserPlaceholders,
    UserScheduler,
)
from tests.helpers import new_chart, oidc_auth, synth
from tests.k8s.conftest import apply_product, delete_namespace
from tests.support.kube.client import ApiError, KubeClient
from tests.support.kube.product import UserChoice, pod_templates, render_user_pod

pytestmark = pytest.mark.k8s


def scheduled_objects(namespace: str, quota: NamespaceQuota | None = None) -> list[dict[str, Any]]:
    """The hub of this module, rendered for ``namespace``."""
    from jupyter_constructs import JupyterHub

    chart = new_chart(namespace)
    hub = JupyterHub(
        chart,
        "hub",
        domain="jupyter.example.com",
        auth=oidc_auth(),
        core_pods=NodePool.core(),
        user_pods=NodePool.user(affinity=NodeAffinity.REQUIRED),
        quota=quota or NamespaceQuota(),
    )
    small = hub.add_profile("small", display_name="Small", default=True)
    UserScheduler(chart, "scheduler", hub=hub)
    UserPlaceholders(chart, "warm", hub=hub, profile=small, count=2)
    objects = synth(chart)
    objects.append({"capacity": hub.capacity_summary()})  # read by the quota test
    return objects


def cluster_scoped(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [o for o in objects if "metadata" in o and "namespace" not in o["metadata"]]


@dataclass
class Applied:
    namespace: str
    objects: list[dict[str, Any]]
    capacity: dict[str, tuple[int, str]]


@contextlib.contextmanager
def applied(admin: KubeClient, quota: NamespaceQuota | None = None) -> Iterator[Applied]:
    namespace = f"sched-{uuid.uuid4().hex[:6]}"
    rendered = scheduled_objects(namespace, quota)
    capacity = rendered.pop()["capacity"]
    try:
        apply_product(admin, namespace, rendered)
        yield Applied(namespace, rendered, capacity)
    finally:
        delete_namespace(admin, namespace)
        for obj in cluster_scoped(rendered):
            if obj["kind"] != "Namespace":
                admin.delete_object(obj)


@pytest.fixture(scope="module")
def product(admin: KubeClient, crds: list[str]) -> Iterator[Applied]:
    with applied(admin) as result:
        yield result


def test_the_cluster_scoped_objects_are_applied(admin: KubeClient, product: Applied) -> None:
    kinds = sorted(o["kind"] for o in cluster_scoped(product.objects))
    assert kinds == [
        "ClusterRole",
        "ClusterRoleBinding",
        "Namespace",
        "PriorityClass",
        "PriorityClass",
    ]
    for obj in cluster_scoped(product.objects):
        assert admin.exists(admin.path_of(obj)), obj["metadata"]["name"]


@pytest.mark.parametrize(
    "workload", ["Deployment/user-scheduler", "Deployment/user-placeholder-small"]
)
def test_the_scheduler_and_placeholder_pods_are_admitted(
    admin: KubeClient, product: Applied, workload: str
) -> None:
    pod = copy.deepcopy(pod_templates(product.objects)[workload])
    stored, warnings = admin.create(pod, product.namespace)
    try:
        assert not warnings, warnings
        # The Priority admission plugin resolved the class to its value.
        if workload.endswith("placeholder-small"):
            assert stored["spec"]["priority"] == -10
    finally:
        admin.delete_object(stored, gracePeriodSeconds="0")


def test_the_user_pod_is_admitted_with_its_priority_as_the_hub(
    admin: KubeClient, product: Applied
) -> None:
    hub = admin.as_service_account(product.namespace, "hub")
    pod, pvc = render_user_pod(product.objects, UserChoice("small"), "alice@example.com")
    stored_pvc, _ = hub.create(pvc, product.namespace)
    stored, warnings = hub.create(pod, product.namespace)
    try:
        assert not warnings, warnings
        assert stored["spec"]["priority"] == 0
        assert stored["spec"]["priorityClassName"] == f"jupyterhub-{product.namespace}-user"
        assert stored["spec"]["schedulerName"] == f"{product.namespace}-user-scheduler"
    finally:
        admin.delete_object(stored, gracePeriodSeconds="0")
        admin.delete_object(stored_pvc)


def test_an_unknown_priority_class_is_refused(admin: KubeClient, product: Applied) -> None:
    """The check above is not vacuous: the API server resolves the class by name."""
    pod, _ = render_user_pod(product.objects, UserChoice("small"), "bob@example.com")
    pod["spec"]["priorityClassName"] = "jupyterhub-elsewhere-user"
    with pytest.raises(ApiError) as refused:
        admin.create(pod, product.namespace)
    assert "no PriorityClass with name jupyterhub-elsewhere-user was found" in (
        refused.value.message
    )


def test_the_quota_admits_the_placeholders_and_as_many_servers_as_the_summary_says(
    admin: KubeClient, crds: list[str]
) -> None:
    """4 CPU of requests: hub 500m, proxy 100m, two scheduler pods of 50m and two
    placeholders of 1 CPU leave 1.3 CPU, so one 1-CPU server and not two."""
    with applied(admin, NamespaceQuota(requests_cpu="4")) as product:
        assert product.capacity == {"small": (1, "requests.cpu")}
        namespace = product.namespace
        templates = pod_templates(product.objects)
        created = []
        for workload, copies in (
            ("Deployment/hub", 1),
            ("Deployment/proxy", 1),
            ("Deployment/user-scheduler", 2),
            ("Deployment/user-placeholder-small", 2),
        ):
            for n in range(copies):
                pod = copy.deepcopy(templates[workload])
                pod["metadata"]["name"] += f"-{n}"
                created.append(admin.create(pod, namespace)[0])  # admitted, or it raises
        hub = admin.as_service_account(namespace, "hub")
        for n in range(product.capacity["small"][0]):
            pod, pvc = render_user_pod(product.objects, UserChoice("small"), f"u{n}@example.com")
            hub.create(pvc, namespace)
            hub.create(pod, namespace)
        pod, pvc = render_user_pod(product.objects, UserChoice("small"), "one-more@example.com")
        hub.create(pvc, namespace)
        with pytest.raises(ApiError) as refused:
            hub.create(pod, namespace)
        print(f"\nthe API server says: {refused.value.message}")
        assert refused.value.status == 403
        assert (
            "exceeded quota: jupyterhub, requested: requests.cpu=1, used: requests.cpu=3700m, "
            "limited: requests.cpu=4" in refused.value.message
        ), refused.value.message


# ---------------------------------------------------------------------- RBAC

OTHER = "other"


@dataclass(frozen=True)
class Check:
    """One request of the user scheduler: ``verb`` on ``resource`` in its namespace, in
    another namespace (``OTHER``) or cluster-wide (``""``)."""

    verb: str
    resource: str
    why: str
    namespace: str = "product"
    group: str = ""
    name: str = ""
    subresource: str = ""
    version: str = "v1"

    @property
    def id(self) -> str:
        target = self.resource + (f"/{self.subresource}" if self.subresource else "")
        target += f"/{self.name}" if self.name else ""
        where = {"product": "", OTHER: "@other", "": "@cluster"}[self.namespace]
        return f"{self.verb}:{target}{where}"


#: What kube-scheduler 1.34 does (its informers list and watch; binding, status, events,
#: preemption and leader election write).
NEEDED = [
    *[
        Check(verb, resource, "the scheduler's informers", namespace="", group=group)
        for verb in ("list", "watch")
        for group, resource in (
            ("", "nodes"),
            ("", "pods"),
            ("", "namespaces"),
            ("", "persistentvolumes"),
            ("", "persistentvolumeclaims"),
            ("", "services"),
            ("", "replicationcontrollers"),
            ("apps", "replicasets"),
            ("apps", "statefulsets"),
            ("policy", "poddisruptionbudgets"),
            ("storage.k8s.io", "storageclasses"),
            ("storage.k8s.io", "csinodes"),
            ("storage.k8s.io", "csidrivers"),
            ("storage.k8s.io", "csistoragecapacities"),
            ("storage.k8s.io", "volumeattachments"),
            ("resource.k8s.io", "resourceslices"),
            ("resource.k8s.io", "resourceclaims"),
            ("resource.k8s.io", "deviceclasses"),
        )
    ],
    Check("create", "pods", "bind a user pod", name="jupyter-alice", subresource="binding"),
    Check("patch", "pods", "PodScheduled condition", name="jupyter-alice", subresource="status"),
    Check("delete", "pods", "preempt a placeholder", name="user-placeholder-small-x"),
    Check("create", "events", "FailedScheduling events"),
    Check("create", "events", "events (events.k8s.io)", group="events.k8s.io"),
    Check("patch", "persistentvolumeclaims", "volume binding", name="claim-alice"),
    Check("create", "leases", "leader election", group="coordination.k8s.io"),
    Check("get", "leases", "leader", group="coordination.k8s.io", name="user-scheduler-lock"),
    Check("update", "leases", "leader", group="coordination.k8s.io", name="user-scheduler-lock"),
]

MUST_NOT = [
    Check("create", "pods", "bind elsewhere", namespace=OTHER, name="x", subresource="binding"),
    Check("delete", "pods", "evict other teams' pods", namespace=OTHER, name="x"),
    Check(
        "patch",
        "pods",
        "rewrite other pods' status",
        namespace=OTHER,
        name="x",
        subresource="status",
    ),
    Check("create", "pods", "run anything"),
    Check("patch", "pods", "change a user's pod", name="jupyter-alice"),
    Check("create", "pods", "exec into user pods", name="jupyter-alice", subresource="exec"),
    Check("get", "pods", "read users' logs", name="jupyter-alice", subresource="log"),
    Check("get", "secrets", "the hub's secrets", name="hub-secrets"),
    Check("list", "secrets", "every Secret", namespace=""),
    Check("list", "configmaps", "every ConfigMap", namespace=""),
    Check("patch", "configmaps", "its own configuration", name="user-scheduler"),
    Check("patch", "nodes", "cordon or relabel nodes", namespace="", name="node-1"),
    Check("delete", "nodes", "remove nodes", namespace="", name="node-1"),
    Check("patch", "persistentvolumes", "static binding is opt-in", namespace="", name="pv-1"),
    Check("update", "leases", "other leases", group="coordination.k8s.io", name="hub-lock"),
    Check(
        "update",
        "leases",
        "kube-scheduler's lease",
        namespace=OTHER,
        group="coordination.k8s.io",
        name="kube-scheduler",
    ),
    Check("create", "events", "events elsewhere", namespace=OTHER),
    Check(
        "create",
        "tokenreviews",
        "authentication delegation",
        namespace="",
        group="authentication.k8s.io",
    ),
    Check(
        "create",
        "clusterrolebindings",
        "RBAC changes",
        namespace="",
        group="rbac.authorization.k8s.io",
    ),
    Check("create", "rolebindings", "RBAC changes", group="rbac.authorization.k8s.io"),
    Check("create", "serviceaccounts", "other identities' tokens", name="hub", subresource="token"),
]


@pytest.fixture(scope="module")
def other_namespace(admin: KubeClient) -> Iterator[str]:
    name = f"sched-other-{uuid.uuid4().hex[:5]}"
    admin.post("/api/v1/namespaces", {"metadata": {"name": name}})
    yield name
    delete_namespace(admin, name)


@pytest.fixture(scope="module")
def scheduler_client(admin: KubeClient, product: Applied) -> KubeClient:
    return admin.as_service_account(product.namespace, "user-scheduler")


def _attempt(check: Check, client: KubeClient, namespace: str, other: str) -> tuple[bool, str]:
    ns = {"product": namespace, OTHER: other, "": None}[check.namespace]
    return client.attempt(
        check.verb,
        check.resource,
        ns,
        group=check.group,
        name=check.name,
        subresource=check.subresource,
        version=check.version,
    )


@pytest.mark.parametrize("check", NEEDED, ids=[c.id for c in NEEDED])
def test_the_user_scheduler_may_do_what_a_scheduler_does(
    check: Check, scheduler_client: KubeClient, product: Applied, other_namespace: str
) -> None:
    allowed, message = _attempt(check, scheduler_client, product.namespace, other_namespace)
    assert allowed, f"the user scheduler needs this ({check.why}), refused: {message}"


@pytest.mark.parametrize("check", MUST_NOT, ids=[c.id for c in MUST_NOT])
def test_the_user_scheduler_may_do_nothing_beyond(
    check: Check, scheduler_client: KubeClient, product: Applied, other_namespace: str
) -> None:
    allowed, _ = _attempt(check, scheduler_client, product.namespace, other_namespace)
    assert not allowed, f"the user scheduler must not ({check.why}), but may"


def test_other_service_accounts_get_nothing_from_the_cluster_role(
    admin: KubeClient, product: Applied
) -> None:
    """The ClusterRole is bound to the scheduler's ServiceAccount only."""
    for account in ("hub", "user-server", "default"):
        client = admin.as_service_account(product.namespace, account)
        assert not client.can_i("list", "nodes", None), account
        assert not client.can_i("list", "pods", None), account

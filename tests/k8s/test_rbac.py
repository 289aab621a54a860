"""RBAC as each ServiceAccount of the product, with its own token (issue 19, test 3).

``dist/prod`` is applied into a namespace of its own; each check is made with a
TokenRequest token of the ServiceAccount (what its pod's projected volume holds), never
with the admin's rights. A verb a component needs is made as the real request (mutations
as ``dryRun=All``), so a refusal shows the API server's own message; what must be refused
is checked the same way, or with a SelfSubjectAccessReview for verbs without a request
of their own (``escalate``, ``bind``, ``impersonate``).

Subresources are checked as subresources: ``pods`` + ``exec`` (``kubectl auth can-i
create pods/exec`` asks a different question and answers yes for a Role with ``pods``).
The metrics scraper (Prometheus) gets no Kubernetes permission from the product: it
scrapes the hub with a JupyterHub token, checked against the real hub in test_spawn.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from tests.support.kube.client import KubeClient
from tests.support.kube.fixtures import delete_namespace

pytestmark = pytest.mark.k8s

OTHER = "other"  # placeholder for "a namespace that is not the product's"
SECRET = "hub-secrets"
METRICS_SECRET = "prometheus-hub-token"


@dataclass(frozen=True)
class Check:
    """One request: ``verb`` on ``resource`` (``/subresource``) in the product's namespace
    (or the other one), by name when ``name`` is set."""

    service_account: str
    verb: str
    resource: str
    why: str
    name: str = ""
    subresource: str = ""
    group: str = ""
    namespace: str = "product"
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        target = self.resource + (f"/{self.subresource}" if self.subresource else "")
        target += f"/{self.name}" if self.name else ""
        where = "" if self.namespace == "product" else f"@{self.namespace}"
        return f"{self.service_account}:{self.verb}:{target}{where}"


# KubeSpawner 7 (kubespawner/spawner.py, reflector.py): pod and event reflectors list
# and watch; start creates the PVC (reads it back when the create is refused with 403, as a
# full PVC quota does for a claim that exists) and the pod; stop and delete_forever delete
# them. Nothing else (issue 16: pods get, PVC list/watch and events get were granted).
NEEDED = [
    Check("hub", "list", "pods", "KubeSpawner's pod reflector"),
    Check("hub", "watch", "pods", "KubeSpawner's pod reflector"),
    Check("hub", "create", "pods", "KubeSpawner.start"),
    Check("hub", "delete", "pods", "KubeSpawner.stop", name="jupyter-alice"),
    Check("hub", "create", "persistentvolumeclaims", "KubeSpawner.start (home volume)"),
    Check(
        "hub", "get", "persistentvolumeclaims", "KubeSpawner on a PVC conflict", name="claim-alice"
    ),
    Check(
        "hub", "delete", "persistentvolumeclaims", "KubeSpawner.delete_forever", name="claim-alice"
    ),
    Check("hub", "list", "events", "KubeSpawner's event reflector (spawn progress)"),
    Check("hub", "watch", "events", "KubeSpawner's event reflector (spawn progress)"),
    Check("hub-secrets-bootstrap", "get", "secrets", "reads the hub Secret", name=SECRET),
    Check("hub-secrets-bootstrap", "patch", "secrets", "adds missing keys", name=SECRET),
    Check("hub-secrets-bootstrap", "get", "secrets", "reads its Secret", name=METRICS_SECRET),
    Check("hub-secrets-bootstrap", "patch", "secrets", "fills its Secret", name=METRICS_SECRET),
]

MUST_NOT = [
    # The hub: no Secret, no other namespace, no way into pods, no RBAC changes.
    Check("hub", "get", "secrets", "the hub reads its secrets from env", name=SECRET),
    Check("hub", "list", "secrets", "would reveal every Secret"),
    Check("hub", "create", "pods", "exec into user pods", name="jupyter-alice", subresource="exec"),
    Check(
        "hub", "create", "pods", "attach to user pods", name="jupyter-alice", subresource="attach"
    ),
    Check("hub", "create", "pods", "port-forward", name="jupyter-alice", subresource="portforward"),
    Check("hub", "get", "pods", "read user logs", name="jupyter-alice", subresource="log"),
    Check("hub", "patch", "pods", "change a running user pod", name="jupyter-alice"),
    Check("hub", "list", "pods", "other namespaces", namespace=OTHER),
    Check("hub", "create", "pods", "other namespaces", namespace=OTHER),
    Check("hub", "create", "roles", "RBAC changes", group="rbac.authorization.k8s.io"),
    Check("hub", "create", "rolebindings", "RBAC changes", group="rbac.authorization.k8s.io"),
    Check("hub", "escalate", "roles", "escalation", name="hub", group="rbac.authorization.k8s.io"),
    Check(
        "hub",
        "bind",
        "clusterroles",
        "escalation",
        name="admin",
        group="rbac.authorization.k8s.io",
        namespace="",
    ),
    Check("hub", "impersonate", "serviceaccounts", "impersonation", name="hub-secrets-bootstrap"),
    Check(
        "hub",
        "create",
        "serviceaccounts",
        "tokens of other identities",
        name="hub-secrets-bootstrap",
        subresource="token",
    ),
    Check("hub", "patch", "configmaps", "rewrite its own config", name="hub-config"),
    Check("hub", "list", "nodes", "cluster-scoped reads", namespace=""),
    # Granted before issue 16 and never used by KubeSpawner 7.
    Check("hub", "get", "pods", "KubeSpawner reads pods from its watch", name="jupyter-alice"),
    Check("hub", "list", "persistentvolumeclaims", "KubeSpawner has no PVC reflector"),
    Check("hub", "watch", "persistentvolumeclaims", "KubeSpawner has no PVC reflector"),
    Check("hub", "get", "events", "KubeSpawner reads events from its watch", name="e1"),
    # The bootstrap Job: its one Secret, nothing else.
    Check("hub-secrets-bootstrap", "get", "secrets", "other Secrets", name="postgres-jupyter"),
    Check("hub-secrets-bootstrap", "patch", "secrets", "other Secrets", name="postgres-jupyter"),
    Check("hub-secrets-bootstrap", "list", "secrets", "would reveal every Secret"),
    Check("hub-secrets-bootstrap", "watch", "secrets", "would reveal every Secret"),
    Check(
        "hub-secrets-bootstrap", "delete", "secrets", "losing every session and token", name=SECRET
    ),
    Check(
        "hub-secrets-bootstrap", "get", "secrets", "other namespaces", name=SECRET, namespace=OTHER
    ),
    Check("hub-secrets-bootstrap", "create", "secrets", "other namespaces", namespace=OTHER),
    # Issue 16: the Secrets are rendered, so the Job needs no create (which RBAC cannot
    # limit to a name): not even in its own namespace.
    Check("hub-secrets-bootstrap", "create", "secrets", "the Secrets are rendered"),
    Check("hub-secrets-bootstrap", "create", "pods", "runs nothing"),
    Check(
        "hub-secrets-bootstrap",
        "create",
        "rolebindings",
        "RBAC changes",
        group="rbac.authorization.k8s.io",
    ),
    # User servers and the pods without a token of their own: nothing at all.
    *[
        Check(sa, verb, resource, "no Kubernetes API access", name=name)
        for sa in ("user-server", "default")
        for verb, resource, name in (
            ("list", "pods", ""),
            ("get", "secrets", SECRET),
            ("list", "secrets", ""),
            ("list", "configmaps", ""),
            ("create", "pods", ""),
            ("list", "persistentvolumeclaims", ""),
        )
    ],
]


@pytest.fixture(scope="module")
def other_namespace(admin: KubeClient) -> Iterator[str]:
    name = "rbac-other"
    admin.post("/api/v1/namespaces", {"metadata": {"name": name}})
    yield name
    delete_namespace(admin, name)


@pytest.fixture(scope="module")
def clients(admin: KubeClient, product_namespace: str) -> dict[str, KubeClient]:
    return {
        sa: admin.as_service_account(product_namespace, sa)
        for sa in ("hub", "hub-secrets-bootstrap", "user-server", "default")
    }


def _ask(
    check: Check, clients: dict[str, KubeClient], namespace: str, other: str
) -> tuple[bool, str]:
    client = clients[check.service_account]
    ns = {"product": namespace, OTHER: other, "": None}[check.namespace]
    if check.verb in ("escalate", "bind", "impersonate"):
        allowed = client.can_i(check.verb, check.resource, ns, group=check.group, name=check.name)
        return allowed, f"SelfSubjectAccessReview: allowed={allowed}"
    return client.attempt(
        check.verb,
        check.resource,
        ns,
        group=check.group,
        name=check.name,
        subresource=check.subresource,
    )


@pytest.mark.parametrize("check", NEEDED, ids=[c.id for c in NEEDED])
def test_a_needed_verb_is_allowed(
    check: Check, clients: dict[str, KubeClient], product_namespace: str, other_namespace: str
) -> None:
    allowed, message = _ask(check, clients, product_namespace, other_namespace)
    assert allowed, f"{check.service_account} needs this ({check.why}), refused: {message}"


@pytest.mark.parametrize("check", MUST_NOT, ids=[c.id for c in MUST_NOT])
def test_a_forbidden_verb_is_refused(
    check: Check, clients: dict[str, KubeClient], product_namespace: str, other_namespace: str
) -> None:
    allowed, _ = _ask(check, clients, product_namespace, other_namespace)
    assert not allowed, f"{check.service_account} must not ({check.why}), but may"


def test_the_exec_subresource_is_checked_as_a_subresource(
    clients: dict[str, KubeClient], product_namespace: str
) -> None:
    """The pitfall this module avoids: ``pods/exec`` as a resource name is another question."""
    hub = clients["hub"]
    assert hub.can_i("create", "pods", product_namespace)
    assert not hub.can_i("create", "pods", product_namespace, subresource="exec")


def test_pods_create_lets_the_hub_mount_any_secret_of_the_namespace(
    clients: dict[str, KubeClient], product_namespace: str
) -> None:
    """What docs/security.md states plainly: the hub may not read a Secret, yet it may create
    a pod that mounts one, and the API server admits that pod (restricted Pod Security
    included). RBAC has no rule against it; this is why the namespace should hold only the
    Secrets the hub and its users need."""
    hub = clients["hub"]
    allowed, _ = hub.attempt("get", "secrets", product_namespace, name=SECRET)
    assert not allowed
    restricted = {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "runAsNonRoot": True,
        "runAsUser": 1000,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "reads-hub-secrets"},
        "spec": {
            "containers": [
                {
                    "name": "reader",
                    "image": "registry.k8s.io/pause:3.10.1",
                    "securityContext": restricted,
                    "volumeMounts": [{"name": "s", "mountPath": "/s", "readOnly": True}],
                }
            ],
            "volumes": [{"name": "s", "secret": {"secretName": SECRET}}],
        },
    }
    created, _ = hub.request(
        "POST", f"/api/v1/namespaces/{product_namespace}/pods", pod, params={"dryRun": "All"}
    )
    assert created["spec"]["volumes"][0]["secret"]["secretName"] == SECRET

"""Where the hub's pods run: core and user node pools, pod priority, the user scheduler's name.

z2jh's ``scheduling.corePods`` and ``scheduling.userPods``, typed. A ``NodePool`` says
which nodes a group of pods belongs on (node labels, required or preferred) and which
taints it tolerates there. The hub applies them itself, so no object has to be patched:

- ``JupyterHub(core_pods=NodePool.core())``: the hub, the proxy, the secret bootstrap
  Job, and every add-on pod that serves the hub (the Cloudflare Tunnel's connectors, the
  user scheduler) ask the hub for ``core_pod_placement()``;
- ``JupyterHub(user_pods=NodePool.user())``: every user server (KubeSpawner's
  ``node_affinity_required``/``node_affinity_preferred`` and ``tolerations``, with each
  profile's own tolerations and GPU placement on top), the image pre-puller (it pulls
  user images where user servers run) and the user placeholders.

``NodePool.core()``/``.user()`` follow z2jh's convention: nodes labelled
``hub.jupyter.org/node-purpose=core|user``, tainted
``hub.jupyter.org/dedicated=core|user:NoSchedule`` (and its older spelling
``hub.jupyter.org_dedicated``). Label your node pools that way
(``kubectl label node N hub.jupyter.org/node-purpose=user``, or the node pool's labels in
your cloud), or give the labels your pools already have: ``NodePool({"pool": "gpu"})``.

``PodPriority`` is the PriorityClass pair that lets user servers evict user placeholders
(``UserPlaceholders``). Reference:
https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/ and
https://kubernetes.io/docs/concepts/scheduling-eviction/pod-priority-preemption/
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from constructs import Construct

from jupyter_constructs.core.errors import Where, invalid
from jupyter_constructs.core.objects import KubeObject, adopt
from jupyter_constructs.core.rules import is_label_key, is_label_value
from jupyter_constructs.hub.gpus import with_required
from jupyter_constructs.hub.profiles import Toleration

NODE_PURPOSE_LABEL = "hub.jupyter.org/node-purpose"
"""The node label z2jh's pools use: ``core`` for the hub's own pods, ``user`` for users."""
DEDICATED_TAINT_KEYS = ("hub.jupyter.org/dedicated", "hub.jupyter.org_dedicated")
"""The taint keys z2jh's pools use (the second: clouds that once refused ``/`` in taint keys)."""

USER_PRIORITY = 0
"""``value`` of the user servers' PriorityClass: the priority of every pod without one."""
PLACEHOLDER_PRIORITY = -10
"""``value`` of the placeholders' PriorityClass: below user servers, so they are preempted
first, and not below the cluster autoscaler's default ``--expendable-pods-priority-cutoff``
(-10), so a pending placeholder still makes the autoscaler add a node."""

_TOLERATION_OPERATORS = ("Equal", "Exists")
_TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")


class NodeAffinity(enum.Enum):
    """How strictly pods keep to their pool (z2jh's ``nodeAffinity.matchNodePurpose``)."""

    REQUIRED = "required"
    """Only nodes of the pool (``requiredDuringSchedulingIgnoredDuringExecution``): a pod
    waits, and the cluster autoscaler adds a node of the pool, rather than run elsewhere."""
    PREFERRED = "preferred"
    """Nodes of the pool first (``preferredDuringSchedulingIgnoredDuringExecution``), any
    other node when the pool is full or absent (z2jh's default, ``prefer``)."""


@dataclass(frozen=True)
class NodePool:
    """The nodes a group of pods belongs on, and the taints it tolerates there.

    Example: ``NodePool.user(affinity=NodeAffinity.REQUIRED)``, or for pools labelled
    otherwise ``NodePool({"cloud.google.com/gke-nodepool": "users"})``.

    Attributes:
        node_labels: Labels a node of the pool has (every one must match). At least one.
        affinity: ``NodeAffinity.PREFERRED`` (default) or ``NodeAffinity.REQUIRED``.
        tolerations: Taints of the pool's nodes the pods tolerate. Default: none.
        weight: The preference's weight (1-100) when ``affinity`` is ``PREFERRED``.
            Default: 100.
    """

    node_labels: Mapping[str, str]
    affinity: NodeAffinity = NodeAffinity.PREFERRED
    tolerations: Sequence[Toleration] = ()
    weight: int = 100

    @classmethod
    def by_purpose(cls, purpose: str, *, affinity: NodeAffinity) -> NodePool:
        """A pool in z2jh's convention, for one purpose (``core``, ``user``, yours).

        Nodes labelled ``hub.jupyter.org/node-purpose=<purpose>``, tainted
        ``hub.jupyter.org/dedicated=<purpose>:NoSchedule`` (both spellings tolerated).

        Args:
            purpose: The label and taint value, e.g. ``"core"`` or ``"user"``.
            affinity: Required or preferred.
        """
        return cls(
            node_labels={NODE_PURPOSE_LABEL: purpose},
            affinity=affinity,
            tolerations=tuple(
                Toleration(key, operator="Equal", value=purpose, effect="NoSchedule")
                for key in DEDICATED_TAINT_KEYS
            ),
        )

    @classmethod
    def core(cls, *, affinity: NodeAffinity = NodeAffinity.PREFERRED) -> NodePool:
        """The core pool (z2jh ``scheduling.corePods``): ``node-purpose=core`` nodes.

        Args:
            affinity: Default: preferred, as z2jh.
        """
        return cls.by_purpose("core", affinity=affinity)

    @classmethod
    def user(cls, *, affinity: NodeAffinity = NodeAffinity.PREFERRED) -> NodePool:
        """The user pool (z2jh ``scheduling.userPods``): ``node-purpose=user`` nodes.

        Args:
            affinity: Default: preferred, as z2jh.
        """
        return cls.by_purpose("user", affinity=affinity)

    def check(self, where: Where, what: str) -> NodePool:
        """Return self if every field is valid.

        Args:
            where: The construct that uses it (errors name its path).
            what: The parameter's name, for messages (``"core_pods"``).

        Raises:
            ConfigurationError: A label, toleration, affinity or weight is invalid.
        """
        if not isinstance(self.node_labels, Mapping) or not self.node_labels:
            raise invalid(
                where,
                f"{what}.node_labels",
                self.node_labels,
                allowed="at least one node label, as a mapping of label key to value",
                fix=f"e.g. {{'{NODE_PURPOSE_LABEL}': 'user'}}, or use NodePool.user()",
            )
        for key, value in self.node_labels.items():
            if not is_label_key(key):
                raise invalid(
                    where,
                    f"{what}.node_labels key",
                    key,
                    allowed="a Kubernetes label key: an optional DNS-subdomain prefix and "
                    "'/', then 1-63 letters, digits, '-', '_' or '.'",
                    fix="copy the key from `kubectl get nodes --show-labels`",
                )
            if not isinstance(value, str) or not value or not is_label_value(value):
                raise invalid(
                    where,
                    f"{what}.node_labels[{key!r}]",
                    value,
                    allowed="a non-empty label value: 1-63 letters, digits, '-', '_' or '.'",
                    fix="copy the value from `kubectl get nodes --show-labels`",
                )
        if not isinstance(self.affinity, NodeAffinity):
            raise invalid(
                where,
                f"{what}.affinity",
                self.affinity,
                allowed="NodeAffinity.REQUIRED or NodeAffinity.PREFERRED",
                fix="pass affinity=NodeAffinity.PREFERRED (z2jh's 'prefer')",
            )
        if isinstance(self.weight, bool) or not isinstance(self.weight, int):
            weight_ok = False
        else:
            weight_ok = 1 <= self.weight <= 100
        if not weight_ok:
            raise invalid(
                where,
                f"{what}.weight",
                self.weight,
                allowed="an integer from 1 to 100 (a preferred scheduling term's weight)",
                fix="leave the default of 100",
            )
        for toleration in self.tolerations:
            check_toleration(where, f"{what}.tolerations", toleration)
        return self

    def node_affinity(self) -> dict[str, Any]:
        """The pool as a Kubernetes ``NodeAffinity`` (one term, every label ``In`` its value)."""
        expressions = [
            {"key": key, "operator": "In", "values": [value]}
            for key, value in sorted(self.node_labels.items())
        ]
        if self.affinity is NodeAffinity.REQUIRED:
            return {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [{"matchExpressions": expressions}]
                }
            }
        return {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": self.weight, "preference": {"matchExpressions": expressions}}
            ]
        }

    def kube_tolerations(self) -> list[dict[str, str]]:
        """The tolerations as Kubernetes JSON."""
        return [t.to_kube() for t in self.tolerations]

    def kubespawner_traits(self) -> dict[str, Any]:
        """KubeSpawner traits placing user pods in the pool (hub-wide ``KubeSpawner`` config)."""
        node_affinity = self.node_affinity()
        traits: dict[str, Any]
        if self.affinity is NodeAffinity.REQUIRED:
            terms = node_affinity["requiredDuringSchedulingIgnoredDuringExecution"]
            traits = {"node_affinity_required": terms["nodeSelectorTerms"]}
        else:
            preferred = node_affinity["preferredDuringSchedulingIgnoredDuringExecution"]
            traits = {"node_affinity_preferred": preferred}
        if self.tolerations:
            traits["tolerations"] = self.kube_tolerations()
        return traits


@dataclass(frozen=True)
class Placement:
    """Where one pod runs, as the pod spec fields that say it.

    Attributes:
        node_selector: ``nodeSelector``. Default: none.
        tolerations: ``tolerations`` (Kubernetes JSON), in order, no duplicates.
        node_affinity: ``affinity.nodeAffinity``. Default: none.
    """

    node_selector: Mapping[str, str] = field(default_factory=dict)
    tolerations: Sequence[Mapping[str, str]] = ()
    node_affinity: Mapping[str, Any] | None = None

    @classmethod
    def of(
        cls,
        pool: NodePool | None,
        *,
        node_selector: Mapping[str, str] | None = None,
        tolerations: Sequence[Mapping[str, str]] = (),
        required: Sequence[Mapping[str, Any]] = (),
    ) -> Placement:
        """The placement in ``pool`` (if any) plus a node selector and more tolerations.

        Args:
            pool: The node pool, or ``None``.
            node_selector: Labels the node must also have (a profile's, a GPU's).
            tolerations: Further tolerations (Kubernetes JSON), after the pool's.
            required: ``NodeSelectorRequirement``s every node must also meet (added to
                each required term of the pool's; e.g. no GPU, ``GpuIsolation``).
        """
        merged: list[Mapping[str, str]] = []
        for toleration in [*(pool.kube_tolerations() if pool else []), *tolerations]:
            if toleration not in merged:
                merged.append(toleration)
        return cls(
            node_selector=dict(sorted((node_selector or {}).items())),
            tolerations=tuple(merged),
            node_affinity=_with_required(pool.node_affinity() if pool else None, required),
        )

    def pod_fields(self) -> dict[str, Any]:
        """The fields to put in a pod spec (only those with something to say)."""
        fields: dict[str, Any] = {}
        if self.node_selector:
            fields["nodeSelector"] = dict(self.node_selector)
        if self.tolerations:
            fields["tolerations"] = [dict(t) for t in self.tolerations]
        if self.node_affinity:
            fields["affinity"] = {"nodeAffinity": dict(self.node_affinity)}
        return fields


def _with_required(
    affinity: Mapping[str, Any] | None, required: Sequence[Mapping[str, Any]]
) -> dict[str, Any] | None:
    """``affinity`` (a ``NodeAffinity``) whose required terms each also need ``required``."""
    if not required:
        return dict(affinity) if affinity else None
    merged = dict(affinity or {})
    key = "requiredDuringSchedulingIgnoredDuringExecution"
    terms = (merged.get(key) or {}).get("nodeSelectorTerms")
    merged[key] = {"nodeSelectorTerms": with_required(terms, required)}
    return merged


def check_toleration(where: Where, what: str, toleration: object) -> Toleration:
    """Return ``toleration`` if it is a valid ``Toleration`` (``ValidateTolerations``).

    Args:
        where: Where it is used (errors name it).
        what: The parameter, for messages.
        toleration: The value to check.

    Returns:
        The toleration.

    Raises:
        ConfigurationError: It is not a ``Toleration``, or its key, operator, value or
            effect is invalid.
    """
    if not isinstance(toleration, Toleration):
        raise invalid(
            where,
            what,
            toleration,
            allowed="Toleration values",
            fix='e.g. Toleration("dedicated", operator="Equal", value="user", effect="NoSchedule")',
        )
    if toleration.operator not in _TOLERATION_OPERATORS:
        raise invalid(
            where,
            f"{what} operator",
            toleration.operator,
            allowed=", ".join(_TOLERATION_OPERATORS),
            fix="use 'Exists' or 'Equal'",
        )
    if not is_label_key(toleration.key):
        raise invalid(
            where,
            f"{what} key",
            toleration.key,
            allowed="a taint key (the syntax of a label key)",
            fix="copy the key from `kubectl describe node` (Taints:)",
        )
    if toleration.operator == "Exists" and toleration.value:
        raise invalid(
            where,
            f"{what} value",
            toleration.value,
            allowed="no value with operator 'Exists'",
            fix="drop the value, or use operator='Equal'",
        )
    if toleration.value is not None and not is_label_value(toleration.value):
        raise invalid(
            where,
            f"{what} value",
            toleration.value,
            allowed="a taint value (the syntax of a label value)",
            fix="copy the value from `kubectl describe node` (Taints:)",
        )
    if toleration.effect is not None and toleration.effect not in _TAINT_EFFECTS:
        raise invalid(
            where,
            f"{what} effect",
            toleration.effect,
            allowed=", ".join(_TAINT_EFFECTS),
            fix="use 'NoSchedule'",
        )
    return toleration


class PodPriority(Construct):
    """The PriorityClass pair of a hub: user servers above user placeholders.

    Created once per hub by ``hub.pod_priority()`` (``UserPlaceholders`` calls it). User
    servers get the user class (KubeSpawner ``priority_class_name``), placeholders the
    placeholder class, so the scheduler evicts a placeholder to make room for a user
    instead of leaving the user waiting for a new node.

    PriorityClasses are cluster-scoped: the names carry the namespace
    (``jupyterhub-<namespace>-user``, ``jupyterhub-<namespace>-user-placeholder``), so
    hubs in several namespaces do not collide. A PriorityClass's ``value`` cannot be
    changed in place; the values here are constants for that reason.

    - user class: ``value`` 0 (what every pod without a class gets, so user servers
      preempt only pods below them), ``preemptionPolicy: PreemptLowerPriority``;
    - placeholder class: ``value`` -10 (``PLACEHOLDER_PRIORITY``: why -10),
      ``preemptionPolicy: Never`` (a placeholder never evicts anything).

    Args:
        scope: The hub.
        id: Construct id.
        namespace: The hub's namespace (part of the names).
        labels: Labels of both objects.
    """

    def __init__(
        self, scope: Construct, id: str, *, namespace: str, labels: Mapping[str, str]
    ) -> None:
        super().__init__(scope, id)
        adopt(self, scope, id)
        self.user_class_name = f"jupyterhub-{namespace}-user"
        self.placeholder_class_name = f"jupyterhub-{namespace}-user-placeholder"
        self.user_class = KubeObject(
            self,
            "User",
            api_version="scheduling.k8s.io/v1",
            kind="PriorityClass",
            name=self.user_class_name,
            cluster_scoped=True,
            labels=labels,
            body={
                "value": USER_PRIORITY,
                "globalDefault": False,
                "preemptionPolicy": "PreemptLowerPriority",
                "description": f"User servers of the JupyterHub in namespace {namespace}: "
                "above its user placeholders, which they preempt.",
            },
        )
        self.placeholder_class = KubeObject(
            self,
            "Placeholder",
            api_version="scheduling.k8s.io/v1",
            kind="PriorityClass",
            name=self.placeholder_class_name,
            cluster_scoped=True,
            labels=labels,
            body={
                "value": PLACEHOLDER_PRIORITY,
                "globalDefault": False,
                "preemptionPolicy": "Never",
                "description": f"User placeholders of the JupyterHub in namespace {namespace}: "
                "preempted first; not below the cluster autoscaler's expendable-pods cutoff "
                "(-10), so a pending placeholder still adds a node.",
            },
        )


__all__ = [
    "DEDICATED_TAINT_KEYS",
    "NODE_PURPOSE_LABEL",
    "PLACEHOLDER_PRIORITY",
    "USER_PRIORITY",
    "NodeAffinity",
    "NodePool",
    "Placement",
    "PodPriority",
    "check_toleration",
]

"""Scheduling add-ons: a user scheduler that packs user servers, and user placeholders.

On an autoscaled cluster, cost and waiting time are decided by scheduling (z2jh's
``scheduling.userScheduler`` and ``scheduling.userPlaceholder``, see docs/scheduling.md):

- ``UserScheduler``: a kube-scheduler of its own for user pods, configured to *pack*
  them (``NodeResourcesFit`` with the ``MostAllocated`` strategy, z2jh's plugin weights),
  so user servers fill the fewest nodes and the cluster autoscaler can remove empty ones.
  The default scheduler spreads pods instead (``LeastAllocated``), which keeps every node
  a little busy and none removable.
- ``UserPlaceholders``: pods that hold the room of ``count`` servers of a profile at the
  lowest priority. A user server preempts one (the PriorityClass pair of
  ``hub.pod_priority()``) and starts at once on the warm node; the evicted placeholder is
  recreated, stays Pending, and makes the cluster autoscaler add a node for the next user.

Both attach to a hub (``hub.attach_addon``) and register what they need through it: the
user scheduler's name for user pods (``hub.use_user_scheduler``), the user PriorityClass
(``hub.pod_priority``), the quota they take (``hub.reserve_capacity``), their
NetworkPolicies, and their placement (the hub's core or user node pool).
"""

from __future__ import annotations

import re
from typing import Any

from constructs import Construct

from jupyter_constructs.core import security
from jupyter_constructs.core.errors import invalid
from jupyter_constructs.core.images import PAUSE_IMAGE
from jupyter_constructs.core.objects import KubeObject, adopt, path_of, sha256_of, stable_json
from jupyter_constructs.core.quantities import Resources, Usage
from jupyter_constructs.core.rules import check_bool, check_image
from jupyter_constructs.hub.hub import JupyterHub
from jupyter_constructs.hub.profiles import NotebookProfile

__all__ = [
    "KUBERNETES_VERSION",
    "SCHEDULER_CONFIG_FILE",
    "UserPlaceholders",
    "UserScheduler",
    "cluster_role_rules",
    "namespaced_rules",
    "scheduler_configuration",
]

KUBERNETES_VERSION = "1.34.3"
"""The kube-scheduler release used by default: the one the tests run against (its
RBAC needs are those of this release's ``system:kube-scheduler`` role)."""
SUPPORTED_MINORS = range(30, 36)
"""Kubernetes minors whose kube-scheduler the rendered RBAC and configuration fit
(``kubescheduler.config.k8s.io/v1``; the read rules are a superset of what 1.30-1.35 use)."""
SCHEDULER_IMAGE_REPOSITORY = "registry.k8s.io/kube-scheduler"
SCHEDULER_CONFIG_DIR = "/etc/user-scheduler"
SCHEDULER_CONFIG_FILE = "config.json"
SCHEDULER_PORT = 10259
SCHEDULER_COMPONENT = "user-scheduler"
PLACEHOLDER_COMPONENT = "user-placeholder"
PLACEHOLDER_FOR_LABEL = "jupyter-constructs.io/placeholder-for"
"""Label on placeholder pods naming the profile they hold room for."""
DEFAULT_SCHEDULER_RESOURCES = Resources("50m", "1", "256Mi", "512Mi")
NOBODY = 65534

_VERSION = re.compile(r"^1\.(?P<minor>0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")
# The cluster autoscaler's and leader election's own limits: client-go's leaderelection
# refuses renewDeadline <= retryPeriod * JitterFactor (1.2).
_JITTER_FACTOR = 1.2

#: z2jh's scoring plugins (values.yaml, scheduling.userScheduler.plugins): packing
#: (NodeResourcesFit, MostAllocated) decides among the nodes a pod may use, node affinity
#: (the user pool) and pod affinity outweigh it, image locality breaks ties; balanced
#: allocation is off, since it would pull against packing.
_SCORE_PLUGINS = {
    "disabled": [
        {"name": "NodeResourcesBalancedAllocation"},
        # Disabled to be enabled again with another weight (else: a duplicate plugin).
        {"name": "NodeAffinity"},
        {"name": "InterPodAffinity"},
        {"name": "NodeResourcesFit"},
        {"name": "ImageLocality"},
    ],
    "enabled": [
        {"name": "NodeAffinity", "weight": 14631},
        {"name": "InterPodAffinity", "weight": 1331},
        {"name": "NodeResourcesFit", "weight": 121},
        {"name": "ImageLocality", "weight": 11},
    ],
}


def scheduler_configuration(
    *,
    scheduler_name: str,
    namespace: str,
    lock_name: str,
    lease_duration: int = 15,
    renew_deadline: int = 10,
    retry_period: int = 2,
) -> dict[str, Any]:
    """The ``KubeSchedulerConfiguration`` (``kubescheduler.config.k8s.io/v1``) of a user scheduler.

    One profile, ``scheduler_name``, that packs pods (``NodeResourcesFit`` scoring with
    ``MostAllocated`` on CPU and memory, z2jh's plugin weights); leader election on a
    Lease in the hub's namespace; profiling endpoints off. Reference:
    https://kubernetes.io/docs/reference/config-api/kube-scheduler-config.v1/

    Args:
        scheduler_name: The profile's ``schedulerName`` (what user pods name).
        namespace: Where the leader election Lease lives.
        lock_name: The Lease's name.
        lease_duration: Seconds a leader's lease lasts. Default: 15.
        renew_deadline: Seconds the leader has to renew it. Default: 10.
        retry_period: Seconds between attempts. Default: 2.

    Returns:
        The configuration as plain data.
    """
    return {
        "apiVersion": "kubescheduler.config.k8s.io/v1",
        "kind": "KubeSchedulerConfiguration",
        "enableProfiling": False,
        "enableContentionProfiling": False,
        "leaderElection": {
            "leaderElect": True,
            "resourceLock": "leases",
            "resourceName": lock_name,
            "resourceNamespace": namespace,
            "leaseDuration": f"{lease_duration}s",
            "renewDeadline": f"{renew_deadline}s",
            "retryPeriod": f"{retry_period}s",
        },
        "profiles": [
            {
                "schedulerName": scheduler_name,
                "plugins": {"score": _SCORE_PLUGINS},
                "pluginConfig": [
                    {
                        "name": "NodeResourcesFit",
                        "args": {
                            "scoringStrategy": {
                                "type": "MostAllocated",
                                "resources": [
                                    {"name": "cpu", "weight": 1},
                                    {"name": "memory", "weight": 1},
                                ],
                            }
                        },
                    }
                ],
            }
        ],
    }


_READ = ["get", "list", "watch"]


def cluster_role_rules(*, bind_static_volumes: bool = False) -> list[dict[str, Any]]:
    """What the user scheduler reads cluster-wide: the rules of its one ClusterRole.

    A scheduler decides from the whole cluster: the nodes and everything already running
    on them (pods of every namespace), the volumes and their topology, the disruption
    budgets it must respect when preempting, the objects that define default spreading.
    Only reads, and only of kinds the upstream ``system:kube-scheduler`` role of 1.34 reads
    (``plugin/pkg/auth/authorizer/rbac/bootstrappolicy``); every write is in the namespaced
    Role (``namespaced_rules``). Secrets and ConfigMaps are not among them.

    Args:
        bind_static_volumes: Also ``patch``/``update`` PersistentVolumes, which the
            scheduler does to bind a pre-provisioned PV to a claim of a
            ``WaitForFirstConsumer`` StorageClass (local volumes). Default: False
            (dynamically provisioned volumes need no PV write).

    Returns:
        The rules, as Kubernetes JSON.
    """
    rules: list[dict[str, Any]] = [
        {
            "apiGroups": [""],
            "resources": [
                "namespaces",
                "nodes",
                "persistentvolumeclaims",
                "persistentvolumes",
                "pods",
                "replicationcontrollers",
                "services",
            ],
            "verbs": list(_READ),
        },
        {"apiGroups": ["apps"], "resources": ["replicasets", "statefulsets"], "verbs": list(_READ)},
        {"apiGroups": ["policy"], "resources": ["poddisruptionbudgets"], "verbs": list(_READ)},
        {
            "apiGroups": ["storage.k8s.io"],
            "resources": [
                "csidrivers",
                "csinodes",
                "csistoragecapacities",
                "storageclasses",
                "volumeattachments",
            ],
            "verbs": list(_READ),
        },
        {
            "apiGroups": ["resource.k8s.io"],
            "resources": ["deviceclasses", "resourceclaims", "resourceslices"],
            "verbs": list(_READ),
        },
    ]
    if bind_static_volumes:
        rules.append(
            {"apiGroups": [""], "resources": ["persistentvolumes"], "verbs": ["patch", "update"]}
        )
    return rules


def namespaced_rules(*, lock_name: str) -> list[dict[str, Any]]:
    """What the user scheduler changes, only in the hub's namespace: its namespaced Role.

    Binding a pod, recording why it could not (``pods/status``, events), preempting a
    lower-priority pod of this namespace (a placeholder), annotating a claim with its
    node (volume binding), claims of Dynamic Resource Allocation, and its leader election
    Lease (``create`` cannot be limited by name in RBAC; the rest is limited to
    ``lock_name``).

    Args:
        lock_name: The leader election Lease's name.

    Returns:
        The rules, as Kubernetes JSON.
    """
    return [
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["delete"]},
        {"apiGroups": [""], "resources": ["pods/binding"], "verbs": ["create"]},
        {"apiGroups": [""], "resources": ["pods/status"], "verbs": ["patch", "update"]},
        {"apiGroups": [""], "resources": ["pods/finalizers"], "verbs": ["update"]},
        {
            "apiGroups": ["", "events.k8s.io"],
            "resources": ["events"],
            "verbs": ["create", "patch", "update"],
        },
        {"apiGroups": [""], "resources": ["persistentvolumeclaims"], "verbs": ["patch", "update"]},
        {
            "apiGroups": ["resource.k8s.io"],
            "resources": ["resourceclaims", "resourceclaims/status"],
            "verbs": ["patch", "update"],
        },
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["create"]},
        {
            "apiGroups": ["coordination.k8s.io"],
            "resources": ["leases"],
            "resourceNames": [lock_name],
            "verbs": ["get", "update"],
        },
    ]


class UserScheduler(Construct):
    """A kube-scheduler that packs user servers onto the fewest nodes (z2jh's user scheduler).

    Creates, in the hub's namespace unless said otherwise:

    - ``config_map`` (``user-scheduler``): the ``KubeSchedulerConfiguration``
      (``scheduler_configuration``): one profile named ``scheduler_name`` that packs
      (``NodeResourcesFit``, ``MostAllocated``), leader election on the Lease
      ``user-scheduler-lock``;
    - ``deployment`` (``user-scheduler``): ``replicas`` pods of the pinned upstream
      ``registry.k8s.io/kube-scheduler`` image of ``kubernetes_version``, restricted
      (uid 65534, read-only root filesystem, no privilege escalation, every capability
      dropped, RuntimeDefault seccomp), health checks on ``/healthz`` (HTTPS 10259), in the
      hub's core node pool; a rolling update replaces one pod at a time and never adds
      one (``maxSurge: 0``), so it needs no room in the quota beyond ``replicas``;
    - ``service_account`` (``user-scheduler``), ``role`` and ``role_binding``
      (``user-scheduler``, ``namespaced_rules``): every write it makes, confined to the
      hub's namespace;
    - ``cluster_role`` and ``cluster_role_binding``
      (``jupyterhub:<namespace>:user-scheduler``, ``cluster_role_rules``): the only
      cluster-scoped RBAC this library renders, read-only, because a scheduler decides
      from every node and every pod on it (docs/scheduling.md lists each rule and why);
    - ``pdb`` (``maxUnavailable: 1``): a node drain never takes both replicas at once,
      and never blocks (with one replica it may evict it);
    - ``network_policies``: egress to the API server only, no ingress (when the hub
      renders NetworkPolicies).

    Every user pod then names it (KubeSpawner ``scheduler_name``), and so do
    ``UserPlaceholders``. Its pods count against the namespace quota
    (``hub.reserve_capacity``).

    Keep ``kubernetes_version`` equal to the cluster's control plane: a kube-scheduler may
    not be newer than the API server, and an older one may lack what the API server's
    objects use.

    Args:
        scope: The hub's chart.
        id: Construct id.
        hub: The hub whose user pods it schedules; it attaches itself
            (``hub.attach_addon``).
        kubernetes_version: The cluster's Kubernetes version (``"1.34.3"``), 1.30 to 1.35.
            Default: ``KUBERNETES_VERSION``, the release the tests run.
        image: The kube-scheduler image. Default:
            ``registry.k8s.io/kube-scheduler:v<kubernetes_version>``.
        replicas: Scheduler pods; one leads, the others wait. Default: 2 (as z2jh).
        resources: Requests and limits of each pod. Default: 50m/1 CPU, 256Mi/512Mi.
        log_level: kube-scheduler's ``--v``. Default: 2.
        lease_duration: Leader election: seconds a lease lasts. Default: 15.
        renew_deadline: Seconds the leader has to renew it; less than ``lease_duration``.
            Default: 10.
        retry_period: Seconds between attempts; ``renew_deadline`` must exceed 1.2 times
            it. Default: 2.
        bind_static_volumes: Let it bind pre-provisioned PersistentVolumes of
            ``WaitForFirstConsumer`` StorageClasses (adds PV ``patch``/``update`` to the
            ClusterRole). Default: False.

    Raises:
        ConfigurationError: A value is invalid, or the hub already has a user scheduler.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        hub: JupyterHub,
        kubernetes_version: str = KUBERNETES_VERSION,
        image: str | None = None,
        replicas: int = 2,
        resources: Resources = DEFAULT_SCHEDULER_RESOURCES,
        log_level: int = 2,
        lease_duration: int = 15,
        renew_deadline: int = 10,
        retry_period: int = 2,
        bind_static_volumes: bool = False,
    ) -> None:
        super().__init__(scope, id)
        adopt(self, scope, id)
        _check_hub(self, hub)
        if not isinstance(resources, Resources):
            raise invalid(
                self,
                "resources",
                resources,
                allowed="a Resources(cpu_request, cpu_limit, memory_request, memory_limit)",
                fix="pass resources=Resources('50m', '1', '256Mi', '512Mi')",
            )
        check_bool(self, "bind_static_volumes", bind_static_volumes)
        match = (
            _VERSION.fullmatch(kubernetes_version) if isinstance(kubernetes_version, str) else None
        )
        if match is None or int(match["minor"]) not in SUPPORTED_MINORS:
            raise invalid(
                self,
                "kubernetes_version",
                kubernetes_version,
                allowed=f"a Kubernetes release 1.{SUPPORTED_MINORS.start}.x to "
                f"1.{SUPPORTED_MINORS.stop - 1}.x, written like '{KUBERNETES_VERSION}'",
                fix="give your control plane's version (`kubectl version`, Server Version) "
                "without the 'v'",
            )
        self.kubernetes_version = kubernetes_version
        self.image = check_image(
            self, "image", image or f"{SCHEDULER_IMAGE_REPOSITORY}:v{kubernetes_version}"
        )
        for what, count, least in (("replicas", replicas, 1), ("log_level", log_level, 0)):
            if isinstance(count, bool) or not isinstance(count, int) or count < least:
                raise invalid(
                    self,
                    what,
                    count,
                    allowed=f"an integer of at least {least}",
                    fix="use the default unless you know why not",
                )
        for what, seconds in (
            ("lease_duration", lease_duration),
            ("renew_deadline", renew_deadline),
            ("retry_period", retry_period),
        ):
            if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 1:
                raise invalid(
                    self,
                    what,
                    seconds,
                    allowed="whole seconds, 1 or more",
                    fix="use the defaults: 15, 10 and 2 seconds",
                )
        if lease_duration <= renew_deadline:
            raise invalid(
                self,
                "renew_deadline",
                renew_deadline,
                allowed=f"less than lease_duration ({lease_duration})",
                fix="keep the defaults (15 and 10 seconds) or lower renew_deadline",
            )
        if renew_deadline <= retry_period * _JITTER_FACTOR:
            raise invalid(
                self,
                "retry_period",
                retry_period,
                allowed=f"less than renew_deadline / 1.2 ({renew_deadline / _JITTER_FACTOR:g})",
                fix="keep the defaults (10 and 2 seconds) or lower retry_period",
            )
        self.replicas = replicas
        self.resources = resources.checked(self, "resources")
        self.log_level = log_level
        self._leader_election = (lease_duration, renew_deadline, retry_period)
        self.bind_static_volumes = bind_static_volumes
        self.network_policies: list[KubeObject] = []
        hub.attach_addon(self)

    def bind(self, hub: JupyterHub) -> None:
        """Render the scheduler for ``hub``; called once by ``hub.attach_addon``."""
        namespace = hub.namespace
        #: The ``schedulerName`` user pods and placeholders carry. It is unique per
        #: namespace: a scheduler takes every pod in the cluster that names it.
        self.scheduler_name = f"{namespace}-user-scheduler"
        self.lock_name = "user-scheduler-lock"
        name = "user-scheduler"
        cluster_name = f"jupyterhub:{namespace}:user-scheduler"
        labels = hub.labels(SCHEDULER_COMPONENT)
        selector = hub.selector_labels(SCHEDULER_COMPONENT)
        hub.use_user_scheduler(self.scheduler_name, self)
        hub.reserve_capacity(
            f"the user scheduler {path_of(self)}", self.resources.usage(), self.replicas
        )
        lease, renew, retry = self._leader_election
        self.configuration = scheduler_configuration(
            scheduler_name=self.scheduler_name,
            namespace=namespace,
            lock_name=self.lock_name,
            lease_duration=lease,
            renew_deadline=renew,
            retry_period=retry,
        )
        config_data = {SCHEDULER_CONFIG_FILE: stable_json(self.configuration)}
        self.service_account = KubeObject(
            self,
            "ServiceAccount",
            api_version="v1",
            kind="ServiceAccount",
            name=name,
            labels=labels,
            body={"automountServiceAccountToken": False},
        )
        self.cluster_role = KubeObject(
            self,
            "ClusterRole",
            api_version="rbac.authorization.k8s.io/v1",
            kind="ClusterRole",
            name=cluster_name,
            cluster_scoped=True,
            labels=labels,
            body={"rules": cluster_role_rules(bind_static_volumes=self.bind_static_volumes)},
        )
        subject = {"kind": "ServiceAccount", "name": name, "namespace": namespace}
        self.cluster_role_binding = KubeObject(
            self,
            "ClusterRoleBinding",
            api_version="rbac.authorization.k8s.io/v1",
            kind="ClusterRoleBinding",
            name=cluster_name,
            cluster_scoped=True,
            labels=labels,
            body={
                "roleRef": {
                    "apiGroup": "rbac.authorization.k8s.io",
                    "kind": "ClusterRole",
                    "name": cluster_name,
                },
                "subjects": [subject],
            },
        )
        self.role = KubeObject(
            self,
            "Role",
            api_version="rbac.authorization.k8s.io/v1",
            kind="Role",
            name=name,
            labels=labels,
            body={"rules": namespaced_rules(lock_name=self.lock_name)},
        )
        self.role_binding = KubeObject(
            self,
            "RoleBinding",
            api_version="rbac.authorization.k8s.io/v1",
            kind="RoleBinding",
            name=name,
            labels=labels,
            body={
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
                "subjects": [subject],
            },
        )
        self.config_map = KubeObject(
            self,
            "ConfigMap",
            api_version="v1",
            kind="ConfigMap",
            name=name,
            labels=labels,
            body={"data": config_data},
        )
        probe = {"httpGet": {"path": "/healthz", "port": "https", "scheme": "HTTPS"}}
        container = {
            "name": "kube-scheduler",
            "image": self.image,
            "command": [
                "/usr/local/bin/kube-scheduler",
                f"--config={SCHEDULER_CONFIG_DIR}/{SCHEDULER_CONFIG_FILE}",
                # No lookup of kube-system's extension-apiserver-authentication
                # ConfigMap: no RBAC outside the hub's namespace for that (z2jh #1894).
                "--authentication-skip-lookup=true",
                f"--v={self.log_level}",
            ],
            "ports": [{"name": "https", "containerPort": SCHEDULER_PORT}],
            "livenessProbe": {**probe, "initialDelaySeconds": 15, "timeoutSeconds": 3},
            "readinessProbe": {**probe, "timeoutSeconds": 3},
            "resources": self.resources.to_kube(),
            "securityContext": security.restricted_container(NOBODY, NOBODY),
            "volumeMounts": [
                {"name": "config", "mountPath": SCHEDULER_CONFIG_DIR, "readOnly": True}
            ],
        }
        pod = {
            "serviceAccountName": name,
            # It talks to the Kubernetes API: it needs its token.
            "automountServiceAccountToken": True,
            "enableServiceLinks": False,
            "securityContext": security.restricted_pod(),
            "containers": [container],
            "volumes": [{"name": "config", "configMap": {"name": name}}],
            **hub.core_pod_placement().pod_fields(),
        }
        self.deployment = KubeObject(
            self,
            "Deployment",
            api_version="apps/v1",
            kind="Deployment",
            name=name,
            labels=labels,
            body={
                "spec": {
                    "replicas": self.replicas,
                    "selector": {"matchLabels": selector},
                    # One pod at a time and never one more than replicas: the quota
                    # holds exactly `replicas` scheduler pods.
                    "strategy": {
                        "type": "RollingUpdate",
                        "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1},
                    },
                    "template": {
                        "metadata": {
                            "labels": labels,
                            "annotations": {"checksum/config": sha256_of(config_data)},
                        },
                        "spec": pod,
                    },
                }
            },
        )
        self.pdb = KubeObject(
            self,
            "PodDisruptionBudget",
            api_version="policy/v1",
            kind="PodDisruptionBudget",
            name=name,
            labels=labels,
            body={"spec": {"maxUnavailable": 1, "selector": {"matchLabels": selector}}},
        )
        self.network_policies = hub.allow_api_server(
            self, "NetworkPolicy", name=name, pod_labels=selector
        )


def _check_hub(scope: Construct, hub: object) -> None:
    if not isinstance(hub, JupyterHub):
        raise invalid(scope, "hub", type(hub).__name__, allowed="a JupyterHub", fix="pass hub=hub")


class UserPlaceholders(Construct):
    """Warm capacity: pods that hold the room of ``count`` servers of ``profile``.

    A Deployment (``user-placeholder-<profile slug>``) of ``count`` pods running the
    ``pause`` image (``registry.k8s.io/pause:3.10.1``), each requesting exactly what one
    server of ``profile`` requests (CPU, memory, GPUs; limits equal to the requests, so
    they take the least of the quota's limits), placed like that profile's servers (the
    hub's user pool, the profile's node selector, GPU placement and tolerations) and
    scheduled by the hub's user scheduler when it has one.

    They run at the lowest priority of the hub's PriorityClass pair
    (``hub.pod_priority()``; user servers get the user class): when a user's server does
    not fit on any node, the scheduler evicts a placeholder and the server starts on its
    node at once; the Deployment recreates the placeholder, which waits (Pending) until
    the cluster autoscaler has added a node, so the next user also finds room.

    Placeholders count against the namespace quota like servers (a ResourceQuota does not
    preempt): the quota check at synth leaves room for them, and a quota that cannot hold
    them and one server of every profile is an error with the shortfall.
    ``hub.capacity_summary()`` counts them. ``Recreate`` updates never add a pod beyond
    ``count``. No PodDisruptionBudget: they are meant to be evicted (docs/scheduling.md).

    Args:
        scope: The hub's chart.
        id: Construct id.
        hub: The hub; the placeholders attach themselves (``hub.attach_addon``).
        profile: The profile to size and place them from (attached to ``hub``).
        count: How many servers' room to hold. Default: 1.

    Raises:
        ConfigurationError: ``count`` is not 1 or more, the profile is not the hub's, or
            the hub already has placeholders for it.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        hub: JupyterHub,
        profile: NotebookProfile,
        count: int = 1,
    ) -> None:
        super().__init__(scope, id)
        adopt(self, scope, id)
        self.profile: NotebookProfile
        _check_hub(self, hub)
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise invalid(
                self,
                "count",
                count,
                allowed="an integer of at least 1",
                fix="hold room for at least one server, or do not create UserPlaceholders",
            )
        if not isinstance(profile, NotebookProfile) or profile not in hub.profiles:
            raise invalid(
                self,
                "profile",
                getattr(profile, "slug", profile),
                allowed="a profile of this hub (the object hub.add_profile returned)",
                fix="pass profile=hub.add_profile(...)",
            )
        for other in hub.addons:
            if isinstance(other, UserPlaceholders) and other.profile is profile:
                raise invalid(
                    self,
                    "profile",
                    profile.slug,
                    allowed=f"one UserPlaceholders per profile ({other.node.path} already "
                    "holds room for it)",
                    fix=f"raise count= of {other.node.path} instead",
                )
        self.profile = profile
        self.count = count
        hub.attach_addon(self)

    def usage(self) -> Usage:
        """What one placeholder takes from the quota: the profile's requests, as limits too."""
        server = self.profile.usage()
        return Usage(
            server.requests_cpu,
            server.requests_cpu,
            server.requests_memory,
            server.requests_memory,
            server.gpus,
            server.extended,
        )

    def bind(self, hub: JupyterHub) -> None:
        """Render the placeholders for ``hub``; called once by ``hub.attach_addon``."""
        profile = self.profile
        self.name = f"user-placeholder-{profile.slug}"
        self.priority = hub.pod_priority()
        hub.reserve_capacity(f"user placeholders {path_of(self)}", self.usage(), self.count)
        selector = {
            **hub.selector_labels(PLACEHOLDER_COMPONENT),
            PLACEHOLDER_FOR_LABEL: profile.slug,
        }
        labels = {**hub.labels(PLACEHOLDER_COMPONENT), PLACEHOLDER_FOR_LABEL: profile.slug}
        amounts: dict[str, str] = {"cpu": profile.cpu_request, "memory": profile.memory_request}
        # Every device the profile asks for (gpu= or extra_resources, MIG slices
        # included): the placeholder holds what a server would need, by name.
        amounts.update({name: str(count) for name, count in self.usage().extended.items()})

        def pod() -> dict[str, Any]:
            # Rendered at synth: a user scheduler attached later still counts.
            spec: dict[str, Any] = {
                "priorityClassName": self.priority.placeholder_class_name,
                "schedulerName": hub.user_scheduler_name,
                "automountServiceAccountToken": False,
                "enableServiceLinks": False,
                # pause exits at once on SIGTERM; eviction should free the room at once.
                "terminationGracePeriodSeconds": 0,
                "securityContext": security.restricted_pod(),
                "containers": [
                    {
                        "name": "pause",
                        "image": PAUSE_IMAGE,
                        "resources": {"requests": dict(amounts), "limits": dict(amounts)},
                        "securityContext": security.restricted_container(NOBODY, NOBODY),
                    }
                ],
                **hub.user_pod_placement(profile).pod_fields(),
            }
            return {
                "spec": {
                    "replicas": self.count,
                    "selector": {"matchLabels": selector},
                    # Never one pod more than count: the quota holds exactly count.
                    "strategy": {"type": "Recreate"},
                    "template": {"metadata": {"labels": labels}, "spec": spec},
                }
            }

        self.deployment = KubeObject(
            self,
            "Deployment",
            api_version="apps/v1",
            kind="Deployment",
            name=self.name,
            labels=labels,
            body=pod,
        )

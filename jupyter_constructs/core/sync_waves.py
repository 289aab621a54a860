"""ArgoCD sync waves: the order in which ArgoCD applies what we synthesize.

ArgoCD applies the objects of one Application wave by wave, lowest first, and waits for
each wave to be healthy before starting the next. Objects without the annotation are in
wave 0. The objects of this library get the wave of their kind when they are built
(``KubeObject``); ``jupyter_constructs.delivery.gitops`` gives the same waves to objects
built by other libraries and lets you choose another wave.

=====  ======================  ============================================================
Wave   ``SyncWave`` member     What goes there, and why
=====  ======================  ============================================================
 -3    ``NAMESPACE``           The Namespace (with its Pod Security labels): everything
                               else lives in it.
 -2    ``CONFIGURATION``       ServiceAccounts, (Cluster)Roles and their bindings,
                               ConfigMaps, NetworkPolicies, quotas, PriorityClasses, the
                               hub's (empty) Secrets, static PersistentVolumes (an NFS
                               export) and the claims reserved for them, which bind at once
                               whatever the binding mode: what workloads mount, run as or
                               name must exist before the pods start.
 -1    ``SECRET_BOOTSTRAP``    The Job that generates the hub's own secrets in the cluster,
                               so the hub never starts without them.
  0    ``WORKLOADS``           Deployments, Services, Ingress (the default wave), and the
                               PVCs that a workload of this wave mounts (the hub database).
  1    ``CUSTOM_RESOURCES``    Objects whose kind comes from a CRD (ServiceMonitor,
                               PrometheusRule, ExternalSecret). They also get
                               ``SkipDryRunOnMissingResource=true``, so a cluster without
                               that operator installed still syncs the hub and reports
                               only these objects as failed.
  1    ``USER_CLAIMS``         PVCs that only user servers mount (the shared data volume):
                               nothing in git consumes them, so they are in the last wave
                               and carry ``argocd.argoproj.io/ignore-healthcheck: "true"``.
                               The same wave as the custom resources, not a later one:
                               ArgoCD applies every object of a wave even when some fail,
                               but starts no later wave, so on a cluster without an
                               operator's CRDs a later wave would never create them.
=====  ======================  ============================================================

**Claims and WaitForFirstConsumer.** With a ``WaitForFirstConsumer`` StorageClass (the
default on EKS gp3, GKE and AKS) a PVC stays ``Pending`` until a pod that mounts it is
scheduled, and ArgoCD reports a Pending PVC as Progressing. ArgoCD waits for every object
of a wave to be healthy before it starts the next wave (the ``ignore-healthcheck``
annotation does not change that wait; it only leaves the object out of the
Application's health), so a PVC in an earlier wave than its consumer never binds and
the sync waits forever (argoproj/argo-cd#12840). Hence a PVC is in the wave of its
first consumer (ArgoCD applies claims before workloads within a wave), and a claim that
only user servers mount is in the last wave, which ArgoCD does not wait on.

**Data protection.** Objects that hold user data (``DATA_HOLDING_KINDS``: the namespace,
which holds the users' home PVCs that KubeSpawner creates, and every PVC) get the sync
options ``Delete=false`` (deleting the Application, even with its resources finalizer,
keeps them) and ``Prune=false`` (removing or renaming them in git does not delete them;
ArgoCD shows them as OutOfSync, requiring pruning, until someone deletes them by hand).

The waves are local to one Application. The Application itself carries wave -2 in the
*parent* (app-of-apps) Application, which is a separate sync: see
``jupyter_constructs.delivery.argocd``.

Reference: https://argo-cd.readthedocs.io/en/stable/user-guide/sync-waves/
"""

from __future__ import annotations

import enum

SYNC_WAVE_ANNOTATION = "argocd.argoproj.io/sync-wave"
"""The annotation ArgoCD reads the wave from; its value is an integer as a string."""

SYNC_OPTIONS_ANNOTATION = "argocd.argoproj.io/sync-options"
"""Per-object sync options, comma separated (``Key=value,Key=value``)."""

SKIP_DRY_RUN_ON_MISSING_RESOURCE = "SkipDryRunOnMissingResource=true"
"""Sync option that lets ArgoCD apply an object whose CRD is not installed yet."""

IGNORE_HEALTHCHECK_ANNOTATION = "argocd.argoproj.io/ignore-healthcheck"
"""With value ``"true"``: the object's health does not count in the Application's health
(ArgoCD 2.14 and later). It does not stop ArgoCD from waiting on it between waves."""

NO_DELETE = "Delete=false"
"""Sync option: deleting the Application (cascading) keeps this object (ArgoCD 2.7+)."""

NO_PRUNE = "Prune=false"
"""Sync option: this object is never pruned when it leaves git (ArgoCD 1.1+)."""

DATA_PROTECTION_OPTIONS = (NO_DELETE, NO_PRUNE)
"""The sync options every data-holding object carries."""

DATA_HOLDING_KINDS = frozenset({"Namespace", "PersistentVolumeClaim"})
"""Kinds whose deletion loses user data: a PVC, and a namespace (with it go the users'
home PVCs, which KubeSpawner creates and git never lists, and the hub's Secrets)."""


class SyncWave(enum.IntEnum):
    """The sync waves our constructs use, lowest applied first (see the module docstring)."""

    NAMESPACE = -3
    """The Namespace and its Pod Security Admission labels."""
    CONFIGURATION = -2
    """RBAC, ServiceAccounts, ConfigMaps, NetworkPolicies, quotas, PriorityClasses, PVCs,
    static PVs, and the hub's Secrets (rendered empty; the bootstrap Job fills them)."""
    SECRET_BOOTSTRAP = -1
    """The Job that generates the hub's own secrets inside the cluster."""
    WORKLOADS = 0
    """Deployments, Services, PVCs, Ingress: ArgoCD's default wave."""
    CUSTOM_RESOURCES = 1
    """CRD-typed objects; they also get ``SkipDryRunOnMissingResource=true``."""
    USER_CLAIMS = 1
    """PVCs that only user servers mount (not in git): the last wave, with the custom
    resources (an alias of ``CUSTOM_RESOURCES``), never waited on."""


WAVE_BY_KIND: dict[str, SyncWave] = {
    "Namespace": SyncWave.NAMESPACE,
    "ServiceAccount": SyncWave.CONFIGURATION,
    "Role": SyncWave.CONFIGURATION,
    "RoleBinding": SyncWave.CONFIGURATION,
    "ConfigMap": SyncWave.CONFIGURATION,
    "NetworkPolicy": SyncWave.CONFIGURATION,
    "ResourceQuota": SyncWave.CONFIGURATION,
    "LimitRange": SyncWave.CONFIGURATION,
    "PersistentVolume": SyncWave.CONFIGURATION,
    "ClusterRole": SyncWave.CONFIGURATION,
    "ClusterRoleBinding": SyncWave.CONFIGURATION,
    "PriorityClass": SyncWave.CONFIGURATION,
    "Secret": SyncWave.CONFIGURATION,
    "Job": SyncWave.SECRET_BOOTSTRAP,
}
"""The wave of each built-in kind our constructs create; kinds not listed stay in wave 0.

PersistentVolumeClaims are not listed: a claim belongs in the wave of the workload that
mounts it (module docstring), which for ours is wave 0. A claim reserved for a static
PersistentVolume (an NFS export) binds at once; it is given the volume's wave
(``hub.volumes``)."""

CRD_GROUPS = ("monitoring.coreos.com/", "external-secrets.io/", "velero.io/")
"""API groups whose kinds come from CRDs that ArgoCD applies last (wave 1).

ArgoCD's own kinds (``argoproj.io``) are not listed: an Application's wave belongs to
its parent Application.
"""


def wave_of(api_version: str, kind: str) -> SyncWave | None:
    """The wave of an object of ``kind``; ``None`` for kinds that stay in ArgoCD's default.

    Args:
        api_version: The object's ``apiVersion`` (``"v1"``, ``"monitoring.coreos.com/v1"``).
        kind: The object's ``kind``.

    Returns:
        ``SyncWave.CUSTOM_RESOURCES`` for the kinds of ``CRD_GROUPS``, the wave of
        ``WAVE_BY_KIND`` for built-in kinds, otherwise ``None``.
    """
    if api_version.startswith(CRD_GROUPS):
        return SyncWave.CUSTOM_RESOURCES
    return WAVE_BY_KIND.get(kind)


def wave_annotations(wave: SyncWave | int | None, current: str = "") -> dict[str, str]:
    """The annotations that put an object in ``wave``.

    Args:
        wave: The wave; ``None`` gives no annotation (ArgoCD's default wave 0).
        current: The object's sync options so far (``Key=value,...``), kept.

    Returns:
        The sync-wave annotation, and for ``SyncWave.CUSTOM_RESOURCES`` the sync option
        ``SkipDryRunOnMissingResource=true`` added to ``current``.
    """
    if wave is None:
        return {}
    annotations = {SYNC_WAVE_ANNOTATION: str(int(wave))}
    if wave == SyncWave.CUSTOM_RESOURCES:
        annotations[SYNC_OPTIONS_ANNOTATION] = with_sync_option(
            current, SKIP_DRY_RUN_ON_MISSING_RESOURCE
        )
    return annotations


def with_sync_option(current: str, option: str) -> str:
    """``current`` (``Key=value,...``) with ``option`` added once, order kept."""
    options = [o for o in current.split(",") if o]
    if option not in options:
        options.append(option)
    return ",".join(options)


def protection_annotations(kind: str, current: str = "") -> dict[str, str]:
    """The sync-options annotation that protects an object of ``kind`` holding user data.

    Args:
        kind: The object's ``kind``.
        current: The object's sync options so far (``Key=value,...``), kept.

    Returns:
        For ``DATA_HOLDING_KINDS``, the sync-options annotation with ``Delete=false`` and
        ``Prune=false`` added to ``current``; otherwise an empty dict.
    """
    if kind not in DATA_HOLDING_KINDS:
        return {}
    options = current
    for option in DATA_PROTECTION_OPTIONS:
        options = with_sync_option(options, option)
    return {SYNC_OPTIONS_ANNOTATION: options}


def is_protected(annotations: dict[str, str] | None) -> bool:
    """True when ``annotations`` carry both ``Delete=false`` and ``Prune=false``."""
    options = {o.strip() for o in (annotations or {}).get(SYNC_OPTIONS_ANNOTATION, "").split(",")}
    return all(option in options for option in DATA_PROTECTION_OPTIONS)

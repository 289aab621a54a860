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
 -2    ``CONFIGURATION``       ServiceAccounts, Roles, RoleBindings, ConfigMaps,
                               NetworkPolicies, quotas, the hub's (empty) Secrets,
                               PersistentVolumeClaims and the static PersistentVolumes
                               they bind to (same wave, so a claim never waits for a
                               later wave): what workloads mount or run as must exist
                               before the pods start.
 -1    ``SECRET_BOOTSTRAP``    The Job that generates the hub's own secrets in the cluster,
                               so the hub never starts without them.
  0    ``WORKLOADS``           Deployments, Services, PVCs, Ingress (the default wave).
  1    ``CUSTOM_RESOURCES``    Objects whose kind comes from a CRD (ServiceMonitor,
                               PrometheusRule, ExternalSecret). They also get
                               ``SkipDryRunOnMissingResource=true``, so a cluster without
                               that operator installed still syncs the hub and reports
                               only these objects as failed.
=====  ======================  ============================================================

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


class SyncWave(enum.IntEnum):
    """The sync waves our constructs use, lowest applied first (see the module docstring)."""

    NAMESPACE = -3
    """The Namespace and its Pod Security Admission labels."""
    CONFIGURATION = -2
    """RBAC, ServiceAccounts, ConfigMaps, NetworkPolicies, quotas, PVCs, static PVs, and
    the hub's Secrets (rendered empty; the bootstrap Job fills them)."""
    SECRET_BOOTSTRAP = -1
    """The Job that generates the hub's own secrets inside the cluster."""
    WORKLOADS = 0
    """Deployments, Services, PVCs, Ingress: ArgoCD's default wave."""
    CUSTOM_RESOURCES = 1
    """CRD-typed objects; they also get ``SkipDryRunOnMissingResource=true``."""


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
    "PersistentVolumeClaim": SyncWave.CONFIGURATION,
    "Secret": SyncWave.CONFIGURATION,
    "Job": SyncWave.SECRET_BOOTSTRAP,
}
"""The wave of each built-in kind our constructs create; kinds not listed stay in wave 0."""

CRD_GROUPS = ("monitoring.coreos.com/", "external-secrets.io/")
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

"""ArgoCD sync waves: the order in which ArgoCD applies what we synthesize.

ArgoCD applies the objects of one Application wave by wave, lowest first, and waits for
each wave to be healthy before starting the next. Objects without the annotation are in
wave 0. Our constructs place their objects in these waves:

=====  ======================  ============================================================
Wave   ``SyncWave`` member     What goes there, and why
=====  ======================  ============================================================
 -3    ``NAMESPACE``           The Namespace (with its Pod Security labels): everything
                               else lives in it.
 -2    ``CONFIGURATION``       ServiceAccounts, Roles, RoleBindings, ConfigMaps,
                               NetworkPolicies, quotas: what workloads mount or run as
                               must exist before the pods start.
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
*parent* (app-of-apps) Application, which is a separate sync: see ``argocd.py``.

Example::

    sync_wave(hub.service_account, SyncWave.CONFIGURATION)
    sync_wave(service_monitor, SyncWave.CUSTOM_RESOURCES)

Reference: https://argo-cd.readthedocs.io/en/stable/user-guide/sync-waves/
"""

from __future__ import annotations

import enum
import weakref
from typing import Any, Protocol, runtime_checkable

import cdk8s

from jupyter_constructs.core.errors import invalid

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
    """RBAC, ServiceAccounts, ConfigMaps, NetworkPolicies, ResourceQuota, LimitRange."""
    SECRET_BOOTSTRAP = -1
    """The Job that generates the hub's own secrets inside the cluster."""
    WORKLOADS = 0
    """Deployments, Services, PVCs, Ingress: ArgoCD's default wave."""
    CUSTOM_RESOURCES = 1
    """CRD-typed objects; they also get ``SkipDryRunOnMissingResource=true``."""


@runtime_checkable
class _HasAnnotations(Protocol):
    def add_annotation(self, key: str, value: str) -> None: ...

    def to_json(self) -> Any: ...


def _metadata_of(target: object) -> _HasAnnotations | None:
    if isinstance(target, cdk8s.ApiObjectMetadataDefinition):
        return target
    metadata = getattr(target, "metadata", None)
    if isinstance(metadata, cdk8s.ApiObjectMetadataDefinition):
        return metadata
    return None


def _annotations(metadata: _HasAnnotations) -> dict[str, str]:
    rendered = metadata.to_json() or {}
    return dict(rendered.get("annotations") or {})


def add_sync_option(target: object, option: str) -> None:
    """Add one ArgoCD sync option (``Key=value``) to an object's sync-options annotation.

    Options already present are kept; adding the same option twice is a no-op, so
    constructs can call this independently of each other.
    """
    metadata = _metadata_of(target)
    if metadata is None:
        raise invalid(
            "add_sync_option",
            "target",
            type(target).__name__,
            allowed="a cdk8s ApiObject, a cdk8s-plus construct, or an ApiObjectMetadataDefinition",
            fix="pass the Kubernetes object (or its .metadata), not a plain construct",
        )
    if not isinstance(option, str) or "=" not in option or "," in option:
        raise invalid(
            "add_sync_option",
            "sync option",
            option,
            allowed="one 'Key=value' pair such as 'SkipDryRunOnMissingResource=true'",
            fix="call add_sync_option once per option",
        )
    current = _annotations(metadata).get(SYNC_OPTIONS_ANNOTATION, "")
    options = [o for o in current.split(",") if o]
    if option not in options:
        options.append(option)
    metadata.add_annotation(SYNC_OPTIONS_ANNOTATION, ",".join(options))


def sync_wave(target: object, wave: SyncWave | int) -> None:
    """Annotate ``target`` with ArgoCD sync wave ``wave``.

    ``target`` is a cdk8s ``ApiObject`` (L1 or CRD class), a cdk8s-plus construct (its
    ``.metadata`` is used) or an ``ApiObjectMetadataDefinition``. ``wave`` is a
    ``SyncWave`` member or any integer. ``SyncWave.CUSTOM_RESOURCES`` also adds the sync
    option ``SkipDryRunOnMissingResource=true`` (so does a plain ``1``); the object keeps
    any other option.
    Calling it again replaces the wave.
    """
    metadata = _metadata_of(target)
    if metadata is None:
        raise invalid(
            "sync_wave",
            "target",
            type(target).__name__,
            allowed="a cdk8s ApiObject, a cdk8s-plus construct, or an ApiObjectMetadataDefinition",
            fix="pass the Kubernetes object (or its .metadata), not a plain construct",
        )
    if isinstance(wave, bool) or not isinstance(wave, int):
        raise invalid(
            "sync_wave",
            "wave",
            wave,
            allowed="an integer, preferably a SyncWave member (-3 to 1)",
            fix="use SyncWave.WORKLOADS or another SyncWave member",
        )
    metadata.add_annotation(SYNC_WAVE_ANNOTATION, str(int(wave)))
    if isinstance(target, cdk8s.ApiObject):
        _WAVED.add(target)
    if wave == SyncWave.CUSTOM_RESOURCES:
        add_sync_option(metadata, SKIP_DRY_RUN_ON_MISSING_RESOURCE)


# The wave of each kind our constructs create; kinds not listed stay in wave 0.
WAVE_BY_KIND: dict[str, SyncWave] = {
    "Namespace": SyncWave.NAMESPACE,
    "ServiceAccount": SyncWave.CONFIGURATION,
    "Role": SyncWave.CONFIGURATION,
    "RoleBinding": SyncWave.CONFIGURATION,
    "ConfigMap": SyncWave.CONFIGURATION,
    "NetworkPolicy": SyncWave.CONFIGURATION,
    "ResourceQuota": SyncWave.CONFIGURATION,
    "LimitRange": SyncWave.CONFIGURATION,
    "PersistentVolumeClaim": SyncWave.CONFIGURATION,
    "Job": SyncWave.SECRET_BOOTSTRAP,
}
# API groups whose kinds come from CRDs (imported in imports/).
CRD_GROUPS = ("monitoring.coreos.com/", "external-secrets.io/")
_OUR_CRD_PACKAGE = "jupyter_constructs.crds."
_CRD_MODULES = (
    f"{_OUR_CRD_PACKAGE}com.coreos.monitoring",
    f"{_OUR_CRD_PACKAGE}io.external_secrets",
)
# API objects whose wave is settled (set by sync_wave or apply_sync_waves).
_WAVED: weakref.WeakSet[cdk8s.ApiObject] = weakref.WeakSet()


def _wave_of(obj: cdk8s.ApiObject) -> SyncWave | None:
    """The wave of ``obj``'s kind, found from its Python class where possible.

    Asking the object for its kind is a round trip to the jsii runtime, and this runs for
    every object of every hub; our own classes answer in Python.
    """
    cls = type(obj)
    module = cls.__module__
    if module.startswith(_CRD_MODULES):
        return SyncWave.CUSTOM_RESOURCES
    if module.startswith(_OUR_CRD_PACKAGE):
        return None  # e.g. an ArgoCD Application: its wave belongs to the parent app
    kind = getattr(obj, "late_kind", None)
    if kind is None and module == "cdk8s_plus_27.k8s" and cls.__name__.startswith("Kube"):
        kind = cls.__name__.removeprefix("Kube")
    if kind is None:
        if obj.api_version.startswith(CRD_GROUPS):
            return SyncWave.CUSTOM_RESOURCES
        kind = obj.kind
    return WAVE_BY_KIND.get(kind)


def apply_sync_waves(scope: object) -> None:
    """Give every API object under ``scope`` the wave of its kind, unless it has one.

    An object keeps the wave given by ``sync_wave`` (or by an earlier call of this
    function); set a different wave with ``sync_wave``, not with a raw annotation.
    ``synthesize`` calls this on the whole app before synth; call it yourself before
    ``app.synth()`` if you synthesize without ``synthesize``.
    """
    from constructs import Construct

    if not isinstance(scope, Construct):
        raise invalid(
            "apply_sync_waves",
            "scope",
            type(scope).__name__,
            allowed="a construct (App, Chart or any construct)",
            fix="pass the app or the chart",
        )
    for child in scope.node.find_all():
        if not isinstance(child, cdk8s.ApiObject) or child in _WAVED:
            continue
        wave = _wave_of(child)
        if wave is None:
            _WAVED.add(child)  # nothing to do; do not look at it again
        else:
            sync_wave(child, wave)

"""ArgoCD sync waves on any cdk8s object: ``sync_wave``, ``add_sync_option``, ``apply_sync_waves``.

The waves themselves (``SyncWave``, which kind goes where, and why) are defined in
``jupyter_constructs.core.sync_waves``; the objects of this library carry theirs from
the moment they are built. This module puts objects built by other libraries (cdk8s,
cdk8s-plus, your own ``cdk8s import`` classes) into the same waves, and lets you move
any object to another wave.

Example::

    sync_wave(hub.service_account, SyncWave.CONFIGURATION)
    sync_wave(service_monitor, SyncWave.CUSTOM_RESOURCES)

Reference: https://argo-cd.readthedocs.io/en/stable/user-guide/sync-waves/
"""

from __future__ import annotations

import weakref
from typing import Any, Protocol, runtime_checkable

import cdk8s
from constructs import Construct

from jupyter_constructs.core.errors import invalid
from jupyter_constructs.core.objects import KubeObject
from jupyter_constructs.core.sync_waves import (
    CRD_GROUPS,
    DATA_HOLDING_KINDS,
    DATA_PROTECTION_OPTIONS,
    SKIP_DRY_RUN_ON_MISSING_RESOURCE,
    SYNC_OPTIONS_ANNOTATION,
    SYNC_WAVE_ANNOTATION,
    WAVE_BY_KIND,
    SyncWave,
    wave_of,
    with_sync_option,
)

__all__ = [
    "CRD_GROUPS",
    "SKIP_DRY_RUN_ON_MISSING_RESOURCE",
    "SYNC_OPTIONS_ANNOTATION",
    "SYNC_WAVE_ANNOTATION",
    "WAVE_BY_KIND",
    "SyncWave",
    "add_sync_option",
    "apply_sync_waves",
    "sync_wave",
]


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


def _not_an_object(function: str, target: object) -> Exception:
    return invalid(
        function,
        "target",
        type(target).__name__,
        allowed="a cdk8s ApiObject, a cdk8s-plus construct, or an ApiObjectMetadataDefinition",
        fix="pass the Kubernetes object (or its .metadata), not a plain construct",
    )


def add_sync_option(target: object, option: str) -> None:
    """Add one ArgoCD sync option (``Key=value``) to an object's sync-options annotation.

    Options already present are kept; adding the same option twice is a no-op, so
    constructs can call this independently of each other.

    Args:
        target: A cdk8s ``ApiObject`` (this library's objects included), a cdk8s-plus
            construct (its ``.metadata`` is used) or an ``ApiObjectMetadataDefinition``.
        option: One ``Key=value`` pair, e.g. ``"SkipDryRunOnMissingResource=true"``.

    Raises:
        ConfigurationError: ``target`` is not an object, or ``option`` is not one pair.
    """
    if not isinstance(option, str) or "=" not in option or "," in option:
        raise invalid(
            "add_sync_option",
            "sync option",
            option,
            allowed="one 'Key=value' pair such as 'SkipDryRunOnMissingResource=true'",
            fix="call add_sync_option once per option",
        )
    if isinstance(target, KubeObject):
        current = target.annotation(SYNC_OPTIONS_ANNOTATION) or ""
        target.add_annotation(SYNC_OPTIONS_ANNOTATION, with_sync_option(current, option))
        return
    metadata = _metadata_of(target)
    if metadata is None:
        raise _not_an_object("add_sync_option", target)
    rendered = metadata.to_json() or {}
    current = dict(rendered.get("annotations") or {}).get(SYNC_OPTIONS_ANNOTATION, "")
    metadata.add_annotation(SYNC_OPTIONS_ANNOTATION, with_sync_option(current, option))


def sync_wave(target: object, wave: SyncWave | int) -> None:
    """Annotate ``target`` with ArgoCD sync wave ``wave``; calling it again replaces the wave.

    ``SyncWave.CUSTOM_RESOURCES`` also adds the sync option
    ``SkipDryRunOnMissingResource=true`` (so does a plain ``1``); the object keeps any
    other option.

    Args:
        target: A cdk8s ``ApiObject`` (this library's objects included), a cdk8s-plus
            construct (its ``.metadata`` is used) or an ``ApiObjectMetadataDefinition``.
        wave: A ``SyncWave`` member or any integer.

    Raises:
        ConfigurationError: ``target`` is not an object, or ``wave`` is not an integer.
    """
    metadata = None if isinstance(target, KubeObject) else _metadata_of(target)
    if metadata is None and not isinstance(target, KubeObject):
        raise _not_an_object("sync_wave", target)
    if isinstance(wave, bool) or not isinstance(wave, int):
        raise invalid(
            "sync_wave",
            "wave",
            wave,
            allowed="an integer, preferably a SyncWave member (-3 to 1)",
            fix="use SyncWave.WORKLOADS or another SyncWave member",
        )
    if isinstance(target, KubeObject):
        target.add_annotation(SYNC_WAVE_ANNOTATION, str(int(wave)))
    else:
        assert metadata is not None
        metadata.add_annotation(SYNC_WAVE_ANNOTATION, str(int(wave)))
        if isinstance(target, cdk8s.ApiObject):
            _WAVED.add(target)
    if wave == SyncWave.CUSTOM_RESOURCES:
        add_sync_option(target if metadata is None else metadata, SKIP_DRY_RUN_ON_MISSING_RESOURCE)


# Objects of other libraries whose wave is settled (set by sync_wave or apply_sync_waves).
_WAVED: weakref.WeakSet[cdk8s.ApiObject] = weakref.WeakSet()
# Objects of other libraries already looked at for data protection.
_PROTECTED: weakref.WeakSet[cdk8s.ApiObject] = weakref.WeakSet()


def _kind_of(obj: cdk8s.ApiObject) -> tuple[str, str]:
    """``(apiVersion, kind)`` of an object, read from its Python class where possible.

    Asking the object is a round-trip to cdk8s's Node.js process; cdk8s-plus's L1
    classes (``KubeDeployment``...) say their kind in their name.
    """
    cls = type(obj)
    if cls.__module__.startswith("cdk8s_plus_") and cls.__name__.startswith("Kube"):
        return "", cls.__name__.removeprefix("Kube")
    return obj.api_version, obj.kind


def apply_sync_waves(scope: object) -> None:
    """Give every API object under ``scope`` the wave of its kind, unless it has one.

    Objects of other libraries that hold user data (a Namespace or a
    PersistentVolumeClaim) also get the sync options ``Delete=false`` and
    ``Prune=false``, as this library's own objects do (``core.sync_waves``).

    Objects built by this library already carry their wave and are skipped. An object
    keeps the wave given by ``sync_wave`` (or by an earlier call of this function); set
    a different wave with ``sync_wave``, not with a raw annotation. ``synthesize`` calls
    this on the whole app before synth; call it yourself before ``app.synth()`` if you
    synthesize without ``synthesize``.

    Args:
        scope: The app, a chart or any construct.

    Raises:
        ConfigurationError: ``scope`` is not a construct.
    """
    if not isinstance(scope, Construct):
        raise invalid(
            "apply_sync_waves",
            "scope",
            type(scope).__name__,
            allowed="a construct (App, Chart or any construct)",
            fix="pass the app or the chart",
        )
    for child in scope.node.find_all():
        if not isinstance(child, cdk8s.ApiObject) or isinstance(child, KubeObject):
            continue
        if child in _PROTECTED and child in _WAVED:
            continue
        api_version, kind = _kind_of(child)
        if child not in _PROTECTED:
            _PROTECTED.add(child)
            if kind in DATA_HOLDING_KINDS:
                for option in DATA_PROTECTION_OPTIONS:
                    add_sync_option(child, option)
        if child in _WAVED:
            continue
        wave = wave_of(api_version, kind)
        if wave is None:
            _WAVED.add(child)  # nothing to do; do not look at it again
        else:
            sync_wave(child, wave)

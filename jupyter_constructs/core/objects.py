"""The one object builder: every Kubernetes object of this library is a ``KubeObject``.

A ``KubeObject`` is a ``cdk8s.ApiObject`` whose manifest is plain data (dicts, lists,
strings, numbers), rendered in Python when the app is synthesized. Why one builder,
and why plain data:

- **Speed.** Each call into cdk8s is a round-trip to its Node.js process (jsii); typed
  cdk8s-plus structs cost dozens per object. A ``KubeObject`` costs two: one when it is
  created, one when it is rendered.
- **Escape hatches that keep every value.** ``add_json_patch`` applies to the plain
  manifest, so numbers and quantities survive (typed L1 objects drop ``IntOrString``
  and ``Quantity`` values given to ``add_json_patch``, cdk8s issue #2172).
- **Late rendering.** ``body`` may be a function: it runs at synth, after every
  ``add_*`` call, so an object can depend on profiles or bindings added later.
- **ArgoCD order and data safety.** Each object gets the sync wave of its kind when it
  is built, and objects that hold user data (namespace, PVCs) the sync options
  ``Delete=false,Prune=false`` (``jupyter_constructs.core.sync_waves``).

The manifest is what cdk8s itself would write: ``apiVersion``, ``kind``, ``metadata``
first, every mapping's keys sorted, ``None`` values dropped, the chart's namespace and
labels applied, then the JSON patches. Reading ``obj.metadata`` (cdk8s's metadata
object, for ``add_label`` and friends) is supported: the object then takes its metadata
from cdk8s, with the labels and annotations given here underneath.
"""

from __future__ import annotations

import hashlib
import json
import re
import weakref
from collections.abc import Callable, Mapping
from typing import Any

import cdk8s
import jsii
from constructs import Construct

from jupyter_constructs.core import _names
from jupyter_constructs.core.errors import PathOf, invalid
from jupyter_constructs.core.rules import (
    DNS1035_LABEL_RULE,
    DNS_LABEL_RULE,
    DNS_SUBDOMAIN_RULE,
    LABEL_KEY_RULE,
    PATH_SEGMENT_NAME_RULE,
    check,
    check_annotations,
    check_dns_label,
    check_int,
    check_labels,
)
from jupyter_constructs.core.sync_waves import (
    SYNC_OPTIONS_ANNOTATION,
    SyncWave,
    protection_annotations,
    wave_annotations,
    wave_of,
)

__all__ = [
    "WAVE_OF_KIND",
    "Body",
    "KubeObject",
    "chart_of",
    "sha256_of",
    "sort_keys",
    "stable_json",
]

Body = Mapping[str, Any] | Callable[[], Mapping[str, Any]]
"""What follows ``metadata`` in a manifest, or a function returning it at synth."""

_ARRAY_INDEX = re.compile(r"^(0|[1-9][0-9]*)$")
_MAX_ARRAY_INDEX = 2**32 - 2


def _js_order(keys: list[str]) -> list[str]:
    # cdk8s sorts keys in JavaScript, where an object lists integer-like keys first,
    # in numeric order, whatever order they were added in.
    numeric = [k for k in keys if _ARRAY_INDEX.match(k) and int(k) <= _MAX_ARRAY_INDEX]
    if not numeric:
        return sorted(keys)
    rest = sorted(k for k in keys if k not in numeric)
    return sorted(numeric, key=int) + rest


def sort_keys(value: Any) -> Any:
    """``value`` as cdk8s renders it: keys sorted at every level, ``None`` values dropped.

    Args:
        value: Plain data (dicts, lists, strings, numbers, booleans, ``None``).

    Returns:
        A copy with every mapping's keys sorted; lists keep their order.
    """
    if isinstance(value, Mapping):
        return {
            key: sort_keys(value[key]) for key in _js_order(list(value)) if value[key] is not None
        }
    if isinstance(value, list | tuple):
        return [sort_keys(item) for item in value if item is not None]
    return value


def stable_json(value: Any) -> str:
    """JSON with sorted keys and fixed separators: the same input gives the same bytes."""
    return json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def sha256_of(data: Mapping[str, str]) -> str:
    """Checksum of a ConfigMap's data, used to roll pods when their config changes."""
    return hashlib.sha256(stable_json(dict(data)).encode()).hexdigest()


class _ChartFacts:
    """What a chart adds to each object's metadata, read from cdk8s once per chart."""

    __slots__ = ("hashed_names", "labels", "namespace")

    def __init__(self, chart: cdk8s.Chart) -> None:
        self.namespace: str | None = chart.namespace
        self.labels: dict[str, str] = dict(chart.labels or {})
        # Whether generated names carry a hash (Chart(disable_resource_name_hashes=...)):
        # learnt from the first unnamed object of the chart.
        self.hashed_names: bool | None = None


_CHART_OF: weakref.WeakKeyDictionary[Construct, cdk8s.Chart] = weakref.WeakKeyDictionary()
_PATH_OF: weakref.WeakKeyDictionary[Construct, str] = weakref.WeakKeyDictionary()
_FACTS: weakref.WeakKeyDictionary[cdk8s.Chart, _ChartFacts] = weakref.WeakKeyDictionary()


def chart_of(scope: Construct) -> cdk8s.Chart:
    """The chart ``scope`` belongs to, asking cdk8s (``cdk8s.Chart.of``) at most once.

    Args:
        scope: Any construct inside a chart.

    Returns:
        The closest chart above ``scope`` (``scope`` itself if it is a chart).
    """
    if isinstance(scope, cdk8s.Chart):
        return scope
    chart = _CHART_OF.get(scope)
    if chart is None:
        chart = _CHART_OF[scope] = cdk8s.Chart.of(scope)
    return chart


def path_of(construct: Construct) -> str:
    """``construct.node.path``, asking cdk8s at most once per construct."""
    path = _PATH_OF.get(construct)
    if path is None:
        path = _PATH_OF[construct] = construct.node.path
    return path


# Every construct adopted, in order: (its scope, its id), so a failed attach can remove
# what it created (``remove_adopted_since``).
_ADOPTED: list[tuple[weakref.ref[Construct], str]] = []


def adopted_count() -> int:
    """How many constructs ``adopt`` has seen (a mark for ``remove_adopted_since``)."""
    return len(_ADOPTED)


def remove_adopted_since(mark: int) -> None:
    """Remove from the tree every construct adopted after ``mark``, newest first."""
    for scope_ref, id in reversed(_ADOPTED[mark:]):
        scope = scope_ref()
        if scope is not None:
            scope.node.try_remove_child(id)
    del _ADOPTED[mark:]


def adopt(construct: Construct, scope: Construct, id: str) -> None:
    """Remember the chart and path of ``construct``, just built as ``(scope, id)``.

    Every construct of this library calls it after ``super().__init__``, so that finding
    the chart, the path or a generated name of what it creates costs no round-trip to
    cdk8s.
    """
    _CHART_OF[construct] = chart_of(scope)
    _ADOPTED.append((weakref.ref(scope), id))
    parent = path_of(scope)
    _PATH_OF[construct] = f"{parent}/{id}" if parent else id


def chart_namespace(scope: Construct) -> str | None:
    """The namespace of ``scope``'s chart (read from cdk8s once per chart)."""
    return _facts(chart_of(scope)).namespace


def _facts(chart: cdk8s.Chart) -> _ChartFacts:
    facts = _FACTS.get(chart)
    if facts is None:
        facts = _FACTS[chart] = _ChartFacts(chart)
    return facts


class _NodeMetadata:
    """``obj.metadata``: cdk8s's metadata object. Reading it switches the object to it.

    A non-data descriptor, so jsii does not treat it as an override of cdk8s's property.
    """

    def __get__(self, obj: KubeObject | None, owner: type | None = None) -> Any:
        if obj is None:
            return self
        obj._node_metadata = True
        return super(KubeObject, obj).metadata


class _Name:
    """``obj.name``: the name given, or the one cdk8s generates from the construct path.

    The generated name is worked out in Python (``_names``); the first one of each chart
    is compared with cdk8s's, which also tells whether the chart hashes its names.
    """

    def __get__(self, obj: KubeObject | None, owner: type | None = None) -> Any:
        if obj is None:
            return self
        if obj._name is None:
            facts = _facts(obj._chart)
            path = path_of(obj)
            max_len = 52 if obj._kind == "CronJob" else 63  # as Chart.generateObjectName
            if facts.hashed_names is None:
                actual = super(KubeObject, obj).name
                matches = [
                    hashed
                    for hashed in (True, False)
                    if _names.dns_label(path, include_hash=hashed, max_len=max_len) == actual
                ]
                if len(matches) == 1:  # else ask again for the next object
                    facts.hashed_names = matches[0]
                obj._name = actual
            else:
                obj._name = _names.dns_label(path, include_hash=facts.hashed_names, max_len=max_len)
        return obj._name


_API_VERSION = re.compile(
    r"\A(?:[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*/)?"
    r"[a-z](?:[-a-z0-9]*[a-z0-9])?\Z"
)
_KIND = re.compile(r"\A[A-Za-z][A-Za-z0-9]{0,62}\Z")


def _check_type(where: Any, api_version: object, kind: object) -> None:
    """``apiVersion`` and ``kind`` in the form the API server's type registry knows.

    ``apiVersion`` is ``[group/]version`` (a DNS subdomain and a DNS-1035 label), ``kind``
    an identifier.
    """
    if not isinstance(api_version, str) or not _API_VERSION.match(api_version):
        raise invalid(
            where,
            "apiVersion",
            api_version,
            allowed="'<group>/<version>' or a core version: a DNS subdomain, '/', a DNS-1035 "
            "label (e.g. 'apps/v1', 'v1', 'monitoring.coreos.com/v1')",
            fix="copy apiVersion from the kind's reference documentation",
        )
    if not isinstance(kind, str) or not _KIND.match(kind):
        raise invalid(
            where,
            "kind",
            kind,
            allowed="a kind name: a letter, then letters and digits (e.g. 'Deployment')",
            fix="copy kind from the kind's reference documentation",
        )


# Kinds whose names follow another rule than a DNS subdomain: stricter (NameIsDNSLabel,
# NameIsDNS1035Label in k8s.io/kubernetes/pkg/apis/core/validation/validation.go) or, for
# RBAC objects, a path segment name (ValidateRBACName: 'jupyterhub:ns:user-scheduler').
_NAME_RULES = {
    "Namespace": DNS_LABEL_RULE,
    "Service": DNS1035_LABEL_RULE,
    "Role": PATH_SEGMENT_NAME_RULE,
    "ClusterRole": PATH_SEGMENT_NAME_RULE,
    "RoleBinding": PATH_SEGMENT_NAME_RULE,
    "ClusterRoleBinding": PATH_SEGMENT_NAME_RULE,
}

WAVE_OF_KIND: Any = object()
"""Default of ``KubeObject(wave=...)``: the wave of the object's kind (``wave_of``)."""


class KubeObject(cdk8s.ApiObject):
    """A Kubernetes object built from plain data; see the module docstring.

    Example::

        KubeObject(scope, "Service", api_version="v1", kind="Service", name="hub",
                   labels={"app": "hub"}, body={"spec": {"ports": [{"port": 8081}]}})

    Args:
        scope: The construct it belongs to.
        id: Its construct id (part of its generated name when ``name`` is not given).
        api_version: ``apiVersion``, e.g. ``"apps/v1"``.
        kind: ``kind``, e.g. ``"Deployment"``.
        name: ``metadata.name``. Default: a name cdk8s generates from the construct path.
        namespace: ``metadata.namespace``. Default: the chart's namespace.
        cluster_scoped: True for cluster-scoped kinds (Namespace, ...): no namespace.
            Default: False.
        labels: ``metadata.labels``; the chart's labels are added underneath.
        annotations: ``metadata.annotations``; the sync wave is added, and for a
            Namespace or PersistentVolumeClaim the sync options ``Delete=false`` and
            ``Prune=false``.
        finalizers: ``metadata.finalizers``. Default: none.
        body: The rest of the manifest (``spec``, ``data``, ``rules``, ...), or a function
            returning it, called at synth. Default: nothing.
        wave: The ArgoCD sync wave. Default: the wave of the kind
            (``jupyter_constructs.core.sync_waves.wave_of``); ``None``: no wave.
    """

    metadata = _NodeMetadata()
    name = _Name()

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        api_version: str,
        kind: str,
        name: str | None = None,
        namespace: str | None = None,
        cluster_scoped: bool = False,
        labels: Mapping[str, str] | None = None,
        annotations: Mapping[str, str] | None = None,
        finalizers: list[str] | None = None,
        body: Body | None = None,
        wave: SyncWave | int | None = WAVE_OF_KIND,
    ) -> None:
        where = PathOf(scope, id)
        _check_type(where, api_version, kind)
        if name is not None:
            rule = _NAME_RULES.get(kind, DNS_SUBDOMAIN_RULE)
            check(where, f"{kind} name", name, rule, fix="choose a lowercase name like 'hub'")
        if namespace is not None:
            check_dns_label(where, "namespace", namespace)
        check_labels(where, "labels", labels or {})
        check_annotations(where, "annotations", annotations or {})
        for index, finalizer in enumerate(finalizers or []):
            # ValidateFinalizerName: a qualified name.
            check(
                where,
                f"finalizers[{index}]",
                finalizer,
                LABEL_KEY_RULE,
                fix="e.g. 'example.com/cleanup'",
            )
        if wave is not WAVE_OF_KIND and wave is not None:
            check_int(where, "wave", wave, fix="pass a SyncWave member or an int")
        # What cdk8s.ApiObject.__init__ does, without its run-time type checks of the
        # arguments (typeguard; they cost more than the rest of building the object):
        # the types are checked statically, and the values are plain data.
        metadata = {k: v for k, v in (("name", name), ("namespace", namespace)) if v is not None}
        jsii.create(
            cdk8s.ApiObject,
            self,
            [scope, id, {"apiVersion": api_version, "kind": kind, "metadata": metadata}],
        )
        adopt(self, scope, id)
        self._chart = chart_of(scope)
        self._api_version = api_version
        self._kind = kind
        self._name: str | None = name
        self._namespace = namespace
        self._cluster_scoped = cluster_scoped
        self._labels: dict[str, str] = dict(labels or {})
        self._annotations: dict[str, str] = dict(annotations or {})
        self._finalizers = list(finalizers or [])
        if wave is WAVE_OF_KIND:
            wave = wave_of(api_version, kind)
        self._annotations.update(
            wave_annotations(wave, self._annotations.get(SYNC_OPTIONS_ANNOTATION, ""))
        )
        self._annotations.update(
            protection_annotations(kind, self._annotations.get(SYNC_OPTIONS_ANNOTATION, ""))
        )
        self._body = body
        self._patches: list[cdk8s.JsonPatch] = []
        self._node_metadata = False

    # -- facts readable without asking cdk8s ----------------------------------------------

    @property
    def object_kind(self) -> str:
        """``kind``, read in Python (``kind`` itself asks cdk8s)."""
        return self._kind

    @property
    def object_api_version(self) -> str:
        """``apiVersion``, read in Python."""
        return self._api_version

    def annotation(self, key: str) -> str | None:
        """The value of annotation ``key`` set through this object, or ``None``."""
        return self._annotations.get(key)

    # -- changes ------------------------------------------------------------------------

    def add_label(self, key: str, value: str) -> None:
        """Set label ``key`` (replacing a value given before).

        Raises:
            ConfigurationError: ``key`` is not a label key or ``value`` not a label value.
        """
        check_labels(self, "label", {key: value})
        self._labels[key] = value

    def add_annotation(self, key: str, value: str) -> None:
        """Set annotation ``key`` (replacing a value given before).

        Raises:
            ConfigurationError: ``key`` is not an annotation key or ``value`` not a string.
        """
        check_annotations(self, "annotation", {**self._annotations, key: value})
        self._annotations[key] = value

    def add_json_patch(self, *ops: cdk8s.JsonPatch) -> None:
        """Apply RFC 6902 JSON patches to the rendered manifest, after everything else.

        Args:
            *ops: Patches built with ``cdk8s.JsonPatch`` (``add``, ``replace``, ``remove``,
                ...). Numbers and quantities are kept as given.
        """
        self._patches.extend(ops)

    # -- rendering ----------------------------------------------------------------------

    def body(self) -> dict[str, Any]:
        """Everything after ``metadata``, as plain data (late bodies are rendered now)."""
        body = self._body() if callable(self._body) else self._body
        return dict(body or {})

    def to_json(self) -> Any:
        """The manifest, as cdk8s would write it (see the module docstring)."""
        facts = _facts(self._chart)
        labels = {**facts.labels, **self._labels}
        annotations = dict(self._annotations)
        metadata: dict[str, Any] = {"name": self.name}
        if self._node_metadata:
            node = dict(super().to_json()["metadata"])
            node_labels = node.pop("labels", {})
            labels.update(
                (k, v) for k, v in node_labels.items() if facts.labels.get(k, v + "?") != v
            )
            annotations.update(node.pop("annotations", {}))
            metadata.update(node)
        elif not self._cluster_scoped:
            metadata["namespace"] = self._namespace or facts.namespace
        if self._cluster_scoped:
            metadata.pop("namespace", None)
        metadata["labels"] = labels or None
        metadata["annotations"] = annotations or None
        if self._finalizers:
            metadata["finalizers"] = [*self._finalizers, *metadata.get("finalizers", [])]
        manifest: dict[str, Any] = {
            "apiVersion": self._api_version,
            "kind": self._kind,
            "metadata": sort_keys(metadata),
        }
        manifest.update(sort_keys(self.body()))
        if self._patches:
            patched = cdk8s.JsonPatch.apply(manifest, *self._patches)
            head = ("apiVersion", "kind", "metadata")
            manifest = {k: patched[k] for k in head if k in patched}
            manifest.update((k, v) for k, v in patched.items() if k not in head)
        return manifest

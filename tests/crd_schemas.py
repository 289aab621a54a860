"""Validate custom resources against the openAPIV3Schema of their CRD (from shared/crds).

The CRD files are not copied into the repository; CI has a copy of shared/ beside it,
and ``JC_CRDS_DIR`` points elsewhere. Unknown fields are forbidden, as the API server
would silently prune them. Tests skip with a clear reason when the folder is missing.

``oldest=True`` uses ``JC_CRDS_DIR/oldest/``: the oldest release of each operator we
support (prometheus-operator v0.71, External Secrets v0.16); a kind without an oldest
file there is checked against the newest only (``has_oldest``).
"""

from __future__ import annotations

import copy
import functools
import os
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
CRDS_DIR = Path(os.environ.get("JC_CRDS_DIR", REPO_ROOT.parent / "shared" / "crds"))
# (apiVersion, kind) -> CRD file
CRD_FILES = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"): "monitoring.coreos.com_servicemonitors.yaml",
    ("monitoring.coreos.com/v1", "PodMonitor"): "monitoring.coreos.com_podmonitors.yaml",
    ("monitoring.coreos.com/v1", "PrometheusRule"): "monitoring.coreos.com_prometheusrules.yaml",
    ("argoproj.io/v1alpha1", "Application"): "argoproj.io_applications.yaml",
    ("argoproj.io/v1alpha1", "AppProject"): "argoproj.io_appprojects.yaml",
    ("external-secrets.io/v1", "ExternalSecret"): "external-secrets.io_externalsecrets.yaml",
    ("velero.io/v1", "Schedule"): "velero.io_schedules.yaml",
    ("cilium.io/v2", "CiliumNetworkPolicy"): "cilium.io_ciliumnetworkpolicies.yaml",
    ("gateway.networking.k8s.io/v1", "HTTPRoute"): "gateway.networking.k8s.io_httproutes.yaml",
}
OLDEST_DIR = CRDS_DIR / "oldest"


def _forbid_unknown(node: Any, *, constraint_only: bool = False) -> None:
    if isinstance(node, dict):
        if (
            "properties" in node
            and "additionalProperties" not in node
            and not node.get("x-kubernetes-preserve-unknown-fields")
            and not constraint_only
        ):
            node["additionalProperties"] = False
        for key, child in node.items():
            # Branches of oneOf/anyOf in a structural schema only say which fields are
            # required (CiliumNetworkPolicy: endpointSelector or nodeSelector): the
            # object's fields are declared beside them, not in them.
            _forbid_unknown(child, constraint_only=key in ("oneOf", "anyOf", "allOf"))
    elif isinstance(node, list):
        for child in node:
            _forbid_unknown(child, constraint_only=constraint_only)


def _crd_path(api_version: str, kind: str, oldest: bool) -> Path:
    return (OLDEST_DIR if oldest else CRDS_DIR) / CRD_FILES[(api_version, kind)]


def has_oldest(api_version: str, kind: str) -> bool:
    """True when ``JC_CRDS_DIR/oldest/`` has the CRD of ``kind``."""
    return _crd_path(api_version, kind, True).is_file()


@functools.cache
def _raw_schema(api_version: str, kind: str, oldest: bool = False) -> dict[str, Any]:
    path = _crd_path(api_version, kind, oldest)
    if not path.is_file():
        pytest.skip(f"{path.name} not found in {path.parent}: set JC_CRDS_DIR to the CRD folder")
    crd = yaml.safe_load(path.read_text(encoding="utf-8"))
    version_name = api_version.rsplit("/", 1)[1]
    (version,) = [v for v in crd["spec"]["versions"] if v["name"] == version_name]
    schema: dict[str, Any] = version["schema"]["openAPIV3Schema"]
    return schema


@functools.cache
def _schema(api_version: str, kind: str, oldest: bool = False) -> dict[str, Any]:
    schema = copy.deepcopy(_raw_schema(api_version, kind, oldest))
    schema["properties"]["metadata"] = {"type": "object"}  # checked by the API server
    _forbid_unknown(schema)
    return schema


def crd_schema(api_version: str, kind: str, *, oldest: bool = False) -> dict[str, Any]:
    """The strict schema of ``kind`` (a copy the caller may change)."""
    return copy.deepcopy(_schema(api_version, kind, oldest))


def validate_custom_resource(obj: dict[str, Any], *, oldest: bool = False) -> None:
    """Raise ``jsonschema.ValidationError`` if ``obj`` does not match its CRD.

    Not ``jsonschema.validate``: that checks the schema first, and the CRDs use Go regex
    syntax (``^(?i)...``) that Python's ``re`` rejects, in fields we do not set.

    Args:
        obj: The custom resource.
        oldest: Use the oldest supported CRD (``JC_CRDS_DIR/oldest/``) instead of the
            newest.
    """
    jsonschema.Draft7Validator(_schema(obj["apiVersion"], obj["kind"], oldest)).validate(obj)


def defaults_in_atomic_lists(
    api_version: str, kind: str, *, oldest: bool = False
) -> list[tuple[tuple[str, ...], Any]]:
    """``(path, default)`` of every field the CRD defaults inside an atomic list.

    A path is a tuple of property names, with ``"[]"`` for the items of a list. A list
    is atomic unless it says ``x-kubernetes-list-type: map`` or ``set`` (Kubernetes'
    default for CRDs). Server-side apply replaces an atomic list whole, so a default the
    API server wrote into its items is missing from what the manifest would give: ArgoCD
    reports the object OutOfSync forever unless the manifest sets the field itself.
    """
    found: list[tuple[tuple[str, ...], Any]] = []

    def walk(node: Any, path: tuple[str, ...], in_atomic: bool) -> None:
        if not isinstance(node, dict):
            return
        if in_atomic and "default" in node:
            found.append((path, node["default"]))
        for name, child in (node.get("properties") or {}).items():
            walk(child, (*path, name), in_atomic)
        if "items" in node:
            atomic = node.get("x-kubernetes-list-type", "atomic") == "atomic"
            walk(node["items"], (*path, "[]"), in_atomic or atomic)

    walk(_raw_schema(api_version, kind, oldest), (), False)
    return found


def missing_defaults(obj: dict[str, Any], *, oldest: bool = False) -> list[str]:
    """Fields of ``obj`` its CRD defaults inside an atomic list that ``obj`` leaves out
    (or sets to another value is fine: only absence makes the live object differ)."""
    problems = []
    for path, default in defaults_in_atomic_lists(obj["apiVersion"], obj["kind"], oldest=oldest):
        parents: list[tuple[str, Any]] = [("", obj)]
        for step in path[:-1]:
            following: list[tuple[str, Any]] = []
            for where, node in parents:
                if step == "[]" and isinstance(node, list):
                    following += [(f"{where}[{i}]", item) for i, item in enumerate(node)]
                elif isinstance(node, dict) and step in node:
                    following.append((f"{where}.{step}", node[step]))
            parents = following
        for where, node in parents:
            if isinstance(node, dict) and path[-1] not in node:
                problems.append(f"{where}.{path[-1]} (default {default!r})")
    return problems


def is_custom_resource(obj: dict[str, Any]) -> bool:
    return (obj["apiVersion"], obj["kind"]) in CRD_FILES

"""Validate custom resources against the openAPIV3Schema of their CRD (from shared/crds).

The CRD files are not copied into the repository; CI has a copy of shared/ beside it,
and ``JC_CRDS_DIR`` points elsewhere. Unknown fields are forbidden, as the API server
would silently prune them. Tests skip with a clear reason when the folder is missing.
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
    ("cilium.io/v2", "CiliumNetworkPolicy"): "cilium.io_ciliumnetworkpolicies.yaml",
    ("gateway.networking.k8s.io/v1", "HTTPRoute"): "gateway.networking.k8s.io_httproutes.yaml",
}


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


@functools.cache
def _schema(api_version: str, kind: str) -> dict[str, Any]:
    path = CRDS_DIR / CRD_FILES[(api_version, kind)]
    if not path.is_file():
        pytest.skip(f"{path.name} not found in {CRDS_DIR}: set JC_CRDS_DIR to the CRD folder")
    crd = yaml.safe_load(path.read_text(encoding="utf-8"))
    version_name = api_version.rsplit("/", 1)[1]
    (version,) = [v for v in crd["spec"]["versions"] if v["name"] == version_name]
    schema: dict[str, Any] = version["schema"]["openAPIV3Schema"]
    schema["properties"]["metadata"] = {"type": "object"}  # checked by the API server
    _forbid_unknown(schema)
    return schema


def crd_schema(api_version: str, kind: str) -> dict[str, Any]:
    """The strict schema of ``kind`` (a copy the caller may change)."""
    return copy.deepcopy(_schema(api_version, kind))


def validate_custom_resource(obj: dict[str, Any]) -> None:
    """Raise ``jsonschema.ValidationError`` if ``obj`` does not match its CRD.

    Not ``jsonschema.validate``: that checks the schema first, and the CRDs use Go regex
    syntax (``^(?i)...``) that Python's ``re`` rejects, in fields we do not set.
    """
    jsonschema.Draft7Validator(_schema(obj["apiVersion"], obj["kind"])).validate(obj)


def is_custom_resource(obj: dict[str, Any]) -> bool:
    return (obj["apiVersion"], obj["kind"]) in CRD_FILES

"""Every object we synthesize validates strictly against the Kubernetes schemas."""

from __future__ import annotations

from pathlib import Path

import kubernetes_validate
import pytest

from jupyter_constructs import HubDatabase, SecretRef
from tests.helpers import load_manifests, make_hub, synth

ROOT = Path(__file__).resolve().parents[2]


def _newest_kubernetes() -> str:
    schema_dir = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
    versions = [p.name.split("-")[0].lstrip("v") for p in schema_dir.glob("v*-local-strict")]
    newest = max(versions, key=lambda v: tuple(int(x) for x in v.split(".")))
    return ".".join(newest.split(".")[:2])


NEWEST_KUBERNETES = _newest_kubernetes()
VERSIONS = ["1.27", NEWEST_KUBERNETES]
# Custom resources are validated against their CRD schemas elsewhere.
CORE_GROUPS = (
    "v1",
    "apps/v1",
    "batch/v1",
    "rbac.authorization.k8s.io/v1",
    "networking.k8s.io/v1",
    "policy/v1",
    "scheduling.k8s.io/v1",
)


def _core(objects):
    return [o for o in objects if o["apiVersion"] in CORE_GROUPS]


def _validate(objects, version):
    errors = []
    for obj in _core(objects):
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as err:
            errors.append(f"{obj['kind']}/{obj['metadata']['name']}: {err.message}")
    return errors


@pytest.mark.parametrize("version", VERSIONS)
def test_committed_dist_is_valid(version):
    objects = load_manifests(ROOT / "dist")
    assert _core(objects), "dist/ has no Kubernetes objects"
    assert _validate(objects, version) == []


@pytest.mark.parametrize("version", VERSIONS)
def test_postgres_variant_is_valid(version):
    chart, _ = make_hub(
        database=HubDatabase.postgres(
            host="pg", database="hub", user="hub", password=SecretRef("hub-db", "password")
        )
    )
    assert _validate(synth(chart), version) == []


def test_strict_validation_catches_an_unknown_field():
    chart, _ = make_hub()
    objects = synth(chart)
    deployment = next(o for o in objects if o["kind"] == "Deployment")
    deployment["spec"]["replica"] = 1
    assert _validate([deployment], "1.27") != []


def test_every_custom_resource_in_dist_matches_its_crd():
    from tests.crd_schemas import is_custom_resource, validate_custom_resource

    custom = [o for o in load_manifests(ROOT / "dist") if is_custom_resource(o)]
    assert {o["kind"] for o in custom} >= {"Application", "ServiceMonitor", "PrometheusRule"}
    for obj in custom:
        validate_custom_resource(obj)
    unknown = [
        o["kind"]
        for o in load_manifests(ROOT / "dist")
        if o["apiVersion"] not in CORE_GROUPS and not is_custom_resource(o)
    ]
    assert unknown == [], "objects of kinds no schema checks"

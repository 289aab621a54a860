"""Every custom resource we render works on the newest and the oldest supported operator.

For ``dist/`` and every example (issue 17):

- each custom resource validates strictly against its newest CRD (``JC_CRDS_DIR``) and,
  when ``JC_CRDS_DIR/oldest/`` has one, the oldest supported CRD (prometheus-operator
  v0.71, External Secrets v0.16): a field only newer CRDs know is refused by the
  clusters that still run the older operator (kube-prometheus-stack never upgrades
  CRDs). ``tests/k8s/test_oldest_crds.py`` applies the same objects to a real API server
  with those CRDs installed;
- each field that either CRD defaults inside an atomic list is set explicitly: the API
  server writes the default into the live object, server-side apply replaces the list
  whole, and ArgoCD shows the object OutOfSync forever (External Secrets 0.16-2.8 default
  three fields inside ``spec.data``).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from jupyter_constructs import ExternalSecretSource
from tests.crd_schemas import (
    has_oldest,
    is_custom_resource,
    missing_defaults,
    validate_custom_resource,
)
from tests.helpers import EXAMPLES, ROOT, load_manifests, new_chart, run_example, synth


def _outputs() -> list[Any]:
    return [pytest.param(None, id="dist")] + [
        pytest.param(example, id=f"example-{example.stem}") for example in EXAMPLES
    ]


@pytest.fixture(params=_outputs())
def custom_resources(request: pytest.FixtureRequest, tmp_path: Path) -> list[dict[str, Any]]:
    example = request.param
    root = ROOT / "dist" if example is None else run_example(example, tmp_path / example.stem)
    return [o for o in load_manifests(root) if is_custom_resource(o)]


@pytest.mark.parametrize("oldest", [False, True], ids=["newest", "oldest"])
def test_custom_resources_match_their_crds(
    custom_resources: list[dict[str, Any]], oldest: bool
) -> None:
    errors = []
    for obj in custom_resources:
        if oldest and not has_oldest(obj["apiVersion"], obj["kind"]):
            continue
        name = f"{obj['kind']}/{obj['metadata']['name']}"
        try:
            validate_custom_resource(obj, oldest=oldest)
        except jsonschema.ValidationError as error:
            errors.append(f"{name}: {error.message} at {list(error.absolute_path)}")
        errors += [f"{name}: missing {m}" for m in missing_defaults(obj, oldest=oldest)]
    assert not errors, "\n".join(errors)


def _dist(kind: str) -> dict[str, Any]:
    (obj,) = [o for o in load_manifests(ROOT / "dist") if o["kind"] == kind]
    return copy.deepcopy(obj)


def test_the_oldest_pod_monitor_crd_refuses_port_number() -> None:
    """The report: ``portNumber`` (prometheus-operator v0.79+) on a v0.71 CRD."""
    monitor = _dist("PodMonitor")
    (endpoint,) = monitor["spec"]["podMetricsEndpoints"]
    endpoint["portNumber"] = 8002
    del endpoint["port"]
    validate_custom_resource(monitor)
    with pytest.raises(jsonschema.ValidationError, match="'portNumber' was unexpected"):
        validate_custom_resource(monitor, oldest=True)


def test_an_external_secret_without_the_defaults_is_caught() -> None:
    """The report: External Secrets 0.16-2.8 default fields inside ``spec.data``."""
    chart = new_chart()
    ExternalSecretSource(chart, "s", secret_name="s", store="vault", keys={"k": "p#k"})
    (secret,) = synth(chart)
    assert missing_defaults(secret, oldest=True) == []
    for entry in secret["spec"]["data"]:
        for field in ("conversionStrategy", "decodingStrategy", "metadataPolicy"):
            del entry["remoteRef"][field]
    assert missing_defaults(secret) == []  # the newest CRD no longer defaults them
    assert missing_defaults(secret, oldest=True) == [
        ".spec.data[0].remoteRef.conversionStrategy (default 'Default')",
        ".spec.data[0].remoteRef.decodingStrategy (default 'None')",
        ".spec.data[0].remoteRef.metadataPolicy (default 'None')",
    ]

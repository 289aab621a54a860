"""The secret-bootstrap script as its ServiceAccount against the API server (issue 19, test 4).

The script is the copy rendered into the product's ConfigMap (what the Job mounts), its
settings are the Job's own env, its token a TokenRequest token of the Job's
ServiceAccount: only the transport is local (the API server's loopback URL and CA,
through the script's documented ``KUBERNETES_*`` overrides for running outside a pod).

The assertions are properties, not the script's current steps: after a run the Secret
has every key with a usable value; a second run changes nothing; values that exist are
never replaced; a missing key is added back; and what the Role does not grant (another
Secret, another namespace) fails the run and changes nothing.
"""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support.kube.client import KubeClient
from tests.support.kube.fixtures import DIST
from tests.support.kube.product import (
    bootstrap_keys,
    bootstrap_secret_name,
    run_secret_bootstrap,
)
from tests.support.kube.sync import load_manifests

pytestmark = pytest.mark.k8s

OBJECTS = load_manifests(DIST / "prod")
KEYS = bootstrap_keys(OBJECTS)
SECRET_NAME = bootstrap_secret_name(OBJECTS)


def run_bootstrap(
    admin: KubeClient, namespace: str, tmp: Path, **overrides: Any
) -> subprocess.CompletedProcess[str]:
    return run_secret_bootstrap(admin, OBJECTS, namespace, tmp, **overrides)


def _data(admin: KubeClient, namespace: str, name: str = SECRET_NAME) -> dict[str, str]:
    secret = admin.get(f"/api/v1/namespaces/{namespace}/secrets/{name}")
    return {k: base64.b64decode(v).decode() for k, v in (secret.get("data") or {}).items()}


def _assert_ran(run: subprocess.CompletedProcess[str]) -> None:
    assert run.returncode == 0, f"exit {run.returncode}\n{run.stdout}\n{run.stderr}"


def _secret(namespace: str, data: dict[str, str], name: str = SECRET_NAME) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace},
        "type": "Opaque",
        "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()},
    }


def test_a_first_run_gives_the_secret_every_key(
    admin: KubeClient, product: Any, tmp_path: Path
) -> None:
    namespace = product()
    _assert_ran(run_bootstrap(admin, namespace, tmp_path))
    data = _data(admin, namespace)
    assert sorted(data) == sorted(KEYS)
    assert all(len(v) >= 32 for v in data.values()), "values too short to be secrets"
    assert len(set(data.values())) == len(KEYS), "keys share a value"


def test_a_second_run_changes_nothing(admin: KubeClient, product: Any, tmp_path: Path) -> None:
    namespace = product()
    _assert_ran(run_bootstrap(admin, namespace, tmp_path))
    path = f"/api/v1/namespaces/{namespace}/secrets/{SECRET_NAME}"
    before = admin.get(path)
    _assert_ran(run_bootstrap(admin, namespace, tmp_path))
    after = admin.get(path)
    assert after["data"] == before["data"]
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"], (
        "an idempotent run must not write"
    )


def test_existing_values_are_kept_and_missing_keys_added(
    admin: KubeClient, product: Any, tmp_path: Path
) -> None:
    """An upgrade that needs a new key, or a Secret an operator created by hand."""
    namespace = product()
    kept = {KEYS[0]: "value-set-by-the-operator-0123456789abcdef"}
    admin.apply(_secret(namespace, kept), field_manager="operator")
    _assert_ran(run_bootstrap(admin, namespace, tmp_path))
    data = _data(admin, namespace)
    assert data[KEYS[0]] == kept[KEYS[0]]
    assert sorted(data) == sorted(KEYS)


def test_a_deleted_key_is_repaired_and_the_others_kept(
    admin: KubeClient, product: Any, tmp_path: Path
) -> None:
    namespace = product()
    _assert_ran(run_bootstrap(admin, namespace, tmp_path))
    original = _data(admin, namespace)
    admin.patch(
        f"/api/v1/namespaces/{namespace}/secrets/{SECRET_NAME}",
        [{"op": "remove", "path": f"/data/{KEYS[-1]}"}],
        patch_type="json",
    )
    _assert_ran(run_bootstrap(admin, namespace, tmp_path))
    repaired = _data(admin, namespace)
    assert sorted(repaired) == sorted(KEYS)
    assert {k: repaired[k] for k in KEYS[:-1]} == {k: original[k] for k in KEYS[:-1]}


def test_another_secret_is_out_of_reach(admin: KubeClient, product: Any, tmp_path: Path) -> None:
    namespace = product()
    other = {"password": "database-password-not-for-the-bootstrap"}
    admin.apply(_secret(namespace, other, name="postgres-jupyter"), field_manager="operator")
    run = run_bootstrap(admin, namespace, tmp_path, secret_name="postgres-jupyter")
    assert run.returncode != 0, run.stdout
    assert "403" in run.stderr + run.stdout
    assert _data(admin, namespace, "postgres-jupyter") == other


def test_another_namespace_is_out_of_reach(
    admin: KubeClient, product: Any, namespace: str, tmp_path: Path
) -> None:
    product_ns = product()
    run = run_bootstrap(admin, product_ns, tmp_path, pod_namespace=namespace)
    assert run.returncode != 0, run.stdout
    assert "403" in run.stderr + run.stdout
    assert admin.get(f"/api/v1/namespaces/{namespace}/secrets")["items"] == []

"""The secret-bootstrap script as its ServiceAccount against the API server (issue 19, test 4).

The script is the copy rendered into the product's ConfigMap (what the Job mounts), its
settings are the Job's own env, its token a TokenRequest token of the Job's
ServiceAccount: only the transport is local (the API server's loopback URL and CA,
through the script's documented ``KUBERNETES_*`` overrides for running outside a pod).

The assertions are properties, not the script's current steps: after a run the Secret
has every key with a usable value; a second run changes nothing; values that exist are
never replaced; a missing key is added back; and what the Role does not grant (another
Secret, another namespace) fails the run and changes nothing.

Issue 16, judged by the real API server: the Secrets are rendered (empty) and the Job's
Role cannot create one, so a deleted Secret stays deleted and the run says why;
concurrent runs agree on one value (the API server turns the patch's resourceVersion into
a precondition); a value too short to be a secret is repaired; the metrics token has a
Secret of its own; and re-applying the rendered (empty) Secret, as ArgoCD does on every
sync, keeps what the Job wrote.
"""

from __future__ import annotations

import base64
import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.kube import binaries
from tests.support.kube.client import ApiError, KubeClient
from tests.support.kube.fixtures import DIST
from tests.support.kube.product import (
    bootstrap_keys,
    bootstrap_secret_name,
    bootstrap_secrets,
    run_secret_bootstrap,
    secret_bootstrap_command,
)
from tests.support.kube.sync import load_manifests, retarget

pytestmark = pytest.mark.k8s

OBJECTS = load_manifests(DIST / "prod")
KEYS = bootstrap_keys(OBJECTS)
SECRET_NAME = bootstrap_secret_name(OBJECTS)


SECRETS = bootstrap_secrets(OBJECTS)


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
    # Long enough for any key (the cookie secret needs 64 characters; shorter is repaired).
    kept = {KEYS[0]: "0123456789abcdef" * 4}
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


# ---------------------------------------------------------------------- issue 16


def test_the_secrets_are_rendered_and_the_metrics_token_is_apart(
    admin: KubeClient, product: Any, tmp_path: Path
) -> None:
    namespace = product()
    assert sorted(SECRETS) == ["hub-secrets", "prometheus-hub-token"]
    for name in SECRETS:  # applied with the product, empty
        assert _data(admin, namespace, name) == {}
    _assert_ran(run_bootstrap(admin, namespace, tmp_path))
    for name, keys in SECRETS.items():
        assert sorted(_data(admin, namespace, name)) == sorted(keys)
    assert "metrics-api-token" not in _data(admin, namespace)


def test_the_job_cannot_create_a_secret(admin: KubeClient, product: Any, tmp_path: Path) -> None:
    """The Secret is rendered, so the Role has no create: a deleted one stays deleted."""
    namespace = product()
    path = f"/api/v1/namespaces/{namespace}/secrets/{SECRET_NAME}"
    admin.delete(path)
    run = run_bootstrap(admin, namespace, tmp_path)
    assert run.returncode == 1, run.stdout
    assert "does not exist and CREATE_SECRET is false" in run.stderr
    # Even told to create it, the API server refuses: the Role cannot create Secrets.
    run = run_bootstrap(admin, namespace, tmp_path, env={"CREATE_SECRET": "true"})
    assert run.returncode == 1, run.stdout
    assert "HTTP 403" in run.stderr
    assert 'cannot create resource "secrets"' in run.stderr
    assert not admin.exists(path)


def test_a_value_too_short_to_be_a_secret_is_repaired(
    admin: KubeClient, product: Any, tmp_path: Path
) -> None:
    """Issue 16: an empty or 1-byte value was never repaired."""
    namespace = product()
    _assert_ran(run_bootstrap(admin, namespace, tmp_path))
    good = _data(admin, namespace)
    admin.apply(_secret(namespace, {KEYS[0]: "", KEYS[1]: "x"}), field_manager="operator")
    _assert_ran(run_bootstrap(admin, namespace, tmp_path))
    repaired = _data(admin, namespace)
    assert len(repaired[KEYS[0]]) >= 64 and len(repaired[KEYS[1]]) >= 44
    assert {k: repaired[k] for k in KEYS[2:]} == {k: good[k] for k in KEYS[2:]}


def test_a_stale_resource_version_is_refused_by_the_api_server(
    admin: KubeClient, product: Any
) -> None:
    """The precondition the script relies on: a merge patch carrying an old
    metadata.resourceVersion gets 409 Conflict from the real API server."""
    namespace = product()
    path = f"/api/v1/namespaces/{namespace}/secrets/{SECRET_NAME}"
    stale = admin.get(path)["metadata"]["resourceVersion"]
    admin.patch(path, {"data": {"other": base64.b64encode(b"x" * 40).decode()}})
    bootstrap = admin.as_service_account(namespace, "hub-secrets-bootstrap")
    with pytest.raises(ApiError) as refused:
        bootstrap.patch(path, {"metadata": {"resourceVersion": stale}, "data": {KEYS[0]: "eA=="}})
    assert refused.value.status == 409, refused.value
    assert "the object has been modified" in str(refused.value)
    assert KEYS[0] not in _data(admin, namespace)


def test_concurrent_runs_agree_on_one_value(
    admin: KubeClient, product: Any, tmp_path: Path
) -> None:
    """Issue 16: two runs wrote two different values for the same missing key. Eight runs
    start together on the empty rendered Secret: exactly one fills each Secret, the others
    find it filled (after a 409 when they raced), and every run succeeds."""
    namespace = product()
    go = tmp_path / "go"
    runs = []
    for i in range(8):
        folder = tmp_path / f"run{i}"
        folder.mkdir()
        (python, script), env = secret_bootstrap_command(admin, OBJECTS, namespace, folder)
        # Each process waits for the same signal, then runs the script as __main__: they
        # all read the empty Secret at about the same moment.
        start_together = (
            "import os, runpy, sys, time\n"
            f"while not os.path.exists({str(go)!r}): time.sleep(0.005)\n"
            f"sys.argv = [{script!r}]\n"
            f"runpy.run_path({script!r}, run_name='__main__')\n"
        )
        runs.append(
            subprocess.Popen(
                [python, "-c", start_together],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    time.sleep(1.0)  # every interpreter started and waiting
    go.touch()
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0] * 8, outputs
    for name in SECRETS:
        # One run may fill one Secret and find the other filled: count lines, not runs.
        fills = [
            line
            for out, _ in outputs
            for line in out.splitlines()
            if "added missing keys" in line and f"/{name} " in line
        ]
        assert len(fills) == 1, (name, outputs)
    conflicts = sum(err.count("HTTP 409") for _, err in outputs)
    print(f"\n8 concurrent runs: {conflicts} conflict(s) answered 409 and retried")
    data = _data(admin, namespace)
    assert sorted(data) == sorted(KEYS)


@pytest.mark.parametrize("how", ["server-side apply", "kubectl apply"])
def test_re_applying_the_rendered_secret_keeps_what_the_job_wrote(
    admin: KubeClient, product: Any, tmp_path: Path, how: str
) -> None:
    """ArgoCD applies the rendered (empty) Secret on every sync, by server-side apply or by
    kubectl's client-side apply (its default): neither removes the values the Job wrote.
    ArgoCD itself is not run here."""
    namespace = product()
    _assert_ran(run_bootstrap(admin, namespace, tmp_path))
    before = _data(admin, namespace)
    (rendered,) = [
        o
        for o in retarget(OBJECTS, namespace)
        if o["kind"] == "Secret" and o["metadata"]["name"] == SECRET_NAME
    ]
    assert "data" not in rendered
    if how == "server-side apply":
        admin.apply(rendered)
    else:
        kubectl = binaries.require("kubectl")["kubectl"]
        manifest = tmp_path / "secret.json"
        manifest.write_text(json.dumps(rendered))
        kubeconfig = admin.kubeconfig(tmp_path / "kubeconfig", namespace)
        for _ in range(2):  # the first apply records last-applied, the second diffs with it
            run = subprocess.run(
                [str(kubectl), "--kubeconfig", str(kubeconfig), "apply", "-f", str(manifest)],
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert run.returncode == 0, run.stderr
    assert _data(admin, namespace) == before

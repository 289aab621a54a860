"""The runbook's secret rotation, run with the real kubectl on the real API server (issue 21).

``dist/prod`` is applied into a namespace of its own, its secret bootstrap run as its Job
runs it; then the commands of docs/runbook.md ("Rotating the hub's secrets") are read
from the page and run (all but the wait for the rollout, which needs running pods). The
key must change, the others stay, and both hub and proxy must be restarted together: a
hub and a proxy started with different proxy tokens cannot talk.
"""

from __future__ import annotations

import base64
import os
import subprocess
from pathlib import Path

import pytest

from tests.k8s.conftest import DIST
from tests.support.kube import binaries
from tests.support.kube.client import KubeClient
from tests.support.kube.product import run_secret_bootstrap
from tests.support.kube.sync import load_manifests

pytestmark = pytest.mark.k8s

RUNBOOK = Path(__file__).parents[2] / "docs" / "runbook.md"
RELOAD = "secret.reloader.stakater.com/reload"


def rotation_commands() -> list[str]:
    """The commands of the runbook's rotation block, one per command."""
    text = RUNBOOK.read_text()
    section = text[text.index("## Rotating the hub's secrets") :]
    block = section[
        section.index("```bash\n") + 8 : section.index("```\n", section.index("```bash"))
    ]
    return block.replace("\\\n", "").splitlines()


def test_the_runbook_rotates_one_key_and_restarts_hub_and_proxy(
    admin: KubeClient, product: object, tmp_path: Path
) -> None:
    namespace = product()  # type: ignore[operator]
    objects = load_manifests(DIST / "prod")
    assert run_secret_bootstrap(admin, objects, namespace, tmp_path).returncode == 0

    def secret() -> dict[str, str]:
        data = admin.get(f"/api/v1/namespaces/{namespace}/secrets/hub-secrets")["data"]
        return {k: base64.b64decode(v).decode() for k, v in data.items()}

    before = secret()
    commands = [c for c in rotation_commands() if "rollout status" not in c]
    script = "set -euo pipefail\n" + "\n".join(commands).replace("N=jupyter", f"N={namespace}")
    kubectl = binaries.require("kubectl")["kubectl"]
    result = subprocess.run(
        ["bash", "-c", script],
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "PATH": f"{kubectl.parent}{os.pathsep}{os.environ['PATH']}",
            "KUBECONFIG": str(admin.kubeconfig(tmp_path / "admin.kubeconfig")),
        },
        check=False,
    )
    assert result.returncode == 0, result.stderr
    after = secret()
    assert after["proxy-token"] != before["proxy-token"]
    assert len(after["proxy-token"]) == 64
    assert {k: v for k, v in after.items() if k != "proxy-token"} == {
        k: v for k, v in before.items() if k != "proxy-token"
    }
    restarted = {}
    for name in ("hub", "proxy"):
        deployment = admin.get(f"/apis/apps/v1/namespaces/{namespace}/deployments/{name}")
        annotations = deployment["spec"]["template"]["metadata"].get("annotations") or {}
        restarted[name] = annotations.get("kubectl.kubernetes.io/restartedAt")
        assert "hub-secrets" in deployment["metadata"]["annotations"][RELOAD].split(",")
    assert all(restarted.values()), restarted

"""The z2jh migration guide's commands, run on a real API server (docs/migrating-from-z2jh.md).

A namespace holds what a z2jh release leaves: its Secret ``hub`` with z2jh's key names.
The guide's "Sign-ins" commands are read from the page and run with the real kubectl;
then the converted app is applied into that namespace the way ArgoCD would and its
secret bootstrap is run as its Job runs it: the copied values must be the ones the hub
reads, and the bootstrap must keep them (issue 17, "a naive switch signs everyone out").
"""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from jupyter_constructs.delivery.z2jh import convert
from tests.support.kube import binaries
from tests.support.kube.client import KubeClient
from tests.support.kube.fixtures import apply_product
from tests.support.kube.product import bootstrap_secret_name, run_secret_bootstrap

pytestmark = pytest.mark.k8s

ROOT = Path(__file__).parents[2]
GUIDE = ROOT / "docs" / "migrating-from-z2jh.md"
VALUES = ROOT / "tests" / "delivery" / "z2jh_values" / "oauth-ingress.yaml"


def guide_commands(marker: str) -> str:
    """The shell lines of the guide from the comment ``marker`` to the next blank line."""
    lines = GUIDE.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"# {marker}"))
    block = []
    for line in lines[start:]:
        if not line.strip():
            break
        block.append(line)
    return "\n".join(block)


def _z2jh_secret() -> dict[str, str]:
    return {
        "hub.config.JupyterHub.cookie_secret": secrets.token_hex(32),
        "hub.config.CryptKeeper.keys": f"{secrets.token_hex(32)};{secrets.token_hex(32)}",
        "hub.config.ConfigurableHTTPProxy.auth_token": secrets.token_hex(32),
        "values.yaml": "hub: {}\n",
    }


def test_the_guide_copies_z2jh_sign_in_secrets_and_the_app_keeps_them(
    admin: KubeClient, namespace: str, crds: list[str], tmp_path: Path
) -> None:
    kubectl = binaries.require("kubectl")["kubectl"]
    z2jh = _z2jh_secret()
    admin.post(
        f"/api/v1/namespaces/{namespace}/secrets",
        {
            "metadata": {"name": "hub"},
            "data": {k: base64.b64encode(v.encode()).decode() for k, v in z2jh.items()},
        },
    )
    script = f"set -euo pipefail\nN={namespace}\n{guide_commands('Sign-ins')}\n"
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

    def hub_secrets() -> dict[str, str]:
        data = admin.get(f"/api/v1/namespaces/{namespace}/secrets/hub-secrets")["data"]
        return {k: base64.b64decode(v).decode() for k, v in data.items()}

    copied = hub_secrets()
    assert copied == {
        "cookie-secret": z2jh["hub.config.JupyterHub.cookie_secret"],
        "crypt-key": z2jh["hub.config.CryptKeeper.keys"],
        "proxy-token": z2jh["hub.config.ConfigurableHTTPProxy.auth_token"],
    }

    # The converted app, applied into the release's namespace, then its bootstrap Job.
    source = convert(yaml.safe_load(VALUES.read_text()), namespace="jupyter").source
    app_file = tmp_path / "app.py"
    app_file.write_text(source)
    out = tmp_path / "out"
    run = subprocess.run(
        [sys.executable, str(app_file)],
        capture_output=True,
        text=True,
        env={**os.environ, "CDK8S_OUTDIR": str(out)},
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    objects = [
        doc
        for path in sorted((out / "jupyterhub").glob("*.yaml"))
        for doc in yaml.safe_load_all(path.read_text())
        if doc
    ]
    assert bootstrap_secret_name(objects) == "hub-secrets"
    apply_product(admin, namespace, objects)
    bootstrap = run_secret_bootstrap(admin, objects, namespace, tmp_path)
    assert bootstrap.returncode == 0, bootstrap.stderr
    after = hub_secrets()
    # z2jh had every key hub-secrets holds (service tokens, like the metrics token, live
    # in Secrets of their own), so the bootstrap keeps all of them and adds none.
    assert after == copied, "the bootstrap replaced or added a value in hub-secrets"

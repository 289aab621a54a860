"""The idle culler from our config, run by a real hub, stops a real idle server."""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from jupyter_constructs import IdleCuller
from tests.helpers import make_hub, synth, write_config_dir
from tests.processes import hub_with_proxy
from tests.real_hub import FAKE_SECRET_ENV

pytestmark = pytest.mark.integration

ADMIN_TOKEN = "test-admin-token-0123456789abcdef"
# Test-only overrides on top of the generated config (which keeps the culler service and
# its scoped role exactly as synthesized):
EXTRA = f'''
# KubeSpawner needs a cluster: run user servers as local processes instead.
c.JupyterHub.spawner_class = "simple"
c.Spawner.args = ["--ServerApp.allow_root=True"] if {os.geteuid() == 0} else []
c.Spawner.start_timeout = 60
# alice is created through the API and never signs in, so she has no tokens to re-check:
# the product's OidcAuth refuses to start her server (refresh_pre_spawn, 403), as it
# should for a real user (tests/test_oidc_keycloak.py). Not what this test is about.
c.GenericOAuthenticator.refresh_pre_spawn = False
# An admin token for the test to create a user and start its server.
c.JupyterHub.services.append({{"name": "test-admin", "api_token": "{ADMIN_TOKEN}"}})
c.JupyterHub.load_roles.append(
    {{"name": "test-admin", "scopes": ["admin:users", "admin:servers"], "services": ["test-admin"]}}
)
'''


def _api(hub, method: str, path: str) -> dict | None:
    request = urllib.request.Request(
        f"{hub.hub_url}/hub/api{path}",
        method=method,
        headers={"Authorization": f"token {ADMIN_TOKEN}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        body = response.read()
        return json.loads(body) if body else None


def _wait(predicate, timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}\n{log.read_text()[-4000:]}")


def test_real_culler_stops_an_idle_server(tmp_path):
    chart, _ = make_hub(idle_culler=IdleCuller(timeout=4, interval=2))
    objects = synth(chart)
    write_config_dir(objects, tmp_path)
    settings = json.loads((tmp_path / "hub_config.json").read_text())
    culler = next(
        s for s in settings["traits"]["JupyterHub"]["services"] if s["name"] == "idle-culler"
    )
    assert "--timeout=4" in culler["command"] and "--cull-every=2" in culler["command"]
    # The hub runs `python3 -m jupyterhub_idle_culler` and `jupyterhub-singleuser`: put
    # this environment's interpreter and scripts first on PATH, as the hub image does.
    bin_dir = str(Path(sys.executable).parent)
    env = {**FAKE_SECRET_ENV, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    db_url = f"sqlite:///{tmp_path / 'jupyterhub.sqlite'}"
    with hub_with_proxy(tmp_path, db_url=db_url, env=env, extra_overrides=EXTRA) as hub:
        _api(hub, "POST", "/users/alice")
        _api(hub, "POST", "/users/alice/server")
        _wait(
            lambda: (
                (_api(hub, "GET", "/users/alice") or {}).get("servers", {}).get("", {}).get("ready")
            ),
            60,
            "alice's server to start",
            hub.log,
        )
        _wait(
            lambda: not (_api(hub, "GET", "/users/alice") or {}).get("servers"),
            60,
            "the culler to stop alice's idle server",
            hub.log,
        )
        log = hub.log.read_text()
    assert "Culling server" in log or "idle-culler" in log
    assert "alice" in log

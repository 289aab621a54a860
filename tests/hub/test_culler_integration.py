"""The idle culler from our config, run by a real hub, stops a real idle server."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from jupyter_constructs import IdleCuller
from tests.helpers import make_hub, synth, write_config_dir
from tests.support.hub import Hub, hub_process
from tests.support.singleuser import local_spawner_env, local_spawner_settings

pytestmark = pytest.mark.integration


def _user(hub: Hub, name: str) -> dict[str, Any]:
    response = hub.api("GET", f"/users/{name}")
    response.raise_for_status()
    return response.json()  # type: ignore[no-any-return]


def _wait(predicate: Callable[[], Any], timeout: float, what: str, hub: Hub) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}\n{hub.log_tail(80)}")


def test_real_culler_stops_an_idle_server(tmp_path):
    chart, _ = make_hub(idle_culler=IdleCuller(timeout=4, interval=2))
    objects = synth(chart)
    write_config_dir(objects, tmp_path)
    settings = json.loads((tmp_path / "hub_config.json").read_text())
    culler = next(
        s for s in settings["traits"]["JupyterHub"]["services"] if s["name"] == "idle-culler"
    )
    assert "--timeout=4" in culler["command"] and "--cull-every=2" in culler["command"]
    # The generated config keeps the culler service and its scoped role exactly as
    # synthesized; the test adds local user servers and an admin token of its own.
    # alice is created through the API and never signs in, so she has no tokens to re-check:
    # the product's OidcAuth refuses to start her server (refresh_pre_spawn, 403), as it
    # should for a real user (tests/addons/test_oidc_keycloak.py). Not what this test is about.
    no_pre_spawn_check = "\nc.GenericOAuthenticator.refresh_pre_spawn = False\n"
    with hub_process(
        tmp_path,
        settings=local_spawner_settings() + no_pre_spawn_check,
        env=local_spawner_env(),
        admin_scopes=["admin:users", "admin:servers"],
    ) as hub:
        hub.api("POST", "/users/alice").raise_for_status()
        hub.api("POST", "/users/alice/server").raise_for_status()
        _wait(
            lambda: _user(hub, "alice").get("servers", {}).get("", {}).get("ready"),
            60,
            "alice's server to start",
            hub,
        )
        _wait(
            lambda: not _user(hub, "alice").get("servers"),
            60,
            "the culler to stop alice's idle server",
            hub,
        )
        log = hub.log_path.read_text()
    assert "Culling server" in log or "idle-culler" in log
    assert "alice" in log

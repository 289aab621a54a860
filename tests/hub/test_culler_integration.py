"""The idle culler from our config, run by a real hub, stops a real idle server.

It runs as the hub pod runs it: the hub listens on port 8081 (``hub_bind_url``), the
culler is started by the hub with the rendered command and reaches the hub at the URL
that command names, ``--url=http://localhost:8081/hub/api`` (the pod's own loopback).
The test does not point the hub's ``hub_connect_url`` at loopback: it keeps the
rendered ``http://hub:8081`` (the Service, hairpin traffic that default-deny
NetworkPolicies drop on iptables CNIs), which does not even resolve here, so a culler
that used it could not cull anything. Before issue 12 it did, and only this test's
rewrite of that URL made it pass; without ``--url`` and the service's
``JUPYTERHUB_API_URL`` this test fails. (The local user servers, standing in for user
pods, reach the hub the way user pods do, through what the Service would be.)
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

import pytest

from jupyter_constructs import IdleCuller, NamedServers
from tests.helpers import make_hub, synth, write_config_dir
from tests.support.hub import Hub, hub_process
from tests.support.process import LOOPBACK, fixed_port
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


def _resolves(host: str) -> bool:
    try:
        socket.getaddrinfo(host, None)
    except socket.gaierror:
        return False
    return True


def test_real_culler_stops_an_idle_server_over_the_pods_loopback(tmp_path):
    chart, _ = make_hub(idle_culler=IdleCuller(timeout=4, interval=2))
    objects = synth(chart)
    write_config_dir(objects, tmp_path)
    settings = json.loads((tmp_path / "hub_config.json").read_text())
    traits = settings["traits"]["JupyterHub"]
    culler = next(s for s in traits["services"] if s["name"] == "idle-culler")
    assert "--timeout=4" in culler["command"] and "--cull-every=2" in culler["command"]
    (url,) = [a.removeprefix("--url=") for a in culler["command"] if a.startswith("--url=")]
    assert urlparse(url).hostname == "localhost"
    # The hub listens where the culler's URL says, on every interface of its pod.
    hub_port = urlparse(traits["hub_bind_url"]).port
    assert urlparse(url).port == hub_port == 8081
    # The URL everything else would use: the hub Service, unknown outside the cluster.
    service_host = urlparse(traits["hub_connect_url"]).hostname
    assert service_host == "hub" and not _resolves(service_host)
    # The generated config keeps the culler service, its scoped role and the hub's
    # connect URL exactly as synthesized; the test adds local user servers and an admin
    # token of its own, and binds the hub to loopback port 8081 (the pod's port).
    with (
        fixed_port(hub_port) as port,
        hub_process(
            tmp_path,
            # User servers are other pods, which reach the hub through its Service (allowed
            # by the policies): here, the hub's loopback address. Only they get it: the
            # culler is started with the command and environment rendered for it.
            # alice is created through the API and never signs in, so she has no tokens to
            # re-check: the product's OidcAuth refuses to start her server
            # (refresh_pre_spawn, 403), as it should for a real user
            # (tests/addons/test_oidc_keycloak.py). Not what this test is about.
            settings=local_spawner_settings()
            + f'c.Spawner.hub_connect_url = "http://{LOOPBACK}:{port}"\n'
            + "c.GenericOAuthenticator.refresh_pre_spawn = False\n",
            env=local_spawner_env(),
            admin_scopes=["admin:users", "admin:servers"],
            hub_port=port,
            keep_connect_url=True,
        ) as hub,
    ):
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
    # The culler stopped it: its request reached the hub's API as the idle-culler service.
    assert "Private Hub API connect url http://hub:8081/hub/" in log
    assert "DELETE /hub/api/users/alice/server (idle-culler@" in log


@pytest.mark.parametrize("remove", [True, False])
def test_real_culler_removes_idle_named_servers_only_when_told(tmp_path, remove):
    """``IdleCuller(remove_named_servers=True)``: an idle named server is deleted, not only
    stopped, so it no longer counts against ``NamedServers(limit_per_user=...)``."""
    chart, _ = make_hub(
        idle_culler=IdleCuller(timeout=4, interval=2, remove_named_servers=remove),
        named_servers=NamedServers(limit_per_user=2),
    )
    write_config_dir(synth(chart), tmp_path)
    settings = json.loads((tmp_path / "hub_config.json").read_text())
    hub_port = urlparse(settings["traits"]["JupyterHub"]["hub_bind_url"]).port
    with (
        fixed_port(hub_port) as port,
        hub_process(
            tmp_path,
            # alice never signs in (no tokens to re-check): see the test above.
            settings=local_spawner_settings()
            + f'c.Spawner.hub_connect_url = "http://{LOOPBACK}:{port}"\n'
            + "c.GenericOAuthenticator.refresh_pre_spawn = False\n",
            env=local_spawner_env(),
            admin_scopes=["admin:users", "admin:servers"],
            hub_port=port,
            keep_connect_url=True,
        ) as hub,
    ):
        hub.api("POST", "/users/alice").raise_for_status()
        hub.api("POST", "/users/alice/servers/work").raise_for_status()

        def servers() -> dict[str, Any]:
            response = hub.api("GET", "/users/alice", params={"include_stopped_servers": "1"})
            response.raise_for_status()
            return response.json().get("servers", {})  # type: ignore[no-any-return]

        _wait(lambda: servers().get("work", {}).get("ready"), 60, "alice's 'work' server", hub)
        if remove:
            _wait(lambda: "work" not in servers(), 60, "the culler to remove 'work'", hub)
        else:
            _wait(
                lambda: servers().get("work", {}).get("stopped"),
                60,
                "the culler to stop 'work'",
                hub,
            )
            # Stopped, and still there a while later: stopping is all the culler does.
            time.sleep(5)
        remaining = servers()
        log = hub.log_path.read_text()
    if remove:
        assert "work" not in remaining, remaining
        assert "DELETE /hub/api/users/alice/servers/work (idle-culler@" in log
    else:
        assert remaining["work"]["stopped"] is True, remaining

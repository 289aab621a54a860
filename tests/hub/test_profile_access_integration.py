"""Profiles restricted to a group, enforced by a real hub behind the real proxy.

The hub runs the generated config (KubeSpawner, the rendered ``profile_list`` and the
``ProfileFilter`` hook) with users and groups created through its REST API. A user outside
the group does not see the profile on the spawn page, and starting it through the REST API
(what a script or a crafted form would do) fails before anything reaches Kubernetes, with
KubeSpawner's "No such profile". A member sees it. Upstream: asked for since 2020
(jupyterhub/zero-to-jupyterhub-k8s#1734, jupyterhub/kubespawner#589 and #889, "restrict
visibility and access ... even if requested via API"); the usual answer is hand-written
``extraConfig``.

Test-only: the sign-in is JupyterHub's dummy authenticator (the OIDC provider is not what is
under test), and the kubeconfig names an API server on a closed loopback port (KubeSpawner
loads one when a spawner is created; nothing here may reach a cluster).
"""

from __future__ import annotations

import re
import time

import pytest
import requests

from tests.helpers import make_hub, synth, write_config_dir
from tests.support.hub import Hub, hub_process
from tests.support.process import LOOPBACK, free_port

pytestmark = pytest.mark.integration

PASSWORD = "test-password-1"
KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters: [{{name: none, cluster: {{server: "https://{ip}:{port}"}}}}]
users: [{{name: none, user: {{token: unused}}}}]
contexts: [{{name: none, context: {{cluster: none, user: none}}}}]
current-context: none
"""
SETTINGS = f"""
# Test-only sign-in: the dummy authenticator with a shared password.
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = {PASSWORD!r}
c.Authenticator.allow_all = True
"""


def _login(hub: Hub, user: str) -> requests.Session:
    session = requests.Session()
    session.get(f"{hub.public_url}/hub/login", timeout=10).raise_for_status()
    response = session.post(
        f"{hub.public_url}/hub/login",
        data={"username": user, "password": PASSWORD, "_xsrf": session.cookies.get("_xsrf")},
        timeout=10,
    )
    response.raise_for_status()
    return session


def _spawn_page(hub: Hub, user: str) -> str:
    response = _login(hub, user).get(f"{hub.public_url}/hub/spawn", timeout=30)
    response.raise_for_status()
    return response.text


def _profiles_shown(page: str) -> set[str]:
    return set(re.findall(r'name="profile"[^>]*value="([a-z0-9-]+)"', page)) | set(
        re.findall(r'value="([a-z0-9-]+)"[^>]*name="profile"', page)
    )


def test_user_outside_the_group_neither_sees_nor_starts_the_profile(tmp_path):
    chart, hub_construct = make_hub(with_profile=False)
    hub_construct.add_profile("small", display_name="Small", default=True)
    hub_construct.add_profile("gpu", display_name="GPU servers", allowed_groups=["gpu-users"])
    write_config_dir(synth(chart), tmp_path)
    assert (tmp_path / "profile_access.py").exists()
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(KUBECONFIG.format(ip=LOOPBACK, port=free_port()))
    with hub_process(
        tmp_path,
        settings=SETTINGS,
        env={"KUBECONFIG": str(kubeconfig)},
        admin_scopes=["admin:users", "admin:servers", "admin:groups"],
    ) as hub:
        for user in ("alice", "bob"):
            hub.api("POST", f"/users/{user}").raise_for_status()
        hub.api("POST", "/groups/gpu-users").raise_for_status()
        hub.api("POST", "/groups/gpu-users/users", json={"users": ["alice"]}).raise_for_status()

        # What each user sees on the spawn page.
        assert _profiles_shown(_spawn_page(hub, "alice")) == {"small", "gpu"}
        bob_page = _spawn_page(hub, "bob")
        assert _profiles_shown(bob_page) == {"small"}
        assert "GPU servers" not in bob_page

        # Bob asks for it anyway, through the REST API.
        response = hub.api("POST", "/users/bob/server", json={"profile": "gpu"})
        assert response.status_code in (202, 400, 500), response.text
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if "No such profile: gpu" in hub.log_path.read_text():
                break
            time.sleep(0.3)
        log = hub.log_path.read_text()
        assert "No such profile: gpu. Options include: small" in log, hub.log_tail(60)
        time.sleep(1)
        bob = hub.api("GET", "/users/bob").json()
        assert not bob["servers"], bob
        # Nothing was asked of Kubernetes for bob: the refusal came before any API call.
        assert "jupyter-bob" not in log

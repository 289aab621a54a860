"""OidcAuth's session settings (issue 16), rendered and loaded into the real classes.

What they do against a real provider is in tests/addons/test_oidc_keycloak.py.
"""

from __future__ import annotations

import ast
import asyncio
import hashlib
import importlib
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from types import SimpleNamespace
from typing import Any

import pytest
from jupyterhub.app import JupyterHub as JupyterHubApp
from jupyterhub.utils import subdomain_hook_idna
from oauthenticator.generic import GenericOAuthenticator

from jupyter_constructs import ConfigurationError
from tests.helpers import find, make_hub, oidc_auth, pod_spec, synth, write_config_dir
from tests.real_hub import load_config, unknown_traits


def _config(tmp_path, hub_options=None, **auth_options):
    chart, _ = make_hub(auth=oidc_auth(**auth_options), **(hub_options or {}))
    objects = synth(chart)
    return objects, load_config(write_config_dir(objects, tmp_path))


def _authenticator(tmp_path, config):
    sys.path.insert(0, str(tmp_path))
    try:
        module = importlib.import_module("oidc_authenticator")
        return module.OidcAuthenticator(config=config)
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("oidc_authenticator", None)


def test_defaults_recheck_users_every_5_minutes_and_end_cookies_after_a_day(tmp_path):
    _, config = _config(tmp_path)
    assert unknown_traits(config) == []
    assert config.JupyterHub.authenticator_class == "oidc_authenticator.OidcAuthenticator"
    authenticator = _authenticator(tmp_path, config)
    assert isinstance(authenticator, GenericOAuthenticator)
    assert authenticator.enable_auth_state is True
    assert authenticator.auth_refresh_age == 300
    assert authenticator.refresh_pre_spawn is True
    assert JupyterHubApp(config=config).cookie_max_age_days == 1.0


def test_session_settings_are_settable(tmp_path):
    # The cookie lifetime is the hub's, for every sign-in option (JupyterHub(...)).
    _, config = _config(tmp_path, {"cookie_max_age_days": 0.5}, auth_refresh_age=60)
    authenticator = _authenticator(tmp_path, config)
    assert authenticator.auth_refresh_age == 60
    assert JupyterHubApp(config=config).cookie_max_age_days == 0.5


def test_auth_state_is_encrypted_with_the_crypt_key_from_the_hub_secret(tmp_path):
    """JupyterHub encrypts auth state with JUPYTERHUB_CRYPT_KEY (read from the environment
    by its CryptKeeper); the hub container gets it from the bootstrap Secret."""
    objects, _ = _config(tmp_path)
    env = {
        e["name"]: e for e in pod_spec(find(objects, "Deployment", "hub"))["containers"][0]["env"]
    }
    assert env["JUPYTERHUB_CRYPT_KEY"]["valueFrom"]["secretKeyRef"]["key"] == "crypt-key"


def test_hub_module_is_shipped_verbatim_and_imports_only_the_hub_image(tmp_path):
    objects, _ = _config(tmp_path)
    source = (
        resources.files("jupyter_constructs.hub.files")
        .joinpath("oidc_authenticator.py")
        .read_text("utf-8")
    )
    assert find(objects, "ConfigMap", "hub-config")["data"]["oidc_authenticator.py"] == source
    tree = ast.parse(source)
    imported = {
        (node.module if isinstance(node, ast.ImportFrom) else alias.name).split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert imported <= {"__future__", "inspect", "typing", "oauthenticator", "tornado"}


@pytest.mark.parametrize("value", [0, -5, 3601, 1.5, True, "300"])
def test_auth_refresh_age_out_of_bounds_is_refused(value):
    chart_error = _error(auth_refresh_age=value)
    assert chart_error.startswith(f"test/hub: invalid OidcAuth.auth_refresh_age {value!r}.")
    assert "Allowed: whole seconds from 1 to 3600." in chart_error


@pytest.mark.parametrize("value", [0, -1, 14.5, False, "1"])
def test_cookie_max_age_days_out_of_bounds_is_refused(value):
    with pytest.raises(ConfigurationError) as err:
        make_hub(cookie_max_age_days=value)
    chart_error = str(err.value)
    assert chart_error.startswith(f"test/hub: invalid cookie_max_age_days {value!r}.")
    assert "Allowed: days, more than 0 and at most 14." in chart_error


def _error(**auth_options) -> str:
    with pytest.raises(ConfigurationError) as err:
        make_hub(auth=oidc_auth(**auth_options))
    return str(err.value)


def test_user_servers_on_hosts_of_their_own(tmp_path):
    """``user_server_domain``: the real JupyterHub gets ``public_url`` and ``subdomain_host``
    and names Alice's host under that domain; the proxy routes by host and the Ingress
    (with its certificate) carries the wildcard host. Same origin as the hub is what
    JupyterHub's web-security page warns about for users who do not trust each other."""
    objects, config = _config(tmp_path, user_server_domain="jupyter-users.example.com")
    app = JupyterHubApp(config=config)
    assert app.public_url == "https://jupyter.example.com/"
    assert app.subdomain_host == "https://jupyter-users.example.com"
    assert app.subdomain_hook("alice", app.domain, "user") == "alice.jupyter-users.example.com"
    # services too, with JupyterHub's own suffix (so no user can take a service's host)
    assert app.subdomain_hook("grafana", app.domain, "service") == (
        "grafana--service.jupyter-users.example.com"
    )
    # Names that are not DNS labels: JupyterHub's own fallback keeps 7 hex digits of
    # SHA-256, and these two addresses (found among 2**14 or so) share one host with it,
    # one origin; the rendered hook keeps 128 bits.
    pair = ("aliceexa14297@example.org", "aliceexa24815@example.org")
    upstream = {subdomain_hook_idna(n, "jupyter-users.example.com", "user") for n in pair}
    assert upstream == {"u-aliceexa--9368c2e.jupyter-users.example.com"}
    hosts = [app.subdomain_hook(n, app.domain, "user") for n in pair]
    assert hosts[0] != hosts[1]
    for name, host in zip(pair, hosts, strict=True):
        digest = hashlib.sha256(name.encode()).hexdigest()[:32]
        assert host == f"u-aliceexa--{digest}.jupyter-users.example.com"
        assert app.subdomain_hook(name, app.domain, "service") == (
            f"u-aliceexa--{digest}--service.jupyter-users.example.com"
        )
    authenticator = _authenticator(tmp_path, config)
    assert authenticator.oauth_callback_url == "https://jupyter.example.com/hub/oauth_callback"
    proxy = pod_spec(find(objects, "Deployment", "proxy"))["containers"][0]
    assert "--host-routing" in proxy["command"]
    ingress = find(objects, "Ingress", "jupyterhub")
    hosts = [rule["host"] for rule in ingress["spec"]["rules"]]
    assert hosts == ["jupyter.example.com", "*.jupyter-users.example.com"]
    assert ingress["spec"]["tls"][0]["hosts"] == hosts


def test_without_user_server_domain_user_servers_stay_under_the_hub(tmp_path):
    objects, config = _config(tmp_path)
    app = JupyterHubApp(config=config)
    assert app.subdomain_host == ""
    proxy = pod_spec(find(objects, "Deployment", "proxy"))["containers"][0]
    assert "--host-routing" not in proxy["command"]


@pytest.mark.parametrize(
    "users", ["jupyter.example.com", "u.jupyter.example.com", "example.com", "Bad_Domain"]
)
def test_a_user_server_domain_not_beside_the_hubs_is_refused(users):
    with pytest.raises(ConfigurationError, match="user_server_domain") as error:
        make_hub(auth=oidc_auth(user_server_domain=users))
    assert "jupyter.example.com" in str(error.value) or "Bad_Domain" in str(error.value)


def test_a_session_ends_when_the_provider_stops_vouching_for_the_address(tmp_path):
    """The re-check path of the unverified-address rule (the sign-in path is tested against
    Keycloak): the real ``OidcAuthenticator`` asks a loopback userinfo endpoint; the same
    user, still in the allowed group, keeps the session while ``email_verified`` is true and
    must sign in again once the provider answers false (``"false"`` as some providers send)."""
    answer: dict[str, Any] = {"email": "ada@example.com", "groups": ["data-science"]}

    class Userinfo(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            body = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Userinfo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        _, config = _config(tmp_path)
        config.GenericOAuthenticator.userdata_url = f"http://127.0.0.1:{server.server_address[1]}/"
        authenticator = _authenticator(tmp_path, config)
        auth_state = {"token_response": {"access_token": "at", "token_type": "Bearer"}}

        async def get_auth_state() -> dict[str, Any]:
            return auth_state

        user = SimpleNamespace(name="ada@example.com", get_auth_state=get_auth_state)
        for verified, keeps in ((True, True), (None, True), (False, False), ("false", False)):
            answer.pop("email_verified", None)
            if verified is not None:
                answer["email_verified"] = verified
            refreshed = asyncio.run(authenticator.refresh_user(user))
            assert isinstance(refreshed, dict) is keeps, (verified, refreshed)
    finally:
        server.shutdown()
        server.server_close()

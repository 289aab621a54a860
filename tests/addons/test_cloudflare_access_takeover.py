"""Issue 16, high: one user's server replays a visitor's Access token to sign in as them.

Cloudflare adds the visitor's Access token (the ``Cf-Access-Jwt-Assertion`` header and the
``CF_Authorization`` cookie) to every request it forwards, so when a victim's browser loads
anything under another user's server (an image in a shared notebook, a link), that server
receives the victim's token. The adversarial review replayed it to ``/hub/login`` and was
signed in as the victim (an admin), and the hub session outlived the token.

End to end with the real JupyterHub 5.5, the real configurable-http-proxy beside it and
the library's authenticator: Alice's server is a process the hub spawns, which records what
the proxy forwards to it (what any user can run in their own server). The test plays
Cloudflare: each request it sends to the proxy carries the header and cookie Cloudflare
would add for the Access application that covers the request's host.

- Shared layout (what is rendered before issue 16: one Access application, user servers
  under the hub's host): the victim's token reaches Alice's server and signs in at the hub.
  That is the hole, reproduced as the control of this harness; what the hub can bound is
  the session, which now ends with the token.
- Separate layout (what the construct renders after issue 16: user servers on their own
  hosts, ``JupyterHub.subdomain_host``, behind a second Access application with its own AUD
  tag, ``user_server_audience``): the token Alice's server sees is refused by the hub,
  through the proxy and directly, and the replay is logged.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse

import pytest
import requests
import yaml

from jupyter_constructs import (
    CloudflareAccessAuth,
    CloudflareTunnel,
    ConfigurationWarning,
    IngressOptions,
    SecretRef,
)
from tests.helpers import find, make_hub, proxy_options, synth, write_config_dir
from tests.support.cloudflare import AUD, COOKIE, HEADER, TEAM, SigningKey, claims_for
from tests.support.http import wait_for
from tests.support.hub import Hub, start_hub
from tests.support.jwks import Jwks
from tests.support.process import ServiceError
from tests.support.proxy import start_proxy
from tests.support.singleuser import local_spawner_env, local_spawner_settings

pytestmark = pytest.mark.integration

USERS_AUD = "5eba7e0ff1ce" * 5 + "beef"  # the user-server Access application's AUD tag
HUB_HOST = "jupyter.example.test"
USERS_HOST = "jupyter-users.example.test"
ALICE = "alice@example.org"
VICTIM = "boss@example.org"  # an admin

# What a user's server can run: an HTTP server that records every request it receives.
RECORDING_SERVER = """\
import json, os, signal, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

url = urlparse(os.environ["JUPYTERHUB_SERVICE_URL"])
record = os.path.join(os.environ["RECORD_DIR"], os.environ["JUPYTERHUB_USER"] + ".jsonl")
with open(os.path.join(os.environ["RECORD_DIR"], "pids"), "a") as f:
    f.write(f"{os.getpid()}\\n")


class Recorder(BaseHTTPRequestHandler):
    def do_GET(self):
        with open(record, "a") as f:
            f.write(json.dumps({"path": self.path, "headers": self.headers.items()}) + "\\n")
        body = b"ok"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
ThreadingHTTPServer((url.hostname, url.port), Recorder).serve_forever()
"""


@dataclass
class Deployment:
    """A hub rendered in one layout (its ConfigMap files written, started by ``start``), and
    how the test reaches it."""

    workdir: Path
    key: SigningKey
    record_dir: Path
    separate: bool
    objects: list[dict[str, Any]]
    settings: str
    hub: Hub | None = None

    def start(self, *, timeout: float = 120.0) -> Deployment:
        write_config_dir(self.objects, self.workdir)
        self.hub = start_hub(
            self.workdir,
            settings=self.settings,
            env=local_spawner_env(),
            admin_scopes=["admin:users", "read:users", "admin:servers"],
            timeout=timeout,
            **proxy_options(self.objects),
        )
        return self

    def stop(self) -> None:
        if self.hub is not None:
            self.hub.stop()
        self.stop_servers()

    @property
    def running(self) -> Hub:
        assert self.hub is not None, "start() first"
        return self.hub

    @property
    def hub_host(self) -> str:
        return HUB_HOST

    def audience_for(self, host: str) -> str:
        """The AUD tag of the Access application Cloudflare applies to ``host``."""
        if self.separate and host.split(":")[0].endswith("." + USERS_HOST):
            return USERS_AUD
        return AUD

    def browser(self, email: str, host: str, path: str, *, ttl: int = 600) -> requests.Response:
        """A signed-in browser's request to ``host``, as Cloudflare forwards it to the proxy."""
        now = int(time.time())
        token = self.key.sign(claims_for(email, aud=[self.audience_for(host)], exp=now + ttl))
        return requests.get(
            f"{self.running.public_url}{path}",
            headers={"Host": host, HEADER: token, "Cookie": f"{COOKIE}={token}"},
            allow_redirects=False,
            timeout=15,
        )

    def recorded(self, user: str) -> list[dict[str, Any]]:
        path = self.record_dir / f"{user}.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines()]

    def start_server(self, user: str) -> str:
        """Start ``user``'s server through the hub API; return its public URL."""
        hub = self.running
        name = quote(user, safe="@")
        response = hub.api("POST", f"/users/{name}/server")
        assert response.status_code in (201, 202), response.text

        def ready() -> bool:
            server = hub.api("GET", f"/users/{name}").json()["servers"].get("", {})
            return bool(server.get("ready"))

        wait_for(f"{user}'s server", ready, timeout=60)
        return str(hub.api("GET", f"/users/{name}").json()["servers"][""]["url"])

    def stop_servers(self) -> None:
        pids = self.record_dir / "pids"
        for line in pids.read_text().split() if pids.exists() else []:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(line), signal.SIGTERM)


def captured_tokens(request: dict[str, Any]) -> list[str]:
    """The Access tokens in one recorded request: the header, and the cookie's value."""
    tokens = []
    for name, value in request["headers"]:
        if name.lower() == HEADER.lower():
            tokens.append(value)
        if name.lower() == "cookie":
            for part in value.split(";"):
                key, _, cookie = part.strip().partition("=")
                if key == COOKIE:
                    tokens.append(cookie)
    return tokens


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return SigningKey(f"kid-{uuid.uuid4().hex[:8]}")


@pytest.fixture(scope="module")
def jwks(key: SigningKey) -> Iterator[Jwks]:
    server = Jwks().start()
    server.set_keys([key.jwk()])
    yield server
    server.stop()


def render(jwks: Jwks, *, separate: bool, **auth: Any) -> list[dict[str, Any]]:
    """The product's manifests for a hub behind Cloudflare Access and a Cloudflare Tunnel,
    in the separate layout (what CloudflareAccessAuth requires) or the shared one (its loud
    opt-out)."""
    layout: dict[str, Any] = (
        {"user_server_domain": USERS_HOST, "user_server_audience": USERS_AUD}
        if separate
        else {"user_servers_on_hub_host": True}
    )
    options = {
        "team_domain": TEAM,
        "audience": AUD,
        "allowed_email_domains": ["example.org"],
        "admin_users": [VICTIM],
        "jwks_url": jwks.url,
        **layout,
        **auth,
    }
    with warnings.catch_warnings():
        # The shared layout's opt-out warns at every synth (tested in test_cloudflare.py).
        warnings.simplefilter("ignore", ConfigurationWarning)
        chart, hub = make_hub(
            domain=HUB_HOST,
            auth=CloudflareAccessAuth(**options),
            ingress=IngressOptions(enabled=False),
        )
        CloudflareTunnel(chart, "tunnel", hub=hub, tunnel_token=SecretRef("cloudflared", "token"))
        return synth(chart)


def _deploy(workdir: Path, jwks: Jwks, key: SigningKey, *, separate: bool) -> Deployment:
    record_dir = workdir / "recorded"
    record_dir.mkdir(parents=True)
    script = workdir / "recording_server.py"
    script.write_text(RECORDING_SERVER)
    # Test-only settings after the rendered config: user servers are local processes
    # recording what reaches them, and Access tokens may expire within seconds.
    home = str(workdir / "home" / "{username}")
    settings = (
        local_spawner_settings()
        + "c.CloudflareAccessAuthenticator.leeway = 1.0\n"
        + f"c.Spawner.cmd = [{sys.executable!r}, {str(script)!r}]\n"
        + f"c.Spawner.environment = {{'RECORD_DIR': {str(record_dir)!r}}}\n"
        + "c.Spawner.http_timeout = 30\n"
        + f"c.SimpleLocalProcessSpawner.home_dir_template = {home!r}\n"
    )
    return Deployment(
        workdir=workdir,
        key=key,
        record_dir=record_dir,
        separate=separate,
        objects=render(jwks, separate=separate),
        settings=settings,
    )


@pytest.fixture(scope="module")
def shared(
    tmp_path_factory: pytest.TempPathFactory, jwks: Jwks, key: SigningKey
) -> Iterator[Deployment]:
    deployment = _deploy(tmp_path_factory.mktemp("shared"), jwks, key, separate=False)
    try:
        yield deployment.start()
    finally:
        deployment.stop()


@pytest.fixture(scope="module")
def separate(
    tmp_path_factory: pytest.TempPathFactory, jwks: Jwks, key: SigningKey
) -> Iterator[Deployment]:
    deployment = _deploy(tmp_path_factory.mktemp("separate"), jwks, key, separate=True)
    try:
        yield deployment.start()
    finally:
        deployment.stop()


def test_the_rendered_separate_layout_is_what_the_hub_runs(separate: Deployment) -> None:
    """What the construct renders for the separate layout, read back from the manifests the
    hub above runs on: user hosts, the second audience, host routing, the tunnel route."""
    objects = separate.objects
    config = json.loads(find(objects, "ConfigMap", "hub-config")["data"]["hub_config.json"])
    assert config["user_server_domain"] == USERS_HOST
    assert config["traits"]["JupyterHub"]["public_url"] == f"https://{HUB_HOST}/"
    assert config["traits"]["JupyterHub"]["subdomain_host"] == f"https://{USERS_HOST}"
    authenticator = config["traits"]["CloudflareAccessAuthenticator"]
    assert authenticator["user_server_audience"] == USERS_AUD != authenticator["audience"]
    assert proxy_options(objects)["proxy_host_routing"] is True
    tunnel = next(o for o in objects if o["kind"] == "ConfigMap" and "config.yaml" in o["data"])
    rules = yaml.safe_load(tunnel["data"]["config.yaml"])["ingress"]
    assert [r.get("hostname") for r in rules] == [HUB_HOST, f"*.{USERS_HOST}", None]
    assert not [o for o in objects if o["kind"] == "Ingress"]


def _victim_visits_alices_server(d: Deployment) -> list[str]:
    """Alice signs in and starts her server; the victim loads an image from it.

    Returns the Access tokens Alice's server recorded from the victim's request.
    """
    assert d.browser(ALICE, d.hub_host, "/hub/login").status_code == 302, d.running.log_tail()
    url = urlparse(d.start_server(ALICE))
    host = url.netloc or d.hub_host
    seen = d.browser(VICTIM, host, f"{url.path}files/chart.png")
    assert seen.status_code == 200 and seen.text == "ok", (seen.status_code, d.running.log_tail())
    (request,) = [r for r in d.recorded(ALICE) if r["path"].endswith("/files/chart.png")]
    tokens = captured_tokens(request)
    assert len(tokens) == 2  # the header and the cookie both arrived
    return tokens


def _replay(d: Deployment, token: str, *, direct: bool) -> requests.Response:
    """Alice's server sends a captured token to /hub/login: via the proxy or to the hub."""
    base = d.running.hub_url if direct else d.running.public_url
    return requests.get(
        f"{base}/hub/login",
        headers={"Host": d.hub_host, HEADER: token},
        allow_redirects=False,
        timeout=15,
    )


def test_separate_layout_a_token_seen_by_a_user_server_does_not_sign_in_at_the_hub(
    separate: Deployment,
) -> None:
    d = separate
    tokens = _victim_visits_alices_server(d)
    # Alice's server is on its own host, under the user-server parent host.
    server_host = urlparse(d.running.api("GET", f"/users/{ALICE}").json()["servers"][""]["url"])
    assert server_host.hostname is not None and server_host.hostname.endswith("." + USERS_HOST)
    users_before = d.running.user_names()
    for token in tokens:
        for direct in (False, True):
            replay = _replay(d, token, direct=direct)
            assert replay.status_code == 403, (direct, replay.status_code, d.running.log_tail(10))
            assert "jupyterhub-hub-login" not in replay.cookies
    assert d.running.user_names() == users_before
    # The victim (an admin, so a hub user from the start) has never been active.
    assert d.running.api("GET", f"/users/{VICTIM}").json()["last_activity"] is None
    assert "possible replay by a user server" in d.running.log_tail(200)
    # The same victim, through the hub's own Access application, signs in as usual.
    own = d.browser(VICTIM, d.hub_host, "/hub/login")
    assert own.status_code == 302, d.running.log_tail()


def test_separate_layout_a_token_naming_both_applications_is_refused(
    separate: Deployment,
) -> None:
    now = int(time.time())
    both = separate.key.sign(claims_for(VICTIM, aud=[AUD, USERS_AUD], exp=now + 600))
    assert _replay(separate, both, direct=True).status_code == 403


def test_shared_layout_control_the_token_signs_in_and_the_session_ends_with_it(
    shared: Deployment,
) -> None:
    """Control: in the shared layout the replay works (the hole); the session is bounded.

    Before issue 16 the stolen session kept working after the token expired (the review
    listed all users as the victim afterwards); now each browser request needs a valid
    token, so the session ends when the token does.
    """
    d = shared
    assert d.browser(ALICE, d.hub_host, "/hub/login").status_code == 302
    url = urlparse(d.start_server(ALICE))
    # The victim's token expires in a few seconds (Access sessions are short in this test).
    seen = d.browser(VICTIM, d.hub_host, f"{url.path}files/chart.png", ttl=6)
    assert seen.status_code == 200, d.running.log_tail()
    (request,) = [r for r in d.recorded(ALICE) if r["path"].endswith("/files/chart.png")]
    header_token = captured_tokens(request)[0]

    replay = _replay(d, header_token, direct=True)
    assert replay.status_code == 302, d.running.log_tail()  # the hole this layout has
    stolen = {"jupyterhub-hub-login": replay.cookies["jupyterhub-hub-login"]}

    def as_victim(token: str | None) -> requests.Response:
        headers = {HEADER: token} if token else {}
        return requests.get(
            f"{d.running.hub_url}/hub/api/users",
            cookies=stolen,
            headers=headers,
            timeout=10,
        )

    assert as_victim(header_token).status_code == 200  # an admin's view, while the token lives
    time.sleep(1.1)  # past auth_refresh_age: the hub checks again
    assert as_victim(None).status_code == 403  # a browser request without a token: no session
    time.sleep(6 + 1 + 0.5)  # past the token's exp plus the leeway
    assert as_victim(header_token).status_code == 403
    assert as_victim(None).status_code == 403


def _edit_hub_config(d: Deployment, edit: Callable[[dict[str, Any]], None]) -> None:
    """Change the rendered hub_config.json, as a hand edit of the ConfigMap would."""
    config_map = find(d.objects, "ConfigMap", "hub-config")
    config = json.loads(config_map["data"]["hub_config.json"])
    edit(config)
    config_map["data"]["hub_config.json"] = json.dumps(config)


def test_a_user_server_audience_without_own_hosts_stops_the_hub(
    tmp_path: Path, jwks: Jwks, key: SigningKey
) -> None:
    """The construct cannot render this; the hub refuses it too (a hand-edited ConfigMap)."""
    d = _deploy(tmp_path, jwks, key, separate=True)

    def without_own_hosts(config: dict[str, Any]) -> None:
        del config["traits"]["JupyterHub"]["subdomain_host"]
        del config["traits"]["JupyterHub"]["public_url"]
        del config["user_server_domain"]

    _edit_hub_config(d, without_own_hosts)
    try:
        with pytest.raises(ServiceError, match="exited with code") as failure:
            d.start(timeout=30)
    finally:
        d.stop()  # in case it started after all
    assert "user_server_audience is set but JupyterHub.subdomain_host is not" in str(failure.value)


def test_the_same_audience_for_hub_and_user_servers_stops_the_hub(
    tmp_path: Path, jwks: Jwks, key: SigningKey
) -> None:
    """The construct refuses this at synth (test_cloudflare.py); the hub refuses it too."""
    d = _deploy(tmp_path, jwks, key, separate=True)

    def same_audience(config: dict[str, Any]) -> None:
        config["traits"]["CloudflareAccessAuthenticator"]["user_server_audience"] = AUD

    _edit_hub_config(d, same_audience)
    try:
        with pytest.raises(ServiceError, match="exited with code") as failure:
            d.start(timeout=30)
    finally:
        d.stop()  # in case it started after all
    assert "user_server_audience equals audience" in str(failure.value)


class Browser:
    """One person's browser behind Cloudflare: cookies kept per host, redirects followed.

    Every request carries the header and cookie Cloudflare adds for the Access application
    of its host; cookies set by a host go back to that host only (the hub's and the user
    servers' cookies are host-only; a cookie of the hub's host could not reach a sibling
    domain in any case).
    """

    def __init__(self, d: Deployment, email: str) -> None:
        self.d, self.email = d, email
        self.cookies: dict[str, dict[str, str]] = {}

    def sign_in(self) -> None:
        """``/hub/login`` on the hub's host: the hub sets its cookie and redirects."""
        response = self.get(f"http://{self.d.hub_host}/hub/login", max_redirects=0)
        assert response.status_code == 302, (response.status_code, self.d.running.log_tail())

    def get(self, url: str, *, max_redirects: int = 10) -> requests.Response:
        for _ in range(max_redirects + 1):
            parsed = urlparse(url)
            host = parsed.netloc
            now = int(time.time())
            token = self.d.key.sign(
                claims_for(self.email, aud=[self.d.audience_for(host)], exp=now + 600)
            )
            jar = {**self.cookies.get(host, {}), COOKIE: token}
            path = parsed.path + (f"?{parsed.query}" if parsed.query else "")
            response = requests.get(
                f"{self.d.running.public_url}{path}",
                headers={
                    "Host": host,
                    HEADER: token,
                    "Cookie": "; ".join(f"{k}={v}" for k, v in jar.items()),
                },
                allow_redirects=False,
                timeout=15,
            )
            for line in response.raw.headers.getlist("Set-Cookie"):
                name, _, rest = line.partition("=")
                self.cookies.setdefault(host, {})[name.strip()] = rest.split(";", 1)[0]
            if response.status_code not in (301, 302, 303, 307) or not max_redirects:
                return response
            location = response.headers["Location"]
            url = location if "://" in location else f"http://{host}{location}"
        raise AssertionError(f"more than {max_redirects} redirects, last {url}")


@pytest.fixture(scope="module")
def separate_with_real_servers(
    tmp_path_factory: pytest.TempPathFactory, jwks: Jwks, key: SigningKey
) -> Iterator[Deployment]:
    deployment = _deploy(tmp_path_factory.mktemp("real"), jwks, key, separate=True)
    # Real jupyterhub-singleuser servers (the local spawner's default command).
    deployment.settings = local_spawner_settings() + (
        f"c.SimpleLocalProcessSpawner.home_dir_template = "
        f"{str(deployment.workdir / 'home' / '{username}')!r}\n"
        "c.Spawner.http_timeout = 30\n"
    )
    try:
        yield deployment.start()
    finally:
        deployment.stop()


def test_separate_layout_users_still_reach_their_own_server(
    separate_with_real_servers: Deployment,
) -> None:
    """The layout that closes the hole keeps the normal path working: a user signs in at
    the hub's host, her real jupyterhub-singleuser server on its own host sends her through
    the hub's OAuth flow, and she gets in; another user's browser does not."""
    d = separate_with_real_servers
    carol = Browser(d, "carol@example.org")
    carol.sign_in()
    server = urlparse(d.start_server("carol@example.org"))
    assert server.hostname is not None and server.hostname.endswith("." + USERS_HOST)
    home = d.record_dir.parent / "home" / "carol@example.org"
    (home / "hello.txt").write_text("hello from carol")
    # A page of her server sends the browser through the hub's OAuth flow (to the hub's
    # host and back, with the hub's Access application on the way) and then serves it.
    page = f"http://{server.netloc}{server.path}files/hello.txt"
    served = carol.get(page)
    assert served.status_code == 200, (served.status_code, served.text[:300], d.running.log_tail())
    assert served.text == "hello from carol"
    assert any("/hub/api/oauth2/authorize" in line for line in d.running.log_tail(80).splitlines())
    # Dave, signed in too, is not let into Carol's server by the hub's OAuth.
    dave = Browser(d, "dave@example.org")
    dave.sign_in()
    denied = dave.get(page)
    assert denied.status_code == 403, (denied.status_code, denied.text[:300])


def _big_token(d: Deployment, email: str, size: int) -> str:
    """A valid Access token of about ``size`` bytes: an identity provider that sends many
    groups makes tokens this large (issue 16 saw ~10 KB)."""
    groups: list[str] = []
    token = ""
    while len(token) < size:
        groups += [f"research-project-{len(groups) + i:05d}-energy-markets" for i in range(40)]
        token = d.key.sign(claims_for(email, groups=groups))
    return token


@pytest.mark.parametrize("size", [10_240, 28_000])
def test_two_large_access_tokens_pass_the_rendered_proxy(separate: Deployment, size: int) -> None:
    """Issue 16: a ~10 KB Access token arrives twice (header and cookie), over Node's 16 KiB
    default header limit: 431 at the proxy. The rendered proxy raises the limit to 64 KiB
    (NODE_OPTIONS); a proxy without it, otherwise the same, still answers 431."""
    d = separate
    token = _big_token(d, "many-groups@example.org", size)
    headers = {"Host": d.hub_host, HEADER: token, "Cookie": f"{COOKIE}={token}"}
    assert proxy_options(d.objects)["proxy_env"]["NODE_OPTIONS"] == ("--max-http-header-size=65536")
    through_rendered = requests.get(
        f"{d.running.public_url}/hub/login", headers=headers, allow_redirects=False, timeout=15
    )
    assert through_rendered.status_code == 302, (through_rendered.status_code, len(token))
    assert "many-groups@example.org" in d.running.user_names()

    plain = start_proxy(
        d.workdir / f"plain-proxy-{size}",
        auth_token="unused-" + uuid.uuid4().hex,
        default_target=d.running.hub_url,
    )
    try:
        refused = requests.get(
            f"{plain.public_url}/hub/login", headers=headers, allow_redirects=False, timeout=15
        )
    finally:
        plain.stop()
    assert refused.status_code == 431

"""A real JupyterHub process behind a real configurable-http-proxy, on loopback.

The hub runs the configuration under test (the generated ``jupyterhub_config.py`` of a
synthesized hub ConfigMap, or any other base file) through one small override file that
replaces only what needs a cluster: addresses (pod IP, Services), the database URL and
the proxy, which runs apart from the hub as in the cluster. Each test module adds its
own settings (an authenticator, a spawner, ...) after that, in plain Python.
"""

from __future__ import annotations

import html
import re
import secrets
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from tests.support.process import LOOPBACK, Http, Service, free_port, require_distribution, start
from tests.support.proxy import Proxy, start_proxy

#: jupyterhub, as pinned in requirements-dev.txt (the version inside the hub image).
VERSION = "5.5.0"
START_TIMEOUT = 120.0
OVERRIDES_FILE = "test_overrides.py"

#: What the hub container's environment carries from Secrets.
FAKE_SECRET_ENV = {
    "JPY_COOKIE_SECRET": "ab" * 32,
    "JUPYTERHUB_CRYPT_KEY": "cd" * 32,
    "CONFIGPROXY_AUTH_TOKEN": "ef" * 32,
    "OAUTH_CLIENT_SECRET": "test-client-secret",
    "PGPASSWORD": "test-db-password",
}

_OVERRIDES = """\
# Test-only overrides: the hub's --config file. It loads the config under test first;
# each line after that replaces something that needs a Kubernetes cluster or its DNS.
c = get_config()  # noqa: F821
{load_base}
c.JupyterHub.bind_url = "http://{ip}:{public_port}"          # Service 'proxy-public'
c.JupyterHub.hub_bind_url = "http://{ip}:{hub_port}"         # the hub pod's IP
{connect_url}c.ConfigurableHTTPProxy.api_url = "http://{ip}:{api_port}"   # Service 'proxy-api'
c.ConfigurableHTTPProxy.should_start = False                 # the proxy has its own Deployment
c.JupyterHub.db_url = {db_url!r}                             # PVC path / cluster database
c.KubeSpawner.namespace = "jupyter"                          # no service account here
"""

_ADMIN = """
# A service token for the test to drive the hub's REST API.
c.JupyterHub.services.append({{"name": "test-admin", "api_token": {token!r}}})
c.JupyterHub.load_roles.append(
    {{"name": "test-admin", "scopes": {scopes!r}, "services": ["test-admin"]}}
)
"""


@dataclass
class Hub:
    """A running hub and its proxy."""

    service: Service
    proxy: Proxy
    workdir: Path
    hub_url: str
    admin_token: str | None
    #: Where ``api`` sends requests: through the proxy, or straight to the hub when the
    #: proxy cannot reach it (``start_hub(keep_connect_url=True)``).
    api_base_url: str = ""
    #: ``JupyterHub.base_url`` of the config under test.
    base_url: str = "/"

    @property
    def public_url(self) -> str:
        """The proxy's public side (what users reach)."""
        return self.proxy.public_url

    @property
    def log_path(self) -> Path:
        return self.service.log_path

    def log_tail(self, lines: int = 60) -> str:
        return self.service.log_tail(lines)

    def api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Call the hub's REST API (through the proxy) as the ``test-admin`` service."""
        assert self.admin_token is not None, "start the hub with admin_scopes=[...]"
        headers = {"Authorization": f"token {self.admin_token}"}
        base = self.api_base_url or self.public_url
        return requests.request(
            method, f"{base}{self.base_url}hub/api{path}", headers=headers, timeout=10, **kwargs
        )

    def user_names(self) -> set[str]:
        response = self.api("GET", "/users", params={"limit": 1000})
        response.raise_for_status()
        return {user["name"] for user in response.json()}

    def stop(self) -> None:
        self.service.stop()
        self.proxy.stop()


def _check_version() -> None:
    require_distribution("jupyterhub", VERSION)


def start_hub(
    workdir: Path,
    *,
    base_config: str | None = "jupyterhub_config.py",
    settings: str = "",
    env: Mapping[str, str] | None = None,
    db_url: str | None = None,
    admin_scopes: Sequence[str] = (),
    proxy_metrics: bool = False,
    proxy_host_routing: bool = False,
    proxy_env: Mapping[str, str] | None = None,
    proxy_public_port: int | None = None,
    timeout: float = START_TIMEOUT,
    hub_port: int | None = None,
    keep_connect_url: bool = False,
    base_url: str = "/",
) -> Hub:
    """Start the proxy, then the hub from ``workdir``; return once the hub answers through
    the proxy.

    Args:
        workdir: Folder with the hub's files; the hub runs there, its log and the
            proxy's log are written there.
        base_config: File in ``workdir`` loaded first (the generated config); ``None``
            to start from JupyterHub's defaults.
        settings: Python appended after the overrides (``c`` is the config).
        env: Variables for the hub on top of ``FAKE_SECRET_ENV``.
        db_url: Defaults to a sqlite file in ``workdir``.
        admin_scopes: When given, a ``test-admin`` service with these scopes, used by
            ``Hub.api``.
        proxy_metrics: Start the proxy with its metrics port.
        proxy_host_routing: Start the proxy with ``--host-routing`` (a hub with
            ``JupyterHub.subdomain_host``).
        proxy_env: More environment for the proxy (e.g. ``NODE_OPTIONS``).
        proxy_public_port: The proxy's public port, chosen by the caller (``free_port()``)
            when the hub's own settings must name it (``public_url``, ``subdomain_host``).
        timeout: Seconds the hub gets to answer through the proxy.
        hub_port: The hub's loopback port. Default: a free one. A test that runs what the
            config says about the hub pod's own loopback (``localhost:8081``) passes
            that port (held with ``process.fixed_port``).
        keep_connect_url: Keep the config's ``hub_connect_url`` (the ``hub`` Service,
            which does not resolve here) instead of pointing it at the hub: whatever
            still works then does not depend on it. The proxy's route to the hub uses
            that URL, so the readiness check and ``Hub.api`` go to the hub directly.
        base_url: The config's ``JupyterHub.base_url``: the readiness check, ``Hub.api``
            and the proxy's error target use it. Default: ``"/"``.

    Raises:
        ServiceError: the proxy or the hub did not start (their logs are quoted).
    """
    _check_version()
    hub_port = hub_port or free_port()
    hub_url = f"http://{LOOPBACK}:{hub_port}"
    env = {**FAKE_SECRET_ENV, **(env or {})}
    proxy = start_proxy(
        workdir,
        auth_token=env["CONFIGPROXY_AUTH_TOKEN"],
        default_target=hub_url,
        metrics=proxy_metrics,
        host_routing=proxy_host_routing,
        env=proxy_env,
        public_port=proxy_public_port,
        error_path=f"{base_url}hub/error",
    )
    try:
        text = _OVERRIDES.format(
            load_base=""
            if base_config is None
            else f"load_subconfig({base_config!r})  # noqa: F821",
            ip=LOOPBACK,
            public_port=proxy.public_port,
            hub_port=hub_port,
            connect_url=""
            if keep_connect_url
            else f"c.JupyterHub.hub_connect_url = \"{hub_url}\"      # Service 'hub'\n",
            api_port=proxy.api_port,
            db_url=db_url or f"sqlite:///{workdir / 'jupyterhub.sqlite'}",
        )
        admin_token = None
        if admin_scopes:
            admin_token = secrets.token_hex(32)
            text += _ADMIN.format(token=admin_token, scopes=list(admin_scopes))
        (workdir / OVERRIDES_FILE).write_text(text + settings, encoding="utf-8")
        service = start(
            f"jupyterhub {VERSION}",
            [sys.executable, "-m", "jupyterhub", "--config", workdir / OVERRIDES_FILE],
            # Through the proxy: the hub is up and has its route.
            ready=Http(
                f"{hub_url if keep_connect_url else proxy.public_url}{base_url}hub/api",
                status="^200$",
                own_port=False,
            ),
            log_path=workdir / "jupyterhub.log",
            timeout=timeout,
            env=env,
            cwd=workdir,
        )
    except BaseException:
        proxy.stop()
        raise
    return Hub(
        service,
        proxy,
        workdir,
        hub_url,
        admin_token,
        hub_url if keep_connect_url else "",
        base_url,
    )


@contextmanager
def hub_process(workdir: Path, **options: Any) -> Iterator[Hub]:
    """``start_hub`` as a context manager: hub and proxy are stopped when the block ends."""
    hub = start_hub(workdir, **options)
    try:
        yield hub
    finally:
        hub.stop()


def auth_settings_config(workdir: Path, auth: Any, extra_traits: Mapping[str, Any]) -> str:
    """Settings that configure the hub from an ``AuthSettings`` the way the generated
    config does: its files importable by name, its class and traits applied as-is."""
    files_dir = workdir / "auth"
    files_dir.mkdir(parents=True, exist_ok=True)
    for name, text in auth.files.items():
        (files_dir / name).write_text(text, encoding="utf-8")
    traits: dict[str, dict[str, Any]] = {cls: dict(v) for cls, v in auth.traits.items()}
    for cls, values in extra_traits.items():
        traits.setdefault(cls, {}).update(values)
    return (
        "\nimport sys\n"
        f"sys.path.insert(0, {str(files_dir)!r})\n"
        f"c.JupyterHub.authenticator_class = {auth.authenticator_class!r}\n"
        f"for cls, values in {traits!r}.items():\n"
        "    for name, value in values.items():\n"
        "        setattr(getattr(c, cls), name, value)\n"
    )


def hub_login(base_url: str, username: str, password: str) -> tuple[int, str]:
    """Log in through the hub's real login form (xsrf cookie + form field).

    Returns the status of the POST and its Location header; redirects are not followed,
    so no server is spawned.
    """
    session = requests.Session()
    page = session.get(f"{base_url}/hub/login", timeout=10)
    match = re.search(r'name="_xsrf"\s+value="([^"]+)"', page.text)
    if match is None:
        raise AssertionError("the hub login page has no _xsrf field")
    response = session.post(
        f"{base_url}/hub/login",
        data={"_xsrf": html.unescape(match.group(1)), "username": username, "password": password},
        allow_redirects=False,
        timeout=10,
    )
    return response.status_code, response.headers.get("Location", "")

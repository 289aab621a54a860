"""Real processes for the Cloudflare Access tests: a JWKS server and a JupyterHub.

Everything listens on loopback ports chosen at run time, every wait is bounded, and
``stop()`` ends exactly the processes started here (by their process group id).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any

import jwt
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from jupyter_constructs.auth import AuthSettings
from tests.processes import free_port

ROOT = Path(__file__).resolve().parent.parent
CHP = ROOT / "node_modules" / ".bin" / "configurable-http-proxy"

TEAM = "test-team.cloudflareaccess.com"
ISSUER = f"https://{TEAM}"
AUD = "a3c5e0d1f2b4" * 5 + "abcd"
HEADER = "Cf-Access-Jwt-Assertion"


class SigningKey:
    """An RSA key that signs Access-like tokens; ``jwk()`` is its public half for the JWKS."""

    def __init__(self, kid: str) -> None:
        self.kid = kid
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwk(self) -> dict[str, Any]:
        jwk: dict[str, Any] = json.loads(
            jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key())
        )
        jwk.update(kid=self.kid, alg="RS256", use="sig")
        return jwk

    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self.private, algorithm="RS256", headers={"kid": self.kid})


def claims_for(email: str | None, **overrides: Any) -> dict[str, Any]:
    """Claims of an Access token for ``email`` (None: no email claim), valid for 10 minutes."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "aud": [AUD],
        "iss": ISSUER,
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "sub": str(uuid.uuid4()),
        "type": "app",
        "identity_nonce": uuid.uuid4().hex,
    }
    if email is not None:
        claims["email"] = email
    claims.update(overrides)
    return claims


def wait_until(check: Callable[[], bool], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise TimeoutError(f"gave up after {timeout:.0f} s waiting for {what}")


class JwksServer:
    """Serves ``{"keys": [...]}`` at ``/cdn-cgi/access/certs`` and counts the fetches.

    ``set_answer(status, body)`` replaces that answer by any status and bytes (a broken or
    misbehaving key endpoint) until the next ``set_keys``.
    """

    def __init__(self) -> None:
        self.keys: list[dict[str, Any]] = []
        self.answer: tuple[int, bytes] | None = None
        self.fetches = 0
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path != "/cdn-cgi/access/certs":
                    self.send_error(404)
                    return
                with owner._lock:
                    owner.fetches += 1
                    status, body = owner.answer or (
                        200,
                        json.dumps({"keys": list(owner.keys)}).encode(),
                    )
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/cdn-cgi/access/certs"

    def fetch_count(self) -> int:
        with self._lock:
            return self.fetches

    def set_keys(self, keys: list[dict[str, Any]]) -> None:
        with self._lock:
            self.keys = list(keys)
            self.answer = None

    def set_answer(self, status: int, body: bytes) -> None:
        with self._lock:
            self.answer = (status, body)

    def start(self) -> JwksServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class Hub:
    """A real ``jupyterhub`` process configured from an ``AuthSettings``.

    The authenticator's ``files``, the library's ``jupyterhub_config.py`` and a
    ``hub_config.json`` (the auth traits, ``extra_traits``, and ``extra_settings`` as
    top-level keys) are written to ``<workdir>/auth``, the layout of the hub ConfigMap in
    the cluster, and loaded through that ``jupyterhub_config.py``; the
    hub starts its own configurable-http-proxy (from ``node_modules``). A service
    ``test-admin`` with ``admin:users``, ``read:users`` and ``admin:servers`` scopes holds
    ``admin_token``.
    """

    def __init__(
        self,
        workdir: Path,
        auth: AuthSettings,
        *,
        extra_traits: dict[str, dict[str, Any]] | None = None,
        extra_settings: dict[str, Any] | None = None,
    ) -> None:
        self.workdir = workdir
        self.auth = auth
        self.extra_traits = extra_traits or {}
        self.extra_settings = extra_settings or {}
        self.port = free_port()
        self.hub_port = free_port()
        self.api_port = free_port()
        self.admin_token = secrets.token_hex(32)
        self.log_path = workdir / "jupyterhub.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._log: Any = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _write_config(self) -> Path:
        # The hub ConfigMap's layout: the library's jupyterhub_config.py, hub_config.json
        # beside it (traits by class, plus top-level settings) and the authenticator files.
        files_dir = self.workdir / "auth"
        files_dir.mkdir(parents=True, exist_ok=True)
        for name, text in self.auth.files.items():
            (files_dir / name).write_text(text, encoding="utf-8")
        (files_dir / "jupyterhub_config.py").write_text(
            resources.files("jupyter_constructs.hub_files")
            .joinpath("jupyterhub_config.py")
            .read_text(encoding="utf-8"),
            encoding="utf-8",
        )
        traits: dict[str, dict[str, Any]] = {
            "JupyterHub": {"authenticator_class": self.auth.authenticator_class}
        }
        for cls, values in [*self.auth.traits.items(), *self.extra_traits.items()]:
            traits.setdefault(cls, {}).update(values)
        hub_config = {"traits": traits, **self.extra_settings}
        (files_dir / "hub_config.json").write_text(json.dumps(hub_config), encoding="utf-8")
        settings = {
            "files_dir": str(files_dir),
            "port": self.port,
            "hub_port": self.hub_port,
            "api_port": self.api_port,
            "chp": str(CHP),
            "db": str(self.workdir / "jupyterhub.sqlite"),
            "cookie_secret": str(self.workdir / "cookie_secret"),
            "admin_token": self.admin_token,
        }
        (self.workdir / "settings.json").write_text(json.dumps(settings), encoding="utf-8")
        config = self.workdir / "jupyterhub_config.py"
        config.write_text(
            """\
import json
import os

c = get_config()  # noqa: F821
s = json.load(open(os.path.join(os.path.dirname(__file__), "settings.json")))
# The product's config file, then what replaces the cluster on loopback.
load_subconfig("jupyterhub_config.py", path=s["files_dir"])  # noqa: F821
c.JupyterHub.bind_url = f"http://127.0.0.1:{s['port']}"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = s["hub_port"]
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{s['api_port']}"
c.ConfigurableHTTPProxy.command = [s["chp"]]
c.JupyterHub.db_url = "sqlite:///" + s["db"]
c.JupyterHub.cookie_secret_file = s["cookie_secret"]
c.JupyterHub.cleanup_servers = True
c.JupyterHub.services = [{"name": "test-admin", "api_token": s["admin_token"]}]
c.JupyterHub.load_roles = [
    {
        "name": "test-admin",
        "scopes": ["admin:users", "read:users", "admin:servers"],
        "services": ["test-admin"],
    }
]
""",
            encoding="utf-8",
        )
        return config

    def start(self, *, timeout: float = 60.0) -> Hub:
        if not CHP.exists():
            raise RuntimeError(f"{CHP} is missing: run `make setup` first")
        config = self._write_config()
        env = dict(os.environ)
        env["CONFIGPROXY_AUTH_TOKEN"] = secrets.token_hex(32)
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self._process = subprocess.Popen(
            [sys.executable, "-m", "jupyterhub", "-f", str(config)],
            cwd=self.workdir,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

        def ready() -> bool:
            if self._process is not None and self._process.poll() is not None:
                raise RuntimeError(f"jupyterhub exited early:\n{self.log_tail()}")
            try:
                return requests.get(f"{self.url}/hub/api", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        try:
            wait_until(ready, timeout=timeout, what="jupyterhub to answer /hub/api")
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            # SIGTERM lets the hub stop the proxy it started; the group kill after the
            # timeout catches anything left of the session started above.
            process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=15)
        if process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Call the hub REST API as the ``test-admin`` service."""
        headers = {"Authorization": f"token {self.admin_token}"}
        return requests.request(
            method, f"{self.url}/hub/api{path}", headers=headers, timeout=10, **kwargs
        )

    def user_names(self) -> set[str]:
        response = self.api("GET", "/users", params={"limit": 1000})
        response.raise_for_status()
        return {user["name"] for user in response.json()}
